"""Statistics of a glass study: softness per glass, by anion type, its links per ion and per glass, trends.

Units of independence: per-glass softness means carry a standard error over the ions' time averages (the ion is the
unit); per-ion Pearson r resample whole ions (:func:`ssefeat.correlate.pearson` with ``groups``); the per-glass
link correlates one mean per glass with the glass's composition (n = number of glasses, Fisher-z interval: wide
for five glasses); the E_a trend is a weighted straight line over glasses.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..correlate import pearson

__all__ = ["softness_summary", "softness_by_anion", "ion_links", "pooled_ion_links", "glass_links",
           "weighted_trend", "ANION_TYPES"]

ANION_TYPES = ("PS4", "P2S7", "P2S6")


def _ion_means(S: xr.DataArray) -> np.ndarray:
    """Time average of each ion's finite S (ions without one are left out)."""
    v = S.transpose("frame", "atom").values
    ok = np.isfinite(v)
    n = ok.sum(axis=0)
    return np.where(ok, v, 0.0).sum(axis=0)[n > 0] / n[n > 0]


def softness_summary(S: xr.DataArray, edges: np.ndarray) -> dict:
    """Mean S with its standard error over ions (time averages), median, fraction S > 0, histogram (density on
    ``edges``), numbers of ions and samples (finite S only)."""
    v = S.values[np.isfinite(S.values)]
    ions = _ion_means(S)
    hist = np.histogram(v, bins=edges, density=True)[0] if v.size else np.full(len(edges) - 1, np.nan)
    return {"mean": float(v.mean()) if v.size else np.nan,
            "mean_se_ions": float(ions.std(ddof=1) / np.sqrt(ions.size)) if ions.size > 1 else np.nan,
            "median": float(np.median(v)) if v.size else np.nan, "fraction_soft": float((v > 0).mean()) if v.size
            else np.nan, "n_ions": int(ions.size), "n_samples": int(v.size), "histogram": hist}


def softness_by_anion(S: xr.DataArray, env: xr.Dataset, types=ANION_TYPES) -> dict:
    """For each anion type: S of the Li with at least one S atom of that type within the environment radius
    (``env["count"] > 0``): mean, SE over ions, n ions / samples, and the same for Li whose nearest anion is
    of that type."""
    out = {}
    s = S.transpose("frame", "atom").values
    for t in types:
        if t not in env["cluster_type"].values:
            continue
        near = env["count"].sel(cluster_type=t).transpose("frame", "atom").values > 0
        nearest = env["nearest_cluster_type"].transpose("frame", "atom").values.astype(str) == t
        row = {}
        for name, mask in (("within", near), ("nearest", nearest)):
            sub = xr.DataArray(np.where(mask, s, np.nan), dims=("frame", "atom"))
            summ = softness_summary(sub, np.array([-np.inf, np.inf]))
            row[name] = {k: summ[k] for k in ("mean", "mean_se_ions", "median", "fraction_soft", "n_ions",
                                             "n_samples")}
        out[t] = row
    return out


def ion_links(S: xr.DataArray, env: xr.Dataset, extra: dict | None = None, n_boot: int = 300,
              types=ANION_TYPES) -> dict:
    """Pearson r of S with each anion-type fraction (and each ``extra`` (frame, atom) variable, e.g. potential
    energy, Voronoi volume) over the (frame, atom) samples of one glass, CI and p from resampling whole ions."""
    frac = {t: env["fraction"].sel(cluster_type=t, drop=True) for t in types if t in env["cluster_type"].values}
    has = env["n_anions"] > 0
    out = {}
    for name, da in {**{f"fraction_{t}": v.where(has) for t, v in frac.items()}, **(extra or {})}.items():
        x, y = xr.align(da, S, join="inner")
        xv, yv = x.transpose("frame", "atom").values.ravel(), y.transpose("frame", "atom").values.ravel()
        atoms = np.tile(y["atom"].values, y.sizes["frame"])
        ok = np.isfinite(xv) & np.isfinite(yv)
        out[name] = pearson(xv[ok], yv[ok], n_boot=n_boot, groups=atoms[ok])
    return out


def pooled_ion_links(pairs: dict, n_boot: int = 300, types=ANION_TYPES) -> dict:
    """Per-ion links over all glasses together: ``pairs`` {glass: (S, env)}; ions are (glass, atom)."""
    out = {}
    for t in types:
        xs, ys, gs = [], [], []
        for g, (S, env) in pairs.items():
            if t not in env["cluster_type"].values:
                continue
            f = env["fraction"].sel(cluster_type=t, drop=True).where(env["n_anions"] > 0)
            x, y = xr.align(f, S, join="inner")
            xv, yv = x.transpose("frame", "atom").values.ravel(), y.transpose("frame", "atom").values.ravel()
            ok = np.isfinite(xv) & np.isfinite(yv)
            xs.append(xv[ok])
            ys.append(yv[ok])
            gs.append(np.char.add(f"{g}:", np.tile(y["atom"].values, y.sizes["frame"]).astype(str))[ok])
        if xs:
            out[f"fraction_{t}"] = pearson(np.concatenate(xs), np.concatenate(ys), n_boot=n_boot,
                                           groups=np.concatenate(gs))
    return out


def glass_links(mean_s: dict, s_fractions: dict, confidence: float = 0.95, types=ANION_TYPES) -> dict:
    """Pearson r across glasses between mean S and the fraction of S atoms in each anion type (from the
    composition). The glass is the unit: n = number of glasses, t-test p, and Fisher-z interval (a bootstrap over
    five points is meaningless); NaN interval with fewer than 4 glasses."""
    from scipy import stats

    glasses = [g for g in mean_s if np.isfinite(mean_s[g])]
    y = np.array([mean_s[g] for g in glasses])
    out = {}
    for t in types:
        x = np.array([s_fractions[g][t] for g in glasses])
        row = {"r": np.nan, "p_value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": int(x.size),
               "n_groups": int(x.size)}
        if x.size >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            res = stats.pearsonr(x, y)
            row.update(r=float(res.statistic), p_value=float(res.pvalue))
            if x.size >= 4:
                ci = res.confidence_interval(confidence)
                row.update(ci_low=float(ci.low), ci_high=float(ci.high))
        out[f"fraction_{t}"] = row
    return out


def weighted_trend(x, y, yerr=None) -> dict:
    """Straight line y = a + b x weighted by 1 / yerr^2: slope ``b`` with its error (covariance scaled by the
    reduced chi^2 when above 1), intercept, reduced chi^2, n. Fewer than 3 points: no error."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = np.ones_like(y) if yerr is None else 1.0 / np.asarray(yerr, float) ** 2
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    x, y, w = x[ok], y[ok], w[ok]
    n = int(x.size)
    if n < 2 or np.ptp(x) == 0:
        return {"slope": np.nan, "slope_err": np.nan, "intercept": np.nan, "reduced_chi2": np.nan, "n": n}
    A = np.stack([np.ones(n), x], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - a - b * x) ** 2) / (n - 2)) if n > 2 else np.nan
    scale = max(1.0, chi2) if yerr is not None and n > 2 else (chi2 if n > 2 else np.nan)
    return {"slope": float(b), "slope_err": float(np.sqrt(cov[1, 1] * scale)) if n > 2 else np.nan,
            "intercept": float(a), "reduced_chi2": chi2, "n": n}
