"""Verlet neighbour lists for the MD engine: cell lists in fractional coordinates, triclinic cells, a skin.

The list holds every pair (i < j) whose minimum-image distance is below ``r_list = cutoff + skin`` at build time.
It stays valid while no pair can have come closer than ``cutoff`` without being listed, which is guaranteed while

    2 * max_i |(s_i - s_i^build) @ cell| + r_list * ||cell_build^-1 @ (cell - cell_build)||_F  <=  skin

(s = fractional coordinates; the second term bounds how much a homogeneous cell deformation, as in NPT or
tensile runs, changes a listed separation). For a constant cell this is the usual "rebuild when an atom moved more
than skin/2" rule. Positions do not need to be wrapped: everything is done in fractional coordinates.

Cell lists bin wrapped fractional coordinates on the cell grid of :mod:`ssefeat._cell_kernels` (the one the
analyses' neighbour pairs use) with bins at least r_list wide, so the half stencil (own bin + 13 neighbour bins)
finds every pair exactly once, together with its periodic image code. When a direction has fewer than 3 bins
(small boxes) the build falls back to an all-pairs search (still numba, parallel). Minimum image is taken by
rounding fractional differences (:func:`minimum_image_vector`); the force field refuses interaction cutoffs at or
above half the smallest perpendicular width (:func:`ssefeat.box.check_cutoff`), where that convention stops being
unique.
"""
from __future__ import annotations

import math
import os

# numba's OpenMP layer (GNU libgomp) busy-waits between parallel regions by default; on a shared or
# oversubscribed machine that makes a 2-thread force loop ~10x slower than 1 thread. Passive waiting costs a few
# microseconds per region and nothing else. Only effective if set before the first parallel kernel runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
from numba import njit, prange

from .. import _cell_kernels as _cells
from .. import box as _box
from .._cell_kernels import image_shift, minimum_image_vector, wrap_bin
from ..errors import ParameterError

__all__ = ["VerletList", "minimum_image_vector", "pair_distances"]


@njit(cache=True)
def _max_displacement(positions, hinv, h, s_build):
    """max_i |(s_i - s_i^build) @ h| with s = positions @ hinv."""
    n = positions.shape[0]
    best = 0.0
    for i in range(n):
        x, y, z = positions[i, 0], positions[i, 1], positions[i, 2]
        ds0 = x * hinv[0, 0] + y * hinv[1, 0] + z * hinv[2, 0] - s_build[i, 0]
        ds1 = x * hinv[0, 1] + y * hinv[1, 1] + z * hinv[2, 1] - s_build[i, 1]
        ds2 = x * hinv[0, 2] + y * hinv[1, 2] + z * hinv[2, 2] - s_build[i, 2]
        dx = ds0 * h[0, 0] + ds1 * h[1, 0] + ds2 * h[2, 0]
        dy = ds0 * h[0, 1] + ds1 * h[1, 1] + ds2 * h[2, 1]
        dz = ds0 * h[0, 2] + ds1 * h[1, 2] + ds2 * h[2, 2]
        d2 = dx * dx + dy * dy + dz * dz
        if d2 > best:
            best = d2
    return math.sqrt(best)


# half stencil: the own bin (with j > i) and the 13 neighbour bins of positive lexicographic order (z, y, x)
_STENCIL = np.array([(ox, oy, oz) for oz in (-1, 0, 1) for oy in (-1, 0, 1) for ox in (-1, 0, 1)
                     if (oz, oy, ox) >= (0, 0, 0)], dtype=np.int64)


