"""Disorder profile F(z) along a cell axis, with concentration and density profiles (SCIENCE.md section 7).

Method (thesis 5.2.1, after Stegmaier et al. 2021):

1. Smear every atom into a periodic, normalised 3D Gaussian of width ``sigma`` on a grid cut along the cell vectors
   (own numba kernel, exact up to a 7-sigma truncation of relative size 2e-11; number density in 1/Å^3 that
   integrates to the number of atoms; see :mod:`ssefeat._disorder_kernels`).
2. Cut the grid into slabs of ``slab_width`` along ``axis`` and integrate each slab across its width: a 2D areal
   density P_z(u, v) per slab.
3. I_z(k) = |FFT2(P_z)(k)|^2 on the slab's 2D grid of wave vectors; the k = 0 term is dropped.
4. F_raw(z) = mean_k I_z(k) / max_k I_z(k) (the thesis' sum_k I / sum_k I_max; with a Bragg peak holding most of
   the power the ratio is ~ (number of peaks) / (number of k), tiny; for a random slab it is ~ 1 / ln(M)).
5. F(z) = F_raw(z) / F_raw_random, with F_raw_random the same ratio for uniformly random atoms (same number of
   atoms, same cell, grid, sigma and slabs), averaged over ``n_random`` seeded realisations and over all slabs
   (``reference="random"``, the default), or the analytic Gaussian (many atoms per slab) limit
   (``reference="analytic"``, see :func:`ssefeat._disorder_kernels.gaussian_limit_reference`), or a number.
   F is near 1 for a disordered slab and near 0 for a crystalline one. F can exceed 1 by noise (a random slab
   scatters by ~10 % per frame) and, for glasses, by the suppression of low-k density fluctuations.

Per-frame F(frame, z) is kept; ``F_mean(z)`` is its mean over frames. Triclinic cells are handled on the
fractional grid: slabs are planes parallel to the two other cell vectors, ``z`` is the distance along their
normal. ``x``/``y``/``z`` are synonyms of the cell vectors ``a``/``b``/``c``.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import xarray as xr

from . import _disorder_kernels as _k
from . import box as _box
from .data import cell_array, positions_in, species_indices, validate
from .errors import ParameterError
from .provenance import stamp
from .units import AMU_PER_ANGSTROM3_TO_G_PER_CM3

AXIS_NAMES = {"a": 0, "b": 1, "c": 2, "x": 0, "y": 1, "z": 2}
#: slab samples the default random reference averages over (n_random = ceil(96 / n_slabs), 1..8)
REFERENCE_SAMPLES = 96
#: smallest number of grid points along an in-plane axis for a meaningful 2D spectrum
MIN_INPLANE_POINTS = 8


def axis_index(axis) -> int:
    """0, 1, 2 for a cell axis given as a / b / c, x / y / z (any case) or 0 / 1 / 2."""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and 0 <= int(axis) <= 2:
        return int(axis)
    key = str(axis).strip().lower()
    if key not in AXIS_NAMES:
        raise ParameterError(f"axis {axis!r} does not exist.",
                             fix="use one of the cell axes: a, b, c (or x, y, z, or 0, 1, 2).")
    return AXIS_NAMES[key]


def slab_geometry(cell: np.ndarray, axis: int, slab_width: float, grid_spacing: float, sigma: float) -> dict:
    """Grid and slab layout for a cell (3, 3): checks the parameters and returns a plain dict.

    n_slabs = round(W / slab_width) (at least 1) with W the cell width along the slab normal; the actual slab width
    is W / n_slabs. Each slab holds ``planes_per_slab = ceil(actual_width / grid_spacing)`` grid planes, so the
    grid spacing along the normal is at most ``grid_spacing``; in-plane the grid has ceil(|a_m| / grid_spacing)
    points along each cell vector.
    """
    for name, value in (("slab_width", slab_width), ("grid_spacing", grid_spacing), ("sigma", sigma)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ParameterError(f"{name} must be a positive number of Å, got {value!r}.",
                                 fix=f"pass a positive {name} in Å.")
    if slab_width < grid_spacing:
        raise ParameterError(f"slab width {slab_width} Å is smaller than the grid spacing {grid_spacing} Å.",
                             fix="use a slab width of at least one grid spacing (a few Å is typical), or a finer "
                                 "grid.")
    widths = _box.perpendicular_widths(cell)
    width = float(widths[axis])
    name = "abc"[axis]
    if slab_width > width * (1 + 1e-9):
        raise ParameterError(f"the box is {width:.3f} Å wide along {name}: too small to hold one slab of "
                             f"{slab_width} Å (slab width larger than the box).",
                             fix=f"use a slab width below {width:.3f} Å, or a larger box.")
    n_slabs = max(1, int(round(width / slab_width)))
    actual = width / n_slabs
    planes = max(1, int(math.ceil(actual / grid_spacing - 1e-9)))
    lengths = np.linalg.norm(cell, axis=1)
    n_grid = [int(math.ceil(lengths[m] / grid_spacing - 1e-9)) for m in range(3)]
    n_grid[axis] = n_slabs * planes
    ua, va = _k.other_axes(axis)
    for m in (ua, va):
        if n_grid[m] < MIN_INPLANE_POINTS:
            raise ParameterError(
                f"the box is {lengths[m]:.3f} Å along {'abc'[m]}: only {n_grid[m]} grid points of "
                f"{grid_spacing} Å in the slab plane, too small to hold one slab's 2D spectrum.",
                fix=f"use a grid spacing below {lengths[m] / MIN_INPLANE_POINTS:.3f} Å, or a larger box.")
    if sigma > widths.min() / 2:
        raise ParameterError(f"sigma {sigma} Å is more than half the smallest cell width ({widths.min():.3f} Å).",
                             fix="use a Gaussian width well below the box size (0.3-1 Å is typical).")
    spacing = [float(lengths[m] / n_grid[m]) for m in range(3)]
    spacing[axis] = width / n_grid[axis]
    if max(spacing) > 1.5 * sigma:
        warnings.warn(f"grid spacing {max(spacing):.3f} Å is coarse for sigma {sigma} Å: the spectrum is aliased. "
                      "Use a grid spacing below sigma.", UserWarning, stacklevel=3)
    return {"axis": axis, "n_slabs": n_slabs, "slab_width": actual, "planes_per_slab": planes,
            "n_grid": n_grid, "grid_spacing": spacing, "width": width}


def _random_reference(cell, geom, sigma, n_atoms, n_random, seed, r_cut):
    """F_raw of uniformly random atoms: mean and std over all slabs of ``n_random`` seeded realisations."""
    values = []
    for r in range(int(n_random)):
        rng = np.random.default_rng([int(seed), r])
        frac = rng.random((n_atoms, 3))
        proj = _k.slab_projections(frac, cell, geom["n_grid"], geom["axis"], geom["planes_per_slab"], sigma, r_cut)
        values.append(_k.spectrum_ratio(proj)[0])
    values = np.concatenate(values)
    values = values[np.isfinite(values)]
    return float(values.mean()), float(values.std(ddof=1) if values.size > 1 else 0.0)


def disorder_profile(ds: xr.Dataset, axis="z", slab_width: float = 2.0, grid_spacing: float = 0.25,
                     sigma: float = 0.5, species: str | Sequence[str] | None = None, frames=None,
                     reference="random", n_random: int | None = None, seed: int = 0,
                     truncate: float = _k.TRUNCATE) -> xr.Dataset:
    """Disorder profile F(z), concentration and density profiles along a cell axis.

    Parameters
    ----------
    ds : trajectory Dataset with a cell.
    axis : "a"/"b"/"c" (synonyms "x"/"y"/"z", or 0/1/2): slabs are perpendicular to the other two cell vectors.
    slab_width : Å, target slab width (the cell width is split into round(W / slab_width) equal slabs).
    grid_spacing : Å, largest grid spacing (keep it below sigma).
    sigma : Å, width of the Gaussian of each atom.
    species : species whose atoms make the density for F (default all); profiles always cover every species.
    frames : frame positions (int, list or slice) to analyse; default all.
    reference : "random" (seeded random realisations, default), "analytic" (Gaussian limit) or a number: the
        F_raw of a uniformly random slab that F_raw is divided by.
    n_random, seed : realisations and seed of the random reference. Default: enough realisations for at least
        ``REFERENCE_SAMPLES`` (96) slab samples, between 1 and 8 (a random slab's F_raw scatters by ~20 %, so the
        reference's standard error is ~2 %).
    truncate : Gaussian truncation radius in units of sigma.

    Returns
    -------
    xarray.Dataset with ``F (frame, z)``, ``F_raw (frame, z)``, ``F_mean (z)``, ``F_std (z)``, ``F_raw_mean (z)``,
    ``count (frame, z, species)``, ``number_density (z, species)`` 1/Å^3, ``total_density (z)`` 1/Å^3,
    ``concentration (z, species)`` atom fraction, ``mass_density (z)`` g/cm^3 (when masses are known); coords
    ``z`` (slab centre, Å along the slab normal from the cell origin), ``z_lo``, ``z_hi``; attrs with the actual
    grid, slab width, ``F_raw_random`` and its spread, and provenance.
    """
    validate(ds, require_cell=True, periodic="the disorder profile")
    ax = axis_index(axis)
    n = ds.sizes["frame"]
    fpos = np.arange(n) if frames is None else positions_in(frames, n, "frame position", "frames", ParameterError) % n
    if fpos.size == 0:
        raise ParameterError("the frame selection is empty.", fix="select at least one frame.")
    sub = ds.isel(frame=fpos)
    cells = cell_array(sub)
    mean_cell = cells.mean(axis=0)
    geom = slab_geometry(mean_cell, ax, float(slab_width), float(grid_spacing), float(sigma))
    sel_index = species_indices(sub, species)
    n_sel = sel_index.size
    r_cut = float(truncate) * float(sigma)
    if not (truncate >= 3):
        raise ParameterError(f"truncate {truncate} is too short for a Gaussian density.",
                             fix="use at least 3 (sigma units); the default 7 is exact to 2e-11.")
    n_slabs = geom["n_slabs"]
    species_all = np.asarray(sub["species"].values).astype(str)
    uniq, first, inverse = np.unique(species_all, return_index=True, return_inverse=True)
    names = uniq[np.argsort(first)]  # in order of first appearance
    codes = np.argsort(np.argsort(first))[inverse]

    n_f = len(fpos)
    f_raw = np.empty((n_f, n_slabs))
    count = np.zeros((n_f, n_slabs, names.size), dtype=np.int64)
    for i in range(n_f):
        # one frame in memory at a time (dask-backed or lazily read trajectories stay bounded)
        pos_all = np.asarray(sub["positions"].isel(frame=i).values, dtype=np.float64)
        frac = _box.to_fractional(pos_all[sel_index], cells[i])
        proj = _k.slab_projections(frac, cells[i], geom["n_grid"], ax, geom["planes_per_slab"], sigma, r_cut)
        f_raw[i] = _k.spectrum_ratio(proj)[0]
        s_all = _box.to_fractional(pos_all, cells[i])[:, ax] % 1.0
        slab = np.minimum((s_all * n_slabs).astype(np.int64), n_slabs - 1)
        np.add.at(count[i], (slab, codes), 1)

    if n_random is None:
        n_random = int(min(8, max(1, math.ceil(REFERENCE_SAMPLES / n_slabs))))
    if isinstance(reference, str) and reference == "random":
        if int(n_random) < 1:
            raise ParameterError(f"n_random must be at least 1, got {n_random}.",
                                 fix="use n_random >= 1, or None for the default.")
        ref, ref_std = _random_reference(mean_cell, geom, sigma, n_sel, n_random, seed, r_cut)
    elif isinstance(reference, str) and reference == "analytic":
        ref, ref_std = _k.gaussian_limit_reference(mean_cell, geom["n_grid"], ax, sigma), 0.0
    elif isinstance(reference, (int, float, np.floating)) and float(reference) > 0:
        ref, ref_std = float(reference), 0.0
    else:
        raise ParameterError(f"reference {reference!r} is not understood.",
                             fix='use "random", "analytic" or a positive number (F_raw of a random slab).')
    f = f_raw / ref

    width = geom["width"]
    edges = np.arange(n_slabs + 1) * width / n_slabs
    centres = 0.5 * (edges[:-1] + edges[1:])
    vol = np.abs(_box.cell_volume(cells))  # (n_f,)
    slab_vol = vol / n_slabs
    dens_frame = count / slab_vol[:, None, None]
    # time-averaged atom fractions: sum of counts over frames / total (NaN in a slab that never holds an atom)
    summed = count.sum(axis=0)
    total = summed.sum(axis=1, keepdims=True)
    conc = np.where(total > 0, summed / np.maximum(total, 1), np.nan)
    frame_coord = sub["frame"].values
    coords = {"frame": ("frame", frame_coord), "z": ("z", centres, {"units": "angstrom"}),
              "z_lo": ("z", edges[:-1], {"units": "angstrom"}), "z_hi": ("z", edges[1:], {"units": "angstrom"}),
              "species": ("species", names.astype(str))}
    if "time" in sub.coords:
        coords["time"] = ("frame", np.asarray(sub["time"].values), {"units": "ps"})
    out = xr.Dataset(
        {"F": (("frame", "z"), f, {"units": "1", "long_name": "disorder F (random slab = 1, crystal ~ 0)"}),
         "F_raw": (("frame", "z"), f_raw, {"units": "1", "long_name": "mean_k I(k) / max_k I(k), k != 0"}),
         "F_mean": (("z",), f.mean(axis=0), {"units": "1", "long_name": "F averaged over frames"}),
         "F_std": (("z",), f.std(axis=0), {"units": "1", "long_name": "F standard deviation over frames"}),
         "F_raw_mean": (("z",), f_raw.mean(axis=0), {"units": "1"}),
         "count": (("frame", "z", "species"), count, {"units": "atoms"}),
         "number_density": (("z", "species"), dens_frame.mean(axis=0), {"units": "1/angstrom^3"}),
         "total_density": (("z",), dens_frame.sum(axis=2).mean(axis=0), {"units": "1/angstrom^3"}),
         "concentration": (("z", "species"), conc, {"units": "atom fraction"})},
        coords=coords)
    if "mass" in sub.coords:
        mass = np.asarray(sub["mass"].values, dtype=np.float64)
        mass_per_species = np.array([mass[codes == j].mean() for j in range(names.size)])
        md = (count * mass_per_species).sum(axis=2) / slab_vol[:, None] * AMU_PER_ANGSTROM3_TO_G_PER_CM3
        out["mass_density"] = (("z",), md.mean(axis=0), {"units": "g/cm^3"})
    normal = np.cross(mean_cell[(ax + 1) % 3], mean_cell[(ax + 2) % 3])
    normal /= np.linalg.norm(normal)
    params = {"axis": "abc"[ax], "slab_width": float(slab_width), "grid_spacing": float(grid_spacing),
              "sigma": float(sigma), "species": species, "frames": [int(x) for x in frame_coord],
              "reference": reference if isinstance(reference, str) else float(reference),
              "n_random": int(n_random), "seed": int(seed), "truncate": float(truncate)}
    stamp(out, parameters=params, units="1", analysis="ssefeat.disorder.disorder_profile")
    out.attrs.update({
        "axis": "abc"[ax], "axis_index": ax, "slab_normal": normal.tolist(), "box_width": width,
        "n_slabs": n_slabs, "slab_width_actual": geom["slab_width"], "planes_per_slab": geom["planes_per_slab"],
        "n_grid": list(geom["n_grid"]), "grid_spacing_actual": geom["grid_spacing"], "sigma": float(sigma),
        "r_cut": r_cut, "n_atoms_F": int(n_sel), "F_species": "all" if species is None else
        (species if isinstance(species, str) else ",".join(species)),
        "reference": reference if isinstance(reference, str) else "given",
        "F_raw_random": ref, "F_raw_random_std": ref_std,
        "n_random": int(n_random) if reference == "random" else 0,
        "density_kernel": "ssefeat numba periodic Gaussian, (2 pi sigma^2)^-3/2 normalised, truncated at r_cut",
        "F_definition": "F_raw = mean_k I(k) / max_k I(k) (k != 0); F = F_raw / F_raw_random"})
    return out
