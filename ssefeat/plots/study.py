"""Figures of the glass study (:mod:`ssefeat.study`) that plot per-ion samples: S against potential energy and
Voronoi volume (the thesis' Fig. 5-9), NEB barriers of soft and hard Li per glass (Fig. 5-11)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .style import new_figure

__all__ = ["binned_mean_by_ion", "softness_against", "barrier_panels"]

#: label and units of the per-ion quantities S is plotted against
QUANTITIES = {"potential_energy": ("potential energy of Li", "eV"),
              "voronoi_volume": ("Voronoi volume of Li", "Å³")}


def binned_mean_by_ion(x: np.ndarray, s: np.ndarray, ion: np.ndarray, n_bins: int = 8) -> dict:
    """Mean S in ``n_bins`` bins of x holding equal numbers of samples, with its standard error over ions (the
    time average of each ion's samples in the bin is one value; bins with fewer than two ions get no error).
    Returns bin centres (mean x), mean S, SE, ions and samples per bin."""
    ok = np.isfinite(x) & np.isfinite(s)
    x, s, ion = x[ok], s[ok], ion[ok]
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1))) if x.size else np.array([])
    out = {k: [] for k in ("x", "mean", "se", "n_ions", "n_samples")}
    for k in range(len(edges) - 1):
        inside = (x >= edges[k]) & ((x < edges[k + 1]) if k < len(edges) - 2 else (x <= edges[k + 1]))
        if not inside.any():
            continue
        ids, inv = np.unique(ion[inside], return_inverse=True)
        per_ion = np.bincount(inv, weights=s[inside]) / np.bincount(inv)
        out["x"].append(float(x[inside].mean()))
        out["mean"].append(float(s[inside].mean()))
        out["se"].append(float(per_ion.std(ddof=1) / np.sqrt(ids.size)) if ids.size > 1 else np.nan)
        out["n_ions"].append(int(ids.size))
        out["n_samples"].append(int(inside.sum()))
    return {k: np.asarray(v) for k, v in out.items()}


def softness_against(S: xr.DataArray, quantities: dict, title: str, links: dict | None = None, n_bins: int = 8):
    """One panel per (frame, atom) quantity in ``quantities`` (e.g. potential_energy, voronoi_volume): every
    sample of S against it (grey) and the binned mean of S with its SE over ions; ``links``: the Pearson r rows
    ({name: {r, ci_low, ci_high, n_groups}}) shown in each panel's title."""
    names = [k for k in QUANTITIES if k in quantities] + [k for k in quantities if k not in QUANTITIES]
    fig, axes = new_figure(1, len(names), figsize=(4.4 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        x, s = xr.align(quantities[name], S, join="inner")
        xv, sv = x.transpose("frame", "atom").values.ravel(), s.transpose("frame", "atom").values.ravel()
        ion = np.tile(s["atom"].values, s.sizes["frame"])
        ax.scatter(xv, sv, s=3, color="0.7", alpha=0.5, lw=0, label=f"samples ({np.isfinite(xv * sv).sum()})")
        b = binned_mean_by_ion(xv, sv, ion, n_bins)
        ax.errorbar(b["x"], b["mean"], yerr=b["se"], fmt="o-", color="C3", ms=4,
                    label="binned mean S (± SE over ions)")
        ax.axhline(0.0, color="0.5", lw=0.8)
        what, unit = QUANTITIES.get(name, (name, x.attrs.get("units", "")))
        ax.set(xlabel=f"{what} ({unit})" if unit else what, ylabel="softness S")
        row = (links or {}).get(name)
        if row and np.isfinite(row.get("r", np.nan)):
            ax.set_title(f"r = {row['r']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}], "
                         f"{row.get('n_groups', np.unique(ion).size)} ions", fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def barrier_panels(bar: dict, groups: dict, default_glass: str = ""):
    """One panel per glass of ``groups`` (:func:`~ssefeat.study.glass_barriers.barrier_groups`; a pooled
    ``"all glasses"`` entry gets a panel too): the forward NEB barrier (eV) of each soft and hard Li band of ``bar``
    (filled: converged, in the test, triangles without a saddle inside the path; open: not converged, left out),
    the median of the converged ones (bar), n per group on the axis and the Mann-Whitney test, or "n too small",
    in the title."""
    from ..study.glass_barriers import difference_text

    names = list(groups)
    fig, axes = new_figure(1, len(names), figsize=(3.4 * len(names) + 0.6, 3.8), squeeze=False, sharey=True)
    for ax, g in zip(axes[0], names):
        c = groups[g]
        for x, kind, colour in ((0, "soft", "C3"), (1, "hard", "C0")):
            rows = [r for r in bar[kind] if g == "all glasses" or r.get("glass", default_glass) == g]
            v = np.array([r["barrier_forward"] for r in rows], float)
            conv = np.array([bool(r["converged"]) for r in rows], bool)
            inside = np.array([bool(r.get("saddle_inside", True)) for r in rows], bool)
            dx = np.linspace(-0.15, 0.15, v.size) if v.size > 1 else np.zeros(v.size)  # spread, no randomness
            for m, face, marker, label in ((conv & inside, colour, "o", "converged, saddle inside"),
                                           (conv & ~inside, colour, "^", "converged, no interior saddle"),
                                           (~conv, "none", "o", "not converged (not tested)")):
                ax.scatter(x + dx[m], v[m], s=22, facecolors=face, edgecolors=colour, marker=marker, lw=1.0,
                           label=label if x == 0 and g == names[0] else None)
            med = c[kind]["median"]
            if np.isfinite(med):
                ax.hlines(med, x - 0.25, x + 0.25, color="k", lw=1.6,
                          label="median of the converged" if x == 0 and g == names[0] else None)
        ax.set_xticks([0, 1], [f"{kind} (S {sign} 0)\nn = {c[kind]['n']}\nconverged"
                               for kind, sign in (("soft", ">"), ("hard", "<"))], fontsize=8)
        ax.set_xlim(-0.6, 1.6)
        ax.set_title(f"{g}\n" + difference_text(c).replace(" (", "\n("), fontsize=8)
    axes[0][0].set_ylabel("forward NEB barrier (eV)")
    fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=7)
    return fig
