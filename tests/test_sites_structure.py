"""Jumps tied to local structure and the D_tracer window of f: leaving vs staying contrasts of softness and the
cluster environment (synthetic truth built from the walk itself, and the [sites] stage of a full pipeline run with
its hash following the softness), f with a given window or an apparent D labelled as such, and ``ssefeat sites``
over several temperatures (E_a per jump type)."""
import re

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import ssefeat
from ssefeat.cli import main
from ssefeat.config import load_config
from ssefeat.errors import ConfigError, ParameterError
from ssefeat.pipeline import Pipeline
from ssefeat.pipeline.sites import leaving_quantities, report_lines
from ssefeat.sites import (correlation_factor, jump_arrhenius, leaving_contrasts, site_jumps, site_occupancy,
                           sites_from_structure)
from ssefeat.sites.correlation import describe_f

from test_pipeline import config_for, stage, synthetic_glass_trajectory
from test_pipeline_sites import A, config, hopping_run, li2s_poscar
from test_sites import uncorrelated_walk


def leaving_truth(ds, a, window):
    """(frame, ion) 1 where the ion's lattice site (rounded position / a; noise << a) changes within the next
    ``window`` frames, 0 where it does not (-1 where that is not known: it stays up to the end of the run, which
    comes sooner): built from the walk alone."""
    lattice = np.round(ds["positions"].values / a)
    moved = np.any(lattice[1:] != lattice[:-1], axis=2)  # departure frames: last frame on the old site
    n = lattice.shape[0]
    truth = np.zeros((n, lattice.shape[1]), dtype=np.int8)
    for f in range(n):
        truth[f] = moved[f:f + window].any(axis=0)
    tail = truth[n - window + 1:]
    tail[tail == 0] = -1
    return truth


def test_leaving_contrasts_recover_synthetic_softness_and_environment():
    ds, frac = uncorrelated_walk(5, 40, 400, hop_prob=0.04, seed=3)
    occ, J = site_occupancy(ds, frac, "Li", radius=0.8), site_jumps(ds, frac, "Li", radius=0.8)
    w = 4
    truth = leaving_truth(ds, 2.5, w)
    leave = truth == 1
    rng = np.random.default_rng(1)
    shape, dims = truth.shape, ("frame", "atom")
    coords = {"frame": occ.frame.values, "atom": occ.atom.values}
    # softness 2 higher before leaving; out-of-domain samples carry a huge value that must be left out
    S = 2.0 * leave + rng.normal(0, 1, shape)
    in_domain = rng.random(shape) > 0.1
    S[~in_domain & ~leave] = 50.0
    soft = xr.Dataset({"softness": (dims, S), "in_domain": (dims, in_domain)}, coords=coords)
    # environment: PS4 fraction 0.5 higher before leaving, nearest cluster P2S7 exactly when leaving; ions with no
    # anion within r_env carry all-zero fractions (the store's convention) that must be left out
    n_anions = np.where(rng.random(shape) < 0.05, 0, 4)
    ps4 = np.clip(0.2 + 0.5 * leave + rng.normal(0, 0.05, shape), 0, 1)
    near = np.where(leave, "P2S7", "PS4")
    near[rng.random(shape) < 0.01] = ""
    feats = xr.Dataset({"fraction_PS4": (dims, np.where(n_anions > 0, ps4, 0.0)),
                        "fraction_P2S7": (dims, np.where(n_anions > 0, 1 - ps4, 0.0)),
                        "n_anions": (dims, n_anions), "nearest_cluster_type": (dims, near)}, coords=coords)
    q = leaving_quantities(feats, soft)
    assert set(q) == {"softness", "fraction_PS4", "fraction_P2S7", "nearest_is_P2S7", "nearest_is_PS4", "n_anions"}
    c = leaving_contrasts(occ, J, q, window=w, n_boot=300).sel(group="all")
    seen = truth >= 0
    x = c.sel(quantity="softness")
    assert float(x["ci_low"]) < 2.0 < float(x["ci_high"]) and float(x["ci_low"]) > 1.5
    assert int(x["n_leaving"]) == int((leave & in_domain).sum()) and int(x["n_staying"]) == int(
        (seen & ~leave & in_domain).sum())
    x = c.sel(quantity="fraction_PS4")
    assert abs(float(x["difference"]) - 0.5) < 0.02 and int(x["n_leaving"]) == int((leave & (n_anions > 0)).sum())
    np.testing.assert_allclose(c.sel(quantity="fraction_P2S7")["difference"], -c.sel(quantity="fraction_PS4")[
        "difference"], atol=1e-12)
    x = c.sel(quantity="nearest_is_P2S7")
    assert float(x["mean_leaving"]) == 1.0 and float(x["mean_staying"]) == 0.0
    assert int(x["n_leaving"]) + int(x["n_staying"]) == int((seen & (near != "")).sum())
    x = c.sel(quantity="n_anions")  # unrelated to leaving: the interval covers 0
    assert float(x["ci_low"]) < 0 < float(x["ci_high"])
    assert c["units"].sel(quantity="softness") == "1" and int(c["n_ions"].sel(quantity="softness")) == 40


