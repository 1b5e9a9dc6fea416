"""models/train_kob_andersen.py before and after the protocol moved into ssefeat.softness.protocol write the same
model file and card, on a reduced recipe (N = 500, T = 0.8 for training with 2 runs and T = 0.9 for transfer / the
Arrhenius fit, 20 tau of production each; ~5-10 min of CPU).

    PYTHONPATH=. python benchmarks/check_ka_scripts_identical.py [--rev 16d1f1c] [--work DIR]

The old script runs on the old ssefeat/softness.py (both read from git at --rev), the new one on the working tree.
Both see the same MD trajectories (the old run's cached trajectories are copied for the new one, so features,
quenches and labels are recomputed by each). Wall-clock times are the only fields allowed to differ (the card's
"min wall" line and ``wall_s_*`` of the model's provenance); everything else must be byte-identical.
"""
from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
REDUCED = {"N_ATOMS": 500, "TEMPERATURES": (0.8, 0.9), "T_TRAIN": 0.8, "EQUILIBRATE_TAU": {0.8: 5.0, 0.9: 5.0},
           "REPLICAS": {0.8: 2, 0.9: 1}, "PRODUCTION_TAU": {0.8: 20.0, 0.9: 20.0},
           "FEATURE_STRIDE": {0.8: 20, 0.9: 20}, "PREVIOUS_QUIET_TAU": 1.0}


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def reduced(script):
    for k, v in REDUCED.items():
        setattr(script, k, v)
    script.simulate = functools.partial(script.simulate, n_atoms=REDUCED["N_ATOMS"])
    return script


def without_wall_times(x):
    if isinstance(x, dict):
        return {k: without_wall_times(v) for k, v in x.items() if not k.startswith("wall_s")}
    if isinstance(x, list):
        return [without_wall_times(v) for v in x]
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", default="16d1f1c", help="the commit before the move")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="ka_scripts_"))
    for part in ("ssefeat/softness.py", "models/train_kob_andersen.py"):
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.rev}:{part}"], check=True,
                              capture_output=True, text=True).stdout
        (work / part.replace("/", "_")).write_text(text)
    old_softness = load("ssefeat._softness_at_rev", work / "ssefeat_softness.py")
    old = reduced(load("train_kob_andersen_at_rev", work / "models_train_kob_andersen.py"))
    sys.path.insert(0, str(ROOT / "models"))
    new = reduced(load("train_kob_andersen", ROOT / "models" / "train_kob_andersen.py"))

    import ssefeat.softness as new_softness

    sys.modules["ssefeat.softness"] = old_softness  # the old script imports ssefeat.softness inside its functions
    try:
        old.main(["--cache", str(work / "cache_old"), "--out", str(work / "old")])
    finally:
        sys.modules["ssefeat.softness"] = new_softness
    (work / "cache_new").mkdir(exist_ok=True)
    for f in (work / "cache_old").glob("ka_N*.npz"):  # the same trajectories, nothing else
        shutil.copy(f, work / "cache_new" / f.name)
    new.main(["--cache", str(work / "cache_new"), "--out", str(work / "new")])

    name = old.MODEL_NAME
    docs = [json.loads((work / d / f"{name}.json").read_text()) for d in ("old", "new")]
    models = [json.dumps(without_wall_times(d["model"]), sort_keys=True) for d in docs]
    cards = [[line for line in (work / d / f"{name}.md").read_text().splitlines() if "min wall" not in line]
             for d in ("old", "new")]
    same_model, same_card = models[0] == models[1], cards[0] == cards[1]
    print(json.dumps({"work": str(work), "model_identical_but_wall_times": same_model,
                      "card_identical_but_wall_times": same_card,
                      "balanced_accuracy": docs[1]["model"]["metrics"]["test"]["balanced_accuracy"],
                      "by_run": docs[1]["model"]["metrics"]["run_holdout"]["balanced_accuracy"]}, indent=1))
    if not (same_model and same_card):
        sys.exit(1)


if __name__ == "__main__":
    main()
