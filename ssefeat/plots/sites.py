"""Figures of site-resolved hopping: the jump-rate matrix between site types, residence times, occupancy."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .style import colour, new_figure


def rate_matrix(rates: xr.Dataset, quantity: str = "escape_rate"):
    """Heat map of a rate (1/ps) per (from type, to type) from :func:`ssefeat.sites.jump_rates`, each cell
    annotated with the rate, its Poisson error and the number of jumps."""
    values = rates[quantity].values
    err = rates[f"{quantity}_err"].values
    n = rates["n_jumps"].values
    types_from, types_to = [str(t) for t in rates["from_type"].values], [str(t) for t in rates["to_type"].values]
    fig, ax = new_figure(figsize=(1.4 + 1.1 * len(types_to), 1.0 + 0.9 * len(types_from)))
    shown = np.where(n > 0, values, np.nan)
    im = ax.imshow(shown, cmap="viridis")
    for i in range(len(types_from)):
        for j in range(len(types_to)):
            if n[i, j] > 0:
                ax.text(j, i, f"{values[i, j]:.3g}\n±{err[i, j]:.2g}\nn={int(n[i, j])}", ha="center", va="center",
                        fontsize=7, color="w")
    ax.set_xticks(range(len(types_to)), types_to)
    ax.set_yticks(range(len(types_from)), types_from)
    ax.set(xlabel="to site type", ylabel="from site type")
    label = "jumps per ps on from-type sites" if quantity == "escape_rate" else "jumps per ion and ps"
    fig.colorbar(im, ax=ax, label=f"{label} (1/ps)")
    ax.set_title(f"{rates.attrs.get('n_ions', '?')} ions, {rates.attrs.get('duration_ps', float('nan')):.4g} ps")
    return fig


def residence_times(res: xr.Dataset, bins: int = 30):
    """Distribution of residence times (ps) per site type, log-spaced bins, mean ± s.e. in the legend."""
    fig, ax = new_figure()
    t = res["residence_time"].values
    if t.size:
        edges = np.geomspace(max(t.min(), 1e-6), t.max() * 1.0001, bins + 1)
        for k, st in enumerate(res["site_type"].values):
            sel = t[res["visit_label"].values == st]
            if sel.size:
                m = res["mean_residence_time"].sel(site_type=st)
                e = res["mean_residence_time_err"].sel(site_type=st)
                ax.hist(sel, bins=edges, histtype="step", color=colour(str(st), k),
                        label=f"{st}: {float(m):.3g} ± {float(e):.2g} ps (n={sel.size})")
        ax.set_xscale("log")
        ax.legend()
    ax.set(xlabel="residence time (ps)", ylabel="visits")
    return fig


def occupancy(occ: xr.Dataset):
    """Ions per site type over time (left) and the time-averaged occupancy of every site (right)."""
    fig, (a0, a1) = new_figure(1, 2, figsize=(9.0, 3.4))
    t = occ["time"].values
    for k, st in enumerate(occ["site_type"].values):
        a0.plot(t, occ["type_occupancy"].sel(site_type=st).values, color=colour(str(st), k), lw=0.8,
                label=f"{st} ({int(occ['sites_per_type'].sel(site_type=st))} sites)")
    a0.plot(t, occ["fraction_outside"].values * occ.sizes["atom"], color="0.5", lw=0.8, label="outside every site")
    a0.set(xlabel="time (ps)", ylabel="ions")
    a0.legend()
    labels = occ["site_label"].values.astype(str)
    for k, st in enumerate(occ["site_type"].values):
        idx = np.flatnonzero(labels == str(st))
        a1.bar(idx, occ["occupancy_mean"].values[idx], width=1.0, color=colour(str(st), k), label=str(st))
    a1.set(xlabel="site", ylabel="mean occupancy (ions)")
    return fig


def correlation_vs_temperature(temperature_K, f, f_err):
    """Correlation factor f = D_tracer / D_J against temperature (K) with its error bars; f = 1 (uncorrelated hops)
    and 0.653 (single vacancy, simple cubic) marked for reference."""
    fig, ax = new_figure()
    ax.errorbar(np.asarray(temperature_K), np.asarray(f), yerr=np.asarray(f_err), fmt="o", color=colour("Li"),
                capsize=3)
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":", label="uncorrelated (1)")
    ax.axhline(0.653, color="0.6", lw=0.8, ls="--", label="vacancy, simple cubic (0.653)")
    ax.set(xlabel="temperature (K)", ylabel="correlation factor f")
    ax.legend()
    return fig
