"""The glass study as a pipeline stage: ``ssefeat run`` with ``trajectory.groups`` / ``[study]`` equals ``ssefeat
study`` on the same files, resumes, refuses bad study configurations before any work; the study's DataTree round
trip; the Fig. 5-9 binned means."""
from __future__ import annotations

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from ssefeat.cli import main
from conftest import check_report

ANALYSIS = 'n_blocks = 2\nn_boot = 20\nextras_frames = 2\nlabel_kwargs = {lag_frames = 2, window_frames = 4}\n'


@pytest.fixture(scope="module")
def glasses(tmp_path_factory):
    """Two tiny glasses (the ends of the default series at 120 Li), one short run each at 900 K."""
    from ssefeat.md.systems.lips_composition import series_counts
    from ssefeat.study.glass_runs import simulate_series

    folder = tmp_path_factory.mktemp("study_md")
    quick = dict(melt_ps=0.1, quench_rate=20000.0, anneal_ps=0.05, equilibrate_ps=0.05, compress_ps=0.02)
    entries = [series_counts(n_li=120)[k] for k in (0, 4)]
    return simulate_series(folder, entries, (900.0,), production_ps=0.4, dump_ps=0.01, equilibrate_ps=0.01,
                           build=quick)


def _counts(r) -> str:
    return f'{{PS4 = {r.counts["PS4"]}, P2S7 = {r.counts["P2S7"]}, P2S6 = {r.counts["P2S6"]}}}'


def _groups(runs, temps=None) -> str:
    temps = temps or [r.temperature_K for r in runs]
    return "".join(f'[trajectory.groups."{r.glass}"]\nfiles = ["{r.path}"]\ntemperatures = [{t:g}]\n'
                   f'counts = {_counts(r)}\n' for r, t in zip(runs, temps))


@pytest.fixture(scope="module")
def run_out(glasses, tmp_path_factory):
    """``ssefeat run`` of the two glasses as trajectory.groups with a [study] of analysis keys."""
    tmp = tmp_path_factory.mktemp("study_run")
    cfg = tmp / "run.toml"
    cfg.write_text(_groups(glasses) + "[study]\n" + ANALYSIS + f'[output]\nfolder = "{tmp / "out"}"\n')
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    return cfg, tmp / "out", res.output


def test_study_through_run_equals_the_study_command(glasses, run_out, tmp_path):
    cfg, out, _ = run_out
    study = tmp_path / "study.toml"
    study.write_text(f'[study]\nfolder = "{tmp_path / "s"}"\n' + ANALYSIS + "".join(
        f'[study.glasses."{r.glass}"]\ncounts = {_counts(r)}\nfiles = {{"900" = "{r.path}"}}\n' for r in glasses))
    res = CliRunner().invoke(main, ["study", str(study)])
    assert res.exit_code == 0, res.output
    assert "report:" in res.output and "[not tested] E_a of Li diffusion" in res.output  # one temperature: no E_a
    assert "softness and every comparison across glasses at 900 K; 0 other run(s) left out of them\n" in res.output
    by_run, by_study = (json.loads((f / "study.json").read_text()) for f in (out, tmp_path / "s"))
    assert by_run == by_study
    assert by_run["glasses"] == [r.glass for r in glasses] and by_run["softness_temperature_K"] == 900.0
    assert set(by_run["model"]["accuracy"]) == set(by_run["glasses"])
    assert by_run["pooled_ion_links"]["fraction_PS4"]["n_groups"] == 240  # ions of both glasses
    for r in glasses:
        a, b = (xr.load_dataset(f / f"softness_{r.glass}.nc")["softness"] for f in (out, tmp_path / "s"))
        xr.testing.assert_equal(a, b)  # values and coordinates (attrs hold creation times)
    report = (out / "report.md").read_text()
    assert "## LiPS glass series" in report and "### Comparison with the thesis" in report
    for r in glasses:  # the Fig. 5-9 figures are written and listed in the run's report
        assert (out / "figures" / f"softness_energy_volume_{r.glass}.png").stat().st_size > 1000
        assert f"figures/softness_energy_volume_{r.glass}.png" in report
    check_report(report)
    check_report((out / "study_report.md").read_text())
    with xr.open_datatree(out / "results.nc") as tree:  # the study is a branch of the run's results too
        assert set(tree["study"]["glasses"].children) == {r.glass for r in glasses}


def test_resume_skips_the_up_to_date_study_stage(run_out):
    cfg, out, first = run_out
    assert "study: computing" in first
    stage = out / "stages" / "study.nc"
    before, record = stage.stat().st_mtime_ns, (out / "study.json").read_text()
    again = CliRunner().invoke(main, ["run", str(cfg)])
    assert again.exit_code == 0, again.output
    assert "study: up to date (study.nc), skipped" in again.output and "study: computing" not in again.output
    assert stage.stat().st_mtime_ns == before and (out / "study.json").read_text() == record


