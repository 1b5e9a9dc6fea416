"""Periodic Voronoi cell volumes in float64: each cell is cut out of a cube by its neighbours' bisector planes.

The cell of atom i is the set of points closer to i than to any other atom (all periodic images). Starting from a
cube of half-side R around i, it is clipped by the bisector plane of each neighbour j within R
(``x . r_ij <= |r_ij|^2 / 2``, vectors from :func:`ssefeat.neighbors.neighbor_pairs`), nearest first, as voro++
does. A neighbour at distance d can only cut the cell if d / 2 is below the cell's farthest vertex, so the loop
stops there; the cell is exact (certified) when that vertex lies within R / 2 (no atom beyond R can cut it).
Uncertified atoms are redone with a larger R; a cell too small for R (R must stay below half its width) is
replicated into a supercell whose extra atoms only serve as neighbours. The volume is the sum of the pyramids
(centre, face). The volumes of a frame must fill the cell to 1e-8 relative, else ParameterError.

freud's Voronoi (voro++) is not used: it takes float32 positions (volumes off by up to 1.4e-6 relative on a
2688-atom triclinic cell, benchmarks/bench_voronoi.py) and it crashes when a library exporting voro++ symbols
globally (LAMMPS' Python module) is loaded.
"""
from __future__ import annotations


import numpy as np
from numba import njit, prange

from .. import box as _box
from ..errors import ParameterError
from ..neighbors import neighbor_pairs

__all__ = ["periodic_voronoi_volumes"]

#: room per cell: vertices, faces, vertices per face (a Voronoi cell of a dense liquid has ~30 vertices, ~15 faces)
_MAX_VERTICES = 256
_MAX_FACES = 96
_MAX_FACE_VERTICES = 48
#: cells per block of the parallel loop (each block allocates its scratch once)
_BLOCK = 64
#: first search radius in units of the mean spacing (V / N)^(1/3); grown by _GROWTH for uncertified cells
_FIRST_REACH = 2.3
_GROWTH = 1.5


@njit(cache=True)
def _cube(half, vx, fv, fc):
    """The cube [-half, half]^3: 8 vertices, 6 faces of 4 (counter-clockwise seen from outside); returns (8, 6)."""
    for c in range(8):
        vx[c, 0] = half if (c & 4) else -half
        vx[c, 1] = half if (c & 2) else -half
        vx[c, 2] = half if (c & 1) else -half
    corners = ((0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3))
    for f in range(6):
        for k in range(4):
            fv[f, k] = corners[f][k]
        fc[f] = 4
    return 8, 6


@njit(cache=True)
def _clip(vx, alive, nv, fv, fc, nf, nx, ny, nz, rhs, tol, sv, tmp, key, link):
    """Clip the polyhedron (vertices vx[:nv] where ``alive``; faces fv[:nf] as vertex indices with counts fc, 0 for
    a removed face, consistently oriented) by the half-space n . x <= rhs, in place. Only the faces with a vertex
    outside are rewritten; the new face (the crossing points chained through the cut faces) is appended.
    Returns (nv, nf), (0, nf) when no vertex is outside (nothing changed), (-1, -1) when the room runs out or the
    cut is inconsistent. sv, tmp, key, link are scratch."""
    out = 0
    for v in range(nv):
        if alive[v]:
            sv[v] = vx[v, 0] * nx + vx[v, 1] * ny + vx[v, 2] * nz - rhs
            if sv[v] > tol:
                out += 1
    if out == 0:
        return 0, nf
    nnew = 0  # crossing points, appended at nv + q; key[q] = (inside, outside) end of their edge
    for f in range(nf):
        k = fc[f]
        cut = False
        for a in range(k):
            if sv[fv[f, a]] > tol:
                cut = True
                break
        if not cut:
            continue
        cnt = 0
        exit_ = -1
        entry = -1
        for a in range(k):
            va = fv[f, a]
            vb = fv[f, a + 1 if a + 1 < k else 0]
            a_in = sv[va] <= tol
            if a_in:
                tmp[cnt] = va
                cnt += 1
            if a_in != (sv[vb] <= tol):
                i0, i1 = (va, vb) if a_in else (vb, va)
                w = -1
                for q in range(nnew):
                    if key[q, 0] == i0 and key[q, 1] == i1:
                        w = q
                        break
                if w < 0:
                    if nnew >= _MAX_FACE_VERTICES or nv + nnew >= _MAX_VERTICES:
                        return -1, -1
                    w = nnew
                    key[w, 0] = i0
                    key[w, 1] = i1
                    link[w] = -1
                    t = sv[i0] / (sv[i0] - sv[i1])  # from the inside end, so both faces get the same point
                    for d in range(3):
                        vx[nv + w, d] = vx[i0, d] + t * (vx[i1, d] - vx[i0, d])
                    nnew += 1
                tmp[cnt] = nv + w
                cnt += 1
                if cnt >= _MAX_FACE_VERTICES:
                    return -1, -1
                if a_in:
                    if exit_ >= 0:
                        return -1, -1
                    exit_ = w
                else:
                    if entry >= 0:
                        return -1, -1
                    entry = w
        if exit_ >= 0:  # the face runs exit -> entry, the new face entry -> exit (opposite orientation)
            if entry < 0 or link[entry] >= 0:
                return -1, -1
            link[entry] = exit_
        for q in range(cnt):
            fv[f, q] = tmp[q]
        fc[f] = cnt if cnt >= 3 else 0
    for v in range(nv):
        if alive[v] and sv[v] > tol:
            alive[v] = False
    if nnew >= 3:
        if nf >= _MAX_FACES:
            return -1, -1
        w = 0
        for q in range(nnew):
            if w < 0:
                return -1, -1
            fv[nf, q] = nv + w
            w = link[w]
        if w != 0:
            return -1, -1
        fc[nf] = nnew
        nf += 1
    for q in range(nnew):
        alive[nv + q] = True
    return nv + nnew, nf


