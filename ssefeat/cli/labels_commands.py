"""CLI: ``ssefeat labels`` (rearrangement labels: D2min, D_cum, p_hop, hop events, bond switching)."""
from __future__ import annotations

from pathlib import Path

import click

from .. import defaults as D
from ..errors import OutputError, ParameterError
from .group import main, read_options
from .io_commands import closed_at_exit

#: the kinds of ssefeat.dynamics.labels.LABEL_KINDS (kept here so the CLI imports stay light)
KINDS = ("p_hop", "d2min", "d_cum", "hops", "switching")


def _need(value, option: str, kind: str):
    if value is None:
        raise ParameterError(f"--kind {kind} needs {option}.", fix=f"add {option} ... to the command line.")
    return value


def _check_output(output: str) -> str:
    suffix = Path(output).suffix.lower()
    if suffix not in (".nc", ".zarr", ".parquet", ".csv"):
        raise ParameterError(f"cannot write labels to {output}.",
                             fix="use .nc (netCDF), .zarr, .parquet or .csv as the output extension.")
    return suffix


def _write(result, output: str, overwrite: bool) -> None:
    """netCDF (.nc), zarr (.zarr) or a flat table (.parquet / .csv), written atomically."""
    from ..io.atomic import atomic_output

    suffix = _check_output(output)
    with atomic_output(output, overwrite=overwrite) as tmp:
        if suffix == ".nc":
            result.to_netcdf(tmp)
        elif suffix == ".zarr":
            result.to_zarr(tmp, mode="w")
        else:
            if "event" in result.dims:
                from ..dynamics.hops import hop_table

                table = hop_table(result)
            else:
                per_frame = [v for v in result.data_vars if result[v].dims == ("frame", "atom")]
                table = result[per_frame].to_dataframe().reset_index()
            if suffix == ".parquet":
                table.to_parquet(tmp, index=False)
            else:
                table.to_csv(tmp, index=False)


@main.command("labels")
@click.argument("traj", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(),
              help="labels file: .nc (netCDF), .zarr, or a flat table .parquet / .csv")
@click.option("--kind", type=click.Choice(KINDS), default=D.LABEL_KIND, show_default=True,
              help="d2min: D2min(t0 -> t0 + lag) per frame and atom; d_cum: D2min summed over --window in steps of "
                   "--lag; p_hop: p_hop with window --tR; hops: hop events from p_hop peaks; switching: bond "
                   "switching relative to --reference")
@click.option("--cutoff", type=float, default=None, help="neighbour / bond cutoff (Å) [d2min, d_cum, switching]")
@click.option("--lag", type=int, default=D.LAG_FRAMES, show_default=True,
              help="lag in frames [d2min]; interval dt [d_cum]")
@click.option("--window", type=int, default=D.DCUM_WINDOW_FRAMES, show_default=True,
              help="D_cum window in frames, a multiple of --lag [d_cum]")
@click.option("--align", type=click.Choice(["forward", "centre"]), default=D.ALIGN, show_default=True,
              help="D_cum at t covers [t, t + window) or is centred on t [d_cum]")
@click.option("--tR", "t_R", type=float, default=None, help="p_hop window t_R in ps [p_hop, hops]")
@click.option("--tR-frames", "t_R_frames", type=int, default=D.T_R_FRAMES, show_default=True,
              help="p_hop window t_R in frames, used when --tR is not given [p_hop, hops]")
@click.option("--threshold", type=float, default=None, help="p_hop peak threshold in Å^2 [hops]")
@click.option("--species", default=None, help="atoms to label, e.g. Li (default all) [centre for switching]")
@click.option("--neighbor-species", default=None, help="species counted as neighbours [d2min, d_cum, switching]")
@click.option("--normalize", type=click.Choice(["sum", "mean"]), default=D.NORMALIZE, show_default=True,
              help="D2min as the sum over neighbours (OVITO) or the mean (LAMMPS / RSoft)")
@click.option("--reference", type=int, default=0, show_default=True, help="reference frame [switching]")
@read_options("start", "stop", "stride", "topology", "type_map", "timestep")
@click.option("--chunk", type=int, default=D.CHUNK_FRAMES, show_default=True,
              help="frames read at a time (windows are carried across chunks)")
@read_options("overwrite", "quiet")
def labels(traj, output, kind, cutoff, lag, window, align, t_R, t_R_frames, threshold, species, neighbor_species,
           normalize, reference, start, stop, stride, topology, type_map, timestep_ps, chunk, overwrite, quiet):
    """Rearrangement labels of TRAJ written to OUTPUT.

    d2min, d_cum and p_hop read TRAJ --chunk frames at a time and carry their time windows across chunks (the
    result equals the one-shot computation); so do switching (the reference shells are kept) and hops (two passes:
    p_hop and its peaks, then the hop vectors)."""
    from .. import io

    from ..io.atomic import check_folder

    _check_output(output)
    if Path(output).exists() and not overwrite:
        raise OutputError(f"{output} already exists.", fix="choose another name or pass --overwrite.")
    check_folder(Path(output).parent)
    read_kw = dict(topology=topology, type_map=type_map, start=start, stop=stop, stride=stride,
                   timestep_ps=timestep_ps)

    def streamed(iterate, *args, **kwargs):
        """Run a windowed label chunk by chunk (bounded memory) and join the disjoint pieces."""
        from ..dynamics.d2min import _concat_frames
        from ..progress import progress_bar

        parts = []
        with progress_bar(unit="frame", desc=f"labels ({kind})", disable=quiet) as bar:
            for part in iterate(closed_at_exit(io.iter_chunks(traj, int(chunk), **read_kw)), *args, **kwargs):
                parts.append(part)
                bar.update(part.sizes["frame"])
        return _concat_frames(parts)

    from ..dynamics.labels import LABEL_KINDS

    iterate = LABEL_KINDS[kind].iterate
    if kind == "d2min":
        result = streamed(iterate, lag, _need(cutoff, "--cutoff", kind), species, normalize,
                          neighbor_species=neighbor_species)
        summary = f"D2min lag {lag} frames, cutoff {cutoff} Å"
    elif kind == "d_cum":
        result = streamed(iterate, lag, window, _need(cutoff, "--cutoff", kind), species,
                          normalize, align=align, neighbor_species=neighbor_species)
        summary = f"D_cum dt {lag} frames over {window} frames, cutoff {cutoff} Å"
    elif kind == "p_hop":
        result = streamed(iterate, t_R, species, t_R_frames=None if t_R is not None else t_R_frames)
        summary = f"p_hop t_R {t_R} ps" if t_R is not None else f"p_hop t_R {t_R_frames} frames"
    elif kind == "hops":
        result = iterate(lambda: closed_at_exit(io.iter_chunks(traj, int(chunk), **read_kw)), t_R,
                         _need(threshold, "--threshold", kind), species,
                         t_R_frames=None if t_R is not None else t_R_frames)
        window_text = f"{t_R} ps" if t_R is not None else f"{t_R_frames} frames"
        summary = f"{result.sizes.get('event', 0)} hop events (t_R {window_text}, threshold {threshold} Å^2)"
    else:
        result = streamed(iterate, reference, _need(species, "--species", kind),
                          _need(neighbor_species, "--neighbor-species", kind), _need(cutoff, "--cutoff", kind))
        summary = f"bond switching {species}-{neighbor_species} within {cutoff} Å relative to frame {reference}"
    _write(result, output, overwrite)
    n_frames = result.sizes["frame"] if "frame" in result.dims else result.attrs["n_frames"]
    click.echo(f"{summary}: {n_frames} frames x {result.sizes['atom']} atoms -> {output}")
