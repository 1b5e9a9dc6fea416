"""numba kernels of the site analysis on plain arrays: which site each ion occupies, and the jumps between sites.

Site assignment bins the sites in fractional coordinates on a grid of ``n_k = floor(w_k / radius)`` bins along
each cell vector (w_k the smallest perpendicular width over the frames), so an ion and a site closer than the radius
lie in neighbouring bins in every frame; axes with fewer than 3 bins use one bin. The distance is the minimum image
of the fractional difference (rounded) in the frame's own cell, exact because the radius is below half the cell
width. An ion occupies the nearest site within the radius (sites are refused when they overlap, so there is at
most one), else -1.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def site_grid(site_frac: np.ndarray, widths_min: np.ndarray, radius: float):
    """Bins (3,) of the fractional grid described in the module docstring and, per bin, the candidate sites: every
    site in the bin or one of its neighbours (CSR ``order``, ``starts``), so an ion looks in its own bin only."""
    nb = np.floor(np.asarray(widths_min, dtype=np.float64) / radius).astype(np.int64)
    nb[nb < 3] = 1
    b = np.minimum(np.floor(site_frac * nb).astype(np.int64), nb - 1)
    offs = [np.arange(-1, 2) if n >= 3 else np.zeros(1, dtype=np.int64) for n in nb]
    shifts = np.stack(np.meshgrid(*offs, indexing="ij"), -1).reshape(-1, 3)
    nbr = (b[:, None, :] + shifts[None]) % nb  # (sites, shifts, 3)
    flat = ((nbr[..., 0] * nb[1] + nbr[..., 1]) * nb[2] + nbr[..., 2]).ravel()
    site = np.repeat(np.arange(len(site_frac), dtype=np.int64), len(shifts))
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(int(np.prod(nb)) + 1)).astype(np.int64)
    return nb, site[order], starts


@njit(cache=True, parallel=True)
def assign_sites(positions, cells, site_frac, radius, nb, order, starts, out):  # pragma: no cover - numba
    """out[f, i] = index of the site within ``radius`` of ion i in frame f (nearest), else -1.

    positions (F, N, 3) Å, cells (F, 3, 3) rows = cell vectors, site_frac (S, 3) in [0, 1), out (F, N) int32;
    ``order`` / ``starts``: the candidate sites of each bin (:func:`site_grid`).
    """
    n_frames, n_ions = positions.shape[0], positions.shape[1]
    r2 = radius * radius
    for f in prange(n_frames):
        h = cells[f]
        hinv = np.linalg.inv(h)
        for i in range(n_ions):
            x, y, z = positions[f, i, 0], positions[f, i, 1], positions[f, i, 2]
            s0 = x * hinv[0, 0] + y * hinv[1, 0] + z * hinv[2, 0]
            s1 = x * hinv[0, 1] + y * hinv[1, 1] + z * hinv[2, 1]
            s2 = x * hinv[0, 2] + y * hinv[1, 2] + z * hinv[2, 2]
            s0 -= math.floor(s0)
            s1 -= math.floor(s1)
            s2 -= math.floor(s2)
            c0 = min(int(s0 * nb[0]), nb[0] - 1)
            c1 = min(int(s1 * nb[1]), nb[1] - 1)
            c2 = min(int(s2 * nb[2]), nb[2] - 1)
            flat = (c0 * nb[1] + c1) * nb[2] + c2
            best = -1
            best_d2 = r2
            for k in range(starts[flat], starts[flat + 1]):
                s = order[k]
                u0 = site_frac[s, 0] - s0
                u1 = site_frac[s, 1] - s1
                u2 = site_frac[s, 2] - s2
                u0 -= math.floor(u0 + 0.5)
                u1 -= math.floor(u1 + 0.5)
                u2 -= math.floor(u2 + 0.5)
                vx = u0 * h[0, 0] + u1 * h[1, 0] + u2 * h[2, 0]
                vy = u0 * h[0, 1] + u1 * h[1, 1] + u2 * h[2, 1]
                vz = u0 * h[0, 2] + u1 * h[1, 2] + u2 * h[2, 2]
                dd = vx * vx + vy * vy + vz * vz
                if dd <= best_d2 and (best < 0 or dd < best_d2):
                    best = s
                    best_d2 = dd
            out[f, i] = best


@njit(cache=True, inline="always")
def _ion_jumps(row, min_residence, fill, k, ion, out_ion, out_from, out_to, out_dep, out_arr):
    """Jumps of one ion from its site series ``row`` (F,) (see :func:`count_jumps`); returns the next slot k."""
    n = row.shape[0]
    last_site = -1
    last_dep = -1
    a = 0
    while a < n:
        s = row[a]
        b = a
        while b + 1 < n and row[b + 1] == s:
            b += 1
        if s >= 0 and b - a + 1 >= min_residence:
            if last_site >= 0 and s != last_site:
                if fill:
                    out_ion[k] = ion
                    out_from[k] = last_site
                    out_to[k] = s
                    out_dep[k] = last_dep
                    out_arr[k] = a
                k += 1
            last_site = s
            last_dep = b
        a = b + 1
    return k


@njit(cache=True, parallel=True)
def count_jumps(states_t, min_residence):  # pragma: no cover - numba
    """Number of jumps of each ion; states_t (N, F) int32 site per ion and frame (-1 outside every site).

    A jump is a change between two different sites; frames outside every site are skipped, and so are visits
    shorter than ``min_residence`` consecutive frames (treated as outside every site).
    """
    n = states_t.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    dummy = np.zeros(0, dtype=np.int64)
    for i in prange(n):
        counts[i] = _ion_jumps(states_t[i], min_residence, False, 0, i, dummy, dummy, dummy, dummy, dummy)
    return counts


@njit(cache=True, parallel=True)
def fill_jumps(states_t, min_residence, offsets, out_ion, out_from, out_to, out_dep, out_arr):  # pragma: no cover
    """Write the jumps of ion i at offsets[i]:offsets[i+1]: ion, from site, to site, departure frame (last frame on
    the from site), arrival frame (first frame on the to site)."""
    for i in prange(states_t.shape[0]):
        _ion_jumps(states_t[i], min_residence, True, offsets[i], i, out_ion, out_from, out_to, out_dep, out_arr)


@njit(cache=True)
def collective_pairs(dep, arr, ion, site_a, site_b, site_frac, cell, max_frames, max_dist):  # pragma: no cover
    """Pairs (p < q) of jumps of different ions whose [departure, arrival] frame intervals come within
    ``max_frames`` of each other (dep_q - arr_p <= max_frames and dep_p - arr_q <= max_frames) and that have an end
    site of one within ``max_dist`` Å of an end site of the other (GEMDAT's collective-jump rule). Jumps must be
    sorted by departure, which makes the early exit exact. Returns two int64 arrays."""
    n = dep.shape[0]
    out_p = []
    out_q = []
    md2 = max_dist * max_dist
    for p in range(n - 1):
        for q in range(p + 1, n):
            if dep[q] - arr[p] > max_frames:
                break
            if dep[p] - arr[q] > max_frames or ion[p] == ion[q]:
                continue
            close = False
            for u in range(2):
                su = site_a[p] if u == 0 else site_b[p]
                for v in range(2):
                    sv = site_a[q] if v == 0 else site_b[q]
                    d0 = site_frac[sv, 0] - site_frac[su, 0]
                    d1 = site_frac[sv, 1] - site_frac[su, 1]
                    d2 = site_frac[sv, 2] - site_frac[su, 2]
                    d0 -= math.floor(d0 + 0.5)
                    d1 -= math.floor(d1 + 0.5)
                    d2 -= math.floor(d2 + 0.5)
                    vx = d0 * cell[0, 0] + d1 * cell[1, 0] + d2 * cell[2, 0]
                    vy = d0 * cell[0, 1] + d1 * cell[1, 1] + d2 * cell[2, 1]
                    vz = d0 * cell[0, 2] + d1 * cell[1, 2] + d2 * cell[2, 2]
                    if vx * vx + vy * vy + vz * vz < md2:
                        close = True
            if close:
                out_p.append(p)
                out_q.append(q)
    return np.array(out_p, dtype=np.int64), np.array(out_q, dtype=np.int64)
