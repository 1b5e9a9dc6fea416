"""Softness on the built-in MD systems (issue 6): the shipped models load and apply, a small Kob-Andersen run
learns softness from p_hop labels well above chance, and (slow) the full-strength KA result regenerates."""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import load_script

MODELS = Path(__file__).resolve().parents[1] / "models"


def _script(name):
    return load_script(name, MODELS / f"{name}.py")


def small_ka_softness(seed=1, n_atoms=500, temperature=0.8, equilibrate_tau=20.0, production_tau=60.0,
                      stride=4, quiet_tau=1.5):
    """A small KA run -> p_hop labels -> softness; returns (held-out metrics, permuted control, report, timing)."""
    from ssefeat.softness import train_with_holdouts

    ka = _script("train_kob_andersen")
    t0 = time.process_time()
    ds, _ = ka.simulate(temperature, n_atoms=n_atoms, equilibrate_tau=equilibrate_tau,
                        production_tau=production_tau, seed=seed)
    t_md = time.process_time() - t0
    ph, _, feats = ka.labels_and_features(ds, stride=stride, inherent=False)  # thermal features: no quenches
    t_feat = time.process_time() - t0 - t_md
    model, report = train_with_holdouts(feats, ph, quiet_tau=quiet_tau, r_cut=ka.R_CUT, nr_cut=ka.NR_CUT, species="A",
                                        seed=seed)
    return report, {"md_cpu_s": t_md, "features_cpu_s": t_feat, "total_cpu_s": time.process_time() - t0}


# ------------------------------------------------------------------------------------------------------------------
# (a) the shipped models load, match today's parameter sets, and apply
# ------------------------------------------------------------------------------------------------------------------
def _ka_configuration(n_atoms=500, seed=0):
    import ssefeat
    from ssefeat.md.systems.kob_andersen import kob_andersen

    sim = kob_andersen(n_atoms=n_atoms, temperature=0.8, seed=seed, equilibrate_steps=200)
    return ssefeat.make_trajectory(sim.positions[None], sim.species, cell=sim.cell, wrapped=False)


def _lips_configuration(seed=0):
    import ssefeat
    from ssefeat.md.systems.lips_glass import lips_glass

    sim = lips_glass("small", temperature=800.0, seed=seed, melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1,
                     equilibrate_ps=0.1, compress_ps=0.05)
    return ssefeat.make_trajectory(sim.positions[None], sim.species, cell=sim.cell, wrapped=False)


def test_kob_andersen_radial_is_the_radial_part_of_kob_andersen():
    from ssefeat.features.parameters import kob_andersen, kob_andersen_radial, resolve

    p = kob_andersen_radial()
    assert p.n_features == 60 and p.angular_species == () and p.name == "kob_andersen_radial"
    assert p.fingerprint == kob_andersen().replace(angular_species=(), xi=(), lambdas=(), zeta=(),
                                                   angular_cutoff=None).fingerprint
    assert resolve("kob_andersen_radial").fingerprint == p.fingerprint
    assert kob_andersen_radial(neighbours=("A",)).n_features == 30


