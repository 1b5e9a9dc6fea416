"""The end-to-end job on a user's trajectory file: config checks, stages, resumability, dask equality."""


import json
import tracemalloc

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import ssefeat
from ssefeat.cli import main
from ssefeat.config import load_config
from ssefeat.errors import ConfigError, MissingFileError
from ssefeat.pipeline import Pipeline
from ssefeat.io.chunked_store import open_store
from test_features_clusters import build_system
from conftest import check_report, check_transport_numbers
from ssefeat.softness import SoftnessModel


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


def stage(folder, name):
    """A stage output, loaded: a zarr store (per-frame stages) or a netCDF file."""
    path = folder / "stages" / name
    return open_store(path).load() if path.suffix == ".zarr" else xr.load_dataset(path)


@pytest.fixture(scope="module")
def traj(tmp_path_factory):
    return synthetic_glass_trajectory(tmp_path_factory.mktemp("traj") / "glass.nc")


def test_pipeline_writes_results_and_resumes(tmp_path, traj):
    cfg = config_for(tmp_path, traj)
    out = Pipeline(load_config(cfg), progress=False).run()
    report = (out / "report.md").read_text()
    check_report(report)
    check_transport_numbers(report)
    for heading in ("## Trajectories", "## Features", "## Softness", "## Softness and structure", "## Transport",
                    "## Disorder profile"):
        assert heading in report
    assert "cm²/s" in report and "±" in report
    tree = xr.open_datatree(out / "results.nc")
    assert {"features_0", "labels_0", "softness_0", "correlate", "transport", "disorder_0"} <= set(tree.children)
    # the (frame, atom, feature) array is not copied into results.nc: summarised per feature, its store named
    node = tree["features_0"].to_dataset()
    store = stage(out, "features_0.zarr")
    assert "features" not in node and node.attrs["features_store"] == "stages/features_0.zarr"
    np.testing.assert_allclose(node["features_mean"].values, store["features"].mean(("frame", "atom")).values,
                               rtol=1e-12)
    assert node["features_max"].feature.values.tolist() == store["feature"].values.tolist()
    assert "n_anions" in node and node["n_anions"].shape == store["n_anions"].shape
    assert (out / "tables" / "features_0.parquet").exists() and (out / "softness_model.json").exists()
    # the feature table carries every per-atom column of the features stage (environments, polyhedra, ...) with
    # the settings in its metadata; the labels get a table too
    import pyarrow.parquet as pq
    from ssefeat.features.table import per_atom_columns
    feat_stage = stage(out, "features_0.zarr")
    table = pq.read_table(out / "tables" / "features_0.parquet")
    extra = per_atom_columns(feat_stage)
    assert len(extra) > 5 and set(extra) <= set(table.column_names)
    assert set(map(str, feat_stage["feature"].values)) <= set(table.column_names)
    name = next(n for n, v in extra.items() if v.dtype.kind == "f")
    np.testing.assert_array_equal(table.column(name).to_numpy(zero_copy_only=False),
                                  extra[name].values.reshape(-1))
    meta = json.loads(table.schema.metadata[b"ssefeat"])
    assert meta["parameters"]["features"]["r_env"] == 5.0 and name in meta["columns"]
    labels_table = pq.read_table(out / "tables" / "labels_0.parquet")
    assert "phop" in labels_table.column_names and labels_table.num_rows == stage(out, "labels_0.zarr")["phop"].size
    assert json.loads(labels_table.schema.metadata[b"ssefeat"])["parameters"]["labels"]["kind"] == "p_hop"
    # F(z) is built from the framework species (P, S) by default, the profiles cover every species.
    dis = tree["disorder_0"].to_dataset()
    assert json.loads(dis.attrs["parameters"])["species"] == ["P", "S"]
    assert set(dis["species"].values) == {"Li", "P", "S"}
    assert any(p.suffix == ".png" for p in (out / "figures").iterdir())
    first = stage(out, "softness_0.zarr")
    # every sample says whether it lies in the model's training domain; the report counts those outside
    assert first["in_domain"].dtype == bool and first["in_domain"].shape == first["softness"].shape
    assert "outside the model's training domain" in report
    assert "(standard error over the 40 ions' time averages)" in report  # mean S with its error, ions as units
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()}
    # A second run with the same config recomputes nothing and gives the same result.
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert {p.name: p.stat().st_mtime_ns for p in (out / "stages").iterdir()} == stamps
    assert set(pipe.timings) == {"report"}
    # the resumed run's report still gives every stage's cost, from the run that computed it
    assert {"trajectory", "features 0", "labels 0", "softness 0", "correlate", "transport"} <= set(pipe.earlier_timings)
    assert "computed by an earlier run: trajectory" in (out / "report.md").read_text()
    # Changing a softness setting recomputes softness and what depends on it, not the features.
    cfg["softness"]["window"] = 2
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert "features 0" not in pipe.timings and "softness 0" in pipe.timings
    assert not stage(out, "softness_0.zarr").identical(first)
    assert not any(p.name.startswith(".") for p in (out / "stages").iterdir())  # no partial or temporary left


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
    assert (tmp_path / "out" / "stages" / "features_0.zarr").exists()
    assert not (tmp_path / "out" / "report.md").exists()
    monkeypatch.undo()
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert "features 0" not in pipe.timings
    for name in ("features_0.zarr", "labels_0.zarr", "softness_0.zarr"):
        a = stage(tmp_path / "out", name)
        b = stage(tmp_path / "ref" / "out", name)
        assert set(a.data_vars) == set(b.data_vars)
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
    assert a["features"].chunksizes["frame"] == (16, 16, 16)  # written chunk by chunk
    assert set(a.data_vars) == set(b.data_vars) and "nearest_cluster_type" in a
    for v in a.variables:
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
    with pytest.raises(ConfigError, match="disorder.species must be \"framework\", \"all\" or a list"):
        Pipeline(load_config(config_for(tmp_path, traj, disorder={"species": "P"})))
    with pytest.raises(ConfigError, match=r"disorder.species names \['Ge'\]"):
        Pipeline(load_config(config_for(tmp_path, traj, disorder={"species": ["P", "Ge"]})))
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
    tree = xr.open_datatree(out / "stages" / "transport.nc")
    assert tree["run_0"].attrs["verdict"] == "apparent" and tree.attrs["window_note"].startswith("run_0: NOT DIFFUSIVE")
    assert "apparent values, not transport coefficients" in (out / "report.md").read_text()


