"""Numerical kernels for transport: MSD by FFT (also masked: per region), displacement moments and histograms.

Conventions: a trajectory block is ``x (T, n, 3)`` float64 of unwrapped positions at equally spaced frames.
``msd[m]`` is the time-origin average over all T - m origins of the squared displacement at lag m frames.
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.fft

#: bytes of FFT workspace allowed per atom chunk (complex spectrum + padded real copy)
CHUNK_BYTES = 64 * 2**20


def atoms_per_chunk(n_frames: int, n_series_per_atom: int = 3, budget: int = CHUNK_BYTES) -> int:
    """How many atoms to transform at once so that the FFT workspace stays below ``budget`` bytes."""
    nfft = scipy.fft.next_fast_len(2 * n_frames, real=True)
    per_atom = nfft * n_series_per_atom * 8 * 3  # padded real input, complex half-spectrum (2 x), output
    return max(1, int(budget // per_atom))


def autocorrelation_fft(series: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Unnormalised autocorrelation sums ``c[s, m] = sum_{k=0}^{T-m-1} x[s, k] x[s, k+m]`` by zero-padded FFT.

    ``series`` is (S, T) (time along the last, contiguous axis); returns (S, T).
    """
    t = series.shape[-1]
    nfft = scipy.fft.next_fast_len(2 * t, real=True)
    spec = scipy.fft.rfft(series, n=nfft, axis=-1, workers=workers)
    power = spec.real * spec.real + spec.imag * spec.imag
    return scipy.fft.irfft(power, n=nfft, axis=-1, workers=workers)[..., :t]


