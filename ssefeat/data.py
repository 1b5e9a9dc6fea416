"""The trajectory data model: build, validate, unwrap, wrap and select trajectory Datasets.

A trajectory is an ``xarray.Dataset`` with

- ``positions (frame, atom, xyz)`` in Å, float64 or float32, wrapped or not (``attrs["wrapped"]`` says which);
- ``cell (frame, cell_vector, xyz)`` in Å, rows are the cell vectors a, b, c (absent for a non-periodic system);
- coordinates ``frame`` (global frame index, kept through slicing and chunking), ``atom`` (original atom index,
  kept through selections), ``time (frame)`` in ps and ``species (atom)`` (element symbol or a type name such as
  ``"A"``), optional ``charge (atom)`` in e, ``mass (atom)`` in amu and ``molecule (atom)``;
- optional data ``velocities (frame, atom, xyz)`` Å/ps, ``forces (frame, atom, xyz)`` eV/Å,
  ``potential_energy (frame, atom)`` eV, ``energy (frame)`` eV, ``images (frame, atom, xyz)`` integer image flags
  (so that unwrapped = positions + images @ cell), ``system_com (frame, xyz)`` Å, the centre of mass of the whole
  system when the Dataset holds a selection of its atoms (``ssefeat.dynamics.msd.select_with_system_com``; the
  drift removed by the dynamics analyses is then the whole system's);
- attrs ``units``, ``source``, ``timestep_ps`` (time between stored frames), ``temperature_K`` (when known),
  ``wrapped`` (1 / 0 / -1 for unknown; netCDF has no booleans) and ``pbc``, the periodicity along the cell vectors
  a, b, c as ``"T T F"`` (only stored when some direction is not periodic: a trajectory with a cell and no ``pbc``
  is periodic along all three; one without a cell along none; see :func:`periodic_axes`).
"""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import xarray as xr

from . import _cell_kernels as _cells
from . import box as _box
from .errors import (CellError, NoCellError, NonFiniteError, SchemaError, SelectionError, TimeOrderError,
                     UnwrapWarning)
from .units import AMU_PER_ANGSTROM3_TO_G_PER_CM3

UNITS = "length=angstrom time=ps energy=eV charge=e mass=amu"
XYZ = ["x", "y", "z"]
CELL_VECTORS = ["a", "b", "c"]

_PER_FRAME_ATOM_XYZ = {"velocities": "angstrom/ps", "forces": "eV/angstrom"}


def _as_frames(array, name: str, ndim_single: int) -> np.ndarray:
    arr = np.asarray(array)
    if arr.ndim == ndim_single:
        arr = arr[None]
    if arr.ndim != ndim_single + 1:
        raise SchemaError(f"{name} has shape {np.shape(array)}; expected {ndim_single}-d for one frame or "
                          f"{ndim_single + 1}-d with a leading frame axis.",
                          fix=f"reshape {name} to (n_frames, ...) before building the trajectory.")
    return arr


def default_masses(species: Sequence[str]) -> np.ndarray | None:
    """Standard atomic masses (amu) when every species is an element symbol, else None."""
    from ase.data import atomic_masses, atomic_numbers

    labels, inverse = np.unique(np.asarray(species).astype(str), return_inverse=True)
    try:
        per_label = np.array([atomic_masses[atomic_numbers[s]] for s in labels], dtype=np.float64)
    except KeyError:
        return None
    return per_label[inverse]