def test_features_stage_memory_is_bounded_by_the_chunk(tmp_path):
    """Same chunk size, 4x the frames: the traced peak of the features stage stays nearly the same (writing whole
    stages, or gathering the chunks before writing, makes it grow ~4x with the output array)."""
    def peak(n_frames, tag):
        path = synthetic_glass_trajectory(tmp_path / f"{tag}.nc", n_frames=n_frames, seed=1)
        cfg = config_for(tmp_path / tag, path, features={"environment": False}, execution={"chunk_frames": 8})
        pipe = Pipeline(load_config(cfg), progress=False)
        pipe.stage_dir.mkdir(parents=True)
        tracemalloc.start()
        try:
            out = pipe.features(0, path)
            return tracemalloc.get_traced_memory()[1], out["features"].nbytes
        finally:
            tracemalloc.stop()
    peak(8, "warm")  # numba compilation and imports out of the way
    (p1, size1), (p4, size4) = peak(24, "n"), peak(96, "n4")
    assert size4 == 4 * size1 and size4 - size1 > 2e6  # 2.7 MB more output: a whole-stage copy would show
    assert p4 - p1 < 0.25 * (size4 - size1), (p1, p4, size1, size4)
    assert p4 < 1.5 * p1


def test_interrupted_features_stage_resumes_at_the_missing_chunk(tmp_path, traj, monkeypatch):
    """A crash inside the features stage leaves a partial store (never a complete-looking stage); the restart
    computes only the missing chunks and the store equals an uninterrupted one."""
    import ssefeat.pipeline.features as pl

    cfg = config_for(tmp_path / "a", traj, features={"environment": False}, execution={"chunk_frames": 8})
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.stage_dir.mkdir(parents=True)
    real, calls, crashed = pl.features_chunk, [], []

    def crash_on_third(path, start, stop, config):
        if stop - start > 1:  # not the one-frame probe that shapes a new store
            calls.append(start)
            if len(calls) == 3 and not crashed:
                crashed.append(start)
                raise KeyboardInterrupt
        return real(path, start, stop, config)
    monkeypatch.setattr(pl, "features_chunk", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        pipe.features(0, traj)
    stages = tmp_path / "a" / "out" / "stages"
    assert not (stages / "features_0.zarr").exists()
    assert sorted(p.name for p in (stages / ".features_0.zarr.partial" / "done").iterdir()) == ["0-8", "8-16"]
    calls.clear()
    resumed = Pipeline(load_config(cfg), progress=False).features(0, traj)
    assert calls == [16, 24, 32, 40]  # no finished chunk recomputed
    assert not (stages / ".features_0.zarr.partial").exists()
    monkeypatch.undo()
    ref = Pipeline(load_config(config_for(tmp_path / "b", traj, features={"environment": False},
                                          execution={"chunk_frames": 8})), progress=False)
    ref.stage_dir.mkdir(parents=True)
    expected = ref.features(0, traj)
    xr.testing.assert_identical(resumed.drop_attrs(), expected.drop_attrs())
    # other settings: the partial store of a crashed run is not reused
    from ssefeat.io.chunked_store import ChunkedStore

    assert ChunkedStore(stages / "features_0.zarr", "another-hash").pending([(0, 8)]) == [(0, 8)]


@pytest.mark.parametrize("kind", ["p_hop", "d2min", "d_cum"])
def test_labels_stage_kinds_equal_the_one_shot_functions(tmp_path, traj, kind):
    from ssefeat.dynamics import cumulative_d2min, nonaffine_displacement_series, phop

    labels = {"kind": kind, "t_R_frames": 6, "lag_frames": 2, "window_frames": 6, "cutoff": 5.0,
              "neighbor_species": ["P", "S"]}
    cfg = load_config(config_for(tmp_path, traj, labels=labels, execution={"chunk_frames": 5}))
    pipe = Pipeline(cfg, progress=False)
    pipe.stage_dir.mkdir(parents=True)
    got = pipe.labels(0, traj)
    var = {"p_hop": "phop", "d2min": "d2min", "d_cum": "d_cum"}[kind]
    assert got[var].chunksizes["frame"][0] == 5 and got.attrs["label_kind"] == kind
    ds = ssefeat.io.read(traj)
    if kind == "p_hop":
        want = phop(ds, t_R_frames=6, species="Li")
    elif kind == "d2min":
        want = nonaffine_displacement_series(ds, 2, 5.0, "Li", neighbor_species=["P", "S"])
    else:
        want = cumulative_d2min(ds, 2, 6, 5.0, "Li", neighbor_species=["P", "S"])
    assert got.attrs["label_variable"] == var
    np.testing.assert_array_equal(got["frame"].values, want["frame"].values)
    np.testing.assert_array_equal(got["atom"].values, want["atom"].values)
    np.testing.assert_allclose(got[var].values, want[var].values, rtol=1e-12, atol=1e-12)
    assert np.isfinite(want[var].values).sum() > 100


def test_pipeline_trains_softness_on_d2min_labels(tmp_path, traj):
    cfg = config_for(tmp_path, traj, labels={"kind": "d2min", "lag_frames": 2, "cutoff": 5.0},
                     correlate={"enabled": False}, transport={"enabled": False}, disorder={"enabled": False},
                     output={"figures": False})
    out = Pipeline(load_config(cfg), progress=False).run()
    assert "Labels: d2min" in (out / "report.md").read_text()
    soft = stage(out, "softness_0.zarr")
    assert np.isfinite(soft["softness"].values).all() and "P_R" in soft
    assert json.loads(soft.attrs["metrics"])["train"]["n_samples"] > 0


def test_label_configs_are_refused_up_front(tmp_path, traj):
    with pytest.raises(ConfigError, match="(?s)labels.kind 'msd' is not a label.*\"p_hop\".*\"d2min\".*\"d_cum\""):
        Pipeline(load_config(config_for(tmp_path, traj, labels={"kind": "msd"})))
    with pytest.raises(ConfigError, match="needs labels.cutoff"):
        Pipeline(load_config(config_for(tmp_path, traj, labels={"kind": "d2min"})))
    with pytest.raises(ConfigError, match="window_frames \\(7\\) is not a multiple of labels.lag_frames \\(2\\)"):
        Pipeline(load_config(config_for(tmp_path, traj, labels={"kind": "d_cum", "lag_frames": 2,
                                                               "window_frames": 7, "cutoff": 4.0})))
    with pytest.raises(ConfigError, match="not below half the smallest cell width \\(12 Å\\)"):
        Pipeline(load_config(config_for(tmp_path, traj, labels={"kind": "d_cum", "cutoff": 13.0})))
    with pytest.raises(ConfigError, match="t_R_frames must be a whole number"):
        Pipeline(load_config(config_for(tmp_path, traj, labels={"t_R_frames": 1.5})))
    assert load_config({"labels": {"kind": "phop"}})["labels"]["kind"] == "p_hop"  # the older spelling
    assert not (tmp_path / "out").exists()


def test_report_figure_accepts_wilson_bounds_off_by_rounding(tmp_path):
    """P_R = 0 with a lower Wilson bound of 8.7e-19 (seen with d_cum labels) must still give the P_R(S) figure."""
    from ssefeat.plots import softness as sp
    from ssefeat.pipeline.report import interval_around

    pr = xr.Dataset({"P_R": ("S", [0.0, 0.2, 1.0]), "P_R_low": ("S", [8.67e-19, 0.1, 0.9]),
                     "P_R_high": ("S", [0.05, 0.3, 1.0 - 1e-16]), "count": ("S", [20, 30, 10])},
                    coords={"S": [-1.0, 0.0, 1.0]})
    with pytest.raises(ValueError, match="negative"):
        sp.rearrangement_probability(pr)
    fixed = interval_around(pr)
    assert (fixed["P_R_low"] <= fixed["P_R"]).all() and (fixed["P_R_high"] >= fixed["P_R"]).all()
    assert fixed["P_R_low"].values[1] == 0.1 and fixed["P_R_high"].values[1] == 0.3  # sound bounds unchanged
    sp.rearrangement_probability(fixed)


def _assert_same_values(got: xr.Dataset, want: xr.Dataset, rtol=1e-10):
    assert set(got.data_vars) == set(want.data_vars)
    for v in want.data_vars:
        a, b = np.asarray(got[v].values), np.asarray(want[v].values)
        if np.issubdtype(b.dtype, np.number):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=v)
        else:
            np.testing.assert_array_equal(a, b, err_msg=v)


