"""Numerical kernels of the disorder profile F(z): Gaussian densities projected onto slabs, spectra, the two-arc scan.

Everything here works on plain numpy arrays; :mod:`ssefeat.disorder` and :mod:`ssefeat.regions` wrap it in xarray.

Grid convention (fractional, works for any cell): the cell is cut into ``n = (n0, n1, n2)`` grid points along the
cell vectors a, b, c; grid point ``(i, j, k)`` sits at fractional position ``((i + 0.5)/n0, (j + 0.5)/n1,
(k + 0.5)/n2)`` (cell centres, as freud). The density is the periodic sum of normalised 3D Gaussians

    rho(r) = sum_atoms sum_images (2 pi sigma^2)^(-3/2) exp(-|r - r_a - image|^2 / (2 sigma^2))     [1/Å^3]

truncated at ``r_cut`` (default 7 sigma: the neglected tail is below exp(-24.5) = 2e-11 of the peak, i.e. exact
at the precision anyone needs). Slabs are groups of ``planes_per_slab`` consecutive grid planes along the slab
axis; a slab's projection is the integral of rho across the slab, P(u, v) = sum_planes rho * h_perp [1/Å^2],
with h_perp the distance between grid planes. With one plane per slab the projections are the 3D grid itself
(times h_perp).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import prange

#: default truncation of the Gaussians, in units of sigma
TRUNCATE = 7.0


def other_axes(axis: int) -> tuple[int, int]:
    """The two in-plane cell axes of a slab axis, in increasing order."""
    return tuple(m for m in range(3) if m != axis)  # type: ignore[return-value]


def is_orthogonal(cell: np.ndarray, tol: float = 1e-8) -> bool:
    """True when the three cell vectors are mutually perpendicular (relative tolerance ``tol``)."""
    cell = np.asarray(cell, dtype=np.float64)
    g = cell @ cell.T
    d = np.sqrt(np.diag(g))
    off = g / np.outer(d, d) - np.eye(3)
    return bool(np.all(np.abs(off) < tol))


@numba.njit(cache=True, inline="always")
def _pmod(i, n):
    r = i % n
    return r + n if r < 0 else r


@numba.njit(cache=True, parallel=True)
def _slab_weights(s_axis, n_axis, p, n_slabs, h_axis, sigma, r_cut, n_touch):
    """Per atom: first (unwrapped) slab touched and the integral of its 1D Gaussian factor over each touched slab.

    The weights are sum_k exp(-(x_k - x_a)^2 / 2 sigma^2) * h_axis over the planes k of each slab, x in Å along the
    axis (orthogonal cells); for triclinic cells only the slab range is used.
    """
    n = s_axis.shape[0]
    first = np.empty(n, np.int64)
    w = np.zeros((n, n_touch), np.float64)
    inv2s2 = 1.0 / (2.0 * sigma * sigma)
    reach = r_cut / h_axis
    for a in prange(n):
        c = s_axis[a] * n_axis - 0.5
        k0 = int(np.ceil(c - reach))
        k1 = int(np.floor(c + reach))
        s0 = k0 // p  # floor division (Python semantics in numba too)
        first[a] = _pmod(s0, n_slabs)
        for k in range(k0, k1 + 1):
            d = (k - c) * h_axis
            off = k // p - s0
            if off < n_touch:
                w[a, off] += np.exp(-d * d * inv2s2) * h_axis
            else:  # stencil longer than the box: wraps onto slabs already listed
                w[a, off % n_slabs] += np.exp(-d * d * inv2s2) * h_axis
    return first, w


@numba.njit(cache=True, parallel=True)
def _project_orthogonal(su, sv, w, order, starts, nu, nv, hu, hv, n_slabs, sigma, r_cut, norm):
    """Slab projections for an orthogonal cell (separable Gaussians), parallel over slabs (no write races).

    Atoms are bucketed by the first slab they touch (``order``, ``starts``): slab s visits the buckets s, s - 1, ...,
    s - n_touch + 1 only.
    """
    n_touch = w.shape[1]
    out = np.zeros((n_slabs, nu, nv), np.float64)
    inv2s2 = 1.0 / (2.0 * sigma * sigma)
    ru = r_cut / hu
    rv = r_cut / hv
    mu = 2 * int(ru) + 3
    mv = 2 * int(rv) + 3
    for s in prange(n_slabs):
        gu = np.empty(mu, np.float64)
        gv = np.empty(mv, np.float64)
        plane = out[s]
        for b in range(n_touch):
            bucket = _pmod(s - b, n_slabs)
            for q in range(starts[bucket], starts[bucket + 1]):
                a = order[q]
                _add_atom_orthogonal(plane, a, b, su, sv, w, nu, nv, hu, hv, ru, rv, inv2s2, norm, gu, gv)
    return out


@numba.njit(cache=True, inline="always")
def _add_atom_orthogonal(plane, a, off, su, sv, w, nu, nv, hu, hv, ru, rv, inv2s2, norm, gu, gv):
    """Add atom a's Gaussian, integrated across the slab (weight w[a, off]), to the slab's plane."""
    wz = w[a, off]
    if wz == 0.0:
        return
    cu = su[a] * nu - 0.5
    cv = sv[a] * nv - 0.5
    i0 = int(np.ceil(cu - ru))
    i1 = int(np.floor(cu + ru))
    j0 = int(np.ceil(cv - rv))
    j1 = int(np.floor(cv + rv))
    for i in range(i0, i1 + 1):
        d = (i - cu) * hu
        gu[i - i0] = np.exp(-d * d * inv2s2)
    for j in range(j0, j1 + 1):
        d = (j - cv) * hv
        gv[j - j0] = np.exp(-d * d * inv2s2) * wz * norm
    inside = j0 >= 0 and j1 < nv
    for i in range(i0, i1 + 1):
        row = plane[_pmod(i, nu)]
        g = gu[i - i0]
        if inside:  # contiguous run: no wrapping in the inner loop (vectorises)
            for t in range(j1 - j0 + 1):
                row[j0 + t] += g * gv[t]
        else:
            for j in range(j0, j1 + 1):
                row[_pmod(j, nv)] += g * gv[j - j0]


@numba.njit(cache=True, parallel=True)
def _project_general(frac, cell, n_grid, axis, ua, va, p, n_slabs, order, starts, n_touch, reach, h_perp, sigma,
                     r_cut, norm):
    """Slab projections for any (triclinic) cell: full 3D stencil in fractional grid coordinates."""
    n_axis = n_grid[axis]
    nu = n_grid[ua]
    nv = n_grid[va]
    out = np.zeros((n_slabs, nu, nv), np.float64)
    inv2s2 = 1.0 / (2.0 * sigma * sigma)
    rc2 = r_cut * r_cut
    for s in prange(n_slabs):
        plane = out[s]
        u = np.empty(3, np.float64)
        idx = np.empty(3, np.int64)
        lo = np.empty(3, np.int64)
        hi = np.empty(3, np.int64)
        for b in range(n_touch):
            bucket = _pmod(s - b, n_slabs)
            for q in range(starts[bucket], starts[bucket + 1]):
                a = order[q]
                for m in range(3):
                    c = frac[a, m] * n_grid[m] - 0.5
                    lo[m] = int(np.ceil(c - reach[m]))
                    hi[m] = int(np.floor(c + reach[m]))
                for k in range(lo[axis], hi[axis] + 1):
                    kk = _pmod(k, n_axis)
                    if kk // p != s:
                        continue
                    idx[axis] = k
                    for i in range(lo[ua], hi[ua] + 1):
                        idx[ua] = i
                        for j in range(lo[va], hi[va] + 1):
                            idx[va] = j
                            for m in range(3):
                                u[m] = (idx[m] + 0.5) / n_grid[m] - frac[a, m]
                            dx = u[0] * cell[0, 0] + u[1] * cell[1, 0] + u[2] * cell[2, 0]
                            dy = u[0] * cell[0, 1] + u[1] * cell[1, 1] + u[2] * cell[2, 1]
                            dz = u[0] * cell[0, 2] + u[1] * cell[1, 2] + u[2] * cell[2, 2]
                            r2 = dx * dx + dy * dy + dz * dz
                            if r2 <= rc2:
                                plane[_pmod(i, nu), _pmod(j, nv)] += norm * h_perp * np.exp(-r2 * inv2s2)
    return out


def _buckets(first: np.ndarray, n_slabs: int) -> tuple[np.ndarray, np.ndarray]:
    """Atoms sorted by the first slab they touch, and the start of each slab's bucket (n_slabs + 1,)."""
    order = np.argsort(first, kind="stable").astype(np.int64)
    starts = np.searchsorted(first[order], np.arange(n_slabs + 1)).astype(np.int64)
    return order, starts


