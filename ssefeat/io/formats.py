"""The format registry: which reader handles a file, and the contract every reader follows.

A format is chosen by ``format=`` (a name or alias, case-insensitive), else by the file name (case-insensitive
extension; ``XDATCAR*``, ``POSCAR*`` / ``CONTCAR*``, ``vasprun*.xml``; a ``.gz`` / ``.bz2`` / ``.xz`` suffix is
stripped for the text formats), else by the content (:mod:`ssefeat.io.sniff`). Text formats may be compressed
(gzip, bzip2, xz, recognised by their first bytes). An empty file is refused with a CorruptFileError.

The ``.nc`` rule: ``.nc`` / ``.netcdf`` / ``.ncdf`` files are opened and looked at. A file with a ``positions``
variable is ssefeat's own netCDF; one with global attribute ``Conventions = "AMBER"`` or a ``coordinates``
variable is an AMBER trajectory (read through mdtraj, needs a topology). ``format="netcdf"`` or
``format="amber-netcdf"`` skips the check.

Every reader returns trajectory Datasets (:func:`ssefeat.make_trajectory`) with global ``frame`` indices
(``start + k * stride``); :func:`build` turns the arrays into one and names the file in every schema error.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import (CorruptFileError, MissingFileError, ParameterError, SchemaError, SelectionError,
                      SsefeatError, UnknownFormatError, param)
from .sniff import COMPRESSED_SUFFIXES, check_not_empty, netcdf_contents, sniff


@dataclasses.dataclass(frozen=True)
class Format:
    """One supported file format."""

    name: str
    family: str  # "native", "mdtraj", "ase" or "lammps": the module that reads it
    extensions: tuple[str, ...]
    description: str
    needs_topology: bool = False
    writable: bool = False  # by ssefeat.io.write (native) or ssefeat.io.export (text formats)
    gzip_ok: bool = False  # a text format: may be gzip / bzip2 / xz compressed


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("netcdf", "native", (".nc", ".netcdf", ".ncdf"), "ssefeat trajectory netCDF (all variables and attrs)",
           writable=True),
    Format("zarr", "native", (".zarr",), "ssefeat trajectory zarr store (a directory)", writable=True),
    Format("amber-netcdf", "mdtraj", (), "AMBER netCDF trajectory (mdtraj)", needs_topology=True),
    Format("xtc", "mdtraj", (".xtc",), "GROMACS xtc (mdtraj; 1e-3 nm precision)", needs_topology=True),
    Format("trr", "mdtraj", (".trr",), "GROMACS trr (mdtraj)", needs_topology=True),
    Format("dcd", "mdtraj", (".dcd",), "CHARMM/NAMD/LAMMPS dcd (mdtraj)", needs_topology=True),
    Format("h5", "mdtraj", (".h5", ".hdf5"), "mdtraj HDF5 (carries its topology; needs PyTables)"),
    Format("pdb", "mdtraj", (".pdb", ".ent"), "PDB (mdtraj; cell from CRYST1)", gzip_ok=True),
    Format("gro", "mdtraj", (".gro",), "GROMACS gro (mdtraj)", gzip_ok=True),
    Format("mdtraj-lammpstrj", "mdtraj", (), "LAMMPS dump read by mdtraj (species from the topology)",
           needs_topology=True),
    Format("extxyz", "ase", (".extxyz", ".xyz", ".exyz"), "extended XYZ (ASE)", writable=True, gzip_ok=True),
    Format("xdatcar", "xdatcar", (".xdatcar",), "VASP XDATCAR (count lines checked; step numbers kept)",
           gzip_ok=True),
    Format("poscar", "ase", (".poscar", ".vasp"), "VASP POSCAR / CONTCAR, one frame (ASE)", gzip_ok=True),
    Format("vasprun", "ase", (".xml",), "VASP vasprun.xml (ASE)", gzip_ok=True),
    Format("lammps-dump", "lammps", (".lammpstrj", ".dump", ".lammpsdump"),
           "LAMMPS text dump (metal units; image flags, type_map; also .gz)", writable=True, gzip_ok=True),
)}

ALIASES = {
    "nc": "netcdf", "ssefeat": "netcdf", "ssefeat-netcdf": "netcdf", "netcdf4": "netcdf",
    "amber": "amber-netcdf", "mdtraj-netcdf": "amber-netcdf", "ncdf": "amber-netcdf",
    "hdf5": "h5", "xyz": "extxyz", "exyz": "extxyz", "vasp-xdatcar": "xdatcar", "vasp-xml": "vasprun",
    "vasp": "poscar", "contcar": "poscar",
    "lammpstrj": "lammps-dump", "lammps": "lammps-dump", "lammps-dump-text": "lammps-dump", "dump": "lammps-dump",
}


def format_from_name(path) -> str | None:
    """The format implied by a file name (case-insensitive), or None; ``.nc`` gives ``"netcdf"`` unsniffed."""
    name = Path(str(path).rstrip("/")).name.lower()
    base = next((name[:-len(s)] for s in COMPRESSED_SUFFIXES if name.endswith(s)), name)  # out.xyz.gz -> out.xyz
    gz = base != name
    if base.startswith("xdatcar") or base.endswith(".xdatcar"):
        return "xdatcar"
    if base.startswith(("poscar", "contcar")) and "." not in base.lstrip("._"):
        return "poscar"
    if base.startswith("vasprun") and base.endswith(".xml"):
        return "vasprun"
    for fmt in FORMATS.values():
        if any(base.endswith(ext) for ext in fmt.extensions) and (fmt.gzip_ok or not gz):
            return fmt.name
    return None


def normalise_format(format: str) -> str:
    """Canonical name of a format name or alias; raises UnknownFormatError."""
    key = str(format).lower().strip().lstrip(".")
    key = ALIASES.get(key, key)
    if key not in FORMATS:
        raise UnknownFormatError(f"unknown format {format!r}.",
                                 fix=f"use one of {', '.join(sorted(FORMATS))}.")
    return key


def sniff_netcdf(path) -> str:
    """``"netcdf"`` for an ssefeat netCDF, ``"amber-netcdf"`` for an AMBER one (see the module docstring)."""
    try:
        variables, conventions = netcdf_contents(path)
    except OSError as err:
        raise CorruptFileError(f"{path} is not a readable netCDF file ({err}).",
                               fix="check that the file is complete (not truncated by a crashed run or copy) "
                                   f"and really is netCDF; give the format ({param('format', 'NAME')}) if the "
                                   "extension is misleading.") from err
    if "positions" in variables:
        return "netcdf"
    if "AMBER" in conventions.upper() or "coordinates" in variables:
        return "amber-netcdf"
    raise UnknownFormatError(f"{path} is a netCDF file but neither an ssefeat trajectory (no 'positions' "
                             f"variable) nor an AMBER one (no 'coordinates'); it has {sorted(variables)}.",
                             fix="write it with ssefeat.io.write; for an AMBER file give the format amber-netcdf "
                                 "(--format amber-netcdf on the command line).")


def check_path(path) -> Path:
    """The path as a Path; raises MissingFileError naming it when it does not exist."""
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        hint = "check the spelling and the working directory"
        if p.parent.exists():
            near = sorted(x.name for x in p.parent.iterdir() if x.name.lower().startswith(p.name[:3].lower()))[:5]
            if near:
                hint += f"; similar names there: {', '.join(near)}"
        raise MissingFileError(f"{p} does not exist.", fix=hint + ".")
    return p


def detect_format(path, format: str | None = None) -> str:
    """Canonical format name for reading ``path``: ``format``, else the name, else the content (module docstring).

    Raises CorruptFileError for an empty file and UnknownFormatError, listing the rules tried, when nothing fits.
    """
    check_not_empty(path)
    if format is not None:
        return normalise_format(format)
    fmt = format_from_name(path)
    if fmt == "netcdf" and Path(path).is_file():
        return sniff_netcdf(path)
    if fmt is not None:
        return fmt
    found, tried = sniff(path)
    if found is None:
        raise UnknownFormatError(
            f"cannot tell the format of {path}: its name is not one ssefeat knows and its content matches none "
            f"of: {'; '.join(tried)}.",
            fix="give the format (--format NAME on the command line, format= in Python), one of "
                f"{', '.join(sorted(FORMATS))}.")
    return found


# --- the reader contract ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class ReadOptions:
    """Options shared by every reader (see :func:`ssefeat.io.read`)."""

    topology: object = None
    start: int | None = None
    stop: int | None = None
    stride: int | None = None
    atoms: object = None
    type_map: dict | None = None
    cell: object = None
    timestep_ps: float | None = None
    #: species of a topology file that mdtraj cannot load (set by ssefeat.io: any readable trajectory will do)
    species_from_file: object = None

    def __post_init__(self):
        for name in ("start", "stop", "stride"):
            value = getattr(self, name)
            if value is not None:
                if int(value) != value or value < (1 if name == "stride" else 0):
                    raise ParameterError(f"{name}={value!r} is not allowed.",
                                         fix=f"give {name} as an integer >= {1 if name == 'stride' else 0} "
                                             "(frames are counted from 0).")
                setattr(self, name, int(value))
        if self.start is not None and self.stop is not None and self.stop <= self.start:
            raise ParameterError(f"stop={self.stop} is not after start={self.start}: no frame would be read.",
                                 fix="give stop > start.")
        if self.timestep_ps is not None and not (float(self.timestep_ps) > 0):
            raise ParameterError(f"{param('timestep_ps', self.timestep_ps)} must be positive.",
                                 fix="give it in ps, > 0.")
        if self.type_map is not None:
            self.type_map = parse_type_map(self.type_map)

    @property
    def first(self) -> int:
        return self.start or 0

    @property
    def step(self) -> int:
        return self.stride or 1

    def frame_slice(self) -> slice:
        return slice(self.start, self.stop, self.stride)

    def frames_in(self, n_total: int) -> np.ndarray:
        """Global indices of the frames to read from a file of ``n_total`` frames."""
        return np.arange(n_total)[self.frame_slice()]

    def wants(self, index: int) -> bool:
        """Whether global frame ``index`` is selected (for streaming readers)."""
        return index >= self.first and (index - self.first) % self.step == 0 and (
            self.stop is None or index < self.stop)

    def past_end(self, index: int) -> bool:
        return self.stop is not None and index >= self.stop


def _type_key(key):
    """An integer LAMMPS type, or a label (extxyz species, e.g. ``"A"``) as it is."""
    text = str(key).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def parse_type_map(type_map) -> dict:
    """``{1: "Li", 2: "P"}`` from a dict, a sequence (type i+1 -> item i) or a string ``"1=Li,2=P"``; keys that are
    not integers are labels (``"A=Li,B=S"`` for the species labels of an extxyz)."""
    if isinstance(type_map, str):
        try:
            pairs = [item.split("=") for item in type_map.replace(" ", "").split(",") if item]
            return {_type_key(k): str(v) for k, v in pairs}
        except ValueError:
            raise ParameterError(f"cannot read the type map {type_map!r}.",
                                 fix="write it as TYPE=SPECIES pairs separated by commas, e.g. 1=Li,2=P,3=S "
                                     "(or LABEL=SPECIES, e.g. A=Li,B=S).")
    if isinstance(type_map, dict):
        return {_type_key(k): str(v) for k, v in type_map.items()}
    return {i + 1: str(v) for i, v in enumerate(type_map)}


def atom_indices(species: Sequence[str], atoms, path) -> np.ndarray | None:
    """Sorted indices of the atoms selected by ``atoms`` (species name(s) or indices); None = all atoms."""
    if atoms is None:
        return None
    species = np.asarray(species)
    n = species.size
    present = list(dict.fromkeys(species.tolist()))
    if isinstance(atoms, str) or (isinstance(atoms, (list, tuple)) and atoms and all(isinstance(a, str)
                                                                                    for a in atoms)):
        wanted = [atoms] if isinstance(atoms, str) else list(atoms)
        mask = np.isin(species, wanted)
        if not mask.any():
            raise SelectionError(f"the selection {param('atoms', ','.join(wanted))} matches no atom of {path}; "
                                 "its species are "
                                 f"{present}.", fix="use one of those species names (case-sensitive).")
        return np.flatnonzero(mask)
    if isinstance(atoms, slice):
        idx = np.arange(n)[atoms]
    else:
        idx = np.atleast_1d(np.asarray(atoms))
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        if not np.issubdtype(idx.dtype, np.integer):
            raise SelectionError(f"the selection {atoms!r} is neither species names nor integer indices.",
                                 fix="give a species name, a list of names, or atom indices.")
        bad = idx[(idx < -n) | (idx >= n)]
        if bad.size:
            raise SelectionError(f"atom index {int(bad[0])} is out of range: {path} has {n} atoms.",
                                 fix=f"use indices from 0 to {n - 1}.")
        idx = np.unique(np.where(idx < 0, idx + n, idx))
    if idx.size == 0:
        raise SelectionError(f"the selection {atoms!r} matches no atom of {path} ({n} atoms).",
                             fix="give at least one atom index or species present in the file.")
    return idx


@contextlib.contextmanager
def errors_named(path, fmt: str):
    """Re-raise schema errors with the file name, and library exceptions as CorruptFileError naming the file."""
    try:
        yield
    except SchemaError as err:
        if str(path) in err.what:
            raise
        raise type(err)(f"{path}: {err.what}", fix=err.fix) from err
    except SsefeatError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as err:  # library errors: truncated, corrupt or mislabelled files
        raise CorruptFileError(
            f"could not read {path} as {fmt}: {type(err).__name__}: {err}".rstrip(),
            fix="check that the file is complete (a crashed run or an interrupted copy truncates it) and of the "
                f"format its name says; give the format ({param('format', 'NAME')}) if the extension is "
                "misleading.") from err


def times_for(frames: np.ndarray, file_time, opts: ReadOptions):
    """Frame times (ps) and whether they are only frame indices.

    ``timestep_ps`` (time between the file's frames) overrides the file; without either, time = frame index.
    """
    if opts.timestep_ps is not None:
        return frames * float(opts.timestep_ps), False
    if file_time is not None:
        return np.asarray(file_time, dtype=np.float64), False
    return frames.astype(np.float64), True


class StepClock:
    """True times (ps) from a file's step numbers (LAMMPS TIMESTEP, XDATCAR configuration, extxyz ``step``) and
    ``timestep_ps``, the time between consecutive frames of the file.

    The step increment per file frame is taken from the first two frames read (``(s1 - s0) / (f1 - f0)``), so that
    ``time = timestep_ps * (f0 + (step - s0) / increment)``: frames missing from the file (gaps) keep their true
    times. A later increment smaller than that makes ``timestep_ps`` ambiguous and raises ParameterError.
    """

    def __init__(self, path, opts: ReadOptions):
        self.path, self.dt = path, opts.timestep_ps
        self.first = self.last = None
        self.increment = None

    @property
    def ready(self) -> bool:
        """Whether the times of the frames fed so far are known (two frames seen)."""
        return self.increment is not None

    def feed(self, frame: int, step) -> None:
        """Record the step number of file frame ``frame`` (frames in increasing order)."""
        if step is None or self.dt is None:
            return
        if self.first is None:
            self.first = self.last = (int(frame), int(step))
            return
        inc = (int(step) - self.last[1]) / (int(frame) - self.last[0])
        if self.increment is None:
            self.increment = (int(step) - self.first[1]) / (int(frame) - self.first[0])
        elif inc < self.increment * (1 - 1e-9):
            raise ParameterError(
                f"{self.path}: the step numbers go up by {self.increment:g} per frame at the start (frames "
                f"{self.first[0]}..) but by {inc:g} per frame before frame {frame} (step {step}): the time between "
                "frames (timestep) is ambiguous.",
                fix="read from a frame where the spacing is the regular one (start), or leave out the timestep "
                    "and set the times yourself.")
        self.last = (int(frame), int(step))

    def times(self, frames, steps):
        """Times (ps) of ``frames`` with ``steps``; None when there is no timestep or step numbers."""
        if self.dt is None or steps is None or any(s is None for s in steps) or self.first is None:
            return None
        frames = np.asarray(frames, dtype=np.float64)
        if self.increment is None:  # a single frame read
            return frames * float(self.dt)
        steps = np.asarray(steps, dtype=np.float64)
        return float(self.dt) * (self.first[0] + (steps - self.first[1]) / self.increment)


def build(path, fmt: str, opts: ReadOptions, positions, species, frames, *, cell=None, file_time=None,
          attrs=None, **arrays):
    """The trajectory Dataset of one read (or one chunk), with file-named errors.

    ``cell`` from the file is replaced by ``opts.cell`` when given. ``arrays`` go to
    :func:`ssefeat.make_trajectory` (velocities, forces, charge, images, pbc, ...). ``step_time``: times from the
    file's step numbers (:class:`StepClock`), used instead of ``frame x timestep_ps``.
    """
    from ..data import make_trajectory

    frames = np.asarray(frames, dtype=np.int64)
    step_time = arrays.pop("step_time", None)
    time, index_only = times_for(frames, file_time, opts)
    if step_time is not None:
        time = np.asarray(step_time, dtype=np.float64)
    if opts.cell is not None:
        cell = cell_per_frame(opts.cell, frames.size)
    all_attrs = {"format": fmt}
    if index_only:
        all_attrs["time_is_frame_index"] = 1
    all_attrs.update(attrs or {})
    # without timestep_ps, make_trajectory takes the median spacing of ``time``
    timestep = None if opts.timestep_ps is None else float(opts.timestep_ps) * opts.step
    with errors_named(path, fmt):
        return make_trajectory(positions, species, cell, time, frame=frames, source=str(path),
                               timestep_ps=timestep, attrs=all_attrs, **arrays)


def cell_per_frame(cell, n_frames: int) -> np.ndarray:
    """A (n_frames, 3, 3) cell (Å) from three lengths, one (3, 3) cell or one cell per frame."""
    c = np.asarray(cell, dtype=np.float64)
    if c.shape == (3,):
        c = np.diag(c)
    if c.shape == (3, 3):
        return np.repeat(c[None], n_frames, axis=0)
    if c.shape == (n_frames, 3, 3):
        return c
    raise ParameterError(f"cell= has shape {c.shape}; {n_frames} frames are read.",
                         fix="give three lengths (Å), one (3, 3) cell with vectors as rows, or one cell per frame.")


def chunked(iterable: Iterable, size: int):
    """Lists of up to ``size`` consecutive items."""
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
