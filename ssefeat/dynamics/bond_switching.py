"""Bond switching relative to a reference frame (thesis 4.1.3; e.g. B-O under tensile load, Li-S in a glass).

For every centre atom i (species ``centre``) the coordination shell is the set of ``neighbour`` atoms within
``cutoff`` (minimum image). Each frame's shell is compared with the shell in the reference frame:

==  ==============  ======================================================
0   unchanged       same neighbour set
1   decreased       fewer neighbours than in the reference (lower CN)
2   increased       more neighbours than in the reference (higher CN)
3   swapped         same CN, different neighbours (a bond broke and another formed)
==  ==============  ======================================================

Positions may be wrapped (shells only need minimum image within a frame). Neighbour identities are atom
indices, so categories follow the atoms through the trajectory.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import cell_array, species_indices, validate
from ..errors import ParameterError
from ..neighbors import neighbor_pairs
from ..provenance import stamp
from . import _label_kernels as _k
from .d2min import _check_cutoff_all, _check_int

__all__ = ["bond_switching", "iter_bond_switching", "CATEGORIES"]

#: category codes -> names
CATEGORIES = ("unchanged", "decreased", "increased", "swapped")


def _frame_shells(ds: xr.Dataset, frames, cells: np.ndarray, cutoff, centres, points):
    """Shells (CSR offsets, neighbour indices) of the frames at positions ``frames`` of ``ds``, one at a time."""
    pos = ds["positions"]
    for f in frames:
        pairs = neighbor_pairs(np.asarray(pos[int(f)].values, np.float64), cells[int(f)], cutoff, query=centres,
                               points=points)
        yield _k.csr_offsets(pairs.i, len(centres)), np.ascontiguousarray(pairs.j)


def _classify(ref, shells, nf: int, progress: bool = False):
    """Category, CN, broken and formed bonds (frames, centres) of ``nf`` frames' shells against the reference."""
    ref_off, ref_j = ref
    nc = len(ref_off) - 1
    cat = np.zeros((nf, nc), dtype=np.int8)
    cn = np.zeros((nf, nc), dtype=np.int32)
    lost = np.zeros((nf, nc), dtype=np.int32)
    gained = np.zeros((nf, nc), dtype=np.int32)
    iterator = enumerate(shells)
    if progress:
        from ..progress import track

        iterator = track(iterator, total=nf, desc="bond switching", unit="frame")
    for k, (off, j) in iterator:
        _k.switching_kernel(ref_off, ref_j, off, j, cat[k], cn[k], lost[k], gained[k])
    return cat, cn, lost, gained


def _result(frame, time, atom, species, ref, classified, params) -> xr.Dataset:
    cat, cn, lost, gained = classified
    counts = np.stack([(cat == c).sum(axis=1) for c in range(len(CATEGORIES))], axis=1)
    out = xr.Dataset(coords={"frame": frame, "time": ("frame", time, {"units": "ps"}), "atom": atom,
                             "species": ("atom", species), "category": list(CATEGORIES)})
    out["category_code"] = (("frame", "atom"), cat, {
        "flag_values": np.arange(len(CATEGORIES), dtype=np.int8), "flag_meanings": " ".join(CATEGORIES),
        "long_name": "bond-switching category relative to the reference frame"})
    out["cn"] = (("frame", "atom"), cn, {"units": "1"})
    out["cn_reference"] = ("atom", np.diff(ref[0]).astype(np.int32), {"units": "1"})
    out["n_broken"] = (("frame", "atom"), lost, {"units": "1", "description": "reference bonds no longer present"})
    out["n_formed"] = (("frame", "atom"), gained, {"units": "1", "description": "bonds absent in the reference"})
    out["counts"] = (("frame", "category"), counts.astype(np.int64), {"units": "atoms"})
    return stamp(out, parameters=params, units="1", analysis="bond_switching")


