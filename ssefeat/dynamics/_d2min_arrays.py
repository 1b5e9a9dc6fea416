"""D2min on plain arrays: the frame pairs (t0, t0 + lag) of a trajectory batched into few kernel calls.

The xarray layer is :mod:`ssefeat.dynamics.d2min` (definitions and conventions there); the kernel is
:func:`ssefeat.dynamics._label_kernels.d2min_kernel`. Lengths in Å, D2min in Å^2 (sum over neighbours).
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..neighbors import SERIAL_BELOW, neighbor_pairs
from . import _label_kernels as _k

#: centres per kernel call when frame pairs are batched (bounds the pair arrays to ~100 MB)
_BATCH_CENTRES = 1 << 17
_BLAS = []


def single_thread_blas(n_atoms: int | None = None):
    """BLAS limited to one thread: the (N, 3) @ (3, 3) products of unwrapping and the neighbour search only spin
    with more (10-60x slower on a busy machine); our parallelism is numba's. The controller is made once (~0.4 ms).
    Below SERIAL_BELOW ``n_atoms`` nothing is limited (a null context, 15-90 us less per call): those products
    (m n k < 4 x 10^4) are below OpenBLAS's own threading threshold (m n k <= 2.6 x 10^5 runs on one thread)."""
    if n_atoms is not None and n_atoms < SERIAL_BELOW:
        return contextlib.nullcontext()
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def _kernel(n_centres: int):
    """The D2min kernel for ``n_centres`` centres: on one thread below the neighbour search's SERIAL_BELOW."""
    return _k.d2min_kernel_serial if n_centres < SERIAL_BELOW else _k.d2min_kernel


def _frame_pairs(r0, rt, cell0, cellt, cutoff, centres, points):
    """Neighbour rows, d0 (Å), image shift (Å; None for a fixed cell) and per-centre counts of one frame pair."""
    pairs = neighbor_pairs(r0, cell0, cutoff, query=centres, points=points)
    nbr = points[pairs.j]
    d0 = pairs.vectors
    shift = None
    if not np.array_equal(cell0, cellt):
        # integer image of each pair at t0, carried to the current cell
        images = np.rint(np.einsum("pk,kl->pl", d0 - (r0[nbr] - r0[centres[pairs.i]]), np.linalg.inv(cell0)))
        shift = np.einsum("pk,kl->pl", images, cellt - cell0)
    return nbr, d0, shift, pairs.counts