@njit(cache=True, parallel=True)
def _cell_list_half(y, h, rl2_table, types, nt, nbins, start, atoms, bins, stencil, capacity, nbr_buf, code_buf):
    """Half list with the 14-bin stencil, written into per-atom rows of fixed ``capacity``; returns the counts
    (a count above ``capacity`` means the row overflowed and the build must be redone with more room).
    Owners and neighbours are *list positions* m (atom ``atoms[m]``): atoms sorted by bin, for cache locality.
    A pair of types (a, b) is listed when closer than sqrt(rl2_table[a * nt + b]).

    ``y`` are wrapped Cartesian positions; the separation of a listed pair is
    ``r_i - r_j = y_i - y_j + c @ h`` with the image code c in {-1, 0, 1}^3 stored as (cx+1)*9 + (cy+1)*3 + cz+1.
    Atoms are visited in bin order and the neighbour coordinates are read from a bin-ordered copy (cache).
    """
    n = y.shape[0]
    nx, ny, nz = nbins[0], nbins[1], nbins[2]
    ys = np.empty((n, 3))
    ts = np.empty(n, dtype=np.int64)
    for m in range(n):
        j = atoms[m]
        ys[m, 0] = y[j, 0]
        ys[m, 1] = y[j, 1]
        ys[m, 2] = y[j, 2]
        ts[m] = types[j]
    counts = np.zeros(n, dtype=np.int64)
    for mi in prange(n):
        i = atoms[mi]
        xi, yi, zi = ys[mi, 0], ys[mi, 1], ys[mi, 2]
        ti = ts[mi] * nt
        bx, by, bz = bins[i, 0], bins[i, 1], bins[i, 2]
        k = 0
        for t in range(stencil.shape[0]):
            ox, oy, oz = stencil[t, 0], stencil[t, 1], stencil[t, 2]
            own = ox == 0 and oy == 0 and oz == 0
            cx, wx = wrap_bin(bx + ox, nx)
            cy, wy = wrap_bin(by + oy, ny)
            cz, wz = wrap_bin(bz + oz, nz)
            sx, sy, sz = image_shift(xi, yi, zi, wx, wy, wz, h)
            code = (wx + 1) * 9 + (wy + 1) * 3 + (wz + 1)
            c = (cx * ny + cy) * nz + cz
            m0 = start[c]
            if own:
                m0 = mi + 1
            for m in range(m0, start[c + 1]):
                dx = sx - ys[m, 0]
                dy = sy - ys[m, 1]
                dz = sz - ys[m, 2]
                if dx * dx + dy * dy + dz * dz < rl2_table[ti + ts[m]]:
                    if k < capacity:
                        nbr_buf[mi, k] = m
                        code_buf[mi, k] = code
                    k += 1
        counts[mi] = k
    return counts


@njit(cache=True, parallel=True)
def _compact(counts, offsets, nbr_buf, code_buf, nbr, codes):
    for i in prange(counts.shape[0]):
        o = offsets[i]
        for k in range(counts[i]):
            nbr[o + k] = nbr_buf[i, k]
            codes[o + k] = code_buf[i, k]


@njit(cache=True, parallel=True)
def _all_pairs_half(sw, h, rl2_table, types, nt, counts_only, offsets, nbr_out, code_out):
    """All-pairs version (boxes with fewer than 3 bins along a direction); j > i, minimum image by rounding."""
    n = sw.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        ti = types[i] * nt
        k = 0
        base = 0 if counts_only else offsets[i]
        for j in range(i + 1, n):
            f0 = sw[i, 0] - sw[j, 0]
            f1 = sw[i, 1] - sw[j, 1]
            f2 = sw[i, 2] - sw[j, 2]
            c0 = -math.floor(f0 + 0.5)
            c1 = -math.floor(f1 + 0.5)
            c2 = -math.floor(f2 + 0.5)
            f0 += c0
            f1 += c1
            f2 += c2
            dx = f0 * h[0, 0] + f1 * h[1, 0] + f2 * h[2, 0]
            dy = f0 * h[0, 1] + f1 * h[1, 1] + f2 * h[2, 1]
            dz = f0 * h[0, 2] + f1 * h[1, 2] + f2 * h[2, 2]
            if dx * dx + dy * dy + dz * dz < rl2_table[ti + types[j]]:
                if not counts_only:
                    nbr_out[base + k] = j
                    code_out[base + k] = int((c0 + 1) * 9 + (c1 + 1) * 3 + (c2 + 1))
                k += 1
        counts[i] = k
    return counts


