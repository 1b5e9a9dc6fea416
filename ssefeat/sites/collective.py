"""Collective (correlated) jumps: pairs of jumps by different ions close in time and space.

GEMDAT's rule with an explicit window: jumps p and q of different ions are collective when their
[departure, arrival] frame intervals come within ``max_frames`` of each other and an end site (from or to) of one is
within ``max_dist`` Å of an end site of the other (minimum image in the mean cell). A jump in no such pair is solo.
GEMDAT derives its window from the attempt frequency; here it is a parameter (``max_time`` ps or ``max_frames``).
Every pair is examined (jumps sorted by departure make the early exit exact); GEMDAT 1.8's scan, sorted by arrival,
can stop early and miss pairs its rule accepts (11 of 1779 in tests/test_sites.py), so its solo count can be
slightly higher.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp
from . import _kernels as K


def collective_jumps(jumps: xr.Dataset, max_dist: float = 1.0, *, max_time: float | None = None,
                     max_frames: int | None = None) -> xr.Dataset:
    """Collective jump pairs (module docstring). Give the window as ``max_time`` (ps) or ``max_frames``.

    Returns ``jump_a``, ``jump_b`` on a ``pair`` dimension (indices into the jumps), ``collective (jump)`` bool,
    ``pair_count (jump_type, other_type)`` (pairs counted per ordered pair of jump types "A->B"), and attrs
    ``n_jumps``, ``n_solo``, ``n_collective``, ``solo_fraction``.
    """
    if (max_time is None) == (max_frames is None):
        raise ParameterError("give the collective window as max_time (ps) or max_frames, one of the two.",
                             fix="pass max_time=... (ps) or max_frames=..., not both and not neither.")
    if not max_dist > 0:
        raise ParameterError(f"max_dist={max_dist} must be a positive distance in Å.", fix="give max_dist > 0 in Å.")
    if max_frames is None:
        step = float(jumps.attrs["duration_ps"]) / max(int(jumps.attrs["n_frames"]) - 1, 1)
        max_frames = int(np.floor(float(max_time) / step + 1e-9))
    if int(max_frames) < 0:
        raise ParameterError(f"the collective window must be >= 0 frames, got {max_frames}.",
                             fix="give max_time >= 0 (ps) or max_frames >= 0.")
    dep = jumps["departure_frame"].values.astype(np.int64)
    arr = jumps["arrival_frame"].values.astype(np.int64)
    order = np.lexsort((arr, dep))
    a, b = K.collective_pairs(dep[order], arr[order], jumps["ion"].values[order].astype(np.int64),
                              jumps["from_site"].values[order].astype(np.int64),
                              jumps["to_site"].values[order].astype(np.int64),
                              np.ascontiguousarray(jumps["site_fractional"].values, dtype=np.float64),
                              np.ascontiguousarray(jumps["mean_cell"].values, dtype=np.float64),
                              int(max_frames), float(max_dist))
    pa, pb = order[a], order[b]
    n = jumps.sizes["jump"]
    coll = np.zeros(n, dtype=bool)
    coll[pa] = True
    coll[pb] = True
    names = np.char.add(np.char.add(jumps["from_label"].values.astype(str), "->"), jumps["to_label"].values.astype(str))
    types = sorted(set(names.tolist()))
    lookup = {t: k for k, t in enumerate(types)}
    ti = np.array([lookup[v] for v in names.tolist()], dtype=np.int64)
    counts = np.zeros((len(types), len(types)), dtype=np.int64)
    np.add.at(counts, (ti[pa], ti[pb]), 1)
    out = xr.Dataset({"jump_a": ("pair", pa), "jump_b": ("pair", pb), "collective": ("jump", coll),
                      "pair_count": (("jump_type", "other_type"), counts)},
                     coords={"jump_type": types, "other_type": types})
    n_coll = int(coll.sum())
    out.attrs.update(n_jumps=int(n), n_collective=n_coll, n_solo=int(n) - n_coll,
                     solo_fraction=float((n - n_coll) / n) if n else float("nan"))
    return stamp(out, parameters=dict(max_dist_angstrom=float(max_dist), max_frames=int(max_frames)), units="",
                 analysis="ssefeat.sites.collective.collective_jumps")
