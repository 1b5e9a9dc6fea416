"""Li-site polyhedra, anion clusters and environments: timings on a Li3PS4-like frame built from PS4 anions.

Builds n_ps4 randomly rotated PS4 (P-S 2.05 Å) on a jittered grid plus 3 Li per PS4 placed away from S, then
times find_clusters, cluster_environment and li_polyhedra (T and O, CSM + hull volume) per frame, and the CSM
kernel alone (µs per polyhedron), after a warm-up call that compiles the numba kernels.

    python benchmarks/bench_polyhedra.py [--ps4 512] [--frames 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def make_frames(n_ps4: int, n_frames: int, seed: int = 0):
    from scipy.spatial.transform import Rotation

    import ssefeat

    rng = np.random.default_rng(seed)
    g = int(np.ceil(n_ps4 ** (1 / 3)))
    spacing = 6.6
    cell = np.eye(3) * g * spacing
    tet = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3) * 2.05
    slots = np.array([[i, j, k] for i in range(g) for j in range(g) for k in range(g)], float)[:n_ps4]
    rot = Rotation.random(n_ps4, random_state=seed).as_matrix()
    centres = (slots + 0.5 + rng.uniform(-0.05, 0.05, slots.shape)) * spacing
    anions = np.concatenate([centres[:, None], centres[:, None] + np.einsum("nij,kj->nki", rot, tet)], axis=1)
    pos = anions.reshape(-1, 3)
    species = ["P", "S", "S", "S", "S"] * n_ps4
    # Li at the mid points between neighbouring grid slots (3 per anion), jittered
    li = (slots + 0.5 + 0.5 * np.eye(3)[:, None, :]).reshape(-1, 3) * spacing
    li = li + rng.normal(0, 0.2, li.shape)
    pos = np.vstack([pos, li])
    species += ["Li"] * len(li)
    frames = pos[None] + rng.normal(0, 0.05, (n_frames, len(pos), 3))
    return ssefeat.make_trajectory(frames, species, cell=cell, timestep_ps=0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ps4", type=int, default=512)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import numba

    numba.set_num_threads(args.threads)
    from ssefeat.features import _csm
    from ssefeat.features.clusters import find_clusters
    from ssefeat.features.environment import cluster_environment
    from ssefeat.features.polyhedra import li_polyhedra

    ds = make_frames(args.ps4, args.frames)
    warm = ds.isel(frame=[0])
    cl = find_clusters(warm)
    cluster_environment(warm, cl)
    li_polyhedra(warm)
    n_li = int((ds.species.values == "Li").sum())
    print(f"{ds.sizes['atom']} atoms ({args.ps4} PS4, {n_li} Li), {args.frames} frames, {args.threads} threads")
    t = time.perf_counter()
    cl = find_clusters(ds)
    t_cl = (time.perf_counter() - t) / args.frames
    t = time.perf_counter()
    cluster_environment(ds, cl)
    t_env = (time.perf_counter() - t) / args.frames
    t = time.perf_counter()
    poly = li_polyhedra(ds)
    t_poly = (time.perf_counter() - t) / args.frames
    print(f"find_clusters       {t_cl:8.3f} s/frame")
    print(f"cluster_environment {t_env:8.3f} s/frame")
    print(f"li_polyhedra (T+O)  {t_poly:8.3f} s/frame   ({t_poly / n_li * 1e6:.1f} µs per Li)")
    print(f"  median csm_T {np.nanmedian(poly.csm_T):.3f}, csm_O {np.nanmedian(poly.csm_O):.3f}")
    rng = np.random.default_rng(1)
    for name in ("T:4", "O:6"):
        k = len(_csm.IDEAL[name])
        v = _csm.IDEAL[name][None] * 2.5 + rng.normal(0, 0.3, (20000, k, 3))
        c = rng.normal(0, 0.2, (20000, 3))
        t = time.perf_counter()
        _csm.csm(v, name, centre=c)
        dt = time.perf_counter() - t
        print(f"CSM kernel {name}: {dt / len(v) * 1e6:.2f} µs per polyhedron "
              f"({len(_csm.reduced_permutations(name))} permutations)")


if __name__ == "__main__":
    main()
