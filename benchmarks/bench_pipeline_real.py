"""The whole ``ssefeat run`` on a Li7P3S11-like glass (2688 atoms: 128 PS4, 128 P2S7, 896 Li) x 200 frames, each
stage's time next to its floor measured in the same process.

The trajectory is made by ssefeat's own builder and MD engine (``ssefeat.md.simulate("lips_glass", counts=...)``:
random packing, FIRE, a short melt at 1200 K, quench to 600 K, anneal, then 200 frames 10 steps of 2 fs apart);
``--dir`` keeps it for the next run (building it takes ~5-10 min on a busy 2-core machine). Then the pipeline runs
in this process on that file (labels: D2min over 10 frames, cutoff 4 Å, so that OVITO is a floor), and prints

    stage        time (s)   floor (s)   ratio   floor
    features      ...        ...         ...    structure-function kernel alone, x frames
    softness      ...        ...         ...    one plain LogisticRegression fit on the same training set
    labels        ...        ...         ...    OVITO AtomicStrainModifier over the same frame pairs (if importable)

plus the total wall time, the peak RSS, the softness model's held-out balanced accuracy (its quality beside its
time), and ``RESULT`` lines (``ratio`` = floor / stage, so < 1 means the stage is slower than its floor, as
run_all.py expects). The floors: the structure-function kernel timed on 20 frames and
scaled to all frames; the LogisticRegression fit (lbfgs, C = 1, max_iter = 2000 so that it converges, one BLAS
thread, best of 5; the median and scikit-learn's default max_iter = 100, which stops unconverged here, printed beside
it) on the standardised training samples the softness stage used; OVITO on 10 frame pairs, scaled to the stage's pairs.

Usage: ``python benchmarks/bench_pipeline_real.py [--dir DIR] [--frames 200] [--chunk 25] [--quick]``.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

UNITS = {"PS4": 128, "P2S7": 128}  # Li7P3S11 = Li3PS4 + Li4P2S7: 2688 atoms with 896 Li


def build(path: Path, frames: int, units: dict, seed: int = 0) -> float:
    """The lips_glass trajectory (see the module docstring); returns the build time in s."""
    import ssefeat.md as md

    t = time.perf_counter()
    md.simulate("lips_glass", path, temperature=600.0, steps=10 * (frames - 1), dump_every=10, dt=0.002, seed=seed,
                counts=units, melt_temperature=1200.0, melt_ps=1.0, quench_rate=1000.0, anneal_ps=0.5,
                equilibrate_ps=0.5, compress_steps=2, compress_ps=0.05, progress=False)
    return time.perf_counter() - t


def sf_floor(path: Path, n_frames: int, sample: int = 20) -> float:
    """The structure-function kernel alone (li_sulfide, centre Li) on ``sample`` frames, scaled to n_frames (s)."""
    import importlib

    import ssefeat.io
    from ssefeat.features.parameters import resolve

    sf = importlib.import_module("ssefeat.features.structure_functions")
    ds = ssefeat.io.read(path, stop=sample)
    params = resolve(system="li_sulfide")
    sf.structure_functions(ds.isel(frame=[0]), params)  # compiled
    t = time.perf_counter()
    sf.structure_functions(ds, params)
    return (time.perf_counter() - t) / ds.sizes["frame"] * n_frames


def fit_floor(training_set, repeats: int = 5) -> dict:
    """One plain LogisticRegression fit (lbfgs, C = 1) on the standardised training samples (StandardScaler's
    standardisation: every sample the stage selected), ``repeats`` times each: converged (max_iter = 2000, the
    floor) and with scikit-learn's default max_iter = 100 (shown beside it: it stops before converging here).
    Returns best and median times (s) and the iterations of each."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    X, y = training_set.X, training_set.y
    scale = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    out = {}
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, max_iter in (("converged", 2000), ("default", 100)):
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fit = LogisticRegression(max_iter=max_iter).fit(Z, y)
                times.append(time.perf_counter() - t)
            out[name] = {"best": min(times), "median": float(np.median(times)), "n_iter": int(fit.n_iter_[0])}
    return out


