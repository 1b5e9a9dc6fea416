"""numba kernels for structure functions on CSR neighbour arrays (see :func:`ssefeat.neighbors.neighbor_pairs`).

Plain numpy in, plain numpy out; parallel over centre atoms (``prange``), each centre writes only its own row.
Conventions are documented in :class:`ssefeat.features.parameters.ParameterSet`.
"""
from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange


@numba.njit(cache=True, inline="always")
def _fc(r, rc, smooth):
    if r >= rc:
        return 0.0
    if smooth:
        return 0.5 * (math.cos(math.pi * r / rc) + 1.0)
    return 1.0


@numba.njit(cache=True, parallel=True)
def radial_kernel(offsets, distances, code, mu, inv_two_l2, rc, smooth, out):
    """Add radial functions into ``out[:, :n_radial]``.

    offsets : (n_centres + 1,) CSR offsets; pairs offsets[i]:offsets[i+1] belong to centre i
    distances : (n_pairs,) r_ij
    code : (n_pairs,) index of j's species in the radial species list, -1 when j is not a radial neighbour
    mu : (n_mu,); inv_two_l2 : (n_L,) = 1 / (2 L^2); rc : cutoff; smooth : cosine cutoff function
    out : (n_centres, n_features) float64, column (s * n_mu + m) * n_L + l
    """
    n_centres = offsets.shape[0] - 1
    n_mu = mu.shape[0]
    n_l = inv_two_l2.shape[0]
    for i in prange(n_centres):
        for p in range(offsets[i], offsets[i + 1]):
            s = code[p]
            if s < 0:
                continue
            d = distances[p]
            if d >= rc:
                continue
            w = _fc(d, rc, smooth)
            base = s * n_mu * n_l
            for m in range(n_mu):
                dm = d - mu[m]
                dm2 = dm * dm
                for l in range(n_l):
                    out[i, base + m * n_l + l] += w * math.exp(-dm2 * inv_two_l2[l])


@numba.njit(cache=True, parallel=True)
def angular_kernel(offsets, vectors, distances, code, pair_block, inv_xi2, lambdas, zeta, zeta_int, rc, smooth,
                   col0, out):
    """Add angular functions into ``out[:, col0:]``.

    vectors : (n_pairs, 3) r_j - r_i (minimum image); distances : (n_pairs,)
    code : (n_pairs,) index of j's species in the angular species list, -1 when unused
    pair_block : (n_sp, n_sp) symmetric, block index of the species pair or -1
    inv_xi2 : (n_xi,) 1 / xi^2; lambdas : (n_lambda,); zeta : (n_zeta,) float, zeta_int : same as int or -1
    r_jk = |r_ik - r_ij|: the side of the triangle formed by the two neighbour images (never another periodic
    copy of k), so the features of a local environment do not depend on the size of the cell.
    Column of (block, x, a, z): col0 + ((block * n_xi + x) * n_lambda + a) * n_zeta + z.
    Each unordered pair {p, q} (p < q in the centre's neighbour list) is visited once.
    """
    n_centres = offsets.shape[0] - 1
    n_xi = inv_xi2.shape[0]
    n_lam = lambdas.shape[0]
    n_z = zeta.shape[0]
    for i in prange(n_centres):
        start = offsets[i]
        stop = offsets[i + 1]
        powers = np.empty(n_z)
        gauss = np.empty(n_xi)
        fcut = np.empty(stop - start)  # fc(r_ij) of this centre's pairs, 0 outside the angular cutoff
        for p in range(start, stop):
            fcut[p - start] = _fc(distances[p], rc, smooth)
        for p in range(start, stop):
            sp = code[p]
            rij = distances[p]
            fij = fcut[p - start]
            if sp < 0 or fij == 0.0:
                continue
            xj = vectors[p, 0]
            yj = vectors[p, 1]
            zj = vectors[p, 2]
            for q in range(p + 1, stop):
                sq = code[q]
                fik = fcut[q - start]
                if sq < 0 or fik == 0.0:
                    continue
                rik = distances[q]
                block = pair_block[sp, sq]
                if block < 0:
                    continue
                xk = vectors[q, 0]
                yk = vectors[q, 1]
                zk = vectors[q, 2]
                dx = xk - xj
                dy = yk - yj
                dz = zk - zj
                rjk2 = dx * dx + dy * dy + dz * dz
                w = fij * fik
                if smooth:
                    rjk = math.sqrt(rjk2)
                    if rjk >= rc:
                        continue
                    w *= _fc(rjk, rc, smooth)
                cos_t = (xj * xk + yj * yk + zj * zk) / (rij * rik)
                r2sum = rij * rij + rik * rik + rjk2
                for x in range(n_xi):
                    gauss[x] = w * math.exp(-r2sum * inv_xi2[x])
                for a in range(n_lam):
                    b = 1.0 + lambdas[a] * cos_t
                    if b < 0.0:  # rounding when |cos| = 1 exactly
                        b = 0.0
                    for z in range(n_z):
                        k = zeta_int[z]
                        if k >= 0:
                            v = 1.0
                            for _ in range(k):
                                v *= b
                            powers[z] = v
                        else:
                            powers[z] = b ** zeta[z]
                    for x in range(n_xi):
                        g = gauss[x]
                        col = col0 + ((block * n_xi + x) * n_lam + a) * n_z
                        for z in range(n_z):
                            out[i, col + z] += g * powers[z]