def make_trajectory(positions, species: Sequence[str], cell=None, time=None, *, timestep_ps: float | None = None,
                    charge=None, mass=None, molecule=None, velocities=None, forces=None, potential_energy=None,
                    energy=None, images=None, frame=None, atom=None, wrapped: bool | None = None,
                    source: str = "arrays", temperature_K: float | None = None, attrs: dict | None = None,
                    pbc=None, check: bool = True) -> xr.Dataset:
    """Build a trajectory Dataset from arrays.

    Parameters
    ----------
    positions : array (n_frames, n_atoms, 3) or (n_atoms, 3)
        Cartesian positions in Å.
    species : sequence of str, length n_atoms
        Element symbols (or type names such as ``"A"``/``"B"`` for model systems).
    cell : array (3, 3) or (n_frames, 3, 3), optional
        Cell vectors as rows, Å. A single cell is repeated for every frame. ``None`` for a non-periodic system.
    time : array (n_frames,), optional
        Time of each frame in ps. Default ``frame_index * timestep_ps``.
    timestep_ps : float, optional
        Time between stored frames in ps; deduced from ``time`` when omitted. If neither is given the frame index
        is used as time and ``attrs["time_is_frame_index"] = 1``.
    charge, mass, molecule : arrays (n_atoms,), optional
        Charges (e), masses (amu; default: standard atomic masses when species are elements), molecule ids.
    velocities, forces : arrays (n_frames, n_atoms, 3), optional, Å/ps and eV/Å.
    potential_energy : array (n_frames, n_atoms), optional, per-atom potential energy in eV.
    energy : array (n_frames,), optional, total potential energy in eV.
    images : int array (n_frames, n_atoms, 3), optional
        Periodic image flags from the file, so that unwrapped = positions + images @ cell.
    frame, atom : int arrays, optional
        Global frame and atom indices (default 0..n-1).
    wrapped : bool, optional
        Whether positions are wrapped into the cell; None = unknown.
    pbc : bool or three bools, optional
        Periodicity along the cell vectors a, b, c (default: periodic along all three when there is a cell).
    check : bool
        Run :func:`validate` on the result.
    """
    pos = _as_frames(positions, "positions", 2)
    if not np.issubdtype(pos.dtype, np.floating):
        pos = pos.astype(np.float64)
    n_frames, n_atoms = pos.shape[:2]
    species = np.asarray(species).astype(str)
    if species.shape != (n_atoms,):
        raise SchemaError(f"species has {species.size} entries but positions have {n_atoms} atoms.",
                          fix="give one species label per atom, in the same order as the positions.")
    extra = {"time_is_frame_index": 1} if time is None and timestep_ps is None else {}
    if time is None:  # the frame index without a time step
        time = np.arange(n_frames, dtype=np.float64) * (1.0 if timestep_ps is None else float(timestep_ps))
    else:
        time = np.asarray(time, dtype=np.float64).reshape(-1)
        if time.shape != (n_frames,):
            raise SchemaError(f"time has {time.size} values for {n_frames} frames.",
                              fix="give one time (ps) per frame.")
    if timestep_ps is None and n_frames > 1 and not extra:  # never invent a time step from frame indices
        timestep_ps = float(np.median(np.diff(time)))
    frame = np.arange(n_frames) if frame is None else np.asarray(frame, dtype=np.int64)
    atom = np.arange(n_atoms) if atom is None else np.asarray(atom, dtype=np.int64)

    coords = {"frame": ("frame", frame), "atom": ("atom", atom), "xyz": ("xyz", XYZ),
              "time": ("frame", time, {"units": "ps"}), "species": ("atom", species.astype(str))}
    if mass is None:
        mass = default_masses(species)
    for name, values, unit in (("charge", charge, "e"), ("mass", mass, "amu"), ("molecule", molecule, None)):
        if values is not None:
            values = np.asarray(values)
            if values.shape != (n_atoms,):
                raise SchemaError(f"{name} has shape {values.shape}; expected ({n_atoms},).",
                                  fix=f"give one {name} per atom.")
            coords[name] = ("atom", values, {"units": unit} if unit else {})

    data = {"positions": (("frame", "atom", "xyz"), pos, {"units": "angstrom"})}
    if cell is not None:
        c = np.asarray(cell, dtype=np.float64)
        if c.shape == (3,):
            c = np.diag(c)
        c = _as_frames(c, "cell", 2)
        if c.shape[0] == 1 and n_frames > 1:
            c = np.repeat(c, n_frames, axis=0)
        if c.shape != (n_frames, 3, 3):
            raise SchemaError(f"cell has shape {np.shape(cell)}; expected (3, 3) or ({n_frames}, 3, 3).",
                              fix="give the three cell vectors as rows, once or per frame.")
        coords["cell_vector"] = ("cell_vector", CELL_VECTORS)
        data["cell"] = (("frame", "cell_vector", "xyz"), c, {"units": "angstrom"})
    for name, values in (("velocities", velocities), ("forces", forces)):
        if values is not None:
            data[name] = (("frame", "atom", "xyz"), _as_frames(values, name, 2), {"units": _PER_FRAME_ATOM_XYZ[name]})
    if potential_energy is not None:
        data["potential_energy"] = (("frame", "atom"), _as_frames(potential_energy, "potential_energy", 1),
                                    {"units": "eV"})
    if energy is not None:
        data["energy"] = (("frame",), np.asarray(energy, dtype=np.float64).reshape(n_frames), {"units": "eV"})
    if images is not None:
        data["images"] = (("frame", "atom", "xyz"), _as_frames(images, "images", 2).astype(np.int32))

    ds_attrs = {"units": UNITS, "source": str(source),
                "wrapped": -1 if wrapped is None else int(bool(wrapped))}
    if timestep_ps is not None:
        ds_attrs["timestep_ps"] = float(timestep_ps)
    if temperature_K is not None:
        ds_attrs["temperature_K"] = float(temperature_K)
    ds_attrs.update(extra)
    ds_attrs.update(attrs or {})
    if pbc is not None and cell is not None:
        flags = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
        if not flags.all():
            ds_attrs["pbc"] = pbc_text(flags)
    ds = xr.Dataset(data, coords=coords, attrs=ds_attrs)
    return validate(ds) if check else ds


