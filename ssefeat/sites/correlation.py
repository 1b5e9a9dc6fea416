"""Jump diffusivity D_J and the correlation factor f = D_tracer / D_J.

D_J = sum over jumps of |jump vector|^2 / (2 d N t) (d = 3 dimensions, N mobile ions, t the run length): the tracer
diffusion coefficient the jumps would give if successive jumps were uncorrelated. Its error treats ions as the unit
of independence: D_J is the mean over ions of D_J,i = sum of the ion's |jump vector|^2 / (2 d t), error the standard
error of that mean. D_tracer comes from the MSD (:func:`ssefeat.dynamics.diffusion_coefficient`, its window rule
and D_err). f = 1 for uncorrelated hops, about 0.653 for single-vacancy diffusion on a simple cubic lattice.
f_err propagates both relative errors as if independent; they share the ions and are positively correlated, so
this overstates the error somewhat.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..dynamics.diffusion import diffusion_coefficient
from ..errors import ParameterError
from ..provenance import stamp
from ..units import ANGSTROM2_PER_PS_TO_CM2_PER_S


def jump_diffusivity(jumps: xr.Dataset, dimensions: int = 3) -> tuple[float, float]:
    """D_J and its standard error over ions, Å^2/ps (module docstring)."""
    if int(dimensions) not in (1, 2, 3):
        raise ParameterError(f"dimensions={dimensions} must be 1, 2 or 3.")
    n_ions, t = int(jumps.attrs["n_ions"]), float(jumps.attrs["duration_ps"])
    if not t > 0 or n_ions < 1:
        raise ParameterError(f"a jump diffusivity needs ions and a run length (N={n_ions}, t={t} ps).")
    sq = np.bincount(jumps["ion"].values, weights=(jumps["jump_vector"].values ** 2).sum(axis=1), minlength=n_ions)
    d_i = sq / (2.0 * dimensions * t)
    err = d_i.std(ddof=1) / np.sqrt(n_ions) if n_ions > 1 else np.nan
    return float(d_i.mean()), float(err)


def correlation_factor(ds: xr.Dataset, jumps: xr.Dataset, *, dimensions: int = 3, **diffusion_kwargs) -> xr.Dataset:
    """f = D_tracer / D_J with errors, for the mobile species of ``jumps`` in the trajectory ``ds``.

    ``diffusion_kwargs`` go to :func:`ssefeat.dynamics.diffusion_coefficient` (e.g. ``window``, ``uncertainty``).
    Returns a Dataset of scalars: ``f``, ``f_err``, ``D_tracer``, ``D_tracer_err``, ``D_J``, ``D_J_err`` (Å^2/ps),
    their cm^2/s forms, ``n_jumps``, ``n_ions``; the MSD fit window and verdict in attrs.
    """
    species = str(jumps.attrs["species"])
    dj, dj_err = jump_diffusivity(jumps, dimensions)
    if not dj > 0:
        raise ParameterError("no jumps between sites: D_J = 0 and the correlation factor is undefined.",
                             fix="use a longer run, a higher temperature, or check the sites and the radius.")
    dt = diffusion_coefficient(ds, species, **diffusion_kwargs)
    d, d_err = float(dt["D"][0]), float(dt["D_err"][0])
    f = d / dj
    f_err = abs(f) * float(np.hypot(d_err / d if d else np.inf, dj_err / dj))
    a2ps, cm = {"units": "angstrom^2/ps"}, ANGSTROM2_PER_PS_TO_CM2_PER_S
    out = xr.Dataset(
        {"f": ((), f, {"units": "1", "long_name": "correlation factor D_tracer / D_J"}),
         "f_err": ((), f_err, {"units": "1", "method": "relative errors of D_tracer and D_J added in quadrature"}),
         "D_tracer": ((), d, a2ps), "D_tracer_err": ((), d_err, a2ps),
         "D_J": ((), dj, {**a2ps, "long_name": "jump diffusivity"}),
         "D_J_err": ((), dj_err, {**a2ps, "method": "standard error over ions"}),
         "D_tracer_cm2_s": ((), d * cm, {"units": "cm^2/s"}), "D_J_cm2_s": ((), dj * cm, {"units": "cm^2/s"}),
         "n_jumps": ((), int(jumps.sizes["jump"])), "n_ions": ((), int(jumps.attrs["n_ions"]))})
    out.attrs.update(species=species, window_start_ps=float(dt["window_start"][0]),
                     window_stop_ps=float(dt["window_stop"][0]), temperature_K=jumps.attrs.get("temperature_K"))
    return stamp(out, parameters=dict(dimensions=int(dimensions), species=species,
                                      D_J="sum |jump vector|^2 / (2 d N t)", diffusion=str(diffusion_kwargs)),
                 units="1", analysis="ssefeat.sites.correlation.correlation_factor")
