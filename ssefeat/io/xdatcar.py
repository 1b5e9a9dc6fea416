"""VASP XDATCAR: a reader that checks every frame against the atom-count line.

Why not ASE's reader: given an atom-count line one too small, ASE reads one frame of N - 1 atoms and stops, with no
error. Here the count line is checked against every coordinate block, and a block of the wrong length raises
CorruptFileError naming the frame and the line numbers (1-based), so a wrong number never comes out silently.

Layout: a header (comment, scale, three lattice rows in Å, species names (VASP 5), counts), then per frame a
``Direct configuration= STEP`` line and one row of fractional coordinates per atom. Variable-cell runs (ISIF = 3)
repeat the header before every configuration line; the cell is then read per frame. VASP 4 files have no species
line: species come from the comment line when it names one species per count, else from ``topology`` / the
``type_map`` (1 = first count, ...). ``STEP`` is the ionic step number: with ``timestep_ps`` it gives the times
(:class:`~ssefeat.io.formats.StepClock`). Positions are ``fractional @ (scale x lattice)`` (wrapped by VASP; a
negative scale is the cell volume, as VASP defines it). The file is read whole (gzip / bzip2 / xz allowed).
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import CorruptFileError, ParameterError, param
from .formats import ReadOptions, StepClock, atom_indices, build, chunked, errors_named
from .sniff import open_binary

_CONFIG = re.compile(rb"^[^\n]*configuration[^\n]*$", re.M | re.I)


def _bad(path, what, fix=None):
    return CorruptFileError(f"{path}: {what}", fix=fix or "repair or re-copy the file (ssefeat does not guess the "
                                                          "atom count or skip lines).")


def _floats(line: bytes, n: int, path, lineno: int, what: str) -> np.ndarray:
    try:
        values = np.array(line.split()[:n], dtype=np.float64)
    except ValueError:
        values = np.zeros(0)
    if values.size != n:
        raise _bad(path, f"line {lineno} should hold {what}, found {line.decode(errors='replace')[:60]!r}.")
    return values


def _header(lines: list[bytes], start: int, path):
    """(cell (3, 3) Å, species names or None, counts) of a header whose comment line is ``lines[start]``."""
    scale = _floats(lines[start + 1], 1, path, start + 2, "the scale factor")[0]
    lattice = np.stack([_floats(lines[start + k], 3, path, start + k + 1, "a lattice vector") for k in (2, 3, 4)])
    if scale < 0:  # VASP: a negative scale is the volume
        scale = (-scale / abs(np.linalg.det(lattice))) ** (1 / 3)
    names_line = lines[start + 5].split()
    if names_line and all(x.isdigit() for x in names_line):
        names, counts_line, length = None, names_line, 6
    else:
        names, counts_line, length = [x.decode() for x in names_line], lines[start + 6].split(), 7
    try:
        counts = [int(x) for x in counts_line]
    except ValueError:
        raise _bad(path, f"line {start + length} should hold the atom counts, found "
                         f"{b' '.join(counts_line).decode(errors='replace')[:60]!r}.") from None
    if names is not None and len(names) != len(counts):
        raise _bad(path, f"line {start + 6} names {len(names)} species but line {start + 7} gives {len(counts)} "
                         "counts.")
    return lattice * scale, names, counts, length


def _species(names, counts, comment: str, opts: ReadOptions, path) -> np.ndarray:
    if names is None:
        words = comment.split()
        if opts.type_map:
            names = [opts.type_map.get(k + 1) for k in range(len(counts))]
        elif len(words) == len(counts) and all(re.fullmatch(r"[A-Z][a-z]?", w) for w in words):
            names = words
        elif opts.topology is not None:
            from .mdtraj_formats import topology_species

            return topology_species(opts, path, "xdatcar", sum(counts), order="in the POSCAR order")
        if names is None or None in names:
            raise ParameterError(f"{path} is a VASP 4 XDATCAR: it does not name its {len(counts)} species.",
                                 fix="name them in order of the counts line with "
                                     f"{param('type_map', '1=Li,2=P,3=S')} or "
                                     "give a topology.")
    return np.repeat(np.asarray(names, dtype=str), counts)


def parse(path, opts: ReadOptions):
    """(species, cells (F, 3, 3), fractional (F, N, 3), steps (F,)) of every frame in the file, checked."""
    with open_binary(path) as fh:
        data = fh.read()
    lines = data.split(b"\n")
    cell0, names, counts, hlen = _header(lines, 0, path)
    n = sum(counts)
    if n <= 0:
        raise _bad(path, f"the atom-count line (line {hlen}) gives {n} atoms.")
    species = _species(names, counts, lines[0].decode(errors="replace"), opts, path)
    starts, line, pos = [], 0, 0
    for m in _CONFIG.finditer(data):  # 0-based line numbers of the configuration lines, counted incrementally
        line += data.count(b"\n", pos, m.start())
        pos = m.start()
        starts.append(line)
    if not starts:
        raise _bad(path, "no 'Direct configuration=' line: this is not an XDATCAR (a POSCAR has none).",
                   fix="read a POSCAR with format poscar, or check the file.")
    comment = lines[0].strip()
    variable = len(starts) > 1 and starts[1] - hlen >= 0 and lines[starts[1] - hlen].strip() == comment
    n_lines = len(lines)
    while n_lines and not lines[n_lines - 1].strip():  # trailing blank lines
        n_lines -= 1
    ends = [s - (hlen if variable else 0) for s in starts[1:]] + [n_lines]
    if opts.stop is not None:  # frames from stop on are neither parsed nor checked
        starts, ends = starts[:opts.stop], ends[:opts.stop]
    cells = np.empty((len(starts), 3, 3))
    frac = np.empty((len(starts), n, 3))
    steps = []
    for k, (s, e) in enumerate(zip(starts, ends)):  # a loop over frames; rows are parsed by numpy
        if variable and k > 0:
            cells[k], _, counts_k, _ = _header(lines, s - hlen, path)
            if sum(counts_k) != n:
                raise _bad(path, f"frame {k}: the header at line {s - hlen + 1} gives {sum(counts_k)} atoms, the "
                                 f"first gives {n}.", fix="split the file where the atoms change.")
        else:
            cells[k] = cell0
        step = re.search(rb"(-?\d+)\s*$", lines[s])
        steps.append(int(step.group(1)) if step else None)
        m = e - s - 1
        if m != n:
            where = f"lines {s + 2}..{e}" if m > 0 else f"line {s + 2}"
            if e == n_lines and m < n:
                what = f"the file ends after {m} of the {n} coordinate lines of frame {k} ({where})"
            else:
                what = (f"frame {k} (configuration line {s + 1}) has {m} coordinate lines ({where}) but the "
                        f"atom-count line (line {hlen}) gives {n} atoms")
            raise _bad(path, what + ".", fix="correct the atom-count line or the file; a frame cut short at the "
                                             "end can be dropped with stop=. ssefeat does not guess.")
        block = b" ".join(lines[s + 1:e]).split()
        if len(block) < 3 * n:
            raise _bad(path, f"frame {k} (lines {s + 2}..{e}) has rows with fewer than 3 coordinates.")
        try:
            values = np.array(block, dtype=np.float64)
        except ValueError:
            values = None
        if values is None or values.size != 3 * n:  # extra columns (selective dynamics flags) or text: by row
            values = np.stack([_floats(lines[s + 1 + i], 3, path, s + 2 + i, "three fractional coordinates")
                               for i in range(n)])
        frac[k] = values.reshape(n, 3)
    return species, cells, frac, steps


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Trajectory Datasets of up to ``frames_per_chunk`` selected frames (the file is parsed whole first)."""
    with errors_named(path, fmt):
        species, cells, frac, steps = parse(path, opts)
    sel = atom_indices(species, opts.atoms, path)
    frames = opts.frames_in(len(steps))
    clock = StepClock(path, opts)
    for f in frames:
        clock.feed(f, steps[f])
    for part in chunked(frames.tolist(), frames_per_chunk or max(frames.size, 1)):
        part = np.asarray(part, dtype=np.int64)
        pos = np.einsum("fai,fij->faj", frac[part] if sel is None else frac[part][:, sel], cells[part])
        yield build(path, fmt, opts, pos, species if sel is None else species[sel], part, cell=cells[part],
                    atom=sel, wrapped=True, step_time=clock.times(part, [steps[f] for f in part]))
