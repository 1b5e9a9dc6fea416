"""The one-thread paths for small systems (neighbour search, D2min kernel), the one-pass unwrap kernel and the
one-cell perpendicular widths give the same numbers, to the last bit, as the paths they replace."""
from __future__ import annotations

import numpy as np
import pytest

import ssefeat.neighbors as nb
from ssefeat import _cell_kernels as cells
from ssefeat import box
from ssefeat.data import _times_cells
from ssefeat.dynamics import _d2min_arrays as d2a


def _triclinic(n, seed):
    rng = np.random.default_rng(seed)
    h = 2 * np.array([[14.0, 0.0, 0.0], [3.1, 13.0, 0.0], [-2.2, 1.7, 12.5]])  # 5-6 cell-list bins across
    pos = rng.random((n, 3)) @ h + rng.normal(0, 20, (n, 3))  # unwrapped, any image
    pos[:150] = pos[0] + rng.normal(0, 0.8, (150, 3))  # a locally dense clump: the candidate buffer must grow
    return pos, h


@pytest.mark.parametrize("subset", [False, True])
def test_serial_neighbour_search_equals_the_parallel_one(monkeypatch, subset):
    pos, h = _triclinic(2000, 1)
    kw = dict(query=np.arange(0, 2000, 3), points=np.arange(1, 2000, 2)) if subset else {}
    serial = nb.neighbor_pairs(pos, h, 4.5, r_min=0.3, **kw)
    monkeypatch.setattr(nb, "SERIAL_BELOW", 0)
    parallel = nb.neighbor_pairs(pos, h, 4.5, r_min=0.3, **kw)
    assert serial.i.size > 1000
    for name in ("i", "j", "vectors", "distances"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(parallel, name))


@pytest.mark.parametrize("scale, r_min, twice", [(1.0, 0.3, False), (0.5, -1.0, False), (0.5, 0.0, True)])
def test_half_list_equals_the_full_stencil(monkeypatch, scale, r_min, twice):
    """Query = points: the serial search scans each candidate pair once (half stencil) and must give the pairs of
    the parallel 27-bin scan to the last bit, with 5-6 and with exactly 3 bins across, coincident atoms kept
    (r_min < 0); an atom listed twice (not distinct) takes the full scan and agrees too."""
    pos, h = _triclinic(1200, 4)
    h = h * scale
    pos[7] = pos[3]  # coincident atoms
    idx = np.sort(np.r_[np.arange(0, 1200, 2), [10, 10]]) if twice else None
    assert (cells.grid_shape(box.perpendicular_widths(h), 4.0, 8 * 1200) == 3).any() == (scale == 0.5)
    serial = nb.neighbor_pairs(pos, h, 4.0, query=idx, points=idx, r_min=r_min)
    monkeypatch.setattr(nb, "SERIAL_BELOW", 0)
    parallel = nb.neighbor_pairs(pos, h, 4.0, query=idx, points=idx, r_min=r_min)
    assert serial.i.size > 5000
    for name in ("i", "j", "vectors", "distances"):
        np.testing.assert_array_equal(getattr(serial, name), getattr(parallel, name))


def test_serial_d2min_kernel_equals_the_parallel_one(monkeypatch):
    pos, h = _triclinic(2000, 2)
    moved = pos + np.random.default_rng(3).normal(0, 0.3, pos.shape)
    h1 = h @ np.array([[1.02, 0.01, 0], [0, 0.99, 0], [0, 0, 1.01]])  # a deforming cell: image shifts too
    serial = d2a.d2min_arrays(pos, moved, h, h1, 4.5)
    monkeypatch.setattr(d2a, "SERIAL_BELOW", 0)
    monkeypatch.setattr(nb, "SERIAL_BELOW", 0)
    parallel = d2a.d2min_arrays(pos, moved, h, h1, 4.5)
    assert np.isfinite(serial[0]).sum() > 1500
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


def test_unwrap_kernel_equals_the_numpy_expression():
    rng = np.random.default_rng(4)
    for trial in range(6):
        nf, n = 1 + trial, 50 + 100 * trial
        h = rng.normal(size=(nf, 3, 3)) * 2 + np.eye(3) * 12
        frac, prev = rng.normal(size=(nf, n, 3)) * 2, rng.normal(size=(n, 3))
        start = rng.integers(-2, 3, (n, 3)).astype(float)
        periodic = np.array([1.0, 1.0, float(trial % 2)])
        steps = np.diff(np.concatenate([prev[None], frac]), axis=0)
        jumps = np.round(steps) * (periodic > 0)
        images = start[None] - np.cumsum(jumps, axis=0)
        out, last, step_len = cells.unwrap_fractional(frac, prev, start, h, periodic)
        np.testing.assert_array_equal(out, _times_cells(frac + images, h))
        np.testing.assert_array_equal(last, images[-1])
        np.testing.assert_array_equal(step_len, np.linalg.norm(_times_cells(steps - jumps, h), axis=-1))


def test_one_cell_widths_equal_the_stacked_computation():
    rng = np.random.default_rng(5)
    stack = rng.normal(size=(500, 3, 3)) * rng.uniform(0.5, 30, (500, 1, 1)) + np.eye(3) * 10
    widths = box.perpendicular_widths(stack)  # the array path
    np.testing.assert_array_equal(np.array([box.perpendicular_widths(c) for c in stack]), widths)
    np.testing.assert_allclose(box.perpendicular_widths(np.diag([3.0, 4.0, 5.0])), [3.0, 4.0, 5.0], rtol=1e-15)
