"""Formats read through mdtraj: xtc, trr, dcd, AMBER netCDF, mdtraj HDF5, pdb, gro and mdtraj's LAMMPS reader.

Conversions: positions nm -> Å (x 10; mdtraj's float32 is kept); mdtraj's unit-cell lengths (nm) and angles
(degrees) -> ``cell`` rows in Å with a along x and b in the xy plane (as mdtraj's ``unitcell_vectors``); time in ps
as stored (xtc, trr, AMBER netCDF, h5, gro). dcd, pdb and LAMMPS files store no
time: time is then the frame index unless ``timestep_ps`` is given. Species are the topology's element symbols
(atom names for atoms without an element).

The topology (``topology=``) may be a file mdtraj can read (pdb, gro, h5, ...), any file ssefeat reads (its
species are used), an ``mdtraj.Topology``, a trajectory Dataset or a list of species symbols. pdb, gro and h5 carry
their own.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, ParameterError, TopologyMismatchError, param
from ..units import NM_TO_ANGSTROM
from .formats import ReadOptions, atom_indices, build, check_path, detect_format, errors_named
from .sniff import local_copy

#: formats whose files store the time of each frame
_HAS_TIME = {"xtc", "trr", "amber-netcdf", "h5", "gro"}


def _file_class(fmt: str):
    import mdtraj as md

    return {"xtc": md.formats.XTCTrajectoryFile, "trr": md.formats.TRRTrajectoryFile,
            "dcd": md.formats.DCDTrajectoryFile, "amber-netcdf": md.formats.NetCDFTrajectoryFile,
            "h5": md.formats.HDF5TrajectoryFile, "mdtraj-lammpstrj": md.formats.LAMMPSTrajectoryFile}[fmt]


def topology_from_species(species) -> "md.Topology":
    """An mdtraj Topology with one atom (and residue) per species symbol."""
    import mdtraj as md

    top = md.Topology()
    chain = top.add_chain()
    for s in species:  # one-off topology construction, not a hot path
        try:
            element = md.element.get_by_symbol(str(s))
        except KeyError:
            element = md.element.virtual
        top.add_atom(str(s), element, top.add_residue("UNK", chain))
    return top


def species_of(top) -> np.ndarray:
    """Element symbols of an mdtraj Topology's atoms (the atom name when the element is unknown)."""
    atoms = list(top.atoms)
    elements = [a.element for a in atoms]
    symbol = {el: (el.symbol if el is not None and el.symbol not in ("", "VS") else None) for el in set(elements)}
    if all(symbol.values()):
        return np.asarray([symbol[el] for el in elements], dtype=str)
    return np.asarray([symbol[el] or a.name for el, a in zip(elements, atoms)], dtype=str)


def topology_species(opts, path, fmt: str, n_atoms: int, order: str = "same order") -> np.ndarray:
    """The species of ``opts.topology`` for the ``n_atoms`` atoms of ``path``, refused when the counts differ
    (``order``: how the topology's atoms must be ordered, for the message)."""
    species = species_of(load_topology(opts.topology, path, fmt, opts.species_from_file))
    if species.size != n_atoms:
        raise TopologyMismatchError(f"the topology has {species.size} atoms but {path} has {n_atoms}.",
                                    fix=f"use the topology of this system (same atoms, {order}).")
    return species


def load_topology(topology, path, fmt: str, species_from_file=None):
    """The mdtraj Topology for ``path`` (see the module docstring for what ``topology`` may be)."""
    import mdtraj as md
    import xarray as xr

    if topology is None:
        if fmt == "h5":
            with errors_named(path, fmt), _file_class(fmt)(str(path)) as f:
                return f.topology
        raise ParameterError(f"{path} ({fmt}) stores coordinates only, no atom names.",
                             fix=f"give {param('topology', 'FILE')} (a pdb / gro / h5 file of the same system, or in "
                                 "Python a list of species symbols).")
    if isinstance(topology, md.Topology):
        return topology
    if isinstance(topology, xr.Dataset):
        return topology_from_species(topology["species"].values)
    if isinstance(topology, (list, tuple, np.ndarray)):
        return topology_from_species(topology)
    tpath = check_path(topology)
    try:
        return md.load_topology(str(tpath))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as err:
        try:  # any ssefeat-readable file can give the species
            tfmt = detect_format(tpath)
        except Exception:
            raise CorruptFileError(f"could not read the topology {tpath}: {type(err).__name__}: {err}",
                                   fix="give a pdb, gro or h5 file of the same system, or a list of species.") from err
        return topology_from_species(species_from_file(tpath, tfmt))


