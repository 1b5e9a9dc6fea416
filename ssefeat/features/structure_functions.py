"""Structure functions (radial G and angular Psi) per centre atom, frame by frame.

After Cubuk et al., PRL 114, 108001 (2015) and Behler, JCP 134, 074106 (2011). The definitions and conventions
(unordered pairs, cutoff functions, r_jk by minimum image) are in :class:`~ssefeat.features.parameters.ParameterSet`.

>>> from ssefeat.features.parameters import li_sulfide            # doctest: +SKIP
>>> X = structure_functions(ds, li_sulfide())                      # (frame, atom, feature) for the Li atoms
>>> X.sel(feature=X.kind == "radial")                              # radial part; X.mu, X.species_j, ... coords
"""
from __future__ import annotations

import contextlib

import numba
import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, missing_species, periodic_axes, species_indices, validate
from ..errors import ParameterError, SchemaError
from ..neighbors import frame_pairs, open_cell
from ..provenance import stamp
from . import _sf_kernels
from .parameters import ParameterSet, resolve

#: Default overlap threshold (length unit of the parameters): closer pairs raise an error.
MIN_DISTANCE = 0.1


@contextlib.contextmanager
def threads(n: int | None):
    """Run numba parallel kernels with ``n`` threads inside the block (None: numba's current setting)."""
    if n is None:
        yield
        return
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def check_species(params: ParameterSet, present) -> None:
    """Raise ParameterError when the parameters name a species that the trajectory does not have."""
    missing, present = missing_species(present, params.species)
    if missing:
        raise ParameterError(
            f"the structure-function parameters name species {missing} that are not in the trajectory "
            f"(it has {present}).",
            fix="choose the centre / neighbour species from those present (labels are case-sensitive), e.g. "
                "params.replace(centre=..., radial_species=...), or use the parameters of the right system "
                "(--system li_sulfide | kob_andersen).")


def check_cutoffs(params: ParameterSet, cells: np.ndarray, frames=None) -> None:
    """Raise ParameterError when a cutoff is not below half the smallest cell width in some frame."""
    cells = np.asarray(cells, dtype=np.float64).reshape(-1, 3, 3)
    _box.check_cutoff(params.cutoff, cells, "structure-function cutoff", params.units,
                      range(len(cells)) if frames is None else frames,
                      hint="params.replace(radial_cutoff=..., angular_cutoff=...)")


def _codes(species_of_points: np.ndarray, wanted) -> np.ndarray:
    code = np.full(species_of_points.shape[0], -1, dtype=np.int64)
    for k, s in enumerate(wanted):
        code[species_of_points == s] = k
    return code


def compute_frame(positions, cell, species, params: ParameterSet, min_distance: float = MIN_DISTANCE,
                  frame_label=None, atom_labels=None, pbc=None, neighbors=None) -> np.ndarray:
    """Structure functions of one configuration, plain numpy (see :func:`_compute_frame`)."""
    # Our parallelism is numba's; multi-threaded BLAS on the (n_pairs, 3) @ (3, 3) products of the neighbour
    # search only spins (10-100x slower on a busy machine), so BLAS runs single-threaded here.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _compute_frame(positions, cell, species, params, min_distance, frame_label, atom_labels, pbc,
                              neighbors)


def _compute_frame(positions, cell, species, params: ParameterSet, min_distance: float = MIN_DISTANCE,
                   frame_label=None, atom_labels=None, pbc=None, neighbors=None) -> np.ndarray:
    """Structure functions of one configuration, plain numpy.

    Parameters
    ----------
    positions : (N, 3) length unit (wrapped or not); cell : (3, 3) rows are cell vectors
    species : (N,) species labels
    params : ParameterSet
    min_distance : pairs (centre, neighbour) closer than this raise :class:`~ssefeat.errors.SchemaError`
    frame_label, atom_labels : frame index and (N,) atom indices used in error messages
    pbc : periodicity along a, b, c (default all); no minimum image across a non-periodic direction
    neighbors : :class:`~ssefeat.neighbors.FrameNeighbors` of this configuration to take the pairs from (optional;
        searched with the same ``pbc``)

    Returns
    -------
    (n_centres, n_features) float64 for the atoms ``species == params.centre`` in their order; a centre with no
    neighbour in range gets 0.
    """
    positions = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    species = np.asarray(species).astype(str)
    check_species(params, species)
    if pbc is not None:  # the cutoff is checked against the periodic widths only
        cell_checked = open_cell(positions, cell, params.cutoff, pbc)
    check_cutoffs(params, cell if pbc is None else cell_checked, None if frame_label is None else [frame_label])
    centres = species_indices(species, params.centre)
    points = np.flatnonzero(np.isin(species, list(params.neighbour_species)))
    out = np.zeros((len(centres), params.n_features), dtype=np.float64)
    # r_min < 0 keeps coincident atoms so that they are reported instead of silently dropped
    pairs = frame_pairs(None if neighbors is None else [neighbors], 0, positions, cell, params.cutoff,
                        query=centres, points=points, r_min=-1.0, pbc=pbc)
    if pairs.distances.size:
        k = int(np.argmin(pairs.distances))
        if pairs.distances[k] < min_distance:
            where = "" if frame_label is None else f" in frame {frame_label}"
            a, b = int(centres[pairs.i[k]]), int(points[pairs.j[k]])
            if atom_labels is not None:
                a, b = int(atom_labels[a]), int(atom_labels[b])
            raise SchemaError(
                f"atoms {a} and {b} overlap{where}: distance "
                f"{pairs.distances[k]:.3g} {params.units} < {min_distance:g} "
                f"({int(np.sum(pairs.distances < min_distance))} such pairs).",
                fix="the configuration is unphysical (duplicated atoms, a blown-up run or wrong units); remove the "
                    "duplicates or the frame, or pass a smaller min_distance if such distances are real.")
    offsets = pairs.offsets
    point_species = species[points][pairs.j] if pairs.j.size else np.zeros(0, dtype=str)
    smooth = params.cutoff_function == "cosine"
    if params.n_radial:
        _sf_kernels.radial_kernel(offsets, pairs.distances, _codes(point_species, params.radial_species),
                                  np.asarray(params.mu), 1.0 / (2.0 * np.asarray(params.width) ** 2),
                                  params.radial_cutoff, smooth, out)
    if params.n_angular:
        ang_species = list(dict.fromkeys(s for p in params.angular_species for s in p))
        block = np.full((len(ang_species), len(ang_species)), -1, dtype=np.int64)
        for b, (y, z) in enumerate(params.angular_species):
            iy, iz = ang_species.index(y), ang_species.index(z)
            block[iy, iz] = block[iz, iy] = b
        zeta = np.asarray(params.zeta)
        zeta_int = np.where((zeta == np.round(zeta)) & (zeta <= 64), np.round(zeta), -1).astype(np.int64)
        _sf_kernels.angular_kernel(offsets, np.ascontiguousarray(pairs.vectors), pairs.distances,
                                   _codes(point_species, ang_species), block, 1.0 / np.asarray(params.xi) ** 2,
                                   np.asarray(params.lambdas), zeta, zeta_int, params.angular_cutoff, smooth,
                                   params.n_radial, out)
    return out


