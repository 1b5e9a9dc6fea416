"""Sites from the density: maxima of the time-averaged periodic Gaussian density of the mobile species.

For glasses and structures without a reference. Every frame's ions are mapped to fractional coordinates of their
own cell and smeared with Gaussians of width ``sigma`` (Å) on a grid of the mean cell (the F(z) density kernel of
:mod:`ssefeat._disorder_kernels`, periodic, triclinic allowed). A grid point is a site when it is the largest of its
26 periodic neighbours and its density is at least ``min_density`` times the mean density of the species; maxima
closer than ``min_separation`` (Å) are merged, the denser one kept. Each maximum is refined between grid points
by a parabola through the log density along each axis (exact for a Gaussian peak).
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import ndimage

from .._disorder_kernels import density_grid
from ..box import perpendicular_widths
from ..data import cell_array, species_indices
from ..errors import ParameterError
from .sources import Sites


def _merge_close(frac: np.ndarray, value: np.ndarray, cell: np.ndarray, min_separation: float) -> np.ndarray:
    """Indices of maxima kept: densest first, dropping any within ``min_separation`` of one kept."""
    kept: list[int] = []
    for k in np.argsort(-value, kind="stable"):
        if kept:
            d = frac[kept] - frac[k]
            d -= np.round(d)
            if (np.linalg.norm(d @ cell, axis=1) < min_separation).any():
                continue
        kept.append(int(k))
    return np.array(sorted(kept), dtype=np.int64)


def _subgrid_offsets(rho: np.ndarray, ijk: np.ndarray) -> np.ndarray:
    """Peak offsets in grid steps from a parabola through the log density at each maximum and its two periodic
    neighbours along each axis (exact for a Gaussian peak), clipped to half a step."""
    out = np.zeros(ijk.shape)
    logr = np.log(np.maximum(rho, np.finfo(float).tiny))
    for ax in range(3):
        lo, hi = ijk.copy(), ijk.copy()
        lo[:, ax] = (lo[:, ax] - 1) % rho.shape[ax]
        hi[:, ax] = (hi[:, ax] + 1) % rho.shape[ax]
        gm, g0, gp = logr[tuple(lo.T)], logr[tuple(ijk.T)], logr[tuple(hi.T)]
        curv = gm - 2 * g0 + gp
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(curv < 0, 0.5 * (gm - gp) / curv, 0.0)
        out[:, ax] = np.clip(off, -0.5, 0.5)
    return out


def find_sites(ds: xr.Dataset, species: str = "Li", *, sigma: float = 0.3, grid_spacing: float = 0.2,
               min_density: float = 2.0, min_separation: float = 1.0, stride: int = 1, label: str = "site") -> Sites:
    """Sites at the maxima of the time-averaged density of ``species`` (module docstring).

    Parameters
    ----------
    sigma : Gaussian width, Å
    grid_spacing : target grid spacing along each cell vector, Å
    min_density : a maximum must be at least this multiple of the species' mean number density
    min_separation : maxima closer than this (Å) are merged (keep it below the shortest real site distance)
    stride : use every ``stride``-th frame
    label : the label (site type) given to every site found
    """
    for name, v in (("sigma", sigma), ("grid_spacing", grid_spacing), ("min_separation", min_separation)):
        if not (np.isfinite(v) and v > 0):
            raise ParameterError(f"{name}={v} must be a positive length in Å.",
                                 fix=f"give {name} as a finite length > 0 in Å.")
    if int(stride) < 1:
        raise ParameterError(f"stride={stride} must be >= 1.", fix="give stride >= 1 (use every stride-th frame).")
    idx = species_indices(ds, species, what="mobile ions")
    cells = cell_array(ds)[::int(stride)]
    mean = cells.mean(axis=0)
    pos = np.asarray(ds["positions"].values[::int(stride)][:, idx], dtype=np.float64)
    frac = np.einsum("fni,fij->fnj", pos, np.linalg.inv(cells)).reshape(-1, 3)
    lengths = np.linalg.norm(mean, axis=1)
    n_grid = np.maximum(np.ceil(lengths / grid_spacing).astype(np.int64), 4)
    rho = density_grid(frac, mean, n_grid, float(sigma)) / len(cells)  # ions / Å^3, time average
    if 3.0 * sigma >= 0.5 * perpendicular_widths(mean).min():
        raise ParameterError(f"sigma={sigma} Å is too wide for the cell.", fix="use a smaller sigma.")
    mean_rho = idx.size / abs(np.linalg.det(mean))
    peak = (ndimage.maximum_filter(rho, size=3, mode="wrap") == rho) & (rho >= min_density * mean_rho)
    ijk = np.argwhere(peak)
    if ijk.size == 0:
        raise ParameterError(f"no density maximum of {species} reaches {min_density} x its mean density "
                             f"({mean_rho:.3g} Å^-3).", fix="lower min_density, or use more frames.")
    site_frac = (ijk + 0.5 + _subgrid_offsets(rho, ijk)) / n_grid  # grid point k is the bin centre (k + 0.5) / n
    keep = _merge_close(site_frac, rho[tuple(ijk.T)], mean, float(min_separation))
    return Sites(site_frac[keep], np.full(keep.size, str(label)), source="density", species=str(species))