@njit(cache=True)
def _compact(vx, alive, nv, fv, fc, nf, remap):
    """Drop the dead vertices and removed faces, renumbering; returns (nv, nf)."""
    c = 0
    for v in range(nv):
        if alive[v]:
            remap[v] = c
            for d in range(3):
                vx[c, d] = vx[v, d]
            alive[c] = True
            c += 1
    for v in range(c, nv):
        alive[v] = False
    m = 0
    for f in range(nf):
        if fc[f] > 0:
            for q in range(fc[f]):
                fv[m, q] = remap[fv[f, q]]
            fc[m] = fc[f]
            m += 1
    return c, m


@njit(cache=True)
def _volume(vx, fv, fc, nf):
    """Volume of a convex polyhedron containing the origin: the sum of the pyramids (origin, face)."""
    vol = 0.0
    for f in range(nf):
        if fc[f] == 0:
            continue
        ax = ay = az = 0.0
        v0 = fv[f, 0]
        x0, y0, z0 = vx[v0, 0], vx[v0, 1], vx[v0, 2]
        for k in range(1, fc[f] - 1):
            p, q = fv[f, k], fv[f, k + 1]
            px, py, pz = vx[p, 0] - x0, vx[p, 1] - y0, vx[p, 2] - z0
            qx, qy, qz = vx[q, 0] - x0, vx[q, 1] - y0, vx[q, 2] - z0
            ax += py * qz - pz * qy
            ay += pz * qx - px * qz
            az += px * qy - py * qx
        vol += abs(ax * x0 + ay * y0 + az * z0) / 6.0
    return vol


@njit(cache=True)
def _one_cell(lo, hi, vectors, distances, reach, vx, alive, fv, fc, sv, tmp, key, link, remap):
    """(volume, certified) of the cell whose neighbours are pairs lo:hi (scratch arrays passed in)."""
    # start from the cube of half-side reach / 2: a cell certified below (all vertices within reach / 2) keeps no
    # part of its faces, so the cube does not bound it
    nv, nf = _cube(0.5 * reach, vx, fv, fc)
    alive[:nv] = True
    r2max = 0.75 * reach * reach
    order = np.argsort(distances[lo:hi])
    for c in range(hi - lo):
        p = lo + order[c]
        d = distances[p]
        if 0.25 * d * d >= r2max:
            break
        rhs = 0.5 * d * d
        if nv > _MAX_VERTICES - 2 * _MAX_FACE_VERTICES or nf > _MAX_FACES - 16:
            nv, nf = _compact(vx, alive, nv, fv, fc, nf, remap)
        nv2, nf2 = _clip(vx, alive, nv, fv, fc, nf, vectors[p, 0], vectors[p, 1], vectors[p, 2], rhs, 1e-12 * rhs,
                         sv, tmp, key, link)
        if nv2 < 0:
            return np.nan, False
        if nv2 == 0:
            continue
        nv, nf = nv2, nf2
        r2max = 0.0
        for v in range(nv):
            if alive[v]:
                r2max = max(r2max, vx[v, 0] ** 2 + vx[v, 1] ** 2 + vx[v, 2] ** 2)
    return _volume(vx, fv, fc, nf), r2max < 0.25 * reach * reach


