"""numba kernel of the distinct van Hove function: histogram of |r_j(t0 + m) - r_i(t0)| over pairs i != j."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .._cell_kernels import minimum_image_vector


@njit(cache=True, parallel=True)
def distinct_histogram(x, cells, lags, origin_step, r_max, n_bins):  # pragma: no cover - numba
    """Pair counts (n_lags, n_bins) of minimum-image distances |x[t0 + m, j] - x[t0, i]|, i != j, bins of width
    r_max / n_bins, over origins t0 = 0, origin_step, ... with t0 + m inside the run; also the origins per lag.

    x (F, N, 3) Å; cells (F, 3, 3): the cell of frame t0 + m is used for the minimum image.
    """
    n_frames, n = x.shape[0], x.shape[1]
    n_lags = lags.shape[0]
    per_atom = np.zeros((n, n_lags, n_bins))
    origins = np.zeros(n_lags, dtype=np.int64)
    dr = r_max / n_bins
    for li in range(n_lags):
        m = lags[li]
        for t0 in range(0, n_frames - m, origin_step):
            origins[li] += 1
    for i in prange(n):
        for li in range(n_lags):
            m = lags[li]
            for t0 in range(0, n_frames - m, origin_step):
                h = cells[t0 + m]
                hinv = np.linalg.inv(h)
                for j in range(n):
                    if j == i:
                        continue
                    vx, vy, vz = minimum_image_vector(x[t0 + m, j, 0] - x[t0, i, 0], x[t0 + m, j, 1] - x[t0, i, 1],
                                                      x[t0 + m, j, 2] - x[t0, i, 2], h, hinv)
                    d = math.sqrt(vx * vx + vy * vy + vz * vz)
                    if d < r_max:
                        per_atom[i, li, int(d / dr)] += 1.0
    return per_atom.sum(axis=0), origins
