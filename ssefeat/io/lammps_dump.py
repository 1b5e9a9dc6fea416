"""LAMMPS text dumps (``dump custom``): a streaming reader with image flags, and the writer used for OVITO.

Why not ASE's ``lammps-dump-text``: it drops the ``ix iy iz`` image flags and maps types 1, 2, ... to H, He, ...;
here whole frames are parsed at once (pandas' C parser), frames outside start/stop/stride are skipped unparsed,
and files of any size stream in chunks. Units are LAMMPS ``metal`` (Å, ps, Å/ps, eV/Å, e) unless the file has an
``ITEM: UNITS`` section (``dump_modify units yes``); other unit styles are converted with ASE's LAMMPS table.

Reading:

- species: an ``element`` column, else ``type_map`` ({type: symbol}) of the ``type`` column, else type labels
  (``dump_modify types labels``), else the topology's species, else the type numbers as labels ("1", "2", ...);
  a dump with neither ``type`` nor ``element`` needs ``topology`` (the species in LAMMPS ``id`` order);
- positions ``x y z`` (wrapped), ``xu yu zu`` (unwrapped), ``xs ys zs`` / ``xsu ysu zsu`` (scaled); shifted so that
  the cell origin (xlo, ylo, zlo) is at 0. Orthogonal, restricted triclinic (``xy xz yz``) and general triclinic
  (``abc origin``) boxes;
- ``ix iy iz`` -> ``images`` (only with wrapped positions; unwrapped ones need no flags);
- ``vx vy vz`` -> velocities, ``fx fy fz`` -> forces, ``q`` -> charge, ``mass`` -> mass, ``c_pe*`` ->
  potential_energy; atoms are sorted by ``id`` and the ``atom`` coordinate is ``id - 1``;
- periodicity: ``BOX BOUNDS`` flags per axis: ``pp`` is periodic, anything else (``ss``, ``ff``, ``fs``, ``fm``,
  ...) is not (the Dataset's ``pbc``);
- time: with ``timestep_ps`` (the time between consecutive frames of the dump), the ``TIMESTEP`` values give the
  true times, frames missing from the dump (gaps) included (:class:`~ssefeat.io.formats.StepClock`); without it
  ``ITEM: TIME`` (``dump_modify time yes``), else the frame index; a ``TIMESTEP`` that does not increase
  (overlapping restarts) raises TimeOrderError.

Box origin: LAMMPS stores the box from (xlo, ylo, zlo); Cartesian columns are shifted by that origin and scaled
columns are multiplied by the cell only (LAMMPS: ``xs = (x - xlo) / lx``), so that ``positions = s @ cell`` with
``s`` the scaled coordinates, in [0, 1) for wrapped atoms: positions are relative to the box origin for every
column set. (MDAnalysis 2.x does the same for Cartesian columns but subtracts the origin once more from scaled
ones; ``tests/test_io_mdanalysis.py`` checks both.) Files of any size stream; gzip / bzip2 / xz are read as is.
"""
from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, ParameterError, TimeOrderError, TopologyMismatchError, param
from .formats import ReadOptions, StepClock, atom_indices, build, errors_named
from .sniff import open_binary

_POSITION_SETS = (("x", "y", "z"), ("xu", "yu", "zu"), ("xs", "ys", "zs"), ("xsu", "ysu", "zsu"))


def _corrupt(path, what):
    return CorruptFileError(f"{path}: {what}",
                            fix="the dump is truncated or not a LAMMPS text dump; drop the incomplete last frame "
                                f"(or re-run / re-copy it), or give the format ({param('format', 'NAME')}) if it "
                                "is another format.")


def _pbc(tokens: list[str]) -> np.ndarray:
    """Periodicity along x, y, z from the BOX BOUNDS flags (``pp`` periodic; ``ss``, ``ff``, ``fs``, ... not)."""
    flags = [t for t in tokens if len(t) == 2 and set(t) <= set("psfm")]
    return np.array([f == "pp" for f in flags[-3:]], dtype=bool) if len(flags) >= 3 else np.ones(3, dtype=bool)


