"""The glass-series study (ssefeat.study): its statistics on synthetic truths, the pooled softness, bad input, and
(slow) the default series at reduced size end to end."""
from __future__ import annotations

import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from ssefeat.errors import OutputError, ParameterError
from ssefeat.study.glass_barriers import compare_barriers, empty_sites
from ssefeat.study.glass_links import (glass_links, ion_links, pooled_ion_links, softness_by_anion,
                                       softness_summary, weighted_trend)
from ssefeat.study.glass_runs import GlassRun
from ssefeat.study.pooled_softness import train_pooled
from ssefeat.study.series_study import common_temperature
from ssefeat.study.thesis_comparison import compare_with_thesis
from conftest import check_report

TYPES = ["PS4", "P2S7", "P2S6"]


def _with_r(x, r, rng):
    """y with Pearson r(x, y) = r exactly: y = r x~ + sqrt(1 - r^2) z~, z~ orthogonal to x~ (both standardised)."""
    xs = (x - x.mean()) / x.std()
    z = rng.normal(size=x.size)
    z -= z.mean()
    z -= (z @ xs) / (xs @ xs) * xs
    z /= z.std()
    return r * xs + np.sqrt(1 - r * r) * z


def test_per_glass_links_from_known_synthetic_softness_give_the_known_r():
    rng = np.random.default_rng(1)
    fractions = {f"g{k}": {"PS4": 0.2, "P2S7": 0.5 + 0.05 * k, "P2S6": 0.3 - 0.05 * k} for k in range(5)}
    x = np.array([fractions[g]["P2S6"] for g in fractions])
    y = _with_r(x, -0.8, rng)
    out = glass_links(dict(zip(fractions, y)), fractions)
    got = out["fraction_P2S6"]
    assert got["r"] == pytest.approx(-0.8, abs=1e-12) and got["n"] == 5
    z, half = np.arctanh(-0.8), 1.959963984540054 / np.sqrt(5 - 3)  # Fisher-z interval, n = 5 glasses
    assert got["ci_low"] == pytest.approx(np.tanh(z - half), rel=1e-6)
    assert got["ci_high"] == pytest.approx(np.tanh(z + half), rel=1e-6)
    assert got["p_value"] == pytest.approx(stats.pearsonr(x, y).pvalue)
    assert out["fraction_P2S7"]["r"] == pytest.approx(0.8, abs=1e-12)  # P2S7 = 0.8 - P2S6: the mirror
    assert np.isnan(out["fraction_PS4"]["r"])  # constant across glasses: no correlation defined


def _env(fr: np.ndarray, types=TYPES):
    """A cluster_environment-like Dataset from fractions (frame, atom, type): counts of 10 S atoms in total."""
    nf, na, _ = fr.shape
    coords = {"frame": np.arange(nf), "atom": np.arange(na) + 100, "cluster_type": list(types)}
    count = np.rint(fr * 10).astype(int)
    nearest = np.array(types)[np.argmax(fr, axis=2)]
    return xr.Dataset({"fraction": (("frame", "atom", "cluster_type"), count / 10.0),
                       "count": (("frame", "atom", "cluster_type"), count),
                       "n_anions": (("frame", "atom"), count.sum(axis=2)),
                       "nearest_cluster_type": (("frame", "atom"), nearest)}, coords=coords)


def test_ion_links_and_softness_by_anion_on_a_synthetic_glass():
    rng = np.random.default_rng(2)
    nf, na = 6, 40
    w = rng.integers(0, 11, size=(nf, na))
    fr = np.stack([w / 10, (10 - w) / 10, np.zeros_like(w, float)], axis=2)  # PS4 and P2S7 only
    env = _env(fr)
    S = xr.DataArray(2.0 * fr[..., 0] - 1.0, dims=("frame", "atom"), coords={"frame": env.frame, "atom": env.atom})
    links = ion_links(S, env, n_boot=50)
    assert links["fraction_PS4"]["r"] == pytest.approx(1.0) and links["fraction_P2S7"]["r"] == pytest.approx(-1.0)
    assert links["fraction_PS4"]["n_groups"] == na and links["fraction_PS4"]["n"] == nf * na
    pooled = pooled_ion_links({"a": (S, env), "b": (S, env)}, n_boot=20)
    assert pooled["fraction_PS4"]["n_groups"] == 2 * na and pooled["fraction_PS4"]["r"] == pytest.approx(1.0)
    by = softness_by_anion(S, env)
    near = fr[..., 0] > 0
    assert by["PS4"]["within"]["mean"] == pytest.approx(S.values[near].mean())
    assert by["PS4"]["within"]["n_samples"] == int(near.sum())
    summ = softness_summary(S, np.linspace(-1, 1, 5))
    ion_means = S.values.mean(axis=0)
    assert summ["mean_se_ions"] == pytest.approx(ion_means.std(ddof=1) / np.sqrt(na))
    assert summ["n_ions"] == na and summ["fraction_soft"] == pytest.approx((S.values > 0).mean())


