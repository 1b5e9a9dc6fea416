"""Per-atom descriptors beside the structure functions: coordination numbers, Voronoi volume, Steinhardt q_l,
local number density, per-atom potential energy.

Every function returns a DataArray ``(frame, atom, feature)`` with the same coordinates as
:func:`~ssefeat.features.structure_functions.structure_functions` (the :data:`FEATURE_COORDS` of
:mod:`ssefeat.features.parameters` on ``feature``, units per feature in ``feature_units``), so the results
concatenate along ``feature`` (:func:`concat_features`). Rows are the atoms of ``centre`` (a species; None = all
atoms), in trajectory order. Values are finite: an atom without neighbours has coordination 0, density 0 and
q_l = 0 (freud would give NaN).

freud works in single precision on a centred box: positions go through :func:`ssefeat.box.to_freud`, and
neighbour lists come from :func:`ssefeat.neighbors.neighbor_pairs` (exact float64 cutoffs) where possible. Every
function takes ``neighbors``, one :class:`ssefeat.neighbors.FrameNeighbors` per frame, to share one search.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, missing_species, species_indices, validate
from ..errors import ParameterError
from ..neighbors import check_cutoff, frame_pairs
from ..provenance import stamp
from .parameters import FEATURE_COORDS, rows_to_coords
from .voronoi import periodic_voronoi_volumes

#: Per-system defaults (length unit of the system): coordination cutoffs per (centre, neighbour) pair at the first
#: minimum of the partial RDFs, the Steinhardt neighbour cutoff and the local-density radius.
DEFAULTS = {
    "li_sulfide": {"coordination": {("Li", "S"): 3.0, ("Li", "Li"): 3.5, ("Li", "P"): 3.6, ("P", "S"): 2.5,
                                    ("S", "Li"): 3.0, ("S", "P"): 2.5, ("P", "Li"): 3.6},
                   "steinhardt_cutoff": 3.5, "density_radius": 5.0, "length_unit": "angstrom"},
    "li_li": None,  # set below: the Li-Li-only structure functions describe the same Li thiophosphates
    "kob_andersen": {"coordination": {("A", "A"): 1.45, ("A", "B"): 1.25, ("B", "A"): 1.25, ("B", "B"): 1.075},
                     "steinhardt_cutoff": 1.45, "density_radius": 1.5, "length_unit": "sigma"},
}
DEFAULTS["li_li"] = DEFAULTS["li_sulfide"]


# --- shared plumbing ------------------------------------------------------------------------------
def _prepare(ds: xr.Dataset, frames, centre):
    validate(ds, require_cell=True, periodic="the descriptors (Voronoi, Steinhardt)")
    if frames is not None:
        ds = ds.isel(frame=[frames] if np.isscalar(frames) else frames)
    species = np.asarray(ds["species"].values).astype(str)
    centres = (np.arange(len(species)) if centre is None
               else species_indices(species, str(centre), "atoms of centre species"))
    return ds, species, centres, cell_array(ds), np.asarray(ds["positions"].values)


def _wrap(values: np.ndarray, ds: xr.Dataset, species, centres, rows, analysis: str, parameters: dict,
          centre) -> xr.DataArray:
    rows = [dict(r, centre=r.get("centre") or ("" if centre is None else str(centre))) for r in rows]
    coords = {"frame": ds["frame"].values, "atom": ds["atom"].values[centres],
              "species": ("atom", species[centres])}
    if "time" in ds.coords:
        coords["time"] = ("frame", ds["time"].values, dict(ds["time"].attrs))
    coords.update(rows_to_coords(rows))
    da = xr.DataArray(values, dims=("frame", "atom", "feature"), coords=coords, name=analysis)
    units = sorted(set(r["feature_units"] for r in rows))
    return stamp(da, parameters=dict(parameters, centre=centre), analysis=analysis,
                 units=units[0] if len(units) == 1 else "per feature: see the feature_units coordinate")


def _check_species(names, species, what):
    """``names`` (a label or labels; None stays None) as a list of str, each present in ``species``."""
    if names is None:
        return None
    names = [str(y) for y in ([names] if isinstance(names, str) else names)]
    missing, present = missing_species(species, names)
    if missing:
        raise ParameterError(f"{what} names species {missing} that are not in the trajectory (it has {present}).",
                             fix="use species present in the trajectory (labels are case-sensitive).")
    return names


# --- coordination numbers -------------------------------------------------------------------------
def _pair_cutoffs(cutoffs: Mapping, centre_species: np.ndarray, neighbours: Sequence[str]) -> np.ndarray:
    """(n_centres, n_neighbour_species) cutoffs; keys are a neighbour species or a (centre, neighbour) pair."""
    out = np.full((len(centre_species), len(neighbours)), np.nan)
    for k, y in enumerate(neighbours):
        for s in np.unique(centre_species):
            value = cutoffs.get((s, y), cutoffs.get(y))
            if value is None:
                raise ParameterError(f"no coordination cutoff for centre {s} and neighbour {y}.",
                                     fix=f"add {{('{s}', '{y}'): r_c}} (Å) to the coordination cutoffs.")
            if not (np.isfinite(value) and value > 0):
                raise ParameterError(f"coordination cutoff for {s}-{y} must be a positive length, got {value}.",
                                     fix=f"give the {s}-{y} cutoff as a finite length > 0 in Å, e.g. the first "
                                         f"minimum of g(r).")
            out[centre_species == s, k] = float(value)
    return out


def coordination_numbers(ds: xr.Dataset, cutoffs: Mapping, centre: str | None = None,
                         neighbours: Sequence[str] | None = None, frames=None, neighbors=None) -> xr.DataArray:
    """Number of neighbours of each species within a cutoff per (centre, neighbour) species pair.

    Parameters
    ----------
    cutoffs : mapping
        ``{neighbour: r_c}`` or ``{(centre, neighbour): r_c}`` in Å (pair keys win), e.g.
        ``{("Li", "S"): 3.0}``.
    centre : species of the rows (None: all atoms)
    neighbours : species to count (default: every neighbour species named in ``cutoffs``)

    Features ``cn_<centre>-<Y>`` (dimensionless), with ``cutoff`` on the feature coordinate when one value applies.
    """
    ds, species, centres, cells, pos = _prepare(ds, frames, centre)
    if neighbours is None:
        neighbours = list(dict.fromkeys(k[1] if isinstance(k, tuple) else k for k in cutoffs))
    neighbours = _check_species(list(neighbours), species, "the coordination cutoffs")
    rc = _pair_cutoffs(cutoffs, species[centres], neighbours)
    rmax = float(np.nanmax(rc))
    check_cutoff(rmax, cells, "coordination cutoff", frames=ds["frame"].values)
    points = np.flatnonzero(np.isin(species, neighbours))
    code = np.full(len(species), -1)
    for k, y in enumerate(neighbours):
        code[species == y] = k
    out = np.zeros((len(cells), len(centres), len(neighbours)))
    for f in range(len(cells)):
        pairs = frame_pairs(neighbors, f, pos[f], cells[f], rmax, query=centres, points=points)
        kk = code[points[pairs.j]]
        keep = pairs.distances < rc[pairs.i, kk]
        np.add.at(out[f], (pairs.i[keep], kk[keep]), 1.0)
    label = "any" if centre is None else centre
    rows = []
    for k, y in enumerate(neighbours):
        col = np.unique(rc[:, k])
        rows.append(dict(FEATURE_COORDS, name=f"cn_{label}-{y}", kind="coordination", species_j=y,
                         cutoff=float(col[0]) if len(col) == 1 else math.nan, feature_units="1"))
    return _wrap(out, ds, species, centres, rows, "coordination_numbers",
                 {"cutoffs": {"-".join(k) if isinstance(k, tuple) else k: v for k, v in cutoffs.items()},
                  "neighbours": neighbours}, centre)


# --- Voronoi volume -------------------------------------------------------------------------------
def voronoi_volume(ds: xr.Dataset, centre: str | None = None, frames=None, neighbors=None) -> xr.DataArray:
    """Voronoi cell volume of each atom (periodic, over all atoms), Å^3, exact in float64
    (:func:`ssefeat.features.voronoi.periodic_voronoi_volumes`).

    The tessellation uses every atom of the frame; rows are the centre atoms. Feature ``voronoi_volume``.
    """
    ds, species, centres, cells, pos = _prepare(ds, frames, centre)
    out = np.zeros((len(cells), len(centres), 1))
    for f in range(len(cells)):
        out[f, :, 0] = periodic_voronoi_volumes(pos[f], cells[f], query=centres,
                                                neighbors=None if neighbors is None else neighbors[f])
    rows = [dict(FEATURE_COORDS, name="voronoi_volume", kind="voronoi_volume", feature_units="angstrom^3")]
    return _wrap(out, ds, species, centres, rows, "voronoi_volume",
                 {"method": "float64 cells cut by the neighbours' bisector planes"}, centre)


# --- Steinhardt q_l -------------------------------------------------------------------------------
def steinhardt(ds: xr.Dataset, cutoff: float, l: Sequence[int] = (4, 6), centre: str | None = None,
               neighbours: Sequence[str] | None = None, average: bool = False, frames=None,
               neighbors=None) -> xr.DataArray:
    """Steinhardt bond-orientational order q_l of each atom (freud.order.Steinhardt).

    Neighbours: atoms of ``neighbours`` (default all species) within ``cutoff`` (Å, float64 minimum image).
    ``average=True`` gives the Lechner-Dellago averaged q_l (it needs the neighbours' own neighbours: every atom is
    a query); plain q_l queries only the centres. Atoms with no neighbour get 0. Features ``q<l>``.
    """
    import freud

    ls = [int(v) for v in np.atleast_1d(l)]
    if not ls or any(v < 0 for v in ls):
        raise ParameterError(f"Steinhardt orders l must be non-negative integers, got {list(np.atleast_1d(l))}.",
                             fix="pass l as integers >= 0, e.g. l=(4, 6).")
    ds, species, centres, cells, pos = _prepare(ds, frames, centre)
    neighbours = _check_species(neighbours, species, "the Steinhardt neighbours")
    check_cutoff(float(cutoff), cells, "Steinhardt cutoff", frames=ds["frame"].values)
    n = len(species)
    ok_j = np.ones(n, bool) if neighbours is None else np.isin(species, neighbours)
    out = np.zeros((len(cells), len(centres), len(ls)))
    op = freud.order.Steinhardt(l=ls, average=average)
    query = None if average else centres  # plain q_l of an atom depends on its own neighbours only
    rows = np.arange(n) if average else centres
    for f in range(len(cells)):
        pairs = frame_pairs(neighbors, f, pos[f], cells[f], float(cutoff), query=query)
        keep = ok_j[pairs.j]
        fbox, fpos = _box.to_freud(cells[f], pos[f])
        if not keep.any():
            continue
        # freud's box is rotated relative to ours: express the exact vectors in it
        vec = _box.to_cartesian(_box.to_fractional(pairs.vectors[keep], cells[f]),
                                _freud_cell(cells[f]))
        nlist = freud.locality.NeighborList.from_arrays(n, n, rows[pairs.i[keep]], pairs.j[keep],
                                                        vec.astype(np.float32))
        op.compute((fbox, fpos), neighbors=nlist)
        q = np.asarray(op.particle_order, dtype=np.float64).reshape(n, len(ls))
        out[f] = np.nan_to_num(q[centres], nan=0.0)
    rows = [dict(FEATURE_COORDS, name=f"{'qbar' if average else 'q'}{v}", kind="steinhardt", l=float(v),
                 cutoff=float(cutoff), species_j="" if neighbours is None else ",".join(neighbours),
                 feature_units="1") for v in ls]
    return _wrap(out, ds, species, centres, rows, "steinhardt",
                 {"l": ls, "cutoff": float(cutoff), "neighbours": neighbours, "average": average}, centre)


def _freud_cell(cell):
    lx, ly, lz, xy, xz, yz = _box.upper_triangular_form(cell)
    return np.array([[lx, 0.0, 0.0], [xy * ly, ly, 0.0], [xz * lz, yz * lz, lz]])


# --- local density --------------------------------------------------------------------------------
def local_density(ds: xr.Dataset, radius: float, centre: str | None = None,
                  neighbours: Sequence[str] | None = None, frames=None, neighbors=None) -> xr.DataArray:
    """Local number density: other atoms (of ``neighbours``, default all) within ``radius`` divided by
    (4/3) pi radius^3, in Å^-3. The centre itself is not counted. Feature ``density_r<radius>``."""
    ds, species, centres, cells, pos = _prepare(ds, frames, centre)
    neighbours = _check_species(neighbours, species, "the density neighbours")
    points = None if neighbours is None else np.flatnonzero(np.isin(species, neighbours))
    check_cutoff(float(radius), cells, "density radius", frames=ds["frame"].values)
    vol = 4.0 / 3.0 * math.pi * float(radius) ** 3
    out = np.zeros((len(cells), len(centres), 1))
    for f in range(len(cells)):
        pairs = frame_pairs(neighbors, f, pos[f], cells[f], float(radius), query=centres, points=points)
        out[f, :, 0] = pairs.counts / vol
    tag = "" if neighbours is None else "_" + "".join(neighbours)
    rows = [dict(FEATURE_COORDS, name=f"density{tag}_r{float(radius):g}", kind="density", cutoff=float(radius),
                 species_j="" if neighbours is None else ",".join(neighbours), feature_units="angstrom^-3")]
    return _wrap(out, ds, species, centres, rows, "local_density",
                 {"radius": float(radius), "neighbours": neighbours}, centre)


# --- potential energy -----------------------------------------------------------------------------
def potential_energy(ds: xr.Dataset, centre: str | None = None, frames=None) -> xr.DataArray:
    """Per-atom potential energy from the trajectory's ``potential_energy (frame, atom)`` variable, eV."""
    if "potential_energy" not in ds:
        raise ParameterError("the trajectory has no per-atom potential_energy.",
                             fix="read a file with per-atom energies (e.g. a LAMMPS dump with c_pe) or leave out "
                                 "the potential-energy descriptor.")
    ds, species, centres, cells, pos = _prepare(ds, frames, centre)
    values = np.asarray(ds["potential_energy"].values, dtype=np.float64)[:, centres, None]
    if not np.isfinite(values).all():
        raise ParameterError("potential_energy contains NaN or infinite values.",
                             fix="drop the affected frames or recompute the energies.")
    rows = [dict(FEATURE_COORDS, name="potential_energy", kind="potential_energy", feature_units="eV")]
    return _wrap(values, ds, species, centres, rows, "potential_energy", {}, centre)


