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

from ..data import cell_array, validate
from ..errors import ParameterError
from ..neighbors import neighbor_pairs
from ..provenance import stamp
from . import _label_kernels as _k
from .d2min import _check_cutoff_all, _check_int, _species_indices

__all__ = ["bond_switching", "CATEGORIES"]

#: category codes -> names
CATEGORIES = ("unchanged", "decreased", "increased", "swapped")


def _shells(positions, cell, cutoff, centres, points):
    pairs = neighbor_pairs(positions, cell, cutoff, query=centres, points=points)
    return _k.csr_offsets(pairs.i, len(centres)), np.ascontiguousarray(pairs.j)


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
    """
    validate(ds, require_cell=True)
    n_frames = ds.sizes["frame"]
    reference = _check_int(reference, "reference", minimum=0)
    if reference >= n_frames:
        raise ParameterError(f"reference frame {reference} is outside the trajectory ({n_frames} frames).",
                             fix=f"use a reference between 0 and {n_frames - 1}.")
    frames = np.arange(n_frames) if frames is None else np.atleast_1d(np.asarray(frames, dtype=np.int64))
    if frames.size and (frames.min() < 0 or frames.max() >= n_frames):
        raise ParameterError(f"frames must lie between 0 and {n_frames - 1}.")
    cells = cell_array(ds)
    cutoff = _check_cutoff_all(cutoff, cells[np.unique(np.concatenate([frames, [reference]]))])
    centres = _species_indices(ds, centre, "centre species")
    points = _species_indices(ds, neighbour, "neighbour species")
    pos = ds["positions"].values
    ref_off, ref_j = _shells(np.asarray(pos[reference], np.float64), cells[reference], cutoff, centres, points)
    nc = len(centres)
    cat = np.zeros((frames.size, nc), dtype=np.int8)
    cn = np.zeros((frames.size, nc), dtype=np.int32)
    lost = np.zeros((frames.size, nc), dtype=np.int32)
    gained = np.zeros((frames.size, nc), dtype=np.int32)
    iterator = enumerate(frames)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=frames.size, desc="bond switching", unit="frame")
    for k, f in iterator:
        off, j = _shells(np.asarray(pos[int(f)], np.float64), cells[int(f)], cutoff, centres, points)
        _k.switching_kernel(ref_off, ref_j, off, j, cat[k], cn[k], lost[k], gained[k])
    counts = np.stack([(cat == c).sum(axis=1) for c in range(len(CATEGORIES))], axis=1)
    sel = ds.isel(frame=frames, atom=centres)
    out = xr.Dataset(coords={"frame": sel["frame"].values, "time": ("frame", sel["time"].values, {"units": "ps"}),
                             "atom": sel["atom"].values, "species": ("atom", sel["species"].values),
                             "category": list(CATEGORIES)})
    out["category_code"] = (("frame", "atom"), cat, {
        "flag_values": np.arange(len(CATEGORIES), dtype=np.int8), "flag_meanings": " ".join(CATEGORIES),
        "long_name": "bond-switching category relative to the reference frame"})
    out["cn"] = (("frame", "atom"), cn, {"units": "1"})
    out["cn_reference"] = ("atom", np.diff(ref_off).astype(np.int32), {"units": "1"})
    out["n_broken"] = (("frame", "atom"), lost, {"units": "1", "description": "reference bonds no longer present"})
    out["n_formed"] = (("frame", "atom"), gained, {"units": "1", "description": "bonds absent in the reference"})
    out["counts"] = (("frame", "category"), counts.astype(np.int64), {"units": "atoms"})
    params = dict(reference=reference, reference_frame=int(ds["frame"].values[reference]), centre=centre,
                  neighbour=neighbour, cutoff=cutoff, frames=None if frames.size == n_frames else frames)
    return stamp(out, parameters=params, units="1", analysis="bond_switching")
