"""D2min / D_cum: affine invariance, agreement with a per-atom least-squares solution, validity flags, errors."""
from functools import partial

import numpy as np
import pytest

from ssefeat.dynamics.d2min import (cumulative_d2min, iter_cumulative_d2min, iter_nonaffine_displacement,
                                    nonaffine_displacement, nonaffine_displacement_series)
from ssefeat.errors import CellError, ParameterError, SelectionError
from ssefeat.neighbors import neighbor_pairs
from conftest import trajectory


def _config(n=300, L=12.0, seed=0, tilt=0.0):
    rng = np.random.default_rng(seed)
    cell = np.array([[L, 0, 0], [tilt * L, L, 0], [0.5 * tilt * L, 0, L]])
    s = rng.random((n, 3))
    return s @ cell, cell, rng


_traj = partial(trajectory, wrapped=True, timestep_ps=0.01)  # (frames, cell, species="A")


def _rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


@pytest.mark.parametrize("kind", ["shear", "stretch", "rotation", "mixed"])
def test_affine_deformation_of_whole_box_gives_zero(kind):
    r0, cell, _ = _config(tilt=0.1, seed=1)
    A = {"shear": np.array([[1, 0.08, 0.03], [0, 1, -0.05], [0, 0, 1]]),
         "stretch": np.diag([1.05, 0.97, 1.02]),
         "rotation": _rotation([1, 2, 3], 0.4),
         "mixed": _rotation([0, 0, 1], 0.2) @ np.array([[1.03, 0.06, 0], [0.02, 0.98, 0.01], [0, 0.04, 1.01]])}[kind]
    shift = np.array([1.7, -2.3, 0.9])  # a rigid translation too: many atoms cross the boundary
    # two intermediate frames so that unwrapping follows the motion in small steps
    frames, cells = [r0], [cell]
    for a in (0.5, 1.0):
        Aa = np.eye(3) + a * (A - np.eye(3)) if kind != "rotation" else _rotation([1, 2, 3], 0.4 * a)
        frames.append(r0 @ Aa.T + a * shift)
        cells.append(cell @ Aa.T)
    ds = _traj(frames, np.array(cells))
    res = nonaffine_displacement(ds, 0, 2, 3.5, strain=True)
    assert res["valid"].all()
    assert float(res["d2min"].max()) < 1e-20
    np.testing.assert_allclose(res["deformation_gradient"].values, np.broadcast_to(A, (r0.shape[0], 3, 3)),
                               atol=1e-12)
    E = 0.5 * (A.T @ A - np.eye(3))
    np.testing.assert_allclose(res["strain_tensor"].values[0], E, atol=1e-12)


def test_equals_direct_least_squares_on_random_displacements():
    r0, cell, rng = _config(n=250, seed=2)
    species = np.where(rng.random(250) < 0.4, "Li", "S")
    r1 = r0 + rng.normal(scale=0.3, size=r0.shape)
    ds = _traj([r0, r1], cell, species=species)
    cutoff = 3.2
    for normalize in ("sum", "mean"):
        for nb in (None, "S"):
            res = nonaffine_displacement(ds, 0, 1, cutoff, species="Li", normalize=normalize, neighbor_species=nb,
                                         strain=True)
            centres = np.flatnonzero(species == "Li")
            points = np.arange(250) if nb is None else np.flatnonzero(species == nb)
            pairs = neighbor_pairs(r0, cell, cutoff, query=centres, points=points)
            u = r1 - r0
            for c in range(0, len(centres), 7):
                rows = pairs.i == c
                d0 = pairs.vectors[rows]
                d = d0 + u[points[pairs.j[rows]]] - u[centres[c]]
                if len(d0) < 3:
                    assert not res["valid"].values[c] and np.isnan(res["d2min"].values[c])
                    continue
                Ft, *_ = np.linalg.lstsq(d0, d, rcond=None)  # d0 @ F^T ≈ d
                expected = ((d - d0 @ Ft) ** 2).sum()
                if normalize == "mean":
                    expected /= len(d0)
                assert res["n_neighbors"].values[c] == len(d0)
                np.testing.assert_allclose(res["d2min"].values[c], expected, rtol=1e-10, atol=1e-12)
                np.testing.assert_allclose(res["deformation_gradient"].values[c], Ft.T, rtol=1e-9, atol=1e-10)
    assert res["d2min"].attrs["units"] == "angstrom^2"
    assert res.attrs["analysis"] == "nonaffine_displacement"
    assert list(res["atom"].values) == list(np.flatnonzero(species == "Li"))


