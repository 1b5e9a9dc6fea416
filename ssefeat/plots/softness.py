"""Figures of softness results: distributions, P_R(S), hyperplane weights, correlation bars."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .style import colour, new_figure


def softness_histogram(softness: xr.DataArray, by: xr.DataArray | None = None, bins: int = 50, ax=None):
    """Normalised distribution of softness, split by a per-atom category (species or nearest anion) if given."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    S = np.asarray(softness.values, dtype=float).ravel()
    if by is None:
        groups = {"all": np.isfinite(S)}
    else:
        cat = np.broadcast_to(np.asarray(by.values).astype(str), softness.shape).ravel() if by.dims == softness.dims \
            else np.broadcast_to(np.asarray(by.values).astype(str)[None, :], softness.shape).ravel()
        groups = {c: (cat == c) & np.isfinite(S) for c in sorted(set(cat.tolist())) if c not in ("", "nan")}
    edges = np.histogram_bin_edges(S[np.isfinite(S)], bins=bins)
    for k, (name, mask) in enumerate(groups.items()):
        if mask.sum():
            ax.hist(S[mask], bins=edges, density=True, histtype="step", color=colour(name, k),
                    label=f"{name} (n={int(mask.sum())})")
    ax.axvline(0, color="k", lw=0.8, ls=":")
    ax.set(xlabel="softness S (standardised units)", ylabel="probability density")
    ax.legend()
    return fig


def rearrangement_probability(p_r, ax=None):
    """P_R(S) on a log axis with its binomial interval; ``p_r`` a Dataset or {label: Dataset} (e.g. per T)."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    sets = p_r if isinstance(p_r, dict) else {"": p_r}
    for k, (label, ds) in enumerate(sets.items()):
        S, P = ds["S"].values, ds["P_R"].values
        err = np.stack([P - ds["P_R_low"].values, ds["P_R_high"].values - P])
        ax.errorbar(S, P, yerr=err, marker="o", ms=3, capsize=2, color=colour(str(label), k),
                    label=str(label) if label != "" else None)
    ax.set(yscale="log", xlabel="softness S", ylabel=r"$P_R(S)$")
    if len(sets) > 1:
        ax.legend()
    return fig


def weights(weight: xr.DataArray, top: int = 25, ax=None):
    """Horizontal bars of the largest hyperplane weights by feature."""
    order = np.argsort(-np.abs(weight.values))[:top][::-1]
    fig, ax = new_figure(figsize=(5, 0.18 * len(order) + 1)) if ax is None else (ax.figure, ax)
    vals = weight.values[order]
    ax.barh(np.arange(len(order)), vals, color=np.where(vals > 0, "#d95f02", "#1b9e77"))
    ax.set_yticks(np.arange(len(order)), [str(v) for v in weight["feature"].values[order]], fontsize=6)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("weight (standardised, |w| = 1)")
    return fig


def correlation_bars(links: xr.Dataset, ax=None):
    """Pearson r per descriptor with its bootstrap confidence interval."""
    n = links.sizes["descriptor"]
    fig, ax = new_figure(figsize=(5, 0.3 * n + 1)) if ax is None else (ax.figure, ax)
    r = links["r"].values
    err = np.stack([r - links["ci_low"].values, links["ci_high"].values - r])
    names = [str(d) for d in links["descriptor"].values]
    ax.barh(np.arange(n), r, xerr=err, capsize=2,
            color=[colour(name.replace("fraction_", "").replace("frac_", ""), k) for k, name in enumerate(names)])
    ax.set_yticks(np.arange(n), names, fontsize=7)
    ax.axvline(0, color="k", lw=0.8)
    ax.set(xlim=(-1, 1), xlabel="Pearson r with softness")
    return fig