def test_kob_andersen_model_loads_matches_parameters_and_applies():
    from ssefeat.features.parameters import kob_andersen_radial
    from ssefeat.features.structure_functions import structure_functions
    from ssefeat.md import inherent_structures
    from ssefeat.softness import SoftnessModel

    from ssefeat.errors import DomainWarning

    with pytest.warns(DomainWarning, match="no training domain"):  # not regenerated (3.5 h): its card says so
        model = SoftnessModel.load(MODELS / "kob_andersen_A_phop.json")
    assert "No training domain" in (MODELS / "kob_andersen_A_phop.md").read_text()
    params = kob_andersen_radial()
    assert model.provenance_["feature_parameter_fingerprint"] == params.fingerprint
    assert model.provenance_["features_of"].startswith("inherent structures")
    feats = structure_functions(inherent_structures(_ka_configuration(), system="kob_andersen"), params)
    model.check_features(feats)  # raises if the signature differs
    S = model.apply(feats)
    assert S.shape == (1, 400) and np.isfinite(S.values).all()
    # a liquid configuration holds both soft and hard particles
    assert 0.05 < float((S.values > 0).mean()) < 0.95
    # the file is small, plain JSON, and its card exists
    path = MODELS / "kob_andersen_A_phop.json"
    assert path.stat().st_size < 1_000_000 and json.loads(path.read_text())["format"] == "ssefeat-softness-model"
    assert (MODELS / "kob_andersen_A_phop.md").exists()
    # the stored metrics are what the card reports: the issue-6 target (>= 0.80 on held-out frame blocks and on
    # held-out runs, at T <= 0.6), the permuted-label controls at chance, P_R(S) over two decades
    assert model.provenance_["temperature_train"] <= 0.6
    assert model.metrics_["test"]["balanced_accuracy"] >= 0.8
    assert model.metrics_["run_holdout"]["balanced_accuracy"] >= 0.8
    assert abs(model.metrics_["permuted_control"]["balanced_accuracy"] - 0.5) < 0.1
    assert abs(model.metrics_["run_holdout"]["permuted_control"]["balanced_accuracy"] - 0.5) < 0.1
    pr = model.metrics_["P_R"][str(model.provenance_["temperature_train"])]
    assert pr["decades"] >= 2.0 and pr["monotone_within_errors"]


def test_lips_glass_model_loads_matches_parameters_and_applies():
    from ssefeat.features.parameters import li_sulfide
    from ssefeat.features.structure_functions import structure_functions
    from ssefeat.errors import DomainWarning
    from ssefeat.softness import SoftnessModel

    path = MODELS / "lips_glass_Li_phop.json"
    if not path.exists():
        pytest.skip("lips_glass model not shipped")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DomainWarning)  # the file carries its training domain
        model = SoftnessModel.load(path)
    assert model.provenance_["feature_parameter_fingerprint"] == li_sulfide().fingerprint
    feats = structure_functions(_lips_configuration(), li_sulfide())
    model.check_features(feats)
    S = model.apply(feats, warn=False)
    assert S.shape == (1, 90) and np.isfinite(S.values).all()
    assert S["in_domain"].dtype == bool and S["in_domain"].shape == (1, 90)
    # the stored domain works: the training mean lies in it, a sample 100 training sds off on every feature not
    mean, scale = np.asarray(model.mean_), np.asarray(model.scale_)
    dist = model.domain_distance(np.stack([mean, mean + 100 * scale]))
    assert dist[0] == pytest.approx(0.0, abs=1e-9) and dist[1] > model.domain_["threshold"] > 0
    assert path.stat().st_size < 1_000_000 and (MODELS / "lips_glass_Li_phop.md").exists()


def test_lips_card_calls_a_link_only_where_ions_and_per_ion_averages_agree():
    lips = _script("train_lips_glass")
    samples = {"fraction_PS4": {"r": 0.02, "ci_ion_bootstrap": [-0.03, 0.08]},
               "fraction_P2S6": {"r": 0.07, "ci_ion_bootstrap": [0.02, 0.12]}}
    per_ion = {"fraction_PS4": {"r": 0.06, "ci_low": -0.16, "ci_high": 0.26},
               "fraction_P2S6": {"r": 0.23, "ci_low": 0.03, "ci_high": 0.42}}
    text = lips.link_verdict(samples, per_ion)
    assert text.startswith("**Weak links") and "fraction_P2S6 +0.07 per sample, +0.23 per ion" in text
    assert "fraction_PS4" not in text.split("The thesis")[0] and "opposite to the thesis" in text
    per_ion["fraction_P2S6"]["ci_low"] = -0.01  # the per-ion interval includes 0: no link is claimed
    assert lips.link_verdict(samples, per_ion).startswith("**No link")


def test_shipped_model_refuses_other_features():
    from ssefeat.errors import ModelFileError
    from ssefeat.features.parameters import kob_andersen
    from ssefeat.features.structure_functions import structure_functions
    from ssefeat.softness import SoftnessModel

    model = SoftnessModel.load(MODELS / "kob_andersen_A_phop.json")
    feats = structure_functions(_ka_configuration(n_atoms=500), kob_andersen())  # with the angular part
    with pytest.raises(ModelFileError, match="parameter set"):
        model.apply(feats)


