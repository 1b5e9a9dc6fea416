"""Exploratory check (not a shipped model): would richer structure functions raise the KA softness accuracy?

    python models/explore_kob_andersen_features.py --cache DIR   # DIR: the cache of train_kob_andersen.py

On the PREVIOUS_T_TRAIN (T = 0.6) runs of ``train_kob_andersen.py`` (same runs, labels, feature frames, splits and training code), with
features of the *thermal* frames (no quenches, so it is cheap), compare the radial set of the shipped model with
(a) the full ``kob_andersen()`` set (radial + angular terms) and (b) radial shells out to 4.5 sigma (cutoff
4.6 sigma, below half the N = 1000 box). Prints the balanced accuracy on held-out frame blocks, on held-out runs,
with every run held out once, and on the training set. Run after the shipped model's numbers were known: its
result informs the next steps in the model card and changes nothing in the model.
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None):
    import train_kob_andersen as tk  # the recipe's constants and cached runs
    from ssefeat.features.parameters import kob_andersen, kob_andersen_radial
    from ssefeat.features.structure_functions import structure_functions
    from ssefeat.softness import combine_runs, train_with_holdouts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="the --cache directory of train_kob_andersen.py")
    ap.add_argument("--seed", type=int, default=tk.SEED)
    args = ap.parse_args(argv)
    T = tk.PREVIOUS_T_TRAIN
    sets = {"radial to 3.0 sigma (shipped set)": kob_andersen_radial(),
            "radial + angular (kob_andersen())": kob_andersen(),
            "radial to 4.5 sigma": kob_andersen_radial().replace(mu=np.round(np.arange(0.1, 4.501, 0.1), 10),
                                                                 radial_cutoff=4.6)}
    labels, feats = [], {k: [] for k in sets}
    for r in range(tk.REPLICAS[T]):
        _, ph, _, _, f_th = tk.replica_data(T, r, seed=args.seed, cache=args.cache)
        ds, _ = tk.simulate(T, equilibrate_tau=tk.EQUILIBRATE_TAU[T], production_tau=tk.PRODUCTION_TAU[T],
                            seed=args.seed, cache=args.cache, replica=r)
        pos = np.searchsorted(ds["frame"].values, f_th["frame"].values)
        labels.append(ph)
        for k, p in sets.items():
            feats[k].append(structure_functions(ds, p, frames=pos, n_threads=1))
    out = {}
    for k in sets:
        f, ph, groups = combine_runs(feats[k], labels)
        model, rep = train_with_holdouts(f, ph, quiet_tau=tk.PREVIOUS_QUIET_TAU, r_cut=tk.R_CUT, nr_cut=tk.NR_CUT,
                                         species="A", seed=args.seed, groups=groups, n_shuffles=2)
        out[k] = {"n_features": int(f.sizes["feature"]), "C": model.C_,
                  "frame_blocks": rep["test"]["balanced_accuracy"], "runs": rep["by_run"]["balanced_accuracy"],
                  "every_run_once": rep["leave_one_run_out"]["balanced_accuracy"],
                  "train": rep["train"]["balanced_accuracy"]}
        print(k, json.dumps({a: (round(b, 3) if isinstance(b, float) else b) for a, b in out[k].items()}), flush=True)
    return out


if __name__ == "__main__":
    main()
