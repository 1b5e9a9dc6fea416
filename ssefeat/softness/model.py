"""The softness model: standardised features and a linear classifier whose signed hyperplane distance is the
softness, its plain-JSON model files (format version, SHA-256 checksum; never pickle), and ``train_softness``."""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

from .. import __version__
from ..errors import DomainWarning, MissingFileError, ModelFileError, ParameterError, SchemaError
from ..io.atomic import atomic_output
from ..provenance import stamp
from .accuracy import balanced_accuracy_interval, held_out_ions
from .cv import c_path_scores, cv_splits
from .domain import MIN_FEATURE_SCALE, domain_distance, training_domain
from .training_set import _signature_hash, feature_names, feature_signature, select_training_set

MODEL_FORMAT = "ssefeat-softness-model"
MODEL_FORMAT_VERSION = 1


class NotTrainedError(ParameterError, NotFittedError):
    """A SoftnessModel used before ``fit`` or ``load`` (an ssefeat error and scikit-learn's NotFittedError)."""


class FeatureTypeError(SchemaError, TypeError):
    """Features of a type the model cannot use (sparse matrices, text, objects)."""


def _validate(model, X, y=None, reset: bool = False, what: str = "features"):
    """X (and y) checked by scikit-learn's rules (2D, dense, real, finite, enough samples; the number of features
    against the fit unless ``reset``), refused as an ssefeat error that keeps scikit-learn's wording."""
    from sklearn.utils.validation import validate_data

    try:
        if y is None:
            with warnings.catch_warnings():  # names are checked by check_features; plain arrays are fine
                warnings.filterwarnings("ignore", message="X does not have valid feature names")
                return validate_data(model, X, reset=reset, dtype=np.float64, ensure_all_finite=True), None
        return validate_data(model, X, y, reset=reset, dtype=np.float64, ensure_all_finite=True)
    except (TypeError, ValueError) as err:
        kind = FeatureTypeError if isinstance(err, TypeError) else SchemaError
        raise kind(f"{what}: {err}", fix="give a dense 2D array of finite numbers (n_samples, n_features) with "
                   "the model's features; drop samples with NaN / inf features.") from None