def test_sites_stage_contrasts_follow_the_softness_store(tmp_path):
    traj = synthetic_glass_trajectory(tmp_path / "glass.nc")
    cfg = config_for(tmp_path, traj, sites={"enabled": True, "radius": 0.5, "leaving_window": 6},
                     disorder={"enabled": False})
    out = Pipeline(load_config(cfg), progress=False).run()
    tree = xr.open_datatree(out / "stages" / "sites.nc")
    stored = tree["run_0"]["leaving"].to_dataset()
    assert {"softness", "fraction_PS4", "fraction_P2S7", "fraction_P2S6", "nearest_is_PS4"} <= set(
        stored["quantity"].values.tolist())
    # the stage's contrasts equal the one-shot API on the stage's own inputs
    from ssefeat.sites import find_sites

    ds = ssefeat.io.read(traj)
    sites = find_sites(ds, "Li")
    occ, J = site_occupancy(ds, sites, "Li", 0.5), site_jumps(ds, sites, "Li", 0.5)
    again = leaving_contrasts(occ, J, leaving_quantities(stage(out, "features_0.zarr"), stage(out, "softness_0.zarr")),
                              window=6, seed=0)
    for v in ("difference", "ci_low", "ci_high", "n_leaving", "n_staying"):
        np.testing.assert_allclose(stored[v].values, again[v].values, rtol=1e-12)
    report = (out / "report.md").read_text()
    assert "Structure of ions about to leave their site" in report and "| run_0 | softness (1) | all |" in report
    mtime = (out / "stages" / "sites.nc").stat().st_mtime_ns
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()  # nothing changed: sites up to date
    assert "sites" not in pipe.timings and (out / "stages" / "sites.nc").stat().st_mtime_ns == mtime
    cfg["softness"]["window"] = 2  # a changed softness recomputes the sites stage (its hash holds the store's)
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    assert "softness 0" in pipe.timings and "sites" in pipe.timings and "features 0" not in pipe.timings
    cfg["softness"]["enabled"] = False  # without softness the contrasts are of the environment only
    pipe = Pipeline(load_config(cfg), progress=False)
    pipe.run()
    left = xr.open_datatree(out / "stages" / "sites.nc")["run_0"]["leaving"]
    assert "sites" in pipe.timings and "softness" not in left["quantity"].values.tolist()