def test_study_tree_round_trip(glasses, run_out, tmp_path):
    """analyse_series' result -> DataTree -> netCDF -> result: the same report and study.json as the direct
    result, and the nodes hold the same numbers; the run's stored stage is that tree."""
    from ssefeat.io.stage_files import save_tree
    from ssefeat.study.glass_runs import runs_from_files
    from ssefeat.study.series_study import analyse_series
    from ssefeat.study.study_report import report_markdown
    from ssefeat.study.study_tree import plain, result_from_tree, study_tree

    _, out, _ = run_out
    direct = analyse_series(runs_from_files({r.glass: {"counts": r.counts, "files": {900.0: r.path}}
                                             for r in glasses}), n_blocks=2, n_boot=20, extras_frames=2,
                            label_kwargs={"lag_frames": 2, "window_frames": 4})
    save_tree(study_tree(direct), tmp_path / "study.nc")
    tree = xr.open_datatree(tmp_path / "study.nc").load()
    res = result_from_tree(tree)
    assert report_markdown(res) == report_markdown(direct) == (out / "study_report.md").read_text()
    keep = [k for k in direct if k not in ("softness", "rdf", "extras")]
    assert plain({k: res[k] for k in keep}) == plain({k: direct[k] for k in keep})
    assert plain({k: direct[k] for k in keep}) == json.loads((out / "study.json").read_text())
    assert list(tree["glasses"].children) == direct["glasses"] and "pooled" in tree.children
    for g in direct["glasses"]:
        node = tree["glasses"][g].to_dataset(inherit=False)
        links = direct["per_glass"][g]["ion_links"]
        np.testing.assert_allclose(node["link_r"].sel(quantity=list(links)).values, [links[q]["r"] for q in links])
        assert node["transport_D_cm2_s"].values.tolist() == [r["D_cm2_s"] for r in direct["transport"][g]["runs"]]
        assert tree["counts"].sel(glass=g).values.tolist() == [direct["counts"][g][a] for a in ("PS4", "P2S7", "P2S6")]
        np.testing.assert_array_equal(node["softness"].values, direct["softness"][g].values)
        ex = tree["glasses"][g]["extras"].to_dataset(inherit=False)
        for name, da in direct["extras"][g].items():
            np.testing.assert_array_equal(ex[name].values, da.values)
        S = direct["softness"][g].sel(frame=ex["extras_frame"].values)
        np.testing.assert_array_equal(ex["softness"].values, S.values)
        assert ex["voronoi_volume"].attrs["units"] == "angstrom^3"
    pooled = tree["pooled"].to_dataset(inherit=False)
    assert pooled["comparison_verdict"].values.tolist() == [r["verdict"] for r in direct["comparison"]]
    assert float(pooled.attrs["test_balanced_accuracy"]) == direct["model"]["test"]["balanced_accuracy"]
    from ssefeat.study.glass_barriers import compare_barriers  # a barriers entry (as soft_hard_barriers') too

    rec = [{"atom": 7, "S": 0.4, "barrier_forward": 0.21, "barrier_backward": 0.1, "hop_length": 2.9,
            "converged": True, "saddle_inside": True},
           {"atom": 9, "S": -0.3, "barrier_forward": 0.35, "barrier_backward": 0.2, "hop_length": 3.1,
            "converged": False, "saddle_inside": False}]
    direct["barriers"] = {"soft": rec[:1], "hard": rec[1:], "frame": 30, "targets": "empty_sites",
                          "skipped": [{"atom": 3, "kind": "soft", "why": "ends relax into one minimum"}],
                          "comparison": compare_barriers([0.21], []), "n_unconverged": 1}
    save_tree(study_tree(direct), tmp_path / "with_barriers.nc")
    back = xr.open_datatree(tmp_path / "with_barriers.nc").load()
    assert report_markdown(result_from_tree(back)) == report_markdown(direct)
    b = back["barriers"].to_dataset(inherit=False)
    assert b["atom"].values.tolist() == [7, 9] and b["converged"].values.tolist() == [1, 0]
    assert b["kind"].values.tolist() == ["soft", "hard"] and b.attrs["n_skipped"] == 1
    stage = xr.open_datatree(out / "stages" / "study.nc").load()  # the run stored the same tree (+ its hash)
    assert stage.attrs.pop("stage_hash") and stage.attrs.pop("ssefeat_version", None) is None
    for node in tree.subtree:  # the same values and node attrs (the softness' provenance holds its creation time)
        a, b = node.to_dataset(inherit=False), stage[node.path].to_dataset(inherit=False)
        xr.testing.assert_equal(a, b)
        assert json.dumps(plain(a.attrs, True), sort_keys=True) == json.dumps(plain(b.attrs, True), sort_keys=True)


