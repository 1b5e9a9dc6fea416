"""Continuous symmetry measure (CSM) kernel, numba, vectorised over polyhedra.

Convention (that of pymatgen ChemEnv's ``symmetry_measure``): for real points Q and ideal points P, both centred,

    CSM = min over vertex permutations, rotations R and scale s of 100 * sum_i |P_i - s R Q_(perm i)|^2 / sum_i |P_i|^2

The scale s is applied to the real points and the sum is normalised by the *ideal* points. At the optimal s this
is ``100 * (1 - <R Q, P>^2 / (|Q|^2 |P|^2))``, so the result does not depend on the size of either set and is
symmetric in the two. pymatgen's default ``csm`` includes the central atom as an extra point matched to the centre
of the ideal polyhedron, everything centred on the centroid *including* the central atom (its ``wcs_ctwcc``
variant); ``include_centre=False`` gives the vertices-only measure centred on their centroid (``wocs_ctwocc``).

Speed: the best rotation for a permutation is the Kabsch solution, <R Q, P> = s1 + s2 + sign(det H) s3 with s the
singular values of H = Q^T P, computed as the largest eigenvalue of Horn's quaternion matrix by Newton's method
(no LAPACK call, ~0.1 µs). Permutations that differ by a proper symmetry of the ideal shape give the same value,
so only one per coset is tested: 2 of 24 for the tetrahedron, 30 of 720 for the octahedron (found numerically).
Only proper rotations are used; ChemEnv also allows reflections, which gives the same minimum because the
tetrahedron and octahedron are achiral and all cosets are tested.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numba
import numpy as np

#: ideal polyhedra, vertices as in pymatgen ChemEnv (centre at the origin)
IDEAL = {
    "T:4": np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1], [1, 1, 1]], dtype=np.float64) / np.sqrt(3.0),
    "O:6": np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], dtype=np.float64),
}


@numba.njit(cache=True)
def _max_proper_overlap(h):
    """max over proper rotations R of sum_ab R_ab h_ab-like overlap <R Q, P>, for h = Q^T P with |Q| = |P| = 1.

    Horn's quaternion form: the answer is the largest eigenvalue of a traceless symmetric 4x4 matrix K(h), found
    by Newton's method on its characteristic polynomial x^4 + c2 x^2 + c1 x + c0 from the upper bound 1
    (Cauchy-Schwarz); from above the iteration decreases monotonically to the largest root (QCP, Theobald 2005).
    """
    sxx, sxy, sxz = h[0, 0], h[0, 1], h[0, 2]
    syx, syy, syz = h[1, 0], h[1, 1], h[1, 2]
    szx, szy, szz = h[2, 0], h[2, 1], h[2, 2]
    k00 = sxx + syy + szz
    k01 = syz - szy
    k02 = szx - sxz
    k03 = sxy - syx
    k11 = sxx - syy - szz
    k12 = sxy + syx
    k13 = szx + sxz
    k22 = -sxx + syy - szz
    k23 = syz + szy
    k33 = -sxx - syy + szz
    c2 = -2.0 * (sxx * sxx + sxy * sxy + sxz * sxz + syx * syx + syy * syy + syz * syz
                 + szx * szx + szy * szy + szz * szz)
    c1 = -8.0 * (sxx * (syy * szz - syz * szy) - sxy * (syx * szz - syz * szx) + sxz * (syx * szy - syy * szx))
    # det K (symmetric 4x4) by 2x2 minors
    s0 = k00 * k11 - k01 * k01
    s1 = k00 * k12 - k01 * k02
    s2 = k00 * k13 - k01 * k03
    s3 = k01 * k12 - k11 * k02
    s4 = k01 * k13 - k11 * k03
    s5 = k02 * k13 - k12 * k03
    d5 = k22 * k33 - k23 * k23
    d4 = k12 * k33 - k13 * k23
    d3 = k12 * k23 - k13 * k22
    d2 = k02 * k33 - k03 * k23
    d1 = k02 * k23 - k03 * k22
    d0 = k02 * k13 - k03 * k12
    c0 = s0 * d5 - s1 * d4 + s2 * d3 + s3 * d2 - s4 * d1 + s5 * d0
    x = 1.0
    for _ in range(100):
        x2 = x * x
        f = (x2 + c2) * x2 + c1 * x + c0
        df = 4.0 * x2 * x + 2.0 * c2 * x + c1
        if df == 0.0:
            break
        step = f / df
        x -= step
        if abs(step) < 1e-12:  # |x| <= 1; one more step would be at round-off (CSM error < 1e-9)
            x2 = x * x
            f = (x2 + c2) * x2 + c1 * x + c0
            df = 4.0 * x2 * x + 2.0 * c2 * x + c1
            if df != 0.0:
                x -= f / df
            break
    return x


@numba.njit(cache=True)
def _best_overlap(q, p, perms, n_fixed):
    """max over perms of the Kabsch overlap <R Q_perm, P>; q, p centred, unit norm (m, 3); perms act on
    points n_fixed.."""
    best = -np.inf
    m = q.shape[0]
    h = np.zeros((3, 3))
    for k in range(perms.shape[0]):
        h[:, :] = 0.0
        for i in range(m):
            src = i if i < n_fixed else n_fixed + perms[k, i - n_fixed]
            for a in range(3):
                qa = q[src, a]
                for b in range(3):
                    h[a, b] += qa * p[i, b]
        val = _max_proper_overlap(h)
        if val > best:
            best = val
    return best


@numba.njit(cache=True, parallel=True)
def csm_kernel(points, ideal, perms, n_fixed):
    """CSM of many point sets against one ideal shape.

    points : (n, m, 3) real points (first ``n_fixed`` are matched in order, e.g. the centre; the rest permuted)
    ideal : (m, 3) ideal points in the same layout
    perms : (n_perm, m - n_fixed) int64 permutations of the permuted points
    Returns (n,) CSM in [0, 100]; NaN when a point set has a NaN or no extent.
    """
    n, m = points.shape[0], points.shape[1]
    p = ideal - ideal.sum(axis=0) / m
    p = p / np.sqrt((p * p).sum())
    out = np.empty(n)
    for t in numba.prange(n):
        q = np.empty((m, 3))
        c = np.zeros(3)
        for i in range(m):
            for a in range(3):
                c[a] += points[t, i, a]
        nq = 0.0
        for i in range(m):
            for a in range(3):
                q[i, a] = points[t, i, a] - c[a] / m
                nq += q[i, a] * q[i, a]
        if not (nq > 0.0):  # also catches NaN
            out[t] = np.nan
            continue
        q /= np.sqrt(nq)
        best = _best_overlap(q, p, perms, n_fixed)
        v = 100.0 * (1.0 - best * best)
        out[t] = v if v > 0.0 else 0.0
    return out


def _layout(name: str, include_centre: bool) -> tuple[np.ndarray, int]:
    verts = IDEAL[name]
    return (np.vstack([np.zeros(3), verts]), 1) if include_centre else (verts.copy(), 0)


@lru_cache(maxsize=None)
def reduced_permutations(name: str, include_centre: bool = True) -> np.ndarray:
    """One vertex permutation per coset of the proper symmetry group of the ideal shape ``name``."""
    ideal, n_fixed = _layout(name, include_centre)
    k = len(IDEAL[name])
    allp = all_permutations(name)
    # proper symmetries: permutations g with CSM(ideal relabelled by g) == 0
    relabelled = np.stack([np.vstack([ideal[:n_fixed], ideal[n_fixed:][g]]) for g in allp])
    ident = np.arange(k, dtype=np.int64)[None]
    zero = csm_kernel(relabelled, ideal, ident, n_fixed) < 1e-9
    group = allp[zero]
    seen = np.zeros(len(allp), dtype=bool)
    index = {tuple(p): n for n, p in enumerate(allp.tolist())}
    reps = []
    for n, perm in enumerate(allp):
        if seen[n]:
            continue
        reps.append(perm)
        for g in group:
            seen[index[tuple(perm[g].tolist())]] = True
    return np.array(reps, dtype=np.int64)


def all_permutations(name: str) -> np.ndarray:
    """Every vertex permutation of shape ``name`` (brute force; for checks)."""
    return np.array(list(itertools.permutations(range(len(IDEAL[name])))), dtype=np.int64)


def csm(vertices: np.ndarray, name: str, centre: np.ndarray | None = None, include_centre: bool = True,
        brute_force: bool = False) -> np.ndarray:
    """CSM of polyhedra against the ideal shape ``name`` ("T:4" or "O:6").

    vertices : (n, k, 3) or (k, 3) Å, made whole (no periodic jumps); centre : (n, 3) or (3,) central-atom
    positions, required when ``include_centre`` (pymatgen's default convention). Returns (n,) or a float.
    """
    v = np.asarray(vertices, dtype=np.float64)
    single = v.ndim == 2
    if single:
        v = v[None]
    k = len(IDEAL[name])
    if v.shape[1:] != (k, 3):
        raise ValueError(f"{name} needs {k} vertices per polyhedron, got shape {v.shape[1:]}")
    if include_centre:
        if centre is None:
            raise ValueError("include_centre=True needs the central-atom positions")
        c = np.asarray(centre, dtype=np.float64).reshape(-1, 3)
        pts = np.concatenate([np.broadcast_to(c, (len(v), 3))[:, None, :], v], axis=1)
    else:
        pts = v
    ideal, n_fixed = _layout(name, include_centre)
    perms = all_permutations(name) if brute_force else reduced_permutations(name, include_centre)
    out = csm_kernel(np.ascontiguousarray(pts), ideal, perms, n_fixed)
    return float(out[0]) if single else out