def _dcd_header_frames(path) -> int | None:
    """NSET, the number of frames a dcd header announces (mdtraj counts whole frames by file size instead)."""
    import struct

    with open(path, "rb") as fh:
        head = fh.read(12)
    for endian in "<>":
        if len(head) == 12 and struct.unpack(endian + "i", head[:4])[0] == 84 and head[4:8] == b"CORD":
            return struct.unpack(endian + "i", head[8:12])[0]
    return None


def _mismatch(path, fmt, top, topology, err) -> TopologyMismatchError:
    try:
        with _file_class(fmt)(str(path)) as f:
            in_file = f"{int(f.read(n_frames=1)[0].shape[1])} atoms"
    except Exception:  # noqa: BLE001 - the count is only for the message
        in_file = "a different number of atoms"
    return TopologyMismatchError(
        f"the topology {topology if isinstance(topology, (str, Path)) else '(given)'} has {top.n_atoms} atoms but "
        f"{path} has {in_file}.",
        fix="use the topology written with this trajectory (same atoms in the same order).")


def cell_from_lengths_angles(lengths, angles) -> np.ndarray:
    """Cell rows (..., 3, 3) from lengths (..., 3) and angles alpha, beta, gamma (..., 3) in degrees.

    a along x, b in the xy plane (mdtraj's and LAMMPS' convention); vectorised over frames (mdtraj's own
    ``unitcell_vectors`` checks every frame in Python, which dominated read times).
    """
    lengths = np.asarray(lengths, dtype=np.float64)
    al, be, ga = np.radians(np.asarray(angles, dtype=np.float64)).T if np.ndim(angles) > 1 else \
        np.radians(np.asarray(angles, dtype=np.float64))
    la, lb, lc = lengths.T if lengths.ndim > 1 else lengths
    cos_a, cos_b, cos_g, sin_g = np.cos(al), np.cos(be), np.cos(ga), np.sin(ga)
    cy = (cos_a - cos_b * cos_g) / sin_g
    cz = np.sqrt(np.clip(1.0 - cos_b ** 2 - cy ** 2, 0.0, None))
    zero = np.zeros_like(la)
    cell = np.stack([np.stack([la, zero, zero], -1), np.stack([lb * cos_g, lb * sin_g, zero], -1),
                     np.stack([lc * cos_b, lc * cy, lc * cz], -1)], -2)
    cell[np.abs(cell) < 1e-9 * np.abs(cell).max(initial=1.0)] = 0.0  # exact zeros for right angles
    return cell


def dcd_cell(lengths, angles) -> np.ndarray:
    """Cells (F, 3, 3) Å of a DCD from mdtraj's lengths (Å) and angles, undoing its reading of CHARMM box vectors.

    A DCD stores ``[A, gamma, B, beta, alpha, C]``. mdtraj (VMD's dcdplugin) decodes angle cosines (NAMD > 2.5,
    CHARMM) and angles in degrees (NAMD 2.5), but passes through the symmetric box matrix that CHARMM >= c36 writes
    (``[H11, H21, H22, H31, H32, H33]``), which makes nonsense angles (a zero-volume or skewed cell). As MDAnalysis
    does, a frame with a negative value or an angle above 180 degrees is read as that matrix, rows ``(H11, H21,
    H31), (H21, H22, H32), (H31, H32, H33)``: the box in the frame of the coordinates.
    """
    lengths = np.asarray(lengths, dtype=np.float64).reshape(-1, 3)
    angles = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    cell = cell_from_lengths_angles(lengths, angles)
    raw = np.stack([lengths[:, 0], angles[:, 2], lengths[:, 1], angles[:, 1], angles[:, 0], lengths[:, 2]], -1)
    matrix = np.any(raw < 0, axis=1) | np.any(angles > 180.0, axis=1)
    if matrix.any():
        h = raw[matrix]
        cell[matrix] = np.stack([h[:, [0, 1, 3]], h[:, [1, 2, 4]], h[:, [3, 4, 5]]], axis=1)
    return cell


