"""Periodic neighbour pairs: a numba cell list in fractional coordinates, exact float64 minimum-image separations.

Every analysis that needs "neighbours of i within r_c" goes through :func:`neighbor_pairs`, so the conventions
(r_ij = r_j - r_i under minimum image, pairs sorted by i then j, self-pairs excluded) are the same everywhere.

The search bins wrapped fractional coordinates on the cell grid of :mod:`ssefeat._cell_kernels` (the one the MD
engine's Verlet list uses), so two atoms closer than the padded cutoff r differ by at most one bin along each
direction, triclinic or not. Each query atom scans the 27 bins around its own; candidates pass a cheap test on
wrapped Cartesian coordinates, and the separation that is returned and tested against ``r_min < d < cutoff`` is
recomputed from the *input* positions by rounding fractional differences
(:func:`ssefeat._cell_kernels.minimum_image_vector`), so the result equals a brute-force minimum-image search.
Boxes with fewer than 3 bins along a direction use an all-pairs search.
Two parallel passes: the scan stores each query atom's candidates in a row buffer and counts them, then the exact
pass sorts each short row by j and writes the pairs at their final place (sorted by i then j, no global sort).
Below SERIAL_BELOW query atoms everything (binning included) is one numba call and both passes run on one thread,
atom by atom (the same pairs, same order and values); when query and points are the same distinct atoms the scan
is a half stencil (14 bins, each candidate pair found once and put in both rows), the exact pass unchanged.
Positions do not need to be wrapped.

Non-periodic directions (``pbc``, e.g. a slab with vacuum or LAMMPS ``ss`` / ``ff`` boundaries): the cell vector
along such a direction is stretched (``k x c``) so that the atoms' extent plus the cutoff fits in less than half of
it; minimum image then never wraps across it (``|delta s| < 1/2`` before rounding), the other two directions keep
their widths and images, and the same kernels run. No atom sees an image across a non-periodic direction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from . import _cell_kernels as _cells
from . import box as _box
from .box import check_cutoff
from .errors import NonFiniteError, ParameterError, SelectionError
from ._cell_kernels import bin_atoms, fractional, half_candidates, image_shift, minimum_image_vector, wrap_bin


@dataclass(frozen=True)
class NeighborPairs:
    """Directed pairs (i -> j) within a cutoff, sorted by i then j.

    Attributes
    ----------
    i, j : int64 arrays (n_pairs,)
        Indices into the query points and the neighbour points respectively.
    vectors : float64 array (n_pairs, 3)
        Minimum-image separation r_j - r_i in Å.
    distances : float64 array (n_pairs,)
        |vectors| in Å.
    n_query : int
        Number of query points (so that per-i counts include atoms with no neighbours).
    cutoff : float
        The cutoff used, Å.
    """

    i: np.ndarray
    j: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    n_query: int
    cutoff: float

    @property
    def counts(self) -> np.ndarray:
        """Number of neighbours of each query point, (n_query,)."""
        return np.bincount(self.i, minlength=self.n_query)

    @property
    def offsets(self) -> np.ndarray:
        """CSR offsets, (n_query + 1,): neighbours of i are pairs offsets[i]:offsets[i+1]."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)


#: query atoms below which the cell list runs on one thread, both passes atom by atom: starting and joining a
#: parallel region costs more than it saves for small systems, many times more on a shared machine (1000 atoms on
#: two busy cores: 1.2 ms best / 1.3 ms median on one thread, 1.3 ms best / 3.4 ms median on two)
SERIAL_BELOW = 4096


# --- kernels --------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _sort_ints(row):
    """Sort a short int array in place (insertion sort; numpy's sort for long rows)."""
    n = row.shape[0]
    if n > 48:
        row.sort()
        return
    for k in range(1, n):
        v = row[k]
        m = k - 1
        while m >= 0 and row[m] > v:
            row[m + 1] = row[m]
            m -= 1
        row[m + 1] = v


