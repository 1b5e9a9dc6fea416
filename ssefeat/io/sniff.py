"""Telling a file's format from its content, and opening compressed text files.

Used by :func:`ssefeat.io.formats.detect_format` when the name says nothing (``traj.exyz``, ``run1.gz``, ...).
Compression is recognised by its magic bytes (gzip ``1f 8b``, bzip2 ``BZh``, xz ``fd 37 7a 58 5a 00``), so a
compressed file needs no telling extension. The content rules, in order:

- a directory with zarr metadata -> zarr;
- binary signatures: netCDF classic ``CDF\\x01`` / ``CDF\\x02`` and HDF5 ``\\x89HDF`` (then: a ``positions``
  variable -> ssefeat netCDF, AMBER conventions or ``coordinates`` -> AMBER netCDF, mdtraj's ``topology`` -> h5),
  DCD (record length 84 then ``CORD``), GROMACS xtc (magic 1995) and trr (magic 1993);
- text: ``ITEM: TIMESTEP`` (or any ``ITEM:``) first -> LAMMPS dump; ``<?xml`` with a ``<modeling>`` root ->
  vasprun.xml; an atom count on the first line -> extxyz; a VASP header (scale, three lattice rows, species /
  counts) followed by ``Direct configuration=`` -> XDATCAR, by ``Direct`` / ``Cartesian`` / ``Selective`` ->
  POSCAR; ``ATOM`` / ``HETATM`` / ``CRYST1`` records -> pdb; a title, an atom count and fixed columns -> gro.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import re
import shutil
import struct
import tempfile
from pathlib import Path

from ..errors import CorruptFileError

_MAGIC = ((b"\x1f\x8b", "gz"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"))
_OPENERS = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def compression(path) -> str | None:
    """``"gz"``, ``"bz2"``, ``"xz"`` from the file's first bytes, or None (also for directories)."""
    p = Path(path)
    if not p.is_file():
        return None
    with open(p, "rb") as fh:
        head = fh.read(6)
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def open_binary(path):
    """The file opened for reading bytes, decompressed on the fly when it is gzip / bzip2 / xz."""
    kind = compression(path)
    return _OPENERS[kind](path, "rb") if kind else open(path, "rb")


