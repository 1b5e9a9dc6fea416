"""ssefeat.data: building, validating, wrapping / unwrapping and selecting trajectories."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat.box import perpendicular_widths, wrap_positions
from ssefeat.data import Unwrapper, species_counts, summary
from ssefeat.errors import (CellError, NoCellError, NonFiniteError, SchemaError, SelectionError, TimeOrderError,
                            UnwrapWarning)
from conftest import random_walk, trajectory

SKEWED = np.array([[8.0, 0.0, 0.0], [3.5, 7.0, 0.0], [-2.0, 2.5, 6.5]])  # strongly triclinic


def walk_traj(n_frames=400, n_atoms=30, step=0.12, seed=0):
    """True (unwrapped) positions of walkers that cross the skewed cell many times, and their wrapped trajectory."""
    true = random_walk(n_frames, n_atoms, step, SKEWED, seed, bias=(0.3, -0.2, 0.15), rest_first=True)
    species = ["Li"] * (n_atoms - 10) + ["S"] * 10
    return true, trajectory(true, SKEWED, species, wrapped=True, timestep_ps=0.1)


# --- make_trajectory / validate -----------------------------------------------------------------------------
def test_make_trajectory_schema_and_defaults():
    ds = ssefeat.make_trajectory(np.zeros((3, 2, 3)), ["Li", "S"], [5.0, 6.0, 7.0], timestep_ps=0.5)
    assert ds["positions"].dims == ("frame", "atom", "xyz")
    assert ds["cell"].shape == (3, 3, 3)
    np.testing.assert_allclose(ds["cell"].values[1], np.diag([5.0, 6.0, 7.0]))
    np.testing.assert_allclose(ds["time"].values, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(ds["mass"].values, [6.94, 32.06], atol=0.01)
    assert ds.attrs["wrapped"] == -1 and ds.attrs["timestep_ps"] == 0.5
    single = ssefeat.make_trajectory(np.zeros((2, 3)), ["A", "B"])
    assert single.sizes["frame"] == 1 and "mass" not in single.coords and "cell" not in single
    assert ssefeat.make_trajectory(np.zeros((2, 2, 3)), ["A", "B"]).attrs["time_is_frame_index"] == 1


def test_make_trajectory_shape_errors():
    with pytest.raises(SchemaError, match="species has 1 entries but positions have 2 atoms"):
        ssefeat.make_trajectory(np.zeros((1, 2, 3)), ["Li"])
    with pytest.raises(SchemaError, match="positions has shape"):
        ssefeat.make_trajectory(np.zeros(3), ["Li"])
    with pytest.raises(SchemaError, match="cell has shape"):
        ssefeat.make_trajectory(np.zeros((2, 1, 3)), ["Li"], np.ones((3, 3, 3)))
    with pytest.raises(SchemaError, match="time has 3 values for 2 frames"):
        ssefeat.make_trajectory(np.zeros((2, 1, 3)), ["Li"], time=[0, 1, 2])
    with pytest.raises(SchemaError, match="charge has shape"):
        ssefeat.make_trajectory(np.zeros((2, 2, 3)), ["Li", "S"], charge=[1.0])


def test_validate_errors():
    good = ssefeat.make_trajectory(np.ones((3, 2, 3)), ["Li", "S"], np.eye(3) * 5, timestep_ps=1.0)
    with pytest.raises(SchemaError, match="expected an xarray.Dataset"):
        ssefeat.validate(good["positions"])
    with pytest.raises(SchemaError, match="no 'positions'"):
        ssefeat.validate(good.drop_vars("positions"))
    with pytest.raises(SchemaError, match="dims"):
        ssefeat.validate(good.transpose("atom", "frame", ...))
    bad = good.copy(deep=True)
    bad["positions"].values[1, 1, 2] = np.inf
    with pytest.raises(NonFiniteError, match="1 NaN or infinite values \\(first at frame 1, atom 1\\)"):
        ssefeat.validate(bad)
    bad = good.copy(deep=True)
    bad["cell"].values[2] = [[5, 0, 0], [0, 5, 0], [0, 0, -5]]
    with pytest.raises(CellError, match="the cell of frame 2 has volume -125"):
        ssefeat.validate(bad)
    bad["cell"].values[2] = [[5, 0, 0], [5, 0, 0], [0, 0, 5]]
    with pytest.raises(CellError, match="zero or negative"):
        ssefeat.validate(bad)
    bad = good.assign_coords(time=("frame", [0.0, 2.0, 2.0]))
    with pytest.raises(TimeOrderError, match="between frames 1 and 2"):
        ssefeat.validate(bad)
    with pytest.raises(NoCellError, match="has no cell"):
        ssefeat.validate(good.drop_vars("cell"), require_cell=True)
    with pytest.raises(SchemaError, match="no frames"):
        ssefeat.validate(good.isel(frame=[]))
    assert ssefeat.validate(good) is good


# --- wrap / unwrap ----------------------------------------------------------------------------------------------
def test_wrap_then_unwrap_round_trip_exact():
    true, _ = walk_traj(n_frames=20)
    ds = ssefeat.make_trajectory(true, ["Li"] * true.shape[1], SKEWED, timestep_ps=0.1)
    wrapped = ssefeat.wrap(ds)
    frac = np.linalg.solve(SKEWED.T, wrapped.positions.values.reshape(-1, 3).T).T
    assert frac.min() >= 0 and frac.max() < 1
    assert wrapped.attrs["wrapped"] == 1
    back = ssefeat.unwrap(wrapped)  # uses the image flags
    np.testing.assert_allclose(back.positions.values, true, atol=1e-10)
    assert "images" not in back and back.attrs["unwrapped_by"] == "image flags"


def test_unwrap_random_walk_in_triclinic_cell_recovers_true_displacements():
    true, ds = walk_traj()
    crossings = np.abs(np.floor(np.linalg.solve(SKEWED.T, true.reshape(-1, 3).T).T)).max()
    assert crossings >= 10  # the walk really crosses the cell many times
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnwrapWarning)
        out = ssefeat.unwrap(ds)
    assert out.attrs["unwrapped_by"].startswith("minimum image")
    disp = out.positions.values - out.positions.values[0]
    np.testing.assert_allclose(disp, true - true[0], atol=1e-9)
    np.testing.assert_allclose(out.positions.values[0], ds.positions.values[0])


def test_unwrap_with_changing_triclinic_cell():
    rng = np.random.default_rng(4)
    n_frames = 120
    scale = 1.0 + 0.05 * np.sin(np.linspace(0, 6, n_frames))  # NPT-like breathing
    cells = SKEWED[None] * scale[:, None, None]
    steps = rng.normal(scale=0.03, size=(n_frames, 12, 3)) + 0.02
    steps[0] = 0.0
    frac_true = rng.random((1, 12, 3)) + np.cumsum(steps, axis=0)  # frame 0 inside the cell
    true = np.einsum("fai,fij->faj", frac_true, cells)
    wrapped, _ = wrap_positions(true, cells)
    ds = ssefeat.make_trajectory(wrapped, ["Li"] * 12, cells, timestep_ps=1.0, wrapped=True)
    out = ssefeat.unwrap(ds)
    np.testing.assert_allclose(out.positions.values, true, atol=1e-9)


def test_chunked_unwrapper_equals_whole_unwrap():
    _, ds = walk_traj(n_frames=150)
    whole = ssefeat.unwrap(ds)
    unwrapper = Unwrapper()
    parts = [unwrapper(ds.isel(frame=slice(i, i + 17))) for i in range(0, ds.sizes["frame"], 17)]
    xr.testing.assert_allclose(xr.concat(parts, "frame"), whole)
    np.testing.assert_array_equal(xr.concat(parts, "frame").positions.values, whole.positions.values)
    assert unwrapper.max_step > 0


def test_chunked_unwrap_through_io_chunks(tmp_path):
    import ssefeat.io as sio

    true, ds = walk_traj(n_frames=60)
    sio.write(ds, tmp_path / "walk.nc")
    unwrapper = Unwrapper()
    parts = [unwrapper(chunk) for chunk in sio.iter_chunks(tmp_path / "walk.nc", 7)]
    np.testing.assert_allclose(xr.concat(parts, "frame").positions.values, true, atol=1e-9)


def test_unwrap_warns_for_big_steps():
    true, ds = walk_traj(n_frames=10, n_atoms=12, step=0.05)
    width = perpendicular_widths(SKEWED).min()
    jump = ds.positions.values.copy()
    jump[5:, 3] += np.array([0.4 * width, 0.0, 0.0])  # atom 3 jumps 0.4 of the cell width at frame 5
    jump, _ = wrap_positions(jump, SKEWED)
    big = ds.copy()
    big["positions"] = (("frame", "atom", "xyz"), jump)
    with pytest.warns(UnwrapWarning, match="atom 3 moved .* at frame 5"):
        ssefeat.unwrap(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnwrapWarning)
        ssefeat.unwrap(big, warn_fraction=0.45)


def test_unwrap_leaves_unwrapped_and_needs_cell():
    ds = ssefeat.make_trajectory(np.zeros((2, 1, 3)), ["Li"], np.eye(3), wrapped=False)
    assert ssefeat.unwrap(ds) is ds
    with pytest.raises(NoCellError):
        ssefeat.unwrap(ds.drop_vars("cell"))
    with pytest.raises(NoCellError):
        ssefeat.wrap(ds.drop_vars("cell"))


# --- select / summary --------------------------------------------------------------------------------------------
def test_select_keeps_original_indices_and_errors():
    _, ds = walk_traj(n_frames=3)
    s = ssefeat.select(ds, species="S")
    assert s.sizes["atom"] == 10 and s.atom.values[0] == 20
    both = ssefeat.select(ds, species=["Li", "S"], index=slice(18, 22))
    assert both.atom.values.tolist() == [18, 19, 20, 21]
    again = ssefeat.select(s, index=[0, -1])  # positions within the current selection
    assert again.atom.values.tolist() == [20, 29]
    with pytest.raises(SelectionError, match=r"species \['Na'\] not in the trajectory"):
        ssefeat.select(ds, species="Na")
    with pytest.raises(SelectionError, match="out of range"):
        ssefeat.select(ds, index=[30])
    with pytest.raises(SelectionError, match="matches no atom"):
        ssefeat.select(ds, species="S", index=[0, 1])


def test_summary_and_species_counts():
    _, ds = walk_traj(n_frames=4)
    assert species_counts(ds) == {"Li": 20, "S": 10}
    info = summary(ds)
    assert info["n_frames"] == 4 and info["n_atoms"] == 30
    assert info["time_ps"] == (0.0, pytest.approx(0.3))
    assert info["volume_A3"][0] == pytest.approx(np.linalg.det(SKEWED))
    assert info["wrapped"] == "yes" and info["has_velocities"] is False
    mass = 20 * 6.94 + 10 * 32.06
    assert info["density_g_cm3"] == pytest.approx(mass / np.linalg.det(SKEWED) * 1.66054, rel=1e-3)
