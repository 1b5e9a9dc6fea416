"""Non-Gaussian parameter alpha2(t) = 3 <r^4> / (5 <r^2>^2) - 1 of the self displacements (3-d).

<r^2> and <r^4> are averaged over all atoms of a species and all time origins (``origin_step`` frames apart,
default every frame), computed directly at each chosen lag (numba kernel, no FFT: the fourth moment has no cheap
FFT form that stays accurate at small lags). alpha2 = 0 for Gaussian displacements (free diffusion, harmonic
vibration); it peaks at the crossover from caged vibration to hopping, at ``peak_time``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..data import species_indices
from ..errors import ParameterError
from ..provenance import stamp
from . import _msd_kernels as K
from .msd import MAX_UNWRAP_STEP_FRACTION, PreparedPositions, resolve_species


def lag_frames(lags_ps, dt: float, n_frames: int, n_lags: int = 60, max_fraction: float = 0.5) -> np.ndarray:
    """Lags in frames: the given times (ps) rounded to frames, or ``n_lags`` log-spaced lags up to
    ``max_fraction`` of the trajectory (unique integers >= 1)."""
    if lags_ps is None:
        top = max(1, int(max_fraction * (n_frames - 1)))
        return np.unique(np.round(np.geomspace(1, top, n_lags)).astype(np.int64))
    lags = np.atleast_1d(np.asarray(lags_ps, dtype=np.float64))
    m = np.round(lags / dt).astype(np.int64)
    bad = (m < 1) | (m > n_frames - 1)
    if bad.any():
        k = int(np.argmax(bad))
        raise ParameterError(f"lag {lags[k]:g} ps is outside the trajectory (frames every {dt:g} ps, "
                             f"{(n_frames - 1) * dt:g} ps long).",
                             fix=f"use lags between {dt:g} and {(n_frames - 1) * dt:g} ps.")
    return np.unique(m)


def non_gaussian_parameter(ds: xr.Dataset, species: str | Sequence[str] | None = None, lags=None, *,
                           n_lags: int = 60, max_fraction: float = 0.5, origin_step: int = 1,
                           remove_com: bool = True, max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION,
                           timestep_ps: float | None = None) -> xr.Dataset:
    """alpha2(t) per species at the given lags (ps) or at ``n_lags`` log-spaced lags.

    Returns an ``xarray.Dataset`` with ``alpha2 (lag, species)`` (dimensionless), ``msd`` Å^2 and ``r4`` Å^4
    (lag, species), ``peak_time`` ps and ``peak_alpha2`` (species); lag in ps with ``lag_frames``.
    """
    names = resolve_species(ds, species, mobile_default=True)
    if int(origin_step) < 1:
        raise ParameterError(f"origin_step={origin_step} must be >= 1.", fix="use 1 for every time origin.")
    prep = PreparedPositions(ds, remove_com=remove_com, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps)
    m = lag_frames(lags, prep.dt, prep.n_frames, n_lags, max_fraction)
    r2 = np.zeros((m.size, len(names)))
    r4 = np.zeros_like(r2)
    for s, name in enumerate(names):
        idx = species_indices(ds, name)
        cnt = np.zeros(m.size)
        for x in prep.chunks(idx):
            a2, a4, c, _ = K.displacement_moments(np.ascontiguousarray(x), m, int(origin_step))
            r2[:, s] += a2
            r4[:, s] += a4
            cnt += c
        r2[:, s] /= cnt
        r4[:, s] /= cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha2 = 3.0 * r4 / (5.0 * r2 ** 2) - 1.0
    t = m * prep.dt
    finite = np.where(np.isfinite(alpha2), alpha2, -np.inf)
    k = np.argmax(finite, axis=0)
    out = xr.Dataset(
        {"alpha2": (("lag", "species"), alpha2, {"units": "1", "long_name": "non-Gaussian parameter"}),
         "msd": (("lag", "species"), r2, {"units": "angstrom^2"}),
         "r4": (("lag", "species"), r4, {"units": "angstrom^4"}),
         "peak_time": ("species", t[k], {"units": "ps", "long_name": "lag of the alpha2 maximum"}),
         "peak_alpha2": ("species", alpha2[k, np.arange(len(names))], {"units": "1"})},
        coords={"lag": ("lag", t, {"units": "ps"}), "lag_frames": ("lag", m), "species": ("species", names)})
    params = dict(species=names, lags_ps=None if lags is None else np.atleast_1d(lags).tolist(), n_lags=n_lags,
                  max_fraction=max_fraction, origin_step=int(origin_step),
                  formula="alpha2 = 3 <r^4> / (5 <r^2>^2) - 1, averaged over atoms and time origins", **prep.info())
    return stamp(out, parameters=params, units="1", analysis="ssefeat.dynamics.ngp.non_gaussian_parameter")
