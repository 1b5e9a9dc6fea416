"""ssefeat.neighbors.neighbor_pairs (numba cell list) against a brute-force search over all 27 periodic images."""
import itertools

import numpy as np
import pytest

from ssefeat import box
from ssefeat.errors import NonFiniteError, ParameterError, SelectionError
from ssefeat.neighbors import NeighborPairs, check_cutoff, neighbor_pairs

SHIFTS = np.array(list(itertools.product((-2, -1, 0, 1), repeat=3)), dtype=np.float64)


def brute_force(positions, cell, cutoff, query=None, points=None, r_min=0.0):
    """Every (query, point) pair with the shortest of 64 periodic images of r_j - r_i (no rounding rule)."""
    n = len(positions)
    query = np.arange(n) if query is None else np.asarray(query)
    points = np.arange(n) if points is None else np.asarray(points)
    s = positions @ np.linalg.inv(cell)
    ds = s[points][None, :, :] - s[query][:, None, :]
    ds -= np.floor(ds)  # in [0, 1) per component
    best = np.full(ds.shape[:2], np.inf)
    vec = np.zeros(ds.shape)
    for shift in SHIFTS:
        cand = (ds + shift) @ cell
        d2 = (cand ** 2).sum(-1)
        better = d2 < best
        best[better] = d2[better]
        vec[better] = cand[better]
    dist = np.sqrt(best)
    keep = (dist < cutoff) & (dist > r_min) & (query[:, None] != points[None, :])
    qi, pj = np.nonzero(keep)  # row-major: sorted by i then j
    return qi, pj, vec[qi, pj], dist[qi, pj]


def random_cell(rng, lo=14.0, hi=22.0, tilt=5.0):
    """A triclinic cell, rows in random order (not always upper triangular), right-handed."""
    cell = np.diag(rng.uniform(lo, hi, 3)) + np.triu(rng.uniform(-tilt, tilt, (3, 3)), 1)
    cell = cell[rng.permutation(3)] @ _rotation(rng)
    return cell if np.linalg.det(cell) > 0 else cell[[1, 0, 2]]


def _rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def assert_same(pairs, expected):
    qi, pj, vec, dist = expected
    assert isinstance(pairs, NeighborPairs)
    np.testing.assert_array_equal(pairs.i, qi)
    np.testing.assert_array_equal(pairs.j, pj)
    np.testing.assert_allclose(pairs.vectors, vec, rtol=0, atol=1e-10)
    np.testing.assert_allclose(pairs.distances, dist, rtol=0, atol=1e-10)
    assert pairs.i.dtype == np.int64 and pairs.j.dtype == np.int64 and pairs.vectors.dtype == np.float64


@pytest.mark.parametrize("seed", range(6))
def test_equals_brute_force_on_random_triclinic_cells_with_atoms_outside(seed):
    rng = np.random.default_rng(seed)
    cell = random_cell(rng)
    n = 400
    positions = (rng.random((n, 3)) * 4 - 1.5) @ cell  # unwrapped: up to two cells outside on either side
    half = 0.5 * box.perpendicular_widths(cell).min()
    cutoff = half * rng.uniform(0.3, 0.6)  # >= 3 bins along every direction: the cell-list path
    pairs = neighbor_pairs(positions, cell, cutoff)
    assert_same(pairs, brute_force(positions, cell, cutoff))
    assert len(pairs.i) > n  # not a vacuous comparison
    # the vectors are minimum images of the input positions' differences, r_j - r_i
    direct = box.minimum_image(positions[pairs.j] - positions[pairs.i], cell)
    np.testing.assert_allclose(pairs.vectors, direct, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(pairs.offsets, np.concatenate([[0], np.cumsum(pairs.counts)]))


def test_wrapping_the_positions_changes_nothing():
    rng = np.random.default_rng(10)
    cell = random_cell(rng)
    positions = (rng.random((300, 3)) * 3 - 1) @ cell
    a = neighbor_pairs(positions, cell, 4.0)
    b = neighbor_pairs(box.wrap_positions(positions, cell)[0], cell, 4.0)
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_array_equal(a.j, b.j)
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-10)