# ------------------------------------------------------------------------------------------------------------------
# (b) fast end to end: small KA run -> p_hop -> softness, clearly above chance; permuted labels at chance
# ------------------------------------------------------------------------------------------------------------------
def test_small_kob_andersen_run_learns_softness_above_chance():
    """N = 500, T = 0.8 (tau_alpha ~ 2.6 tau), 20 tau equilibration (~8 tau_alpha), 60 tau production, p_hop with
    t_R = 2 tau, quiet window +-1.5 tau (~tau_alpha / 2), features every 0.4 tau: ~30 s of CPU.

    Measured held-out balanced accuracy (seeds 2, 3 of this recipe): 0.697 (825 test samples), 0.710 (724); with
    80 tau and features every 0.2 tau (seed 1): 0.698 (1039). The bound 0.62 sits > 4 binomial standard errors
    below these; chance is 0.5. The permuted-label control is the mean over 5 shuffles.
    """
    report, timing = small_ka_softness(seed=2)
    test, control = report["test"], report["permuted_control"]
    assert test["n_samples"] >= 300
    assert test["balanced_accuracy"] > 0.62
    assert abs(control["balanced_accuracy"] - 0.5) < 0.1
    assert test["balanced_accuracy"] > control["balanced_accuracy"] + 0.1


# ------------------------------------------------------------------------------------------------------------------
# (c) full strength (slow): regenerate the shipped KA model from scratch
# ------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ka_full(tmp_path_factory):
    ka = _script("train_kob_andersen")
    out = tmp_path_factory.mktemp("ka_full")
    model, summary = ka.main(["--out", str(out)])
    return ka, out, model, summary


@pytest.mark.slow
def test_kob_andersen_from_scratch_reproduces_the_shipped_result(ka_full):
    """What the shipped recipe achieves (T = 0.5, measured: 0.908 on held-out frame blocks, 0.900 on held-out
    runs, 0.900 with every run held out once (per run 0.893-0.911), P_R over 2.20 decades with Spearman 0.996);
    the bounds leave room for the statistical spread of a fresh run (binomial standard errors ~0.008; ~3.5 h of
    CPU)."""
    ka, out, model, summary = ka_full
    assert ka.T_TRAIN <= 0.6
    assert summary["metrics_test"]["balanced_accuracy"] > 0.87
    assert summary["by_run"]["balanced_accuracy"] > 0.86
    assert summary["leave_one_run_out"]["balanced_accuracy"] > 0.86
    assert abs(summary["permuted_control"]["balanced_accuracy"] - 0.5) < 0.1
    assert abs(summary["by_run"]["permuted_control"]["balanced_accuracy"] - 0.5) < 0.1
    pr = summary["p_r"][str(ka.T_TRAIN)]
    assert pr["decades"] > 1.8 and pr["spearman"] > 0.9
    # the regenerated file loads; on the same machine and thread count it equals the shipped one (MD is chaotic,
    # so other CPUs may differ in round-off and give a statistically equivalent, not identical, model)
    from ssefeat.softness import SoftnessModel

    fresh = SoftnessModel.load(out / "kob_andersen_A_phop.json")
    shipped = SoftnessModel.load(MODELS / "kob_andersen_A_phop.json")
    assert fresh.feature_signature_ == shipped.feature_signature_


@pytest.mark.slow
def test_kob_andersen_issue_target(ka_full):
    """Issue 6: >= 80 % balanced accuracy on held-out frames at T <= 0.6 and P_R(S) rising over two decades."""
    ka, out, model, summary = ka_full
    assert ka.T_TRAIN <= 0.6
    assert summary["metrics_test"]["balanced_accuracy"] >= 0.8
    assert summary["by_run"]["balanced_accuracy"] >= 0.8
    pr = summary["p_r"][str(ka.T_TRAIN)]
    assert pr["decades"] >= 2.0 and pr["monotone_within_errors"]