def bond_switching(ds: xr.Dataset, reference: int, centre, neighbour, cutoff: float, *, frames=None,
                   progress: bool = False) -> xr.Dataset:
    """Per atom and frame: unchanged / decreased CN / increased CN / swapped, relative to frame ``reference``.

    Parameters
    ----------
    ds : trajectory Dataset with a cell
    reference : int, position (0-based) of the reference frame in ``ds``
    centre, neighbour : str or list of species (e.g. "B" and "O", or "Li" and "S")
    cutoff : float, Å, the bond length cutoff (below half the smallest cell width)
    frames : int array, optional; positions of the frames to classify (default all)
    progress : bool; tqdm progress bar

    Returns
    -------
    xarray.Dataset with ``category`` (frame, atom) int8 (codes in :data:`CATEGORIES`, also in attrs
    ``flag_values`` / ``flag_meanings``), ``cn`` (frame, atom), ``cn_reference`` (atom), ``n_broken`` /
    ``n_formed`` (frame, atom: reference bonds lost / new bonds) and ``counts`` (frame, category).
    :func:`iter_bond_switching` gives the same result chunk by chunk.
    """
    validate(ds, require_cell=True, periodic="bond switching")
    n_frames = ds.sizes["frame"]
    reference = _check_int(reference, "reference", minimum=0)
    if reference >= n_frames:
        raise ParameterError(f"reference frame {reference} is outside the trajectory ({n_frames} frames).",
                             fix=f"use a reference between 0 and {n_frames - 1}.")
    frames = np.arange(n_frames) if frames is None else np.atleast_1d(np.asarray(frames, dtype=np.int64))
    if frames.size and (frames.min() < 0 or frames.max() >= n_frames):
        raise ParameterError(f"frames must lie between 0 and {n_frames - 1}.",
                             fix=f"pass frame indices in [0, {n_frames - 1}], or frames=None for all.")
    cells = cell_array(ds)
    cutoff = _check_cutoff_all(cutoff, cells[np.unique(np.concatenate([frames, [reference]]))])
    centres = species_indices(ds, centre, "atoms of centre species")
    points = species_indices(ds, neighbour, "atoms of neighbour species")
    ref = next(_frame_shells(ds, [reference], cells, cutoff, centres, points))
    classified = _classify(ref, _frame_shells(ds, frames, cells, cutoff, centres, points), frames.size, progress)
    params = dict(reference=reference, reference_frame=int(ds["frame"].values[reference]), centre=centre,
                  neighbour=neighbour, cutoff=cutoff, frames=None if frames.size == n_frames else frames)
    return _result(ds["frame"].values[frames], ds["time"].values[frames], ds["atom"].values[centres],
                   ds["species"].values[centres], ref, classified, params)


def iter_bond_switching(chunks, reference: int, centre, neighbour, cutoff: float):
    """:func:`bond_switching` over trajectory chunks (e.g. ``ssefeat.io.iter_chunks``), memory bounded by a chunk.

    ``reference`` is the position (0-based) of the reference frame in the whole sequence of chunks. Yields one
    result per chunk (consecutive, disjoint frame ranges) that together equal ``bond_switching(whole trajectory,
    reference, ...)``. Chunks before the one holding the reference are kept only as their coordination shells
    (neighbour indices, not positions) until the reference is read; with ``reference=0`` nothing is kept.
    """
    reference = _check_int(reference, "reference", minimum=0)
    ref = None
    pending = []  # (chunk coords, shells) of the chunks read before the reference
    seen = 0
    ref_frame = None
    setup = None

    def finish(info, shells):
        frame, time, atom, species = info
        params = dict(reference=reference, reference_frame=ref_frame, centre=centre, neighbour=neighbour,
                      cutoff=setup[0], frames=None, chunked=True)
        return _result(frame, time, atom, species, ref, _classify(ref, shells, len(shells)), params)

    for chunk in chunks:
        validate(chunk, require_cell=True, periodic="bond switching")
        n = chunk.sizes["frame"]
        cells = cell_array(chunk)
        cut = _check_cutoff_all(cutoff, cells)
        centres = species_indices(chunk, centre, "atoms of centre species")
        points = species_indices(chunk, neighbour, "atoms of neighbour species")
        if setup is None:
            setup = (cut, centres, points)
        elif not (np.array_equal(centres, setup[1]) and np.array_equal(points, setup[2])):
            raise ParameterError(f"the chunk starting at frame position {seen} has different atoms than the first.",
                                 fix="give chunks of one trajectory (the same atoms in the same order).")
        shells = list(_frame_shells(chunk, range(n), cells, cut, centres, points))
        info = (chunk["frame"].values, chunk["time"].values, chunk["atom"].values[centres],
                chunk["species"].values[centres])
        if ref is None and seen <= reference < seen + n:
            ref = shells[reference - seen]
            ref_frame = int(chunk["frame"].values[reference - seen])
            for item in pending:
                yield finish(*item)
            pending = []
        seen += n
        if ref is None:
            pending.append((info, shells))
        else:
            yield finish(info, shells)
    if setup is None:
        raise ParameterError("no trajectory chunks were given.", fix="check the file and start/stop/stride.")
    if ref is None:
        raise ParameterError(f"reference frame {reference} is outside the trajectory ({seen} frames).",
                             fix=f"use a reference between 0 and {seen - 1}.")
