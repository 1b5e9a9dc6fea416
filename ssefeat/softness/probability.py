"""P_R(S), the probability of rearranging within a horizon at softness S, and its Arrhenius fit across temperatures
ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T)."""
from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ParameterError
from ..provenance import stamp
from ..units import BOLTZMANN_EV


def rearrangement_probability(softness: xr.DataArray, labels: xr.DataArray, r_cut: float, horizon: int,
                              bins=20, s_range: tuple | None = None, min_count: int = 10) -> xr.Dataset:
    """P_R(S): probability that an atom with softness S at frame t rearranges within the next ``horizon`` frames.

    A sample (i, t) "rearranges" if its label exceeds ``r_cut`` at any frame in [t, t + horizon]. Frames whose
    horizon runs past the end of the labels are not used, nor samples whose future holds a NaN label and no
    rearrangement (unknown), nor softness values outside ``s_range``. Uncertainty: Wilson 68 % interval of a binomial.
    Bins with fewer than ``min_count`` samples get NaN.
    """
    softness, labels = xr.align(softness.transpose("frame", "atom"), labels.transpose("frame", "atom"),
                                join="inner")
    S = np.asarray(softness.values, dtype=np.float64)
    lab = np.asarray(labels.values, dtype=np.float64)
    _check_horizon(horizon, lab.shape[0])
    s, r = _samples(S, lab, r_cut, horizon)
    edges = np.histogram_bin_edges(s, bins=bins, range=s_range)
    n, k = _bin_counts(s, r, edges)
    return _p_r_dataset(edges, n, k, r_cut, horizon, min_count)


def rearrangement_probability_chunked(softness: xr.DataArray, labels: xr.DataArray, r_cut: float, horizon: int,
                                      bins: int, s_range: tuple, chunk_frames: int,
                                      min_count: int = 10) -> xr.Dataset:
    """:func:`rearrangement_probability` read ``chunk_frames`` frames at a time (plus the ``horizon`` frames of
    labels after them) from lazy (e.g. stage-store) arrays: the same counts, so the same result, with memory
    bounded by the chunk. Needs a fixed ``s_range`` and a number of ``bins`` (the edges do not depend on data)."""
    softness, labels = xr.align(softness.transpose("frame", "atom"), labels.transpose("frame", "atom"),
                                join="inner")
    n_frames = labels.sizes["frame"]
    _check_horizon(horizon, n_frames)
    edges = np.histogram_bin_edges(np.empty(0), bins=int(bins), range=s_range)
    n, k = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)
    for a in range(0, n_frames - horizon, max(1, int(chunk_frames))):
        b = min(a + max(1, int(chunk_frames)), n_frames - horizon)
        S = np.asarray(softness.isel(frame=slice(a, b)).values, dtype=np.float64)
        lab = np.asarray(labels.isel(frame=slice(a, b + horizon)).values, dtype=np.float64)
        dn, dk = _bin_counts(*_samples(S, lab, r_cut, horizon), edges)
        n, k = n + dn, k + dk  # integer counts in float64: exact in any order
    return _p_r_dataset(edges, n, k, r_cut, horizon, min_count)


def _check_horizon(horizon: int, n_frames: int) -> None:
    if horizon < 0 or horizon >= n_frames:
        raise ParameterError(f"horizon {horizon} frames does not fit in {n_frames} labelled frames.",
                             fix=f"use a horizon between 0 and {n_frames - 1} frames.")


