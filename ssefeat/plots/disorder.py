"""Figures of the disorder profile: F(z) over the concentration and density profiles, regions shaded
(thesis fig. 5-13)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .style import colour, new_figure

REGION_NAMES = ("crystal", "interface", "glass")


def _shade(ax, profile: xr.Dataset, regions: xr.Dataset | None):
    if regions is None or "region" not in regions:
        return
    lo = np.asarray(profile["z_lo"].values)
    hi = np.asarray(profile["z_hi"].values)
    for code, a, b in zip(np.asarray(regions["region"].values), lo, hi):
        if 0 <= code < len(REGION_NAMES):
            ax.axvspan(a, b, color=colour(REGION_NAMES[code]), alpha=0.18, lw=0)
    if "interface_position" in regions:
        for z in np.asarray(regions["interface_position"].values):
            if np.isfinite(z):
                ax.axvline(z, color="0.3", ls="--", lw=0.8)


def disorder_figure(profile: xr.Dataset, regions: xr.Dataset | None = None, title: str | None = None):
    """Two panels sharing the slab axis: F(z) (mean over frames, +- std band, fitted step, the F cut-offs of the
    region rule dotted) on top; atom fraction per species and number density (right axis) below; regions shaded
    (crystal, interface, glass), interface positions dashed. Returns the figure."""
    fig, (top, bottom) = new_figure(2, 1, sharex=True, figsize=(5.6, 5.0),
                                    gridspec_kw={"height_ratios": [1, 1.2], "hspace": 0.08})
    z = np.asarray(profile["z"].values)
    f = np.asarray(profile["F_mean"].values)
    sd = np.asarray(profile["F_std"].values) if "F_std" in profile else np.zeros_like(f)
    top.plot(z, f, "o-", ms=3, color="k", label="F (mean over frames)")
    if profile.sizes.get("frame", 1) > 1:
        top.fill_between(z, f - sd, f + sd, color="0.6", alpha=0.4, lw=0, label="± std over frames")
    if regions is not None and "F_fit" in regions and np.isfinite(regions["F_fit"].values).any():
        zz = np.linspace(0, float(profile.attrs.get("box_width", z[-1] + z[0])), 400)
        from ..regions import step_model

        L = float(profile.attrs.get("box_width", z[-1] + z[0]))
        up, down = (float(v) for v in regions["interface_position"].values)
        w1, w2 = (float(v) for v in regions["interface_width"].values)
        top.plot(zz, step_model(zz, regions.attrs["F_crystal"], regions.attrs["F_glass"], up, (down - up) % L, w1, w2,
                                L), color="0.35", lw=1.0, ls="-", label="double-tanh fit")
    if regions is not None:
        # the F cut-offs actually used (relative to the sample's levels with the adaptive rule)
        lo = regions.attrs.get("F_threshold_crystal", regions.attrs.get("crystal_below"))
        hi = regions.attrs.get("F_threshold_glass", regions.attrs.get("glass_above"))
        if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
            if lo == hi:
                top.axhline(lo, color="0.5", lw=0.6, ls=":", label=f"one phase: split at F = {lo:.2f}")
            else:
                top.axhline(lo, color=colour("crystal"), lw=0.8, ls=":", label=f"crystal below F = {lo:.2f}")
                top.axhline(hi, color=colour("glass"), lw=0.8, ls=":", label=f"glass above F = {hi:.2f}")
        if regions.attrs.get("interface_significant") == 0 and "interface_p_value" in regions.attrs:
            top.text(0.02, 0.04, f"no significant interface (p = {regions.attrs['interface_p_value']:.2g})",
                     transform=top.transAxes, fontsize=7, color="0.3")
    top.set(ylabel="F(z)", ylim=(0, None))
    _shade(top, profile, regions)
    top.legend(loc="best")
    if title:
        top.set_title(title)

    conc = profile["concentration"]
    for k, sp in enumerate(conc["species"].values):
        bottom.plot(z, conc.sel(species=sp).values, "-", color=colour(str(sp), k), label=str(sp))
    bottom.set(ylabel="atom fraction", ylim=(0, 1.05), xlabel=f"position along {profile.attrs.get('axis', 'z')} (Å)")
    twin = bottom.twinx()
    density, ylabel = (("mass_density", "density (g/cm³)") if "mass_density" in profile
                       else ("total_density", "number density (1/Å³)"))
    twin.plot(z, profile[density].values, color="k", ls="--", lw=1.2, label="density")
    twin.set(ylabel=ylabel, ylim=(0, None))
    _shade(bottom, profile, regions)
    handles, labels = (a + b for a, b in zip(bottom.get_legend_handles_labels(), twin.get_legend_handles_labels()))
    if regions is not None and "region" in regions:
        from matplotlib.patches import Patch

        for name in REGION_NAMES:
            handles.append(Patch(color=colour(name), alpha=0.3))
            labels.append(name)
    bottom.legend(handles, labels, loc="upper right", ncol=2, fontsize=7)
    bottom.set_xlim(0, float(profile.attrs.get("box_width", z[-1] + z[0])))
    return fig


def region_msd_figure(dynamics: xr.Dataset):
    """MSD per region (log-log), with D in the legend when fitted."""
    fig, ax = new_figure()
    lag = np.asarray(dynamics["lag"].values)
    for name in dynamics["region"].values:
        y = np.asarray(dynamics["msd"].sel(region=name).values)
        ok = (lag > 0) & np.isfinite(y) & (y > 0)
        if not ok.any():
            continue
        label = str(name)
        if "D_cm2_s" in dynamics and np.isfinite(float(dynamics["D_cm2_s"].sel(region=name))):
            label += f"  D = {float(dynamics['D_cm2_s'].sel(region=name)):.2e} cm²/s"
        ax.loglog(lag[ok], y[ok], color=colour(str(name)), label=label)
    ax.set(xlabel="lag (ps)", ylabel="MSD (Å²)")
    ax.legend()
    return fig