def _box(tokens: list[str], rows: np.ndarray):
    """Cell (rows a, b, c) and origin, Å, from a BOX BOUNDS section."""
    if tokens and tokens[0] == "abc":  # general triclinic: ax ay az ox / bx by bz oy / cx cy cz oz
        return rows[:, :3].copy(), rows[:, 3].copy()
    if rows.shape[1] == 3:
        names = tokens[:3] if len(tokens) >= 3 and set(tokens[:3]) == {"xy", "xz", "yz"} else ["xy", "xz", "yz"]
        tilt = dict(zip(names, rows[:, 2]))
        xy, xz, yz = tilt["xy"], tilt["xz"], tilt["yz"]
    else:
        xy = xz = yz = 0.0
    xlo = rows[0, 0] - min(0.0, xy, xz, xy + xz)
    xhi = rows[0, 1] - max(0.0, xy, xz, xy + xz)
    ylo = rows[1, 0] - min(0.0, yz)
    yhi = rows[1, 1] - max(0.0, yz)
    zlo, zhi = rows[2, 0], rows[2, 1]
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


def _header(fh, path, units_state: dict):
    """Parse one frame header up to ``ITEM: ATOMS``; None at the end of the file."""
    hdr = {}
    line = fh.readline()
    while line and not line.strip():
        line = fh.readline()
    if not line:
        return None
    try:
        while True:
            if not line:
                raise _corrupt(path, "the file ends inside a frame header.")
            if not line.startswith(b"ITEM:"):
                raise _corrupt(path, f"expected an 'ITEM:' line, found {line[:60]!r}.")
            item = line[5:].strip()
            if item == b"TIMESTEP":
                hdr["step"] = int(fh.readline())
            elif item == b"TIME":
                hdr["time"] = float(fh.readline())
            elif item == b"UNITS":
                units_state["units"] = fh.readline().decode().strip()
            elif item.startswith(b"NUMBER OF ATOMS"):
                hdr["n"] = int(fh.readline())
            elif item.startswith(b"BOX BOUNDS"):
                tokens = item.decode().split()[2:]
                rows = np.array([fh.readline().split() for _ in range(3)], dtype=np.float64)
                hdr["cell"], hdr["origin"] = _box(tokens, rows)
                hdr["pbc"] = _pbc(tokens)
            elif item.startswith(b"ATOMS"):
                hdr["columns"] = item.decode().split()[1:]
                if "n" not in hdr or "cell" not in hdr:
                    raise _corrupt(path, "a frame has no NUMBER OF ATOMS or BOX BOUNDS section.")
                return hdr
            else:
                fh.readline()  # an item we do not use: one value line
            line = fh.readline()
    except CorruptFileError:
        raise
    except (ValueError, IndexError) as err:
        raise _corrupt(path, f"cannot parse a frame header ({err}).") from err


class _Atoms:
    """The atom lines of one frame: numeric columns as one float64 array, text columns (``element``, type labels)
    as string arrays; cheap row selections (no per-frame pandas work beyond the parse)."""

    def __init__(self, values: np.ndarray, names: list, text: dict):
        self.values, self.names, self.text = values, names, text
        self.index = {c: k for k, c in enumerate(names)}

    def __len__(self):
        return self.values.shape[0]

    def __contains__(self, name):
        return name in self.index or name in self.text

    @property
    def columns(self) -> list:
        return self.names + list(self.text)

    def col(self, name) -> np.ndarray:
        return self.text[name] if name in self.text else self.values[:, self.index[name]]

    def cols(self, names) -> np.ndarray:
        return self.values[:, [self.index[c] for c in names]]

    def take(self, rows) -> "_Atoms":
        return _Atoms(self.values[rows], self.names, {k: v[rows] for k, v in self.text.items()})


def _count_values(block: bytes) -> int:
    """Whitespace-separated values in ``block`` (vectorised: the starts of runs of printable bytes)."""
    printable = np.frombuffer(block, dtype=np.uint8) > 32
    return int(printable[:1].sum() + np.count_nonzero(printable[1:] & ~printable[:-1]))


