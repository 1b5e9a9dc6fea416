"""The softness model's training domain: where its features were seen in training (per-feature ranges and a
Mahalanobis distance in standardised units), stored in the model file, and the in-domain softness of a stage store."""
from __future__ import annotations

import numpy as np
import xarray as xr

#: features whose training spread is below this (relative to max(1, |mean|)) are "dead": left out of the fit
#: (weight 0). Structure functions count neighbours, so 1e-3 is a thousandth of a neighbour.
MIN_FEATURE_SCALE = 1e-3
#: added to the diagonal of the training covariance (standardised units, variance 1) for the domain distance: a
#: direction the training samples never moved in counts with weight 1 / DOMAIN_RIDGE
DOMAIN_RIDGE = 1e-3
#: a sample is in the training domain within DOMAIN_FACTOR x the 99th percentile of the training samples' distances
#: (the largest training distance itself grows with the training set's size, and fresh samples of the same data
#: exceed it at a rate 1 / n_training)
DOMAIN_FACTOR = 2.0


def in_domain_softness(softness: xr.Dataset) -> xr.DataArray:
    """The ``softness`` variable of a softness Dataset (a pipeline stage store) where ``in_domain`` holds, NaN
    elsewhere (unchanged when the model had no training domain)."""
    S = softness["softness"]
    return S.where(softness["in_domain"].astype(bool)) if "in_domain" in softness else S


def out_of_domain(softness: xr.Dataset) -> tuple[int, int]:
    """(samples outside the training domain, samples with a finite softness) of a softness Dataset; (0, n) when
    the model had no training domain."""
    finite = np.isfinite(softness["softness"].values)
    if "in_domain" not in softness:
        return 0, int(finite.sum())
    return int((finite & ~softness["in_domain"].values.astype(bool)).sum()), int(finite.sum())


def training_domain(X: np.ndarray, mean: np.ndarray, scale: np.ndarray, active: np.ndarray) -> dict:
    """The training domain stored in a model file: per-feature ranges, the covariance of the standardised active
    features (+ DOMAIN_RIDGE), and the threshold: DOMAIN_FACTOR x the 99th percentile of the training samples'
    Mahalanobis distances."""
    Z = ((X - mean) / scale)[:, active]
    k = Z.shape[1]
    cov = np.cov(Z, rowvar=False).reshape(k, k) + DOMAIN_RIDGE * np.eye(k)
    dist = np.sqrt(np.einsum("ij,ij->i", Z @ np.linalg.inv(cov), Z))
    return {"active": active.tolist(), "covariance": cov.tolist(),
            "threshold": DOMAIN_FACTOR * float(np.quantile(dist, 0.99)),
            "min": X.min(axis=0).tolist(), "max": X.max(axis=0).tolist(),
            "range_pad": (MIN_FEATURE_SCALE * np.maximum(1.0, np.abs(mean))).tolist(), "n_samples": int(len(X))}


def domain_distance(X: np.ndarray, Z: np.ndarray, domain: dict, inverse: np.ndarray, finite=None) -> np.ndarray:
    """Mahalanobis distance (standardised units) of samples X (n, n_features), with Z their standardised values,
    from the training mean over the ``domain``'s active features (``inverse``: its inverse covariance); +inf where
    a dead feature lies outside its training range, NaN where a feature is not finite (``finite``: that mask, if
    already known)."""
    active = np.asarray(domain["active"], dtype=bool)
    Za = Z if active.all() else Z[:, active]
    dist = np.sqrt(np.einsum("ij,ij->i", Za @ inverse, Za))
    if not active.all():
        dead = ~active
        lo, hi, pad = (np.asarray(domain[k], dtype=np.float64)[dead] for k in ("min", "max", "range_pad"))
        Xd = X[:, dead]
        dist[((Xd < lo - pad) | (Xd > hi + pad)).any(axis=1)] = np.inf
    dist[~(np.isfinite(X).all(axis=1) if finite is None else finite)] = np.nan
    return dist