@njit(cache=True, parallel=True)
def _voronoi_kernel(offsets, vectors, distances, reach):
    """Volumes of the cells of the query atoms of a neighbour list (CSR ``offsets``, vectors r_j - r_i) searched to
    ``reach``; ``ok`` is False for cells not certified within it (and for cells that ran out of room)."""
    nq = offsets.shape[0] - 1
    vol = np.zeros(nq)
    ok = np.zeros(nq, dtype=np.bool_)
    for b in prange((nq + _BLOCK - 1) // _BLOCK):
        vx = np.empty((_MAX_VERTICES, 3))
        alive = np.zeros(_MAX_VERTICES, dtype=np.bool_)
        fv = np.empty((_MAX_FACES, _MAX_FACE_VERTICES), dtype=np.int64)
        fc = np.zeros(_MAX_FACES, dtype=np.int64)
        sv = np.empty(_MAX_VERTICES)
        tmp = np.empty(_MAX_FACE_VERTICES, dtype=np.int64)
        key = np.empty((_MAX_FACE_VERTICES, 2), dtype=np.int64)
        link = np.empty(_MAX_FACE_VERTICES, dtype=np.int64)
        remap = np.empty(_MAX_VERTICES, dtype=np.int64)
        for q in range(b * _BLOCK, min(nq, (b + 1) * _BLOCK)):
            alive[:] = False
            vol[q], ok[q] = _one_cell(offsets[q], offsets[q + 1], vectors, distances, reach, vx, alive, fv, fc, sv,
                                      tmp, key, link, remap)
    return vol, ok


def periodic_voronoi_volumes(positions: np.ndarray, cell: np.ndarray, query: np.ndarray | None = None,
                             neighbors=None) -> np.ndarray:
    """Voronoi cell volume (Å^3) of the atoms ``query`` (indices; default all) of one periodic configuration in
    float64 (module docstring). The tessellation always uses every atom; atoms at the same place (closer than 1e-9
    of the search radius) raise ParameterError, and so does a full tessellation whose volumes do not fill the cell
    to 1e-8 relative. ``neighbors``: a :class:`~ssefeat.neighbors.FrameNeighbors` of this configuration to take
    the first search's pairs from."""
    positions = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    n = len(positions)
    volume = abs(float(_box.cell_volume(cell)))
    widths = _box.perpendicular_widths(cell)
    # a cell lies within half the longest lattice diagonal of its atom: certified once reach exceeds twice that
    largest = 2.0 * float(np.linalg.norm(cell, axis=1).sum())
    reach = _FIRST_REACH * (volume / max(n, 1)) ** (1.0 / 3.0)
    todo = np.arange(n) if query is None else np.asarray(query, dtype=np.int64)
    out = np.full(len(todo), np.nan)
    rows = np.arange(len(todo))
    while len(todo):
        # replicate the cell until the search radius is below half its width (exactly 1 copy when it already is)
        reps = np.maximum(1, np.ceil(2.0 * reach * (1.0 + 1e-6) / widths)).astype(int)
        if np.prod(reps) > 1:
            grid = np.stack(np.meshgrid(*[np.arange(r) for r in reps], indexing="ij"), -1).reshape(-1, 3)
            pts = (positions[None] + (grid @ cell)[:, None]).reshape(-1, 3)  # the original atoms come first
            sc = cell * reps[:, None]
        else:
            pts, sc = positions, cell
        if neighbors is not None and pts is positions:
            pairs = neighbors.pairs(reach, query=todo, r_min=-1.0)
        else:
            pairs = neighbor_pairs(pts, sc, reach, query=todo, r_min=-1.0)
        if len(pairs.distances) and pairs.distances.min() < 1e-9 * reach:
            k = int(np.argmin(pairs.distances))
            raise ParameterError(f"atoms {todo[pairs.i[k]]} and {pairs.j[k] % n} are at the same place: their "
                                 "Voronoi cells are not defined.", fix="check the positions (duplicated atoms?).")
        vol, ok = _voronoi_kernel(pairs.offsets, pairs.vectors, pairs.distances, reach)
        out[rows[ok]] = vol[ok]
        todo, rows = todo[~ok], rows[~ok]
        if len(todo) and reach > largest:
            raise ParameterError(f"the Voronoi cells of {len(todo)} of {n} atoms did not close.",
                                 fix="check the positions and the cell.")
        reach *= _GROWTH
    if query is None and abs(out.sum() - volume) > 1e-8 * volume:
        raise ParameterError(f"the periodic Voronoi tessellation of {n} atoms did not fill the cell "
                             f"({out.sum():.10g} vs {volume:.10g} Å^3).",
                             fix="check the positions and the cell.")
    return out
