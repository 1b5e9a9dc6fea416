"""Benchmark: D2min of one frame pair at 10^3, 10^4 and 10^5 atoms, ssefeat against OVITO's AtomicStrainModifier.

Both run with the same number of threads (default 2: OVITO_THREAD_COUNT, NUMBA_NUM_THREADS, OMP/OPENBLAS
threads are set before the imports, freud's TBB pool with freud.parallel.set_num_threads), in one process.

- ssefeat is timed end to end (validation, unwrapping, the numba cell-list neighbour search with exact float64
  pairs, the numba kernel, xarray wrapping); the shared neighbour search and the kernel alone are reported too,
  and with ``--freud``, for reference, freud's AABBQuery + NeighborList (the candidate search neighbor_pairs used
  before).
- OVITO is timed on ``pipeline.compute()`` of a freshly built pipeline (static current + static reference
  configuration, affine_mapping Off, minimum image on), so its own neighbour search is included.

Per size, runs are interleaved after one warm-up (numba compilation is cached); best times and the median ratio
are printed (the machine may be shared: compare the ratio, not the absolute times). Small systems get more
repeats (``--repeat`` x 20000 / atoms, at most 50). One ``RESULT d2min_<atoms> <ssefeat_s> <ovito_s>
<ovito/ssefeat>`` line per size for ``run_all.py``. Goal (issue 17): ssefeat / OVITO <= 1 at every size.

    python benchmarks/bench_d2min.py [--atoms 1000 10000 100000] [--threads 2] [--cutoff 3.5] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def bench_size(n_atoms, args, np, ssefeat, freud):
    """Time every case at one size; returns the printed summary and (api s, ovito s, median ratio)."""
    from ovito.data import DataCollection
    from ovito.modifiers import AtomicStrainModifier
    from ovito.pipeline import Pipeline, ReferenceConfigurationModifier, StaticSource

    from ssefeat.dynamics import _label_kernels as kernels
    from ssefeat.dynamics._d2min_arrays import single_thread_blas
    from ssefeat.dynamics.d2min import nonaffine_displacement, nonaffine_displacement_series
    from ssefeat.neighbors import neighbor_pairs

    rng = np.random.default_rng(0)
    L = (n_atoms / args.density) ** (1 / 3)
    cell = np.diag([L, L, L])
    r0 = rng.random((n_atoms, 3)) * L
    r1 = r0 + rng.normal(scale=0.3, size=r0.shape)
    w1 = ssefeat.box.wrap_positions(r1, cell)[0]
    ds = ssefeat.make_trajectory(np.stack([r0, w1]), ["Li"] * n_atoms, cell=cell, timestep_ps=0.1, wrapped=True)
    # a trajectory for the series (the pipeline's label path): consecutive frames of the same random walk
    n_series = int(min(21, max(3, 500000 // n_atoms)))
    walk = r0 + np.cumsum(rng.normal(scale=0.3 / np.sqrt(2), size=(n_series,) + r0.shape), axis=0)
    walk[0] = r0
    ds_series = ssefeat.make_trajectory(np.stack([ssefeat.box.wrap_positions(f, cell)[0] for f in walk]),
                                        ["Li"] * n_atoms, cell=cell, timestep_ps=0.1, wrapped=True)

    def dc(pos):
        d = DataCollection()
        m = np.zeros((3, 4))
        m[:, :3] = cell.T
        d.create_cell(m, pbc=(True, True, True))
        d.create_particles(count=len(pos)).create_property("Position", data=pos)
        return d

    ref_dc, cur_dc = dc(r0), dc(w1)

    def run_ovito():
        pipeline = Pipeline(source=StaticSource(data=cur_dc))
        mod = AtomicStrainModifier(cutoff=args.cutoff, output_nonaffine_squared_displacements=True,
                                   affine_mapping=ReferenceConfigurationModifier.AffineMapping.Off,
                                   use_frame_offset=False, minimum_image_convention=True)
        mod.reference = StaticSource(data=ref_dc)
        pipeline.modifiers.append(mod)
        return np.asarray(pipeline.compute().particles["Nonaffine Squared Displacement"])

    pairs = neighbor_pairs(r0, cell, args.cutoff)
    offsets = kernels.csr_offsets(pairs.i, n_atoms)
    centre = np.arange(n_atoms)
    shift = np.zeros((0, 3))
    u = r1 - r0
    buf = (np.empty(n_atoms), np.empty((n_atoms, 3, 3)), np.empty(n_atoms, dtype=bool))

    def run_kernel():
        kernels.d2min_kernel(offsets, centre, pairs.j, pairs.vectors, shift, u, 1e-10, *buf)

    def run_pairs():  # as nonaffine_displacement runs it: BLAS on one thread
        with single_thread_blas():
            return neighbor_pairs(r0, cell, args.cutoff)

    cases = {"api": lambda: nonaffine_displacement(ds, 0, 1, args.cutoff),
             "series": lambda: nonaffine_displacement_series(ds_series, 1, args.cutoff),
             "pairs": run_pairs,
             "kernel": run_kernel,
             "ovito": run_ovito}
    if args.freud:
        fbox, fpos = ssefeat.box.to_freud(cell, r0)

        def run_freud():  # the former candidate search of neighbor_pairs (single precision, padded), for reference
            query = freud.locality.AABBQuery(fbox, fpos)
            return query.query(fpos, {"r_max": args.cutoff, "exclude_ii": False}).toNeighborList()

        cases["freud"] = run_freud
    outs = {name: fn() for name, fn in cases.items()}  # warm-up: numba compilation, caches
    repeat = max(args.repeat, min(50, args.repeat * 20000 // n_atoms))
    times = {name: [] for name in cases}
    for _ in range(repeat):  # interleaved, so that load from other processes hits every case alike
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    res, d2_ovito = outs["api"], outs["ovito"]
    best = {name: min(v) for name, v in times.items()}
    ratios = sorted(a / o for a, o in zip(times["api"], times["ovito"]))
    median_ratio = ratios[len(ratios) // 2]
    ok = res["valid"].values
    rel = np.abs(res["d2min"].values[ok] - d2_ovito[ok]) / np.maximum(d2_ovito[ok], 1e-12)
    nn = float(res["n_neighbors"].values.mean())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"D2min, {n_atoms} atoms, cutoff {args.cutoff} Å (<N_neighbours> = {nn:.1f}), {args.threads} threads, "
          f"best of {repeat} (load average {load})")
    print(f"  ssefeat nonaffine_displacement (end to end): {best['api'] * 1e3:8.2f} ms")
    print(f"    of which neighbor_pairs (numba cell list): {best['pairs'] * 1e3:8.2f} ms")
    print(f"    of which the numba D2min kernel:           {best['kernel'] * 1e3:8.2f} ms")
    per_pair = best["series"] / (n_series - 1)
    print(f"  ssefeat nonaffine_displacement_series, per frame pair ({n_series - 1} pairs, the pipeline's label "
          f"path): {per_pair * 1e3:.2f} ms")
    if "freud" in best:
        print(f"  reference: freud AABBQuery + NeighborList:   {best['freud'] * 1e3:8.2f} ms (candidates only, "
              "float32)")
    print(f"  OVITO AtomicStrainModifier (compute):        {best['ovito'] * 1e3:8.2f} ms")
    print(f"  ratio ssefeat / OVITO: best-of {best['api'] / best['ovito']:.2f}, median of interleaved runs "
          f"{median_ratio:.2f} (target: at most 1); series per frame pair / OVITO {per_pair / best['ovito']:.2f}")
    # D2min of atoms whose Y is near-singular is ill-conditioned: the median shows agreement, the max the worst atom
    print(f"  relative difference to OVITO: median {np.median(rel):.1e}, max {rel.max():.1e} "
          f"({int(ok.sum())} valid atoms)")
    sys.stdout.flush()
    return best["api"], best["ovito"], median_ratio, np.median(rel), per_pair


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cutoff", type=float, default=3.5)
    parser.add_argument("--density", type=float, default=0.06, help="atoms per Å^3")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--freud", action="store_true", help="also time freud's AABBQuery (reference)")
    args = parser.parse_args(argv)
    for var in ("OVITO_THREAD_COUNT", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import numba

    import ssefeat

    import freud

    numba.set_num_threads(args.threads)
    freud.parallel.set_num_threads(args.threads)
    summary = []
    for n_atoms in args.atoms:
        api, ovito, median_ratio, med_rel, per_pair = bench_size(n_atoms, args, np, ssefeat, freud)
        summary.append((n_atoms, api, ovito, median_ratio, per_pair))
        print(f"RESULT d2min_{n_atoms} {api:.6f} {ovito:.6f} {ovito / api:.3f} one frame pair, {n_atoms} atoms, "
              f"{args.threads} threads; median interleaved ssefeat/OVITO {median_ratio:.2f}; median rel. diff "
              f"{med_rel:.1e}")
        print(f"RESULT d2min_series_{n_atoms} {per_pair:.6f} {ovito:.6f} {ovito / per_pair:.3f} "
              f"nonaffine_displacement_series per frame pair (pipeline label path), {n_atoms} atoms")
    print("\nssefeat / OVITO per frame pair (best-of; median of interleaved runs; series per pair / OVITO):")
    for n_atoms, api, ovito, median_ratio, per_pair in summary:
        print(f"  {n_atoms:>7d} atoms: {api * 1e3:8.2f} ms / {ovito * 1e3:8.2f} ms = {api / ovito:.2f} "
              f"({median_ratio:.2f}); series {per_pair / ovito:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
