"""The pipeline's per-frame stage (features + cluster environments + polyhedra) serial vs a local dask cluster.

Makes a synthetic Li-P-S trajectory (examples/_synthetic.py: rigid anions, hopping Li), writes it, then times
``Pipeline.features`` once serially and once on ``--workers`` dask workers (one thread each) in one process,
checks that the two results are identical to the last bit and prints

    RESULT pipeline_features_dask<N> <serial_s> <dask_s> <serial/dask> notes

(the "peer" column here is the serial run: a ratio above 1 means the cluster is faster). Usage:
``python benchmarks/bench_pipeline.py [--grid 4] [--frames 200] [--workers 2] [--quick]``.
"""
from __future__ import annotations

import argparse
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
    args = ap.parse_args(argv)
    if args.quick:
        args.grid, args.frames = 3, 60

    import ssefeat
    from _synthetic import lips_hopping
    from ssefeat.config import load_config
    from ssefeat.pipeline import Pipeline

    tmp = Path(tempfile.mkdtemp(prefix="ssefeat-bench-pipeline-"))
    try:
        ds = lips_hopping(n_frames=args.frames, grid=args.grid, seed=0)
        traj = tmp / "traj.nc"
        ssefeat.io.write(ssefeat.wrap(ds), traj)
        n_li = int((ds["species"].values == "Li").sum())
        print(f"trajectory: {ds.sizes['atom']} atoms ({n_li} Li), {ds.sizes['frame']} frames, "
              f"chunks of {args.chunk} frames")
        results, times = {}, {}
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
            t0 = time.perf_counter()
            results[label] = pipe.features(0, paths[0])
            times[label] = time.perf_counter() - t0
            pipe.close()
            print(f"{label:>6s}: {times[label]:.2f} s")
        a, b = results["serial"], results["dask"]
        same = all(np.array_equal(a[v].values, b[v].values) for v in a.data_vars)
        ratio = times["serial"] / times["dask"]
        print(f"RESULT pipeline_features_dask{args.workers} {times['dask']:.3f} {times['serial']:.3f} {ratio:.2f} "
              f"identical={same}; ratio = serial / dask (> 1: the cluster is faster)")
        if not same:
            raise SystemExit("dask and serial results differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