class SoftnessModel(ClassifierMixin, BaseEstimator):
    """Standardise + linear classifier; softness is the signed distance to its hyperplane.

    Parameters
    ----------
    classifier : {"logistic", "svm"}
        Logistic regression (default) or a linear support-vector machine.
    C : float or None
        Inverse regularisation strength; None chooses it by cross-validation over ``Cs``.
    Cs : sequence of float
        Candidates for C.
    cv : int
        Number of cross-validation folds (whole groups, e.g. frame blocks, when ``groups`` are given to ``fit``,
        else stratified). When the data hold fewer groups, or fewer samples of a class, than ``cv``, as many folds as
        they allow are used (at least 2) with a FewerFoldsWarning, and recorded (``cv_folds_``, and ``cv_folds`` in
        the model file); a single group is refused (give C). Each fold walks the ``Cs`` from the strongest
        regularisation up, every logistic fit starting from the previous C's solution (a warm-started
        regularisation path, as LogisticRegressionCV does).
    max_iter : int
    random_state : int
    progress : bool
        A tqdm bar over the (fold, C) fits of the cross-validation.

    Learned attributes: ``mean_``, ``scale_`` (standardisation), ``coef_`` (weights in standardised units),
    ``intercept_``, ``C_`` (the C used), ``cv_scores_`` (balanced accuracy per candidate C), ``cv_folds_`` and
    ``cv_split_`` (the folds used to choose C and "groups" / "stratified"; None when C was given),
    ``feature_names_in_``, ``domain_`` (the training domain, see :meth:`domain_distance`).
    """

    def __init__(self, classifier: str = "logistic", C: float | None = None,
                 Cs=(1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0), cv: int = 5, max_iter: int = 2000,
                 random_state: int = 0, progress: bool = False):
        self.classifier = classifier
        self.C = C
        self.Cs = Cs
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state
        self.progress = progress

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # rearranging or not: binary only
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    def _estimator(self, C: float, warm_start: bool = False):
        if self.classifier == "logistic":
            from sklearn.linear_model import LogisticRegression

            # Newton steps with the exact Hessian (Cholesky): with ~100 features against 10^4 samples a fit takes
            # ~5 steps (2 along the warm-started C path), where L-BFGS takes 50-200 and stops far from the optimum
            # of the collinear structure functions at large C.
            return LogisticRegression(C=C, solver="newton-cholesky", max_iter=self.max_iter, warm_start=warm_start)
        if self.classifier == "svm":
            from sklearn.svm import LinearSVC

            return LinearSVC(C=C, max_iter=self.max_iter, random_state=self.random_state)
        raise ParameterError(f"unknown classifier {self.classifier!r}.", fix="use 'logistic' or 'svm'.")

    def fit(self, X, y, groups=None, feature_names=None):
        """Fit on samples X (n_samples, n_features) with labels y (1 = rearranging, 0 = not).

        ``groups`` (e.g. frame blocks) make the cross-validation folds hold whole groups.
        """
        # The fits are small (n_samples x ~100 features): multi-threaded BLAS only spins, 10-20x slower on a busy
        # machine, so BLAS runs single-threaded here (as in structure_functions).
        with _one_blas_thread():
            return self._fit(X, y, groups, feature_names)

    def _fit(self, X, y, groups, feature_names):
        from sklearn.utils.multiclass import check_classification_targets

        X, y = _validate(self, X, y, reset=True, what="training features")
        try:
            check_classification_targets(y)
        except ValueError as err:
            raise ParameterError(f"labels: {err}", fix="give class labels: 1 = rearranging, 0 = not.") from None
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) != 2:
            raise ParameterError(f"Only binary classification is supported (rearranging or not); the labels hold "
                                 f"{len(classes)} class{'es' if len(classes) != 1 else ''}: {classes.tolist()}.",
                                 fix="give labels 1 (rearranging) and 0 (not), e.g. from select_training_set.")
        if counts.min() < 2:
            raise ParameterError(f"training needs both classes with enough samples; got counts "
                                 f"{dict(zip(classes.tolist(), counts.tolist()))}.",
                                 fix="loosen r_cut / nr_cut or use more frames.")
        self.classes_ = classes  # the second one is "rearranging" (1 for ssefeat's labels)
        y = (y == classes[1]).astype(np.int64)
        self.mean_ = X.mean(axis=0)
        # Features that (almost) never vary in training carry no information, and dividing by their tiny spread
        # would blow up softness wherever they do occur (a radial shell at a Li-Li distance met once in 10^4
        # samples): such "dead" features are left out of the fit (weight 0, scale 1).
        scale = X.std(axis=0)
        active = scale >= MIN_FEATURE_SCALE * np.maximum(1.0, np.abs(self.mean_))
        if not active.any():
            raise ParameterError("every feature is (nearly) constant over the training samples.",
                                 fix="check the features (cutoff, centre species) and the training frames.")
        self.scale_ = np.where(active, scale, 1.0)
        Z = ((X - self.mean_) / self.scale_)[:, active]
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(feature_names if feature_names is not None
                                            else [f"f{k}" for k in range(X.shape[1])], dtype=object)
        if self.C is None:
            splits, self.cv_folds_, self.cv_split_ = cv_splits(y, groups, self.cv, self.random_state)
            self.cv_scores_ = c_path_scores(self, Z, y, splits)
            self.C_ = float(np.asarray(self.Cs)[int(np.nanargmax(self.cv_scores_))])
        else:
            self.cv_scores_, self.cv_folds_, self.cv_split_ = np.array([]), None, None
            self.C_ = float(self.C)
        est = self._estimator(self.C_).fit(Z, y)
        self.n_iter_ = int(np.max(est.n_iter_))  # solver iterations of the final fit
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[active] = np.asarray(est.coef_, dtype=np.float64).reshape(-1)
        self.dead_features_ = [str(n) for n in self.feature_names_in_[~active]]
        self.intercept_ = float(np.asarray(est.intercept_).reshape(-1)[0])
        if not np.any(self.coef_):
            raise ParameterError("the fitted hyperplane has zero weights (regularisation too strong or no signal).",
                                 fix="allow a larger C or check that the labels depend on the features.")
        self._set_domain(training_domain(X, self.mean_, self.scale_, active))
        return self

    def _set_domain(self, domain: dict) -> None:
        self.domain_ = domain
        self._domain_inverse = np.linalg.inv(np.asarray(domain["covariance"], dtype=np.float64))

    def domain_distance(self, X) -> np.ndarray:
        """Mahalanobis distance of samples (n, n_features) from the training mean, in standardised units with the
        training covariance of the model's active features (+ DOMAIN_RIDGE on its diagonal); NaN where a feature is
        not finite. A dead feature (constant in training) outside its training range gives +inf."""
        X = np.asarray(X, dtype=np.float64)
        return domain_distance(X, self._standardised(X), self.domain_, self._domain_inverse)

    def _standardised(self, X: np.ndarray) -> np.ndarray:
        """(X - mean_) / scale_ as a new float64 array (one copy, the division in place)."""
        Z = np.subtract(X, self.mean_)
        Z /= self.scale_
        return Z

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise NotTrainedError("this SoftnessModel is not trained.",
                                  fix="call fit(...) or SoftnessModel.load(path).")

    def softness(self, X) -> np.ndarray:
        """Signed distance to the hyperplane in standardised feature units, (n_samples,)."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1] != self.coef_.size:
            raise SchemaError(f"features have {X.shape[-1]} columns; the model expects {self.coef_.size}.",
                              fix="compute features with the model's parameter set.")
        return self._hyperplane(self._standardised(X))

    def _hyperplane(self, Z: np.ndarray) -> np.ndarray:
        return (Z @ self.coef_ + self.intercept_) / np.linalg.norm(self.coef_)

    def decision_function(self, X) -> np.ndarray:
        """:meth:`softness` of checked samples (scikit-learn's rules: NaN / inf and sparse input refused)."""
        self._check_fitted()
        return self.softness(_validate(self, X)[0])

    def predict(self, X) -> np.ndarray:
        """The second class (rearranging: 1) where S > 0, else the first (0)."""
        S = self.decision_function(X)
        return np.asarray(self.classes_)[(S > 0).astype(np.int64)]

    def score(self, X, y, sample_weight=None) -> float:
        """Balanced accuracy."""
        from sklearn.metrics import balanced_accuracy_score

        return float(balanced_accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def metrics(self, X, y) -> dict:
        """Accuracy, balanced accuracy, P(S>0 | rearranging), P(S>0), confusion matrix [[TN, FP], [FN, TP]]."""
        from sklearn.metrics import confusion_matrix

        y = np.asarray(y).astype(np.int64)
        S = self.softness(X)
        pred = (S > 0).astype(np.int64)
        cm = confusion_matrix(y, pred, labels=[0, 1])
        tn, fp, fn, tp = cm.ravel()
        return {"n_samples": int(len(y)), "accuracy": float((pred == y).mean()),
                "balanced_accuracy": float(0.5 * (tp / max(tp + fn, 1) + tn / max(tn + fp, 1))),
                "p_soft_given_rearranging": float(tp / max(tp + fn, 1)), "p_soft": float((S > 0).mean()),
                "confusion_matrix": cm.tolist()}

    def weights(self) -> xr.DataArray:
        """Hyperplane weights by feature name (standardised units, unit norm)."""
        self._check_fitted()
        w = self.coef_ / np.linalg.norm(self.coef_)
        return xr.DataArray(w, dims="feature", coords={"feature": self.feature_names_in_.astype(str)},
                            name="weight", attrs={"units": "1 (standardised feature units, |w| = 1)"})

    # --- files -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The model as plain JSON-able data."""
        self._check_fitted()
        return {"classifier": self.classifier, "C": self.C_, "cv_folds": getattr(self, "cv_folds_", None),
                "cv_split": getattr(self, "cv_split_", None), "mean": self.mean_.tolist(),
                "scale": self.scale_.tolist(), "coef": self.coef_.tolist(), "intercept": self.intercept_,
                "feature_names": [str(n) for n in self.feature_names_in_],
                "dead_features": list(getattr(self, "dead_features_", [])),
                "feature_signature": getattr(self, "feature_signature_", None),
                "provenance": getattr(self, "provenance_", {}), "metrics": getattr(self, "metrics_", {}),
                **({"domain": self.domain_} if hasattr(self, "domain_") else {})}

    def save(self, path, overwrite: bool = True) -> None:
        """Write the model as JSON (atomically), with a format version and a SHA-256 checksum of its content."""
        content = self.to_dict()
        body = json.dumps(content, sort_keys=True)
        doc = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "ssefeat_version": __version__,
               "sha256": hashlib.sha256(body.encode()).hexdigest(), "model": content}
        with atomic_output(path, overwrite=overwrite) as tmp:
            Path(tmp).write_text(json.dumps(doc, indent=1, sort_keys=True))

    @classmethod
    def load(cls, path) -> "SoftnessModel":
        """Read a model file written by :meth:`save`; refuse anything malformed, edited or from a newer format."""
        path = Path(path)
        if not path.exists():
            raise MissingFileError(f"model file {path} does not exist.", fix="check the path (models/ ships "
                                                                              "trained models).")
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelFileError(f"{path} is not a JSON model file ({err}).",
                                 fix="use a file written by SoftnessModel.save or `ssefeat softness train`.") from None
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"{path} is not an ssefeat softness model (format {doc.get('format')!r}).",
                                 fix="use a file written by SoftnessModel.save or `ssefeat softness train`.")
        version = doc.get("format_version")
        if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
            raise ModelFileError(f"{path} has model format version {version}; this ssefeat "
                                 f"({__version__}) reads up to {MODEL_FORMAT_VERSION}.",
                                 fix="upgrade ssefeat (pip install -U ssefeat) or retrain the model.")
        content = doc.get("model")
        body = json.dumps(content, sort_keys=True)
        if hashlib.sha256(body.encode()).hexdigest() != doc.get("sha256"):
            raise ModelFileError(f"{path} failed its checksum: the model content was edited or damaged.",
                                 fix="retrain the model or restore the original file.")
        try:
            model = cls(classifier=content["classifier"], C=content["C"])
            model.C_ = float(content["C"])
            model.cv_folds_, model.cv_split_ = content.get("cv_folds"), content.get("cv_split")  # None: older file
            model.mean_ = np.asarray(content["mean"], dtype=np.float64)
            model.scale_ = np.asarray(content["scale"], dtype=np.float64)
            model.coef_ = np.asarray(content["coef"], dtype=np.float64)
            model.intercept_ = float(content["intercept"])
            model.feature_names_in_ = np.asarray(content["feature_names"], dtype=object)
            model.feature_signature_ = content.get("feature_signature")
            model.dead_features_ = list(content.get("dead_features", []))
            model.provenance_ = content.get("provenance", {})
            model.metrics_ = content.get("metrics", {})
            if "domain" in content:
                model._set_domain(content["domain"])
        except (KeyError, TypeError, ValueError, np.linalg.LinAlgError) as err:
            raise ModelFileError(f"{path} is missing or has malformed field {err}.",
                                 fix="retrain the model with this version of ssefeat.") from None
        n = model.coef_.size
        if not (model.mean_.size == model.scale_.size == len(model.feature_names_in_) == n) or n == 0:
            raise ModelFileError(f"{path} has inconsistent array sizes (weights {n}, mean {model.mean_.size}, "
                                 f"scale {model.scale_.size}, names {len(model.feature_names_in_)}).",
                                 fix="retrain the model.")
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = n
        if not hasattr(model, "domain_"):
            warnings.warn(f"{path} has no training domain (written by an older ssefeat): softness cannot say which "
                          "samples lie outside the training data. Retrain the model to add it.", DomainWarning,
                          stacklevel=2)
        return model

    # --- xarray layer ------------------------------------------------------------------------------
    def check_features(self, features: xr.DataArray) -> None:
        """Raise ModelFileError unless ``features`` were made with the model's parameter set (remembered for the
        next call with the same feature coordinates and signature, e.g. the next frame chunk of a store)."""
        self._check_fitted()
        expected = getattr(self, "feature_signature_", None)
        key, checked = _feature_coords_key(features), getattr(self, "_checked", None)
        if key is not None and checked is not None and checked[0] == key and checked[1] is expected \
                and checked[2] is self.feature_names_in_:  # held references: the same objects, not reused ids
            return
        self._check_signature(features, expected)
        self._checked = (key, expected, self.feature_names_in_)

    def _check_signature(self, features: xr.DataArray, expected) -> None:
        if expected is None:
            names = feature_names(features)
            if names != [str(n) for n in self.feature_names_in_]:
                raise ModelFileError("the features' names differ from the model's.",
                                     fix="compute features with the parameter set the model was trained on.")
            return
        got = feature_signature(features)
        if got != expected:
            diff = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
            detail = (f"{len(got)} features vs the model's {len(expected)}" if len(got) != len(expected)
                      else f"feature {diff}: {got[diff]} vs the model's {expected[diff]}")
            raise ModelFileError(f"the features were not made with the model's parameter set ({detail}; "
                                 f"signature {_signature_hash(got)} vs {_signature_hash(expected)}).",
                                 fix="recompute features with the parameters stored in the model "
                                     "(its provenance names the parameter set).")

    def apply(self, features: xr.DataArray, warn: bool = True) -> xr.DataArray:
        """Softness of every atom of every frame: DataArray (frame, atom), chunk friendly.

        With a training domain (models trained by this version), the coordinate ``in_domain`` (frame, atom) says
        which samples lie within it (:meth:`domain_distance` at most ``domain_["threshold"]``, DOMAIN_FACTOR x the
        99th percentile of the training samples' distances); elsewhere S is an extrapolation, and ``warn`` gives
        their count.
        """
        self.check_features(features)
        X = np.asarray(features.transpose("frame", "atom", "feature").values, dtype=np.float64)
        flat = X.reshape(-1, X.shape[-1])
        finite = np.isfinite(flat).all(axis=-1)
        with _one_blas_thread():  # as in fit: (chunk, ~100) @ (~100, ~100) only spins with more
            Z = self._standardised(flat)  # once, for the softness and the domain distance
            S = self._hyperplane(Z)
            S[~finite] = np.nan
            dist = domain_distance(flat, Z, self.domain_, self._domain_inverse, finite) \
                if hasattr(self, "domain_") else None
        S = S.reshape(X.shape[:2])
        coords = {k: v for k, v in features.coords.variables.items() if "feature" not in v.dims}
        out = xr.DataArray(S, dims=("frame", "atom"), coords=coords, name="softness")
        if dist is not None:
            inside = (dist <= self.domain_["threshold"]).reshape(S.shape)
            out = out.assign_coords(in_domain=(("frame", "atom"), inside))
            n_out = int((np.isfinite(S) & ~inside).sum())
            if warn and n_out:
                warnings.warn(f"{n_out} of {int(np.isfinite(S).sum())} samples lie outside the softness model's "
                              "training domain (coordinate in_domain): their softness is an extrapolation.",
                              DomainWarning, stacklevel=2)
        return stamp(out, parameters={"model_provenance": getattr(self, "provenance_", {}), "C": self.C_,
                                      "classifier": self.classifier},
                     units="1 (standardised feature units)", analysis="SoftnessModel.apply")


