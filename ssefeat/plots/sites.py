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


def occupancy(occ: xr.Dataset, cell=None):
    """Ions per site type over time (left), the time-averaged occupancy of every site (middle), and the occupancy map
    (right): the sites projected on the a-b plane of ``cell`` (3 x 3 rows, Å; fractional axes without it), the colour
    the mean number of ions on the sites of each column along c."""
    fig, (a0, a1, a2) = new_figure(1, 3, figsize=(14.0, 3.8))
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
    # sites stacked along c share a point of the a-b plane: the map shows the ions per such column
    frac = np.asarray(occ["site_fractional"].values, dtype=float) % 1.0
    columns, inverse = np.unique(np.round(frac[:, :2], 3) % 1.0, axis=0, return_inverse=True)
    ions = np.bincount(inverse.ravel(), weights=occ["occupancy_mean"].values, minlength=len(columns))
    xy = columns @ np.asarray(cell, float)[:2, :2] if cell is not None else columns
    art = a2.scatter(xy[:, 0], xy[:, 1], c=ions, vmin=0.0, cmap="viridis", s=30, edgecolors="0.3", linewidths=0.3)
    fig.colorbar(art, ax=a2, label="mean ions per column along c")
    a2.set(xlabel="x (Å)" if cell is not None else "a (fractional)",
           ylabel="y (Å)" if cell is not None else "b (fractional)", aspect="equal",
           title="occupancy map")
    return fig


def correlation_vs_temperature(temperature_K, f, f_err, apparent=None):
    """Correlation factor f = D_tracer / D_J against temperature (K) with its error bars; f = 1 (uncorrelated hops)
    and 0.653 (single vacancy, simple cubic) marked for reference. Runs flagged ``apparent`` (no diffusive MSD
    range: an apparent D, so not a correlation factor) are drawn open and labelled so."""
    fig, ax = new_figure()
    T, f, e = np.asarray(temperature_K, float), np.asarray(f, float), np.asarray(f_err, float)
    app = np.zeros(T.size, bool) if apparent is None else np.asarray(apparent, bool)
    if (~app).any():
        ax.errorbar(T[~app], f[~app], yerr=e[~app], fmt="o", color=colour("Li"), capsize=3, label="f (diffusive D)")
    if app.any():
        ax.errorbar(T[app], f[app], yerr=e[app], fmt="o", mfc="none", color="0.4", capsize=3,
                    label="apparent D / D_J: not a correlation factor")
    ax.axhline(1.0, color="0.6", lw=0.8, ls=":", label="uncorrelated (1)")
    ax.axhline(0.653, color="0.6", lw=0.8, ls="--", label="vacancy, simple cubic (0.653)")
    ax.set(xlabel="temperature (K)", ylabel="correlation factor f")
    ax.legend()
    return fig


def jump_arrhenius(arr: xr.Dataset):
    """ln escape rate (1/ps, Poisson error bars) against 1000 / T per jump type from
    :func:`ssefeat.sites.jump_arrhenius`, with each fitted line and E_a ± error (eV) in the legend."""
    from ..units import BOLTZMANN_EV

    fig, ax = new_figure()
    T = arr["temperature"].values
    x = 1000.0 / T
    k = 0
    for a in arr["from_type"].values:
        for b in arr["to_type"].values:
            r = arr["escape_rate"].sel(from_type=a, to_type=b).values
            re = arr["escape_rate_err"].sel(from_type=a, to_type=b).values
            ok = np.isfinite(r) & (r > 0)
            if not ok.any():
                continue
            c = colour(f"{a}-{b}", k)
            ea = float(arr["activation_energy"].sel(from_type=a, to_type=b))
            label = f"{a} → {b}"
            if np.isfinite(ea):
                err = float(arr["activation_energy_err"].sel(from_type=a, to_type=b))
                label += f": E_a = {ea:.3g} ± {err:.2g} eV"
                pre = float(arr["prefactor"].sel(from_type=a, to_type=b))
                xs = np.linspace(x[ok].min(), x[ok].max(), 20)
                ax.plot(xs, np.log(pre) - ea / (BOLTZMANN_EV * 1000.0 / xs), color=c, lw=0.8)
            ax.errorbar(x[ok], np.log(r[ok]), yerr=re[ok] / r[ok], fmt="o", color=c, capsize=3, label=label)
            k += 1
    ax.set(xlabel="1000 / T (1/K)", ylabel="ln escape rate (1/ps)")
    if k:
        ax.legend(fontsize=7)
    return fig
