"""The end-to-end job on a user's trajectory file: config checks, stages, resumability, dask equality."""


import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import ssefeat
from ssefeat.cli import main
from ssefeat.config import load_config
from ssefeat.errors import ConfigError, MissingFileError
from ssefeat.pipeline import Pipeline
from test_features_clusters import build_system


def synthetic_glass_trajectory(path, n_frames=48, seed=0):
    """Anions from templates with thermal jitter; Li random walk with hops, faster near the box centre plane."""
    species, pos0, cell, _ = build_system(n_ps4=8, n_p2s7=3, n_p2s6=3, n_li=40, seed=seed, box=24.0)
    rng = np.random.default_rng(seed)
    species = np.array(species)
    li = species == "Li"
    frames = np.repeat(pos0[None], n_frames, axis=0).astype(np.float64)
    frames += rng.normal(0, 0.05, frames.shape)
    hop = rng.random((n_frames, li.sum())) < 0.03
    jumps = rng.normal(0, 1.5, (n_frames, li.sum(), 3)) * hop[..., None]
    frames[:, li] = pos0[li] + np.cumsum(jumps + rng.normal(0, 0.08, jumps.shape), axis=0)
    ds = ssefeat.make_trajectory(frames, species, cell=cell, timestep_ps=0.1, wrapped=False, temperature_K=700.0,
                                 source="synthetic")
    ssefeat.io.write(ssefeat.wrap(ds), path)
    return path


def config_for(tmp_path, traj, **over):
    cfg = {"trajectory": {"files": [str(traj)], "temperatures": [700.0]},
           "features": {"descriptors": False},
           "labels": {"t_R_frames": 6},
           "softness": {"window": 1, "horizon": 4},
           "correlate": {"n_boot": 50},
           "disorder": {"enabled": True, "frames": 3},
           "execution": {"chunk_frames": 16},
           "output": {"folder": str(tmp_path / "out"), "figures": True}}
    for section, values in over.items():
        cfg.setdefault(section, {}).update(values)
    return cfg


@pytest.fixture(scope="module")
def traj(tmp_path_factory):
    return synthetic_glass_trajectory(tmp_path_factory.mktemp("traj") / "glass.nc")


def test_pipeline_writes_results_and_resumes(tmp_path, traj):
    cfg = config_for(tmp_path, traj)
    out = Pipeline(load_config(cfg), progress=False).run()
    report = (out / "report.md").read_text()
    for heading in ("## Trajectories", "## Features", "## Softness", "## Softness and structure", "## Transport",
                    "## Disorder profile"):
        assert heading in report
    assert "cm²/s" in report and "±" in report
    tree = xr.open_datatree(out / "results.nc")
    assert {"features_0", "labels_0", "softness_0", "correlate", "transport", "disorder_0"} <= set(tree.children)
    assert (out / "tables" / "features_0.parquet").exists() and (out / "softness_model.json").exists()
    assert any(p.suffix == ".png" for p in (out / "figures").iterdir())
    first = xr.load_dataset(out / "stages" / "softness_0.nc")
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()}
    # A second run with the same config recomputes nothing and gives the same result.
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()} == stamps
    assert set(pipe.timings) == {"report"}
    # Changing a softness setting recomputes softness and what depends on it, not the features.
    cfg["softness"]["window"] = 2
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert "features 0" not in pipe.timings and "softness 0" in pipe.timings
    assert not xr.load_dataset(out / "stages" / "softness_0.nc").identical(first)