def test_partly_shared_temperatures_and_barriers_per_glass_in_the_written_study(glasses, tmp_path):
    """Glass A at 900 / 1000 K, glass B at 1000 / 1100 K (each file relabelled: the bookkeeping, not the physics,
    is tested): softness and every cross-glass view at 1000 K, the report and study.nc name the runs left out; with
    barrier bands in both glasses, the per-glass figure and rows are written and study.nc carries each band's glass."""
    from ssefeat.study.glass_barriers import barriers_by_glass, compare_barriers
    from ssefeat.study.glass_runs import runs_from_files
    from ssefeat.study.series_study import analyse_series
    from ssefeat.study.study_report import write_study

    a, b = glasses
    runs = runs_from_files({a.glass: {"counts": a.counts, "files": {900.0: a.path, 1000.0: a.path}},
                            b.glass: {"counts": b.counts, "files": {1000.0: b.path, 1100.0: b.path}}})
    res = analyse_series(runs, n_blocks=2, n_boot=20, extras_frames=2,
                         label_kwargs={"lag_frames": 2, "window_frames": 4})
    assert res["softness_temperature_K"] == 1000.0
    plan = res["temperature_plan"]
    assert plan["common_K"] == [1000.0] and plan["partial_K"] == {"900": [a.glass], "1100": [b.glass]}
    left = [f"{a.glass} at 900 K", f"{b.glass} at 1100 K"]
    assert plan["comparisons"][0]["runs_left_out"] == left and plan["comparisons"][1]["runs_left_out"] == left
    rec = [{"glass": g, "atom": k, "S": s, "barrier_forward": e, "barrier_backward": 0.1, "hop_length": 2.9,
            "converged": True, "saddle_inside": True}
           for k, (g, s, e) in enumerate([(a.glass, 0.3, 0.2), (a.glass, 0.2, 0.25), (a.glass, -0.1, 0.4),
                                          (a.glass, -0.2, 0.45), (b.glass, 0.1, 0.3), (b.glass, -0.3, 0.35)])]
    bar = {"soft": [r for r in rec if r["S"] > 0], "hard": [r for r in rec if r["S"] < 0], "skipped": [],
           "targets": "empty_sites", "glasses": [a.glass, b.glass], "n_unconverged": 0,
           "comparison": compare_barriers([0.2, 0.25, 0.3], [0.4, 0.45, 0.35])}
    bar["by_glass"] = barriers_by_glass(bar, glasses=bar["glasses"])
    res["barriers"] = bar
    paths = write_study(res, tmp_path)
    assert (tmp_path / "barriers_by_glass.png") in paths and (tmp_path / "barriers_by_glass.png").stat().st_size > 5000
    report = (tmp_path / "study_report.md").read_text()
    assert "## Temperatures of the comparisons across glasses" in report
    assert f"Only in some glasses: 900 K ({a.glass}); 1100 K ({b.glass})." in report
    assert f"| 1000 | 2: {left[0]}; {left[1]} |" in report
    assert f"| {a.glass} | n/a | 2, 0.225, 0.225 +- 0.025 | 2, 0.425, 0.425 +- 0.025 | Mann-Whitney p = " in report
    assert f"| {b.glass} | n/a | 1, 0.300, 0.300, one value | 1, 0.350, 0.350, one value | n too small" in report
    check_report(report)
    tree = xr.open_datatree(tmp_path / "study.nc").load()
    assert json.loads(tree.attrs["temperature_plan"]) == json.loads(json.dumps(plan))
    assert tree.attrs["runs_left_out_of_softness"] == "; ".join(left)
    assert list(np.atleast_1d(tree.attrs["common_temperatures_K"])) == [1000.0]
    node = tree["barriers"].to_dataset(inherit=False)
    assert node["band_glass"].values.tolist() == [r["glass"] for r in bar["soft"] + bar["hard"]]
    assert node["barrier_glass"].values.tolist() == [a.glass, b.glass]
    assert node["soft_n"].values.tolist() == [2, 1]
    np.testing.assert_allclose(node["hard_median"].values, [np.median([0.4, 0.45]), 0.35])