def pbc_text(flags) -> str:
    """``"T T F"`` for periodicity flags along a, b, c."""
    return " ".join("T" if f else "F" for f in np.asarray(flags, dtype=bool))


def periodic_axes(ds: xr.Dataset) -> np.ndarray:
    """Periodicity (3 bools) along the cell vectors a, b, c: the ``pbc`` attr, else all True with a cell and all
    False without one."""
    if "cell" not in ds:
        return np.zeros(3, dtype=bool)
    text = ds.attrs.get("pbc")
    if text is None:
        return np.ones(3, dtype=bool)
    tokens = str(text).replace(",", " ").split()
    if len(tokens) != 3 or any(t.upper() not in ("T", "F", "1", "0", "TRUE", "FALSE") for t in tokens):
        raise SchemaError(f"attrs['pbc'] = {text!r} is not three periodicity flags.",
                          fix='write it as "T T F" (periodic along a and b, not c), or drop it if all are periodic.')
    return np.array([t.upper() in ("T", "1", "TRUE") for t in tokens])


def require_periodic(ds: xr.Dataset, what: str) -> None:
    """Raise CellError naming the directions when ``ds`` is not periodic along a, b and c (for analyses that
    need full periodicity, ``what`` names the analysis)."""
    flags = periodic_axes(ds)
    if "cell" in ds and not flags.all():
        axes = " and ".join(f"{v} ({x})" for v, x, f in zip(CELL_VECTORS, XYZ, flags) if not f)
        raise CellError(f"{what} needs a trajectory periodic along a, b and c, but this one (pbc "
                        f"{pbc_text(flags)}) is not periodic along {axes}.",
                        fix="run it on a bulk (fully periodic) trajectory; the structure functions handle "
                            "non-periodic directions (no minimum image across them).")


