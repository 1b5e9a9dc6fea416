"""``ssefeat features`` and ``ssefeat feature-params`` on small trajectories."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import ssefeat
import ssefeat.io
from ssefeat.cli import main
from ssefeat.features.parameters import ParameterSet, kob_andersen
from ssefeat.features.structure_functions import structure_functions
from ssefeat.features.table import read_table
from conftest import jittered, separated_positions

CELL = np.array([[9.0, 0.0, 0.0], [1.5, 8.8, 0.0], [0.8, -1.1, 9.4]])


def ka_trajectory(n_frames=7, n=40, seed=0):
    """A small binary (A/B) system in reduced units, triclinic."""
    rng = np.random.default_rng(seed)
    cell = CELL / 2.5
    frames = jittered(separated_positions(n, cell, 0.5, rng), n_frames, 0.01, rng)
    spec = np.where(np.arange(n) < 0.8 * n, "A", "B")
    return ssefeat.make_trajectory(frames, spec, cell=cell, timestep_ps=0.5)


def small_ka():
    return kob_andersen().replace(radial_cutoff=1.7, angular_cutoff=1.5, mu=np.arange(0.5, 1.61, 0.1).round(6))


@pytest.fixture
def files(tmp_path):
    ds = ka_trajectory()
    traj = tmp_path / "traj.nc"
    ssefeat.io.write(ds, traj)
    params = tmp_path / "params.json"
    small_ka().to_json(params)
    return ds, traj, params, tmp_path


def run(args):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result


def test_features_command_chunked_netcdf_and_table(files):
    ds, traj, params, tmp = files
    out, table = tmp / "features.nc", tmp / "features.parquet"
    r = run(["features", str(traj), "-o", str(out), "--table", str(table), "--params", str(params),
             "--chunk", "3", "--start", "1", "--stride", "2", "-q"])
    assert r.exit_code == 0, r.output
    assert "features" in r.output and small_ka().fingerprint in r.output
    got = xr.load_dataset(out)["features"]
    ref = structure_functions(ds.isel(frame=[1, 3, 5]), small_ka())
    assert list(got.frame.values) == [1, 3, 5] and got.dims == ("frame", "atom", "feature")
    np.testing.assert_allclose(got.values, ref.values, rtol=1e-12, atol=1e-14)
    assert ParameterSet.from_feature_coords(got) == small_ka()
    assert got.attrs["parameter_fingerprint"] == small_ka().fingerprint
    df = read_table(table)
    assert len(df) == 3 * got.sizes["atom"] and list(df.columns[:4]) == ["frame", "atom", "species", "time"]
    np.testing.assert_allclose(df.iloc[:, 4:].to_numpy(), ref.values.reshape(-1, ref.sizes["feature"]))
    assert not [p for p in tmp.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_features_command_centre_descriptors_zarr_csv(files):
    ds, traj, params, tmp = files
    p = tmp / "p.json"
    run(["feature-params", "--system", "kob_andersen", "-o", str(p)])
    # the default grid (cutoff 3.5 sigma) is too large for this little cell: a clear error, exit code 2
    r = CliRunner().invoke(main, ["features", str(traj), "-o", str(tmp / "f.nc"), "--params", str(p), "-q"])
    assert r.exit_code == 2 and "not below half the smallest cell width" in r.output
    assert not (tmp / "f.nc").exists()
    small = small_ka().replace(name="kob_andersen")
    small.to_json(p)
    out = tmp / "f.zarr"
    r = run(["features", str(traj), "-o", str(out), "--table", str(tmp / "f.csv"), "--params", str(p),
             "--centre", "B", "--descriptors", "--chunk", "4", "-q"])
    assert r.exit_code == 0, r.output
    got = xr.open_zarr(out).load()["features"]
    assert got.sizes["frame"] == 7 and (got.species == "B").all()
    assert {"voronoi_volume", "q4", "q6", "cn_B-A"} <= set(got.feature.values.tolist())
    assert np.isfinite(got.values).all()
    assert len(read_table(tmp / "f.csv")) == 7 * got.sizes["atom"]


def test_features_command_with_registered_maker(files, monkeypatch):
    from ssefeat.cli import features_commands
    from ssefeat.features.descriptors import voronoi_volume

    ds, traj, params, tmp = files
    monkeypatch.setitem(features_commands.FEATURE_MAKERS, "voro", lambda d, centre: voronoi_volume(d, centre=centre))
    out = tmp / "f.nc"
    r = run(["features", str(traj), "-o", str(out), "--params", str(params), "--with", "voro", "--chunk", "5", "-q"])
    assert r.exit_code == 0, r.output
    got = xr.load_dataset(out)["features"]
    assert got.feature.values[-1] == "voronoi_volume" and got.sizes["feature"] == small_ka().n_features + 1


def test_features_command_errors(files):
    ds, traj, params, tmp = files
    r = CliRunner().invoke(main, ["features", str(traj), "-o", str(tmp / "f.nc"), "--system", "li_sulfide", "-q"])
    assert r.exit_code == 2 and "not in the trajectory" in r.output
    r = CliRunner().invoke(main, ["features", str(traj), "-o", str(tmp / "f.nc"), "--system", "kob_andersen",
                                  "--params", str(params)])
    assert r.exit_code == 2 and "not both" in r.output
    r = CliRunner().invoke(main, ["features", str(traj), "-o", str(tmp / "f.txt"), "--params", str(params)])
    assert r.exit_code == 2 and "*.nc" in r.output
    r = CliRunner().invoke(main, ["features", str(traj), "-o", str(tmp / "f.nc"), "--params", str(params),
                                  "--with", "nonexistent"])
    assert r.exit_code == 2 and "unknown feature maker" in r.output
    r = CliRunner().invoke(main, ["feature-params", "--system", "li_sulfide"])
    assert r.exit_code == 0 and ParameterSet.from_json(r.output).name == "li_sulfide"


def test_feature_params_offers_every_named_set():
    from ssefeat.cli.features_commands import _SYSTEM_NAMES
    from ssefeat.features.parameters import SYSTEMS, ParameterSet

    assert sorted(_SYSTEM_NAMES) == sorted(SYSTEMS)
    r = CliRunner().invoke(main, ["feature-params", "--system", "kob_andersen_radial"])
    assert r.exit_code == 0, r.output
    assert ParameterSet.from_json(r.output).fingerprint == SYSTEMS["kob_andersen_radial"]().fingerprint
