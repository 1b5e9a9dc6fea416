"""Softness: training-set selection, the hyperplane model, its plain-data model files, P_R(S), and the
Kob-Andersen training protocol for independent runs.

After Cubuk et al., PRL 114, 108001 (2015) and Schoenholz et al., Nat. Phys. 12, 469 (2016):

- ``labels``: label post-processing (the largest label within a horizon; labels reduced to feature frames);
- ``training_set``: rearranging (label > ``r_cut``) and non-rearranging (label < ``nr_cut`` over a window of
  frames) samples, balanced; train / test split by *blocks of frames* or whole *runs* (never random rows:
  neighbouring frames share structure, so random rows leak);
- ``model``: standardised features, a linear classifier (logistic regression by default, linear SVM as an option)
  with its regularisation chosen by cross-validation grouped by frame blocks; softness S = (w . x + b) / |w| in
  standardised feature units (S > 0 soft, about to rearrange); JSON model files (no pickle) with a SHA-256 checksum
  so that an edited or truncated file is refused;
- ``probability``: P_R(S), the probability that an atom of softness S rearranges within the next t_R, and across
  temperatures the fit ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T);
- ``protocol``: inherent-structure features, p_hop labels, a quiet window tied to tau_alpha and hold-out by
  independent runs (:func:`train_on_runs`), the recipe of the shipped Kob-Andersen model.
"""
from .labels import future_max, labels_at_frames
from .model import MIN_FEATURE_SCALE, MODEL_FORMAT, MODEL_FORMAT_VERSION, SoftnessModel, train_softness
from .probability import fit_softness_arrhenius, p_r_trend, rearrangement_probability
from .protocol import (alpha_relaxation_time, labels_and_features, permuted_control, quiet_tau_at, quiet_window,
                       train_on_runs, train_with_holdouts, transfer_metrics)
from .training_set import (TrainingSet, combine_runs, feature_names, feature_signature, select_training_set)

__all__ = ["MIN_FEATURE_SCALE", "MODEL_FORMAT", "MODEL_FORMAT_VERSION", "SoftnessModel", "TrainingSet",
           "alpha_relaxation_time", "combine_runs", "feature_names", "feature_signature", "fit_softness_arrhenius",
           "future_max", "labels_and_features", "labels_at_frames", "p_r_trend", "permuted_control", "quiet_tau_at",
           "quiet_window", "rearrangement_probability", "select_training_set", "train_on_runs", "train_softness",
           "train_with_holdouts", "transfer_metrics"]
