"""Coverage of D's error bars: over many random walks of known D, how often does D +- err (and +- 2 err) hold the
truth? ssefeat's diffusion_coefficient (default: spread over atoms) and kinisi's DiffusionAnalyzer (posterior mean
and standard deviation, generalised least squares with the MSD covariance between lags), on the same walks.

    python benchmarks/bench_d_coverage.py [--walks 50] [--ions 32] [--frames 1000] [--no-kinisi]

A standard error should cover the truth about 68 % of the time within 1 sigma and 95 % within 2. Prints one line
per method and the ratio of their run times (kinisi / ssefeat).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import ssefeat
from ssefeat.dynamics.diffusion import diffusion_coefficient

D_TRUE = 0.05  # Å^2/ps per the walk's construction (step variance 2 D dt per axis)
DT = 0.1  # ps between frames
BOX = 20.0


def walk(seed: int, n: int, n_frames: int):
    """Gaussian random walkers of D = D_TRUE (Å^2/ps) in a cubic box, unwrapped, with no framework."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, np.sqrt(2 * D_TRUE * DT), (n_frames, n, 3))
    steps[0] = rng.uniform(0, BOX, (n, 3))
    return ssefeat.make_trajectory(np.cumsum(steps, axis=0), ["Li"] * n, cell=np.eye(3) * BOX, timestep_ps=DT,
                                   wrapped=False, temperature_K=600.0)


def kinisi_d(ds, lags_ps):
    """kinisi's D (Å^2/ps): posterior mean and standard deviation, fit from 1 ps."""
    import scipp as sc
    from ase import Atoms
    from kinisi.analyze import DiffusionAnalyzer

    pos = ds.positions.values
    atoms = [Atoms(symbols=["Li"] * pos.shape[1], positions=p % BOX, cell=np.eye(3) * BOX, pbc=True) for p in pos]
    kd = DiffusionAnalyzer.from_ase(atoms, specie="Li", time_step=sc.scalar(DT, unit="ps"), step_skip=sc.scalar(1),
                                    dt=sc.array(dims=["time interval"], values=np.asarray(lags_ps), unit="ps"),
                                    progress=False)
    kd.diffusion(sc.scalar(1.0, unit="ps"), progress=False, random_state=np.random.RandomState(0))
    d = sc.to_unit(kd.D, "Å^2/ps").values
    return float(np.mean(d)), float(np.std(d))


def coverage(z: np.ndarray) -> str:
    z = np.abs(z)
    return f"{100 * np.mean(z < 1):.0f} % within 1 sigma, {100 * np.mean(z < 2):.0f} % within 2 (n = {z.size})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--walks", type=int, default=50)
    ap.add_argument("--ions", type=int, default=32)
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--no-kinisi", action="store_true")
    args = ap.parse_args()
    z_ours, z_kin, t_ours, t_kin = [], [], 0.0, 0.0
    for seed in range(args.walks):
        ds = walk(1000 + seed, args.ions, args.frames)
        t0 = time.perf_counter()
        r = diffusion_coefficient(ds, "Li", remove_com=False)
        t_ours += time.perf_counter() - t0
        z_ours.append((float(r.D[0]) - D_TRUE) / float(r.D_err[0]))
        if not args.no_kinisi:
            t0 = time.perf_counter()
            d, err = kinisi_d(ds, np.arange(1.0, 0.5 * args.frames * DT, 1.0))
            t_kin += time.perf_counter() - t0
            z_kin.append((d - D_TRUE) / err)
    print(f"ssefeat D (error over atoms): {coverage(np.asarray(z_ours))}")
    if z_kin:
        print(f"kinisi D (posterior sd):      {coverage(np.asarray(z_kin))}")
        print(f"RESULT d_coverage_walks {t_ours:.3f} {t_kin:.3f} {t_kin / t_ours:.1f} "
              f"{args.walks} walks of {args.ions} ions x {args.frames} frames")


if __name__ == "__main__":
    main()
