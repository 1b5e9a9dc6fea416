"""Structure functions: ssefeat vs dscribe ACSF on one frame of ~10^4 atoms with ~100 features per atom.

Same functions (radial G2 and angular G4 for every neighbour species / species pair), same cosine cutoff, every
atom a centre, same thread count (ssefeat: numba threads; dscribe: n_jobs processes over halves of the centres).
dscribe also computes one G1 per species (3 more columns). Reports seconds per frame, features per second and
the ratio t(dscribe) / t(ssefeat) (> 1: ssefeat faster). Values are checked to agree before timing.

    python benchmarks/bench_features.py [--atoms 10000] [--threads 2] [--cutoff 6.0] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def make_frame(n_atoms: int, seed: int = 0):
    """A Li3PS4-like random packing (0.042 atoms / Å^3) with a triclinic cell: jittered grid, no overlaps."""
    rng = np.random.default_rng(seed)
    n_side = int(np.ceil(n_atoms ** (1 / 3)))
    length = (n_side ** 3 / 0.042) ** (1 / 3)
    cell = np.array([[length, 0, 0], [0.05 * length, length, 0], [0.03 * length, -0.04 * length, length]])
    grid = np.array(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij")).reshape(3, -1).T
    frac = (grid + 0.5 + rng.uniform(-0.25, 0.25, size=grid.shape)) / n_side
    pos = (frac @ cell)[rng.permutation(len(grid))[:n_atoms]]
    species = rng.choice(["Li", "P", "S"], size=n_atoms, p=[3 / 8, 1 / 8, 4 / 8])
    return pos, cell, species


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cutoff", type=float, default=6.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import numba
    from ase import Atoms
    from dscribe.descriptors import ACSF

    from ssefeat.features.parameters import ParameterSet
    from ssefeat.features.structure_functions import compute_frame, threads

    pos, cell, species = make_frame(args.atoms)
    order = ["Li", "P", "S"]
    rc = args.cutoff
    mu = np.round(np.arange(1.5, 1.5 + 30 * 0.15, 0.15), 6)[:30]
    base = ParameterSet(centre="Li", radial_species=order, mu=mu, width=(0.15,),
                        angular_species=[(a, b) for i, a in enumerate(order) for b in order[i:]],
                        xi=(2.5,), lambdas=(-1.0, 1.0), zeta=(1.0, 2.0), radial_cutoff=rc,
                        cutoff_function="cosine")
    n_feat = base.n_features
    centres = {s: np.flatnonzero(species == s) for s in order}

    def run_ssefeat(n_threads):
        out = np.empty((len(pos), n_feat))
        with threads(n_threads):
            for s in order:
                out[centres[s]] = compute_frame(pos, cell, species, base.replace(centre=s))
        return out

    g2 = [[1 / (2 * L * L), m] for m in base.mu for L in base.width]
    g4 = [[1 / xi ** 2, z, lam] for xi in base.xi for lam in base.lambdas for z in base.zeta]
    acsf = ACSF(r_cut=rc, g2_params=g2, g4_params=g4, species=order, periodic=True)
    atoms = Atoms(symbols=list(species), positions=pos, cell=cell, pbc=True)
    all_idx = np.arange(len(pos))

    def run_dscribe(n_jobs):
        if n_jobs == 1:
            return acsf.create(atoms, centers=all_idx)
        parts = np.array_split(all_idx, n_jobs)
        return np.concatenate(acsf.create([atoms] * n_jobs, centers=list(parts), n_jobs=n_jobs))

    # agreement on a subset (mapping as in tests/test_features_sf.py::test_dscribe_acsf_agreement)
    ours = run_ssefeat(args.threads)
    sub = all_idx[:: max(1, len(pos) // 300)]
    theirs = acsf.create(atoms, centers=sub)
    n2, n4 = len(g2), len(g4)
    rad = np.concatenate([theirs[:, k * (1 + n2) + 1:(k + 1) * (1 + n2)] for k in range(3)], axis=1)
    zeta = np.array([g[1] for g in g4])
    ang = np.concatenate([theirs[:, 3 * (1 + n2) + (a * (a + 1) // 2 + b) * n4:][:, :n4] * 2.0 ** (zeta - 1)
                          for a0, b0 in base.angular_species
                          for a, b in [sorted((order.index(a0), order.index(b0)), reverse=True)]], axis=1)
    err = np.abs(ours[sub] - np.concatenate([rad, ang], axis=1)).max()

    def best(fn, *a):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn(*a)
            times.append(time.perf_counter() - t0)
        return min(times), float(np.median(times))

    nb = np.mean([len(np.flatnonzero(np.linalg.norm(
        (lambda d: d - np.round(d @ np.linalg.inv(cell)) @ cell)(pos - pos[i]), axis=1) < rc)) - 1
        for i in range(0, len(pos), max(1, len(pos) // 50))])
    print(f"frame: {len(pos)} atoms (Li {len(centres['Li'])}, P {len(centres['P'])}, S {len(centres['S'])}), "
          f"~{nb:.0f} neighbours within {rc} Å, {n_feat} features per atom "
          f"({base.n_radial} radial, {base.n_angular} angular; dscribe adds 3 G1); max |diff| vs dscribe {err:.1e}")
    print(f"machine: {os.cpu_count()} CPUs visible, numba threading layer {numba.threading_layer()}; "
          f"best / median of {args.repeats}")
    from threadpoolctl import threadpool_limits

    from ssefeat.neighbors import neighbor_pairs

    def run_pairs():
        with threadpool_limits(1, user_api="blas"):
            for s in order:
                neighbor_pairs(pos, cell, rc, query=centres[s], r_min=-1.0)

    t_p, _ = best(run_pairs)
    print(f"of which ssefeat.neighbors.neighbor_pairs (numba cell list, float64 minimum image, 3 centre species): "
          f"{t_p:.3f} s/frame")
    rows = []
    for n in sorted({1, args.threads}):
        t_s, m_s = best(run_ssefeat, n)
        t_d, m_d = best(run_dscribe, n)
        rows.append((n, t_s, m_s, t_d, m_d))
        fs = len(pos) * n_feat
        print(f"threads={n}: ssefeat {t_s:.3f} s/frame (median {m_s:.3f}), {fs / t_s:.3g} features/s | "
              f"dscribe {t_d:.3f} s/frame (median {m_d:.3f}), {fs / t_d:.3g} features/s | "
              f"ratio dscribe/ssefeat {t_d / t_s:.2f}")


if __name__ == "__main__":
    main()