@pytest.mark.parametrize("seed", range(3))
def test_query_and_points_subsets(seed):
    rng = np.random.default_rng(100 + seed)
    cell = random_cell(rng)
    n = 500
    positions = rng.random((n, 3)) @ cell
    query = rng.choice(n, 150, replace=False)  # unsorted, overlapping with points
    points = rng.choice(n, 300, replace=False)
    cutoff = 0.45 * box.perpendicular_widths(cell).min() * 0.6
    pairs = neighbor_pairs(positions, cell, cutoff, query=query, points=points)
    assert_same(pairs, brute_force(positions, cell, cutoff, query, points))
    assert pairs.n_query == 150 and len(pairs.counts) == 150
    # an atom in both lists is never its own neighbour, but other shared atoms are
    assert not np.any(query[pairs.i] == points[pairs.j])
    shared = np.intersect1d(query, points)
    assert np.isin(points[pairs.j], shared).any()


def test_small_boxes_use_the_all_pairs_fallback_and_agree():
    rng = np.random.default_rng(7)
    for trial in range(4):
        cell = random_cell(rng, 8.0, 11.0, 2.0)
        positions = (rng.random((120, 3)) * 2 - 0.5) @ cell
        half = 0.5 * box.perpendicular_widths(cell).min()
        for cutoff in (0.99 * half, 0.7 * half):  # fewer than 3 bins along at least one direction
            assert np.floor(box.perpendicular_widths(cell) / cutoff).min() < 3
            pairs = neighbor_pairs(positions, cell, cutoff, query=np.arange(0, 120, 2))
            assert_same(pairs, brute_force(positions, cell, cutoff, np.arange(0, 120, 2)))


def test_exactly_three_bins():
    rng = np.random.default_rng(8)
    cell = random_cell(rng)
    positions = rng.random((400, 3)) @ cell
    cutoff = box.perpendicular_widths(cell).min() / 3.0 * 0.999
    assert_same(neighbor_pairs(positions, cell, cutoff), brute_force(positions, cell, cutoff))


@pytest.mark.parametrize("fraction", [0.27, 0.45])  # cell list (>= 3 bins) and the all-pairs fallback
def test_r_min_and_coincident_atoms(fraction):
    rng = np.random.default_rng(3)
    cell = random_cell(rng)
    positions = rng.random((300, 3)) @ cell
    positions[5] = positions[9]  # two distinct atoms at the same place
    widths = box.perpendicular_widths(cell)
    cutoff = fraction * widths.min()
    assert (np.floor(widths / cutoff).min() >= 3) == (fraction < 1 / 3)
    for r_min in (0.0, 2.2):
        assert_same(neighbor_pairs(positions, cell, cutoff, r_min=r_min),
                    brute_force(positions, cell, cutoff, r_min=r_min))
    pairs = neighbor_pairs(positions, cell, cutoff, r_min=2.2)
    assert pairs.distances.min() > 2.2
    # r_min = 0 drops the coincident pair, a negative r_min keeps it (not self-pairs)
    zero = neighbor_pairs(positions, cell, cutoff)
    keep = neighbor_pairs(positions, cell, cutoff, r_min=-1.0)
    assert not np.any((zero.i == 5) & (zero.j == 9))
    assert np.any((keep.i == 5) & (keep.j == 9)) and np.any((keep.i == 9) & (keep.j == 5))
    assert len(keep.i) == len(zero.i) + 2 and not np.any(keep.i == keep.j)


def test_dense_cluster_overflows_the_first_guess():
    """A locally dense region: more candidates than the density-based row capacity, and rows longer than 48."""
    rng = np.random.default_rng(4)
    cell = np.diag([40.0, 40.0, 40.0])
    sparse = rng.random((200, 3)) * 40
    cluster = 20 + rng.normal(scale=0.8, size=(300, 3))
    positions = np.concatenate([sparse, cluster])
    pairs = neighbor_pairs(positions, cell, 4.0)
    assert pairs.counts.max() > 200
    assert_same(pairs, brute_force(positions, cell, 4.0))