def test_boundary_crossing_handled_by_unwrapping():
    r0, cell, rng = _config(n=200, seed=3)
    u = rng.normal(scale=0.25, size=r0.shape)
    r1 = r0 + u
    wrapped = _traj([r0, r1], cell, wrapped=True)
    unwrapped = _traj([r0, r1], cell, wrapped=False)
    a = nonaffine_displacement(wrapped, 0, 1, 3.0)
    b = nonaffine_displacement(unwrapped, 0, 1, 3.0)
    np.testing.assert_allclose(a["d2min"].values, b["d2min"].values, rtol=1e-10, atol=1e-12)


def test_too_few_and_coplanar_neighbours_are_invalid():
    cell = np.eye(3) * 20.0
    pos = np.array([[10, 10, 10], [11, 10, 10], [10, 11, 10], [9, 10, 10], [10, 9, 10],  # planar shell of atom 0
                    [3, 3, 3], [4, 3, 3]])  # atoms 5, 6: one neighbour each
    pos = pos.astype(float)
    moved = pos + np.random.default_rng(0).normal(scale=0.05, size=pos.shape)
    res = nonaffine_displacement(_traj([pos, moved], cell, wrapped=False), 0, 1, 1.5)
    assert not res["valid"].values[0] and np.isnan(res["d2min"].values[0])  # coplanar: Y singular
    assert not res["valid"].values[5] and not res["valid"].values[6]
    assert res["n_neighbors"].values[5] == 1


def test_series_and_cumulative_match_single_calls():
    r0, cell, rng = _config(n=150, seed=4)
    frames = [r0]
    for _ in range(7):
        frames.append(frames[-1] + rng.normal(scale=0.1, size=r0.shape))
    ds = _traj(frames, cell)
    ser = nonaffine_displacement_series(ds, 2, 3.0, normalize="mean")
    assert ser["d2min"].dims == ("frame", "atom") and ser.sizes["frame"] == 8
    for t0 in (0, 3, 5):
        single = nonaffine_displacement(ds, t0, 2, 3.0, normalize="mean")
        np.testing.assert_allclose(ser["d2min"].values[t0], single["d2min"].values)
    assert np.isnan(ser["d2min"].values[6:]).all() and not ser["valid"].values[6:].any()
    assert nonaffine_displacement_series(ds, 2, 3.0, trim=True).sizes["frame"] == 6

    dc = cumulative_d2min(ds, 2, 6, 3.0)
    d = nonaffine_displacement_series(ds, 2, 3.0)["d2min"].values
    np.testing.assert_allclose(dc["d_cum"].values[1], d[1] + d[3] + d[5])
    assert np.isnan(dc["d_cum"].values[2:]).all()
    centred = cumulative_d2min(ds, 2, 6, 3.0, align="centre")
    np.testing.assert_allclose(centred["d_cum"].values[3 + 1], dc["d_cum"].values[1])
    trimmed = cumulative_d2min(ds, 2, 6, 3.0, trim=True)
    assert list(trimmed["frame"].values) == [0, 1]


@pytest.mark.parametrize("chunk", [1, 3, 7, 50])
def test_chunked_labels_equal_one_shot(chunk):
    import xarray as xr

    r0, cell, rng = _config(n=90, seed=9)
    frames = [r0]
    for _ in range(20):
        frames.append(frames[-1] + rng.normal(scale=0.15, size=r0.shape))
    ds = _traj(frames, cell)
    chunks = [ds.isel(frame=slice(s, s + chunk)) for s in range(0, 21, chunk)]
    got = xr.concat(list(iter_nonaffine_displacement(iter(chunks), 4, 3.0)), "frame")
    want = nonaffine_displacement_series(ds, 4, 3.0)
    assert list(got["frame"].values) == list(range(21))
    np.testing.assert_allclose(got["d2min"].values, want["d2min"].values, rtol=1e-9, atol=1e-12, equal_nan=True)
    for align in ("forward", "centre"):
        got = xr.concat(list(iter_cumulative_d2min(iter(chunks), 2, 6, 3.0, align=align)), "frame")
        want = cumulative_d2min(ds, 2, 6, 3.0, align=align)
        np.testing.assert_allclose(got["d_cum"].values, want["d_cum"].values, rtol=1e-9, atol=1e-12,
                                   equal_nan=True)
    with pytest.raises(ParameterError, match="longer than"):
        list(iter_nonaffine_displacement(iter(chunks), 30, 3.0))