def validate(ds: xr.Dataset, require_cell: bool = False, check_finite: bool = True,
             periodic: str | None = None) -> xr.Dataset:
    """Check that ``ds`` follows the trajectory schema; return it unchanged or raise a clear error.

    Checks: required variables and dims, finite positions (and cell), cells of positive volume, strictly
    increasing time, one species label per atom, the ``pbc`` attr. ``require_cell=True`` is for periodic
    analyses; ``periodic="D2min"`` (the analysis name) also requires periodicity along a, b and c.
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"expected an xarray.Dataset trajectory, got {type(ds).__name__}.",
                          fix="build one with ssefeat.make_trajectory(...) or read one with ssefeat.io.read(path).")
    if "positions" not in ds:
        raise SchemaError("the trajectory has no 'positions' variable.",
                          fix="build it with ssefeat.make_trajectory(...) or ssefeat.io.read(path).")
    var = ds.variables  # plain Variables: no DataArray built per access
    if var["positions"].dims != ("frame", "atom", "xyz"):
        raise SchemaError(f"positions have dims {ds['positions'].dims}; expected ('frame', 'atom', 'xyz').",
                          fix="transpose with ds.transpose('frame', 'atom', 'xyz', ...).")
    if "species" not in ds.coords or var["species"].dims != ("atom",):
        raise SchemaError("the trajectory has no 'species (atom)' coordinate.",
                          fix="give species labels when building the trajectory (or a topology when reading).")
    if ds.sizes["atom"] == 0:
        raise SchemaError("the trajectory has no atoms.", fix="check the file and the atom selection.")
    if ds.sizes["frame"] == 0:
        raise SchemaError("the trajectory has no frames.", fix="check the file and start/stop/stride.")
    if check_finite:
        pos = np.asarray(var["positions"].values)
        bad = ~np.isfinite(pos)
        if bad.any():
            f, a, _ = np.argwhere(bad)[0]
            raise NonFiniteError(
                f"positions contain {int(bad.sum())} NaN or infinite values (first at frame {int(ds.frame[f])}, "
                f"atom {int(ds.atom[a])}).",
                fix="the simulation blew up or the file is corrupt; drop the bad frames (ds.isel(frame=...)) "
                    "or regenerate the trajectory.")
    if "time" in ds.coords and ds.sizes["frame"] > 1:
        dt = np.diff(np.asarray(var["time"].values, dtype=np.float64))
        if not np.all(dt > 0):
            k = int(np.argmax(~(dt > 0)))
            raise TimeOrderError(
                f"time does not increase between frames {int(ds.frame[k])} and {int(ds.frame[k + 1])} "
                f"({ds.time.values[k]} ps -> {ds.time.values[k + 1]} ps).",
                fix="sort frames by time and drop duplicates (e.g. restart overlaps): "
                    "ds = ds.isel(frame=np.unique(ds.time, return_index=True)[1]).")
    if "cell" in ds:
        cell = np.asarray(var["cell"].values, dtype=np.float64)
        if cell.shape[1:] != (3, 3) or var["cell"].dims[0] != "frame":
            raise SchemaError(f"cell has dims {ds['cell'].dims} and shape {cell.shape}; expected "
                              "(frame, cell_vector, xyz) with 3 x 3 per frame.",
                              fix="store the three cell vectors as rows for every frame.")
        if not np.isfinite(cell).all():
            raise NonFiniteError("the cell contains NaN or infinite values.",
                                 fix="repair the cell in the file, or drop the affected frames.")
        vol = _box.cell_volume(cell)
        if np.any(vol <= 1e-12):
            k = int(np.argmax(vol <= 1e-12))
            raise CellError(
                f"the cell of frame {int(ds.frame[k])} has volume {vol[k]:.6g} Å^3 (zero or negative).",
                fix="give three linearly independent cell vectors in right-handed order (a, b, c); a negative "
                    "volume means two vectors are swapped, a zero volume usually means the file has no cell.")
    elif require_cell:
        raise NoCellError(f"this analysis is periodic but the trajectory (source: {ds.attrs.get('source', '?')}) "
                          "has no cell.",
                          fix="read a format that stores the cell, or pass cell=... to make_trajectory / "
                              "ssefeat.io.read(path, cell=...).")
    periodic_axes(ds)  # a malformed pbc attr raises
    if periodic is not None:
        require_periodic(ds, periodic)
    for name in ("velocities", "forces", "images"):
        if name in ds and var[name].dims != ("frame", "atom", "xyz"):
            raise SchemaError(f"{name} has dims {ds[name].dims}; expected ('frame', 'atom', 'xyz').",
                              fix=f"store {name} with dims ('frame', 'atom', 'xyz') or drop it "
                                  f"(ds.drop_vars('{name}')).")
    if "potential_energy" in ds and var["potential_energy"].dims != ("frame", "atom"):
        raise SchemaError(f"potential_energy has dims {ds['potential_energy'].dims}; expected ('frame', 'atom').",
                          fix="store potential_energy per frame and atom, dims ('frame', 'atom'), or drop it.")
    return ds


def cell_array(ds: xr.Dataset) -> np.ndarray:
    """The cell of every frame as a float64 (n_frames, 3, 3) array; raises NoCellError when there is none."""
    if "cell" not in ds:
        validate(ds, require_cell=True)
    return np.asarray(ds.variables["cell"].values, dtype=np.float64)


def _times_cells(a: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """``einsum("fai,fij->faj", a, cells)`` (fractional -> Cartesian per frame) with the same products and sums,
    written out: 1.5-2x faster than einsum's generic loop, and no BLAS (whose threads only spin on such shapes)."""
    return (a[..., 0, None] * cells[:, None, 0, :] + a[..., 1, None] * cells[:, None, 1, :]
            + a[..., 2, None] * cells[:, None, 2, :])


