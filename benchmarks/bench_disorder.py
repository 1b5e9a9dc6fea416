"""Benchmark: disorder profile F(z) of one 10^5-atom frame, and the Gaussian density step against freud.

System: a glass-ceramic-like box at 0.05 atoms/Å^3: half simple-cubic crystal (a = 2.714 Å, thermal noise 0.1 Å),
half uniformly random, slabs along c.

Timed (best of ``--repeat`` after one warm-up; numba compilation is cached):
1. ``disorder_profile`` end to end, one frame, analytic reference (validation, fractional coordinates, slab
   projections, 2D FFTs, profiles, xarray) and with the default random reference (ceil(96 / slabs)
   realisations, each costing one frame);
2. the slab-projection kernel alone (the density step the profile uses: Gaussians integrated across slabs);
3. ``find_regions`` on the profile (interface significance test, double-tanh fit, regions);
4. the full 3D Gaussian density grid: ssefeat ``density_grid`` against ``freud.density.GaussianDensity`` on the
   same grid, the same sigma and the same truncation radius r_max (``--truncate`` sigma; 3 by default as freud users
   typically set, also ssefeat's default 7), with the same number of threads (numba and freud set to
   ``--threads``). freud's normalisation is the same (2 pi sigma^2)^(-3/2) and its grid points are cell centres, so
   the two grids are compared point by point (freud computes in float32).
The machine may be shared: compare ratios, not absolute times; CPU times (all threads) are printed beside the wall
times of the density comparison because they are less sensitive to other load.

    python benchmarks/bench_disorder.py [--atoms 100000] [--threads 2] [--grid-spacing 0.4] [--sigma 0.6]
"""
from __future__ import annotations

import argparse
import os
import time


CPU = {}


def best(fn, repeat):
    """Best wall time over ``repeat`` runs (the CPU time of that run, all threads, is kept in CPU[fn])."""
    times = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    CPU[fn] = cpu
    return wall, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--density", type=float, default=0.05, help="atoms per Å^3")
    parser.add_argument("--grid-spacing", type=float, default=0.4)
    parser.add_argument("--sigma", type=float, default=0.6)
    parser.add_argument("--slab-width", type=float, default=3.0)
    parser.add_argument("--truncate", type=float, nargs="+", default=[3.0, 7.0], help="r_max / sigma values")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)

    import freud
    import numba
    import numpy as np

    import ssefeat
    from ssefeat import _disorder_kernels as K
    from ssefeat.box import to_freud
    from ssefeat.disorder import disorder_profile, slab_geometry

    numba.set_num_threads(args.threads)
    freud.parallel.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    a = args.density ** (-1 / 3)
    n_side = int(round((args.atoms / 2) ** (1 / 3)))
    g = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    crystal = g + rng.normal(0, 0.1, g.shape)
    L = n_side * a
    gas = rng.random((args.atoms - len(g), 3)) * [L, L, L] + [0, 0, L]
    pos = np.concatenate([crystal, gas])
    cell = np.diag([L, L, 2 * L])
    ds = ssefeat.make_trajectory(pos, ["A"] * len(pos), cell=cell)
    print(f"{len(pos)} atoms, cell {L:.1f} x {L:.1f} x {2 * L:.1f} Å, {args.threads} threads, grid spacing "
          f"{args.grid_spacing} Å, sigma {args.sigma} Å, slab {args.slab_width} Å")
    kw = dict(axis="c", slab_width=args.slab_width, grid_spacing=args.grid_spacing, sigma=args.sigma)

    disorder_profile(ds, reference="analytic", **kw)  # warm-up (numba cache load / compile)
    t_prof, prof = best(lambda: disorder_profile(ds, reference="analytic", **kw), args.repeat)
    t_rand, prof_r = best(lambda: disorder_profile(ds, reference="random", **kw), 1)
    geom = slab_geometry(cell, 2, args.slab_width, args.grid_spacing, args.sigma)
    frac = pos @ np.linalg.inv(cell)
    t_proj, _ = best(lambda: K.slab_projections(frac, cell, geom["n_grid"], 2, geom["planes_per_slab"],
                                                args.sigma), args.repeat)
    print(f"grid {geom['n_grid']}, {geom['n_slabs']} slabs of {geom['slab_width']:.3f} Å")
    print(f"disorder_profile, 1 frame, analytic reference : {t_prof:7.3f} s")
    print(f"disorder_profile, 1 frame, random reference   : {t_rand:7.3f} s "
          f"({prof_r.attrs['n_random']} realisations)")
    print(f"slab projection kernel alone (7 sigma)        : {t_proj:7.3f} s")
    f = prof.F_mean.values
    half = prof.sizes["z"] // 2
    print(f"F crystal half {f[1:half - 1].mean():.3f} (max {f[1:half - 1].max():.3f}); random half "
          f"{f[half + 1:-1].mean():.3f}; F_raw_random analytic {prof.attrs['F_raw_random']:.5f}, sampled "
          f"{prof_r.attrs['F_raw_random']:.5f} +- {prof_r.attrs['F_raw_random_std']:.5f}")
    from ssefeat.regions import find_regions

    t_reg, reg = best(lambda: find_regions(prof), args.repeat)
    up, down = reg.interface_position.values
    print(f"find_regions (interface test, 999 samples, fit): {t_reg:7.3f} s; interfaces at {up:.2f} and {down:.2f} Å "
          f"(crystal planes at 0-{L - a:.2f} Å, random atoms in [{L:.2f}, {2 * L:.2f}) Å, slab "
          f"{prof.attrs['slab_width_actual']:.2f} Å), p = "
          f"{reg.attrs['interface_p_value']:.3g}; crystal F < {reg.attrs['F_threshold_crystal']:.3f}, glass F > "
          f"{reg.attrs['F_threshold_glass']:.3f}")

    n = geom["n_grid"]
    box, fpos = to_freud(cell, pos)
    for trunc in args.truncate:
        r_max = trunc * args.sigma

        def ours():
            return K.density_grid(frac, cell, n, args.sigma, r_cut=r_max)

        def theirs():
            gd = freud.density.GaussianDensity(tuple(int(v) for v in n), r_max, args.sigma)
            gd.compute((box, fpos))
            return gd.density

        ours()
        theirs()
        t_ours, a_ours = best(ours, args.repeat)
        t_freud, a_freud = best(theirs, args.repeat)
        diff = np.abs(a_ours - a_freud).max() / a_ours.max()
        c_ours, c_freud = CPU[ours], CPU[theirs]
        print(f"3D density {tuple(n)}, r_max {trunc:g} sigma: ssefeat {t_ours:7.3f} s, freud {t_freud:7.3f} s, "
              f"freud/ssefeat = {t_freud / t_ours:5.2f} (CPU time: {c_ours:.2f} s vs {c_freud:.2f} s, ratio "
              f"{c_freud / c_ours:.2f}); max |diff| / max = {diff:.1e}")
        del a_ours, a_freud


if __name__ == "__main__":
    main()
