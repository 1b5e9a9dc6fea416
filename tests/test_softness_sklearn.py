"""scikit-learn's own estimator checks: SoftnessModel is a binary classifier that refuses what it cannot use
(NaN / inf, sparse input, multiclass labels) with clear errors; StructureFeaturizer keeps its API contract."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from ssefeat.errors import ParameterError, SchemaError
from ssefeat.features.transformer import StructureFeaturizer
from ssefeat.softness import SoftnessModel

#: checks that feed numeric arrays, which a featurizer of trajectories refuses by design (its API checks still run)
_ARRAY_INPUT = (
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_complex_data", "check_dtype_object",
    "check_estimators_empty_data_messages", "check_pipeline_consistency", "check_estimators_nan_inf",
    "check_estimator_sparse_tag", "check_estimator_sparse_array", "check_estimator_sparse_matrix",
    "check_estimators_pickle", "check_array_api_input", "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array", "check_transformer_general", "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_fit2d_1sample",
    "check_fit2d_1feature", "check_dict_unchanged", "check_fit_idempotent", "check_fit_check_is_fitted",
    "check_n_features_in", "check_fit2d_predict1d")


@pytest.mark.parametrize("model", [SoftnessModel(C=1.0), SoftnessModel(classifier="svm", C=1.0)], ids=repr)
def test_softness_model_passes_check_estimator(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(model)  # raises on the first failed check


def test_cross_validated_softness_model_passes_check_estimator():
    """The default model (C by cross-validation): every check passes, the tiny ones (10 samples) with fewer folds
    (FewerFoldsWarning, recorded in cv_folds_; tests/test_softness_cv.py checks the folds themselves)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(SoftnessModel())


def test_softness_model_refusals_are_ssefeat_errors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(NotFittedError):
        SoftnessModel().predict(X)
    with pytest.raises(ParameterError, match="not trained"):
        SoftnessModel().decision_function(X)
    model = SoftnessModel(C=1.0).fit(X, y)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        model.predict(bad)
    assert np.isnan(model.softness(bad)[3]) and np.isfinite(np.delete(model.softness(bad), 3)).all()
    with pytest.raises(SchemaError, match="NaN"):
        SoftnessModel(C=1.0).fit(bad, y)
    with pytest.raises(ParameterError, match="Only binary classification"):
        SoftnessModel(C=1.0).fit(X, y + (X[:, 1] > 1))
    from scipy import sparse
    with pytest.raises(TypeError, match="[Ss]parse"):
        model.predict(sparse.csr_matrix(X))
    # labels other than 0 / 1: the second class is "rearranging"
    named = np.where(y == 1, "hop", "calm")
    other = SoftnessModel(C=1.0).fit(X, named)
    assert other.classes_.tolist() == ["calm", "hop"]
    np.testing.assert_array_equal(other.predict(X) == "hop", model.predict(X) == 1)


def test_structure_featurizer_keeps_its_api_contract():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_estimator(StructureFeaturizer(), expected_failed_checks={
            name: "takes trajectories (Dataset / ase.Atoms), not numeric arrays" for name in _ARRAY_INPUT})