def test_weighted_trend_matches_numpy_polyfit():
    rng = np.random.default_rng(3)
    x = np.linspace(0.05, 0.25, 5)
    err = rng.uniform(0.01, 0.03, 5)
    y = 0.3 + 0.8 * x + rng.normal(0, 1, 5) * err
    got = weighted_trend(x, y, err)
    p, cov = np.polyfit(x, y, 1, w=1 / err, cov="unscaled")
    chi2 = np.sum(((y - np.polyval(p, x)) / err) ** 2) / 3
    assert got["slope"] == pytest.approx(p[0]) and got["intercept"] == pytest.approx(p[1])
    assert got["slope_err"] == pytest.approx(np.sqrt(cov[0, 0] * max(1.0, chi2)))
    assert weighted_trend(x[:2], y[:2], err[:2])["n"] == 2 and np.isnan(weighted_trend(x[:2], y[:2])["slope_err"])


def test_pooled_softness_holds_out_the_last_block_of_each_glass():
    rng = np.random.default_rng(4)
    F, L = {}, {}
    for g, n_atoms in (("A", 30), ("B", 24)):  # glasses with different numbers of Li
        X = rng.normal(size=(40, n_atoms, 3))
        coords = {"frame": np.arange(40), "atom": np.arange(n_atoms) * 3 + 7,
                  "feature": ["f0", "f1", "f2"], "species": ("atom", ["Li"] * n_atoms)}
        F[g] = xr.DataArray(X, dims=("frame", "atom", "feature"), coords=coords)
        L[g] = xr.DataArray(np.exp(2 * X[..., 0]), dims=("frame", "atom"),
                            coords={k: coords[k] for k in ("frame", "atom")})
    model, rep = train_pooled(F, L, n_blocks=4, window=0, seed=0)
    assert rep["held_out"] == ["A|b3", "B|b3"]
    for g in ("A", "B"):
        acc = rep["accuracy"][g]
        assert acc["balanced_accuracy"] > 0.9 and 5 <= acc["n_test_frames"] <= 10  # of frames 30-39 (last block)
        assert acc["balanced_accuracy_ci"][0] <= acc["balanced_accuracy"] <= acc["balanced_accuracy_ci"][1]
    with pytest.raises(ParameterError, match="n_blocks"):
        train_pooled(F, L, n_blocks=1)


def test_common_temperature_and_its_refusal():
    runs = [GlassRun("a", 600.0, "x", {}), GlassRun("a", 700.0, "x", {}), GlassRun("b", 700.0, "x", {}),
            GlassRun("b", 800.0, "x", {})]
    assert common_temperature(runs) == 700.0
    with pytest.raises(ParameterError, match="not every glass"):
        common_temperature(runs, 600.0)
    with pytest.raises(ParameterError, match="no common temperature"):
        common_temperature(runs[:1] + runs[3:])


def test_barrier_comparison_and_empty_sites():
    soft, hard = [0.1, 0.2, 0.15, 0.12], [0.4, 0.35, 0.5]
    c = compare_barriers(soft, hard)
    assert c["soft"]["median"] == pytest.approx(0.135) and c["hard"]["n"] == 3
    assert c["p_mannwhitney"] == pytest.approx(stats.mannwhitneyu(soft, hard).pvalue)
    cell = np.eye(3) * 20.0
    now = np.array([[1.0, 1.0, 1.0], [10.0, 10.0, 10.0]])
    history = np.array([[1.2, 1.0, 1.0], [5.0, 5.0, 5.0], [5.3, 5.0, 5.0], [19.5, 1.0, 1.0]])
    sites = empty_sites(now, history, cell, r_empty=1.6)
    # (1.2,1,1) and (19.5,1,1) (1.5 Å across the boundary) are occupied; (5.3,5,5) is a near copy of (5,5,5)
    np.testing.assert_allclose(sites, [[5.0, 5.0, 5.0]])


