"""Figures of transport results: MSD (log-log, with the fit window and line), Arrhenius plot with the 300 K
extrapolation, non-Gaussian parameter, self van Hove function."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..units import BOLTZMANN_EV
from .style import colour, new_figure


def msd(result: xr.Dataset | xr.DataArray, ax=None, axes: bool = False):
    """MSD against lag on log-log axes per species; with a diffusion result, the fit window (shaded) and the fitted
    line MSD = a + 6 D t. ``axes=True`` also draws the x, y, z components. A collective MSD is drawn dashed."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    da = result["msd"] if isinstance(result, xr.Dataset) else result
    t = da["lag"].values
    pos = t > 0
    for k, sp in enumerate(da["species"].values):
        c = colour(str(sp), k)
        m = da.sel(species=sp)
        tot = m.sel(axis="total").values if "axis" in m.dims else m.values
        ax.loglog(t[pos], tot[pos], color=c, label=f"{sp}")
        if axes and "axis" in m.dims:
            for j, a in enumerate(("x", "y", "z")):
                ax.loglog(t[pos], m.sel(axis=a).values[pos], color=c, lw=0.7, alpha=0.6,
                          ls=("-", "--", ":")[j], label=f"{sp} {a}")
        if isinstance(result, xr.Dataset) and "D" in result:
            t0, t1 = float(result["window_start"].sel(species=sp)), float(result["window_stop"].sel(species=sp))
            ax.axvspan(max(t0, t[pos][0]), t1, color=c, alpha=0.08)
            tt = np.geomspace(max(t0, t[pos][0]), t1, 30)
            D, err = float(result["D"].sel(species=sp)), float(result["D_err"].sel(species=sp))
            ax.loglog(tt, float(result["intercept"].sel(species=sp)) + 6 * D * tt, color="k", lw=0.9, ls="--",
                      label=f"fit: D = {D:.3g} ± {err:.2g} Å²/ps")
        if isinstance(result, xr.Dataset) and "msd_collective" in result:
            mc = result["msd_collective"].sel(species=sp, axis="total").values
            ok = pos & (mc > 0)
            ax.loglog(t[ok], mc[ok], color=c, ls=":", lw=1.0, label=f"{sp} collective / N")
    ax.set(xlabel="lag time (ps)", ylabel=r"MSD (Å$^2$)")
    ax.legend()
    return fig


def arrhenius(fit: xr.Dataset, ax=None):
    """ln(y) against 1000/T with error bars, the fitted line with its 1-sigma band, and the extrapolation point
    (e.g. 300 K), from :func:`ssefeat.dynamics.arrhenius.arrhenius_fit`."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    T = fit["temperature"].values
    y = fit["value"].values
    e = fit["value_err"].values
    t_star = float(fit.attrs.get("extrapolate_to_K", 300.0))
    units = fit["value"].attrs.get("units", "")
    label = fit.attrs.get("quantity", "D")
    ax.errorbar(1000 / T, y, yerr=np.where(np.isfinite(e), e, 0), fmt="o", ms=4, capsize=2, color=colour("Li", 0),
                label="data")
    inv = np.linspace(1000 / T.max() * 0.97, 1000 / t_star * 1.01, 100)
    cov = fit["covariance"].values
    beta = np.array([float(fit["ln_prefactor"]), -float(fit["activation_energy"]) / BOLTZMANN_EV])
    g = np.stack([np.ones_like(inv), inv / 1000], axis=1)
    ln = g @ beta
    s = np.sqrt(np.einsum("ki,ij,kj->k", g, cov, g)) if np.all(np.isfinite(cov)) else np.zeros_like(ln)
    back = inv / 1000 if label != "D" else np.ones_like(inv)  # sigma = (sigma T) / T
    ax.plot(inv, np.exp(ln) * back, color="k", lw=1.0,
            label=f"E_a = {float(fit['activation_energy']):.3f} ± {float(fit['activation_energy_err']):.3f} eV")
    ax.fill_between(inv, np.exp(ln - s) * back, np.exp(ln + s) * back, color="k", alpha=0.1, lw=0)
    ax.errorbar([1000 / t_star], [float(fit["extrapolated"])],
                yerr=[[float(fit["extrapolated"] - fit["extrapolated_low"])],
                      [float(fit["extrapolated_high"] - fit["extrapolated"])]],
                fmt="s", ms=5, mfc="white", capsize=2, color=colour("glass", 0),
                label=f"{t_star:g} K: {float(fit['extrapolated']):.3g} {units}")
    ax.set(yscale="log", xlabel=r"1000 / T (K$^{-1}$)", ylabel=("D" if label == "D" else r"$\sigma$") + f" ({units})")
    ax.legend()
    return fig


def non_gaussian(ngp: xr.Dataset, ax=None):
    """alpha2(t) per species on a log time axis, with the peak marked."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    for k, sp in enumerate(ngp["species"].values):
        c = colour(str(sp), k)
        ax.semilogx(ngp["lag"].values, ngp["alpha2"].sel(species=sp).values, color=c, label=str(sp))
        ax.axvline(float(ngp["peak_time"].sel(species=sp)), color=c, lw=0.8, ls=":")
    ax.axhline(0, color="k", lw=0.6)
    ax.set(xlabel="lag time (ps)", ylabel=r"$\alpha_2(t)$")
    ax.legend()
    return fig


def van_hove(vh: xr.Dataset, ax=None):
    """Radial probability 4 pi r^2 G_s(r, t) at each lag."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    for k, lag in enumerate(vh["lag"].values):
        ax.plot(vh["r"].values, vh["P_r"].isel(lag=k).values, color=colour("", k), label=f"t = {lag:.3g} ps")
    ax.set(xlabel="displacement r (Å)", ylabel=r"$4\pi r^2 G_s(r, t)$ (Å$^{-1}$)")
    ax.set_title(f"self van Hove, {vh['species'].values}")
    ax.legend()
    return fig