# --- all of them ----------------------------------------------------------------------------------
def concat_features(arrays: Sequence[xr.DataArray], name: str = "features") -> xr.DataArray:
    """Concatenate feature arrays of the same frames and atoms along ``feature`` (names must be unique)."""
    arrays = [a for a in arrays if a is not None]
    if not arrays:
        raise ParameterError("no feature arrays to concatenate.",
                             fix="pass at least one feature DataArray (structure_functions, descriptors, ...).")
    first = arrays[0]
    for a in arrays[1:]:
        if not (np.array_equal(a["atom"].values, first["atom"].values)
                and np.array_equal(a["frame"].values, first["frame"].values)):
            raise ParameterError("feature arrays cover different frames or atoms and cannot be put side by side.",
                                 fix="compute them on the same trajectory chunk with the same centre species.")
    full = []
    for a in arrays:
        missing = {k: ("feature", np.full(a.sizes["feature"], v, dtype=np.float64 if isinstance(v, float) else
                                          object).astype(np.float64 if isinstance(v, float) else str))
                   for k, v in FEATURE_COORDS.items() if k not in a.coords}
        full.append(a.assign_coords(missing) if missing else a)
    out = xr.concat(full, dim="feature", coords="minimal", compat="override", combine_attrs="drop")
    names = out["feature"].values.tolist()
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ParameterError(f"feature names {dup} appear twice.", fix="do not add the same descriptor twice.")
    out.name = name
    for key in ("parameter_set", "parameter_fingerprint", "length_unit"):  # the first array's that has it
        holder = next((a for a in arrays if key in a.attrs), None)
        if holder is not None:
            out.attrs[key] = holder.attrs[key]
    units = sorted(set(np.asarray(out["feature_units"].values).astype(str).tolist()))
    return stamp(out, parameters={"parts": [a.attrs.get("analysis", a.name) for a in arrays]},
                 units=units[0] if len(units) == 1 else "per feature: see the feature_units coordinate",
                 analysis="concat_features")


