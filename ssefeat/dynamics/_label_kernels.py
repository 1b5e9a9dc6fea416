"""Numba kernels of the rearrangement labels: D2min, p_hop, bond switching.

Plain arrays in, plain arrays out; the xarray layers are :mod:`ssefeat.dynamics.d2min`,
:mod:`~ssefeat.dynamics.phop`, :mod:`~ssefeat.dynamics.bond_switching` and :mod:`~ssefeat.dynamics.hops`.
Everything is float64; loops over atoms run in parallel (``prange``) and use scalar accumulators so that the hot
loops allocate nothing.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _pair_vectors(p, j, d0, u, uix, uiy, uiz, shift, shifted):
    """Pair p's reference separation (ax, ay, az) and its separation at t (bx, by, bz) = d0 + u_j - u_i (+ the
    change of its image vector when ``shifted``), Å."""
    ax = d0[p, 0]
    ay = d0[p, 1]
    az = d0[p, 2]
    bx = ax + (u[j, 0] - uix)
    by = ay + (u[j, 1] - uiy)
    bz = az + (u[j, 2] - uiz)
    if shifted:
        bx += shift[p, 0]
        by += shift[p, 1]
        bz += shift[p, 2]
    return ax, ay, az, bx, by, bz


@njit(cache=True, inline="always")
def _d2min_centre(c, offsets, centre, nbr, d0, shift, shifted, u, rcond, out_d2, out_F, out_valid):
    """D2min and F of centre c (see :func:`d2min_kernel`), written to the outputs."""
    s = offsets[c]
    e = offsets[c + 1]
    i = centre[c]
    uix = u[i, 0]
    uiy = u[i, 1]
    uiz = u[i, 2]
    x00 = 0.0; x01 = 0.0; x02 = 0.0; x10 = 0.0; x11 = 0.0; x12 = 0.0; x20 = 0.0; x21 = 0.0; x22 = 0.0
    y00 = 0.0; y01 = 0.0; y02 = 0.0; y11 = 0.0; y12 = 0.0; y22 = 0.0
    for p in range(s, e):
        ax, ay, az, bx, by, bz = _pair_vectors(p, nbr[p], d0, u, uix, uiy, uiz, shift, shifted)
        x00 += bx * ax; x01 += bx * ay; x02 += bx * az
        x10 += by * ax; x11 += by * ay; x12 += by * az
        x20 += bz * ax; x21 += bz * ay; x22 += bz * az
        y00 += ax * ax; y01 += ax * ay; y02 += ax * az
        y11 += ay * ay; y12 += ay * az; y22 += az * az
    # adjugate of the symmetric Y
    c00 = y11 * y22 - y12 * y12
    c01 = y02 * y12 - y01 * y22
    c02 = y01 * y12 - y02 * y11
    c11 = y00 * y22 - y02 * y02
    c12 = y01 * y02 - y00 * y12
    c22 = y00 * y11 - y01 * y01
    det = y00 * c00 + y01 * c01 + y02 * c02
    tr = (y00 + y11 + y22) / 3.0
    if (e - s) < 3 or not (det > rcond * tr * tr * tr) or not (det > 0.0):
        out_valid[c] = False
        out_d2[c] = np.nan
        for a in range(3):
            for b in range(3):
                out_F[c, a, b] = np.nan
        return
    inv = 1.0 / det
    i00 = c00 * inv; i01 = c01 * inv; i02 = c02 * inv
    i11 = c11 * inv; i12 = c12 * inv; i22 = c22 * inv
    # F = X Y^-1 (Y^-1 symmetric)
    f00 = x00 * i00 + x01 * i01 + x02 * i02
    f01 = x00 * i01 + x01 * i11 + x02 * i12
    f02 = x00 * i02 + x01 * i12 + x02 * i22
    f10 = x10 * i00 + x11 * i01 + x12 * i02
    f11 = x10 * i01 + x11 * i11 + x12 * i12
    f12 = x10 * i02 + x11 * i12 + x12 * i22
    f20 = x20 * i00 + x21 * i01 + x22 * i02
    f21 = x20 * i01 + x21 * i11 + x22 * i12
    f22 = x20 * i02 + x21 * i12 + x22 * i22
    d2 = 0.0
    for p in range(s, e):
        ax, ay, az, bx, by, bz = _pair_vectors(p, nbr[p], d0, u, uix, uiy, uiz, shift, shifted)
        rx = bx - (f00 * ax + f01 * ay + f02 * az)
        ry = by - (f10 * ax + f11 * ay + f12 * az)
        rz = bz - (f20 * ax + f21 * ay + f22 * az)
        d2 += rx * rx + ry * ry + rz * rz
    out_d2[c] = d2
    out_valid[c] = True
    out_F[c, 0, 0] = f00; out_F[c, 0, 1] = f01; out_F[c, 0, 2] = f02
    out_F[c, 1, 0] = f10; out_F[c, 1, 1] = f11; out_F[c, 1, 2] = f12
    out_F[c, 2, 0] = f20; out_F[c, 2, 1] = f21; out_F[c, 2, 2] = f22


@njit(cache=True, parallel=True)
def d2min_kernel(offsets, centre, nbr, d0, shift, u, rcond, out_d2, out_F, out_valid):  # pragma: no cover - numba
    """Falk-Langer D2min (sum over neighbours) and the local deformation gradient F of every centre.

    Parameters
    ----------
    offsets : int64 (n_centres + 1,)
        CSR offsets: the neighbours of centre c are pairs ``offsets[c]:offsets[c + 1]``.
    centre : int64 (n_centres,)
        Row of each centre in ``u``.
    nbr : int64 (n_pairs,)
        Row of each neighbour in ``u``.
    d0 : float64 (n_pairs, 3)
        Reference separation r_j(t0) - r_i(t0) (minimum image), Å.
    shift : float64 (n_pairs, 3) or (0, 3)
        Change of the periodic image vector between t0 and t (n @ (cell_t - cell_t0)), Å; an empty array for a
        fixed cell (no shift).
    u : float64 (n_atoms, 3)
        Unwrapped displacement of every atom from t0 to t, Å.
    rcond : float
        A centre is invalid when det(Y) <= rcond * (trace(Y) / 3)^3 (Y nearly singular) or it has < 3 neighbours.
    out_d2 : float64 (n_centres,)  D2min as a sum over neighbours, Å^2 (NaN when invalid).
    out_F : float64 (n_centres, 3, 3)  F with d ≈ F d0 (NaN when invalid).
    out_valid : bool (n_centres,)
    """
    shifted = shift.shape[0] > 0
    for c in prange(offsets.shape[0] - 1):
        _d2min_centre(c, offsets, centre, nbr, d0, shift, shifted, u, rcond, out_d2, out_F, out_valid)


@njit(cache=True)
def d2min_kernel_serial(offsets, centre, nbr, d0, shift, u, rcond, out_d2, out_F, out_valid):  # pragma: no cover
    """:func:`d2min_kernel` on one thread (small systems: no parallel region to start and join)."""
    shifted = shift.shape[0] > 0
    for c in range(offsets.shape[0] - 1):
        _d2min_centre(c, offsets, centre, nbr, d0, shift, shifted, u, rcond, out_d2, out_F, out_valid)


@njit(cache=True, parallel=True)
def phop_kernel(x, h, out_phop, out_disp):  # pragma: no cover - numba
    """Candelier p_hop and the window-mean displacement |<r>_B - <r>_A| for every atom.

    Windows are A = frames [t - h, t] and B = [t, t + h] (h + 1 frames each, frame t in both).
    Each atom's window sums come from prefix sums of its positions relative to its first frame (O(T) per atom;
    subtracting the first position keeps an atom at rest exactly zero).

    Parameters
    ----------
    x : float64 (n_frames, n_atoms, 3), unwrapped positions, Å
    h : int, half window tR / 2 in frames (>= 1)
    out_phop : float64 (n_frames, n_atoms), Å^2; untouched (caller fills NaN) where a window does not fit
    out_disp : float64 (n_frames, n_atoms), Å
    """
    n_t = x.shape[0]
    n_a = x.shape[1]
    w = float(h + 1)
    for a in prange(n_a):
        cs = np.zeros((n_t + 1, 4))
        x0 = x[0, a, 0]
        y0 = x[0, a, 1]
        z0 = x[0, a, 2]
        for t in range(n_t):
            dx = x[t, a, 0] - x0
            dy = x[t, a, 1] - y0
            dz = x[t, a, 2] - z0
            cs[t + 1, 0] = cs[t, 0] + dx
            cs[t + 1, 1] = cs[t, 1] + dy
            cs[t + 1, 2] = cs[t, 2] + dz
            cs[t + 1, 3] = cs[t, 3] + dx * dx + dy * dy + dz * dz
        for t in range(h, n_t - h):
            # A = [t - h, t] -> prefix rows t - h .. t + 1; B = [t, t + h] -> rows t .. t + h + 1
            ax = (cs[t + 1, 0] - cs[t - h, 0]) / w
            ay = (cs[t + 1, 1] - cs[t - h, 1]) / w
            az = (cs[t + 1, 2] - cs[t - h, 2]) / w
            a2 = (cs[t + 1, 3] - cs[t - h, 3]) / w
            bx = (cs[t + h + 1, 0] - cs[t, 0]) / w
            by = (cs[t + h + 1, 1] - cs[t, 1]) / w
            bz = (cs[t + h + 1, 2] - cs[t, 2]) / w
            b2 = (cs[t + h + 1, 3] - cs[t, 3]) / w
            var_a = a2 - (ax * ax + ay * ay + az * az)
            var_b = b2 - (bx * bx + by * by + bz * bz)
            if var_a < 0.0:
                var_a = 0.0
            if var_b < 0.0:
                var_b = 0.0
            ddx = bx - ax
            ddy = by - ay
            ddz = bz - az
            dd = ddx * ddx + ddy * ddy + ddz * ddz
            # <(r - <r>_B)^2>_A = var_A + |<r>_A - <r>_B|^2, and symmetrically for B
            out_phop[t, a] = np.sqrt((var_a + dd) * (var_b + dd))
            out_disp[t, a] = np.sqrt(dd)


@njit(cache=True, parallel=True)
def switching_kernel(ref_off, ref_j, cur_off, cur_j, out_cat, out_cn, out_lost, out_gained):  # pragma: no cover
    """Compare each centre's current neighbour set with its reference set (both sorted CSR lists).

    Categories: 0 unchanged, 1 decreased CN, 2 increased CN, 3 swapped (same CN, different neighbours).
    ``out_lost`` / ``out_gained``: reference neighbours no longer bonded / new neighbours.
    """
    n = ref_off.shape[0] - 1
    for c in prange(n):
        p = ref_off[c]
        pe = ref_off[c + 1]
        q = cur_off[c]
        qe = cur_off[c + 1]
        cn0 = pe - p
        cn1 = qe - q
        common = 0
        while p < pe and q < qe:
            if ref_j[p] == cur_j[q]:
                common += 1
                p += 1
                q += 1
            elif ref_j[p] < cur_j[q]:
                p += 1
            else:
                q += 1
        lost = cn0 - common
        gained = cn1 - common
        out_cn[c] = cn1
        out_lost[c] = lost
        out_gained[c] = gained
        if cn1 < cn0:
            out_cat[c] = 1
        elif cn1 > cn0:
            out_cat[c] = 2
        elif lost == 0:
            out_cat[c] = 0
        else:
            out_cat[c] = 3


def csr_offsets(i: np.ndarray, n: int) -> np.ndarray:
    """CSR offsets (n + 1,) of pair rows sorted by centre index ``i``."""
    return np.concatenate([[0], np.cumsum(np.bincount(i, minlength=n))]).astype(np.int64)