def _parse_atoms(block: bytes, columns, n, path, frame, skip=()) -> _Atoms:
    """The atom lines of one frame (``skip``: text columns already known from the first frame)."""
    import pandas as pd

    use = [c for c in columns if c not in skip] if skip else None
    try:
        table = pd.read_csv(io.BytesIO(block), sep=r"\s+", header=None, names=columns, engine="c", usecols=use,
                            dtype={"element": str} if "element" in columns and not skip else None)
    except Exception as err:
        raise _corrupt(path, f"cannot parse the atoms of frame {frame} ({err}).") from err
    n_rows = block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)
    if n_rows < n:
        raise _corrupt(path, f"frame {frame} is incomplete: the file ends after {n_rows} of its {n} atom lines.")
    if (len(table) != n or table.isna().to_numpy().any() or table.index.nlevels != 1 or table.index[0] != 0
            or _count_values(block) != n * len(columns)):  # usecols would drop an extra value silently
        widths = np.array([len(r.split()) for r in block.splitlines()])  # error path only: the first odd line
        k = int(np.argmax(widths != len(columns))) if np.any(widths != len(columns)) else 0
        raise _corrupt(path, f"frame {frame}: atom line {k + 1} of {n} has {widths[k]} values but the ITEM: ATOMS "
                             f"line names {len(columns)} columns ({' '.join(columns)}).")
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    text = {c: table[c].to_numpy(dtype=str) for c in table.columns if c not in numeric}
    return _Atoms(table[numeric].to_numpy(dtype=np.float64), numeric, text)


def _species(table: _Atoms, opts: ReadOptions, path) -> np.ndarray:
    for name in ("element", "type"):  # an element column, or LAMMPS type labels (dump_modify types labels)
        if name in table.text and not (name == "type" and opts.type_map):
            return table.text[name]
    if "type" not in table and opts.topology is None:
        raise ParameterError(f"{path} has neither a 'type' nor an 'element' column, so it does not say which atom "
                             f"is which (its columns: {' '.join(table.columns)}).",
                             fix="give a topology with the species in LAMMPS id order (--topology FILE, or "
                                 "topology= a file or a list of species in Python), or dump 'type' or 'element'.")
    types = table.col("type") if "type" in table else np.zeros(len(table), dtype=np.int64)
    if "type" in table.index:
        types = types.astype(np.int64)
    if opts.type_map and "type" in table:
        missing = sorted(set(np.unique(types).tolist()) - set(opts.type_map))
        if missing:
            raise ParameterError(f"{path} has atom types {missing} that the type map {opts.type_map} does not name.",
                                 fix="give a symbol for every type, e.g. --type-map 1=Li,2=P,3=S.")
        return np.array([opts.type_map[t] for t in np.unique(types).tolist()], dtype=str)[
            np.searchsorted(np.unique(types), types)]
    if opts.topology is not None:
        from .mdtraj_formats import topology_species

        return topology_species(opts, path, "lammps-dump", types.size, order="ordered by LAMMPS id")
    return types.astype(str)


def _unit_factors(units: str | None) -> dict:
    if units in (None, "metal"):
        return {}
    from ase.calculators.lammps import convert

    return {q: float(convert(1.0, q, units, "metal")) for q in ("distance", "velocity", "force", "time", "charge",
                                                                "energy", "mass")}


#: frames (and bytes) whose atom lines are parsed by one pandas call: its per-call cost dominates small frames
_PARSE_FRAMES, _PARSE_BYTES = 64, 32 << 20


