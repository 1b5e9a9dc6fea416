"""CLI: ``ssefeat features`` (structure functions and descriptors per atom) and ``ssefeat feature-params``."""
from __future__ import annotations

import click

from ..errors import ParameterError
from .group import main, read_options
from .io_commands import closed_at_exit

#: the named parameter sets of ssefeat.features.parameters.SYSTEMS (kept here so the CLI imports stay light)
_SYSTEM_NAMES = ["li_sulfide", "li_li", "kob_andersen", "kob_andersen_radial"]


#: Further per-atom feature makers that ``ssefeat features --with NAME`` adds beside the structure functions:
#: name -> callable(ds, centre) returning a DataArray (frame, atom, feature) for the atoms of ``centre`` with the
#: feature coordinates of :data:`ssefeat.features.parameters.FEATURE_COORDS` (see :func:`register_feature_maker`).
FEATURE_MAKERS: dict = {}


def register_feature_maker(name: str, maker) -> None:
    """Make ``maker(ds, centre) -> DataArray (frame, atom, feature)`` available as ``--with name``."""
    FEATURE_MAKERS[str(name)] = maker


def _parameters(system, params_file, centre):
    from ..features.parameters import SYSTEMS, ParameterSet

    if system and params_file:
        raise ParameterError("give either --system or --params, not both.",
                             fix="--system picks a built-in parameter set, --params a JSON file of one; keep one.")
    p = ParameterSet.from_json(params_file) if params_file else SYSTEMS[system or "li_sulfide"]()
    return p.replace(centre=centre) if centre else p


@main.command("features")
@click.argument("traj", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(),
              help="feature file to write: .nc (netCDF, variable 'features') or .zarr")
@click.option("--table", default=None, type=click.Path(), help="also write a flat table (.parquet or .csv)")
@click.option("--system", type=click.Choice(_SYSTEM_NAMES), default=None,
              help="default parameter set [li_sulfide]")
@click.option("--params", "params_file", default=None, type=click.Path(),
              help="parameter set JSON (see `ssefeat feature-params`)")
@click.option("--centre", default=None, help="centre species (overrides the parameter set), e.g. Li")
@click.option("--descriptors/--no-descriptors", default=False, show_default=True,
              help="add coordination numbers, Voronoi volume, q4/q6, local density, potential energy")
@click.option("--with", "extra", multiple=True, metavar="NAME",
              help="add a registered feature maker (repeatable); see FEATURE_MAKERS")
@read_options("chunk", "start", "stop", "stride", "topology", "type_map")
@click.option("--min-distance", type=float, default=0.1, show_default=True,
              help="closer atom pairs are reported as overlapping (length unit)")
@click.option("--threads", type=int, default=None, help="numba threads (default: all)")
@read_options("overwrite", "quiet")
def features(traj, output, table, system, params_file, centre, descriptors, extra, chunk, start, stop, stride,
             topology, type_map, min_distance, threads, overwrite, quiet):
    """Per-atom structure functions (and descriptors) of TRAJ, chunk by chunk, into OUTPUT (and --table)."""
    from .. import io
    from ..features.assemble import assemble_features
    from ..features.descriptors import DEFAULTS
    from ..features.table import write_feature_chunks

    params = _parameters(system, params_file, centre)
    if descriptors and params.name not in DEFAULTS:
        raise ParameterError(f"--descriptors needs system defaults; the parameter set is named {params.name!r}.",
                             fix=f"name the parameter set one of {sorted(DEFAULTS)} or compute descriptors with "
                                 "the Python API (ssefeat.features.descriptors.descriptors).")

    unknown = [name for name in extra if name not in FEATURE_MAKERS]
    if unknown:
        raise ParameterError(f"unknown feature maker(s) {unknown} for --with.",
                             fix=f"use one of {sorted(FEATURE_MAKERS) or 'none registered'}.")

    def featurize(ds):
        return assemble_features(ds, params, descriptors={"system": params.name} if descriptors else None,
                                 makers=[FEATURE_MAKERS[name] for name in extra], min_distance=min_distance,
                                 n_threads=threads)

    chunks = closed_at_exit(io.iter_chunks(traj, int(chunk), topology=topology, type_map=type_map, start=start,
                                           stop=stop, stride=stride))
    from ..progress import progress_bar

    with progress_bar(unit="frame", desc="features", disable=quiet) as bar:
        info = write_feature_chunks(chunks, featurize, output, table=table, overwrite=overwrite, progress=bar)
    click.echo(f"{info['frames']} frames x {info['atoms']} {params.centre} atoms x {info['features']} features "
               f"(parameters {params.name}, fingerprint {params.fingerprint}) -> {output}"
               + (f", {table}" if table else ""))


@main.command("feature-params")
@click.option("--system", type=click.Choice(_SYSTEM_NAMES), default="li_sulfide",
              show_default=True)
@click.option("--centre", default=None, help="centre species")
@click.option("-o", "--output", default=None, type=click.Path(), help="write the JSON here (default: print)")
def feature_params(system, centre, output):
    """Write a structure-function parameter set as JSON, to edit and pass to `ssefeat features --params`."""
    params = _parameters(system, None, centre)
    text = params.to_json(output)
    if output is None:
        click.echo(text)
    else:
        click.echo(f"{params.n_features} features, fingerprint {params.fingerprint} -> {output}")