def test_interrupted_run_completes_to_the_same_result(tmp_path, traj, monkeypatch):
    cfg = config_for(tmp_path, traj)
    reference = Pipeline(load_config(config_for(tmp_path / "ref", traj)), progress=False)
    (tmp_path / "ref").mkdir()
    reference.run()

    import ssefeat.pipeline as pl

    def boom(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(pl.Pipeline, "labels", boom)
    with pytest.raises(KeyboardInterrupt):
        Pipeline(load_config(cfg), progress=False).run()
    assert (tmp_path / "out" / "stages" / "features_0.nc").exists()
    assert not (tmp_path / "out" / "report.md").exists()
    monkeypatch.undo()
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert "features 0" not in pipe.timings
    for name in ("features_0.nc", "labels_0.nc", "softness_0.nc"):
        a = xr.load_dataset(tmp_path / "out" / "stages" / name)
        b = xr.load_dataset(tmp_path / "ref" / "out" / "stages" / name)
        for v in a.data_vars:
            np.testing.assert_array_equal(a[v].values, b[v].values)


def test_dask_run_equals_serial_run(tmp_path, traj):
    serial = Pipeline(load_config(config_for(tmp_path / "s", traj)), progress=False)
    (tmp_path / "s").mkdir()
    a = serial.features(0, serial.trajectories()[0]) if serial.stage_dir.mkdir(parents=True) is None else None
    cfg = config_for(tmp_path / "d", traj, execution={"workers": 2, "chunk_frames": 16})
    (tmp_path / "d").mkdir()
    distributed = Pipeline(load_config(cfg), progress=False)
    distributed.stage_dir.mkdir(parents=True)
    try:
        b = distributed.features(0, distributed.trajectories()[0])
    finally:
        distributed.close()
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values)


def test_bad_configs_are_refused_up_front(tmp_path, traj):
    with pytest.raises(ConfigError, match="unknown key 'softnes'"):
        load_config({"softnes": {}})
    with pytest.raises(ConfigError, match="unknown key 'features.radius'"):
        load_config({"features": {"radius": 3}})
    with pytest.raises(MissingFileError, match="does not exist"):
        Pipeline(load_config({"trajectory": {"files": [str(tmp_path / "nope.xtc")]}}))
    with pytest.raises(ConfigError, match="species.mobile names \\['Na'\\]"):
        Pipeline(load_config(config_for(tmp_path, traj, species={"mobile": "Na"})))
    with pytest.raises(ConfigError, match="one temperature per file"):
        Pipeline(load_config(config_for(tmp_path, traj, trajectory={"temperatures": [1, 2]})))
    assert not (tmp_path / "out").exists()


def test_run_cli_reads_toml_and_reports_errors(tmp_path, traj):
    (tmp_path / "bad.toml").write_text('[trajectory]\nfiles = ["missing.lammpstrj"]\n')
    res = CliRunner().invoke(main, ["run", str(tmp_path / "bad.toml")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    (tmp_path / "bad2.toml").write_text('[trajectory]\nfils = []\n')
    res = CliRunner().invoke(main, ["run", str(tmp_path / "bad2.toml")])
    assert res.exit_code == 2 and "unknown key 'trajectory.fils'" in res.output



def test_transport_stage_says_when_ions_never_diffuse(tmp_path):
    """Caged ions (an Ornstein-Uhlenbeck process: MSD plateaus) have no diffusive window: the stage must still
    finish, fit an apparent D over later lags and say so in the results and the report, not invent a D."""
    rng = np.random.default_rng(0)
    pos, x = np.zeros((300, 30, 3)), np.zeros((30, 3))
    for t in range(300):
        x = 0.9 * x + rng.normal(scale=0.3, size=(30, 3))
        pos[t] = x
    ds = ssefeat.make_trajectory(pos + rng.random((30, 3)) * 20, ["Li"] * 24 + ["S"] * 6, cell=np.eye(3) * 20,
                                 timestep_ps=0.1, wrapped=False, temperature_K=600.0)
    ssefeat.io.write(ds, tmp_path / "caged.nc")
    cfg = load_config({"trajectory": {"files": [str(tmp_path / "caged.nc")], "temperatures": [600.0]},
                       "features": {"enabled": False}, "labels": {"enabled": False},
                       "softness": {"enabled": False}, "correlate": {"enabled": False},
                       "output": {"folder": str(tmp_path / "out"), "figures": False}})
    out = Pipeline(cfg, progress=False).run()
    assert xr.open_datatree(out / "stages" / "transport.nc").attrs["window_note"].startswith("NOT DIFFUSIVE")
    assert "apparent values, not transport coefficients" in (out / "report.md").read_text()
