"""Exploratory check (not a shipped model): does training at T = 0.55 do better than the shipped T = 0.6 model?

    python models/explore_kob_andersen_t055.py --cache DIR   # DIR: the cache of train_kob_andersen.py

Protocol, written down before runs 2 and 3 at T = 0.55 existed: train at T = 0.55 on runs 0 and 1 with the recipe of
``train_kob_andersen.py`` (inherent-structure features every 2 tau, r_cut, nr_cut and t_R unchanged, quiet window
tau_alpha(0.55) / 2 of those runs, C by CV over frame blocks, then refit on every sample of runs 0-1), and test once
on the fresh runs 2 and 3 (all balanced labelled samples), next to the shipped T = 0.6 model on the same samples,
with a permuted-label control and P_R(S) on the fresh runs. Prints the numbers; changes nothing in the shipped model.
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


def main(argv=None):
    import train_kob_andersen as tk  # the recipe's constants and cached runs
    from ssefeat.softness import (SoftnessModel, combine_runs, p_r_trend, quiet_window, select_training_set,
                                  train_with_holdouts)

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the --cache directory of train_kob_andersen.py")
    ap.add_argument("--seed", type=int, default=tk.SEED)
    args = ap.parse_args(argv)
    T = 0.55
    parts = {r: tk.replica_data(T, r, seed=args.seed, cache=args.cache) for r in range(4)}
    tau = {r: parts[r][0]["relaxation"]["tau_alpha"] for r in parts}
    quiet = 0.5 * float(np.mean([tau[0], tau[1]]))
    train_runs, test_runs = [parts[r] for r in (0, 1)], [parts[r] for r in (2, 3)]
    f_tr, ph_tr, g_tr = combine_runs([p[3] for p in train_runs], [p[1] for p in train_runs])
    f_te, ph_te, _ = combine_runs([p[3] for p in test_runs], [p[1] for p in test_runs])
    fut_te = combine_runs([p[3] for p in test_runs], [p[2] for p in test_runs])[1]
    model, rep = train_with_holdouts(f_tr, ph_tr, quiet_tau=quiet, r_cut=tk.R_CUT, nr_cut=tk.NR_CUT, species="A",
                                     seed=args.seed, groups=g_tr, n_shuffles=5)
    w = quiet_window(float(np.median(np.diff(f_tr["time"].values))), quiet)
    ts = select_training_set(f_tr, ph_tr, tk.R_CUT, tk.NR_CUT, window=w, species="A", seed=args.seed)
    final = SoftnessModel(C=model.C_).fit(ts.X, ts.y)
    final.feature_signature_ = ts.signature
    tt = select_training_set(f_te, ph_te, tk.R_CUT, tk.NR_CUT, window=w, species="A", seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    control = [SoftnessModel(C=model.C_).fit(ts.X, rng.permutation(ts.y)).metrics(tt.X, tt.y)["balanced_accuracy"]
               for _ in range(5)]
    shipped = SoftnessModel.load(HERE / "kob_andersen_A_phop.json")
    lo, hi = np.nanpercentile(final.apply(f_tr).values, [0.5, 99.5])
    pr = tk.p_r_curve(final.apply(f_te), fut_te, s_range=(float(lo), float(hi)))
    out = {"tau_alpha": tau, "quiet_tau": quiet, "C": model.C_,
           "frame_blocks_within_runs_0_1": rep["test"]["balanced_accuracy"],
           "train_balanced_accuracy": rep["train"]["balanced_accuracy"],
           "fresh_runs_2_3": final.metrics(tt.X, tt.y), "permuted_control_fresh": control,
           "shipped_T0.6_model_on_fresh_runs_2_3": shipped.metrics(tt.X, tt.y),
           "P_R_fresh": p_r_trend(pr)}
    print(json.dumps(tk._clean(out), indent=1))
    return out


if __name__ == "__main__":
    main()