def test_transport_and_disorder_stages_equal_the_whole_trajectory_analyses(tmp_path, traj):
    """The stages hold only the mobile atoms (+ the system's centre of mass) and the profile's frames, yet give
    transport_study and disorder_profile / label_atoms / region_dynamics of the whole in-memory trajectory."""
    from ssefeat.disorder import disorder_profile
    from ssefeat.dynamics.arrhenius import transport_study
    from ssefeat.dynamics.region_dynamics import region_dynamics
    from ssefeat.regions import find_regions, label_atoms

    cfg = load_config(config_for(tmp_path, traj, transport={"window": [0.4, 1.6], "haven": True},
                                 execution={"chunk_frames": 7}))
    pipe = Pipeline(cfg, progress=False)
    pipe.stage_dir.mkdir(parents=True)
    ds = ssefeat.io.read(traj)
    got = pipe.transport([traj])
    want = transport_study([ds], species="Li", temperatures=[700.0], window=(0.4, 1.6), haven=True, ngp=True)
    assert set(got.children) == set(want.children) == {"run_0", "run_0_ngp"}
    for name in ("/", "run_0", "run_0_ngp"):
        _assert_same_values(got[name].to_dataset(), want[name].to_dataset())
    assert json.loads(got["run_0"].attrs["parameters"])["com"] == json.loads(want["run_0"].attrs["parameters"])["com"]

    dc = cfg["disorder"]
    got = pipe.disorder(0, traj)
    frames = np.unique(np.linspace(0, ds.sizes["frame"] - 1, 3).astype(int))
    prof = disorder_profile(ds, axis=dc["axis"], slab_width=dc["slab_width"], grid_spacing=dc["grid_spacing"],
                            sigma=dc["sigma"], frames=frames, species=["P", "S"])
    regions = find_regions(prof)
    dyn = region_dynamics(ds, label_atoms(ds, regions), species="Li")
    assert json.loads(got.attrs["parameters"])["frames"] == frames.tolist()
    _assert_same_values(got[list(prof.data_vars)], prof, rtol=0)  # the same frames, bit for bit
    for v in regions.data_vars:
        np.testing.assert_array_equal(got[f"regions_{v}"].values, regions[v].values)
    for v in dyn.data_vars:
        if dyn[v].dtype.kind in "OUS":  # the verdicts
            assert got[f"dyn_{v}"].values.tolist() == dyn[v].values.tolist()
            continue
        np.testing.assert_allclose(got[f"dyn_{v}"].values, dyn[v].values, rtol=1e-10, atol=1e-14, err_msg=v)
    assert np.isfinite(got["dyn_msd"].values).sum() > 10


