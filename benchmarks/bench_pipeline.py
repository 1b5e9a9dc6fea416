"""The pipeline's per-frame stage (features + cluster environments + polyhedra) serial vs a local dask cluster.

Makes a synthetic Li-P-S trajectory (examples/_synthetic.py: rigid anions, hopping Li), writes it, then times
``Pipeline.features`` once serially and once on ``--workers`` dask workers (one thread each) in one process. Both
include the whole stage: the one-frame probe, computing every chunk and writing it into the zarr stage store (the
workers write their own regions), consolidating and renaming. Checks that the two stores are identical to the
last bit (compared chunk by chunk) and prints the load average with every timing and

    RESULT pipeline_features_dask<N> <dask_s> <serial_s> <serial/dask> notes

(the "peer" column here is the serial run: a ratio above 1 means the cluster is faster). Usage:
``python benchmarks/bench_pipeline.py [--grid 4] [--frames 200] [--workers 2] [--quick | --large]``;
``--large`` is grid 7 (4360 atoms, 1993 Li) x 200 frames, ~0.3 GB of features: a trajectory large enough for
the cluster's start-up and scheduling to be small against the work. On a shared machine run it when the load
average is low (it is printed) and compare the ratio, not the times.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=4, help="anion slots per box edge (grid^3 anions)")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=25, help="frames per chunk")
    ap.add_argument("--quick", action="store_true", help="grid 3, 60 frames")
    ap.add_argument("--large", action="store_true", help="grid 7 (4360 atoms, 1993 Li), 200 frames")
    ap.add_argument("--dir", default=None, help="work folder (default: a temporary one, removed at the end)")
    args = ap.parse_args(argv)
    if args.quick:
        args.grid, args.frames = 3, 60
    if args.large:
        args.grid, args.frames = 7, 200

    import ssefeat
    from _synthetic import lips_hopping
    from ssefeat.config import load_config
    from ssefeat.pipeline import Pipeline

    tmp = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ssefeat-bench-pipeline-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        traj = tmp / f"traj_g{args.grid}_f{args.frames}.nc"
        if not traj.exists():  # generating the large case takes minutes: reuse it with --dir
            ds = lips_hopping(n_frames=args.frames, grid=args.grid, seed=0)
            ssefeat.io.write(ssefeat.wrap(ds), traj)
        ds = ssefeat.io.read(traj, stop=1)
        n_li = int((ds["species"].values == "Li").sum())
        print(f"trajectory: {ds.sizes['atom']} atoms ({n_li} Li), {args.frames} frames, "
              f"chunks of {args.chunk} frames; {os.cpu_count()} cores", flush=True)
        for label in ("serial", "dask"):
            shutil.rmtree(tmp / label, ignore_errors=True)
        # numba compiles (and caches on disk) on first use: do it here, so neither timing includes compilation
        from ssefeat.pipeline.features import cluster_types_of, features_chunk

        warm = load_config({"trajectory": {"files": [str(traj)], "temperatures": [600.0]},
                            "features": {"descriptors": True}})
        warm["features"]["cluster_types"] = cluster_types_of(str(traj), warm)
        features_chunk(str(traj), 0, 1, warm)
        results, times, loads = {}, {}, {}
        for label, workers in (("serial", 0), ("dask", args.workers)):
            cfg = load_config({"trajectory": {"files": [str(traj)], "temperatures": [600.0]},
                               "features": {"descriptors": True},
                               "execution": {"workers": workers, "chunk_frames": args.chunk},
                               "output": {"folder": str(tmp / label)}})
            pipe = Pipeline(cfg, progress=False)
            pipe.stage_dir.mkdir(parents=True)
            paths = pipe.trajectories()
            if workers:
                pipe.client()  # start the cluster outside the timing (it is reused across stages in a run)
            before = os.getloadavg()[0]
            t0 = time.perf_counter()
            results[label] = pipe.features(0, paths[0])
            times[label] = time.perf_counter() - t0
            loads[label] = (before, os.getloadavg()[0])
            pipe.close()
            print(f"{label:>6s}: {times[label]:.2f} s  (1-min load average {before:.2f} before, "
                  f"{loads[label][1]:.2f} after)", flush=True)
        a, b = results["serial"], results["dask"]
        same = set(a.variables) == set(b.variables)
        for v in a.variables:  # chunk by chunk: the stores may be larger than memory; NaN == NaN
            nan = a[v].dtype.kind == "f"
            if "frame" not in a[v].dims:
                same &= np.array_equal(a[v].values, b[v].values, equal_nan=nan)
                continue
            for f0 in range(0, a.sizes["frame"], args.chunk):
                sl = {"frame": slice(f0, f0 + args.chunk)}
                same &= np.array_equal(a[v].isel(sl).values, b[v].isel(sl).values, equal_nan=nan)
        ratio = times["serial"] / times["dask"]
        size = a["features"].nbytes / 1e9
        print(f"RESULT pipeline_features_dask{args.workers} {times['dask']:.3f} {times['serial']:.3f} {ratio:.2f} "
              f"identical={same}; {ds.sizes['atom']} atoms x {args.frames} frames ({size:.2f} GB of features), "
              f"load {loads['serial'][0]:.1f}/{loads['dask'][0]:.1f}; ratio = serial / dask (> 1: the cluster "
              "is faster)")
        if not same:
            raise SystemExit("dask and serial results differ")
    finally:
        if not args.dir:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