@pytest.mark.parametrize("case, message", [
    ("no_common_T", "no common temperature"),
    ("unknown_group_key", "has unknown keys ['counts_']"),
    ("unknown_study_key", "unknown [study] keys ['n_bot']"),
    ("study_folder", "study.folder is for `ssefeat study`"),
    ("bad_counts", "counts must give whole numbers"),
    ("both", "both trajectory.groups and study.glasses"),
    ("series_charge", "n_li = "),
    ("softness_T", "not every glass has a run at 700 K"),
    ("stray_temperatures", "trajectory.temperatures are for trajectory.files"),
    ("barrier_glass", "study.barrier_glass names ['nope'], not among the glasses"),
    ("barrier_glass_type", 'study.barrier_glass must be a glass name, a list of them, or "all"'),
])
def test_bad_study_configurations_are_refused_before_any_work(glasses, tmp_path, case, message):
    out = tmp_path / "out"
    groups = _groups(glasses)
    text = {"no_common_T": _groups(glasses, [900.0, 1000.0]),
            "unknown_group_key": groups.replace("counts =", "counts_ =", 1),
            "unknown_study_key": groups + "[study]\nn_bot = 20\n",
            "study_folder": groups + '[study]\nfolder = "x"\n',
            "bad_counts": groups.replace("PS4 = 8", "PS4 = -1", 1),
            "both": groups + f'[study.glasses.A]\ncounts = {_counts(glasses[0])}\nfiles = {{"900" = "x.nc"}}\n',
            "series_charge": "[study]\nn_li = 121\ntemperatures = [800]\n",
            "softness_T": "[study]\nn_li = 120\ntemperatures = [800, 900]\nsoftness_temperature = 700\n",
            "stray_temperatures": "[trajectory]\ntemperatures = [900]\n" + groups,
            "barrier_glass": groups + f'[study]\nbarrier_glass = ["{glasses[0].glass}", "nope"]\n',
            "barrier_glass_type": groups + "[study]\nbarrier_glass = 3\n"}[case]
    cfg = tmp_path / "run.toml"
    cfg.write_text(text + f'[output]\nfolder = "{out}"\n')
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("ssefeat error:") and message in res.output and "Traceback" not in res.output
    assert not out.exists()  # refused before the results folder was made


def test_binned_mean_by_ion_exact_small_case():
    from ssefeat.plots.study import binned_mean_by_ion

    x = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 13.0])
    s = np.array([1.0, 3.0, 5.0, 6.0, -1.0, -3.0, 5.0, np.nan])
    ion = np.array([0, 0, 1, 1, 0, 1, 2, 2])
    b = binned_mean_by_ion(x, s, ion, n_bins=2)  # edges at the median 3 of the 7 finite samples
    lo = np.array([(1 + 3) / 2, 5.0])  # bin [0, 3): ions 0 and 1
    hi = np.array([-1.0, (6 - 3) / 2, 5.0])  # bin [3, 12]: ions 0, 1, 2
    np.testing.assert_allclose(b["mean"], [np.mean([1, 3, 5]), np.mean([6, -1, -3, 5])])
    np.testing.assert_allclose(b["se"], [lo.std(ddof=1) / np.sqrt(2), hi.std(ddof=1) / np.sqrt(3)])
    assert b["n_ions"].tolist() == [2, 3] and b["n_samples"].tolist() == [3, 4]
    np.testing.assert_allclose(b["x"], [1.0, np.mean([3, 10, 11, 12])])


@pytest.mark.slow
def test_built_in_series_through_run_at_reduced_size(tmp_path):
    """The [study] series keys through ``ssefeat run``: two glasses of the series at 120 Li, one short run each,
    simulated into <output>/study_md/ and reused by a second run with another analysis setting."""
    out = tmp_path / "out"
    cfg = tmp_path / "run.toml"
    text = ("[study]\nys = [1.651, 1.605]\nn_li = 120\ntemperatures = [900]\nproduction_ps = 0.4\ndump_ps = 0.01\n"
            "equilibrate_ps = 0.01\nbuild = {melt_ps = 0.1, quench_rate = 20000.0, anneal_ps = 0.05, "
            "equilibrate_ps = 0.05, compress_ps = 0.02}\n" + ANALYSIS + f'[output]\nfolder = "{out}"\n')
    cfg.write_text(text)
    res = CliRunner().invoke(main, ["run", str(cfg)])
    assert res.exit_code == 0, res.output
    md = sorted(p.name for p in (out / "study_md").glob("*.nc"))
    assert md == ["LiP0.465S1.605_900K.nc", "LiP0.465S1.651_900K.nc"]
    stored = json.loads((out / "study.json").read_text())
    assert stored["glasses"] == ["LiP0.465S1.651", "LiP0.465S1.605"] and len(stored["series"]) == 2
    before = {p: p.stat().st_mtime_ns for p in (out / "study_md").glob("*.nc")}
    cfg.write_text(text.replace("n_boot = 20", "n_boot = 30"))
    again = CliRunner().invoke(main, ["run", str(cfg)])
    assert again.exit_code == 0 and "study: computing" in again.output
    assert {p: p.stat().st_mtime_ns for p in (out / "study_md").glob("*.nc")} == before  # the MD runs reused
    assert json.loads((out / "study.json").read_text())["settings"]["n_boot"] == 30
