"""Softness after Cubuk et al., PRL 114, 108001 (2015) and Schoenholz et al., Nat. Phys. 12, 469 (2016), one idea
per module: ``labels`` (label post-processing), ``training_set`` (rearranging / non-rearranging samples, held-out frame
blocks or runs), ``model`` (SoftnessModel: S = (w . x + b) / |w| in standardised feature units, S > 0 soft; JSON model
files, no pickle), ``accuracy`` (the held-out balanced accuracy's interval, resampling ions), ``probability``
(P_R(S) and ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T)), ``protocol`` (the Kob-Andersen recipe for independent runs:
:func:`train_on_runs`).
"""
from .accuracy import MIN_UNITS, balanced_accuracy_interval  # noqa: F401
from .labels import future_max, label_cuts, labels_at_frames  # noqa: F401
from .domain import MIN_FEATURE_SCALE, in_domain_softness, out_of_domain  # noqa: F401
from .model import MODEL_FORMAT, MODEL_FORMAT_VERSION, SoftnessModel, train_softness  # noqa: F401
from .probability import (chunked_quantiles, fit_softness_arrhenius, p_r_trend,  # noqa: F401
                          rearrangement_probability, rearrangement_probability_chunked)
from .protocol import (alpha_relaxation_time, labels_and_features, permuted_control, quiet_tau_at,  # noqa: F401
                       quiet_window, train_on_runs, train_with_holdouts, transfer_metrics)
from .training_set import TrainingSet, combine_runs, feature_names, feature_signature, select_training_set  # noqa: F401
