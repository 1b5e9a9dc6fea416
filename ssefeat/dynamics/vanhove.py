"""Self part of the van Hove correlation function G_s(r, t).

G_s(r, t) = < delta(r - |r_i(t0 + t) - r_i(t0)|) > / (4 pi r^2), averaged over the atoms of a species and all time
origins (``origin_step`` apart). Normalisation: with n_k displacements in bin k (centre r_k, width dr) out of N_tot,
G_s(r_k) = n_k / (N_tot 4 pi r_k^2 dr), so sum_k 4 pi r_k^2 G_s(r_k) dr = 1 - (fraction beyond r_max); the radial
probability density P(r) = 4 pi r^2 G_s (Å^-1) integrates to the same. Displacements beyond ``r_max`` are counted in
``fraction_beyond``. Peaks of P(r) at lattice hop distances reveal site-to-site hopping.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import species_indices
from ..errors import ParameterError
from ..provenance import stamp
from . import _msd_kernels as K
from .msd import MAX_UNWRAP_STEP_FRACTION, PreparedPositions, resolve_species
from .ngp import lag_frames


def van_hove_self(ds: xr.Dataset, species: str | None = None, lags=None, *, r_max: float | None = None,
                  n_bins: int = 100, n_lags: int = 4, origin_step: int = 1, remove_com: bool = True,
                  max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION, timestep_ps: float | None = None) -> xr.Dataset:
    """G_s(r, t) of one species at the given lags (ps; default ``n_lags`` log-spaced lags up to half the run).

    r_max defaults to 4 sqrt(<r^2>) at the longest lag (at least 3 Å). Returns an ``xarray.Dataset`` with
    ``G_s (lag, r)`` Å^-3, ``P_r (lag, r)`` = 4 pi r^2 G_s in Å^-1, ``fraction_beyond (lag)``, ``msd (lag)`` Å^2;
    ``r`` are bin centres (Å).
    """
    name = resolve_species(ds, species, mobile_default=True)
    if len(name) != 1:
        raise ParameterError("van_hove_self takes one species.", fix="call it once per species.")
    name = name[0]
    if int(n_bins) < 1 or int(origin_step) < 1:
        raise ParameterError(f"n_bins={n_bins} and origin_step={origin_step} must be >= 1.")
    prep = PreparedPositions(ds, remove_com=remove_com, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps)
    m = lag_frames(lags, prep.dt, prep.n_frames, n_lags, 0.5)
    idx = species_indices(ds, name)
    r2 = np.zeros(m.size)
    cnt = np.zeros(m.size)
    for x in prep.chunks(idx):
        a2, _, c, _ = K.displacement_moments(np.ascontiguousarray(x), m, int(origin_step))
        r2 += a2
        cnt += c
    msd = r2 / cnt
    if r_max is None:
        r_max = max(3.0, 4.0 * float(np.sqrt(msd.max())))
    if not r_max > 0:
        raise ParameterError(f"r_max={r_max} must be positive.", fix="give r_max in Å.")
    hist = np.zeros((m.size, int(n_bins)))
    total = np.zeros(m.size)
    beyond = np.zeros(m.size)
    for x in prep.chunks(idx):
        h, t, b = K.displacement_histogram(np.ascontiguousarray(x), m, int(origin_step), float(r_max), int(n_bins))
        hist += h
        total += t
        beyond += b
    dr = r_max / n_bins
    r = (np.arange(n_bins) + 0.5) * dr
    p_r = hist / (total[:, None] * dr)
    g_s = p_r / (4.0 * np.pi * r ** 2)
    out = xr.Dataset(
        {"G_s": (("lag", "r"), g_s, {"units": "angstrom^-3", "long_name": "self van Hove function"}),
         "P_r": (("lag", "r"), p_r, {"units": "angstrom^-1", "long_name": "4 pi r^2 G_s(r, t)"}),
         "fraction_beyond": ("lag", beyond / total, {"units": "1", "long_name": "displacements beyond r_max"}),
         "msd": ("lag", msd, {"units": "angstrom^2"})},
        coords={"lag": ("lag", m * prep.dt, {"units": "ps"}), "lag_frames": ("lag", m),
                "r": ("r", r, {"units": "angstrom", "long_name": "bin centre"}), "species": name})
    params = dict(species=name, lags_ps=(m * prep.dt).tolist(), r_max=float(r_max), n_bins=int(n_bins),
                  origin_step=int(origin_step),
                  normalisation="G_s(r_k) = n_k / (N_tot 4 pi r_k^2 dr): sum 4 pi r^2 G_s dr = 1 - fraction_beyond",
                  **prep.info())
    return stamp(out, parameters=params, units="angstrom^-3", analysis="ssefeat.dynamics.vanhove.van_hove_self")