def descriptors(ds: xr.Dataset, centre: str | None = None, system: str | None = None, *,
                coordination: Mapping | None = None, voronoi: bool = True, steinhardt_l: Sequence[int] = (4, 6),
                steinhardt_cutoff: float | None = None, density_radius: float | None = None,
                potential: bool | None = None, frames=None, neighbors=None) -> xr.DataArray:
    """All descriptors of the centre atoms in one ``(frame, atom, feature)`` array.

    ``system`` (``"li_sulfide"``, ``"kob_andersen"``) supplies the defaults of :data:`DEFAULTS` for
    ``coordination`` cutoffs, ``steinhardt_cutoff`` and ``density_radius``; give them explicitly otherwise.
    Coordination cutoffs whose species are absent from the trajectory are skipped. ``steinhardt_l=()`` skips
    q_l; ``potential=None`` adds the per-atom potential energy when the trajectory has it. ``neighbors``: one
    :class:`~ssefeat.neighbors.FrameNeighbors` per frame (after ``frames``), shared by every part.
    """
    defaults = DEFAULTS.get(system, {}) if system else {}
    if system and system not in DEFAULTS:
        raise ParameterError(f"unknown system {system!r}.", fix=f"use one of {sorted(DEFAULTS)}.")
    coordination = defaults.get("coordination") if coordination is None else coordination
    steinhardt_cutoff = defaults.get("steinhardt_cutoff") if steinhardt_cutoff is None else steinhardt_cutoff
    density_radius = defaults.get("density_radius") if density_radius is None else density_radius
    species = set(np.asarray(ds["species"].values).astype(str).tolist())
    parts = []
    if coordination:
        def key_neighbour(k):
            return k[1] if isinstance(k, tuple) else k

        def key_centre_ok(k, s):
            return (k[0] == s) if isinstance(k, tuple) else True

        row_species = species if centre is None else {centre}
        usable = {}
        for y in dict.fromkeys(key_neighbour(k) for k in coordination):
            if y not in species:
                continue
            keys = {k: v for k, v in coordination.items() if key_neighbour(k) == y
                    and any(key_centre_ok(k, s) for s in row_species)}
            # every row species needs a cutoff for y, else the column is skipped
            if keys and all(any(key_centre_ok(k, s) for k in keys) for s in row_species):
                usable.update(keys)
        if usable:
            parts.append(coordination_numbers(ds, usable, centre=centre, frames=frames, neighbors=neighbors))
    if voronoi:
        parts.append(voronoi_volume(ds, centre=centre, frames=frames, neighbors=neighbors))
    if steinhardt_l:
        if steinhardt_cutoff is None:
            raise ParameterError("Steinhardt q_l needs a neighbour cutoff.",
                                 fix="pass steinhardt_cutoff=... (Å) or system=..., or steinhardt_l=() to skip.")
        parts.append(steinhardt(ds, steinhardt_cutoff, l=steinhardt_l, centre=centre, frames=frames,
                                neighbors=neighbors))
    if density_radius is not None:
        parts.append(local_density(ds, density_radius, centre=centre, frames=frames, neighbors=neighbors))
    if potential or (potential is None and "potential_energy" in ds):
        parts.append(potential_energy(ds, centre=centre, frames=frames))
    return concat_features(parts, name="descriptors")
