"""Choosing C by cross-validation with as many folds as the data allow: fewer folds than ``cv`` are used with a
FewerFoldsWarning and recorded (model attribute and model file); one group is refused."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupKFold

from ssefeat.errors import FewerFoldsWarning, ParameterError
from ssefeat.softness import SoftnessModel


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_enough_data_uses_the_requested_folds_without_warning():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewerFoldsWarning)
        model = SoftnessModel().fit(X, y, groups=np.repeat(np.arange(6), 20))
    assert (model.cv_folds_, model.cv_split_) == (5, "groups")
    assert SoftnessModel().fit(X, y).cv_folds_ == 5
    assert SoftnessModel(C=1.0).fit(X, y).cv_folds_ is None


def test_small_class_uses_fewer_stratified_folds_warns_and_records_them(tmp_path):
    X, y = _data()
    keep = np.flatnonzero(y == 0)[:3].tolist() + np.flatnonzero(y == 1).tolist()  # 3 samples of class 0
    with pytest.warns(FewerFoldsWarning, match="3 folds instead of cv = 5: the smallest class has only 3"):
        model = SoftnessModel().fit(X[keep], y[keep])
    assert (model.cv_folds_, model.cv_split_) == (3, "stratified")
    model.save(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["model"]["cv_folds"] == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no training domain warning concerns here
        assert SoftnessModel.load(tmp_path / "m.json").cv_folds_ == 3


def test_few_groups_use_one_fold_per_group_and_score_as_independent_fits():
    X, y = _data(seed=1)
    groups = np.repeat([0, 1, 2], 40)
    with pytest.warns(FewerFoldsWarning, match="3 folds instead of cv = 5: only 3 groups"):
        model = SoftnessModel().fit(X, y, groups=groups)
    assert (model.cv_folds_, model.cv_split_) == (3, "groups")
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    ref = [np.mean([balanced_accuracy_score(y[te], LogisticRegression(C=C, tol=1e-10).fit(Z[tr], y[tr])
                                            .predict(Z[te]))
                    for tr, te in GroupKFold(n_splits=3).split(Z, y, groups)]) for C in model.Cs]
    np.testing.assert_allclose(model.cv_scores_, ref, atol=1.5 / 40)  # at most a borderline sample per fold


def test_one_group_or_fewer_than_two_folds_is_refused():
    X, y = _data()
    with pytest.raises(ParameterError, match="at least 2 groups"):
        SoftnessModel().fit(X, y, groups=np.zeros(len(y)))
    with pytest.raises(ParameterError, match="folds >= 2"):
        SoftnessModel(cv=1).fit(X, y)
    assert SoftnessModel(C=1.0).fit(X, y, groups=np.zeros(len(y))).C_ == 1.0  # a given C needs no folds


def _collinear(n=900, k=10, seed=4):
    """Samples with strongly collinear features (as structure functions are) and a noisy linear truth."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) @ rng.normal(size=(3, k)) + 0.05 * rng.normal(size=(n, k))
    y = (X[:, 0] - 0.7 * X[:, 1] + 0.5 + rng.normal(0, 1.5, n) > 0).astype(int)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_logistic_path_is_scikit_learns_optimum_at_every_c():
    """The warm-started path (reused, refreshed Hessians) reaches scikit-learn's optimum (newton-cholesky at a
    tight tolerance) at each C, weights and intercept, collinear features and large C included: as close as
    scikit-learn's own default tolerance gets (its fits differ from the optimum by up to ~1e-3 on such data)."""
    from ssefeat.softness.cv import logistic_path

    Z, y = _collinear()
    Cs = np.array([1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0])
    path = logistic_path(Z, y, Cs)
    for C, theta in zip(Cs, path):
        ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(Z, y)
        optimum = np.append(ref.coef_.ravel(), ref.intercept_)
        np.testing.assert_allclose(theta, optimum, rtol=0, atol=1e-4 * max(1.0, np.abs(optimum).max()))


def test_c_path_falls_back_to_scikit_learn_with_the_same_scores(monkeypatch):
    """Where the path gives up (here: allowed no step), scikit-learn's warm-started fits score the remaining Cs,
    and the scores and the chosen C are the path's."""
    import ssefeat.softness.cv as cv

    Z, y = _collinear(seed=5)
    groups = np.repeat(np.arange(6), len(y) // 6)
    fast = SoftnessModel().fit(Z, y, groups=groups)
    monkeypatch.setattr(cv, "PATH_MAX_STEPS", 0)
    assert all(t is None for t in cv.logistic_path(Z, y, np.array([0.1, 1.0])))
    slow = SoftnessModel().fit(Z, y, groups=groups)
    np.testing.assert_allclose(slow.cv_scores_, fast.cv_scores_, atol=1.5 / 150)  # a borderline sample at most
    assert slow.C_ == fast.C_
    np.testing.assert_array_equal(slow.coef_, fast.coef_)  # the refit is scikit-learn's in both