def _parse_frames(raw: list, path, skip) -> list:
    """The _Atoms of each ``(block, header, index)``: one parse of the joined blocks when they share their columns,
    else (or to name the bad frame in an error) one parse per frame."""
    columns = raw[0][1]["columns"]
    if len(raw) > 1 and all(h["columns"] == columns for _, h, _ in raw) and all(b.endswith(b"\n") for b, _, _ in raw):
        sizes = [h["n"] for _, h, _ in raw]
        try:
            joined = _parse_atoms(b"".join(b for b, _, _ in raw), columns, sum(sizes), path, raw[0][2], skip)
        except CorruptFileError:
            joined = None
        if joined is not None:
            edges = np.cumsum([0] + sizes)
            return [joined.take(slice(a, b)) for a, b in zip(edges[:-1], edges[1:])]
    return [_parse_atoms(b, h["columns"], h["n"], path, i, skip) for b, h, i in raw]


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Trajectory Datasets of up to ``frames_per_chunk`` selected frames of a LAMMPS text dump."""
    path = Path(path)
    units_state: dict = {}
    state: dict = {}
    batch: list = []
    raw: list = []  # frames read but not parsed yet: (block, header, index, units)
    clock = StepClock(path, opts)

    def flush():
        tables = _parse_frames([r[:3] for r in raw], path, state.get("text", ()))
        batch.extend(_frame(t, h, i, path, opts, state, u) for t, (_, h, i, u) in zip(tables, raw))
        raw.clear()

    with errors_named(path, fmt), open_binary(path) as fh:
        for index in itertools.count():
            hdr = _header(fh, path, units_state)
            if hdr is None:
                break
            step, last = hdr.get("step"), state.get("last_step")
            increasing = step is None or last is None or step > last
            if not increasing and not opts.past_end(index):
                raise TimeOrderError(
                    f"{path}: the timestep does not increase between frames {index - 1} and {index} "
                    f"(step {last} -> {step}).",
                    fix="the dump probably holds overlapping restarts; keep one copy of each step (e.g. start= / "
                        "stop= around the overlap) or rewrite the dump from the restart onwards.")
            if increasing and (index <= 1 or opts.wants(index)):
                clock.feed(index, step)  # frames 0 and 1 fix the step increment, read or not
            if frames_per_chunk and len(batch) >= frames_per_chunk:  # held back until the times are known
                yield _assemble(batch[:frames_per_chunk], path, fmt, opts, state, clock)
                batch = batch[frames_per_chunk:]
            if opts.past_end(index):
                break
            state["last_step"] = step
            n = hdr["n"]
            if not opts.wants(index):
                for _ in itertools.islice(fh, n):
                    pass
                continue
            raw.append((b"".join(itertools.islice(fh, n)), hdr, index, units_state.get("units")))
            if "text" not in state or len(raw) >= _PARSE_FRAMES or sum(len(r[0]) for r in raw) >= _PARSE_BYTES or (
                    frames_per_chunk and len(batch) + len(raw) >= frames_per_chunk):
                flush()  # the first frame alone: it fixes the text columns the others skip
        if raw:
            flush()
    while batch:
        yield _assemble(batch[:frames_per_chunk or len(batch)], path, fmt, opts, state, clock)
        batch = batch[frames_per_chunk or len(batch):]


def _frame(table: _Atoms, hdr, index, path, opts: ReadOptions, state: dict, units):
    """Arrays of one frame, atoms sorted by id; fixes species, atom ids and columns from the first frame read."""
    if "id" in table:
        table = table.take(np.argsort(table.col("id"), kind="stable"))
    if "species" not in state:
        state["n"] = len(table)
        state["species"] = _species(table, opts, path)
        state["atom"] = table.col("id").astype(np.int64) - 1 if "id" in table else np.arange(len(table))
        state["sel"] = atom_indices(state["species"], opts.atoms, path)
        state["units"] = _unit_factors(units)
        cols = set(table.index)
        state["pos"] = next((p for p in _POSITION_SETS if set(p) <= cols), None)
        if state["pos"] is None:
            raise _corrupt(path, f"no position columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu) in "
                                 f"{sorted(table.columns)}.")
        state["wrapped"] = state["pos"][0] in ("x", "xs")
        state["images"] = state["wrapped"] and {"ix", "iy", "iz"} <= cols
        state["pe"] = next((c for c in table.names if c.startswith("c_pe")), None)
        state["pbc"] = hdr["pbc"]
        state["text"] = tuple(table.text)  # known now: later frames skip these columns
    elif len(table) != state["n"]:
        raise TopologyMismatchError(f"{path}: frame {index} has {len(table)} atoms, the first frame read has "
                                    f"{state['n']}.", fix="ssefeat needs the same atoms in every frame; split the "
                                                         "file where the number of atoms changes.")
    f = state["units"]
    sel = state["sel"]
    if sel is not None:
        table = table.take(sel)
    cell = hdr["cell"] * f.get("distance", 1.0)
    raw = table.cols(state["pos"])
    pos = raw @ cell if state["pos"][0].startswith("xs") else (raw - hdr["origin"]) * f.get("distance", 1.0)
    out = {"positions": pos, "cell": cell, "time": hdr.get("time")}
    if out["time"] is not None:
        out["time"] *= f.get("time", 1.0)
    cols = table.index
    if {"vx", "vy", "vz"} <= set(cols):
        out["velocities"] = table.cols(["vx", "vy", "vz"]) * f.get("velocity", 1.0)
    if {"fx", "fy", "fz"} <= set(cols):
        out["forces"] = table.cols(["fx", "fy", "fz"]) * f.get("force", 1.0)
    if state["images"]:
        out["images"] = table.cols(["ix", "iy", "iz"]).astype(np.int32)
    if state["pe"]:
        out["potential_energy"] = table.col(state["pe"]) * f.get("energy", 1.0)
    if "q" in cols and "charge" not in state:
        state["charge"] = table.col("q") * f.get("charge", 1.0)
    if "mass" in cols and "mass" not in state:
        state["mass"] = table.col("mass") * f.get("mass", 1.0)
    out["frame"] = index
    out["step"] = hdr.get("step")
    return out


def _assemble(batch: list, path, fmt, opts: ReadOptions, state: dict, clock: StepClock):
    sel = state["sel"]
    species = state["species"] if sel is None else state["species"][sel]
    atom = state["atom"] if sel is None else state["atom"][sel]
    arrays = {k: np.stack([b[k] for b in batch]) for k in ("velocities", "forces", "images", "potential_energy")
              if k in batch[0]}
    for k in ("charge", "mass"):
        if k in state:
            arrays[k] = state[k]
    times = [b["time"] for b in batch]
    file_time = None if any(t is None for t in times) else np.array(times)
    frames = np.array([b["frame"] for b in batch])
    return build(path, fmt, opts, np.stack([b["positions"] for b in batch]), species, frames,
                 cell=np.stack([b["cell"] for b in batch]), file_time=file_time, atom=atom, wrapped=state["wrapped"],
                 pbc=state["pbc"], step_time=clock.times(frames, [b["step"] for b in batch]), **arrays)


# --- writing ---------------------------------------------------------------------------------------------------
def lammps_cell(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The restricted-triclinic LAMMPS form of cells (..., 3, 3): (lx, ly, lz, xy, xz, yz) and the rotation R
    (rows -> rows, ``v_lammps = v @ R``) taking vectors of the original frame to the LAMMPS frame."""
    cell = np.asarray(cell, dtype=np.float64)
    a, b, c = cell[..., 0, :], cell[..., 1, :], cell[..., 2, :]
    lx = np.linalg.norm(a, axis=-1)
    xy = np.einsum("...i,...i", a, b) / lx
    ly = np.sqrt(np.einsum("...i,...i", b, b) - xy ** 2)
    xz = np.einsum("...i,...i", a, c) / lx
    yz = (np.einsum("...i,...i", b, c) - xy * xz) / ly
    lz = np.sqrt(np.einsum("...i,...i", c, c) - xz ** 2 - yz ** 2)
    zero = np.zeros_like(lx)
    lmp = np.stack([np.stack([lx, zero, zero], -1), np.stack([xy, ly, zero], -1), np.stack([xz, yz, lz], -1)], -2)
    rot = np.linalg.inv(cell) @ lmp
    return np.stack([lx, ly, lz, xy, xz, yz], -1), rot


