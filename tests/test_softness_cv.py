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