@njit(cache=True, inline="always")
def _scan_row(q, r, qy, qatom, qbins, py, patom, pindex, nbins, start, h, rs2, rin2, capacity, buf):
    """Candidates of query atom q (see :func:`_cell_candidates`): stored in ``buf[r]``, their number returned."""
    nx, ny, nz = nbins[0], nbins[1], nbins[2]
    a = qatom[q]
    bx, by, bz = qbins[q, 0], qbins[q, 1], qbins[q, 2]
    z_inside = bz >= 1 and bz + 1 < nz  # the three z bins are one run, no boundary crossed
    k = 0
    for ox in range(-1, 2):
        cx, wx = wrap_bin(bx + ox, nx)
        for oy in range(-1, 2):
            cy, wy = wrap_bin(by + oy, ny)
            row = (cx * ny + cy) * nz
            for oz in range(-1, 2):
                if z_inside:  # a single pass over the whole run
                    if oz > -1:
                        break
                    wz = 0
                    m0 = start[row + bz - 1]
                    m1 = start[row + bz + 2]
                else:
                    cz, wz = wrap_bin(bz + oz, nz)
                    m0 = start[row + cz]
                    m1 = start[row + cz + 1]
                # the query atom seen from the neighbour bins' side of the boundary
                px, py_, pz = image_shift(qy[q, 0], qy[q, 1], qy[q, 2], wx, wy, wz, h)
                for m in range(m0, m1):
                    dx = py[m, 0] - px
                    dy = py[m, 1] - py_
                    dz = py[m, 2] - pz
                    d2 = dx * dx + dy * dy + dz * dz
                    # branch-free: always written at k, kept (k advanced) only when it passes
                    if k < capacity:
                        buf[r, k] = pindex[m]
                    k += (d2 < rs2) & (d2 > rin2) & (patom[m] != a)
    return k


@njit(cache=True, parallel=True)
def _cell_candidates(qy, qatom, qbins, qorder, py, patom, pindex, nbins, start, h, rs2, rin2, capacity, buf):
    """Cell-list scan over the 27 bins around each query atom; returns the number of candidates per query atom.

    Points are in bin order: list position m has wrapped Cartesian coordinates ``py[m]``, atom index ``patom[m]``
    and index ``pindex[m]`` into the points array; bin c holds positions ``start[c]:start[c + 1]``, and the three
    bins along z of one (x, y) column are consecutive, so away from the z boundary they are scanned as one run.
    Query atom q has ``qy[q]``, ``qatom[q]`` and bin ``qbins[q]``; they are visited in the bin order ``qorder``
    (cache locality only). A candidate is a point other than the query atom with rin2 < d^2 < rs2 on wrapped
    coordinates (radii padded against round-off); its points index is stored in ``buf[q, k]`` while
    k < ``capacity`` (a count above capacity means: redo with more room).
    """
    counts = np.zeros(qy.shape[0], dtype=np.int64)
    for t in prange(qy.shape[0]):
        q = qorder[t]
        counts[q] = _scan_row(q, q, qy, qatom, qbins, py, patom, pindex, nbins, start, h, rs2, rin2, capacity, buf)
    return counts


@njit(cache=True, inline="always")
def _exact_pair(ppos, b, qpos, a, j, h, hinv, r_min, cutoff, fill, k, j_out, vec_out, d_out):
    """1 if r_min < |minimum image of ppos[b] - qpos[a]| < cutoff (then written at k as neighbour j when ``fill``)."""
    ex, ey, ez = minimum_image_vector(ppos[b, 0] - qpos[a, 0], ppos[b, 1] - qpos[a, 1], ppos[b, 2] - qpos[a, 2], h,
                                      hinv)
    d = math.sqrt(ex * ex + ey * ey + ez * ez)
    if d < cutoff and d > r_min:
        if fill:
            j_out[k] = j
            vec_out[k, 0] = ex
            vec_out[k, 1] = ey
            vec_out[k, 2] = ez
            d_out[k] = d
        return 1
    return 0


@njit(cache=True, inline="always")
def _fill_row(q, row, k0, qpos, ppos, h, hinv, r_min, cutoff, j_out, vec_out, d_out):
    """Exact pairs of query atom q among its candidates ``row`` (sorted in place by j), written from k0 on (see
    :func:`_cell_fill`); returns their number."""
    _sort_ints(row)
    k = k0
    for c in range(row.shape[0]):
        k += _exact_pair(ppos, row[c], qpos, q, row[c], h, hinv, r_min, cutoff, True, k, j_out, vec_out, d_out)
    return k - k0