def open_text(path):
    """The file as text (UTF-8, undecodable bytes replaced), decompressed on the fly."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8", errors="replace")


def head_bytes(path, n: int = 8192) -> bytes:
    """The first ``n`` (decompressed) bytes; raises CorruptFileError for an empty or unreadable file."""
    p = Path(path)
    try:
        with open_binary(p) as fh:
            head = fh.read(n)
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise CorruptFileError(f"{p} cannot be read ({type(err).__name__}: {err}).",
                               fix="check the file: a compressed file may be truncated (re-copy it).") from err
    if not head.strip():
        size = p.stat().st_size
        kind = "" if not size else (", only blank after decompression" if compression(p) else ", only blank space")
        raise CorruptFileError(f"{p} is empty ({size} bytes{kind}).",
                               fix="the run or the copy that made it did not write anything: re-run or re-copy it.")
    return head


def check_not_empty(path) -> None:
    """Raise CorruptFileError for an empty file (directories are left to their readers)."""
    if Path(path).is_file():
        head_bytes(path, 4096)


def netcdf_contents(path) -> tuple[set, str]:
    """(variable names, ``Conventions`` attribute) of a netCDF / HDF5 file; OSError when netCDF4 cannot open it."""
    import netCDF4

    with netCDF4.Dataset(str(path)) as nc:
        return set(nc.variables), str(getattr(nc, "Conventions", ""))


def _hdf_kind(path) -> str:
    """ssefeat netCDF, AMBER netCDF or mdtraj HDF5, for a file with a netCDF / HDF5 signature."""
    try:
        variables, conventions = netcdf_contents(path)
    except (OSError, ImportError):
        return "h5"  # HDF5 that netCDF4 cannot open: PyTables files such as mdtraj's
    if "positions" in variables:
        return "netcdf"
    if "AMBER" in conventions.upper():
        return "amber-netcdf"
    if "topology" in variables:
        return "h5"
    return "amber-netcdf" if "coordinates" in variables else "netcdf"


def _floats(line: str, n: int) -> bool:
    parts = line.split()
    if len(parts) < n:
        return False
    try:
        [float(x) for x in parts[:n]]
    except ValueError:
        return False
    return True


def _vasp_kind(lines: list[str]) -> str | None:
    """``"xdatcar"`` / ``"poscar"`` for a VASP header, else None."""
    if len(lines) < 8 or not _floats(lines[1], 1) or not all(_floats(x, 3) for x in lines[2:5]):
        return None
    k = 5
    if not lines[k].split()[0].isdigit():  # VASP 5: a line of species names first
        k += 1
    if not lines[k].split() or not all(x.isdigit() for x in lines[k].split()):
        return None
    following = lines[k + 1].strip().lower() if len(lines) > k + 1 else ""
    if "configuration" in following:
        return "xdatcar"
    if following[:1] in ("d", "c", "k", "s"):
        return "poscar"
    return None


def sniff(path) -> tuple[str | None, list[str]]:
    """(format name or None, the rules tried) from the content of ``path`` (see the module docstring)."""
    p = Path(path)
    tried = []
    if p.is_dir():
        tried.append("zarr store (a directory with .zgroup / .zmetadata / zarr.json)")
        if any((p / name).exists() for name in (".zgroup", ".zmetadata", "zarr.json")):
            return "zarr", tried
        return None, tried
    head = head_bytes(p)
    packed = compression(p) is not None
    tried.append("netCDF / HDF5 signature")
    if not packed and (head[:4] in (b"CDF\x01", b"CDF\x02") or head[:8] == b"\x89HDF\r\n\x1a\n"):
        return _hdf_kind(p), tried
    tried.append("DCD / xtc / trr signature")
    if len(head) >= 8:
        for endian in "<>":
            if struct.unpack(endian + "i", head[:4])[0] == 84 and head[4:8] == b"CORD":
                return "dcd", tried
        magic = struct.unpack(">i", head[:4])[0]
        if magic in (1995, 1993):
            return ("xtc" if magic == 1995 else "trr"), tried
    text = head.decode("latin-1")
    lines = text.splitlines()
    first = next((x.strip() for x in lines if x.strip()), "")
    tried.append("LAMMPS dump ('ITEM: TIMESTEP' first)")
    if first.startswith("ITEM:"):
        return "lammps-dump", tried
    tried.append("vasprun.xml (XML with a <modeling> root)")
    if first.startswith("<?xml") or first.startswith("<modeling"):
        return ("vasprun" if "<modeling" in text else None), tried
    tried.append("extxyz (an atom count on the first line)")
    if re.fullmatch(r"\d+", lines[0].strip() if lines else "") and len(lines) > 1:
        return "extxyz", tried
    tried.append("VASP XDATCAR / POSCAR header")
    kind = _vasp_kind(lines)
    if kind:
        return kind, tried
    tried.append("pdb records (ATOM, HETATM, CRYST1)")
    if any(re.match(r"(ATOM  |HETATM|CRYST1|MODEL )", x) for x in lines[:200]):
        return "pdb", tried
    tried.append("gro (title, atom count, fixed columns)")
    if len(lines) > 2 and re.fullmatch(r"\d+", lines[1].strip()) and _floats(lines[2][20:], 3):
        return "gro", tried
    return None, tried


@contextlib.contextmanager
def local_copy(path):
    """The path itself, or for a compressed file a decompressed temporary copy (removed afterwards).

    Libraries that seek in their input (ASE's extxyz index, mdtraj) would decompress again at every seek.
    """
    if compression(path) is None:
        yield Path(path)
        return
    fd, tmp = tempfile.mkstemp(prefix="ssefeat-", suffix="-" + Path(path).name.rsplit(".", 1)[0])
    try:
        with os.fdopen(fd, "wb") as out, open_binary(path) as src:
            shutil.copyfileobj(src, out, 1 << 20)
        yield Path(tmp)
    finally:
        os.unlink(tmp)
