"""Benchmark: time-origin averaged MSD of 10^3 ions x 10^4 frames, ssefeat vs MDAnalysis and kinisi.

    python benchmarks/bench_msd.py [--atoms 1000] [--frames 10000] [--kinisi-lags 20] [--repeat 1]

- ssefeat: ``mean_squared_displacement`` (FFT, every lag, per axis; timed without and with the COM-drift pass) and
  the bare kernel ``_msd_kernels.msd_fft_atoms`` chunked over atoms.
- MDAnalysis: ``EinsteinMSD(select="all", msd_type="xyz", fft=True)`` (needs ``tidynamics``) on a MemoryReader
  universe: every lag.
- kinisi 2.x: ``kinisi.displacement.calculate_msd`` on a ``kinisi.parser.Parser`` built from the same positions.
  kinisi computes each lag directly over all origins (O(T N) per lag), so all 10^4 lags would take hours: it is timed
  on ``--kinisi-lags`` evenly spaced lags and its per-lag cost is extrapolated to every lag (stated as such).
Positions are an unwrapped random walk (float64); the machine may be shared, so timings are noisy.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def best_of(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--atoms", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--kinisi-lags", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    n, t, dt, box = args.atoms, args.frames, 0.1, 40.0

    import ssefeat
    from ssefeat.dynamics import _msd_kernels as K
    from ssefeat.dynamics.msd import mean_squared_displacement

    rng = np.random.default_rng(0)
    pos = rng.uniform(0, box, (n, 3)) + np.cumsum(rng.normal(0, 0.1, (t, n, 3)), axis=0)
    ds = ssefeat.make_trajectory(pos, ["Li"] * n, cell=np.eye(3) * box, timestep_ps=dt, wrapped=False)
    print(f"MSD of {n} ions x {t} frames (all {t - 1} lags unless stated)")

    def kernel():
        acc = np.zeros((t, 3))
        step = K.atoms_per_chunk(t)
        for c in range(0, n, step):
            acc += K.msd_fft_atoms(pos[:, c:c + step]).sum(axis=1)
        return acc.sum(axis=1) / n

    t_kernel, ref = best_of(kernel, args.repeat)
    t_api, msd = best_of(lambda: mean_squared_displacement(ds, "Li", remove_com=False, per_axis=True), args.repeat)
    t_com, _ = best_of(lambda: mean_squared_displacement(ds, "Li", remove_com=True, per_axis=True), args.repeat)
    assert np.allclose(msd.sel(species="Li", axis="total").values, ref, rtol=1e-10, atol=1e-10)
    rows = [("ssefeat kernel (FFT, chunked)", t_kernel), ("ssefeat mean_squared_displacement", t_api),
            ("ssefeat ... with COM removal", t_com)]

    try:
        import MDAnalysis as mda
        from MDAnalysis.analysis.msd import EinsteinMSD
        from MDAnalysis.coordinates.memory import MemoryReader

        u = mda.Universe.empty(n, trajectory=True)
        u.load_new(pos, format=MemoryReader, dt=dt)

        def run_mda():
            return EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run().results.timeseries

        t_mda, ts = best_of(run_mda, args.repeat)
        err = float(np.max(np.abs(ts - ref)) / ref.max())
        rows.append((f"MDAnalysis EinsteinMSD fft=True (max rel. diff {err:.1e}, float32 positions)", t_mda))
    except ImportError as exc:  # tidynamics missing
        print(f"MDAnalysis skipped: {exc!s:.80}")

    try:
        import scipp as sc
        from kinisi.displacement import calculate_msd
        from kinisi.parser import Parser

        frac = pos / box
        coords = sc.array(dims=["time", "particle", "dimension"], values=np.concatenate([frac[:1], frac]),
                          unit=sc.units.dimensionless)
        latt = sc.array(dims=["time", "dimension1", "dimension2"],
                        values=np.repeat((np.eye(3) * box)[None], t + 1, axis=0), unit=sc.units.angstrom)
        lags = np.unique(np.linspace(1, t - 1, args.kinisi_lags).astype(int))
        t_parse, parser = best_of(lambda: Parser(
            coords, latt, sc.scalar(dt, unit="ps"), sc.scalar(1),
            dt=sc.array(dims=["time interval"], values=lags * dt, unit="ps"),
            specie_indices=sc.array(dims=["particle"], values=np.arange(n)),
            drift_indices=sc.array(dims=["particle"], values=np.array([], dtype=np.int64))), 1)
        t_kin, _ = best_of(lambda: calculate_msd(parser, progress=False), args.repeat)
        per_lag = t_kin / lags.size
        rows.append((f"kinisi calculate_msd, {lags.size} lags only (parse {t_parse:.1f} s not included)", t_kin))
        rows.append((f"kinisi extrapolated to all {t - 1} lags (x {(t - 1) / lags.size:.0f})", per_lag * (t - 1)))
    except ImportError as exc:
        print(f"kinisi skipped: {exc!s:.80}")

    print(f"{'implementation':<80} {'time (s)':>9} {'ratio to ssefeat API':>21}")
    for name, sec in rows:
        print(f"{name:<80} {sec:9.2f} {sec / t_api:21.1f}")


if __name__ == "__main__":
    main()