class Unwrapper:
    """Unwrap positions chunk by chunk, carrying image counts across chunk boundaries.

    Without image flags, an atom's image is followed by the minimum-image convention between consecutive frames,
    done on fractional coordinates so that NPT (changing) and triclinic cells are handled. This is exact as long
    as no atom moves more than half a cell width between stored frames. A :class:`~ssefeat.errors.UnwrapWarning`
    is issued when an unwrapped step exceeds ``warn_fraction`` of the smallest perpendicular cell width, since
    a true step near half a width cannot be told apart from its periodic image.
    """

    def __init__(self, warn_fraction: float = 0.25):
        self.warn_fraction = warn_fraction
        self._last_frac = None
        self._images = None
        self.max_step = 0.0

    def __call__(self, ds: xr.Dataset) -> xr.Dataset:
        if ds.attrs.get("wrapped", -1) == 0 and "images" not in ds:
            cell_array(ds)
            return ds
        unwrapped = self.positions(ds)
        out = ds.copy()
        out["positions"] = (("frame", "atom", "xyz"), unwrapped.astype(ds["positions"].dtype),
                            dict(ds["positions"].attrs))
        if "images" in out:
            out = out.drop_vars("images")
        out.attrs["wrapped"] = 0
        out.attrs["unwrapped_by"] = "image flags" if "images" in ds else "minimum image between consecutive frames"
        return out

    def positions(self, ds: xr.Dataset, frames: slice = slice(None)) -> np.ndarray:
        """The unwrapped float64 positions (frame, atom, 3) of ``ds.isel(frame=frames)`` as a plain array (what
        :meth:`__call__` puts in its Dataset, without building one); a trajectory marked ``wrapped=0`` without image
        flags as stored."""
        var = ds.variables  # plain Variables: no DataArray is built per access
        cell = cell_array(ds)[frames]
        pos = np.asarray(var["positions"].values[frames], dtype=np.float64)
        if ds.attrs.get("wrapped", -1) == 0 and "images" not in ds:
            return pos
        if "images" in ds:
            images = np.asarray(var["images"].values[frames], dtype=np.float64)
            unwrapped = pos + _times_cells(images, cell)
        else:
            frac = np.ascontiguousarray(_box.to_fractional(pos, cell))
            if not frac.shape[0]:
                return frac
            prev = frac[0] if self._last_frac is None else self._last_frac
            start = np.zeros_like(frac[0]) if self._images is None else self._images
            # no image jumps across a non-periodic direction; one pass (numba), equal to the numpy expression
            unwrapped, self._images, step_len = _cells.unwrap_fractional(
                frac, np.ascontiguousarray(prev), start, np.ascontiguousarray(cell), periodic_axes(ds) * 1.0)
            self._last_frac = frac[-1].copy()
            width = float(_box.perpendicular_widths(cell).min())
            if step_len.size:
                worst = np.unravel_index(np.argmax(step_len), step_len.shape)
                self.max_step = max(self.max_step, float(step_len[worst]))
                if step_len[worst] > self.warn_fraction * width:
                    warnings.warn(
                        f"unwrapping may be ambiguous: atom {int(ds.atom[worst[1]])} moved "
                        f"{step_len[worst]:.2f} Å between frames (cell width {width:.2f} Å) at frame "
                        f"{int(ds.frame[frames][worst[0]])}. Store frames more often, or use a format with image "
                        "flags (LAMMPS dump with ix iy iz) or unwrapped coordinates.", UnwrapWarning, stacklevel=4)
        return unwrapped