def write_frames(ds, fh, species_column: str = "element") -> None:
    """Append the frames of one trajectory Dataset to an open text file as a LAMMPS ``dump custom``.

    Columns: ``id`` (atom + 1), ``element`` (or ``type``: 1, 2, ... by first appearance), ``x y z`` wrapped into
    the cell along its periodic directions (rotated into LAMMPS' restricted-triclinic frame when the cell is not
    already lower-triangular) and ``ix iy iz`` image flags, so that unwrapped positions (or the file's own images)
    come back exactly as ``x + ix * a + ...``; ``vx vy vz``, ``fx fy fz``, ``q``, ``c_pe`` when present;
    ``ITEM: TIME`` holds the time in ps; ``BOX BOUNDS`` flags ``pp`` (periodic) or ``ff``. Needs a cell.
    """
    from ..data import cell_array, periodic_axes, wrap

    cell = cell_array(ds)
    pbc = periodic_axes(ds)
    ds = wrap(ds)  # wrapped positions + image flags: lossless, and what LAMMPS readers expect with ix iy iz
    params, rot = lammps_cell(cell)
    pos = np.einsum("fai,fij->faj", np.asarray(ds["positions"].values, dtype=np.float64), rot)
    n_frames, n_atoms = pos.shape[:2]
    species = ds["species"].values.astype(str)
    columns, data, fmts = [], [], []

    def add(names, values, fmt="%.10g"):
        """Columns ``names`` from values (frame, atom, len(names)), or (atom,) for one per-atom column."""
        values = np.asarray(values, dtype=np.float64)
        data.append(np.broadcast_to(values[None, :, None], (n_frames, n_atoms, 1)) if values.ndim == 1 else values)
        columns.extend(names)
        fmts.extend([fmt] * len(names))

    add(["id"], ds["atom"].values + 1, "%d")
    if species_column == "type":  # 1, 2, ... by first appearance
        _, first, inverse = np.unique(species, return_index=True, return_inverse=True)
        add(["type"], np.argsort(np.argsort(first))[inverse] + 1, "%d")
    add(["x", "y", "z"], pos)
    if "images" in ds:
        add(["ix", "iy", "iz"], ds["images"].values, "%d")
    for name, cols in (("velocities", ["vx", "vy", "vz"]), ("forces", ["fx", "fy", "fz"])):
        if name in ds:
            add(cols, np.einsum("fai,fij->faj", np.asarray(ds[name].values, dtype=np.float64), rot))
    if "charge" in ds.coords:
        add(["q"], ds["charge"].values)
    if "potential_energy" in ds:
        add(["c_pe"], np.asarray(ds["potential_energy"].values)[..., None])
    table = np.concatenate(data, axis=-1)
    numeric_fmt = " ".join(fmts)
    if species_column == "element":  # element after id: text column spliced in per row
        columns.insert(1, "element")
        first, rest = fmts[0], " ".join(fmts[1:])
        row_fmt = [f"{first} {s} {rest}" for s in species]
    time = np.asarray(ds["time"].values, dtype=np.float64)
    flags = " ".join("pp" if p else "ff" for p in pbc)
    for f in range(n_frames):  # loop over frames; rows are formatted by numpy
        lx, ly, lz, xy, xz, yz = params[f]
        fh.write(f"ITEM: TIME\n{time[f]:.16g}\nITEM: TIMESTEP\n{int(ds['frame'].values[f])}\n"
                 f"ITEM: NUMBER OF ATOMS\n{n_atoms}\n")
        if abs(xy) + abs(xz) + abs(yz) > 0:
            fh.write(f"ITEM: BOX BOUNDS xy xz yz {flags}\n"
                     f"{min(0.0, xy, xz, xy + xz):.16g} {lx + max(0.0, xy, xz, xy + xz):.16g} {xy:.16g}\n"
                     f"{min(0.0, yz):.16g} {ly + max(0.0, yz):.16g} {xz:.16g}\n"
                     f"0 {lz:.16g} {yz:.16g}\n")
        else:
            fh.write(f"ITEM: BOX BOUNDS {flags}\n0 {lx:.16g}\n0 {ly:.16g}\n0 {lz:.16g}\n")
        fh.write("ITEM: ATOMS " + " ".join(columns) + "\n")
        if species_column == "element":
            fh.write("".join(fmt % tuple(row) + "\n" for fmt, row in zip(row_fmt, table[f].tolist())))
        else:
            np.savetxt(fh, table[f], fmt=numeric_fmt.split())
