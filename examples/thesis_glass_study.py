"""The thesis' LiPS glass study (seeds/003 ch. 5.1) on ssefeat's built-in glass series.

Shows ``ssefeat.study.glass_series``: five Li2S-P2S5 glasses LiP(0.465)S(y), y = 1.651 (P2S6-poor) to 1.605
(P2S6-rich) at constant Li (``ssefeat.md.systems.lips_composition``), each melt-quenched once and run at several
temperatures; per glass the Arrhenius E_a of Li diffusion (per-run verdicts) and the trend of E_a with the P2S6
content; one softness model on Li-Li structure functions with D_cum labels, trained on the pooled glasses with the
last frame block of each held out (accuracy per glass); S per glass, S by anion type within 5 Å, Pearson links per
ion and per glass; NEB barriers of soft and hard Li; and the comparison with the thesis' statements.

    python examples/thesis_glass_study.py [--small] [--out DIR] [--n-li 120] [--temperatures 800 900 1000]
        [--production-ps 40] [--barriers 5] [--barrier-glass all | NAME ...]

``--small``: two glasses (the ends of the series), 120 Li, two short runs each, one soft and one hard barrier in
each glass (a few minutes; the numbers then mean little). ``--barrier-glass``: the glasses with NEB barriers (default
the P2S6-richest, as the thesis; ``all`` for every glass), each with its own soft / hard test. The default is the
whole series at 120 Li (372 atoms per glass); ``--n-li 400`` is the thesis-like size (about 1,240 atoms). Writes
``DIR/study_report.md`` (tables and the comparison), ``DIR/study.json``, ``DIR/study.nc`` (the results as a
DataTree), ``DIR/softness_<glass>.nc``, the figures (``DIR/softness_by_glass.png``,
``DIR/activation_energy_vs_p2s6.png``, ``DIR/softness_by_anion.png``, ``DIR/softness_links.png``,
``DIR/softness_energy_volume_<glass>.png``, ``DIR/li_s_rdf_soft_hard.png``, ``DIR/barriers_by_glass.png``) and the
trajectories ``DIR/<glass>_<T>K.nc``. The same study as one ``ssefeat run`` configuration: see the README."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import small_mode  # noqa: E402

from ssefeat.study import glass_series  # noqa: E402
from ssefeat.study.glass_barriers import difference_text  # noqa: E402

FAST_QUENCH = dict(melt_ps=2.0, quench_rate=1000.0, anneal_ps=1.0, equilibrate_ps=1.0)
QUICK_BUILD = dict(melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1, equilibrate_ps=0.1, compress_ps=0.05)


def _glasses(names):
    """--barrier-glass: None (the default glass), "all", or the list of names."""
    if not names:
        return None
    return "all" if names == ["all"] else names


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true")
    p.add_argument("--out", default="thesis_glass_study_output")
    p.add_argument("--n-li", type=int, default=120)
    p.add_argument("--temperatures", type=float, nargs="+", default=[800.0, 900.0, 1000.0])
    p.add_argument("--production-ps", type=float, default=40.0)
    p.add_argument("--barriers", type=int, default=5, help="soft and hard Li with an NEB barrier, each")
    p.add_argument("--barrier-glass", nargs="+", default=None,
                   help="glasses with NEB barriers: names, or all (default: the P2S6-richest)")
    p.add_argument("--equilibrate-ps", type=float, default=5.0, help="Langevin at each T before production")
    p.add_argument("--fast-quench", action="store_true",
                   help="a shorter melt-quench (2 ps melt, 1000 K/ps, 1 ps anneal) instead of the builder's default")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    t0 = time.time()

    def say(msg):
        print(f"[{time.time() - t0:7.1f} s] {msg}", flush=True)

    if small_mode(argv) or args.small:
        res = glass_series(args.out, ys=(1.651, 1.605), n_li=120, temperatures=(800.0, 1000.0), production_ps=4.0,
                           dump_ps=0.05, equilibrate_ps=0.2, build=QUICK_BUILD, seed=args.seed, say=say,
                           n_boot=50, extras_frames=3, n_blocks=2,
                           barriers={"n_soft": 1, "n_hard": 1, "tries": 2, "n_images": 3, "fmax": 0.1},
                           barrier_glass="all")
    else:
        res = glass_series(args.out, n_li=args.n_li, temperatures=args.temperatures,
                           production_ps=args.production_ps, dump_ps=0.1, equilibrate_ps=args.equilibrate_ps,
                           build=FAST_QUENCH if args.fast_quench else None, seed=args.seed, say=say,
                           barriers={"n_soft": args.barriers, "n_hard": args.barriers},
                           barrier_glass=_glasses(args.barrier_glass))
    for g in res["glasses"]:
        t, s, a = res["transport"][g], res["per_glass"][g]["summary"], res["model"]["accuracy"][g]
        lo, hi = a["balanced_accuracy_ci"]
        print(f"{g}: E_a = {t['E_a_eV']:.3f} +- {t['E_a_err_eV']:.3f} eV (1 sigma); mean S = {s['mean']:+.3f} +- "
              f"{s['mean_se_ions']:.3f} (SE, {s['n_ions']} ions); held-out balanced accuracy "
              f"{a['balanced_accuracy']:.2f} [{lo:.2f}, {hi:.2f}] (95 % CI over ions)")
    for g, c in res.get("barriers", {}).get("by_glass", {}).items():
        print(f"barriers in {g}: soft median {c['soft']['median']:.3f} eV (n = {c['soft']['n']}), hard median "
              f"{c['hard']['median']:.3f} eV (n = {c['hard']['n']}); {difference_text(c)}")
    print("comparison with the thesis:")
    for row in res["comparison"]:
        print(f"  [{row['verdict']}] {row['statement']}: {row['measured']}")
    print(f"report: {Path(args.out) / 'study_report.md'}")


if __name__ == "__main__":
    main()
