"""CLI: ``ssefeat info FILE`` (what a trajectory holds) and ``ssefeat convert IN OUT`` (between formats).

Both stream the file chunk by chunk, so they work on trajectories larger than memory (netCDF output excepted:
it is assembled in memory; write .zarr for very large outputs).
"""
from __future__ import annotations

import json
import re

import click
import numpy as np

from ..data import Unwrapper, summary
from ..data import validate as ssefeat_validate
from ..errors import CorruptFileError, ParameterError
from .group import main, read_options

_common = read_options("topology", "type_map", "format", "timestep", "chunk")


def parse_selection(text: str | None):
    """``--select`` value: species names ("Li,S") or atom indices and ranges ("0-9,20", "0:10"); None = all."""
    if text is None or not text.strip():
        return None
    items = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    if all(re.fullmatch(r"\d+([-:]\d+)?", t) for t in items):
        idx = []
        for t in items:
            if "-" in t or ":" in t:
                a, b = (int(x) for x in re.split(r"[-:]", t))
                idx.extend(range(a, b + 1) if "-" in t else range(a, b))
            else:
                idx.append(int(t))
        if not idx:
            raise ParameterError(f"--select {text!r} selects no index.", fix="e.g. --select 0-9 or --select Li,S")
        return np.array(idx, dtype=np.int64)
    if any(re.fullmatch(r"[\d:-]+", t) for t in items):
        raise ParameterError(f"--select {text!r} mixes species names and indices.",
                             fix="give either species (--select Li,S) or indices (--select 0-9,20).")
    return items


def closed_at_exit(chunks):
    """Close a chunk generator when the command ends, also on an error: a suspended reader left to the garbage
    collector would close its file at a random moment, possibly inside another read holding the HDF5 lock."""
    click.get_current_context().call_on_close(chunks.close)
    return chunks


def nonempty(chunks, path):
    """The chunks of ``path``, refusing a file that holds no frame (an empty or header-only file)."""
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None or first.sizes.get("frame", 0) == 0:
        raise CorruptFileError(f"{path} holds no frames (it is empty, or the frame range selects none).",
                               fix="check the file (was it written completely?) and --start / --stop / --stride.")
    yield first
    yield from chunks


def _summarise(chunks) -> dict:
    """Summary of a whole trajectory from its chunks (counts, time span, cell and volume range, density)."""
    from .. import box

    out = None
    n_frames = 0
    vol_min, vol_max, vol_sum, cell_first, varying = np.inf, -np.inf, 0.0, None, False
    last_t, dt_lo, dt_hi = None, np.inf, -np.inf
    for ds in chunks:
        if out is None:
            out = summary(ds)
            out["first_frame"] = int(ds.frame.values[0])
        n_frames += ds.sizes["frame"]
        times = np.concatenate([[] if last_t is None else [last_t], ds.time.values])
        if times.size > 1:  # spacing between frames, across chunk boundaries too
            dt_lo, dt_hi = min(dt_lo, float(np.diff(times).min())), max(dt_hi, float(np.diff(times).max()))
            out["dt_range_ps"] = (dt_lo, dt_hi)
        last_t = float(times[-1])
        out["time_ps"] = (out["time_ps"][0], float(ds.time.values[-1]))
        out["last_frame"] = int(ds.frame.values[-1])
        if "cell" in ds:
            cell = np.asarray(ds["cell"].values, dtype=np.float64)
            vol = box.cell_volume(cell)
            vol_min, vol_max, vol_sum = min(vol_min, vol.min()), max(vol_max, vol.max()), vol_sum + vol.sum()
            cell_first = cell[0] if cell_first is None else cell_first
            varying |= not np.allclose(cell, cell_first)
    out["n_frames"] = n_frames
    out.pop("density_g_cm3", None)  # of the first chunk only; recomputed by the caller from the mean volume
    if cell_first is not None:
        out["volume_A3"] = (float(vol_min), float(vol_max))
        out["cell_constant"] = not varying
        out["number_density_per_A3"] = out["n_atoms"] / (vol_sum / n_frames)  # over the mean volume
    return out


def _text(info: dict, path) -> str:
    lines = [f"file        {path}  ({info['format']})",
             f"atoms       {info['n_atoms']}: " + ", ".join(f"{s} {n}" for s, n in info["species"].items()),
             f"frames      {info['n_frames']} (frame {info['first_frame']} .. {info['last_frame']})"]
    if all(str(sp).isdigit() for sp in info["species"]):
        lines.insert(2, "            (LAMMPS type numbers: name them with --type-map 1=Li,2=P,...)")
    t0, t1 = info["time_ps"]
    dt = info.get("timestep_ps")
    time_line = f"time        {t0:g} .. {t1:g} ps" + (f", {dt:g} ps between frames" if dt else "")
    lo, hi = info.get("dt_range_ps", (dt, dt))
    if dt and lo is not None and not np.isclose(lo, hi, rtol=1e-4):
        time_line = (f"time        {t0:g} .. {t1:g} ps, uneven: {lo:g} .. {hi:g} ps between frames (frames missing "
                     "from the file keep their times; MSD needs even spacing)")
    if info.get("time_is_frame_index"):
        time_line = "time        frame index only (no times in the file; give --timestep)"
    lines.append(time_line)
    if info.get("cell_lengths") is None:
        lines.append("cell        none (not periodic; periodic analyses need a cell)")
    else:
        a, b, c = info["cell_lengths"]
        al, be, ga = info["cell_angles"]
        v0, v1 = info["volume_A3"]
        lines.append(f"cell        a={a:.4f} b={b:.4f} c={c:.4f} Å, alpha={al:.2f} beta={be:.2f} gamma={ga:.2f} deg"
                     + ("" if info["cell_constant"] else " (first frame; the cell changes)"))
        flags = str(info.get("pbc", "T T T")).split()
        open_axes = [v for v, f in zip("abc", flags) if f != "T"]
        lines.append("periodic    " + ("a, b and c" if not open_axes else
                                       f"pbc {' '.join(flags)}: not along {', '.join(open_axes)} (no minimum image "
                                       "across it)"))
        lines.append(f"volume      {v0:.4f} Å^3" if np.isclose(v0, v1) else f"volume      {v0:.4f} .. {v1:.4f} Å^3")
        dens = f"density     {info['number_density_per_A3']:.5f} atoms/Å^3"
        if "density_g_cm3" in info:
            dens += f", {info['density_g_cm3']:.4f} g/cm^3"
        lines.append(dens)
    lines.append(f"wrapped     {info['wrapped']}")
    present = [k[4:] for k, v in info.items() if k.startswith("has_") and v]
    present += [k for k in ("charge", "mass") if info.get(f"coord_{k}")]
    lines.append("optional    " + (", ".join(present) if present else "none"))
    if "temperature_K" in info:
        lines.append(f"temperature {info['temperature_K']:g} K")
    return "\n".join(lines)


