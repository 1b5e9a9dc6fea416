"""The cell grid under both neighbour lists (the MD engine's Verlet list and the analyses' neighbour pairs).

Wrapped fractional coordinates are counting-sorted into ``n_k = floor(w_k / r)`` bins along each cell vector
(w_k = perpendicular width, r the search radius), so two atoms closer than r differ by at most one bin along each
direction, triclinic or not. A scan visits the bins around an atom (27, or 14 for a half list:
:func:`half_candidates`): :func:`wrap_bin` folds a neighbour bin index back into the grid and gives the image it lies
in, :func:`image_shift` moves the atom by those cell vectors. Grids with fewer than 3 bins along a direction are not
used (callers search all pairs).
Minimum image is taken by rounding fractional differences (:func:`minimum_image_vector`).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def minimum_image_vector(dx, dy, dz, h, hinv):
    """Minimum-image version of the separation (dx, dy, dz) in the cell ``h`` (rows) with inverse ``hinv``.

    numba helper for force kernels: ``dx, dy, dz = minimum_image_vector(xi - xj, yi - yj, zi - zj, h, hinv)``.
    """
    sx = dx * hinv[0, 0] + dy * hinv[1, 0] + dz * hinv[2, 0]
    sy = dx * hinv[0, 1] + dy * hinv[1, 1] + dz * hinv[2, 1]
    sz = dx * hinv[0, 2] + dy * hinv[1, 2] + dz * hinv[2, 2]
    sx -= math.floor(sx + 0.5)
    sy -= math.floor(sy + 0.5)
    sz -= math.floor(sz + 0.5)
    return (sx * h[0, 0] + sy * h[1, 0] + sz * h[2, 0],
            sx * h[0, 1] + sy * h[1, 1] + sz * h[2, 1],
            sx * h[0, 2] + sy * h[1, 2] + sz * h[2, 2])


@njit(cache=True, inline="always")
def wrap_bin(c, n):
    """Bin index ``c`` (at most one bin off a grid of ``n``) folded into 0..n-1, and the image shift that takes an
    atom to that bin's side of the boundary (+1 when c was below the grid, -1 above, 0 inside)."""
    if c < 0:
        return c + n, 1
    if c >= n:
        return c - n, -1
    return c, 0


@njit(cache=True, inline="always")
def image_shift(x, y, z, wx, wy, wz, h):
    """The point (x, y, z) moved by ``wx a + wy b + wz c`` (rows of ``h``)."""
    return (x + wx * h[0, 0] + wy * h[1, 0] + wz * h[2, 0],
            y + wx * h[0, 1] + wy * h[1, 1] + wz * h[2, 1],
            z + wx * h[0, 2] + wy * h[1, 2] + wz * h[2, 2])


@njit(cache=True)
def half_candidates(y, index, bins, nbins, start, h, rs2, rin2, capacity):
    """Every unordered pair of points with rin2 < d^2 < rs2 on wrapped Cartesian coordinates, found once by the
    half stencil (the rest of the atom's own bin and the 13 bins of positive (x, y, z) order).

    Points are in bin order: list position m has coordinates ``y[m]`` and index ``index[m]`` into the points, whose
    bins are ``bins`` (N, 3); bin c holds positions ``start[c]:start[c + 1]``; away from the z boundary the bins
    along z of one (x, y) column are scanned as one run. Pair k is (``first[k]``, ``second[k]``) (point indices)
    while k < ``capacity``; returns first, second and the number of pairs (above capacity: redo with more room).
    """
    nx, ny, nz = nbins[0], nbins[1], nbins[2]
    first = np.empty(capacity, dtype=np.int32)
    second = np.empty(capacity, dtype=np.int32)
    k = 0
    for m in range(y.shape[0]):
        p = index[m]
        bx, by, bz = bins[p, 0], bins[p, 1], bins[p, 2]
        z_inside = bz >= 1 and bz + 1 < nz
        for col in range(5):  # (x, y) columns (0, 0), (0, 1), (1, -1), (1, 0), (1, 1)
            ox, oy = (0, col) if col < 2 else (1, col - 3)
            cx, wx = wrap_bin(bx + ox, nx)
            cy, wy = wrap_bin(by + oy, ny)
            row = (cx * ny + cy) * nz
            zlo = 0 if col == 0 else -1  # the own column: the own bin (after m) and the one above
            for oz in range(zlo, 2):
                if z_inside:  # a single pass over the whole run
                    if oz > zlo:
                        break
                    wz = 0
                    m0 = m + 1 if col == 0 else start[row + bz - 1]
                    m1 = start[row + bz + 2]
                else:
                    cz, wz = wrap_bin(bz + oz, nz)
                    m0 = m + 1 if col == 0 and oz == 0 else start[row + cz]
                    m1 = start[row + cz + 1]
                px, py, pz = image_shift(y[m, 0], y[m, 1], y[m, 2], wx, wy, wz, h)
                for mm in range(m0, m1):
                    dx = y[mm, 0] - px
                    dy = y[mm, 1] - py
                    dz = y[mm, 2] - pz
                    d2 = dx * dx + dy * dy + dz * dz
                    if k < capacity:  # branch-free: always written at k, kept (k advanced) only when it passes
                        first[k] = p
                        second[k] = index[mm]
                    k += (d2 < rs2) & (d2 > rin2)
    return first, second, k


