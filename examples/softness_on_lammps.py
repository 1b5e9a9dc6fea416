"""Softness on your own LAMMPS trajectory.

Shows the whole softness workflow on a LAMMPS text dump:

1. a trajectory (here a synthetic Li-P-S hopping trajectory, exported with ``ssefeat.io.export`` to a LAMMPS dump
   with numeric atom types and image flags, exactly what ``dump custom ... id type x y z ix iy iz`` writes);
2. read it back with a ``type_map`` (LAMMPS type -> element), unwrap with the image flags;
3. per-Li structure functions (``li_sulfide`` parameter set: Li-Li and Li-S radial + angular functions);
4. rearrangement labels: p_hop (Candelier et al. 2010) over a window t_R;
5. train the softness hyperplane (training set by label quantiles, split by frame blocks), report the held-out
   accuracy, save the model to JSON and load it again;
6. apply the loaded model to every Li in every frame, P_R(S) (probability to rearrange vs softness) and a figure.

With your own data, replace block 1 by the path of your dump and your ``type_map`` and ``timestep_ps`` (time
between stored frames, ps).

    python examples/softness_on_lammps.py [--small] [--out DIR]

Writes ``DIR/run.lammpstrj``, ``DIR/softness_model.json``, ``DIR/softness.nc`` and ``DIR/softness.png``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import ssefeat
from ssefeat import io
from ssefeat.dynamics import phop
from ssefeat.features import li_sulfide, structure_functions
from ssefeat.softness import SoftnessModel, rearrangement_probability, train_softness

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import lips_hopping, small_mode  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny data, a few seconds (CI)")
    ap.add_argument("--out", default="softness_on_lammps_output")
    args = ap.parse_args(argv)
    small = args.small or small_mode([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- 1. a LAMMPS dump (replace this block by your own file) ------------------------------------------------
    synthetic = lips_hopping(n_frames=80 if small else 400, grid=2 if small else 3, seed=1)
    dump = io.export(ssefeat.wrap(synthetic), out / "run.lammpstrj", species_column="type")
    type_map = {1: "Li", 2: "P", 3: "S"}  # export numbers the types by first appearance: Li, P, S

    # --- 2. read it back -------------------------------------------------------------------------------------
    ds = io.read(dump, type_map=type_map, timestep_ps=0.1)  # 0.1 ps between stored frames
    ds = ssefeat.unwrap(ds)  # uses the ix iy iz image flags
    print(f"read {dump}: {ds.sizes['frame']} frames, {ds.sizes['atom']} atoms, species "
          f"{dict(zip(*np.unique(ds.species.values, return_counts=True)))}")

    # --- 3. structure functions of every Li ------------------------------------------------------------------
    params = li_sulfide()  # Li-centred, neighbours Li and S; radial cutoff 7 Å (below half the box)
    features = structure_functions(ds, params, centre="Li")
    print(f"features: {dict(features.sizes)} ({params.n_radial} radial, {params.n_angular} angular)")

    # --- 4. rearrangement labels: p_hop over t_R = 1 ps ----------------------------------------------------
    labels = phop(ds, t_R=1.0, species="Li")["phop"]  # Å^2; NaN where the window does not fit

    # --- 5. train the hyperplane, save / load the model ------------------------------------------------------
    r_cut = float(np.nanquantile(labels.values, 0.95))    # rearranging: top 5 % of p_hop
    nr_cut = float(np.nanquantile(labels.values, 0.5))    # quiet: below the median over +- 2 frames
    # C=None picks the regularisation by cross-validation over frame blocks (what you want); --small fixes it
    model, report = train_softness(features, labels, r_cut=r_cut, nr_cut=nr_cut, window=2, seed=0,
                                   C=0.1 if small else None)
    test = report["test"]
    print(f"softness model: C = {report['C']}, held-out balanced accuracy "
          f"{test['balanced_accuracy']:.2f} on {test['n_samples']} samples")
    model.save(out / "softness_model.json")
    model = SoftnessModel.load(out / "softness_model.json")  # plain JSON with a checksum: no pickle

    # --- 6. apply, P_R(S), figure ----------------------------------------------------------------------------
    S = model.apply(features)
    S.to_dataset(name="softness").to_netcdf(out / "softness.nc")
    finite = S.values[np.isfinite(S.values)]
    pr = rearrangement_probability(S, labels, r_cut=r_cut, horizon=5, bins=8,
                                   s_range=(float(np.quantile(finite, 0.01)), float(np.quantile(finite, 0.99))),
                                   min_count=5)
    ok = np.isfinite(pr.P_R.values)
    print("P_R(S) within 5 frames:", ", ".join(f"S={s:+.1f}: {p:.3f}" for s, p in zip(pr.S.values[ok],
                                                                                        pr.P_R.values[ok])))
    from ssefeat.plots import softness as splots
    from ssefeat.plots.style import new_figure, save

    fig, (a, b) = new_figure(1, 2, figsize=(8, 3.2))
    splots.softness_histogram(S, bins=np.linspace(*np.quantile(finite, [0.01, 0.99]), 40), ax=a)
    splots.rearrangement_probability(pr, ax=b)
    save(fig, out / "softness.png")
    print(f"wrote {out}/softness_model.json, softness.nc, softness.png")


if __name__ == "__main__":
    main()