def framework_heavy_trajectory(path, n_frames=300, n_li=16, n_s=1200, seed=0):
    """A few Li random walkers in many vibrating S atoms, wrapped with image flags."""
    rng = np.random.default_rng(seed)
    box = 24.0
    li = rng.uniform(0, box, (n_li, 3)) + np.cumsum(rng.normal(0, 0.2, (n_frames, n_li, 3)), axis=0)
    s = rng.uniform(0, box, (n_s, 3)) + rng.normal(0, 0.05, (n_frames, n_s, 3))
    ds = ssefeat.make_trajectory(np.concatenate([li, s], axis=1), ["Li"] * n_li + ["S"] * n_s,
                                 cell=np.eye(3) * box, timestep_ps=0.1, wrapped=False, temperature_K=700.0)
    ssefeat.io.write(ssefeat.wrap(ds), path)
    return path


def test_transport_and_disorder_stages_hold_the_mobile_atoms_not_the_trajectory(tmp_path):
    """With 75x more framework atoms than Li, the traced peak of the transport stage stays far below the size of
    the whole trajectory, and neither stage's peak grows with the framework's frames: 4x the frames adds ~13 MB
    of trajectory but only the Li's share to the peaks (reading the trajectory whole, as before, adds more than
    the trajectory's growth). The disorder stage's own floor is F(z)'s density grid, not the trajectory."""
    def peaks(n_frames):
        path = framework_heavy_trajectory(tmp_path / f"heavy{n_frames}.nc", n_frames=n_frames)
        off = {"enabled": False}
        cfg = load_config({"trajectory": {"files": [str(path)], "temperatures": [700.0]}, "features": off,
                           "labels": off, "softness": off, "correlate": off,
                           "transport": {"window": [0.5, 2.5]}, "disorder": {"enabled": True, "species": "all"},
                           "execution": {"chunk_frames": 10},
                           "output": {"folder": str(tmp_path / f"out{n_frames}")}})
        pipe = Pipeline(cfg, progress=False)
        pipe.stage_dir.mkdir(parents=True)
        out = [ssefeat.io.read(path).nbytes]
        for stage, args in ((pipe.transport, ([path],)), (pipe.disorder, (0, path))):
            tracemalloc.start()
            try:
                stage(*args)
                out.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        return out
    peaks(60)  # numba compilation and imports out of the way
    (whole1, transport1, disorder1), (whole4, transport4, disorder4) = peaks(100), peaks(400)
    assert whole4 > 15e6 and whole4 - whole1 > 10e6
    assert transport4 < 0.15 * whole4, (transport4, whole4)
    assert transport4 - transport1 < 0.1 * (whole4 - whole1), (transport1, transport4, whole1, whole4)
    assert disorder4 - disorder1 < 0.1 * (whole4 - whole1), (disorder1, disorder4, whole1, whole4)


