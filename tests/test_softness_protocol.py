"""The Kob-Andersen softness protocol as a library function (ssefeat.softness.protocol): its parts on synthetic runs,
and (slow) the same features, labels, training sets, model file and metrics as the training script had before the
protocol moved into the library (the script and softness.py of commit REV, read from git)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from ssefeat.softness import (SoftnessModel, alpha_relaxation_time, combine_runs, p_r_trend, quiet_tau_at,
                              quiet_window, rearrangement_probability, train_on_runs, train_softness,
                              train_with_holdouts)
from conftest import load_script

ROOT = Path(__file__).resolve().parents[1]
REV = "16d1f1c"  # the last commit with ssefeat/softness.py and the protocol inside models/train_kob_andersen.py


def synthetic_runs(n_runs=3, n_frames=40, n_atoms=60, seed=0):
    """Per-run dicts as train_on_runs takes them: features with a hidden hyperplane, p_hop-like labels, tau_alpha."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=5)
    runs = []
    for r in range(n_runs):
        X = rng.normal(size=(n_frames, n_atoms, 5))
        label = np.exp(X @ w / np.linalg.norm(w) + 0.3 * rng.normal(size=(n_frames, n_atoms))) / 10
        coords = {"frame": np.arange(n_frames) * 10, "atom": np.arange(n_atoms), "time": ("frame", np.arange(n_frames)),
                  "species": ("atom", np.full(n_atoms, "A"))}
        feats = xr.DataArray(X, dims=("frame", "atom", "feature"), name="features",
                             coords={**coords, "feature": [f"G{k}" for k in range(5)]})
        lab = xr.DataArray(label, dims=("frame", "atom"), coords=coords, name="phop")
        runs.append({"features": feats, "phop": lab, "future_max": lab, "tau_alpha": 2.0 + r})
    return runs


def test_quiet_window_covers_the_quiet_time_and_no_more():
    for step in (0.5, 1.0, 2.0):
        for quiet in (0.0, 0.7, 1.0, 2.5, 7.5):
            w = quiet_window(step, quiet)
            assert (w + 0.5) * step >= quiet - 1e-9  # the intervals of +-w feature frames reach +-quiet ...
            assert w == 0 or (w - 0.5) * step < quiet  # ... and one frame fewer would not
    assert quiet_tau_at([10.0, 12.0, np.nan]) == 5.5


def test_alpha_relaxation_time_of_a_random_walk():
    """Gaussian steps of variance s^2 per axis: F_s(q, t) = exp(-q^2 s^2 t / 2), so tau_alpha = 2 / (q^2 s^2)."""
    rng = np.random.default_rng(1)
    s, q, dt = 0.05, 7.25, 0.1
    pos = np.cumsum(rng.normal(scale=s, size=(400, 300, 3)), axis=0)
    rel = alpha_relaxation_time(pos, dt, q)
    assert rel["tau_alpha"] == pytest.approx(2 / (q * q * s * s) * dt, rel=0.05)
    assert rel["tau_alpha_first_half"] == pytest.approx(rel["tau_alpha_second_half"], rel=0.1)  # no aging


