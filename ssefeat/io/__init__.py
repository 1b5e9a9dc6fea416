"""Reading and writing trajectories.

- :func:`read` any supported file into the trajectory Dataset (:mod:`ssefeat.data`), in Å, ps, eV;
- :func:`iter_chunks` streams the same Datasets a few frames at a time (global ``frame`` indices kept);
- :func:`write` ssefeat's own netCDF / zarr (everything kept, atomic);
- :func:`export` extxyz and LAMMPS dumps for OVITO and friends.

Formats (by ``format=``, else the case-insensitive name, else the content: :mod:`ssefeat.io.formats`,
:mod:`ssefeat.io.sniff`): ssefeat netCDF (.nc) and zarr (.zarr); through mdtraj xtc, trr, dcd, AMBER netCDF, h5,
pdb, gro; through ASE extxyz (.xyz, .extxyz, .exyz), POSCAR / CONTCAR, vasprun.xml; ssefeat's own XDATCAR and
LAMMPS text dump (.lammpstrj, .dump) readers. Text formats may be gzip / bzip2 / xz compressed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import xarray as xr

from ..errors import ParameterError, SchemaError, UnknownFormatError
from .atomic import atomic_output  # noqa: F401
from .export import export  # noqa: F401
from .formats import FORMATS, ReadOptions, check_path, detect_format, format_from_name, normalise_format

__all__ = ["read", "iter_chunks", "write", "export", "detect_format", "FORMATS", "atomic_output"]


def _module(fmt: str):
    family = FORMATS[fmt].family
    if family == "native":
        from . import native as mod
    elif family == "mdtraj":
        from . import mdtraj_formats as mod
    elif family == "ase":
        from . import ase_formats as mod
    elif family == "xdatcar":
        from . import xdatcar as mod
    else:
        from . import lammps_dump as mod
    return mod


def _prepare(path, format, kwargs):
    p = check_path(path)
    fmt = detect_format(p, format)
    return p, fmt, ReadOptions(**kwargs, species_from_file=_species_from_file)


def _species_from_file(path, fmt: str):
    """The species of any file ssefeat reads (its first frame), for a topology file mdtraj cannot load."""
    return read(path, fmt, stop=1)["species"].values


def read(path, format: str | None = None, *, topology=None, start: int | None = None, stop: int | None = None,
         stride: int | None = None, atoms=None, type_map=None, cell=None, timestep_ps: float | None = None
         ) -> xr.Dataset:
    """Read a trajectory file into the ssefeat trajectory Dataset (positions Å, cell rows Å, time ps).

    Parameters
    ----------
    path : str or Path
    format : str, optional
        Format name (see ``ssefeat.io.FORMATS``); default from the extension.
    topology : path, list of species or mdtraj.Topology, optional
        Atom names for formats without them (xtc, trr, dcd, AMBER netCDF; LAMMPS dumps without type_map).
    start, stop, stride : int, optional
        Frames ``start, start + stride, ... < stop`` (0-based); the ``frame`` coordinate keeps these indices.
    atoms : str, list of str, or indices, optional
        Species name(s) or atom indices to keep; raises SelectionError when nothing matches.
    type_map : dict, sequence or "1=Li,2=P", optional
        LAMMPS type -> element symbol.
    cell : (3,), (3, 3) or (n_frames, 3, 3), optional
        Cell (Å, rows a, b, c) replacing the file's (for files without one, e.g. pdb or xyz).
    timestep_ps : float, optional
        Time between the file's frames in ps; sets time = frame x timestep_ps (overrides the file's times).
    """
    p, fmt, opts = _prepare(path, format, dict(topology=topology, start=start, stop=stop, stride=stride,
                                               atoms=atoms, type_map=type_map, cell=cell, timestep_ps=timestep_ps))
    chunks = list(_module(fmt).iter_chunks(p, fmt, opts, None))
    if not chunks:
        raise SchemaError(f"{p}: no frame selected (start={start}, stop={stop}, stride={stride}).",
                          fix="check the number of frames in the file (ssefeat info FILE) and start/stop/stride.")
    return _joined(chunks)


def _joined(chunks: list) -> xr.Dataset:
    """One Dataset of the chunks of one trajectory, along ``frame``."""
    return chunks[0] if len(chunks) == 1 else xr.concat(chunks, dim="frame", data_vars="minimal", coords="minimal",
                                                         compat="override")


def iter_chunks(path, frames_per_chunk: int = 100, format: str | None = None, **read_kwargs
                ) -> Iterator[xr.Dataset]:
    """Yield the trajectory ``frames_per_chunk`` frames at a time, never holding the whole file.

    Takes the keywords of :func:`read`; every chunk is a valid trajectory Dataset whose ``frame`` coordinate holds
    global frame indices. Streams for ssefeat netCDF/zarr, mdtraj formats, extxyz and LAMMPS dumps (pdb, gro,
    XDATCAR and vasprun.xml are parsed whole by their libraries and then cut into chunks).
    """
    if int(frames_per_chunk) < 1:
        raise ParameterError(f"frames_per_chunk={frames_per_chunk} must be at least 1.", fix="give a positive size.")
    p, fmt, opts = _prepare(path, format, read_kwargs)
    yield from _module(fmt).iter_chunks(p, fmt, opts, int(frames_per_chunk))


def write(data, path, format: str | None = None, overwrite: bool = True) -> Path:
    """Write a trajectory to ssefeat netCDF (.nc) or zarr (.zarr), validated and atomic; returns the path.

    ``data`` is a Dataset or an iterable of chunk Datasets (e.g. :func:`iter_chunks`): zarr appends chunk by chunk,
    netCDF joins them in memory first. Text formats (extxyz, LAMMPS dump) are forwarded to :func:`export`.
    """
    fmt = normalise_format(format) if format is not None else format_from_name(path)
    if fmt in ("extxyz", "lammps-dump"):
        return export(data, path, fmt, overwrite=overwrite)
    from . import native

    if fmt == "netcdf":
        if not isinstance(data, xr.Dataset):
            data = _joined(list(data))
        return native.write_netcdf(data, path, overwrite=overwrite)
    if fmt == "zarr":
        return native.write_zarr(data, path, overwrite=overwrite)
    raise UnknownFormatError(f"cannot write {path} (format {fmt or 'unknown'}).",
                             fix="write .nc (netCDF) or .zarr; export() writes .xyz/.extxyz and .lammpstrj/.dump.")