def test_comparison_rules_are_fixed_not_forced():
    link = {"r": -0.5, "ci_low": -0.6, "ci_high": -0.4, "p_value": 0.01, "n": 100, "n_groups": 20}
    res = {"E_a_trend": {"slope": 1.0, "slope_err": 0.2, "n": 5}, "transport": {}, "settings": {},
           "glass_links": {"fraction_P2S6": {**link, "r": 0.9, "ci_low": 0.1, "ci_high": 0.99}},
           "pooled_ion_links": {"fraction_P2S6": link, "fraction_PS4": link}, "barrier_glass": "g",
           "per_glass": {"g": {"by_anion": {}, "ion_links": {}}}, "barriers": None}
    rows = {r["statement"]: r["verdict"] for r in compare_with_thesis(res)}
    assert rows["E_a of Li diffusion rises with the P2S6 content"] == "reproduced"  # 1.0 - 1.96 * 0.2 > 0
    assert rows["sign of r(S, fraction of nearby S atoms in P2S6) is - (per ion, all glasses)"] == "reproduced"
    assert rows["size: r(S, fraction of nearby S atoms in P2S6) = -0.96"] == "not reproduced"
    assert rows["sign of r(S, fraction of nearby S atoms in PS4) is + (per ion, all glasses)"] == "not reproduced"
    assert rows["soft Li (S > 0) cross lower NEB barriers than hard Li"] == "not tested"
    res["E_a_trend"]["slope_err"] = 0.6  # 1.0 - 1.96 * 0.6 < 0: the sign is not established
    assert compare_with_thesis(res)[0]["verdict"] == "not reproduced"


def test_simulated_runs_are_never_overwritten_with_other_inputs(tmp_path):
    from ssefeat.md.systems.lips_composition import series_counts
    from ssefeat.study.glass_runs import simulate_series

    entry = series_counts(n_li=120)[:1]
    quick = dict(melt_ps=0.1, quench_rate=20000.0, anneal_ps=0.05, equilibrate_ps=0.05, compress_ps=0.02)
    runs = simulate_series(tmp_path, entry, (900.0,), production_ps=0.05, dump_ps=0.01, equilibrate_ps=0.01,
                           build=quick)
    assert len(runs) == 1 and runs[0].system_kwargs["n_li"] == 120
    again = simulate_series(tmp_path, entry, (900.0,), production_ps=0.05, dump_ps=0.01, equilibrate_ps=0.01,
                            build=quick)  # same inputs: reused
    assert again[0].path == runs[0].path
    before = os.path.getmtime(runs[0].path)
    with pytest.raises(OutputError, match="other inputs"):
        simulate_series(tmp_path, entry, (900.0,), production_ps=0.1, dump_ps=0.01, equilibrate_ps=0.01, build=quick)
    assert os.path.getmtime(runs[0].path) == before


@pytest.mark.slow
def test_default_series_at_reduced_size_end_to_end(tmp_path):
    """The five default glasses at 120 Li, two temperatures, short runs; every part of the study is produced."""
    from ssefeat.study import glass_series

    quick = dict(melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1, equilibrate_ps=0.1, compress_ps=0.05)
    res = glass_series(tmp_path, n_li=120, temperatures=(800.0, 1000.0), production_ps=6.0, dump_ps=0.05,
                       equilibrate_ps=0.5, build=quick, n_boot=50, extras_frames=3,
                       barriers={"n_soft": 1, "n_hard": 1, "n_images": 3, "tries": 2},
                       barrier_glass=["LiP0.465S1.605", "LiP0.465S1.651"])
    assert len(res["glasses"]) == 5
    bar = res["barriers"]  # NEB bands in two glasses, each band with its glass, a test row per glass and a figure
    assert bar["glasses"] == ["LiP0.465S1.605", "LiP0.465S1.651"] and list(bar["by_glass"]) == bar["glasses"]
    assert {r["glass"] for r in bar["soft"] + bar["hard"] + bar["skipped"]} <= set(bar["glasses"])
    assert all(bar["by_glass"][g]["soft"]["n"] <= 1 for g in bar["glasses"])
    assert (tmp_path / "barriers_by_glass.png").stat().st_size > 5000
    p2s6 = [res["counts"][g]["P2S6"] for g in res["glasses"]]
    assert p2s6 == sorted(p2s6) and len(set(p2s6)) == 5
    assert all(len(res["transport"][g]["runs"]) == 2 for g in res["glasses"])
    assert set(res["model"]["accuracy"]) == set(res["glasses"])
    assert res["glass_links"]["fraction_P2S6"]["n"] == 5
    verdicts = {r["verdict"] for r in res["comparison"]}
    assert verdicts <= {"reproduced", "not reproduced", "not tested"} and len(res["comparison"]) >= 9
    stored = json.loads((tmp_path / "study.json").read_text())
    assert stored["glasses"] == res["glasses"]
    assert "Comparison with the thesis" in (tmp_path / "study_report.md").read_text()
    check_report((tmp_path / "study_report.md").read_text())
    for g in res["glasses"]:
        assert (tmp_path / f"softness_{g}.nc").exists()