def ovito_floor(path: Path, lag: int, cutoff: float, n_pairs: int, sample: int = 10) -> float | None:
    """OVITO's AtomicStrainModifier (D2min) on ``sample`` frame pairs (t, t + lag), scaled to n_pairs (s)."""
    try:
        from ovito.data import DataCollection
        from ovito.modifiers import AtomicStrainModifier
        from ovito.pipeline import Pipeline, ReferenceConfigurationModifier, StaticSource
    except ImportError:
        return None
    import ssefeat.io

    ds = ssefeat.io.read(path, stop=sample + lag)
    pos, cells = ds["positions"].values.astype(np.float64), ds["cell"].values

    def dc(p, cell):
        d = DataCollection()
        m = np.zeros((3, 4))
        m[:, :3] = cell.T
        d.create_cell(m, pbc=(True, True, True))
        d.create_particles(count=len(p)).create_property("Position", data=p)
        return d

    def one(t0):
        pipeline = Pipeline(source=StaticSource(data=dc(pos[t0 + lag], cells[t0 + lag])))
        mod = AtomicStrainModifier(cutoff=cutoff, output_nonaffine_squared_displacements=True,
                                   affine_mapping=ReferenceConfigurationModifier.AffineMapping.Off,
                                   use_frame_offset=False, minimum_image_convention=True)
        mod.reference = StaticSource(data=dc(pos[t0], cells[t0]))
        pipeline.modifiers.append(mod)
        return pipeline.compute().particles["Nonaffine Squared Displacement"]

    one(0)
    t = time.perf_counter()
    for t0 in range(sample):
        one(t0)
    return (time.perf_counter() - t) / sample * n_pairs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None, help="work folder; keeps the trajectory (default: temporary, removed)")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=25, help="execution.chunk_frames")
    ap.add_argument("--quick", action="store_true", help="1/8 of the system (336 atoms), 60 frames")
    args = ap.parse_args(argv)
    units = {k: v // 8 for k, v in UNITS.items()} if args.quick else UNITS
    if args.quick:
        args.frames = 60
    from ssefeat.config import load_config
    from ssefeat.pipeline import Pipeline

    tmp = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ssefeat-bench-real-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        traj = tmp / f"li7p3s11_{sum(units.values())}u_{args.frames}f.nc"
        if not traj.exists():
            print(f"building the trajectory ({traj.name}) ...", flush=True)
            print(f"  built in {build(traj, args.frames, units):.0f} s", flush=True)
        lag, cutoff = 10, 4.0
        cfg = load_config({"trajectory": {"files": [str(traj)], "temperatures": [600.0]},
                           "labels": {"kind": "d2min", "lag_frames": lag, "cutoff": cutoff},
                           "execution": {"chunk_frames": args.chunk},
                           "output": {"folder": str(tmp / "results")}})
        shutil.rmtree(tmp / "results", ignore_errors=True)
        from ssefeat.pipeline.features import cluster_types_of, features_chunk

        warm = dict(cfg, features=dict(cfg["features"], cluster_types=cluster_types_of(str(traj), cfg)))
        features_chunk(str(traj), 0, 1, warm)  # numba compiles (and caches) outside the timing
        t_import = time.perf_counter()  # scikit-learn's import, once per process, outside the timing too (printed)
        import sklearn.linear_model  # noqa: F401
        import sklearn.model_selection  # noqa: F401
        t_import = time.perf_counter() - t_import
        load0 = os.getloadavg()[0]
        pipe = Pipeline(cfg, progress=False)
        t0 = time.perf_counter()
        pipe.run()
        total = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        import ssefeat.io

        whole = ssefeat.io.read(traj)
        n_atoms, n_li, n_frames = whole.sizes["atom"], int((whole["species"].values == "Li").sum()), \
            whole.sizes["frame"]
        fits = fit_floor(pipe.softness_report["training_set"])
        floors = {"features": (sf_floor(traj, n_frames), "structure-function kernel alone"),
                  "softness": (fits["converged"]["best"], "one LogisticRegression fit"),
                  "labels": (ovito_floor(traj, lag, cutoff, n_frames - lag), "OVITO D2min, same frame pairs")}
        print(f"{n_atoms} atoms ({n_li} Li) x {n_frames} frames, chunks of {args.chunk}; {os.cpu_count()} cores, "
              f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after")
        print(f"scikit-learn imported before the run in {t_import:.2f} s (a user's first stage that needs it pays "
              "this once per process)")
        print(f"{'stage':<12s}{'time (s)':>10s}{'floor (s)':>11s}{'stage/floor':>13s}  floor")
        for stage, seconds in pipe.timings.items():
            floor, what = floors.get(stage.split()[0], (None, ""))
            ratio = f"{seconds / floor:13.2f}" if floor else f"{'':13s}"
            print(f"{stage:<12s}{seconds:10.2f}{floor if floor else float('nan'):11.3f}{ratio}  {what}")
        print(f"{'total':<12s}{total:10.2f}   (wall, all stages and the results folder); peak RSS {rss:.0f} MB")
        soft = next((v for k, v in pipe.timings.items() if k.startswith("softness")), None)
        if soft:
            c, d, n_ts = fits["converged"], fits["default"], len(pipe.softness_report["training_set"].y)
            print(f"softness floor: LogisticRegression(max_iter=2000) on the {n_ts} training-set samples converges in "
                  f"{c['n_iter']} lbfgs iterations, best / median of 5 "
                  f"{c['best']:.3f} / {c['median']:.3f} s (stage / median {soft / c['median']:.2f}); scikit-learn's "
                  f"default max_iter = 100 stops at {d['n_iter']} iterations"
                  f"{' unconverged' if d['n_iter'] >= 100 else ''}, best / median {d['best']:.3f} / "
                  f"{d['median']:.3f} s (stage / best {soft / d['best']:.2f})")
        rep = pipe.softness_report
        if "training_set" in rep:  # the model's quality beside its time: held-out frame blocks, interval over ions
            print(f"softness model: held-out balanced accuracy {rep['test']['balanced_accuracy']:.4f} (95 % CI "
                  f"{rep['test']['balanced_accuracy_ci'][0]:.3f}-{rep['test']['balanced_accuracy_ci'][1]:.3f} over "
                  f"{rep['test']['n_ci_units']} held-out {rep['test']['ci_unit']}s, "
                  f"{rep['test']['n_samples']} samples), "
                  f"C = {rep['C']:g} "
                  f"by {rep.get('cv_folds')}-fold cross-validation, {len(rep['training_set'].y)} training-set samples")

        def size(p: Path) -> float:  # MB
            files = [p] if p.is_file() else [q for q in p.rglob("*") if q.is_file()]
            return sum(q.stat().st_size for q in files) / 1e6

        res = tmp / "results"
        store, tables = size(res / "stages" / "features_0.zarr"), size(res / "tables")
        print(f"sizes: results.nc {size(res / 'results.nc'):.1f} MB, features store {store:.1f} MB, tables "
              f"{tables:.1f} MB, results folder without stages/ {size(res) - size(res / 'stages'):.1f} MB, "
              f"whole folder / (features store + tables) = {size(res) / (store + tables):.2f}")
        for stage, seconds in pipe.timings.items():
            floor, what = floors.get(stage.split()[0], (None, ""))
            if floor:
                print(f"RESULT pipeline_real_{stage.split()[0]} {seconds:.4g} {floor:.4g} {floor / seconds:.3g} "
                      f"floor = {what}; {n_atoms} atoms x {n_frames} frames")
        print(f"RESULT pipeline_real_total {total:.4g} - - wall of ssefeat run, {n_atoms} atoms x {n_frames} "
              f"frames, peak RSS {rss:.0f} MB")
    finally:
        if not args.dir:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