@njit(cache=True, parallel=True)
def _cell_fill(qpos, ppos, h, hinv, r_min, cutoff, ncand, buf, offsets, j_out, vec_out, d_out):
    """Exact separations of the candidates ``buf[q, :ncand[q]]`` (indices j into the points, positions ``ppos``).

    Each row of candidates is sorted by j first; pairs with r_min < d < cutoff (d from the input positions,
    minimum image by rounding) are written from ``offsets[q]`` on. Returns their counts.
    """
    counts = np.zeros(qpos.shape[0], dtype=np.int64)
    for q in prange(qpos.shape[0]):
        counts[q] = _fill_row(q, buf[q, :ncand[q]], offsets[q], qpos, ppos, h, hinv, r_min, cutoff, j_out, vec_out,
                              d_out)
    return counts


@njit(cache=True)
def _small_pairs(positions, query, points, same, h, hinv, nbins, rs2, rin2, r_min, cutoff, capacity):
    """:func:`neighbor_pairs` of a small system in one call (no Python between the steps, which cost a third of the
    search of 10^3 atoms): the binning of the parallel path, then :func:`_cell_pairs_serial`, redone with more room
    when a row overflows. ``same``: query and points are the same distinct atoms (binned once, searched by the half
    list of :func:`_half_list_pairs`). Returns i, j, vectors, distances (the pairs, packed)."""
    sw = fractional(positions, hinv)
    sw -= np.floor(sw)  # wrapped fractional coordinates, as _cells.wrapped_fractional
    start, order, pbins = bin_atoms(sw[points], nbins)
    patom = points[order]
    qbins = pbins if same else bin_atoms(sw[query], nbins)[2]
    qy, py = fractional(sw[query], h), fractional(sw[patom], h)
    qpos, ppos = positions[query], positions[points]
    nq = query.shape[0]
    if same:  # each pair's candidates found once (half the scan), both directions' exact separations computed
        return _half_list_pairs(qpos, py, order, pbins, nbins, start, h, hinv, rs2, rin2, r_min, cutoff,
                                nq * capacity // 2)
    while True:
        size = nq * capacity  # at most capacity candidates per query atom
        j, vec, dist = np.empty(size, dtype=np.int64), np.empty((size, 3)), np.empty(size)
        counts, needed = _cell_pairs_serial(qpos, ppos, qy, query, qbins, py, patom, order, nbins, start, h, hinv,
                                            rs2, rin2, r_min, cutoff, capacity, j, vec, dist)
        if not needed:
            break
        capacity = needed + 8  # a locally dense region: redo with room for it
    total = counts.sum()
    i = np.empty(total, dtype=np.int64)
    k = 0
    for q in range(nq):
        i[k:k + counts[q]] = q
        k += counts[q]
    return i, j[:total], vec[:total], dist[:total]


@njit(cache=True)
def _half_list_pairs(pos, y, index, bins, nbins, start, h, hinv, rs2, rin2, r_min, cutoff, capacity):
    """The pairs of :func:`_cell_pairs_serial` when query and points are the same atoms (``pos``): the unordered
    candidates of :func:`ssefeat._cell_kernels.half_candidates` put in both atoms' rows, then each row sorted and
    its exact pairs written as :func:`_fill_row` writes them (the same values, order and pairs)."""
    while True:
        first, second, nc = half_candidates(y, index, bins, nbins, start, h, rs2, rin2, capacity)
        if nc <= capacity:
            break
        capacity = nc + 64  # a locally dense region: redo with room for it
    n = pos.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    for k in range(nc):
        offsets[first[k] + 1] += 1
        offsets[second[k] + 1] += 1
    for q in range(n):
        offsets[q + 1] += offsets[q]
    fill = offsets[:-1].copy()
    rows = np.empty(2 * nc, dtype=np.int32)
    for k in range(nc):
        a, b = first[k], second[k]
        rows[fill[a]] = b
        rows[fill[b]] = a
        fill[a] += 1
        fill[b] += 1
    j, vec, dist = np.empty(2 * nc, dtype=np.int64), np.empty((2 * nc, 3)), np.empty(2 * nc)
    i = np.empty(2 * nc, dtype=np.int64)
    k = 0
    for q in range(n):
        c = _fill_row(q, rows[offsets[q]:offsets[q + 1]], k, pos, pos, h, hinv, r_min, cutoff, j, vec, dist)
        i[k:k + c] = q
        k += c
    return i[:k], j[:k], vec[:k], dist[:k]


@njit(cache=True)
def _cell_pairs_serial(qpos, ppos, qy, qatom, qbins, py, patom, pindex, nbins, start, h, hinv, rs2, rin2, r_min,
                       cutoff, capacity, j_out, vec_out, d_out):
    """Both passes on one thread, query atom by query atom in order (small systems: no parallel region, no
    candidate buffer per atom): the candidates of q as :func:`_cell_candidates` finds them, then its exact pairs as
    :func:`_cell_fill` writes them, packed. Returns the pair counts and the largest candidate count when it
    exceeded ``capacity`` (then redo with more room; 0 otherwise)."""
    counts = np.zeros(qy.shape[0], dtype=np.int64)
    buf = np.empty((1, capacity), dtype=np.int32)
    k = 0
    needed = 0
    for q in range(qy.shape[0]):
        n = _scan_row(q, 0, qy, qatom, qbins, py, patom, pindex, nbins, start, h, rs2, rin2, capacity, buf)
        if n > capacity or needed:
            needed = max(needed, n)
            continue
        counts[q] = _fill_row(q, buf[0, :n], k, qpos, ppos, h, hinv, r_min, cutoff, j_out, vec_out, d_out)
        k += counts[q]
    return counts, (needed if needed > capacity else 0)


@njit(cache=True, parallel=True)
def _all_pairs(positions, h, hinv, query, points, r_min, cutoff, fill, offsets, j_out, vec_out, d_out):
    """All-pairs search (boxes with fewer than 3 bins along a direction); exact in both passes, rows sorted by j."""
    nq = query.shape[0]
    counts = np.zeros(nq, dtype=np.int64)
    for q in prange(nq):
        a = query[q]
        base = offsets[q] if fill else 0
        k = base
        for p in range(points.shape[0]):
            b = points[p]
            if b == a:
                continue
            k += _exact_pair(positions, b, positions, a, p, h, hinv, r_min, cutoff, fill, k, j_out, vec_out, d_out)
        counts[q] = k - base
    return counts


def _indices(value, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.arange(n, dtype=np.int64)
    idx = np.asarray(value)
    if idx.dtype == bool or idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise SelectionError(f"{name} must be a 1-D array of atom indices, got dtype {idx.dtype}, shape {idx.shape}.",
                             fix=f"pass integer indices, e.g. np.flatnonzero(mask) for a boolean {name} mask.")
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx[(idx < 0) | (idx >= n)][0])
        raise SelectionError(f"{name} index {bad} is outside 0..{n - 1} ({n} positions).",
                             fix=f"give {name} as indices of rows of positions.")
    return idx


def open_cell(positions: np.ndarray, cell: np.ndarray, cutoff: float, pbc) -> np.ndarray:
    """The cell with each non-periodic vector stretched so that no pair within ``cutoff`` (Å) is an image across
    it: ``k`` times the vector, ``k`` > 2 x (the atoms' fractional extent along it + cutoff / width) + 1."""
    h = np.array(cell, dtype=np.float64)
    flags = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
    if flags.all():
        return h
    s = positions @ np.linalg.inv(h)
    widths = _box.perpendicular_widths(h)
    for axis in np.flatnonzero(~flags):
        extent = float(np.ptp(s[:, axis])) if len(s) else 0.0
        h[axis] *= 2.0 * (extent + float(cutoff) / widths[axis]) + 2.0
    return h


def neighbor_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float, query: np.ndarray | None = None,
                   points: np.ndarray | None = None, r_min: float = 0.0, pbc=None) -> NeighborPairs:
    """All directed pairs (i, j) with r_min < |r_j - r_i| < cutoff under periodic minimum image.

    Parameters
    ----------
    positions : (N, 3) Å, wrapped or not
    cell : (3, 3) Å, rows are cell vectors (triclinic allowed)
    cutoff : float, Å; must be below half the smallest cell width
    query : int array, optional
        Atom indices acting as centres i (default all). Returned ``i`` indexes into this array.
    points : int array, optional
        Atom indices acting as neighbours j (default all). Returned ``j`` indexes into this array.
        An atom that is both a query and a point is never its own neighbour.
    r_min : float
        Exclude pairs at or below this distance (Å); a negative value keeps distinct atoms at distance 0.
    pbc : bool or three bools, optional
        Periodicity along a, b, c (default all periodic; :func:`ssefeat.data.periodic_axes` of a trajectory): no
        minimum image across a non-periodic direction, and the cutoff is checked against the periodic widths only.
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    h = np.ascontiguousarray(cell, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ParameterError(f"positions must be (N, 3), got shape {positions.shape}.",
                             fix="pass positions as an (N, 3) array in Å.")
    if h.shape != (3, 3):
        raise ParameterError(f"cell must be (3, 3) with rows as cell vectors, got shape {h.shape}.",
                             fix="pass cell as a (3, 3) array, rows the cell vectors in Å.")
    cutoff = float(cutoff)
    if not np.isfinite(positions).all():
        raise NonFiniteError("positions contain NaN or infinite values.",
                             fix="drop or repair the frames with non-finite coordinates.")
    if pbc is not None:
        h = np.ascontiguousarray(open_cell(positions, h, cutoff if cutoff > 0 else 0.0, pbc))
    check_cutoff(cutoff, h)
    n = positions.shape[0]
    query = _indices(query, n, "query")
    points = _indices(points, n, "points")
    nq = len(query)
    if nq == 0 or len(points) == 0:
        return NeighborPairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0), nq,
                             cutoff)
    hinv = np.linalg.inv(h)
    r_min = float(r_min)
    # the cheap test on wrapped coordinates may differ from the exact separation by round-off: pad it
    r_search = cutoff * (1 + 1e-9) + 1e-9
    r_inner = r_min * (1 - 1e-9) - 1e-9
    # bins at least r_search wide. (Bins of r / 2 with a 5^3 stencil scan fewer candidates but measured slower.)
    nbins = _cells.grid_shape(_box.perpendicular_widths(h), r_search, max_cells=max(8 * len(points), 27))
    offsets = np.zeros(nq + 1, dtype=np.int64)
    if nbins is not None:
        same = nq == len(points) and np.array_equal(query, points)  # the same atoms: binned once
        capacity = _cells.row_capacity(len(points), h, r_search, 16)
        if nq < SERIAL_BELOW:
            distinct = same and bool(np.all(points[1:] > points[:-1]))  # no atom twice: the half list applies
            i, j, vec, dist = _small_pairs(positions, query, points, distinct, h, hinv, nbins, r_search * r_search,
                                           r_inner * abs(r_inner), r_min, cutoff, capacity)
            return NeighborPairs(i, j, vec, dist, nq, cutoff)
        _, _, sw = _cells.wrapped_fractional(positions, hinv)
        start, order, pbins = _cells.bin_atoms(sw[points], nbins)
        patom = points[order]
        if same:
            qorder, qbins = order, pbins
        else:
            _, qorder, qbins = _cells.bin_atoms(sw[query], nbins)
        qy, py = sw[query] @ h, sw[patom] @ h
        while True:
            buf = np.empty((nq, capacity), dtype=np.int32)
            bound = _cell_candidates(qy, query, qbins, qorder, py, patom, order, nbins, start, h, r_search * r_search,
                                     r_inner * abs(r_inner), capacity, buf)
            if bound.max() <= capacity:
                break
            capacity = int(bound.max()) + 8  # a locally dense region: redo with room for it
        np.cumsum(bound, out=offsets[1:])
        total = int(offsets[-1])
        j, vec, dist = np.empty(total, dtype=np.int64), np.empty((total, 3)), np.empty(total)
        counts = _cell_fill(positions[query], positions[points], h, hinv, r_min, cutoff, bound, buf, offsets, j, vec,
                            dist)
    else:
        args = (positions, h, hinv, query, points, r_min, cutoff)
        counts = _all_pairs(*args, False, offsets, np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0))
        bound = counts
        np.cumsum(counts, out=offsets[1:])
        total = int(offsets[-1])
        j, vec, dist = np.empty(total, dtype=np.int64), np.empty((total, 3)), np.empty(total)
        _all_pairs(*args, True, offsets, j, vec, dist)
    i = np.repeat(np.arange(nq, dtype=np.int64), counts)
    if not np.array_equal(counts, bound):  # candidates that failed the exact test (rare): close the gaps
        keep = np.arange(total) - np.repeat(offsets[:-1], bound) < np.repeat(counts, bound)
        j, vec, dist = j[keep], vec[keep], dist[keep]
    return NeighborPairs(i, j, vec, dist, nq, cutoff)


@njit(cache=True)
def _filter_pairs(i, j, vectors, distances, rank, cutoff, r_min):
    """The pairs with r_min < d < cutoff whose j has a rank (>= 0), j replaced by it; order kept."""
    keep = np.empty(i.shape[0], dtype=np.bool_)
    m = 0
    for k in range(i.shape[0]):
        keep[k] = distances[k] < cutoff and distances[k] > r_min and rank[j[k]] >= 0
        m += keep[k]
    i2, j2, v2, d2 = np.empty(m, np.int64), np.empty(m, np.int64), np.empty((m, 3)), np.empty(m)
    m = 0
    for k in range(i.shape[0]):
        if keep[k]:
            i2[m], j2[m], d2[m] = i[k], rank[j[k]], distances[k]
            v2[m, 0], v2[m, 1], v2[m, 2] = vectors[k, 0], vectors[k, 1], vectors[k, 2]
            m += 1
    return i2, j2, v2, d2


class FrameNeighbors:
    """The neighbour pairs of one frame searched once at the largest cutoff; each analysis takes its own pairs from
    it (:meth:`pairs`), as freud reuses one NeighborList across analyses.

    ``query`` atoms (default all) against every atom within ``cutoff`` (Å), coincident atoms kept (r_min = -1).
    :meth:`pairs` returns exactly what :func:`neighbor_pairs` returns for a smaller cutoff, a sorted subset of the
    atoms as points and the same query (the pairs are filtered, same order, same float64 values); any other request
    is searched afresh.
    """

    def __init__(self, positions: np.ndarray, cell: np.ndarray, cutoff: float, query: np.ndarray | None = None,
                 pbc=None):
        self.positions = np.ascontiguousarray(positions, dtype=np.float64)
        self.cell = np.asarray(cell, dtype=np.float64)
        self.cutoff = float(cutoff)
        self.query = _indices(query, len(self.positions), "query")
        self.pbc = None if pbc is None or np.all(pbc) else np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
        self.all = neighbor_pairs(self.positions, self.cell, self.cutoff, query=self.query, r_min=-1.0, pbc=self.pbc)

    def pairs(self, cutoff: float, query: np.ndarray | None = None, points: np.ndarray | None = None,
              r_min: float = 0.0) -> NeighborPairs:
        """The pairs of :func:`neighbor_pairs` ``(positions, cell, cutoff, query, points, r_min)`` of this frame."""
        n = len(self.positions)
        q = _indices(query, n, "query")
        p = _indices(points, n, "points")
        cutoff, r_min = float(cutoff), float(r_min)
        if not cutoff > 0:
            check_cutoff(cutoff, self.cell)
        if not (cutoff <= self.cutoff and r_min >= -1.0 and np.array_equal(q, self.query)
                and np.all(p[1:] > p[:-1])):
            return neighbor_pairs(self.positions, self.cell, cutoff, query=q, points=p, r_min=r_min, pbc=self.pbc)
        a = self.all  # cutoff <= self.cutoff, which passed check_cutoff
        rank = np.full(n, -1, dtype=np.int64)
        rank[p] = np.arange(len(p))
        i, j, vec, dist = _filter_pairs(a.i, a.j, a.vectors, a.distances, rank, cutoff, r_min)
        return NeighborPairs(i, j, vec, dist, len(q), cutoff)


def frame_pairs(neighbors, f: int, positions: np.ndarray, cell: np.ndarray, cutoff: float, query=None, points=None,
                r_min: float = 0.0, pbc=None) -> NeighborPairs:
    """Pairs of frame ``f``: from ``neighbors[f]`` (a :class:`FrameNeighbors` per frame, searched with its own
    ``pbc``) when given, else searched with ``pbc``."""
    if neighbors is not None:
        return neighbors[f].pairs(cutoff, query=query, points=points, r_min=r_min)
    return neighbor_pairs(positions, cell, cutoff, query=query, points=points, r_min=r_min, pbc=pbc)