def test_bad_input_errors():
    r0, cell, rng = _config(n=100, seed=5)
    ds = _traj([r0, r0 + 0.05, r0 + 0.1], cell)
    with pytest.raises(ParameterError, match="longer than"):
        nonaffine_displacement(ds, 0, 5, 3.0)
    with pytest.raises(ParameterError, match="longer than"):
        nonaffine_displacement(ds, 2, 1, 3.0)
    with pytest.raises(ParameterError, match="longer than"):
        nonaffine_displacement_series(ds, 3, 3.0)
    with pytest.raises(SelectionError, match="no atoms of species"):
        nonaffine_displacement(ds, 0, 1, 3.0, species="Li")
    with pytest.raises(ParameterError, match="half the smallest cell width"):
        nonaffine_displacement(ds, 0, 1, 6.5)
    with pytest.raises(ParameterError, match="normalize"):
        nonaffine_displacement(ds, 0, 1, 3.0, normalize="avg")
    with pytest.raises(ParameterError, match="multiple of dt"):
        cumulative_d2min(ds, 2, 1, 3.0)
    # an atom that jumps 0.4 of the box between stored frames cannot be unwrapped safely
    jump = r0.copy()
    jump[0] += [4.8, 0, 0]
    with pytest.raises(ParameterError, match="cannot be unwrapped safely"):
        nonaffine_displacement(_traj([r0, jump], cell, wrapped=True), 0, 1, 3.0)


def test_cli_labels_d2min_and_dcum(tmp_path):
    import xarray as xr
    from click.testing import CliRunner

    from ssefeat.cli import main
    from ssefeat.io import write

    r0, cell, rng = _config(n=120, seed=6)
    frames = [r0]
    for _ in range(9):
        frames.append(frames[-1] + rng.normal(scale=0.1, size=r0.shape))
    species = ["Li"] * 40 + ["S"] * 80
    ds = _traj(frames, cell, species=species)
    write(ds, tmp_path / "traj.nc")
    runner = CliRunner()
    out = tmp_path / "labels.nc"
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "d2min", "--cutoff", "3.0", "--lag",
                               "2", "--species", "Li", "-o", str(out), "-q", "--chunk", "3"])
    assert res.exit_code == 0, res.output
    got = xr.open_dataset(out)
    expected = nonaffine_displacement_series(ds, 2, 3.0, species="Li")
    np.testing.assert_allclose(got["d2min"].values, expected["d2min"].values, equal_nan=True)
    assert got.attrs["analysis"] == "nonaffine_displacement_series"
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "d_cum", "--cutoff", "3.0", "--lag",
                               "2", "--window", "4", "-o", str(tmp_path / "dcum.parquet"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "d2min", "--cutoff", "3.0", "--lag",
                               "20", "-o", str(tmp_path / "bad.nc")])
    assert res.exit_code == 2 and "longer than" in res.output
    assert not (tmp_path / "bad.nc").exists()
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "d_cum", "--cutoff", "3.0",
                               "--lag", "2", "--window", "5", "-o", str(tmp_path / "bad.nc")])
    assert res.exit_code == 2 and "--window 4" in res.output and "window=" not in res.output


def test_d2min_figure(tmp_path):
    from ssefeat.plots.labels import d2min_distribution
    from ssefeat.plots.style import save

    r0, cell, rng = _config(n=120, seed=8)
    ds = _traj([r0, r0 + rng.normal(scale=0.2, size=r0.shape)], cell, species=["Li"] * 40 + ["S"] * 80)
    save(d2min_distribution(nonaffine_displacement_series(ds, 1, 3.0)), tmp_path / "d2.png")
    assert (tmp_path / "d2.png").stat().st_size > 0