def slab_projections(frac: np.ndarray, cell: np.ndarray, n_grid, axis: int, planes_per_slab: int, sigma: float,
                     r_cut: float | None = None) -> np.ndarray:
    """Gaussian density of the atoms integrated across each slab: array (n_slabs, n_u, n_v) in 1/Å^2.

    Parameters
    ----------
    frac : (N, 3) fractional coordinates (any real values; wrapped here).
    cell : (3, 3) cell, rows are vectors, Å.
    n_grid : 3 ints, grid points along a, b, c; ``n_grid[axis]`` must be a multiple of ``planes_per_slab``.
    axis : 0, 1, 2 (a, b, c): the slab normal is perpendicular to the two other cell vectors.
    planes_per_slab : grid planes per slab (1 gives the full 3D grid, times the plane spacing).
    sigma : Gaussian width, Å.  r_cut : truncation radius, Å (default ``TRUNCATE * sigma``). Every atom weighs 1.
    """
    frac = np.ascontiguousarray(np.asarray(frac, dtype=np.float64) % 1.0)
    frac[frac >= 1.0] = 0.0
    cell = np.ascontiguousarray(cell, dtype=np.float64)
    n_grid = np.asarray(n_grid, dtype=np.int64)
    p = int(planes_per_slab)
    if n_grid[axis] % p:
        raise ValueError("n_grid[axis] must be a multiple of planes_per_slab")
    n_slabs = int(n_grid[axis] // p)
    r_cut = TRUNCATE * sigma if r_cut is None else float(r_cut)
    ua, va = other_axes(axis)
    vol = abs(np.linalg.det(cell))
    widths = vol / np.array([np.linalg.norm(np.cross(cell[1], cell[2])), np.linalg.norm(np.cross(cell[2], cell[0])),
                             np.linalg.norm(np.cross(cell[0], cell[1]))])
    h_perp = widths[axis] / n_grid[axis]
    norm = (2.0 * np.pi * sigma * sigma) ** -1.5
    # planes k touched by an atom: |k - c| <= r_cut / h_perp (distance to a plane is at least its normal distance)
    reach_axis = r_cut / h_perp
    n_touch = int(min(n_slabs, (2 * int(np.ceil(reach_axis)) + 1) // p + 2))
    if frac.shape[0] == 0:
        return np.zeros((n_slabs, int(n_grid[ua]), int(n_grid[va])))
    if is_orthogonal(cell):
        lengths = np.linalg.norm(cell, axis=1)
        h = lengths / n_grid
        first, w = _slab_weights(frac[:, axis].copy(), int(n_grid[axis]), p, n_slabs, float(h[axis]), float(sigma),
                                 r_cut, n_touch)
        order, starts = _buckets(first, n_slabs)
        return _project_orthogonal(frac[:, ua].copy(), frac[:, va].copy(), w, order, starts, int(n_grid[ua]),
                                   int(n_grid[va]), float(h[ua]), float(h[va]), n_slabs, float(sigma), r_cut, norm)
    first, _ = _slab_weights(frac[:, axis].copy(), int(n_grid[axis]), p, n_slabs, float(h_perp), float(sigma), r_cut,
                             n_touch)
    # index reach along each axis of a sphere of radius r_cut: r_cut * |reciprocal vector m| * n_m
    recip = np.linalg.inv(cell)  # columns are reciprocal vectors (without 2 pi)
    reach = r_cut * np.linalg.norm(recip, axis=0) * n_grid
    order, starts = _buckets(first, n_slabs)
    return _project_general(frac, cell, n_grid, axis, ua, va, p, n_slabs, order, starts, n_touch, reach,
                            float(h_perp), float(sigma), r_cut, norm)


def density_grid(frac: np.ndarray, cell: np.ndarray, n_grid, sigma: float, r_cut: float | None = None,
                 axis: int = 2) -> np.ndarray:
    """The periodic Gaussian number density on the full grid, shape (n0, n1, n2), 1/Å^3 (integrates to N)."""
    cell = np.asarray(cell, dtype=np.float64)
    n_grid = np.asarray(n_grid, dtype=np.int64)
    planes = slab_projections(frac, cell, n_grid, axis, 1, sigma, r_cut)
    vol = abs(np.linalg.det(cell))
    ua, va = other_axes(axis)
    width = vol / np.linalg.norm(np.cross(cell[ua], cell[va]))
    grid = planes / (width / n_grid[axis])  # (n_axis, n_u, n_v)
    order = [axis, ua, va]
    return np.transpose(grid, np.argsort(order))


def spectrum_ratio(proj: np.ndarray, workers: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each slab projection (S, nu, nv): mean and max of the 2D power spectrum without k = 0, and their ratio.

    I(k) = |FFT2(P)(k)|^2 over the full (nu, nv) grid of wave vectors; the k = 0 term is excluded from both the
    mean and the max. Returns (F_raw, mean_I, max_I), each (S,).
    """
    from scipy import fft as sfft

    spec = np.abs(sfft.fft2(proj, axes=(-2, -1), workers=workers or -1)) ** 2
    m = spec.shape[-2] * spec.shape[-1]
    flat = spec.reshape(spec.shape[0], m)
    flat[:, 0] = 0.0
    mean = flat.sum(axis=1) / (m - 1)
    mx = flat.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mx > 0, mean / mx, np.nan)
    return ratio, mean, mx


def gaussian_limit_reference(cell: np.ndarray, n_grid, axis: int, sigma: float) -> float:
    """Analytic F_raw of a uniformly random slab in the limit of many atoms per slab.

    For N independent uniform atoms the Fourier coefficient of a slab projection at k != 0 is a sum of N random
    phases times the atom's form factor, hence (central limit) a complex Gaussian with E|c_k|^2 = m_k proportional
    to |G(k)|^2 = exp(-sigma^2 |k|^2) (aliasing by the grid neglected: needs grid spacing below ~sigma). Then
    I(k) = |c_k|^2 is exponential with mean m_k (chi^2 with one degree of freedom on the self-conjugate k of an
    even grid), c_{-k} = conj(c_k), and the max runs over the independent half plane, with
    P(max <= x) = prod_k P(I_k <= x). Returns E[mean_k I] * E[1 / max_k I], the expected ratio
    (the mean over M wave vectors is self-averaging, so it decouples from the max up to O(1/M)).
    """
    from scipy import special
    from scipy.integrate import quad

    cell = np.asarray(cell, dtype=np.float64)
    n_grid = np.asarray(n_grid, dtype=np.int64)
    ua, va = other_axes(axis)
    nu, nv = int(n_grid[ua]), int(n_grid[va])
    recip = 2 * np.pi * np.linalg.inv(cell).T  # rows: reciprocal vectors b_m with a_i . b_m = 2 pi delta
    iu = np.fft.fftfreq(nu, 1.0 / nu)
    iv = np.fft.fftfreq(nv, 1.0 / nv)
    ku = iu[:, None, None] * recip[ua][None, None, :] + iv[None, :, None] * recip[va][None, None, :]
    # the projection removes the component along the slab normal: keep the in-plane part of k
    normal = np.cross(cell[ua], cell[va])
    normal /= np.linalg.norm(normal)
    ku = ku - (ku @ normal)[..., None] * normal
    m = np.exp(-sigma ** 2 * np.einsum("ijk,ijk->ij", ku, ku))
    m[0, 0] = 0.0
    mean = m.sum() / (m.size - 1)
    # independent coefficients: one of each pair (k, -k); self-conjugate ones are real
    ii, jj = np.meshgrid(np.arange(nu), np.arange(nv), indexing="ij")
    ci, cj = (-ii) % nu, (-jj) % nv
    self_conj = (ci == ii) & (cj == jj)
    keep = ((ii * nv + jj) < (ci * nv + cj)) & ~self_conj
    m_c = m[keep]
    m_r = m[self_conj & ((ii + jj) > 0)]
    m_c = m_c[m_c > 1e-300]
    m_r = m_r[m_r > 1e-300]
    scale = m.max()

    def log_cdf(x):
        out = np.sum(np.log1p(-np.exp(-x / m_c))) if m_c.size else 0.0
        if m_r.size:
            out += np.sum(np.log(np.maximum(special.erf(np.sqrt(x / (2 * m_r))), 1e-300)))
        return out

    # E[1 / max] = int_0^inf P(max <= x) / x^2 dx; P(max <= x) is negligible below a tenth of the largest m_k
    typical = scale * np.log(max(m_c.size + m_r.size, 2))
    upper = scale * (np.log(m_c.size + m_r.size + 1) + 40)
    e_inv_max, _ = quad(lambda x: np.exp(log_cdf(x)) / (x * x), 0.1 * scale, upper, limit=400, points=[typical])
    e_inv_max += 1.0 / upper
    return float(mean * e_inv_max)


# ------------------------------------------------------------------------------------------------------------
# two-level split of a periodic profile (interface significance)
# ------------------------------------------------------------------------------------------------------------
def two_arc_scan(y: np.ndarray, var_floor: float = 0.0, min_arc: int = 2, max_cells: int = 2_000_000):
    """Best split of periodic sequences into two contiguous arcs, by the two-sample z of their means.

    For each row of ``y`` (P, n) and every arc A = y[s], ..., y[s + m - 1] (indices mod n, ``min_arc`` <= m <=
    n - ``min_arc``) with complement B: z = |mean_A - mean_B| / sqrt(var (1/m + 1/(n - m))), var = max(pooled
    within-arc variance (sum of squares about the arc means / (n - 2)), ``var_floor``). Prefix sums on the doubled
    row give every arc in O(1); rows are processed in chunks of at most ``max_cells`` (row, start, length) cells.

    Returns (z_max (P,), start (P,), length (P,), mean_A (P,), mean_B (P,)) of the best arc of each row.
    """
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    n_rows, n = y.shape
    lengths = np.arange(min_arc, n - min_arc + 1)
    out = [np.full(n_rows, np.nan), np.zeros(n_rows, np.int64), np.zeros(n_rows, np.int64),
           np.full(n_rows, np.nan), np.full(n_rows, np.nan)]
    if lengths.size == 0:
        return tuple(out)
    starts = np.arange(n)
    hi = starts[:, None] + lengths[None, :]  # (n, L)
    chunk = max(1, int(max_cells // (n * lengths.size)))
    for r0 in range(0, n_rows, chunk):
        yy = y[r0:r0 + chunk]
        d = np.concatenate([yy, yy], axis=1)
        c1 = np.concatenate([np.zeros((yy.shape[0], 1)), np.cumsum(d, axis=1)], axis=1)
        c2 = np.concatenate([np.zeros((yy.shape[0], 1)), np.cumsum(d * d, axis=1)], axis=1)
        t1 = c1[:, n][:, None, None]
        t2 = c2[:, n][:, None, None]
        s1 = c1[:, hi] - c1[:, starts][:, :, None]
        s2 = c2[:, hi] - c2[:, starts][:, :, None]
        na = lengths[None, None, :].astype(np.float64)
        nb = n - na
        ma = s1 / na
        mb = (t1 - s1) / nb
        ssw = (s2 - s1 * ma) + ((t2 - s2) - (t1 - s1) * mb)
        var = np.maximum(np.maximum(ssw, 0.0) / max(n - 2, 1), var_floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(ma - mb) / np.sqrt(var * (1.0 / na + 1.0 / nb))
        z = np.where(np.isfinite(z), z, np.where(np.abs(ma - mb) > 0, np.inf, 0.0))
        flat = z.reshape(z.shape[0], -1)
        best = np.argmax(flat, axis=1)
        rows = np.arange(z.shape[0])
        si, li = np.unravel_index(best, z.shape[1:])
        out[0][r0:r0 + chunk] = flat[rows, best]
        out[1][r0:r0 + chunk] = starts[si]
        out[2][r0:r0 + chunk] = lengths[li]
        out[3][r0:r0 + chunk] = ma[rows, si, li]
        out[4][r0:r0 + chunk] = mb[rows, si, li]
    return tuple(out)