@njit(cache=True)
def fractional(positions, hinv):
    """Fractional coordinates ``positions @ hinv`` (N, 3), written out so the MD engine rounds the same way (with the
    cell for ``hinv``: Cartesian coordinates of fractional ones)."""
    n = positions.shape[0]
    s = np.empty((n, 3))
    for i in range(n):
        x, y, z = positions[i, 0], positions[i, 1], positions[i, 2]
        for b in range(3):
            s[i, b] = x * hinv[0, b] + y * hinv[1, b] + z * hinv[2, b]
    return s


@njit(cache=True)
def bin_atoms(sw, nbins):
    """Counting sort of atoms into bins of wrapped fractional coordinates ``sw`` in [0, 1).

    Returns (bin_start (nb + 1,), bin_atoms (N,), bins (N, 3)): bin c (flat index ``(bx * ny + by) * nz + bz``)
    holds atoms ``bin_atoms[bin_start[c]:bin_start[c + 1]]``."""
    n = sw.shape[0]
    nx, ny, nz = nbins[0], nbins[1], nbins[2]
    nb = nx * ny * nz
    bins = np.empty((n, 3), dtype=np.int64)
    counts = np.zeros(nb + 1, dtype=np.int64)
    which = np.empty(n, dtype=np.int64)
    for i in range(n):
        for k in range(3):
            b = int(sw[i, k] * nbins[k])
            if b >= nbins[k]:
                b = nbins[k] - 1
            if b < 0:
                b = 0
            bins[i, k] = b
        c = (bins[i, 0] * ny + bins[i, 1]) * nz + bins[i, 2]
        which[i] = c
        counts[c + 1] += 1
    for c in range(nb):
        counts[c + 1] += counts[c]
    fill = counts[:-1].copy()
    atoms = np.empty(n, dtype=np.int64)
    for i in range(n):
        c = which[i]
        atoms[fill[c]] = i
        fill[c] += 1
    return counts, atoms, bins


def wrapped_fractional(positions: np.ndarray, hinv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractional coordinates s, image counts floor(s) and wrapped fractional coordinates s - floor(s) in [0, 1)."""
    s = fractional(positions, hinv)
    images = np.floor(s)
    return s, images, s - images


def grid_shape(widths: np.ndarray, r: float, max_cells: int | None = None) -> np.ndarray | None:
    """Bins per cell vector for a search radius ``r`` (bins at least r wide), or None when a direction has fewer
    than 3 (then a cell list would see an atom's neighbour bins twice: search all pairs instead).

    ``max_cells`` bounds the number of bins (memory, empty bins) for short radii in large boxes: wider bins are
    still correct."""
    nbins = np.floor(widths / r).astype(np.int64)
    if max_cells is not None:
        while np.prod(nbins) > max_cells and nbins.max() > 3:
            nbins = np.maximum(3, nbins * 3 // 4)
    return nbins if np.all(nbins >= 3) else None


def row_capacity(n_points: int, cell: np.ndarray, r: float, pad: int) -> int:
    """Room per atom in a candidate buffer: 1.5 x the mean number of points within r, plus ``pad``."""
    density = n_points / abs(float(np.linalg.det(cell)))
    return int(1.5 * density * 4.0 / 3.0 * np.pi * r ** 3) + pad



@njit(cache=True)
def unwrap_fractional(frac, prev, start, cells, periodic):
    """Follow atoms by minimum image between consecutive frames: fractional coordinates ``frac`` (F, N, 3), the
    previous frame's ``prev`` (N, 3) and image counts ``start`` (N, 3), cells (F, 3, 3) Å, ``periodic`` (3,) 1.0 / 0.0
    (no image jumps along a non-periodic direction).

    Returns the unwrapped Cartesian positions (F, N, 3) Å, the image counts of the last frame (N, 3) and the length
    of each true step (F, N) Å; the same operations, in the same order, as numpy's round / cumsum and
    ``ssefeat.data._times_cells`` on whole arrays (equal to the last bit).
    """
    nf, n = frac.shape[0], frac.shape[1]
    out = np.empty((nf, n, 3))
    step_len = np.empty((nf, n))
    total = np.zeros((n, 3))  # cumulative jumps
    images = start.copy()
    a = np.empty(3)
    b = np.empty(3)
    for t in range(nf):
        for i in range(n):
            for k in range(3):
                step = frac[t, i, k] - (prev[i, k] if t == 0 else frac[t - 1, i, k])
                jump = np.rint(step) * periodic[k]
                total[i, k] = jump if t == 0 else total[i, k] + jump
                images[i, k] = start[i, k] - total[i, k]
                a[k] = frac[t, i, k] + images[i, k]
                b[k] = step - jump
            s2 = 0.0
            for k in range(3):
                out[t, i, k] = a[0] * cells[t, 0, k] + a[1] * cells[t, 1, k] + a[2] * cells[t, 2, k]
                v = b[0] * cells[t, 0, k] + b[1] * cells[t, 1, k] + b[2] * cells[t, 2, k]
                s2 += v * v
            step_len[t, i] = math.sqrt(s2)
    return out, images, step_len