def unwrap(ds: xr.Dataset, warn_fraction: float = 0.25) -> xr.Dataset:
    """Return a copy with unwrapped (continuous) positions.

    Uses the ``images`` variable when the file had image flags; otherwise follows each atom by minimum image
    between consecutive frames (triclinic and changing cells included) and warns when a step is large enough to
    make that ambiguous (see :class:`Unwrapper`). A trajectory marked ``wrapped=0`` is returned unchanged.
    """
    validate(ds, require_cell=True)
    return Unwrapper(warn_fraction)(ds)


def wrap(ds: xr.Dataset) -> xr.Dataset:
    """Return a copy with positions wrapped into the cell and ``images`` flags that undo it exactly."""
    cell = cell_array(ds)
    pos = np.asarray(ds["positions"].values, dtype=np.float64)
    wrapped, images = _box.wrap_positions(pos, cell)  # (F, N, 3) @ (F, 3, 3) broadcasts per frame
    open_axes = ~periodic_axes(ds)
    if open_axes.any():  # nothing is wrapped across a non-periodic direction
        images[..., open_axes] = 0
        wrapped = pos - np.einsum("fai,fij->faj", images.astype(np.float64), cell)
    if "images" in ds:
        images = images + np.asarray(ds["images"].values, dtype=np.int64)
    out = ds.copy()
    out["positions"] = (("frame", "atom", "xyz"), wrapped.astype(ds["positions"].dtype), dict(ds["positions"].attrs))
    out["images"] = (("frame", "atom", "xyz"), images.astype(np.int32))
    out.attrs["wrapped"] = 1
    return out


def positions_in(index, n: int, what: str, items: str, error=SelectionError) -> np.ndarray:
    """0-based positions (a slice, an int or ints; negatives count from the end) checked against ``n`` items.

    Raises ``error`` naming the first out-of-range position.
    """
    if isinstance(index, slice):
        return np.arange(n)[index]
    idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise error(f"{what} {int(bad[0])} is out of range for {n} {items}.",
                    fix=f"use positions from 0 to {n - 1} (or a slice).")
    return idx


def missing_species(labels, wanted: Sequence[str]) -> tuple[list[str], list[str]]:
    """(species of ``wanted`` absent from ``labels``, the species present, sorted)."""
    present = sorted(set(np.asarray(labels).astype(str).tolist()))
    return [s for s in wanted if s not in present], present


