"""Self and distinct parts of the van Hove correlation function, G_s(r, t) and G_d(r, t).

G_s(r, t) = < delta(r - |r_i(t0 + t) - r_i(t0)|) > / (4 pi r^2), averaged over the atoms of a species and all time
origins (``origin_step`` apart). Normalisation: with n_k displacements in bin k (centre r_k, width dr) out of N_tot,
G_s(r_k) = n_k / (N_tot 4 pi r_k^2 dr), so sum_k 4 pi r_k^2 G_s(r_k) dr = 1 - (fraction beyond r_max); the radial
probability density P(r) = 4 pi r^2 G_s (Å^-1) integrates to the same. Displacements beyond ``r_max`` are counted in
``fraction_beyond``. Peaks of P(r) at lattice hop distances reveal site-to-site hopping.

G_d(r, t) = 1 / (N rho) sum_i sum_{j != i} < delta(r - |r_j(t0 + t) - r_i(t0)|) > / (4 pi r^2), rho = N / V, as
pymatgen-analysis-diffusion's ``VanHoveAnalysis`` defines it (there smeared with Gaussians, here a plain histogram):
G_d(r, 0) is the pair distribution g(r) (tending to (N - 1) / N for uncorrelated positions), and a peak of G_d(r, t)
at r = 0 growing with t shows ions moving into sites that others have left. Distances are minimum images in the cell
of the later frame, so r_max must stay below half the smallest cell width.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..box import check_cutoff, perpendicular_widths
from ..data import cell_array, require_periodic, species_indices
from ..errors import ParameterError
from ..provenance import stamp
from . import _msd_kernels as K
from ._vanhove_kernels import distinct_histogram
from .msd import MAX_UNWRAP_STEP_FRACTION, PreparedPositions, resolve_species, timestep_of
from .ngp import lag_frames


def _one_species(ds: xr.Dataset, species, what: str, n_bins: int, origin_step: int) -> str:
    """The one species a van Hove function follows (default the mobile ion), with its binning checked."""
    names = resolve_species(ds, species, mobile_default=True)
    if len(names) != 1:
        raise ParameterError(f"{what} takes one species.", fix="call it once per species.")
    if int(n_bins) < 1 or int(origin_step) < 1:
        raise ParameterError(f"n_bins={n_bins} and origin_step={origin_step} must be >= 1.",
                             fix="use n_bins >= 1 (histogram bins) and origin_step >= 1 (frames between time origins).")
    return names[0]


def van_hove_self(ds: xr.Dataset, species: str | None = None, lags=None, *, r_max: float | None = None,
                  n_bins: int = 100, n_lags: int = 4, origin_step: int = 1, remove_com: bool = True,
                  max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION, timestep_ps: float | None = None) -> xr.Dataset:
    """G_s(r, t) of one species at the given lags (ps; default ``n_lags`` log-spaced lags up to half the run).

    r_max defaults to 4 sqrt(<r^2>) at the longest lag (at least 3 Å). Returns an ``xarray.Dataset`` with
    ``G_s (lag, r)`` Å^-3, ``P_r (lag, r)`` = 4 pi r^2 G_s in Å^-1, ``fraction_beyond (lag)``, ``msd (lag)`` Å^2;
    ``r`` are bin centres (Å).
    """
    name = _one_species(ds, species, "van_hove_self", n_bins, origin_step)
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


def van_hove_distinct(ds: xr.Dataset, species: str | None = None, lags=None, *, r_max: float | None = None,
                      n_bins: int = 100, n_lags: int = 4, origin_step: int = 1, remove_com: bool = True,
                      max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION,
                      timestep_ps: float | None = None) -> xr.Dataset:
    """G_d(r, t) of one species (module docstring) at the given lags (ps; 0 allowed and gives g(r); default
    ``n_lags`` log-spaced lags up to half the run). r_max (Å) defaults to just below half the smallest cell width.

    Returns ``G_d (lag, r)`` (1, tends to (N - 1) / N at large r), ``n_pairs (lag, r)`` pair counts summed over
    origins, ``n_origins (lag)``; ``r`` are bin centres (Å). Cost: N^2 x origins x lags pair distances (numba).
    """
    name = _one_species(ds, species, "van_hove_distinct", n_bins, origin_step)
    require_periodic(ds, "the distinct van Hove function")
    cells = cell_array(ds)
    # minimum images need no unwrapping; removing the centre-of-mass drift does
    prep = PreparedPositions(ds, remove_com=True, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps) \
        if remove_com else None
    dt = prep.dt if prep is not None else timestep_of(ds, timestep_ps)
    n_frames = int(ds.sizes["frame"])
    if lags is None:
        m = lag_frames(None, dt, n_frames, n_lags, 0.5)
    else:
        m = np.unique(np.round(np.atleast_1d(np.asarray(lags, dtype=np.float64)) / dt).astype(np.int64))
        if m.min() < 0 or m.max() > n_frames - 1:
            raise ParameterError(f"lags {lags} ps are outside the run (0 to {(n_frames - 1) * dt:g} ps).",
                                 fix="give lags between 0 and the run length.")
    half = 0.5 * float(perpendicular_widths(cells).min())
    r_max = float(np.nextafter(half, 0)) if r_max is None else check_cutoff(r_max, cells, what="r_max")
    idx = species_indices(ds, name)
    if idx.size < 2:
        raise ParameterError(f"G_d needs at least two {name} ions, the trajectory has {idx.size}.",
                             fix=f"use a species with at least two ions, or van_hove_self for a single {name} ion.")
    x = np.concatenate(list(prep.chunks(idx)), axis=1) if prep is not None else ds["positions"].values[:, idx]
    x = np.ascontiguousarray(x, dtype=np.float64)
    counts, origins = distinct_histogram(x, np.ascontiguousarray(cells), m, int(origin_step), r_max, int(n_bins))
    dr = r_max / n_bins
    r = (np.arange(n_bins) + 0.5) * dr
    shell = 4.0 * np.pi * r ** 2 * dr
    volume = float(np.abs(np.linalg.det(cells)).mean())
    rho = idx.size / volume
    g_d = counts / (origins[:, None] * idx.size * rho * shell[None])
    out = xr.Dataset(
        {"G_d": (("lag", "r"), g_d, {"units": "1", "long_name": "distinct van Hove function / rho"}),
         "n_pairs": (("lag", "r"), counts, {"long_name": "pairs i != j summed over time origins"}),
         "n_origins": ("lag", origins)},
        coords={"lag": ("lag", m * dt, {"units": "ps"}), "lag_frames": ("lag", m),
                "r": ("r", r, {"units": "angstrom", "long_name": "bin centre"}), "species": name})
    params = dict(species=name, lags_ps=(m * dt).tolist(), r_max=r_max, n_bins=int(n_bins),
                  origin_step=int(origin_step), number_density=rho, remove_com=bool(remove_com),
                  normalisation="G_d(r_k) = n_k / (n_origins N rho 4 pi r_k^2 dr), rho = N / <V>",
                  **(prep.info() if prep is not None else {"timestep_ps": dt}))
    return stamp(out, parameters=params, units="1", analysis="ssefeat.dynamics.vanhove.van_hove_distinct")