def d2min_frames(pos: np.ndarray, cells: np.ndarray, refs, lag: int, cutoff: float, centres: np.ndarray,
                 points: np.ndarray, rcond: float = 1e-10, bar=None):
    """D2min (sum convention) of the frame pairs (t0, t0 + lag) for every t0 in ``refs``, batched.

    One neighbour search per t0 (neighbours at t0), then one kernel call for many frame pairs at once (their
    pairs concatenated, at most ~``_BATCH_CENTRES`` centres per call). Equal, value for value, to
    :func:`d2min_arrays` on each pair.

    Parameters
    ----------
    pos : (F, N, 3) Å, unwrapped positions; cells : (F, 3, 3) Å
    refs : int array, positions t0 with t0 + lag < F
    centres, points : int64 arrays, atoms whose D2min is computed and atoms that count as neighbours
    bar : optional progress bar (``update(n_frames)`` after each kernel call)

    Returns
    -------
    d2 (n_refs, n_centres) Å^2, F (n_refs, n_centres, 3, 3), valid (n_refs, n_centres) bool, n_neighbors (int64)
    """
    refs = np.asarray(refs, dtype=np.int64)
    n, nc, nr = pos.shape[1], len(centres), len(refs)
    d2, F = np.empty((nr, nc)), np.empty((nr, nc, 3, 3))
    valid, nn = np.empty((nr, nc), dtype=np.bool_), np.empty((nr, nc), dtype=np.int64)
    step = max(1, _BATCH_CENTRES // max(nc, 1))
    for lo in range(0, nr, step):
        batch = refs[lo:lo + step]
        parts = [_frame_pairs(pos[t], pos[t + lag], cells[t], cells[t + lag], cutoff, centres, points)
                 for t in batch]
        base = np.arange(len(batch), dtype=np.int64) * n  # frame k's rows in the stacked displacements
        if len(parts) == 1:  # no copies
            nbr, d0, shift, counts = parts[0]
        else:
            nbr = np.concatenate([p[0] + b for p, b in zip(parts, base)])
            d0 = np.concatenate([p[1] for p in parts])
            counts = np.concatenate([p[3] for p in parts])
            shift = None
            if any(p[2] is not None for p in parts):  # a zero shift for the fixed-cell pairs changes nothing
                shift = np.concatenate([np.zeros((len(p[0]), 3)) if p[2] is None else p[2] for p in parts])
        if shift is None:
            shift = np.zeros((0, 3))  # the kernel adds no image shift
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        centre_rows = (base[:, None] + centres[None, :]).ravel()
        u = (pos[batch + lag] - pos[batch]).reshape(-1, 3)
        k = slice(lo, lo + len(batch))
        _kernel(len(counts))(offsets, centre_rows, nbr, d0, shift, u, float(rcond), d2[k].reshape(-1),
                             F[k].reshape(-1, 3, 3), valid[k].reshape(-1))
        nn[k] = counts.reshape(len(batch), nc)
        if bar is not None:
            bar.update(len(batch))
    return d2, F, valid, nn


def d2min_arrays(r0: np.ndarray, rt: np.ndarray, cell0: np.ndarray, cellt: np.ndarray, cutoff: float,
                 centres: np.ndarray | None = None, points: np.ndarray | None = None, rcond: float = 1e-10):
    """D2min (sum convention) of one frame pair on plain arrays.

    Parameters
    ----------
    r0, rt : (N, 3) Å, unwrapped positions at t0 and t (rt - r0 is the true displacement)
    cell0, cellt : (3, 3) Å
    cutoff : Å, neighbours within it at t0
    centres, points : int arrays, atoms whose D2min is computed and atoms that count as neighbours (default all)

    Returns
    -------
    d2 (n_centres,) Å^2, F (n_centres, 3, 3), valid (n_centres,) bool, n_neighbors (n_centres,) int
    """
    r0 = np.ascontiguousarray(r0, dtype=np.float64)
    rt = np.ascontiguousarray(rt, dtype=np.float64)
    cell0 = np.asarray(cell0, dtype=np.float64)
    cellt = np.asarray(cellt, dtype=np.float64)
    n = r0.shape[0]
    centres = np.arange(n, dtype=np.int64) if centres is None else np.asarray(centres, dtype=np.int64)
    points = np.arange(n, dtype=np.int64) if points is None else np.asarray(points, dtype=np.int64)
    nbr, d0, shift, counts = _frame_pairs(r0, rt, cell0, cellt, cutoff, centres, points)
    offsets = np.zeros(len(centres) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    nc = len(centres)
    d2, F, valid = np.empty(nc), np.empty((nc, 3, 3)), np.empty(nc, dtype=np.bool_)
    _kernel(nc)(offsets, centres, nbr, d0, np.zeros((0, 3)) if shift is None else shift, rt - r0,
                float(rcond), d2, F, valid)
    return d2, F, valid, counts


def strain_from_F(F: np.ndarray):
    """Green-Lagrangian strain E = (F^T F - I) / 2, von Mises shear strain and volumetric strain tr(E)/3."""
    E = 0.5 * (np.einsum("...ki,...kj->...ij", F, F) - np.eye(3))
    exx, eyy, ezz = E[..., 0, 0], E[..., 1, 1], E[..., 2, 2]
    shear = np.sqrt(E[..., 0, 1] ** 2 + E[..., 0, 2] ** 2 + E[..., 1, 2] ** 2
                    + ((exx - eyy) ** 2 + (exx - ezz) ** 2 + (eyy - ezz) ** 2) / 6.0)
    return E, shear, (exx + eyy + ezz) / 3.0