def test_train_on_runs_holds_out_runs_and_is_train_softness_with_the_quiet_window():
    runs = synthetic_runs()
    model, report = train_on_runs(runs, r_cut=0.3, nr_cut=0.1, t_R=2.0, stride=1, species="A", seed=3)
    assert report["quiet_tau"] == 0.5 * np.mean([2.0, 3.0, 4.0])  # tau_alpha / 2, mean over runs
    assert report["window_frames"] == quiet_window(1.0, report["quiet_tau"]) == 1
    feats, labels, groups = combine_runs([r["features"] for r in runs], [r["phop"] for r in runs])
    ref, _ = train_softness(feats, labels, r_cut=0.3, nr_cut=0.1, window=1, species="A", test_fraction=0.3,
                            gap_blocks=1, seed=3)
    np.testing.assert_array_equal(model.coef_, ref.coef_)  # the frame-block model is train_softness's
    assert report["test"]["balanced_accuracy"] > 0.8
    assert abs(report["permuted_control"]["balanced_accuracy"] - 0.5) < 0.15
    assert len(report["permuted_control"]["balanced_accuracy_each"]) == 10
    assert set(report["by_run"]["test_runs"]) < {"run0", "run1", "run2"}
    assert report["by_run"]["balanced_accuracy"] > 0.8
    loro = report["leave_one_run_out"]
    assert set(loro["balanced_accuracy_each"]) == {"run0", "run1", "run2"}
    # every sample of the run-grouped training set is tested once
    assert np.sum(loro["confusion_matrix"]) == report["by_run"]["n_samples"] + report["by_run"]["n_train"]
    # the combined arrays come back for P_R(S)
    pr = rearrangement_probability(model.apply(report["features"]), report["future_max"], r_cut=0.3, horizon=0,
                                   bins=6)
    trend = p_r_trend(pr)
    assert trend["spearman"] > 0.9 and trend["decades"] > 1 and trend["monotone_within_errors"]
    # an explicit quiet time wins over tau_alpha / 2
    assert train_with_holdouts(feats, labels, quiet_tau=0.4, r_cut=0.3, nr_cut=0.1, species="A",
                               groups=groups)[1]["window_frames"] == 0


# ------------------------------------------------------------------------------------------------------------------
# slow: the library reproduces the training script of commit REV on a small Kob-Andersen case
# ------------------------------------------------------------------------------------------------------------------


def old_code(tmp_path, parts=("ssefeat/softness.py", "models/train_kob_andersen.py")):
    """The modules ``parts`` of commit REV, or skip when git or the commit is not at hand."""
    files = {}
    for part in parts:
        try:
            out = subprocess.run(["git", "-C", str(ROOT), "show", f"{REV}:{part}"], capture_output=True, text=True)
        except OSError:
            pytest.skip("git is not available")
        if out.returncode:
            pytest.skip(f"commit {REV} is not in this checkout")
        files[part] = tmp_path / part.replace("/", "_")
        files[part].write_text(out.stdout)
    # ssefeat modules load inside the ssefeat package (their relative imports), scripts on their own
    return [load_script(("ssefeat." if part.startswith("ssefeat/") else "") + Path(part).stem + "_at_rev", files[part])
            for part in parts]


def test_labels_at_frames_is_the_previous_label_binning_of_the_lips_script(tmp_path):
    """train_lips_glass.py binned p_hop with its own bin_labels; it now calls labels_at_frames: equal at the
    feature frames (the only frames training uses), NaN where the interval holds a NaN or leaves the run."""
    from ssefeat.softness import labels_at_frames

    (lips,) = old_code(tmp_path, ("models/train_lips_glass.py",))
    rng = np.random.default_rng(0)
    for n, stride in ((101, 2), (100, 2), (100, 3), (50, 1), (64, 4)):
        v = rng.exponential(size=(n, 30))
        v[:3], v[-2:], v[40, 5] = np.nan, np.nan, np.nan
        ph = xr.DataArray(v, dims=("frame", "atom"), coords={"frame": np.arange(n), "atom": np.arange(30)})
        frames = np.arange(0, n, stride)
        np.testing.assert_array_equal(labels_at_frames(ph, frames).values, lips.bin_labels(ph, stride).values[frames])