def test_report_gives_region_d_with_error_or_says_it_is_apparent():
    from ssefeat.pipeline.report import _region_d

    d = xr.Dataset({"dyn_D": ("region_class", [0.10, np.nan, np.nan]),
                    "dyn_D_cm2_s": ("region_class", [1.0e-5, np.nan, np.nan]),
                    "dyn_D_err_cm2_s": ("region_class", [2.0e-6, np.nan, np.nan]),
                    "dyn_D_apparent": ("region_class", [0.10, 0.05, np.nan]),
                    "dyn_D_apparent_err": ("region_class", [0.02, 0.01, np.nan]),
                    "dyn_msd_exponent": ("region_class", [1.0, 0.62, np.nan]),
                    "n_atoms_at_origin": ("region_class", [40, 12, 3])},
                   coords={"region_class": ["glass", "interface", "crystal"]})
    assert _region_d(d, 0) == "glass: 1e-05 ± 2e-06 cm²/s (n = 40)"
    line = _region_d(d, 1)  # 0.05 Å²/ps = 5e-6 cm²/s, not diffusive
    assert "no diffusive window" in line and "5e-06 ± 1e-06 cm²/s" in line and "t^0.62" in line
    assert _region_d(d, 2) == "crystal: n/a (n = 3)"


def test_report_writes_underflowed_p_values_as_a_bound():
    from ssefeat.correlate import p_value_text

    assert [p_value_text(p) for p in (0.0, 5.2e-317, 2.1e-9, 0.053)] == ["< 1e-300", "< 1e-300", "2.1e-09", "0.053"]