@functools.lru_cache(maxsize=1)
def _blas_controller():
    """threadpoolctl's controller, made once per process (its scan of the loaded libraries costs ~7 ms a call), after
    scipy's and scikit-learn's libraries are loaded (scipy ships its own OpenBLAS beside numpy's)."""
    import scipy.linalg  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread():
    """A context in which every loaded BLAS runs one thread."""
    return _blas_controller().limit(limits=1, user_api="blas")


def _feature_coords_key(features: xr.DataArray):
    """The values of the coordinates along ``feature`` as bytes (None when one holds Python objects, whose bytes are
    pointers): equal keys, equal feature signatures."""
    if "feature" not in features.dims:
        return None
    values = [(name, np.asarray(v.values)) for name, v in sorted(features.coords.variables.items())
              if v.dims == ("feature",)]  # Variables: no DataArray built per coordinate
    if any(v.dtype.kind == "O" for _, v in values):
        return None
    return (features.sizes["feature"], *((name, v.dtype.str, v.tobytes()) for name, v in values))


def train_softness(features: xr.DataArray, labels: xr.DataArray, r_cut: float, nr_cut: float, window: int = 0,
                   species=None, classifier: str = "logistic", C: float | None = None, test_fraction: float = 0.25,
                   n_blocks: int = 10, gap_blocks: int = 0, max_per_class: int | None = None,
                   seed: int = 0, groups=None, test_groups=None,
                   progress: bool = False) -> tuple[SoftnessModel, dict]:
    """Select a training set, train on frame blocks, evaluate on held-out blocks.

    With ``groups`` (one label per feature frame, e.g. the independent run each frame comes from; a DataArray on
    ``frame`` or a sequence) whole groups are held out instead of frame blocks (``test_groups`` names them, else
    a seeded ``test_fraction`` of the groups), and cross-validation folds hold whole groups when there are at
    least ``cv`` training groups (frame blocks otherwise).

    ``progress`` shows a tqdm bar over the cross-validation fits.

    Returns the model (refitted on the training blocks only; metrics are for the held-out blocks) and a
    report dict: held-out metrics, the chosen C, the samples used. The model carries the feature signature
    and provenance, ready for :meth:`SoftnessModel.save`.
    """
    ts = select_training_set(features, labels, r_cut, nr_cut, window=window, species=species,
                             n_blocks=n_blocks, max_per_class=max_per_class, seed=seed, groups=groups)
    train, test = ts.split(test_fraction=test_fraction, seed=seed, gap_blocks=gap_blocks, test_groups=test_groups)
    if len(np.unique(ts.y[test])) < 2 or len(np.unique(ts.y[train])) < 2:
        raise ParameterError("a train or test split lacks one of the classes.",
                             fix="use more frames, more blocks (n_blocks) or looser cuts.")
    model = SoftnessModel(classifier=classifier, C=C, random_state=seed, progress=progress)
    cv_groups = ts.block[train]
    if ts.group is not None and len(np.unique(ts.group[train])) >= model.cv:
        cv_groups = ts.group[train]
    model.fit(ts.X[train], ts.y[train], groups=cv_groups, feature_names=ts.feature_names)
    test_metrics = model.metrics(ts.X[test], ts.y[test])
    ions = held_out_ions(ts.atom[test], None if ts.group is None else ts.group[test])
    test_metrics.update(balanced_accuracy_interval(ts.y[test], model.predict(ts.X[test]), ions, seed=seed))
    test_metrics.update(n_test_ions=int(ions.max(initial=-1) + 1), n_test_frames=int(np.unique(ts.frame[test]).size),
                        **{"n_test_groups" if ts.group is not None else "n_test_blocks":
                           int(np.unique(ts.group[test] if ts.group is not None else ts.block[test]).size)})
    train_metrics = model.metrics(ts.X[train], ts.y[train])
    model.feature_signature_ = ts.signature
    model.metrics_ = {"test": test_metrics, "train": train_metrics,
                      "cv_balanced_accuracy": dict(zip(map(str, model.Cs), model.cv_scores_.tolist()))
                      if model.cv_scores_.size else {}, "cv_folds": model.cv_folds_, "cv_split": model.cv_split_}
    model.provenance_ = {**ts.info, "classifier": classifier, "test_fraction": test_fraction,
                         "n_dead_features": len(model.dead_features_),
                         "gap_blocks": gap_blocks, "n_train": int(train.sum()), "n_test": int(test.sum()),
                         "split": "frame groups" if ts.group is not None else "frame blocks",
                         **({"test_groups": sorted({ts.group_names[g] for g in ts.group[test]})}
                            if ts.group is not None else {}),
                         "feature_parameters": features.attrs.get("parameters", ""),
                         "features_source": features.attrs.get("source", ""),
                         "trained": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                         "ssefeat_version": __version__}
    return model, {"test": test_metrics, "train": train_metrics, "C": model.C_, "cv_folds": model.cv_folds_,
                   "training_set": ts}

