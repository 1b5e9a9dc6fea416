"""Pre-registered choice of the p_hop window t_R for the KA softness model (reads the cache; no MD, no quenches).

    python models/explore_kob_andersen_t_r.py --cache DIR   # DIR: the cache of train_kob_andersen.py

Protocol, fixed before any of its numbers were seen (second session, after the shipped model's 0.787):

1. Candidates t_R in {2, 4, 8} tau (half windows 1, 2, 4 tau). For each, p_hop of the A particles from the cached
   full-resolution positions of the six T = 0.6 runs (ssefeat.dynamics.phop), reduced to the feature frames with
   labels_at_frames(..., reduce="max"). Thresholds per t_R from the pooled full-resolution p_hop of runs 0-3 only:
   r_cut = its 99.87th percentile, nr_cut = its 90th percentile. Quiet window +-7.5 tau; features unchanged (the
   cached inherent-structure features, kob_andersen_radial()).
2. Selection on runs 0-3 only: leave-one-run-out (train_softness(groups=run, test_groups=[run k]) on runs 0-3,
   logistic regression, C by grouped CV as in train_kob_andersen.py), mean balanced accuracy over the 4 folds.
   Choose the t_R with the highest mean (ties -> the smaller t_R).
3. Untouched test: train with the chosen t_R on every balanced sample of runs 0-3 (C by CV over frame blocks), test
   on all balanced samples of runs 4 and 5 (never used in 1-2); the same for t_R = 2 tau (the reference of the
   decision rule), and, for information, t_R = 2 tau with the shipped fixed thresholds (0.2 / 0.05 sigma^2).
   Permuted-label control on runs 4-5 (10 shuffles). For comparability with the card: the chosen t_R through
   train_kob_andersen.train over all six runs (held-out frame blocks, held-out runs, every run once, its
   permuted-label control of 10 shuffles) and P_R(S) at T = 0.6 (decades, monotonicity).
4. Decision rule: regenerate the shipped model with the chosen t_R only if it is not 2 tau and its untouched-test
   balanced accuracy exceeds that of t_R = 2 tau on runs 4-5. This script only prints the numbers and the decision.
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

T_RS = (2.0, 4.0, 8.0)
PCT_R, PCT_NR = 99.87, 90.0
SELECT_RUNS, TEST_RUNS = (0, 1, 2, 3), (4, 5)


def future_max_at(ph, frames):
    """Largest full-resolution p_hop over [t, t + t_R] at the feature frames (as train_kob_andersen.py)."""
    from ssefeat.softness import future_max

    fut = future_max(ph, 2 * int(ph.attrs["half_window_frames"]))
    return fut.isel(frame=np.searchsorted(ph["frame"].values, frames))


def main(argv=None):
    import train_kob_andersen as tk  # the recipe's constants and cached runs
    from ssefeat.dynamics.phop import phop
    from ssefeat.softness import (SoftnessModel, combine_runs, labels_at_frames, p_r_trend, quiet_window,
                                  select_training_set, train_softness, train_with_holdouts)

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the --cache directory of train_kob_andersen.py")
    ap.add_argument("--seed", type=int, default=tk.SEED)
    args = ap.parse_args(argv)
    T, seed = tk.PREVIOUS_T_TRAIN, args.seed
    out = {"protocol": {"t_R": T_RS, "r_cut_percentile": PCT_R, "nr_cut_percentile": PCT_NR,
                        "quiet_tau": tk.PREVIOUS_QUIET_TAU, "select_runs": SELECT_RUNS, "test_runs": TEST_RUNS}}

    # ---- labels for every run and t_R -----------------------------------------------------------------------------
    feats, lab, fut, pooled, check = [], {t: [] for t in T_RS}, {t: [] for t in T_RS}, {t: [] for t in T_RS}, []
    for r in range(tk.REPLICAS[T]):
        _, ph_cached, _, f, _ = tk.replica_data(T, r, seed=seed, cache=args.cache)
        ds, _ = tk.simulate(T, equilibrate_tau=tk.EQUILIBRATE_TAU[T], production_tau=tk.PRODUCTION_TAU[T],
                            seed=seed, cache=args.cache, replica=r)
        feats.append(f)
        for t in T_RS:
            ph = phop(ds, t_R=t, species="A")["phop"]
            lab[t].append(labels_at_frames(ph, f["frame"].values, reduce="max"))
            fut[t].append(future_max_at(ph, f["frame"].values))
            if r in SELECT_RUNS:
                v = ph.values
                pooled[t].append(v[np.isfinite(v)])
            if t == tk.T_R_TAU:  # the cached labels of the shipped model must be reproduced exactly
                a, b = lab[t][-1].values, ph_cached.sel(frame=lab[t][-1]["frame"]).values
                check.append(bool(np.array_equal(np.isnan(a), np.isnan(b)) and
                                  np.allclose(a[np.isfinite(a)], b[np.isfinite(b)], rtol=0, atol=1e-12)))
        print(f"run {r}: labels done", flush=True)
    out["t_R2_labels_equal_cached"] = check
    cuts = {}
    for t in T_RS:
        v = np.concatenate(pooled[t])
        cuts[t] = {"r_cut": float(np.percentile(v, PCT_R)), "nr_cut": float(np.percentile(v, PCT_NR)),
                   "median": float(np.median(v)), "n_values": int(v.size),
                   "fraction_above_r_cut": float((v > np.percentile(v, PCT_R)).mean())}
    out["thresholds_runs_0_3"] = cuts
    print("thresholds", json.dumps(tk._clean(cuts)), flush=True)

    def combo(t, runs):
        f, ph, g = combine_runs([feats[r] for r in runs], [lab[t][r] for r in runs])
        return f, ph, combine_runs([feats[r] for r in runs], [fut[t][r] for r in runs])[1], g

    step = float(np.median(np.diff(feats[0]["time"].values)))
    window = quiet_window(step, tk.PREVIOUS_QUIET_TAU)
    out["window_frames"] = window

    # ---- step 2: leave-one-run-out over runs 0-3 ----------------------------------------------------------------
    sel = {}
    for t in T_RS:
        f, ph, _, g = combo(t, SELECT_RUNS)
        folds = {}
        for k in range(len(SELECT_RUNS)):
            m, rep = train_softness(f, ph, r_cut=cuts[t]["r_cut"], nr_cut=cuts[t]["nr_cut"], window=window,
                                    species="A", n_blocks=10, test_fraction=0.3, seed=seed, groups=g,
                                    test_groups=[f"run{k}"])
            folds[f"run{SELECT_RUNS[k]}"] = {"balanced_accuracy": rep["test"]["balanced_accuracy"], "C": m.C_,
                                             "n_train": m.provenance_["n_train"], "n_test": m.provenance_["n_test"],
                                             "train_balanced_accuracy": rep["train"]["balanced_accuracy"]}
        ts = rep["training_set"]
        sel[t] = {"mean_balanced_accuracy": float(np.mean([v["balanced_accuracy"] for v in folds.values()])),
                  "folds": folds, "n_rearranging_available": ts.info["n_rearranging_available"],
                  "n_nonrearranging_available": ts.info["n_nonrearranging_available"]}
        print(f"t_R = {t:g}: leave-one-run-out over runs 0-3", json.dumps(tk._clean(sel[t])), flush=True)
    out["selection"] = sel
    best = max(sel[t]["mean_balanced_accuracy"] for t in T_RS)
    chosen = min(t for t in T_RS if sel[t]["mean_balanced_accuracy"] == best)
    out["chosen_t_R"] = chosen
    print("chosen t_R", chosen, flush=True)

    # ---- step 3: untouched test on runs 4-5 ---------------------------------------------------------------------
    def untouched(t, r_cut, nr_cut, n_shuffles=10):
        f, ph, _, _ = combo(t, SELECT_RUNS)
        ts = select_training_set(f, ph, r_cut, nr_cut, window=window, species="A", seed=seed)
        model = SoftnessModel(random_state=seed).fit(ts.X, ts.y, groups=ts.block, feature_names=ts.feature_names)
        f2, ph2, _, _ = combo(t, TEST_RUNS)
        tt = select_training_set(f2, ph2, r_cut, nr_cut, window=window, species="A", seed=seed)
        rng = np.random.default_rng(seed + 1)
        ctrl = [SoftnessModel(C=model.C_).fit(ts.X, rng.permutation(ts.y)).metrics(tt.X, tt.y)["balanced_accuracy"]
                for _ in range(n_shuffles)]
        met = model.metrics(tt.X, tt.y)
        return {"balanced_accuracy": met["balanced_accuracy"], "accuracy": met["accuracy"],
                "p_soft_given_rearranging": met.get("p_soft_given_rearranging"),
                "confusion_matrix": met["confusion_matrix"], "C": model.C_, "n_train": int(len(ts.y)),
                "n_test": int(len(tt.y)), "train_balanced_accuracy": model.metrics(ts.X, ts.y)["balanced_accuracy"],
                "permuted_control_mean": float(np.mean(ctrl)), "permuted_control_each": ctrl}

    test = {f"t_R={chosen:g} (chosen)": untouched(chosen, cuts[chosen]["r_cut"], cuts[chosen]["nr_cut"])}
    if chosen != 2.0:
        test["t_R=2 (percentile rule)"] = untouched(2.0, cuts[2.0]["r_cut"], cuts[2.0]["nr_cut"])
    test["t_R=2, shipped thresholds 0.2 / 0.05 (information)"] = untouched(2.0, tk.R_CUT, tk.NR_CUT)
    for k, v in test.items():
        print("untouched test runs 4-5:", k, json.dumps(tk._clean(v)), flush=True)
    out["untouched_test_runs_4_5"] = test

    # comparability with the card: the chosen t_R through the training script's splits over all six runs
    allruns = tuple(range(tk.REPLICAS[T]))
    f, ph, fm, g = combo(chosen, allruns)
    model, rep = train_with_holdouts(f, ph, quiet_tau=tk.PREVIOUS_QUIET_TAU, seed=seed, r_cut=cuts[chosen]["r_cut"],
                                     nr_cut=cuts[chosen]["nr_cut"], species="A", groups=g, n_shuffles=10)
    S = model.apply(f)
    lo, hi = np.nanpercentile(S.values, [0.5, 99.5])
    pr = tk.p_r_curve(S, fm, s_range=(float(lo), float(hi)), r_cut=cuts[chosen]["r_cut"])
    card = {"frame_blocks": rep["test"]["balanced_accuracy"],
            "frame_blocks_n_test": int(np.sum(rep["test"]["confusion_matrix"])),
            "train": rep["train"]["balanced_accuracy"], "C": model.C_,
            "permuted_control": rep["permuted_control"]["balanced_accuracy"],
            "permuted_control_each": rep["permuted_control"]["balanced_accuracy_each"],
            "held_out_runs": rep["by_run"]["balanced_accuracy"], "held_out_runs_names": rep["by_run"]["test_runs"],
            "held_out_runs_permuted_control": rep["by_run"]["permuted_control"]["balanced_accuracy"],
            "every_run_once": rep["leave_one_run_out"]["balanced_accuracy"],
            "every_run_once_each": rep["leave_one_run_out"]["balanced_accuracy_each"],
            "P_R": {**p_r_trend(pr), "S": pr["S"].values, "P_R": pr["P_R"].values}}
    print(f"t_R = {chosen:g} with the training script's splits over all six runs", json.dumps(tk._clean(card)),
          flush=True)
    out["chosen_card_metrics_all_runs"] = card

    # ---- step 4: the decision -------------------------------------------------------------------------------------
    ref = test.get("t_R=2 (percentile rule)", test[f"t_R={chosen:g} (chosen)"])["balanced_accuracy"]
    regenerate = chosen != 2.0 and test[f"t_R={chosen:g} (chosen)"]["balanced_accuracy"] > ref
    out["decision"] = "regenerate the shipped model with t_R = %g tau" % chosen if regenerate else \
        "keep the shipped model (t_R = 2 tau)"
    print("decision:", out["decision"], flush=True)
    print(json.dumps(tk._clean(out), indent=1))
    return out


if __name__ == "__main__":
    main()
