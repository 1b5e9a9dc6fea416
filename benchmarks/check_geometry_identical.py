"""Bit-identity check of everything that rests on the geometry layer (cells, binning, minimum image, cutoffs).

    python benchmarks/check_geometry_identical.py --save DIR      # with the old version on PYTHONPATH
    python benchmarks/check_geometry_identical.py --compare DIR   # with the new one: every array np.array_equal

Covers short MD runs of the Kob-Andersen liquid (LJ pair term) and the LiPS glass (ionic pair term, bonded terms,
NPT), Verlet lists (cells / all-pairs, per-type cutoffs, triclinic), analysis neighbour pairs (cubic, triclinic,
small box, query / points, r_min), structure functions, descriptors, clusters, polyhedra, environments, D2min.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np


def _triclinic(n, seed):
    rng = np.random.default_rng(seed)
    cell = np.array([[11.0, 0.0, 0.0], [3.1, 10.2, 0.0], [-2.2, 1.7, 9.6]])
    return rng.random((n, 3)) @ cell + rng.normal(0, 4, (n, 3)), cell


def outputs() -> dict:
    import xarray as xr

    import ssefeat
    from ssefeat import dynamics, features
    from ssefeat.md.neighbors import VerletList, pair_distances
    from ssefeat.neighbors import neighbor_pairs

    out = {}
    tmp = tempfile.mkdtemp()
    ka = ssefeat.md.simulate("kob_andersen", os.path.join(tmp, "ka.nc"), temperature=1.0, steps=300, dump_every=30,
                             seed=3, n_atoms=1000, equilibrate_steps=200, progress=False)
    out["ka_final"] = ka.positions
    ka_ds = xr.load_dataset(os.path.join(tmp, "ka.nc"))
    out["ka_positions"] = ka_ds["positions"].values
    lips = ssefeat.md.simulate("lips_glass", os.path.join(tmp, "lips.nc"), temperature=800.0, steps=200,
                               dump_every=20, seed=5, n_atoms=300, melt_ps=0.3, anneal_ps=0.2, equilibrate_ps=0.2,
                               quench_rate=1e4, progress=False)
    out["lips_final"] = lips.positions
    out["lips_cell"] = lips.cell
    lips_ds = xr.load_dataset(os.path.join(tmp, "lips.nc"))
    for name in ("positions", "cell", "velocities", "potential_energy"):
        if name in lips_ds:
            out[f"lips_{name}"] = lips_ds[name].values

    # Verlet lists: cells and all-pairs, per-type cutoffs, triclinic
    pos, cell = _triclinic(700, 1)
    for tag, kw, c in [("cubic", {}, np.eye(3) * 12.0), ("tric", {}, cell), ("small", {}, np.eye(3) * 7.0),
                       ("types", dict(types=np.arange(700) % 2, type_cutoffs=np.array([[2.5, 2.0], [2.0, 2.2]])),
                        cell)]:
        nl = VerletList(2.5, 0.4, **kw)
        p = pos if tag != "cubic" else np.random.default_rng(2).random((700, 3)) * 12.0
        p = p if tag != "small" else np.random.default_rng(4).random((150, 3)) * 7.0
        if tag == "small":
            nl = VerletList(2.5, 0.4)
        nl.build(p, c)
        out[f"vl_{tag}_pairs"], out[f"vl_{tag}_offsets"] = nl.pairs, nl.offsets
        out[f"vl_{tag}_nbr"], out[f"vl_{tag}_codes"], out[f"vl_{tag}_order"] = nl.neighbors, nl.codes, nl.order
        out[f"vl_{tag}_full"] = nl.full()[1]
        out[f"vl_{tag}_images"] = nl.images
        out[f"vl_{tag}_dist"] = pair_distances(p, c, nl.pairs)
        moved = p + 0.05
        out[f"vl_{tag}_disp"] = np.array([nl.max_displacement(moved, c * 1.001), float(nl.needs_rebuild(moved, c))])

    # analysis neighbour pairs
    rng = np.random.default_rng(7)
    cases = {"cubic": (rng.random((600, 3)) * 14.0 - 3.0, np.eye(3) * 14.0, 3.4, {}),
             "tric": (pos, cell, 3.0, dict(query=np.arange(0, 700, 3), points=np.arange(100, 700), r_min=0.5)),
             "small": (rng.random((80, 3)) * 6.0, np.eye(3) * 6.0, 2.9, {}),
             "neg": (pos, cell, 2.0, dict(r_min=-1.0))}
    for tag, (p, c, rc, kw) in cases.items():
        pr = neighbor_pairs(p, c, rc, **kw)
        for f in ("i", "j", "vectors", "distances"):
            out[f"np_{tag}_{f}"] = getattr(pr, f)

    # analyses on the trajectories (an error is kept as its message: it must be the same too)
    def keep(tag, fn):
        try:
            res = fn()
        except Exception as err:  # noqa: BLE001
            out[f"{tag}_error"] = np.array(f"{type(err).__name__}: {err}")
            return
        for v in (res.data_vars if hasattr(res, "data_vars") else [None]):
            arr = res[v] if v else res
            if arr.dtype.kind in "fiub":
                out[f"{tag}_{v}"] = arr.values

    keep("ka_sf", lambda: features.structure_functions(ka_ds, features.kob_andersen()))
    keep("ka_d2min", lambda: dynamics.nonaffine_displacement(ka_ds, 0, 5, 1.5))
    keep("ka_cum", lambda: dynamics.cumulative_d2min(ka_ds, 2, 4, 1.5))
    keep("ka_desc", lambda: features.descriptors(ka_ds, system="kob_andersen"))
    keep("lips_sf", lambda: features.structure_functions(lips_ds, features.li_sulfide()))
    keep("lips_desc", lambda: features.descriptors(lips_ds, system="li_sulfide"))
    keep("lips_cl", lambda: features.find_clusters(lips_ds))
    keep("lips_env", lambda: features.cluster_environment(lips_ds))
    keep("lips_poly", lambda: features.li_polyhedra(lips_ds))
    keep("lips_bs", lambda: dynamics.bond_switching(lips_ds, 0, "P", "S", 2.6))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--save", metavar="DIR")
    g.add_argument("--compare", metavar="DIR")
    args = ap.parse_args(argv)
    out = outputs()
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        np.savez(os.path.join(args.save, "geometry_outputs.npz"), **out)
        print(f"saved {len(out)} arrays to {args.save}")
        return 0
    ref = np.load(os.path.join(args.compare, "geometry_outputs.npz"))
    bad = [k for k in ref.files
           if k not in out or not np.array_equal(ref[k], out[k], equal_nan=ref[k].dtype.kind == "f")]
    missing = sorted(set(out) - set(ref.files))
    for k in bad:
        print(f"DIFFERENT: {k}")
    print(f"{len(ref.files) - len(bad)}/{len(ref.files)} arrays bit-identical"
          + (f"; new: {missing}" if missing else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
