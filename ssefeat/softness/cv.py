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


#: the logistic path stops at a C when half the Newton decrement (in the Hessian used for the step) is at most
#: PATH_TOL per training sample: 10^8 x tighter than scikit-learn's default (1e-4), so that the path's solutions lie
#: within scikit-learn's own tolerance of the optimum and the folds' predictions match its fits'
PATH_TOL = 1e-12
#: a new Hessian when a step shrinks the Newton decrement by less than this factor (the old one steers too badly)
REFRESH = 0.1
#: most steps at one C before the path gives up and scikit-learn's solver fits the remaining Cs
PATH_MAX_STEPS = 300


def c_path_scores(model, Z: np.ndarray, y: np.ndarray, splits: list) -> np.ndarray:
    """Mean held-out balanced accuracy of each of ``model.Cs`` over the folds that hold both classes (NaN when none
    does).

    Per fold the Cs are fitted from the smallest up, each warm-started from the previous solution (the optimum of
    each C is unique: the path only saves work): logistic fits by :func:`logistic_path`, SVMs by scikit-learn; the
    fold's rows are gathered once."""
    from ..progress import progress_bar

    Cs = np.asarray(model.Cs, dtype=np.float64)
    order = np.argsort(Cs, kind="stable")
    scores = np.full((len(Cs), len(splits)), np.nan)
    with progress_bar(total=len(Cs) * len(splits), desc="softness: C by cross-validation", unit="fit",
                      disable=not model.progress) as bar:
        for k, (tr, te) in enumerate(splits):
            if len(np.unique(y[tr])) < 2 or len(np.unique(y[te])) < 2:
                bar.update(len(Cs))
                continue
            Ztr, ytr, Zte, yte = Z[tr], y[tr], Z[te], y[te]
            thetas = logistic_path(Ztr, ytr, Cs[order], done=bar.update) \
                if model.classifier == "logistic" else [None] * len(Cs)
            est = None
            for c, theta in zip(order, thetas):
                if theta is None:  # an SVM, or a C where the path gave up: scikit-learn, warm-started
                    if est is None or model.classifier != "logistic":
                        est = model._estimator(Cs[c], warm_start=True)
                    else:
                        est.set_params(C=Cs[c])
                    est.fit(Ztr, ytr)
                    bar.update()
                    decision = est.decision_function(Zte)
                else:
                    decision = Zte @ theta[:-1] + theta[-1]
                scores[c, k] = _balanced_accuracy(yte, decision > 0)
    if np.isnan(scores).all():
        raise ParameterError("no cross-validation fold holds both classes in its training and its test samples.",
                             fix="give C, or samples of both classes from more frame blocks or runs.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a C without any usable fold stays NaN
        return np.nanmean(scores, axis=1)


def logistic_path(Z: np.ndarray, y: np.ndarray, Cs: np.ndarray, done=None) -> list:
    """L2 logistic regression at each C of ``Cs`` (ascending): scikit-learn's objective, C x the summed log-loss
    + |w|^2 / 2 with a free intercept, on samples Z (n, k) with labels y (0 / 1). Returns one [w..., b] array per C
    (None from the first C where the path gave up); ``done()`` is called after each C.

    A warm-started Newton path that reuses its Hessian: the data part of the Hessian, X^T diag(p(1-p)) X, does not
    depend on C, so one computed at an earlier point of the path (or of this C) steers the steps, with the current
    C's penalty added, until a step shrinks the Newton decrement by less than REFRESH; then it is recomputed at the
    current point. Each step costs two matrix-vector products, a Hessian n k^2 in float32 (it only steers: the
    float64 gradient and objective decide where the path stops); scikit-learn's newton-cholesky computes one in
    float64 per step, about two per C. Steps are damped by backtracking (Armijo) on the objective; the path
    stops at a C when half the decrement is at most PATH_TOL per sample."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve
    from scipy.special import expit

    n, k = Z.shape
    yf = np.asarray(y, dtype=np.float64)
    theta, eta = np.zeros(k + 1), np.zeros(n)
    loglik = n * np.log(2.0)  # sum of log(1 + exp(eta)) - y eta at eta = 0
    resid = expit(eta) - yf
    grad_data = np.append(Z.T @ resid, resid.sum())
    z32 = Z.astype(np.float32)  # for the Hessian only: it steers the steps, float64 gradients decide the optimum
    hess_data, diag, out = None, np.arange(k), []
    for C in Cs:
        objective = loglik + 0.5 * theta[:k] @ theta[:k] / C
        factor, last, fresh, steps = None, None, False, 0  # fresh: the Hessian is the current point's
        try:
            while True:
                if hess_data is None:
                    hess_data, factor, last, fresh = _data_hessian(z32, expit(eta)), None, None, True
                if factor is None:  # this C's penalty on the Hessian's diagonal
                    h = hess_data.copy()
                    h[diag, diag] += 1.0 / C
                    factor = cho_factor(h, check_finite=False)
                grad = grad_data.copy()
                grad[:k] += theta[:k] / C
                step = -cho_solve(factor, grad, check_finite=False)
                decrement = float(-grad @ step)
                if 0.5 * decrement <= PATH_TOL * n:
                    break
                if not (decrement > 0 and np.isfinite(decrement)) or steps >= PATH_MAX_STEPS:
                    raise LinAlgError("no descent")
                if last is not None and decrement > REFRESH * last and not fresh:
                    hess_data = None  # the old Hessian steers too badly: a new one at this point
                    continue
                dz, t = Z @ step[:k] + step[k], 1.0
                slack = 64 * np.finfo(np.float64).eps * abs(objective)  # the objective's round-off
                while True:  # backtracking on the objective
                    eta_t, theta_t = eta + t * dz, theta + t * step
                    loglik_t = float(np.sum(np.logaddexp(0.0, eta_t) - yf * eta_t))
                    objective_t = loglik_t + 0.5 * theta_t[:k] @ theta_t[:k] / C
                    if objective_t <= objective - 1e-4 * t * decrement + slack:
                        break
                    t *= 0.5
                    if t < 1e-10:  # no decrease left at this precision: the optimum in floating point
                        raise StopIteration
                theta, eta, loglik, objective = theta_t, eta_t, loglik_t, objective_t
                resid = expit(eta) - yf
                grad_data = np.append(Z.T @ resid, resid.sum())
                last, fresh, steps = decrement, False, steps + 1
        except StopIteration:
            pass
        except LinAlgError:
            return out + [None] * (len(Cs) - len(out))
        out.append(theta.copy())
        if done is not None:
            done()
    return out


def _data_hessian(Z: np.ndarray, p: np.ndarray) -> np.ndarray:
    """[Z 1]^T diag(p (1 - p)) [Z 1]: the log-loss Hessian with an intercept column, (k + 1, k + 1) float64
    (computed in Z's precision)."""
    k, w = Z.shape[1], (p * (1.0 - p)).astype(Z.dtype)
    h = np.empty((k + 1, k + 1))
    h[:k, :k] = Z.T @ (Z * w[:, None])
    h[:k, k] = h[k, :k] = Z.T @ w
    h[k, k] = w.sum()
    return h


def _balanced_accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean recall of the two classes (labels 0 / 1, both present): scikit-learn's balanced_accuracy_score without
    its input checks, which cost more than the fold's prediction."""
    return 0.5 * (float(predicted[y == 1].mean()) + float(1.0 - predicted[y == 0].mean()))
