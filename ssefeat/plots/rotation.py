"""Figures of anion reorientation: angular autocorrelation (P1 and P2 forms)."""
from __future__ import annotations

import numpy as np
import xarray as xr

from .style import colour, new_figure


def autocorrelation(acf: xr.Dataset, ax=None, label: str = "", index: int = 0):
    """xi(t) (solid) and <P2> (dashed) against lag in ps, with 1/e and the 1/e decorrelation time of xi marked."""
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    c = colour(label, index)
    t = acf["lag"].values
    ax.plot(t, acf["xi"].values, color=c, label=f"{label} $P_1$: ξ(t)".strip())
    ax.plot(t, acf["p2"].values, color=c, ls="--", label=f"{label} $P_2$".strip())
    ax.axhline(1 / np.e, color="0.6", lw=0.8, ls=":")
    tau = float(acf["tau_1e_p1"]) if "tau_1e_p1" in acf else np.nan
    if np.isfinite(tau):
        ax.axvline(tau, color=c, lw=0.8, ls=":")
    ax.set(xlabel="lag time (ps)", ylabel="orientation autocorrelation")
    ax.set_ylim(min(-0.1, float(np.nanmin(acf["p2"].values)) - 0.05), 1.05)
    ax.legend()
    return fig, ax