def _to_dataset(traj, path, fmt, opts: ReadOptions, species, frames, sel=None):
    xyz = traj.xyz
    xyz *= NM_TO_ANGSTROM  # in place: mdtraj's array is ours
    cell = None
    if traj.unitcell_lengths is not None and fmt == "dcd":
        cell = dcd_cell(traj.unitcell_lengths * NM_TO_ANGSTROM, traj.unitcell_angles)
    elif traj.unitcell_lengths is not None:
        cell = cell_from_lengths_angles(traj.unitcell_lengths * NM_TO_ANGSTROM, traj.unitcell_angles)
    return build(path, fmt, opts, xyz, species, frames, cell=cell,
                 file_time=traj.time if fmt in _HAS_TIME else None, atom=sel)


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Trajectory Datasets of up to ``frames_per_chunk`` frames (None: everything in one)."""
    import mdtraj as md

    path = Path(path)
    if fmt in ("pdb", "gro"):
        with errors_named(path, fmt), local_copy(path) as local:
            traj = md.load(str(local), format="." + fmt) if local != path else md.load(str(path))
        species = species_of(traj.topology)
        sel = atom_indices(species, opts.atoms, path)
        frames = opts.frames_in(traj.n_frames)
        if sel is not None:
            traj = traj.atom_slice(sel)
            species = species[sel]
        step = frames_per_chunk or max(frames.size, 1)
        for i in range(0, max(frames.size, 1), step):
            yield _to_dataset(traj[frames[i:i + step]], path, fmt, opts, species, frames[i:i + step], sel)
        return

    top = load_topology(opts.topology, path, fmt, opts.species_from_file)
    species = species_of(top)
    sel = atom_indices(species, opts.atoms, path)
    if sel is not None:
        species = species[sel]
    with errors_named(path, fmt), _file_class(fmt)(str(path)) as f:
        if frames_per_chunk is None and opts.start is None and opts.stop is None and opts.step == 1:
            # the whole file in one read, as mdtraj.load does it
            # dcd and AMBER netCDF headers give the frame count: a shorter read means a truncated file
            expected = len(f) if fmt in ("dcd", "amber-netcdf") else None
            if fmt == "dcd":
                expected = max(expected, _dcd_header_frames(path) or 0)
            yield _read_block(f, path, fmt, opts, top, species, sel, None, opts.stride, 0, expected)
            return
        if frames_per_chunk is None and opts.step == 1:
            # contiguous frames: no need to count the file's frames first (a full scan for xtc / trr)
            if opts.first:
                try:
                    f.seek(opts.first)
                except Exception as err:
                    raise ParameterError(f"start={opts.first} is beyond the end of {path}.",
                                         fix="give a start below the number of frames (ssefeat info FILE).") from err
            n = None if opts.stop is None else opts.stop - opts.first
            yield _read_block(f, path, fmt, opts, top, species, sel, None, None, opts.first,
                              n_max=n)
            return
        # Exact reads: seek to the first frame of every chunk and never read past the end (mdtraj 1.11's strided
        # reads drift across chunk boundaries for xtc, and a strided read to the end of a trr with atom_indices
        # corrupts memory).
        frames = opts.frames_in(len(f))
        if frames.size == 0:
            yield _to_dataset(_empty(f, top, sel, fmt), path, fmt, opts, species, frames, sel)
            return
        step = frames_per_chunk or frames.size
        for i in range(0, frames.size, step):
            part = frames[i:i + step]
            f.seek(int(part[0]))
            yield _read_block(f, path, fmt, opts, top, species, sel, part.size, opts.stride, int(part[0]))


def _empty(f, top, sel, fmt):
    import mdtraj as md

    n = top.n_atoms if sel is None else len(sel)
    sub = top if sel is None else top.subset(sel)
    return md.Trajectory(np.zeros((0, n, 3), np.float32), sub)


def _read_block(f, path, fmt, opts, top, species, sel, n_frames, stride, first, expected=None, n_max=None):
    """``n_frames`` frames (None: to the end) every ``stride`` from the current position, as a Dataset."""
    try:
        args = () if fmt == "h5" else (top,)  # h5 files carry their topology
        # mdtraj 1.11 corrupts memory on strided trr reads with atom_indices: select atoms afterwards there
        late = fmt == "trr" and (stride or 1) > 1 and sel is not None
        n_read = n_frames if n_max is None else n_max  # n_max: up to that many (fewer at the end of the file)
        if fmt == "h5" and n_frames is not None:  # mdtraj's HDF5 reader counts frames before striding
            n_read = (n_frames - 1) * (stride or 1) + 1
        traj = f.read_as_traj(*args, n_frames=n_read, stride=stride, atom_indices=None if late else sel)
        if late:
            traj = traj.atom_slice(sel)
    except ValueError as err:
        if "same atoms" in str(err) or "shape" in str(err):
            raise _mismatch(path, fmt, top, opts.topology, err) from err
        raise
    expected = n_frames if n_frames is not None else expected
    if expected is not None and traj.n_frames != expected:
        raise CorruptFileError(f"{path}: expected {expected} frames from frame {first}, got {traj.n_frames}.",
                               fix="the file is probably truncated; re-copy or regenerate it.")
    frames = first + np.arange(traj.n_frames) * (stride or 1)
    return _to_dataset(traj, path, fmt, opts, species, frames, sel)