def species_indices(ds, species: str | Iterable[str] | None, what: str = "atoms of species",
                    error=SelectionError) -> np.ndarray:
    """Positions (int64, atom order) of the atoms of ``species`` (label(s); None: all) in ``ds`` (a trajectory, an
    object with a ``species`` coordinate, or the labels). An absent species (or none named) raises ``error``:
    "no {what}: species [...] not in the trajectory, which has [...]"."""
    labels = np.asarray(ds.variables["species"].values if isinstance(ds, xr.Dataset)
                        else ds["species"].values if isinstance(ds, xr.DataArray) else ds).astype(str)
    if species is None:
        return np.arange(labels.size, dtype=np.int64)
    wanted = [species] if isinstance(species, str) else [str(s) for s in species]
    missing, present = missing_species(labels, wanted)
    if missing or not wanted:
        raise error(f"no {what}: species {missing or wanted} not in the trajectory, which has {present}.",
                    fix="use one of the species listed (labels are case-sensitive).")
    return np.flatnonzero(np.isin(labels, wanted)).astype(np.int64)


def select(ds: xr.Dataset, species: str | Iterable[str] | None = None,
           index: int | Iterable[int] | slice | None = None) -> xr.Dataset:
    """Atoms of the given species and/or positions (0-based, in the current order); both must hold.

    Raises :class:`~ssefeat.errors.SelectionError` when a species is absent, an index is out of range, or the
    selection matches no atom. The ``atom`` coordinate keeps the original indices.
    """
    mask = np.zeros(ds.sizes["atom"], dtype=bool)
    mask[species_indices(ds, species)] = True
    if index is not None:
        n = ds.sizes["atom"]
        idx = positions_in(index, n, "atom index", "atoms", SelectionError)
        by_index = np.zeros(n, dtype=bool)
        by_index[idx] = True
        mask &= by_index
    if not mask.any():
        raise SelectionError(f"the selection (species={species!r}, index={index!r}) matches no atom.",
                             fix=f"the trajectory has species {missing_species(ds['species'].values, [])[1]} and "
                                 f"{ds.sizes['atom']} atoms.")
    return ds.isel(atom=np.flatnonzero(mask))


def species_counts(ds: xr.Dataset) -> dict[str, int]:
    """Number of atoms of each species, in order of first appearance."""
    labels, first, counts = np.unique(ds["species"].values, return_index=True, return_counts=True)
    order = np.argsort(first)
    return {str(labels[i]): int(counts[i]) for i in order}


def summary(ds: xr.Dataset) -> dict:
    """A plain-dict description of a trajectory (for ``ssefeat info``): counts, frames, time, cell, density."""
    out = {"n_atoms": int(ds.sizes["atom"]), "n_frames": int(ds.sizes["frame"]),
           "species": species_counts(ds), "source": ds.attrs.get("source", "")}
    t = np.asarray(ds["time"].values)
    out["time_ps"] = (float(t[0]), float(t[-1]))
    out["timestep_ps"] = ds.attrs.get("timestep_ps")
    wrapped = ds.attrs.get("wrapped", -1)
    out["wrapped"] = {1: "yes", 0: "no (unwrapped)", -1: "unknown"}.get(int(wrapped), "unknown")
    if "cell" in ds:
        cell = np.asarray(ds["cell"].values, dtype=np.float64)
        vol = _box.cell_volume(cell)
        lengths, angles = _box.lattice_parameters(cell[0])
        out["cell_lengths"] = lengths.tolist()
        out["pbc"] = pbc_text(periodic_axes(ds))
        out["cell_angles"] = angles.tolist()
        out["cell_constant"] = bool(np.allclose(cell, cell[0]))
        out["volume_A3"] = (float(vol.min()), float(vol.max()))
        out["number_density_per_A3"] = ds.sizes["atom"] / float(vol.mean())
        if "mass" in ds.coords:
            out["density_g_cm3"] = float(ds["mass"].values.sum()) / float(vol.mean()) * AMU_PER_ANGSTROM3_TO_G_PER_CM3
    else:
        out["cell_lengths"] = None
    for name in ("velocities", "forces", "potential_energy", "energy", "images"):
        out[f"has_{name}"] = name in ds
    if "temperature_K" in ds.attrs:
        out["temperature_K"] = ds.attrs["temperature_K"]
    return out
