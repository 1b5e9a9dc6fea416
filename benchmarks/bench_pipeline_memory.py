"""Peak memory (RSS) of the pipeline stages after the features stage (labels, softness with P_R(S), correlate) at
two frame-chunk sizes: does peak memory follow ``execution.chunk_frames`` or the trajectory length?

Setup (once, not measured): a synthetic periodic trajectory made with :func:`ssefeat.make_trajectory` (40 % Li
on lattice random walks, P and S vibrating about fixed sites, 0.05 atoms / Å^3; :func:`make_system`) and its
features stage, with the ``li_li`` parameter set (Li-Li structure functions only: 51 radial + 8 angular) and
the per-atom descriptors (coordination, Voronoi volume, Steinhardt, local density: what correlate links softness
to). Then, for each chunk size, a fresh subprocess takes the trajectory and features stores (hard links) and runs
labels (p_hop), softness (training with C = 1, then apply + P_R(S), measured apart; P_R(S), the stage's finalize,
also on its own) and correlate (per-ion sums for the bootstrap, LASSO on at most 2x10^5 samples), resetting the
kernel's peak-RSS counter (``/proc/self/clear_refs``) before each part and reading ``VmHWM`` after it. Prints, per
part, the peak RSS in MB (of the whole process: imports and open stores included) at each chunk size, their ratio,
and the size of one (frame, Li atom) float64 array for scale, and

    RESULT pipeline_memory_<stage> <peak_MB at small chunk> <peak_MB at large chunk> <large/small> notes

Usage: ``python benchmarks/bench_pipeline_memory.py [--atoms 4000] [--frames 1000] [--chunks 50 400]
[--large] [--dir D]``; ``--large`` is the issue's 10^4 atoms x 2000 frames (its setup takes several minutes).
Linux only (``/proc``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STAGES = ("labels", "softness training", "softness apply+P_R", "P_R(S)", "correlate")


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS (Linux >= 4.0)


def make_system(n_atoms: int, n_frames: int, seed: int = 0):
    """Atoms on the sites of a cubic grid with twice as many sites as atoms (0.05 atoms / Å^3): P and S vibrate
    about theirs (0.1 Å), Li too (0.15 Å) and hop to a free neighbouring site with probability 0.02 per frame
    (a lattice random walk; no two atoms ever share a site). Positions in Å."""
    import ssefeat

    rng = np.random.default_rng(seed)
    n_li, n_p = int(0.4 * n_atoms), int(0.1 * n_atoms)
    species = np.array(["Li"] * n_li + ["P"] * n_p + ["S"] * (n_atoms - n_li - n_p))
    box = (n_atoms / 0.05) ** (1 / 3)
    m = int(np.ceil((2 * n_atoms) ** (1 / 3)))
    grid = np.stack(np.unravel_index(np.arange(m**3), (m, m, m)), axis=1)
    site = rng.permutation(m**3)[:n_atoms]
    free = np.ones(m**3, dtype=bool)
    free[site] = False
    steps = np.concatenate([np.eye(3, dtype=int), -np.eye(3, dtype=int)])
    amp = np.where(np.arange(n_atoms) < n_li, 0.15, 0.1)[:, None]
    pos = np.empty((n_frames, n_atoms, 3))
    for t in range(n_frames):
        for i in np.flatnonzero(rng.random(n_li) < 0.02):  # ~1 % of the atoms per frame: a short loop
            to = np.ravel_multi_index(tuple((grid[site[i]] + steps[rng.integers(6)]) % m), (m, m, m))
            if free[to]:
                free[site[i]], free[to], site[i] = True, False, to
        pos[t] = (grid[site] + 0.5) * (box / m) + rng.normal(0.0, 1.0, (n_atoms, 3)) * amp
    return ssefeat.wrap(ssefeat.make_trajectory(pos % box, species, cell=np.eye(3) * box, timestep_ps=0.1))


def config(traj: Path, out: Path, chunk: int) -> dict:
    from ssefeat.config import load_config

    return load_config({"trajectory": {"files": [str(traj)], "temperatures": [600.0]},
                        "features": {"parameters": "li_li", "descriptors": True, "environment": False},
                        "labels": {"kind": "p_hop", "t_R_frames": 10},
                        "softness": {"C": 1.0, "horizon": 10}, "correlate": {"n_boot": 100},
                        "transport": {"enabled": False},
                        "execution": {"chunk_frames": chunk, "progress": False}, "output": {"folder": str(out)}})


def setup(work: Path, n_atoms: int, n_frames: int) -> tuple[Path, Path]:
    """The trajectory file and a results folder holding its trajectory and features stores."""
    import ssefeat
    from ssefeat.pipeline import Pipeline

    traj, base = work / f"traj_{n_atoms}x{n_frames}.nc", work / "base"
    if not traj.exists():
        t0 = time.perf_counter()
        ssefeat.io.write(make_system(n_atoms, n_frames), traj)
        print(f"setup: trajectory written in {time.perf_counter() - t0:.0f} s", flush=True)
    pipe = Pipeline(config(traj, base, 100), progress=False)
    pipe._make_folder()
    t0 = time.perf_counter()
    pipe.features(0, pipe.trajectories()[0])
    print(f"setup: trajectory + features stages in {time.perf_counter() - t0:.0f} s", flush=True)
    return traj, base


def child(traj: str, base: str, out: str, chunk: int) -> None:
    """Run labels, softness and correlate from ``base``'s stores with ``chunk`` frames per chunk; print JSON."""
    from ssefeat.pipeline import Pipeline
    from ssefeat.pipeline.softness import SoftnessStage, Training
    from ssefeat.pipeline.stage import run_stage

    out = Path(out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "stages").mkdir(parents=True)
    for store in Path(base, "stages").glob("*.zarr"):  # the trajectory and features stages, up to date
        shutil.copytree(store, out / "stages" / store.name, copy_function=os.link)
    pipe = Pipeline(config(Path(traj), out, chunk), progress=False)
    tr = pipe.trajectories()[0]
    feats = [pipe.features(0, tr)]
    rec = {"start_MB": _rss_mb("VmRSS")}
    _reset_peak()
    t0 = time.perf_counter()
    labels = [pipe.labels(0, tr)]
    rec["labels"] = (_rss_mb("VmHWM"), time.perf_counter() - t0)
    # the softness stage as Pipeline.softness runs it, in two parts: training, then apply + P_R(S)
    _reset_peak()
    t0 = time.perf_counter()
    training = Training(pipe, feats, labels)
    assert training.model is not None
    rec["softness training"] = (_rss_mb("VmHWM"), time.perf_counter() - t0)
    _reset_peak()
    t0 = time.perf_counter()
    rec["before_apply_MB"] = _rss_mb("VmRSS")
    stage = SoftnessStage(pipe, 0, features=feats[0], labels=labels[0], training=training)
    finalize = stage.finalize

    def measured_finalize(store):  # P_R(S) after the applied chunks: its own peak, above the RSS it starts at
        rec["P_R start_MB"], rec["apply_peak_MB"] = _rss_mb("VmRSS"), _rss_mb("VmHWM")
        _reset_peak()
        t1 = time.perf_counter()
        finalize(store)
        rec["P_R(S)"] = (_rss_mb("VmHWM"), time.perf_counter() - t1)

    stage.finalize = measured_finalize
    soft = [run_stage(pipe, stage)]
    rec["softness apply+P_R"] = (max(rec["apply_peak_MB"], _rss_mb("VmHWM")), time.perf_counter() - t0)
    rec["before_correlate_MB"] = _rss_mb("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    pipe.correlate(feats, soft)
    rec["correlate"] = (_rss_mb("VmHWM"), time.perf_counter() - t0)
    rec["n_li"] = int(soft[0].sizes["atom"])
    print("CHILD " + json.dumps(rec), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=4000)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--chunks", type=int, nargs=2, default=(50, 400))
    ap.add_argument("--large", action="store_true", help="10^4 atoms x 2000 frames (the issue's size)")
    ap.add_argument("--dir", default=None, help="work folder, kept (default: a temporary one, removed)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(*args.child[:3], int(args.child[3]))
    if args.large:
        args.atoms, args.frames = 10_000, 2000
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ssefeat-bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        traj, base = setup(work, args.atoms, args.frames)
        recs = {}
        for chunk in args.chunks:
            run = subprocess.run([sys.executable, __file__, "--child", str(traj), str(base),
                                  str(work / f"chunk{chunk}"), str(chunk)], capture_output=True, text=True)
            line = [x for x in run.stdout.splitlines() if x.startswith("CHILD ")]
            if run.returncode or not line:
                sys.exit(f"child (chunk {chunk}) failed:\n{run.stdout}\n{run.stderr}")
            recs[chunk] = json.loads(line[0][6:])
        a, b = args.chunks
        n_li = recs[a]["n_li"]
        whole = args.frames * n_li * 8 / 2**20
        print(f"trajectory: {args.atoms} atoms ({n_li} Li), {args.frames} frames; one (frame, Li atom) float64 "
              f"array = {whole:.1f} MB; RSS after imports and opening the stores: {recs[a]['start_MB']:.0f} / "
              f"{recs[b]['start_MB']:.0f} MB; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        print(f"RSS before softness apply: {recs[a]['before_apply_MB']:.0f} / {recs[b]['before_apply_MB']:.0f} MB; "
              f"before P_R(S) (the softness stage's finalize, within apply+P_R): {recs[a]['P_R start_MB']:.0f} / "
              f"{recs[b]['P_R start_MB']:.0f} MB; before correlate: {recs[a]['before_correlate_MB']:.0f} / "
              f"{recs[b]['before_correlate_MB']:.0f} MB")
        print(f"{'stage':<20} {'peak RSS MB, chunk ' + str(a):>22} {'chunk ' + str(b):>10} {'ratio':>7} "
              f"{'time s':>14}")
        for st in STAGES:
            (pa, ta), (pb, tb) = recs[a][st], recs[b][st]
            print(f"{st:<20} {pa:>22.0f} {pb:>10.0f} {pb / pa:>7.2f} {ta:>6.1f} / {tb:<6.1f}")
        for st in STAGES:
            pa, pb = recs[a][st][0], recs[b][st][0]
            key = st.replace(" ", "_").replace("+", "_").replace("(S)", "S")
            print(f"RESULT pipeline_memory_{key} {pa:.0f} {pb:.0f} {pb / pa:.2f} peak RSS MB at chunk_frames {a} "
                  f"vs {b}; {args.atoms} atoms x {args.frames} frames, (frame, Li) float64 = {whole:.0f} MB")
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