def _samples(S: np.ndarray, lab: np.ndarray, r_cut: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(softness, rearranges within the horizon) of the usable samples of the frames of ``S`` whose horizon lies
    within ``lab`` (``lab`` starts at the same frame as ``S``; its last ``horizon`` frames only serve as futures)."""
    known = np.isfinite(lab)
    above = np.where(known, lab > r_cut, False)
    future = sliding_window_view(above, horizon + 1, axis=0).any(axis=-1)  # (n_frames - horizon, atom)
    # a future is known when a rearrangement is seen in it or every label in it is finite (NaN labels, e.g.
    # p_hop where its window does not fit, are unknown, not quiet)
    all_known = sliding_window_view(known, horizon + 1, axis=0).all(axis=-1)
    S_use = S[: lab.shape[0] - horizon]
    ok = np.isfinite(S_use) & (future | all_known)
    return S_use[ok], future[ok]


def _bin_counts(s: np.ndarray, r: np.ndarray, edges: np.ndarray):
    """(samples, rearranging samples) per bin of ``edges``."""
    inside = (s >= edges[0]) & (s <= edges[-1])  # as np.histogram: values outside s_range are not counted
    s, r = s[inside], r[inside]
    idx = np.clip(np.digitize(s, edges) - 1, 0, len(edges) - 2)
    n = np.bincount(idx, minlength=len(edges) - 1).astype(np.float64)
    k = np.bincount(idx, weights=r.astype(np.float64), minlength=len(edges) - 1)
    return n, k


def _p_r_dataset(edges, n, k, r_cut: float, horizon: int, min_count: int) -> xr.Dataset:
    """P_R per bin with its Wilson 68 % interval from the counts."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z = 1.0
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval contains p; clipping removes the round-off of centre - half at p = 0 (and at p = 1)
    lo, hi = np.clip(centre - half, 0.0, p), np.clip(centre + half, p, 1.0)
    small = n < min_count
    p, lo, hi = (np.where(small, np.nan, v) for v in (p, lo, hi))
    mids = 0.5 * (edges[1:] + edges[:-1])
    out = xr.Dataset({"P_R": ("S", p), "P_R_low": ("S", lo), "P_R_high": ("S", hi), "count": ("S", n),
                      "rearranging": ("S", k)},
                     coords={"S": mids, "S_edge_low": ("S", edges[:-1]), "S_edge_high": ("S", edges[1:])})
    out["P_R"].attrs["units"] = "probability within the horizon"
    return stamp(out, parameters={"r_cut": r_cut, "horizon_frames": horizon, "bins": len(mids),
                                  "min_count": min_count}, analysis="rearrangement_probability")


def chunked_quantiles(blocks, qs, n_bins: int = 1 << 16) -> list[float]:
    """``np.quantile(v, qs)`` (linear method) of the finite values v of the arrays ``blocks()`` yields (a callable
    giving a fresh iterator: it is read three times), holding one block and the values of a few histogram bins.

    Pass 1 counts and bounds the values, pass 2 histograms them into ``n_bins`` equal bins, pass 3 keeps the
    values of the bins holding the order statistics the quantiles need; numpy's interpolation gives the result."""
    def finite():
        for block in blocks():
            v = np.asarray(block, dtype=np.float64).ravel()
            yield v[np.isfinite(v)]

    count, low, high = 0, np.inf, -np.inf
    for v in finite():
        if v.size:
            count, low, high = count + v.size, min(low, v.min()), max(high, v.max())
    if count == 0:
        raise ParameterError("no finite value to take quantiles of.", fix="check the softness store.")
    edges = np.linspace(low, high, n_bins + 1)

    def bin_of(v):  # monotone in v: a value's rank follows its bin
        return np.clip(np.searchsorted(edges, v, side="right") - 1, 0, n_bins - 1)

    hist = np.zeros(n_bins, dtype=np.int64)
    for v in finite():
        hist += np.bincount(bin_of(v), minlength=n_bins)
    before = np.concatenate([[0], np.cumsum(hist)])  # values in bins below each bin
    virtual = (count - 1) * np.asarray(qs, dtype=np.float64)  # numpy's "linear" method
    prev = np.floor(virtual).astype(np.int64)
    ranks = np.unique(np.concatenate([prev, np.minimum(prev + 1, count - 1)]))
    wanted = np.unique(np.searchsorted(before, ranks, side="right") - 1)
    kept = np.sort(np.concatenate([v[np.isin(bin_of(v), wanted)] for v in finite()]))
    offset = {int(j): int(sum(hist[w] for w in wanted if w < j)) for j in wanted}  # kept values below bin j

    def order(rank):
        j = int(np.searchsorted(before, rank, side="right") - 1)
        return kept[offset[j] + rank - before[j]]

    out = []
    for vi, lo in zip(virtual, prev):
        a, b = order(int(lo)), order(int(min(lo + 1, count - 1)))
        out.append(float(_lerp(a, b, vi - lo)))
    return out


def _lerp(a, b, t):
    """numpy's quantile interpolation (``numpy.lib._function_base_impl._lerp``), for identical results."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def fit_softness_arrhenius(p_r_by_temperature: dict, boltzmann: float = BOLTZMANN_EV) -> xr.Dataset:
    """Fit ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T) across temperatures, bin by bin.

    Parameters
    ----------
    p_r_by_temperature : {T: Dataset from rearrangement_probability}
        All on the same S bins (use a common ``s_range`` and ``bins``).
    boltzmann : float
        k_B in the energy unit wanted for DeltaE: eV/K (default) or 1.0 for reduced (LJ) units.

    Returns Sigma(S), DeltaE(S) and their standard errors (weighted least squares with weights from the
    P_R intervals), NaN where fewer than two temperatures have data.
    """
    temps = np.array(sorted(p_r_by_temperature), dtype=np.float64)
    if len(temps) < 2:
        raise ParameterError("the Arrhenius fit of P_R(S) needs at least two temperatures.",
                             fix="compute P_R(S) at two or more temperatures.")
    sets = [p_r_by_temperature[t] for t in temps]
    S = sets[0]["S"].values
    for ds in sets[1:]:
        if ds.sizes["S"] != S.size or not np.allclose(ds["S"].values, S):
            raise ParameterError("P_R(S) at different temperatures use different softness bins.",
                                 fix="call rearrangement_probability with the same bins and s_range everywhere.")
    P = np.stack([ds["P_R"].values for ds in sets])  # (T, S)
    lo = np.stack([ds["P_R_low"].values for ds in sets])
    hi = np.stack([ds["P_R_high"].values for ds in sets])
    x = -1.0 / (boltzmann * temps)
    sigma_out, de_out, sigma_err, de_err = (np.full(S.size, np.nan) for _ in range(4))
    for b in range(S.size):
        ok = np.isfinite(P[:, b]) & (P[:, b] > 0)
        if ok.sum() < 2:
            continue
        y = np.log(P[ok, b])
        err = np.maximum(0.5 * (np.log(np.maximum(hi[ok, b], 1e-300)) - np.log(np.maximum(lo[ok, b], 1e-300))),
                         1e-6)
        A = np.stack([np.ones(ok.sum()), x[ok]], axis=1)
        W = 1.0 / err**2
        cov = np.linalg.pinv(A.T @ (A * W[:, None]))
        coef = cov @ (A.T @ (W * y))
        sigma_out[b], de_out[b] = coef
        sigma_err[b], de_err[b] = np.sqrt(np.diag(cov))
    out = xr.Dataset({"Sigma": ("S", sigma_out), "DeltaE": ("S", de_out), "Sigma_err": ("S", sigma_err),
                      "DeltaE_err": ("S", de_err)}, coords={"S": S})
    out["DeltaE"].attrs["units"] = "eV" if boltzmann == BOLTZMANN_EV else "energy units of k_B T"
    return stamp(out, parameters={"temperatures": temps.tolist(), "boltzmann": boltzmann},
                 analysis="fit_softness_arrhenius")


def p_r_trend(p_r: xr.Dataset) -> dict:
    """How P_R(S) rises: the decades it spans (largest / smallest non-zero P_R), whether it rises strictly bin to bin,
    whether it rises within its 68 % intervals (no bin's upper bound below the previous bin's lower bound), and the
    Spearman rank correlation of P_R with S, over the bins where P_R is defined."""
    from scipy.stats import spearmanr

    ok = np.isfinite(p_r["P_R"].values)
    p, lo, hi = (p_r[k].values[ok] for k in ("P_R", "P_R_low", "P_R_high"))
    pos = p[p > 0]
    return {"decades": float(np.log10(pos.max() / pos.min())) if pos.size >= 2 else float("nan"),
            "monotone": bool(np.all(np.diff(p) > 0)), "monotone_within_errors": bool(np.all(hi[1:] >= lo[:-1])),
            "spearman": float(spearmanr(p_r["S"].values[ok], p).statistic)}
