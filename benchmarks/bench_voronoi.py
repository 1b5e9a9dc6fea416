"""Periodic Voronoi volumes of one frame: ssefeat (float64 bisector-plane cells) vs scipy Qhull on periodic images
(ssefeat's former implementation, tests/voronoi_reference.py) and freud's voro++ (float32 positions).

A Li7P3S11-like density (2688 atoms in a triclinic cell, random positions at least 1.6 Å apart), ``--frames``
jittered frames. Checks that ssefeat equals Qhull to 1e-9 relative (prints the largest deviation of each method)
before timing, and prints

    RESULT voronoi_qhull <ssefeat_s> <qhull_s> <qhull/ssefeat> per frame
    RESULT voronoi_freud <ssefeat_s> <freud_s> <freud/ssefeat> per frame
    RESULT voronoi_li_qhull <ssefeat_s> <qhull_s> <qhull/ssefeat> the cells of 1/3 of the atoms (the Li of
        Li7P3S11, as the features stage asks), Qhull still tessellating all

Usage: ``python benchmarks/bench_voronoi.py [--atoms 2688] [--frames 5] [--threads 2]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def best(fn, frames, repeat=3):
    fn(frames[0])  # compile / warm up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for f in frames:
            fn(f)
        times.append((time.perf_counter() - t) / len(frames))
    return min(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=2688)
    ap.add_argument("--frames", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1000 atoms, 3 frames")
    args = ap.parse_args(argv)
    if args.quick:
        args.atoms, args.frames = 1000, 3
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    import freud
    from conftest import separated_positions
    from voronoi_reference import qhull_voronoi_volumes

    from ssefeat import box
    from ssefeat.features.voronoi import periodic_voronoi_volumes

    freud.parallel.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    shape = np.array([[1.0, 0.0, 0.0], [0.12, 0.97, 0.0], [-0.08, 0.1, 1.03]])
    cell = shape * (args.atoms * 11.3 / abs(np.linalg.det(shape))) ** (1 / 3)  # 11.3 Å^3 per atom
    base = separated_positions(args.atoms, cell, 1.6, rng)
    frames = [base + rng.normal(0.0, 0.1, base.shape) for _ in range(args.frames)]

    def with_freud(pos):
        fbox, fpos = box.to_freud(cell, pos)
        vor = freud.locality.Voronoi()
        vor.compute((fbox, fpos))
        return np.asarray(vor.volumes, dtype=np.float64)

    ours, ref, fr = (periodic_voronoi_volumes(frames[0], cell), qhull_voronoi_volumes(frames[0], cell),
                     with_freud(frames[0]))
    dev, dev_freud = float(np.max(np.abs(ours / ref - 1))), float(np.max(np.abs(fr / ref - 1)))
    print(f"{args.atoms} atoms, cell volume {abs(np.linalg.det(cell)):.0f} Å^3 (triclinic), {args.frames} frames, "
          f"{args.threads} threads, load average {os.getloadavg()[0]:.2f}")
    print(f"largest relative deviation from Qhull: ssefeat {dev:.1e}, freud {dev_freud:.1e}")
    assert dev < 1e-9, dev
    t_ours = best(lambda p: periodic_voronoi_volumes(p, cell), frames)
    t_ref = best(lambda p: qhull_voronoi_volumes(p, cell), frames, repeat=1)
    li = np.arange(0, args.atoms, 3)
    t_li = best(lambda p: periodic_voronoi_volumes(p, cell, query=li), frames)
    t_freud = best(with_freud, frames)
    print(f"per frame: ssefeat {t_ours * 1e3:.1f} ms (1/3 of the cells {t_li * 1e3:.1f} ms), Qhull "
          f"{t_ref * 1e3:.1f} ms, freud {t_freud * 1e3:.1f} ms "
          f"(load average {os.getloadavg()[0]:.2f})")
    print(f"RESULT voronoi_qhull {t_ours:.4g} {t_ref:.4g} {t_ref / t_ours:.3g} per frame, {args.atoms} atoms, "
          f"max rel. deviation {dev:.0e}")
    print(f"RESULT voronoi_freud {t_ours:.4g} {t_freud:.4g} {t_freud / t_ours:.3g} per frame, freud float32: max "
          f"rel. deviation {dev_freud:.0e}")
    print(f"RESULT voronoi_li_qhull {t_li:.4g} {t_ref:.4g} {t_ref / t_li:.3g} per frame, the cells of {len(li)} of "
          f"{args.atoms} atoms")


if __name__ == "__main__":
    main()