def test_study_command_refuses_bad_configurations(tmp_path):
    from click.testing import CliRunner

    from ssefeat.cli import main

    cfg = tmp_path / "study.toml"
    cfg.write_text('[study]\nfolder = "x"\nproduction_ps = 1.0\nwhatever = 3\n')
    res = CliRunner().invoke(main, ["study", str(cfg)])
    assert res.exit_code == 2 and "unknown [study] keys ['whatever']" in res.output and "Traceback" not in res.output
    cfg.write_text('[study.glasses.A]\ncounts = {PS4 = 2, P2S7 = 5, P2S6 = 1}\nfiles = {"600" = "nope.nc"}\n')
    res = CliRunner().invoke(main, ["study", str(cfg)])
    assert res.exit_code == 2 and "nope.nc" in res.output
    cfg.write_text('[trajectory]\nfiles = []\n')
    res = CliRunner().invoke(main, ["study", str(cfg)])
    assert res.exit_code == 2 and "no [study] section" in res.output


def test_soft_hard_rdf_exact_small_case():
    from ssefeat.data import make_trajectory
    from ssefeat.study.anion_rdf import soft_hard_rdf

    # a PS4 (P at the origin-ish, 4 S at 2.05 Å) and two Li: a soft one 3.03 Å from one S, a hard one far away
    p = np.array([10.0, 10.0, 10.0])
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3) * 2.05
    s_atoms = p + tet
    soft_li = s_atoms[0] + np.array([3.03, 0.0, 0.0])  # no distance on a bin edge
    hard_li = np.array([1.0, 1.0, 1.0])
    pos = np.vstack([p, s_atoms, soft_li, hard_li])
    ds = make_trajectory(pos, ["P", "S", "S", "S", "S", "Li", "Li"], cell=np.eye(3) * 20.0)
    S = xr.DataArray([[1.0, -1.0]], dims=("frame", "atom"), coords={"frame": [0], "atom": [5, 6]})
    rdf = soft_hard_rdf(ds, S, types=("PS4",), r_max=6.0, dr=0.1)
    g = rdf["g"].sel(group="soft", cluster_type="PS4").values
    d = np.linalg.norm(s_atoms - soft_li, axis=1)
    expect = np.zeros_like(g)
    for dist in d[d < 6.0]:
        k = int(dist // 0.1)
        expect[k] += 1.0 / (1 * 4 / 8000.0 * 4 / 3 * np.pi * ((k + 1) ** 3 - k ** 3) * 0.001)
    np.testing.assert_allclose(g, expect, rtol=1e-12)
    assert np.all(rdf["g"].sel(group="hard").values == 0) and rdf["n_centres"].values.tolist() == [1, 1]


def test_anion_and_link_figures_are_written_with_an_anion_missing_in_one_glass(tmp_path):
    from ssefeat.study.study_report import _anion_and_link_figures

    one = {"within": {"mean": 0.1, "mean_se_ions": 0.01}, "nearest": {"mean": 0.2, "mean_se_ions": 0.02}}
    link = {"r": 0.3, "ci_low": 0.2, "ci_high": 0.4}
    res = {"glasses": ["a", "b"], "s_fraction": {"a": {"P2S6": 0.1}, "b": {"P2S6": 0.2}},
           "per_glass": {"a": {"by_anion": {"PS4": one, "P2S6": one}, "ion_links": {"fraction_PS4": link}},
                         "b": {"by_anion": {"PS4": one}, "ion_links": {"fraction_PS4": link}}}}
    _anion_and_link_figures(res, tmp_path)
    assert (tmp_path / "softness_by_anion.png").stat().st_size > 1000
    assert (tmp_path / "softness_links.png").stat().st_size > 1000


def test_report_warns_when_the_softness_model_does_not_beat_chance():
    from ssefeat.study.study_report import _chance_lines

    acc = {"a": {"balanced_accuracy_ci": [0.52, 0.6]}, "b": {"balanced_accuracy_ci": [0.49, 0.58]},
           "c": {"note": "held-out block lacks one class"}}
    model = {"test": {"balanced_accuracy_ci": [0.51, 0.57]}, "accuracy": acc}
    assert _chance_lines(model, ["a", "b", "c"])[1].endswith("in: b, c; read S in these glasses with that in mind.")
    assert _chance_lines({**model, "accuracy": {"a": acc["a"]}}, ["a"]) == []
    model["test"]["balanced_accuracy_ci"] = [0.5, 0.56]  # reaching 0.5 is not beating chance
    assert "**The model does not beat chance**" in _chance_lines(model, ["a"])[1]