@njit(cache=True)
def _sorted_half_pairs(offsets, nbr, order):
    """(P, 2) atom pairs with i < j sorted by i (counting sort), and their CSR offsets."""
    n = offsets.shape[0] - 1
    p = nbr.shape[0]
    cnt = np.zeros(n + 1, dtype=np.int64)
    for m in range(n):
        i = order[m]
        for k in range(offsets[m], offsets[m + 1]):
            j = order[nbr[k]]
            a = i if i < j else j
            cnt[a + 1] += 1
    for a in range(n):
        cnt[a + 1] += cnt[a]
    fill = cnt[:-1].copy()
    out = np.empty((p, 2), dtype=np.int64)
    for m in range(n):
        i = order[m]
        for k in range(offsets[m], offsets[m + 1]):
            j = order[nbr[k]]
            a = i if i < j else j
            b = j if i < j else i
            out[fill[a], 0] = a
            out[fill[a], 1] = b
            fill[a] += 1
    return out, cnt


@njit(cache=True, parallel=True)
def _pair_distances(positions, h, hinv, pairs):
    p = pairs.shape[0]
    out = np.empty(p)
    for k in prange(p):
        i, j = pairs[k, 0], pairs[k, 1]
        dx, dy, dz = minimum_image_vector(positions[i, 0] - positions[j, 0], positions[i, 1] - positions[j, 1],
                                          positions[i, 2] - positions[j, 2], h, hinv)
        out[k] = math.sqrt(dx * dx + dy * dy + dz * dz)
    return out