@main.command("info")
@click.argument("file", type=click.Path())
@_common
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def info(file, topology, type_map, fmt, timestep_ps, chunk, as_json):
    """What FILE holds: atoms per species, frames, time span, cell, volume, density, wrapping, optional arrays."""
    from .. import io
    from ..io.formats import check_path

    fmt_name = io.detect_format(check_path(file), fmt)
    chunks = closed_at_exit(io.iter_chunks(file, chunk, format=fmt, topology=topology, type_map=type_map,
                                           timestep_ps=timestep_ps))
    first = {}

    def remember(gen):
        for ds in gen:
            if not first:
                first["attrs"] = dict(ds.attrs)
                first["coords"] = {k: k in ds.coords for k in ("charge", "mass")}
                if "mass" in ds.coords:
                    first["mass"] = float(ds["mass"].values.sum())
            yield ds

    summary = _summarise(remember(nonempty(chunks, file)))
    summary["format"] = fmt_name
    summary["time_is_frame_index"] = bool(first["attrs"].get("time_is_frame_index", 0))
    summary.update({f"coord_{k}": v for k, v in first["coords"].items()})
    if "mass" in first and "number_density_per_A3" in summary:
        from ..units import AMU_PER_ANGSTROM3_TO_G_PER_CM3

        mean_vol = summary["n_atoms"] / summary["number_density_per_A3"]
        summary["density_g_cm3"] = first["mass"] / mean_vol * AMU_PER_ANGSTROM3_TO_G_PER_CM3
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=float))
    else:
        click.echo(_text(summary, file))


@main.command("convert")
@click.argument("source", type=click.Path())
@click.argument("target", type=click.Path())
@_common
@read_options("start", "stop", "stride")
@click.option("--select", "selection", default=None,
              help='atoms to keep: species ("Li,S") or indices and ranges ("0-9,20", "0:10")')
@click.option("--to", "out_format", default=None, help="output format (netcdf, zarr, extxyz, lammps-dump)")
@click.option("--cell", default=None, help='cell for files without one: "a,b,c" or 9 numbers (rows), Å')
@click.option("--unwrap", is_flag=True, help="write unwrapped (continuous) positions; needs a cell")
@click.option("--lammps-types", is_flag=True,
              help="LAMMPS dump output: a numeric 'type' column (1, 2, ... by first appearance) instead of 'element'")
@click.option("--overwrite/--no-overwrite", default=True, show_default=True)
def convert(source, target, topology, type_map, fmt, timestep_ps, chunk, start, stop, stride, selection,
            out_format, cell, unwrap, lammps_types, overwrite):
    """Convert SOURCE to TARGET (.nc, .zarr, .xyz/.extxyz, .lammpstrj/.dump), optionally a subset of frames/atoms."""
    from .. import io

    cell_arr = None
    if cell:
        try:
            values = [float(x) for x in re.split(r"[,\s]+", cell.strip()) if x]
        except ValueError:
            values = []
        if len(values) not in (3, 9):
            raise ParameterError(f"--cell {cell!r} needs 3 lengths or 9 numbers.", fix='e.g. --cell 10,10,12')
        cell_arr = np.array(values).reshape(3 if len(values) == 3 else (3, 3))
    chunks = closed_at_exit(io.iter_chunks(source, chunk, format=fmt, topology=topology, type_map=type_map,
                                           start=start, stop=stop, stride=stride, atoms=parse_selection(selection),
                                           cell=cell_arr, timestep_ps=timestep_ps))
    chunks = nonempty(chunks, source)
    counted = {"frames": 0, "atoms": 0}
    if unwrap:
        unwrapper = Unwrapper()  # carries image counts from chunk to chunk
        chunks = (unwrapper(ssefeat_validate(ds, require_cell=True)) for ds in chunks)

    def count(gen):
        for ds in gen:
            counted["frames"] += ds.sizes["frame"]
            counted["atoms"] = ds.sizes["atom"]
            yield ds

    if lammps_types:
        from ..io.export import export_format

        from ..errors import UnknownFormatError

        try:
            dump = export_format(target, out_format) == "lammps-dump"
        except UnknownFormatError:
            dump = False
        if not dump:
            raise ParameterError("--lammps-types applies to LAMMPS dump outputs only.",
                                 fix="write a .lammpstrj / .dump file, or drop --lammps-types.")
        out = io.export(count(chunks), target, out_format, overwrite=overwrite, species_column="type")
    else:
        out = io.write(count(chunks), target, format=out_format, overwrite=overwrite)
    click.echo(f"wrote {out}: {counted['frames']} frames of {counted['atoms']} atoms")
