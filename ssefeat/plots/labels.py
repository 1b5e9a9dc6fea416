"""Figures of rearrangement labels: D2min distributions, p_hop traces with hop events, bond-switching fractions."""
from __future__ import annotations

import numpy as np

from .style import colour, new_figure

__all__ = ["d2min_distribution", "phop_traces", "switching_fractions"]


def d2min_distribution(result, variable: str = "d2min", bins: int = 60, ax=None):
    """Histogram of log10 D2min (or ``d_cum``) per species, valid values only; returns the figure."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    values = result[variable]
    valid = result["valid"].values if "valid" in result else np.isfinite(values.values)
    species = np.broadcast_to(result["species"].values, values.shape)
    data = values.values
    finite = valid & np.isfinite(data) & (data > 0)
    if finite.any():
        edges = np.histogram_bin_edges(np.log10(data[finite]), bins=bins)
        for k, s in enumerate(sorted(set(species[finite].tolist()))):
            sel = finite & (species == s)
            ax.hist(np.log10(data[sel]), bins=edges, histtype="step", density=True, color=colour(s, k), label=s)
        ax.legend()
    units = values.attrs.get("units", "angstrom^2").replace("angstrom", "Å")
    ax.set(xlabel=f"log10 {variable} ({units}, {values.attrs.get('normalize', 'sum')} over neighbours)",
           ylabel="probability density")
    return fig


def phop_traces(result, atoms=None, events=None, threshold: float | None = None, ax=None):
    """p_hop against time for a few atoms (default: the 4 with the largest peak), hop events marked."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    p = result["phop"]
    if atoms is None:
        peak = np.nan_to_num(p.values, nan=-np.inf).max(axis=0)
        atoms = result["atom"].values[np.argsort(peak)[::-1][:4]]
    t = result["time"].values
    for k, a in enumerate(np.atleast_1d(atoms)):
        ax.plot(t, p.sel(atom=a).values, color=colour("", k), label=f"atom {int(a)}")
        if events is not None and events.sizes.get("event", 0):
            sel = events["event_atom"].values == a
            ax.plot(events["event_time"].values[sel], events["score"].values[sel], "v", color=colour("", k))
    if threshold is not None:
        ax.axhline(threshold, color="0.5", lw=0.8, ls="--")
    ax.set(xlabel="time (ps)", ylabel="p_hop (Å²)")
    ax.legend()
    return fig


def switching_fractions(result, ax=None):
    """Fraction of centre atoms in each bond-switching category against time (stacked)."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    counts = result["counts"].values.astype(float)
    frac = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.stackplot(result["time"].values, frac.T, labels=list(result["category"].values),
                 colors=[colour("", k) for k in range(frac.shape[1])])
    ax.set(xlabel="time (ps)", ylabel="fraction of centres", ylim=(0, 1))
    ax.legend(loc="lower left")
    return fig
