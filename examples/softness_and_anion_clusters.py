"""Correlating Li softness with the anion clusters around each Li.

Shows how to ask "which anion environments make Li soft?":

1. a Li-P-S trajectory with PS4, P2S7 and P2S6 anions (synthetic here: Li sites next to P2S6 are shallower,
   next to P2S7 deeper, so the answer is known);
2. anion clusters (``find_clusters``: P-S / P-P bond graph, labelled by formula and topology) and the cluster
   environment of every Li (``cluster_environment``: fraction of the S within 5 Å that belong to each cluster type,
   and the type of the nearest cluster);
3. softness of every Li (structure functions -> p_hop labels -> hyperplane);
4. links: Pearson r with frame-bootstrap confidence intervals between softness and each environment fraction and
   descriptor (``softness_links``), softness split by nearest cluster type (``softness_by_environment``), and a
   LASSO from all of them to softness with held-out frames (``lasso_links``);
5. a figure (r with CIs; softness distributions by nearest cluster) and a CSV of the links.

    python examples/softness_and_anion_clusters.py [--small] [--out DIR]

Writes ``DIR/links.csv``, ``DIR/softness_by_environment.csv`` and ``DIR/softness_links.png``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr

from ssefeat.correlate import lasso_links, softness_by_environment, softness_links
from ssefeat.dynamics import phop
from ssefeat.features import (cluster_counts, cluster_environment, coordination_numbers, find_clusters,
                              li_sulfide, structure_functions, voronoi_volume)
from ssefeat.softness import train_softness

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import lips_hopping, small_mode  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny data, a few seconds (CI)")
    ap.add_argument("--out", default="softness_and_anion_clusters_output")
    args = ap.parse_args(argv)
    small = args.small or small_mode([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- 1. a trajectory (replace by ds = ssefeat.io.read("run.lammpstrj", type_map={1: "Li", 2: "P", 3: "S"})) ---
    ds = lips_hopping(n_frames=80 if small else 400, grid=2 if small else 3, seed=2,
                      fractions=(0.4, 0.3, 0.3))

    # --- 2. anion clusters and the environment of every Li --------------------------------------------------
    clusters = find_clusters(ds, species=("P", "S"))
    print("clusters per frame:", cluster_counts(clusters).isel(frame=0).to_series().to_dict())
    env = cluster_environment(ds, clusters, mobile="Li", anion="S", r_env=5.0)

    # --- 3. softness ----------------------------------------------------------------------------------------
    features = structure_functions(ds, li_sulfide(), centre="Li")
    labels = phop(ds, t_R=1.0, species="Li")["phop"]
    r_cut, nr_cut = (float(np.nanquantile(labels.values, q)) for q in (0.95, 0.5))
    model, report = train_softness(features, labels, r_cut=r_cut, nr_cut=nr_cut, window=2, seed=0,
                                   C=0.1 if small else None)
    S = model.apply(features)
    print(f"softness: held-out balanced accuracy {report['test']['balanced_accuracy']:.2f}")

    # --- 4. links ---------------------------------------------------------------------------------------------
    # per-Li descriptors (frame, atom): environment fractions, S coordination, Voronoi volume
    desc = xr.Dataset({f"fraction_{t}": env["fraction"].sel(cluster_type=t, drop=True)
                       for t in env["cluster_type"].values})
    desc["cn_Li-S"] = coordination_numbers(ds, {("Li", "S"): 3.0}, centre="Li").isel(feature=0, drop=True)
    desc["voronoi_volume"] = voronoi_volume(ds, centre="Li").isel(feature=0, drop=True)
    desc = desc.drop_vars([c for c in desc.coords if c not in ("frame", "atom")])
    S_plain = S.drop_vars([c for c in S.coords if c not in ("frame", "atom")])

    links = softness_links(S_plain, desc, n_boot=200 if small else 1000, seed=0)
    lasso = lasso_links(S_plain, desc, seed=0)
    links["lasso_coefficient"] = lasso["coefficient"]
    by_env = softness_by_environment(S, env["nearest_cluster_type"])
    table = links[["r", "ci_low", "ci_high", "p_value", "lasso_coefficient"]].to_dataframe()
    print(table.round(3).to_string())
    print(f"LASSO: alpha {lasso.attrs['alpha']:.3g}, R^2 on held-out frames {lasso.attrs['r2_test']:.2f}")
    print("mean softness by nearest cluster:",
          {str(c): round(float(m), 2) for c, m in zip(by_env.category.values, by_env["mean"].values)})
    table.to_csv(out / "links.csv")
    by_env[["count", "mean", "std", "fraction_soft"]].to_dataframe().to_csv(out / "softness_by_environment.csv")

    # --- 5. figure --------------------------------------------------------------------------------------------
    from ssefeat.plots.softness import correlation_bars, softness_histogram
    from ssefeat.plots.style import new_figure, save

    fig, (a, b) = new_figure(1, 2, figsize=(9, 3.4))
    correlation_bars(links, ax=a)
    lo, hi = np.nanquantile(S.values, [0.01, 0.99])  # leave out the rare outliers
    softness_histogram(S, by=env["nearest_cluster_type"], bins=np.linspace(lo, hi, 30), ax=b)
    b.set_title("softness by nearest anion cluster")
    save(fig, out / "softness_links.png")
    print(f"wrote {out}/links.csv, softness_by_environment.csv, softness_links.png")


if __name__ == "__main__":
    main()