def test_report_figures_say_run_and_temperature(tmp_path, monkeypatch):
    import ssefeat.plots.style as style
    from ssefeat.pipeline.report import _figures

    titles = {}
    monkeypatch.setattr(style, "save",
                        lambda fig, path, close=True: titles.update({path.name: fig._suptitle.get_text()}))
    rng = np.random.default_rng(0)
    soft = [xr.Dataset({"softness": (("frame", "atom"), rng.normal(size=(4, 20)))},
                       coords={"frame": np.arange(4), "atom": np.arange(20)}) for _ in range(2)]
    made = _figures(tmp_path, [], soft, None, None, [], None, [700.0, 900.0])
    assert made == ["softness_histogram_0.png", "softness_histogram_1.png"]
    assert titles == {"softness_histogram_0.png": "Softness, run 0, 700 K (in-domain samples)",
                      "softness_histogram_1.png": "Softness, run 1, 900 K (in-domain samples)"}


def test_report_gives_f_of_z_extremes_with_their_standard_error():
    from ssefeat.pipeline.report import _disorder_line

    F = np.array([[0.1, 0.9, 0.5], [0.3, 1.1, 0.5]])  # 2 frames x 3 slabs
    d = xr.Dataset({"F": (("frame", "z"), F), "F_mean": ("z", F.mean(0)), "F_std": ("z", F.std(0))},
                   coords={"z": [1.0, 3.0, 5.0]})
    line = _disorder_line(d, "z")
    # SE of the mean of two frames = |a - b| / 2
    assert "min 0.2 ± 0.1 at z = 1.0 Å" in line and "max 1 ± 0.1 at z = 3.0 Å" in line and "2 frames" in line


def test_links_from_a_li_li_model_are_not_its_own_inputs(tmp_path, traj):
    """Softness from Li-Li structure functions only (the thesis' choice: features.parameters = "li_li",
    softness.inputs = "structure_functions"), with the descriptors computed for the links: they are not columns of
    the model, so no link is marked as the model's own input, and the report says nothing about LASSO measuring the
    model's inputs; the default (inputs = "all") marks them."""
    cfg = config_for(tmp_path, traj, features={"parameters": "li_li", "descriptors": True},
                     softness={"inputs": "structure_functions"})
    out = Pipeline(load_config(cfg), progress=False).run()
    links = xr.open_datatree(out / "results.nc")["correlate"].to_dataset()
    assert "voronoi_volume" in links["descriptor"].values.astype(str)
    assert not links["model_input"].values.any()
    model = SoftnessModel.load(out / "softness_model.json")
    assert len(model.feature_names_in_) == 59 and "voronoi_volume" not in model.feature_names_in_
    soft = stage(out, "softness_0.zarr")
    assert np.isfinite(soft["softness"].values).all()
    report = (out / "report.md").read_text()
    check_report(report)
    assert "partly measures the model's own inputs" not in report
    cfg["softness"]["inputs"] = "all"
    cfg["output"]["folder"] = str(tmp_path / "all")
    links = xr.open_datatree(Pipeline(load_config(cfg), progress=False).run() / "results.nc")["correlate"]
    assert bool(links["model_input"].sel(descriptor="voronoi_volume"))


def test_softness_training_set_is_capped_per_class_and_the_report_says_so(tmp_path, traj):
    """softness.max_per_class bounds the training matrix: exactly that many samples per class are drawn when more
    are available, the store repeats the counts, and the report names the cap; without a cap, all are used."""
    off = dict(correlate={"enabled": False}, transport={"enabled": False}, disorder={"enabled": False},
               output={"figures": False})
    texts, counts = {}, {}
    for cap in (None, 12):
        cfg = config_for(tmp_path / str(cap), traj, softness={"window": 1, "horizon": 4, "max_per_class": cap},
                         **off)
        out = Pipeline(load_config(cfg), progress=False).run()
        counts[cap] = json.loads(stage(out, "softness_0.zarr").attrs["training_samples"])
        texts[cap] = (out / "report.md").read_text()
    full, capped = counts[None], counts[12]
    available = min(full["n_rearranging_available"], full["n_nonrearranging_available"])
    assert available > 12  # the cap binds on this trajectory
    assert full["n_train"] + full["n_test"] == 2 * available
    assert capped["n_train"] + capped["n_test"] == 2 * 12
    assert capped["n_rearranging_available"] == full["n_rearranging_available"]
    assert "max_per_class = 12 per class" in texts[12] and "max_per_class" not in texts[None]
    assert f"Training set: {2 * available} samples" in texts[None]
