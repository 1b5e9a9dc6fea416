"""CLI: ``ssefeat clusters`` (anion clusters, environments, Li-site polyhedra) and ``ssefeat rotation``."""
from __future__ import annotations

import click
import xarray as xr

from .. import defaults as D
from .group import main, read_options


def _read(traj, topology, type_map, start, stop, stride):
    from ..io import read

    return read(traj, topology=topology, type_map=type_map, start=start, stop=stop, stride=stride)


io_options = read_options("topology", "type_map", "start", "stop", "stride")


@main.command("clusters")
@click.argument("traj", type=click.Path())
@click.option("-o", "--output", type=click.Path(), required=True, help="output file (.nc)")
@click.option("--framework", default=",".join(D.FRAMEWORK), show_default=True, help="species of the anion bond graph")
@click.option("--mobile", default="Li", show_default=True, help="mobile ion whose environment is computed")
@click.option("--anion", default="S", show_default=True, help="anion atoms counted in the environment")
@click.option("--r-env", type=float, default=D.R_ENV, show_default=True, help="environment radius, Å")
@click.option("--polyhedra/--no-polyhedra", default=True, show_default=True,
              help="also Li-site polyhedra (T/O volume and CSM)")
@io_options
def clusters_cmd(traj, output, framework, mobile, anion, r_env, polyhedra, topology, type_map, start, stop, stride):
    """Anion clusters of TRAJ, the cluster environment of each mobile ion, and its site polyhedra."""
    from ..features.clusters import cluster_counts, find_clusters
    from ..features.environment import cluster_environment
    from ..features.polyhedra import li_polyhedra
    from ..io.stage_files import save_dataset

    from ..errors import ParameterError

    if not r_env > 0:
        raise ParameterError(f"--r-env {r_env} is not a positive radius.", fix=f"e.g. --r-env {D.R_ENV} (Å).")
    ds = _read(traj, topology, type_map, start, stop, stride)
    species = tuple(s.strip() for s in framework.split(","))
    cl = find_clusters(ds, species=species)
    counts = cluster_counts(cl)
    # every counted cluster type is a column of the environment (fraction 0 where it holds no anion atom)
    env = cluster_environment(ds, cl, mobile=mobile, anion=anion, r_env=r_env, species=species,
                              cluster_types=[str(t) for t in counts["cluster_type"].values])
    parts = [counts.to_dataset(name="cluster_count"), env.rename({v: f"env_{v}" for v in env.data_vars})]
    if polyhedra:
        parts.append(li_polyhedra(ds, centre=mobile, ligand=anion))
    out = xr.merge(parts, combine_attrs="drop_conflicts", compat="override", join="outer")
    save_dataset(out, output)
    mean = counts.mean("frame")
    click.echo("clusters per frame: " + ", ".join(f"{t} {float(v):.2f}" for t, v in
                                                   zip(mean["cluster_type"].values, mean.values)))
    click.echo(f"written to {output}")


@main.command("rotation")
@click.argument("traj", type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="output file (.nc)")
@click.option("--cluster-type", default=None, help="cluster type to follow (e.g. PS4); default all")
@click.option("--framework", default=",".join(D.FRAMEWORK), show_default=True, help="species of the anion bond graph")
@click.option("--lag", type=int, default=1, show_default=True, help="lag (frames) of the deflection angles")
@click.option("--plot", type=click.Path(), default=None, help="figure file (.png) of the autocorrelation")
@io_options
def rotation_cmd(traj, output, cluster_type, framework, lag, plot, topology, type_map, start, stop, stride):
    """Anion reorientation of TRAJ: P1/P2 autocorrelation, decorrelation times, deflection angles."""
    from ..dynamics.rotation import anion_orientations, deflection_angles, orientation_autocorrelation
    from ..io.stage_files import save_dataset

    ds = _read(traj, topology, type_map, start, stop, stride)
    u = anion_orientations(ds, cluster_type=cluster_type, species=tuple(s.strip() for s in framework.split(",")))
    acf = orientation_autocorrelation(u)
    defl = deflection_angles(u, lag=lag)
    out = xr.merge([acf, defl.rename({d: f"deflection_{d}" for d in defl.dims if d in acf.dims})],
                   combine_attrs="drop_conflicts", compat="override")
    if output:
        save_dataset(out, output)
    taus = {k: v for k, v in acf.attrs.items() if k.startswith("tau")} or {
        k: float(acf[k]) for k in acf.data_vars if k.startswith("tau") and acf[k].ndim == 0}
    click.echo("decorrelation times (ps): " + ", ".join(f"{k} {float(v):.3g}" for k, v in taus.items()))
    if plot:
        from ..plots.rotation import autocorrelation
        from ..plots.style import save

        fig, _ = autocorrelation(acf)
        save(fig, plot)
