"""Choosing the softness model's C by cross-validation: folds that fit the data (whole groups, e.g. frame blocks, or
stratified samples), as many as asked when the data allow it and fewer, with a warning, when they do not; and a
warm-started regularisation path per fold."""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import FewerFoldsWarning, ParameterError


def cv_splits(y: np.ndarray, groups, cv: int, random_state: int) -> tuple[list, int, str]:
    """The (train, test) index pairs for choosing C, the number of folds used and how they split ("groups" or
    "stratified").

    With ``groups`` every fold holds whole groups: ``min(cv, number of groups)`` folds (GroupKFold); without,
    ``min(cv, samples of the smallest class)`` stratified folds, so that every test fold holds both classes. Fewer
    folds than ``cv`` are used with a FewerFoldsWarning (the caller records the number); fewer than 2 are
    impossible and refused (one group cannot be held out against itself): give C, or more groups.
    """
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if isinstance(cv, (bool, np.bool_)) or not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ParameterError(f"cv = {cv!r}: cross-validation needs a whole number of folds >= 2.",
                             fix="use cv >= 2 (default 5), or give C to skip the cross-validation.")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != y.shape:
            raise ParameterError(f"groups has shape {groups.shape}; the labels have {y.shape}.",
                                 fix="give one group (e.g. frame block) per training sample.")
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            raise ParameterError(f"choosing C by cross-validation over groups needs at least 2 groups; the "
                                 f"training samples hold {n_groups}.",
                                 fix="give C (e.g. C=1.0), samples from more frame blocks or runs, or groups=None "
                                     "for stratified folds.")
        folds, kind, limit = min(cv, n_groups), "groups", f"only {n_groups} groups (frame blocks or runs)"
        splits = list(GroupKFold(n_splits=folds).split(y, y, groups))
    else:
        smallest = int(np.unique(y, return_counts=True)[1].min())  # >= 2: checked by the caller
        folds, kind = min(cv, smallest), "stratified"
        limit = f"the smallest class has only {smallest} samples"
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=random_state).split(y, y))
    if folds < cv:
        warnings.warn(f"cross-validation of C used {folds} folds instead of cv = {cv}: {limit} (recorded as "
                      "the model's cv_folds_).", FewerFoldsWarning, stacklevel=4)
    return splits, folds, kind


def c_path_scores(model, Z: np.ndarray, y: np.ndarray, splits: list) -> np.ndarray:
    """Mean held-out balanced accuracy of each of ``model.Cs`` over the folds that hold both classes (NaN when none
    does).

    Per fold the Cs are fitted from the smallest up, each logistic fit warm-started from the previous solution
    (the optimum of each C is unique: the path only saves iterations); the fold's rows are gathered once."""
    from ..progress import progress_bar

    Cs = np.asarray(model.Cs, dtype=np.float64)
    scores = np.full((len(Cs), len(splits)), np.nan)
    with progress_bar(total=len(Cs) * len(splits), desc="softness: C by cross-validation", unit="fit",
                      disable=not model.progress) as bar:
        for k, (tr, te) in enumerate(splits):
            if len(np.unique(y[tr])) < 2 or len(np.unique(y[te])) < 2:
                bar.update(len(Cs))
                continue
            Ztr, ytr, Zte, yte = Z[tr], y[tr], Z[te], y[te]
            est = None
            for c in np.argsort(Cs, kind="stable"):
                if est is None or model.classifier != "logistic":
                    est = model._estimator(Cs[c], warm_start=True)
                else:
                    est.set_params(C=Cs[c])
                est.fit(Ztr, ytr)
                scores[c, k] = _balanced_accuracy(yte, est.decision_function(Zte) > 0)
                bar.update()
    if np.isnan(scores).all():
        raise ParameterError("no cross-validation fold holds both classes in its training and its test samples.",
                             fix="give C, or samples of both classes from more frame blocks or runs.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a C without any usable fold stays NaN
        return np.nanmean(scores, axis=1)


def _balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall of the two classes (labels 0 / 1, both present): scikit-learn's balanced_accuracy_score without
    its input checks, which cost more than the fold's prediction."""
    return 0.5 * (float(predicted[y == 1].mean()) + float(1.0 - predicted[y == 0].mean()))
