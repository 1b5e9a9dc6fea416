"""Benchmark: D2min of one frame pair, 2 x 10^4 atoms, ssefeat against OVITO's AtomicStrainModifier.

Both run with the same number of threads (default 2: OVITO_THREAD_COUNT, NUMBA_NUM_THREADS, OMP/OPENBLAS
threads are set before the imports, freud's TBB pool with freud.parallel.set_num_threads).

- ssefeat is timed end to end (validation, unwrapping, the numba cell-list neighbour search with exact float64
  pairs, the numba kernel, xarray wrapping); the shared neighbour search and the kernel alone are reported too,
  and, for reference, freud's AABBQuery + NeighborList (the candidate search neighbor_pairs used before).
- OVITO is timed on ``pipeline.compute()`` of a freshly built pipeline (static current + static reference
  configuration, affine_mapping Off, minimum image on), so its own neighbour search is included.

Runs are interleaved after one warm-up (numba compilation is cached); best times and the median ratio are printed
(the machine may be shared: compare the ratio, not the absolute times).

    python benchmarks/bench_d2min.py [--atoms 20000] [--threads 2] [--cutoff 3.5] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cutoff", type=float, default=3.5)
    parser.add_argument("--density", type=float, default=0.06, help="atoms per Å^3")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for var in ("OVITO_THREAD_COUNT", "NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    import numba

    import ssefeat
    from ssefeat.dynamics.d2min import nonaffine_displacement

    import freud

    numba.set_num_threads(args.threads)
    freud.parallel.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    L = (args.atoms / args.density) ** (1 / 3)
    cell = np.diag([L, L, L])
    r0 = rng.random((args.atoms, 3)) * L
    r1 = r0 + rng.normal(scale=0.3, size=r0.shape)
    w1 = ssefeat.box.wrap_positions(r1, cell)[0]
    ds = ssefeat.make_trajectory(np.stack([r0, w1]), ["Li"] * args.atoms, cell=cell, timestep_ps=0.1, wrapped=True)

    from ovito.data import DataCollection
    from ovito.modifiers import AtomicStrainModifier
    from ovito.pipeline import Pipeline, ReferenceConfigurationModifier, StaticSource

    from ssefeat.dynamics import _label_kernels as kernels
    from ssefeat.neighbors import neighbor_pairs

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
    offsets = kernels.csr_offsets(pairs.i, args.atoms)
    centre = np.arange(args.atoms)
    shift = np.zeros((0, 3))
    u = r1 - r0
    buf = (np.empty(args.atoms), np.empty((args.atoms, 3, 3)), np.empty(args.atoms, dtype=bool))

    def run_kernel():
        kernels.d2min_kernel(offsets, centre, pairs.j, pairs.vectors, shift, u, 1e-10, *buf)

    fbox, fpos = ssefeat.box.to_freud(cell, r0)

    def run_freud():  # the former candidate search of neighbor_pairs (single precision, padded), for reference
        query = freud.locality.AABBQuery(fbox, fpos)
        return query.query(fpos, {"r_max": args.cutoff, "exclude_ii": False}).toNeighborList()

    cases = {"api": lambda: nonaffine_displacement(ds, 0, 1, args.cutoff),
             "pairs": lambda: neighbor_pairs(r0, cell, args.cutoff),
             "freud": run_freud,
             "kernel": run_kernel,
             "ovito": run_ovito}
    outs = {name: fn() for name, fn in cases.items()}  # warm-up: numba compilation, caches
    times = {name: [] for name in cases}
    for _ in range(args.repeat):  # interleaved, so that load from other processes hits every case alike
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    res, d2_ovito = outs["api"], outs["ovito"]
    best = {name: min(v) for name, v in times.items()}
    ratios = sorted(a / o for a, o in zip(times["api"], times["ovito"]))
    median_ratio = ratios[len(ratios) // 2]
    ok = res["valid"].values
    err = float(np.max(np.abs(res["d2min"].values[ok] - d2_ovito[ok]) / np.maximum(d2_ovito[ok], 1e-12)))
    nn = float(res["n_neighbors"].values.mean())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"D2min, {args.atoms} atoms, cutoff {args.cutoff} Å (<N_neighbours> = {nn:.1f}), {args.threads} threads, "
          f"best of {args.repeat} (load average {load})")
    print(f"  ssefeat nonaffine_displacement (end to end): {best['api'] * 1e3:8.1f} ms")
    print(f"    of which neighbor_pairs (numba cell list): {best['pairs'] * 1e3:8.1f} ms")
    print(f"    of which the numba D2min kernel:           {best['kernel'] * 1e3:8.1f} ms")
    print(f"  reference: freud AABBQuery + NeighborList:   {best['freud'] * 1e3:8.1f} ms (candidates only, float32)")
    print(f"  OVITO AtomicStrainModifier (compute):        {best['ovito'] * 1e3:8.1f} ms")
    print(f"  ratio ssefeat / OVITO: best-of {best['api'] / best['ovito']:.2f}, median of interleaved runs "
          f"{median_ratio:.2f} (target: at most 2)")
    print(f"  max relative difference to OVITO: {err:.2e} ({int(ok.sum())} valid atoms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