def test_f_with_a_given_window_and_an_apparent_d_said_so():
    from ssefeat.dynamics import diffusion_coefficient

    ds, frac = uncorrelated_walk(6, 60, 600, seed=2)
    J = site_jumps(ds, frac, "Li", radius=0.8)
    c = correlation_factor(ds, J, window=(2.0, 12.0))
    assert c.attrs["verdict"] == "given" and (c.attrs["window_start_ps"], c.attrs["window_stop_ps"]) == (2.0, 12.0)
    d = diffusion_coefficient(ds, "Li", (2.0, 12.0))
    assert float(c["D_tracer"]) == float(d["D"][0]) and float(c["f"]) == float(d["D"][0]) / float(c["D_J"])
    assert abs(float(c["f"]) - 1) < 3 * float(c["f_err"]) and describe_f(c).startswith("f = ")
    # ions flipping between two neighbouring sites every other frame: the MSD plateaus after a frame, so D is
    # apparent and the ratio is not a correlation factor, which the result and its text say
    rng = np.random.default_rng(0)
    side = np.cumsum(rng.random((400, 30)) < 0.5, axis=0) % 2
    pos = np.stack([2.5 * (np.arange(30) % 5) + 2.5 * side, np.full((400, 30), 2.5 * (np.arange(30) // 5 % 5)),
                    np.full((400, 30), 2.5 * (np.arange(30) // 25))], axis=-1) + rng.normal(0, 0.1, (400, 30, 3))
    ds2 = ssefeat.make_trajectory(pos, ["Li"] * 30, cell=np.eye(3) * 25.0, timestep_ps=0.1)
    grid = np.stack(np.meshgrid(*[np.arange(10)] * 3, indexing="ij"), -1).reshape(-1, 3) / 10
    J2 = site_jumps(ds2, grid, "Li", radius=0.8)
    c2 = correlation_factor(ds2, J2)
    assert c2.attrs["verdict"] == "apparent" and "not a correlation factor" in c2["f"].attrs["long_name"]
    assert "NOT a correlation factor" in describe_f(c2) and "NOT DIFFUSIVE" in c2.attrs["window_note"]
    with pytest.raises(ParameterError, match="no diffusive window"):
        correlation_factor(ds2, J2, fallback=False)


def test_sites_window_setting(tmp_path):
    li2s_poscar(tmp_path / "Li2S.vasp")
    for k, T in enumerate((600, 900)):
        hopping_run(tmp_path / f"T{T}.nc", float(T), n_frames=300, n_ions=60, seed=k)
    with pytest.raises(ConfigError, match=r"sites.window must be \[start, stop\]"):
        Pipeline(config(tmp_path, window=[5.0, 2.0]), progress=False)
    with pytest.raises(ConfigError, match="sites.leaving_window must be a whole number"):
        Pipeline(config(tmp_path, leaving_window=0), progress=False)
    out = Pipeline(config(tmp_path, window=[1.0, 10.0], descriptors=False), progress=False).run()
    tree = xr.open_datatree(out / "stages" / "sites.nc")
    for k in (0, 1):
        c = tree[f"run_{k}"]["correlation"]
        assert c.attrs["verdict"] == "given" and c.attrs["window_stop_ps"] == 10.0
    report = (out / "report.md").read_text()
    assert "(D_tracer fit over 1-10 ps, given window)" in report
    assert "sites_arrhenius.png" in {p.name for p in (out / "figures").iterdir()}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_sites_command_over_temperatures_gives_ea_per_jump_type(tmp_path):
    li2s_poscar(tmp_path / "Li2S.vasp")
    runs = [hopping_run(tmp_path / f"T{T}.nc", float(T), n_frames=400, seed=k) for k, T in enumerate((500, 700, 900))]
    files = [tmp_path / f"T{T}.nc" for T in (500, 700, 900)]
    out, figs = tmp_path / "sites.nc", tmp_path / "figs"
    common = ["--structure", tmp_path / "Li2S.vasp", "--supercell", 3, 3, 3, "--radius", 0.9]
    res = run("sites", *files, *common, "-o", out, "--plot", figs)  # temperatures from the files
    assert res.exit_code == 0, res.output
    m = re.search(r"E_a Li -> Li = ([0-9.]+) ± ([0-9.]+) eV", res.output)
    ea, err = float(m.group(1)), float(m.group(2))
    assert abs(ea - 0.2) < 3 * err and err < 0.05  # the barrier the runs were made with
    tree = xr.open_datatree(out)
    sites = sites_from_structure(tmp_path / "Li2S.vasp", species="Li", supercell=(3, 3, 3))
    direct = jump_arrhenius([site_jumps(ds, sites, "Li", 0.9) for ds in runs], [500.0, 700.0, 900.0])
    np.testing.assert_allclose(tree["arrhenius"]["activation_energy"].values, direct["activation_energy"].values)
    assert {"run_0", "run_1", "run_2", "arrhenius"} <= set(tree.children)
    assert {"site_arrhenius.png", "site_correlation_factor.png", "site_rate_matrix_run_2.png"} <= {
        p.name for p in figs.iterdir()}
    # temperatures given on the command line replace the files' own; a window for f is used and said
    res = run("sites", *files[:2], *common, "--temperature", 550, "--temperature", 650, "--window", 1, 8, "-o",
              tmp_path / "b.nc")
    assert res.exit_code == 0, res.output
    assert "at 550 K" in res.output and "(D_tracer fit over 1-8 ps, given window)" in res.output
    np.testing.assert_allclose(xr.open_datatree(tmp_path / "b.nc")["arrhenius"]["temperature"], [550, 650])
    # refused: a temperature count that does not match, a file without a temperature, a reversed window
    bare = tmp_path / "bare.nc"
    ds = runs[0].copy()
    ds.attrs.pop("temperature_K")
    ssefeat.io.write(ds, bare)
    for args, words in [((*files[:2], "--temperature", 600), "1 --temperature values for 2 trajectories"),
                        ((files[0], bare), "is not known"), ((files[0], "--window", 5, 1), "0 <= start < stop")]:
        res = run("sites", *args, *common, "-o", tmp_path / "c.nc")
        assert res.exit_code == 2 and res.output.count("ssefeat error:") == 1 and words in res.output, res.output
    assert not (tmp_path / "c.nc").exists()