def test_many_bins_are_coarsened_without_losing_pairs():
    """A short cutoff in a large sparse box (more bins than 8 per atom): bins are made wider, pairs unchanged."""
    rng = np.random.default_rng(5)
    cell = np.array([[80.0, 0, 0], [10.0, 70.0, 0], [-5.0, 8.0, 90.0]])
    base = rng.random((150, 3)) @ cell
    partners = base + rng.normal(scale=0.6, size=base.shape)
    positions = np.concatenate([base, partners])
    pairs = neighbor_pairs(positions, cell, 1.2)
    assert len(pairs.i) > 50
    assert_same(pairs, brute_force(positions, cell, 1.2))


def test_empty_selections_and_no_pairs():
    cell = np.eye(3) * 20
    positions = np.array([[1.0, 1, 1], [10, 10, 10]])
    pairs = neighbor_pairs(positions, cell, 3.0)
    assert len(pairs.i) == 0 and pairs.n_query == 2 and list(pairs.counts) == [0, 0]
    assert pairs.vectors.shape == (0, 3)
    empty = neighbor_pairs(positions, cell, 3.0, query=np.zeros(0, dtype=int))
    assert empty.n_query == 0 and len(empty.j) == 0


def test_bad_input_raises_with_a_fix():
    rng = np.random.default_rng(0)
    cell = np.eye(3) * 10
    positions = rng.random((20, 3)) * 10
    with pytest.raises(ParameterError, match="not below half the smallest cell width") as err:
        neighbor_pairs(positions, cell, 5.2)
    assert err.value.fix
    with pytest.raises(ParameterError, match="positive"):
        neighbor_pairs(positions, cell, 0.0)
    with pytest.raises(SelectionError, match="outside 0..19"):
        neighbor_pairs(positions, cell, 3.0, query=[0, 20])
    with pytest.raises(SelectionError, match="outside"):
        neighbor_pairs(positions, cell, 3.0, points=[-1])
    with pytest.raises(SelectionError, match="indices"):
        neighbor_pairs(positions, cell, 3.0, query=np.ones(20, dtype=bool))
    bad = positions.copy()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match="NaN"):
        neighbor_pairs(bad, cell, 3.0)
    with pytest.raises(ParameterError):
        check_cutoff(float("nan"), cell)


def test_frame_neighbors_hand_out_exactly_the_pairs_of_a_fresh_search():
    """One search at the largest cutoff, filtered per request: the same pairs, order and float64 values as
    neighbor_pairs for smaller cutoffs, point subsets and r_min; other requests are searched afresh."""
    from ssefeat.neighbors import FrameNeighbors, frame_pairs

    rng = np.random.default_rng(5)
    cell = random_cell(rng)
    pos = rng.random((300, 3)) @ cell + rng.normal(0, 20.0, 3)
    pos[7] = pos[3] + cell[0]  # coincident with an image of atom 3
    query = np.sort(rng.choice(300, 90, replace=False))
    query = np.union1d(query, [3, 7])
    shared = FrameNeighbors(pos, cell, 6.5, query=query)
    subset = np.flatnonzero(rng.random(300) < 0.4)
    for cutoff, points, r_min in [(6.5, None, -1.0), (3.0, None, 0.0), (5.0, subset, 0.0), (4.2, subset, 1.5),
                                  (6.5, subset, -1.0)]:
        got = shared.pairs(cutoff, query=query, points=points, r_min=r_min)
        want = neighbor_pairs(pos, cell, cutoff, query=query, points=points, r_min=r_min)
        for name in ("i", "j", "vectors", "distances"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert got.n_query == want.n_query and got.cutoff == want.cutoff
    # outside what was searched: a larger cutoff, another query, unsorted points -> a fresh search, same answer
    for cutoff, q, points in [(7.0, query, None), (3.0, query[:10], None), (3.0, query, subset[::-1])]:
        got = frame_pairs([shared], 0, pos, cell, cutoff, query=q, points=points)
        want = neighbor_pairs(pos, cell, cutoff, query=q, points=points)
        np.testing.assert_array_equal(got.j, want.j)
        np.testing.assert_array_equal(got.vectors, want.vectors)