def pair_distances(positions: np.ndarray, cell: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Minimum-image distances of the given (P, 2) pairs."""
    h = np.ascontiguousarray(cell, dtype=np.float64)
    return _pair_distances(np.ascontiguousarray(positions, dtype=np.float64), h, np.linalg.inv(h),
                           np.ascontiguousarray(pairs, dtype=np.int64))


class VerletList:
    """Half Verlet list with a skin, rebuilt automatically by :meth:`update`.

    Parameters
    ----------
    cutoff : float
        Largest interaction cutoff (length units).
    skin : float
        Extra radius; pairs within ``cutoff + skin`` are listed.
    types, type_cutoffs : optional
        Per-atom type indices (N,) and a symmetric (n_types, n_types) table of cutoffs: then a pair of types
        (a, b) is listed within ``type_cutoffs[a, b] + skin`` only (fewer pairs when cutoffs differ by pair). In
        boxes narrower than ``2 (cutoff + skin)`` the skin used for a build is reduced to fit (``skin_used``), which
        only makes rebuilds more frequent.

    Attributes (the public contract of the force-field terms)
    ----------------------------------------------------------
    pairs : (P, 2) int64, ``i < j``, sorted by i (made on first access after each build).
    offsets : (N + 1,) int64; pairs of atom i are ``pairs[offsets[i]:offsets[i + 1]]``.
    cutoff : float, the list radius ``cutoff + skin`` (``interaction_cutoff`` is the bare cutoff).
    n_builds : int, how many times the list was built.

    Fast-path internals (used by :mod:`ssefeat.md.pair_lj`; other terms may use them too)
    -------------------------------------------------------------------------------
    order (N,) int64: list position m holds atom ``order[m]`` (atoms sorted by cell-list bin, for cache locality).
    owner_offsets (N + 1,), neighbors (int32), codes (int8): pairs grouped by owner list position m (the partner,
    also a list position, may be smaller), and the image code c in {-1, 0, 1}^3 (stored as (cx+1)*9+(cy+1)*3+cz+1)
    such that ``r_a - r_b = y_a - y_b + c @ cell`` for atoms a = order[m], b = order[neighbor], with
    ``y = wrapped_positions(positions, cell)``; valid until the next rebuild, whatever the cell does.
    """

    def __init__(self, cutoff: float, skin: float, types: np.ndarray | None = None,
                 type_cutoffs: np.ndarray | None = None):
        if (types is None) != (type_cutoffs is None):
            raise ParameterError("per-type list cutoffs need both types and type_cutoffs.",
                                 fix="pass both types and type_cutoffs, or neither for one cutoff.")
        if types is not None:
            type_cutoffs = np.asarray(type_cutoffs, dtype=np.float64)
            nt = type_cutoffs.shape[0]
            if type_cutoffs.shape != (nt, nt) or not np.allclose(type_cutoffs, type_cutoffs.T):
                raise ParameterError("type_cutoffs must be a symmetric (n_types, n_types) array.",
                                     fix="pass type_cutoffs as a square symmetric array, entry [a, b] the "
                                         "cutoff of types a-b.")
            types = np.ascontiguousarray(types, dtype=np.int64)
            if types.size and (types.min() < 0 or types.max() >= nt):
                raise ParameterError("types must index the rows of type_cutoffs.",
                                     fix="pass types as integers 0 .. n_types - 1 indexing type_cutoffs.")
            cutoff = max(float(cutoff), float(type_cutoffs.max()))
        self.types = types
        self.type_cutoffs = type_cutoffs
        self.interaction_cutoff = float(cutoff)
        self.skin = float(skin)
        self.skin_used = self.skin
        self.cutoff = self.interaction_cutoff + self.skin
        self.n_builds = 0
        self.method = None
        self._store(None, None, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int8), None, None, None, None)

    def _store(self, owner_offsets, order, neighbors, codes, images, s_build, cell_build, hinv_build) -> None:
        """Keep the state of a build (None: not built yet); the sorted pairs and full list are made again."""
        self.owner_offsets, self.order, self.neighbors, self.codes = owner_offsets, order, neighbors, codes
        self.images, self._s_build, self._cell_build, self._hinv_build = images, s_build, cell_build, hinv_build
        self._pairs = self._full = None

    @classmethod
    def empty(cls, n_atoms: int) -> "VerletList":
        """A list with no pairs (for force fields made only of bonded terms)."""
        nl = cls(0.0, 0.0)
        nl.owner_offsets = np.zeros(n_atoms + 1, dtype=np.int64)
        nl.order = np.arange(n_atoms, dtype=np.int64)
        nl.images = np.zeros((n_atoms, 3))
        nl._pairs = (np.zeros((0, 2), dtype=np.int64), np.zeros(n_atoms + 1, dtype=np.int64))
        return nl

    @property
    def r_list(self) -> float:
        return self.cutoff

    @property
    def n_pairs(self) -> int:
        return int(len(self.neighbors))

    def _sorted(self):
        if self._pairs is None:
            self._pairs = _sorted_half_pairs(self.owner_offsets, self.neighbors, self.order)
        return self._pairs

    @property
    def pairs(self) -> np.ndarray:
        return self._sorted()[0]

    @property
    def offsets(self) -> np.ndarray:
        return self._sorted()[1]

    def wrapped_positions(self, positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """``positions - images @ cell`` with the per-atom images taken at the last build (Cartesian)."""
        return positions - self.images @ cell

    def build(self, positions: np.ndarray, cell: np.ndarray) -> None:
        """Build the list from scratch at this configuration."""
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        h = np.ascontiguousarray(cell, dtype=np.float64)
        _box.check_cutoff(self.interaction_cutoff, h, what="interaction cutoff", units="")
        hinv = np.linalg.inv(h)
        n = len(positions)
        s, images, sw = _cells.wrapped_fractional(positions, hinv)
        widths = _box.perpendicular_widths(h)
        # image codes in {-1, 0, 1} need a list radius below half the box: shrink the skin if the box is small
        self.skin_used = min(self.skin, max(0.0, 0.5 * float(widths.min()) * (1 - 1e-9) - self.interaction_cutoff))
        r_list = self.interaction_cutoff + self.skin_used
        if self.types is None:
            types = np.zeros(n, dtype=np.int64)
            nt = 1
            rl2_table = np.array([r_list * r_list])
        else:
            if len(self.types) != n:
                raise ParameterError(f"the list has types for {len(self.types)} atoms, got {n} positions.",
                                     fix="build a new neighbour list for this system (its types must match the "
                                         "positions).")
            types = self.types
            nt = self.type_cutoffs.shape[0]
            rl2_table = ((self.type_cutoffs + self.skin_used) ** 2).ravel()
        nbins = _cells.grid_shape(widths, r_list)
        dummy_n = np.zeros(0, dtype=np.int32)
        dummy_c = np.zeros(0, dtype=np.int8)
        zero = np.zeros(n + 1, dtype=np.int64)
        offsets = np.zeros(n + 1, dtype=np.int64)
        if nbins is not None:
            y = sw @ h
            start, atoms, bins = _cells.bin_atoms(sw, nbins)
            capacity = _cells.row_capacity(n, h, r_list, 32)
            while True:
                nbr_buf = np.empty((n, capacity), dtype=np.int32)
                code_buf = np.empty((n, capacity), dtype=np.int8)
                counts = _cell_list_half(y, h, rl2_table, types, nt, nbins, start, atoms, bins, _STENCIL, capacity,
                                         nbr_buf, code_buf)
                if n == 0 or counts.max() <= capacity:
                    break
                capacity = int(counts.max() * 1.2) + 8
            np.cumsum(counts, out=offsets[1:])
            nbr = np.empty(int(offsets[-1]), dtype=np.int32)
            codes = np.empty(int(offsets[-1]), dtype=np.int8)
            _compact(counts, offsets, nbr_buf, code_buf, nbr, codes)
            order = atoms
            self.method = "cells"
        else:
            counts = _all_pairs_half(sw, h, rl2_table, types, nt, True, zero, dummy_n, dummy_c)
            np.cumsum(counts, out=offsets[1:])
            nbr = np.empty(int(offsets[-1]), dtype=np.int32)
            codes = np.empty(int(offsets[-1]), dtype=np.int8)
            _all_pairs_half(sw, h, rl2_table, types, nt, False, offsets, nbr, codes)
            order = np.arange(n, dtype=np.int64)
            self.method = "all-pairs"
        self._store(offsets, order, nbr, codes, images, s, h.copy(), hinv)
        self.n_builds += 1

    def max_displacement(self, positions: np.ndarray, cell: np.ndarray) -> float:
        """Half the left-hand side of the rebuild criterion (a length; the list is rebuilt when > skin / 2)."""
        h = np.ascontiguousarray(cell, dtype=np.float64)
        hinv = np.linalg.inv(h)
        disp = _max_displacement(np.ascontiguousarray(positions, dtype=np.float64), hinv, h, self._s_build)
        if not np.array_equal(h, self._cell_build):
            r_list = self.interaction_cutoff + self.skin_used
            disp += 0.5 * r_list * float(np.linalg.norm(self._hinv_build @ (h - self._cell_build)))
        return disp

    def needs_rebuild(self, positions: np.ndarray, cell: np.ndarray) -> bool:
        if self._s_build is None or len(positions) != len(self._s_build):
            return True
        return self.max_displacement(positions, cell) > 0.5 * self.skin_used

    def update(self, positions: np.ndarray, cell: np.ndarray) -> bool:
        """Rebuild if needed; return True when rebuilt."""
        if self.needs_rebuild(positions, cell):
            self.build(positions, cell)
            return True
        return False

    def full(self) -> tuple[np.ndarray, np.ndarray]:
        """Full list in CSR form: ``(offsets (N + 1,), neighbors (2P,))``, neighbours of i sorted ascending.

        Computed from the half list on first use after each build (for terms that prefer a full list).
        """
        if self._full is None:
            pairs = self.pairs
            n = len(self.owner_offsets) - 1
            i = np.concatenate([pairs[:, 0], pairs[:, 1]])
            j = np.concatenate([pairs[:, 1], pairs[:, 0]])
            order = np.lexsort((j, i))
            offsets = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(i, minlength=n), out=offsets[1:])
            self._full = (offsets, j[order].astype(np.int64))
        return self._full
