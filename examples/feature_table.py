"""Building a feature table for your own ML model.

Shows two ways to get per-atom features into your own machine learning:

A. a self-describing table: structure functions + descriptors (coordination numbers, Voronoi volume, Steinhardt
   q4 / q6, local density) of every Li in every frame -> one parquet file (rows: frame, atom; columns: features; the
   parameters of every column stored in the file's metadata), read back with pandas, joined with a per-atom target
   (here: does this Li hop within the next ps, from p_hop);
B. a scikit-learn Pipeline: ``StructureFeaturizer`` (trajectory in, feature rows out) -> ``StandardScaler`` ->
   ``LogisticRegression``, fitted on the first frames and scored on later frames (never random rows: neighbouring
   frames share structure).

    python examples/feature_table.py [--small] [--out DIR]

Writes ``DIR/features.parquet`` and ``DIR/features_with_target.parquet``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ssefeat.dynamics import phop
from ssefeat.features import (StructureFeaturizer, concat_features, descriptors, li_sulfide, read_table,
                              structure_functions, write_table)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import lips_hopping, small_mode  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny data, a few seconds (CI)")
    ap.add_argument("--out", default="feature_table_output")
    args = ap.parse_args(argv)
    small = args.small or small_mode([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- a trajectory (replace by ds = ssefeat.io.read("run.xtc", topology="top.pdb", stride=10)) ------------------
    ds = lips_hopping(n_frames=75 if small else 400, grid=2 if small else 3, seed=3)

    # --- A. a feature table -------------------------------------------------------------------------------------
    params = li_sulfide()                       # or your own ParameterSet(...) / a JSON file of one
    sf = structure_functions(ds, params, centre="Li")
    desc = descriptors(ds, centre="Li", system="li_sulfide")  # CN (Li-S, Li-Li, Li-P), Voronoi, q4, q6, density
    features = concat_features([sf, desc])
    write_table(features, out / "features.parquet")

    df = read_table(out / "features.parquet")
    print(f"features.parquet: {df.shape[0]} rows (frame, atom) x {df.shape[1]} columns; first descriptor columns:")
    print(df[["frame", "atom", "species", "cn_Li-S", "voronoi_volume", "q6"]].head(3).to_string(index=False))
    meta = df.attrs["ssefeat"]["feature_coords"]
    k = meta["feature"].index("G_Li-S_mu2.4_L0.1") if "G_Li-S_mu2.4_L0.1" in meta["feature"] else 0
    print(f"column {meta['feature'][k]!r}: kind {meta['kind'][k]}, mu {meta['mu'][k]} Å, cutoff {meta['cutoff'][k]} Å")

    # a per-atom target joined on (frame, atom): does this Li hop within the next t_R = 1 ps?
    p = phop(ds, t_R=1.0, species="Li")["phop"]
    future = p.rolling(frame=10).max().shift(frame=-9)  # max of p_hop over [t, t + 1 ps]; NaN near the ends
    hop = (future > 1.0).where(np.isfinite(future))      # p_hop > 1 Å^2: a hop
    target = hop.rename("hops_soon").to_dataframe()[["hops_soon"]].reset_index()
    table = df.merge(target, on=["frame", "atom"]).dropna(subset=["hops_soon"])
    table.to_parquet(out / "features_with_target.parquet", index=False)
    print(f"features_with_target.parquet: {len(table)} rows, {table.hops_soon.mean():.1%} positive")

    # --- B. a scikit-learn pipeline ---------------------------------------------------------------------------
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = hop.transpose("frame", "atom").values  # (frame, Li): same row order as StructureFeaturizer (frame-major)
    frames = np.flatnonzero(np.isfinite(y).all(axis=1))  # frames whose window fits
    cut = frames[int(0.7 * len(frames))]
    train, test = frames[frames < cut], frames[frames > cut + 10]  # a gap of t_R between train and test
    model = make_pipeline(StructureFeaturizer(params=params, centre="Li"), StandardScaler(),
                          LogisticRegression(C=0.05, class_weight="balanced", max_iter=500))
    model.fit(ds.isel(frame=train), y[train].ravel().astype(int))
    pred = model.predict(ds.isel(frame=test))
    score = balanced_accuracy_score(y[test].ravel().astype(int), pred)
    print(f"sklearn Pipeline (StructureFeaturizer -> StandardScaler -> LogisticRegression): {len(train)} training "
          f"frames, balanced accuracy on {len(test)} later frames {score:.2f}")
    names = model[0].get_feature_names_out()
    top = np.argsort(-np.abs(model[-1].coef_[0]))[:3]
    print("largest weights:", ", ".join(f"{names[i]} {model[-1].coef_[0][i]:+.2f}" for i in top))


if __name__ == "__main__":
    main()