def msd_fft_series(series: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Time-origin averaged MSD of each 1-d series (S, T) -> (S, T) by the S1 - 2 S2 algorithm.

    S1(m) = (1/(T-m)) sum_k [x(k+m)^2 + x(k)^2] from prefix sums, S2(m) = (1/(T-m)) sum_k x(k) x(k+m) by FFT.
    Each series is shifted to zero mean first (the MSD is shift invariant) to limit round-off.
    O(T log T) per series.
    """
    x = np.ascontiguousarray(series, dtype=np.float64)
    x = x - x.mean(axis=-1, keepdims=True)
    t = x.shape[-1]
    sq = x * x
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(sq, axis=-1)], axis=-1)  # csum[k] = sum_{<k}
    m = np.arange(t)
    # sum_{k=0}^{T-m-1} x(k)^2 = csum[T-m];  sum_{k=m}^{T-1} x(k)^2 = csum[T] - csum[m]
    s1 = csum[..., t - m] + (csum[..., t:t + 1] - csum[..., m])
    s2 = autocorrelation_fft(x, workers)
    out = (s1 - 2.0 * s2) / (t - m)
    out[..., 0] = 0.0
    np.maximum(out, 0.0, out=out)  # round-off can leave -1e-15 at tiny lags
    return out


def msd_fft_atoms(x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Per-atom, per-axis MSD of a block ``x (T, n, 3)`` -> ``(T, n, 3)`` in Å^2 (one FFT per atom and axis)."""
    t, n, _ = x.shape
    series = np.ascontiguousarray(np.asarray(x, dtype=np.float64).reshape(t, n * 3).T)
    return msd_fft_series(series, workers).T.reshape(t, n, 3)


def msd_direct(x: np.ndarray) -> np.ndarray:
    """Reference O(T^2) time-origin average, per atom and axis: ``(T, n, 3) -> (T, n, 3)`` (for tests)."""
    x = np.asarray(x, dtype=np.float64)
    t = x.shape[0]
    out = np.zeros_like(x)
    for m in range(1, t):
        d = x[m:] - x[:-m]
        out[m] = (d * d).mean(axis=0)
    return out


@numba.njit(parallel=True, cache=True)
def displacement_moments(x, lags, origin_step):
    """Sums over atoms and time origins of r^2 and r^4 at each lag (frames), and the number of samples.

    x (T, n, 3) float64; lags (L,) int64; origins 0, origin_step, ... with origin + lag < T.
    Returns r2 (L,), r4 (L,), counts (L,) and per-axis r2 (L, 3).
    """
    t, n = x.shape[0], x.shape[1]
    nl = lags.shape[0]
    r2 = np.zeros(nl)
    r4 = np.zeros(nl)
    r2ax = np.zeros((nl, 3))
    cnt = np.zeros(nl, dtype=np.int64)
    for li in numba.prange(nl):
        m = lags[li]
        s2 = 0.0
        s4 = 0.0
        sx = 0.0
        sy = 0.0
        sz = 0.0
        c = 0
        for t0 in range(0, t - m, origin_step):
            for i in range(n):
                dx = x[t0 + m, i, 0] - x[t0, i, 0]
                dy = x[t0 + m, i, 1] - x[t0, i, 1]
                dz = x[t0 + m, i, 2] - x[t0, i, 2]
                d2 = dx * dx + dy * dy + dz * dz
                s2 += d2
                s4 += d2 * d2
                sx += dx * dx
                sy += dy * dy
                sz += dz * dz
                c += 1
        r2[li] = s2
        r4[li] = s4
        r2ax[li, 0] = sx
        r2ax[li, 1] = sy
        r2ax[li, 2] = sz
        cnt[li] = c
    return r2, r4, cnt, r2ax


@numba.njit(parallel=True, cache=True)
def displacement_histogram(x, lags, origin_step, edges_max, n_bins):
    """Histogram of displacement lengths |r_i(t0 + m) - r_i(t0)| on [0, edges_max) with n_bins equal bins.

    Returns counts (L, n_bins) and, per lag, the number of samples in total and beyond edges_max.
    """
    t, n = x.shape[0], x.shape[1]
    nl = lags.shape[0]
    hist = np.zeros((nl, n_bins), dtype=np.int64)
    total = np.zeros(nl, dtype=np.int64)
    beyond = np.zeros(nl, dtype=np.int64)
    width = edges_max / n_bins
    for li in numba.prange(nl):
        m = lags[li]
        for t0 in range(0, t - m, origin_step):
            for i in range(n):
                dx = x[t0 + m, i, 0] - x[t0, i, 0]
                dy = x[t0 + m, i, 1] - x[t0, i, 1]
                dz = x[t0 + m, i, 2] - x[t0, i, 2]
                r = np.sqrt(dx * dx + dy * dy + dz * dz)
                total[li] += 1
                k = int(r / width)
                if k < n_bins:
                    hist[li, k] += 1
                else:
                    beyond[li] += 1
    return hist, total, beyond


def ols_slope_weights(t: np.ndarray) -> np.ndarray:
    """Weights w with slope = sum_k w_k y_k for the ordinary least-squares line through (t_k, y_k)."""
    t = np.asarray(t, dtype=np.float64)
    tc = t - t.mean()
    return tc / (tc @ tc)


def ols_line(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """Ordinary least-squares line y = a + b t: slope b, intercept a, and their naive standard errors.

    The naive errors assume independent residuals; MSD points at neighbouring lags are strongly correlated, so
    these understate the real uncertainty (use the atom or block estimates instead).
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    tc = t - t.mean()
    sxx = tc @ tc
    b = (tc @ y) / sxx
    a = y.mean() - b * t.mean()
    k = t.size
    if k > 2:
        res = y - a - b * t
        s2 = (res @ res) / (k - 2)
        eb = np.sqrt(s2 / sxx)
        ea = np.sqrt(s2 * (1.0 / k + t.mean() ** 2 / sxx))
    else:
        eb = ea = np.nan
    return float(b), float(a), float(eb), float(ea)


# ------------------------------------------------------------------------------------------------------------
# masked mean-squared displacement (time-origin average restricted to the atoms flagged at each origin)
# ------------------------------------------------------------------------------------------------------------
def _correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """c[tau] = sum_t a[t] b[t + tau] for tau = 0..T-1, along axis 0 (any trailing dims), by FFT."""
    t = a.shape[0]
    nfft = scipy.fft.next_fast_len(2 * t)
    fa = scipy.fft.rfft(a, n=nfft, axis=0)
    fb = scipy.fft.rfft(b, n=nfft, axis=0)
    return scipy.fft.irfft(np.conj(fa) * fb, n=nfft, axis=0)[:t]


def masked_msd_sums(positions: np.ndarray, mask: np.ndarray, n_lag: int,
                    per_atom: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sums behind :func:`masked_msd`: (sum of squared displacements (n_lag,) Å^2, number of (origin, atom) pairs).

    Sums over atoms can be added chunk by chunk; divide at the end. ``per_atom=True`` keeps the atoms apart:
    arrays (n_lag, N).
    """
    r = np.asarray(positions, dtype=np.float64)
    m = np.asarray(mask, dtype=np.float64)
    t = r.shape[0]
    n_lag = min(int(n_lag), t)
    r = r - r.mean(axis=0, keepdims=True)  # displacements are shift invariant; centring limits round-off
    r2 = np.einsum("tnx,tnx->tn", r, r)
    taus = np.arange(n_lag)
    # sum_{t0 <= T-1-tau} m(t0) r2(t0) and the pair count, from prefix sums (per atom)
    a_term = np.cumsum(m * r2, axis=0)[t - 1 - taus]
    count = np.cumsum(m, axis=0)[t - 1 - taus]
    # sum_t0 m(t0) r2(t0 + tau) and sum_t0 m(t0) r(t0).r(t0 + tau), by FFT correlation
    b_term = _correlate(m, r2)[:n_lag]
    cross = _correlate(m[..., None] * r, r).sum(axis=2)[:n_lag]
    total = a_term + b_term - 2 * cross
    total[0] = 0.0
    total = np.maximum(total, 0.0)
    return (total, count) if per_atom else (total.sum(axis=1), count.sum(axis=1))


def masked_msd(positions: np.ndarray, mask: np.ndarray, max_lag: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Time-origin averaged MSD of the atoms flagged at each time origin, by FFT (O(T log T) per atom).

    msd(tau) = sum_{t0, i: mask[t0, i]} |r_i(t0 + tau) - r_i(t0)|^2 / count(tau), origins t0 = 0..T-1-tau.

    Parameters
    ----------
    positions : (T, N, 3) unwrapped positions, Å.
    mask : (T, N) bool, atom i counts for origin t0 when mask[t0, i].
    max_lag : largest lag in frames (default T - 1).
    Returns (msd (n_lag,) Å^2, NaN where no pair; count (n_lag,) number of (origin, atom) pairs per lag).
    """
    t = np.asarray(positions).shape[0]
    n_lag = t if max_lag is None else min(t, int(max_lag) + 1)
    total, count = masked_msd_sums(positions, mask, n_lag)
    with np.errstate(invalid="ignore", divide="ignore"):
        msd = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return msd, count