def structure_functions(ds: xr.Dataset, params=None, frames=None, *, centre: str | None = None,
                        min_distance: float = MIN_DISTANCE, n_threads: int | None = None,
                        neighbors=None) -> xr.DataArray:
    """Radial and angular structure functions of the centre atoms of every frame.

    Parameters
    ----------
    ds : trajectory Dataset (:mod:`ssefeat.data`) with a cell; any number of frames (a chunk is fine).
    params : ParameterSet, dict, JSON path or system name (``"li_sulfide"``, ``"kob_andersen"``); default
        :func:`~ssefeat.features.parameters.li_sulfide`.
    frames : int, slice or int array, optional
        Positions of the frames within ``ds`` (``ds.isel(frame=frames)``); default all.
    centre : str, optional
        Override the centre species of ``params``.
    min_distance : float
        Overlap threshold (length unit): a centre-neighbour pair closer than this raises SchemaError.
    n_threads : int, optional
        numba threads for the kernels.
    neighbors : sequence of :class:`~ssefeat.neighbors.FrameNeighbors`, optional
        One per frame (after ``frames``): the pairs are taken from them instead of searched.

    Returns
    -------
    DataArray ``(frame, atom, feature)``, float64, dimensionless, for the atoms of the centre species; ``frame``,
    ``time``, ``atom`` and ``species`` coordinates of the input; the parameters as coordinates on ``feature``
    (kind, centre, species_j, species_k, mu, L, xi, lambda, zeta, cutoff, cutoff_function) and as JSON in
    ``attrs["parameter_set"]`` with ``attrs["parameter_fingerprint"]``. No NaN: atoms without neighbours get 0.
    """
    params = resolve(params)
    if centre is not None:
        params = params.replace(centre=str(centre))
    validate(ds, require_cell=True)
    if frames is not None:
        ds = ds.isel(frame=[frames] if np.isscalar(frames) else frames)
    species = np.asarray(ds["species"].values).astype(str)
    check_species(params, species)
    cells = cell_array(ds)
    frame_labels = np.asarray(ds["frame"].values)
    pbc = periodic_axes(ds)
    if pbc.all():
        check_cutoffs(params, cells, frame_labels)
    centres = species_indices(species, params.centre)
    atom_labels = np.asarray(ds["atom"].values)
    values = np.zeros((ds.sizes["frame"], len(centres), params.n_features), dtype=np.float64)
    positions = ds["positions"].values
    from threadpoolctl import threadpool_limits

    with threads(n_threads), threadpool_limits(1, user_api="blas"):  # see compute_frame; set once, not per frame
        for f in range(ds.sizes["frame"]):  # per frame; the kernels are parallel over atoms
            values[f] = _compute_frame(positions[f], cells[f], species, params, min_distance=min_distance,
                                       frame_label=int(frame_labels[f]), atom_labels=atom_labels,
                                       pbc=None if pbc.all() else pbc,
                                       neighbors=None if neighbors is None else neighbors[f])
    coords = {"frame": ds["frame"].values, "atom": ds["atom"].values[centres],
              "species": ("atom", species[centres])}
    if "time" in ds.coords:
        coords["time"] = ("frame", ds["time"].values, dict(ds["time"].attrs))
    coords.update(params.feature_coords())
    da = xr.DataArray(values, dims=("frame", "atom", "feature"), coords=coords, name="structure_functions")
    da.attrs["parameter_set"] = params.to_json(indent=None)
    da.attrs["parameter_fingerprint"] = params.fingerprint
    da.attrs["length_unit"] = params.units
    return stamp(da, parameters={"parameter_set": params.to_dict(), "min_distance": min_distance},
                 units="1", analysis="structure_functions")