@pytest.mark.slow
def test_train_on_runs_reproduces_the_previous_training_script(tmp_path, monkeypatch):
    """Two short KA runs (N = 500, T = 0.8, seeded): inherent-structure features, p_hop labels, quiet window,
    training sets, the saved model file and every held-out metric equal those of the script before the move."""
    from ssefeat.features.parameters import kob_andersen_radial

    old_softness, old = old_code(tmp_path)
    stride, seed = 20, 2015
    runs = [old.simulate(0.8, n_atoms=500, equilibrate_tau=5.0, production_tau=20.0, seed=seed, replica=r)[0]
            for r in range(2)]
    with monkeypatch.context() as m:  # the old script on the old softness module
        m.setitem(sys.modules, "ssefeat.softness", old_softness)
        infos = [{"relaxation": old.alpha_relaxation_time(ds["positions"].values[:, ds["species"].values == "A"],
                                                          old.DUMP_TAU)} for ds in runs]
        parts = [old.labels_and_features(ds, stride=stride, thermal_too=True) for ds in runs]
        ph, fut, feats, feats_th = (old.combine_replicas([p[k] for p in parts]) for k in range(4))
        quiet = old.quiet_tau_at(infos)
        m_old, r_old = old.train(feats, ph, quiet_tau=quiet, seed=seed, groups=old.run_groups([p[0] for p in parts]))
        S_old = m_old.apply(feats)
        s_range = tuple(float(x) for x in np.nanpercentile(S_old.values, [0.5, 99.5]))
        pr_old = old.p_r_curve(S_old, fut, s_range=s_range, min_count=10)
        transfer_old = old.transfer_metrics(m_old, feats_th, ph, quiet_tau=quiet)
    model, report = train_on_runs(runs, kob_andersen_radial(), r_cut=old.R_CUT, nr_cut=old.NR_CUT, t_R=old.T_R_TAU,
                                  stride=stride, species="A", system="kob_andersen", fmax=old.FIRE_FMAX, seed=seed)
    # per-run features and labels, the quiet window
    for new, ref in ((report["features"], feats), (report["phop"], ph), (report["future_max"], fut)):
        np.testing.assert_array_equal(new.values, ref.values)
        np.testing.assert_array_equal(new["atom"].values, ref["atom"].values)
    assert feats.attrs["inherent"] == report["features"].attrs["inherent"]
    np.testing.assert_allclose(report["tau_alpha"], [i["relaxation"]["tau_alpha"] for i in infos], rtol=1e-12)
    assert report["window_frames"] == r_old["window_frames"]
    # training sets, model file, metrics
    for k in ("X", "y", "atom", "block"):
        np.testing.assert_array_equal(getattr(report["training_set"], k), getattr(r_old["training_set"], k))
    for mod in (model, m_old):
        mod.provenance_.pop("trained")
    model.save(tmp_path / "new.json")
    m_old.save(tmp_path / "old.json")
    assert (tmp_path / "new.json").read_bytes() == (tmp_path / "old.json").read_bytes()
    for key in ("test", "train", "C", "permuted_control", "by_run", "leave_one_run_out"):
        assert json.dumps(report[key], sort_keys=True) == json.dumps(r_old[key], sort_keys=True), key
    assert report["by_run"]["n_samples"] > 0 and len(report["leave_one_run_out"]["balanced_accuracy_each"]) == 2
    # P_R(S) and transfer to other runs
    pr = rearrangement_probability(model.apply(report["features"]), report["future_max"], r_cut=old.R_CUT, horizon=0,
                                   bins=16, s_range=s_range, min_count=10)
    np.testing.assert_array_equal(pr["P_R"].values, pr_old["P_R"].values)
    assert p_r_trend(pr) == {"decades": old.decades(pr_old), "monotone": old.monotone(pr_old),
                             "monotone_within_errors": old.monotone_within_errors(pr_old),
                             "spearman": old.spearman(pr_old)}
    feats_th_new = combine_runs([p[3] for p in parts], [p[0] for p in parts])[0]
    from ssefeat.softness import transfer_metrics

    assert transfer_metrics(model, feats_th_new, report["phop"], quiet_tau=report["quiet_tau"], r_cut=old.R_CUT,
                            nr_cut=old.NR_CUT, species="A", seed=seed) == transfer_old
    assert isinstance(SoftnessModel.load(tmp_path / "new.json"), SoftnessModel)