def test_batched_frame_pairs_equal_per_pair_on_triclinic_npt(monkeypatch):
    """d2min_frames (many frame pairs, concatenated into few kernel calls) equals d2min_arrays pair by pair, value for
    value, on a triclinic cell that deforms in some frames and not in others (image shifts mixed with none)."""
    from ssefeat.dynamics import _d2min_arrays
    from ssefeat.dynamics.d2min import d2min_arrays, d2min_frames

    r0, cell, rng = _config(n=120, seed=11, tilt=0.2)
    species = np.where(rng.random(120) < 0.5, "Li", "S")
    centres, points = np.flatnonzero(species == "Li"), np.flatnonzero(species == "S")
    strain = np.array([[0.4, 1.0, 0.0], [0.0, -0.3, 0.2], [0.1, 0, 0.5]])
    A = [np.eye(3) + (0.01 * t if t % 3 else 0.0) * strain for t in range(7)]  # the cell of frames 0, 3, 6 is cell
    noise = np.cumsum(rng.normal(scale=0.1, size=(7,) + r0.shape), axis=0)
    pos = np.array([(r0 + noise[t]) @ A[t].T for t in range(7)])
    cells = np.array([cell @ A[t].T for t in range(7)])
    assert not np.array_equal(cells[1], cells[3]) and np.array_equal(cells[3], cells[0])  # both kinds of pair
    refs = np.arange(5)
    for batch in (1 << 17, len(centres) * 2):  # one kernel call; calls of two frame pairs (and a last single one)
        monkeypatch.setattr(_d2min_arrays, "_BATCH_CENTRES", batch)
        for c, p in ((centres, points), (np.arange(120), np.arange(120))):
            d2, F, valid, nn = d2min_frames(pos, cells, refs, 2, 3.2, c, p)
            for k, t0 in enumerate(refs):
                want = d2min_arrays(pos[t0], pos[t0 + 2], cells[t0], cells[t0 + 2], 3.2, c, p)
                np.testing.assert_array_equal(d2[k], want[0])
                np.testing.assert_array_equal(F[k], want[1])
                np.testing.assert_array_equal(valid[k], want[2])
                np.testing.assert_array_equal(nn[k], want[3])
            assert valid.sum() > 0.5 * valid.size


def test_trajectory_validated_once_per_call(monkeypatch):
    """The schema / periodicity check runs once per call (not once per frame pair, nor again inside the series),
    and still refuses a slab."""
    from ssefeat.dynamics import d2min as mod

    r0, cell, rng = _config(n=80, seed=12)
    ds = _traj([r0 + 0.05 * k for k in range(5)], cell)
    calls = []
    real = mod.validate
    monkeypatch.setattr(mod, "validate", lambda *a, **k: calls.append(k) or real(*a, **k))
    for fn in (lambda: nonaffine_displacement(ds, 1, 2, 3.0), lambda: nonaffine_displacement_series(ds, 1, 3.0),
               lambda: cumulative_d2min(ds, 1, 2, 3.0)):
        calls.clear()
        fn()
        assert len(calls) == 1 and calls[0]["periodic"] == "D2min"
    slab = ds.assign_attrs(pbc="T T F")
    with pytest.raises(CellError, match="periodic along a, b and c"):
        nonaffine_displacement(slab, 0, 1, 3.0)


def test_direct_dataset_identical_to_public_constructor(monkeypatch):
    """The result built without xarray's merge (all atoms, no strain) is identical, attributes, index and dtypes
    included, to the one ``xr.Dataset`` builds from the same variables."""
    import xarray as xr

    from ssefeat.dynamics import d2min as mod

    r0, cell, rng = _config(n=120, seed=13)
    ds = _traj([r0, r0 + rng.normal(scale=0.2, size=r0.shape)], cell, species=np.where(rng.random(120) < .5, "Li", "S"))
    fast = nonaffine_displacement(ds, 0, 1, 3.2)

    def public(ds, coords, data):
        index = ds.xindexes["atom"]
        return xr.Dataset(data, coords=xr.Coordinates({**coords, **index.create_variables()}, indexes={"atom": index}))

    monkeypatch.setattr(mod, "_all_atoms_dataset", public)
    slow = nonaffine_displacement(ds, 0, 1, 3.2)
    assert fast.identical(slow) and fast.xindexes["atom"].equals(slow.xindexes["atom"])
    assert set(fast.coords) == set(slow.coords) and set(fast.data_vars) == set(slow.data_vars)
    for name in fast.variables:
        assert fast[name].dtype == slow[name].dtype
