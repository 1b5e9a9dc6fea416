"""Formats read through ASE: extended XYZ, VASP POSCAR / CONTCAR and vasprun.xml (all also compressed).

Conversions (ASE works in Å, eV, amu and its own time unit ``sqrt(amu Å^2 / eV)`` = 10.18 fs):

- ``momenta`` (amu Å / ASE-time) -> ``velocities`` in Å/ps: v = p / m / TIME_UNIT_PS (``ssefeat.units``), with m
  the file's ``masses`` column when present, else standard masses (what ASE itself uses).
  A ``velo`` / ``vel`` / ``velocities`` column is taken as already in Å/ps (OVITO's convention).
- ``forces`` (eV/Å), per-frame ``energy`` (eV) and per-atom ``energies`` (eV -> ``potential_energy``) come from the
  calculator results ASE attaches (or the arrays / info of the same names); ``initial_charges`` or ``charges``
  (e) -> ``charge``; an integer ``images`` column -> ``images``.
- time: the ``time_ps`` info key (written by :func:`ssefeat.io.export`); in vasprun.xml of an MD run
  (IBRION = 0), POTIM (fs); otherwise ``timestep_ps`` or the frame index.
- a cell is kept when any direction is periodic or the lattice is not all zero; extxyz ``pbc`` (e.g. ``"T T F"``)
  becomes the Dataset's periodicity (:func:`ssefeat.data.periodic_axes`).
- step numbers: an extxyz ``step`` / ``Step`` / ``MD_step`` info key, with ``timestep_ps``, gives the times
  (:class:`~ssefeat.io.formats.StepClock`; gaps kept).
- extxyz species that are not element symbols (``A``, ``Li1``, ``OW``) are kept as labels (ssefeat species may be
  any label; masses are then unknown) or mapped: ``type_map={"A": "Li"}`` or the species of ``topology``.

extxyz is streamed frame by frame; ASE reads vasprun.xml whole, so chunks of it save no memory. Compressed files
are decompressed to a temporary copy first (ASE seeks in its input).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ..errors import ParameterError, TopologyMismatchError, param
from ..units import TIME_UNIT_PS
from .formats import ReadOptions, StepClock, atom_indices, build, errors_named
from .sniff import local_copy, open_text

ASE_FORMAT = {"extxyz": "extxyz", "poscar": "vasp", "vasprun": "vasp-xml"}
_STEP_KEYS = ("step", "Step", "STEP", "MD_step", "md_step")

#: multiply an ASE velocity (Å per ASE time unit) by this to get Å/ps
ASE_VELOCITY_TO_A_PER_PS = 1.0 / TIME_UNIT_PS

_VELOCITY_COLUMNS = ("velo", "vel", "velocities")
_ATTR_KEYS = ("wrapped", "timestep_ps", "temperature_K")


def _stack(images, get) -> np.ndarray:
    return np.stack([get(a) for a in images])  # a loop over frames only


def _results(atoms) -> dict:
    calc = atoms.calc
    return dict(getattr(calc, "results", {}) or {}) if calc is not None else {}


def _per_frame(images, name):
    """Per-frame values of ``name`` from calculator results, arrays or info; None unless every frame has it."""
    values = []
    for a in images:
        res = _results(a)
        if name in res:
            values.append(np.asarray(res[name]))
        elif name in a.arrays:
            values.append(np.asarray(a.arrays[name]))
        elif name in a.info:
            values.append(np.asarray(a.info[name]))
        else:
            return None
    return np.stack(values)


def _check_same_atoms(images, frames, path):
    first = images[0].numbers
    for k, a in enumerate(images):
        if a.numbers.shape != first.shape or not np.array_equal(a.numbers, first):
            raise TopologyMismatchError(
                f"{path}: frame {int(frames[k])} has {len(a)} atoms ({a.get_chemical_formula()}) but the first "
                f"frame read has {first.size} ({images[0].get_chemical_formula()}).",
                fix="ssefeat trajectories keep the same atoms in every frame; split the file where the atoms change.")


def step_of(atoms):
    """The step number in an Atoms' info (``step``, ``Step``, ``MD_step``), or None."""
    return next((int(atoms.info[k]) for k in _STEP_KEYS if k in atoms.info), None)


def images_to_dataset(images, frames, path, fmt: str, opts: ReadOptions, wrapped=None, labels=None,
                      step_time=None):
    """Trajectory Dataset of a list of ASE Atoms (one per frame) at global ``frames`` (``labels``: the species
    when the file's are not element symbols)."""
    frames = np.asarray(frames, dtype=np.int64)
    _check_same_atoms(images, frames, path)
    first = images[0]
    species = np.asarray(first.get_chemical_symbols() if labels is None else labels, dtype=str)
    sel = atom_indices(species, opts.atoms, path)

    pos = _stack(images, lambda a: a.positions)
    cells = _stack(images, lambda a: a.cell.array)
    cell = cells if (np.any(first.pbc) or np.any(cells != 0)) else None
    arrays = {}
    masses = first.arrays.get("masses")
    if masses is not None:
        arrays["mass"] = np.asarray(masses, dtype=np.float64)
    if "momenta" in first.arrays:
        arrays["velocities"] = _stack(images, lambda a: a.get_velocities()) * ASE_VELOCITY_TO_A_PER_PS
    else:
        for name in _VELOCITY_COLUMNS:
            if name in first.arrays:
                arrays["velocities"] = _stack(images, lambda a: a.arrays[name])
                break
    forces = _per_frame(images, "forces")
    if forces is not None:
        arrays["forces"] = forces
    energy = _per_frame(images, "energy")
    if energy is not None and energy.ndim == 1:
        arrays["energy"] = energy.astype(np.float64)
    energies = _per_frame(images, "energies")
    if energies is not None:
        arrays["potential_energy"] = energies
    for name in ("initial_charges", "charges"):
        if name in first.arrays or name in _results(first):
            charge = np.asarray(first.arrays.get(name, _results(first).get(name)), dtype=np.float64)
            if name != "initial_charges" or np.any(charge != 0):
                arrays["charge"] = charge
                break
    if "images" in first.arrays:
        arrays["images"] = _stack(images, lambda a: a.arrays["images"])
    time = None
    if all("time_ps" in a.info for a in images):
        time = np.array([float(a.info["time_ps"]) for a in images])
    attrs = {k: (int if k == "wrapped" else float)(first.info[k]) for k in _ATTR_KEYS if k in first.info}
    if wrapped is not None:
        attrs.setdefault("wrapped", int(wrapped))
    if opts.step != 1 or opts.timestep_ps is not None:
        attrs.pop("timestep_ps", None)  # the file's value no longer describes the frames read

    if sel is not None:
        species = species[sel]
        for key in ("velocities", "forces", "potential_energy", "images"):
            if key in arrays:
                arrays[key] = arrays[key][:, sel]
        for key in ("mass", "charge"):
            if key in arrays:
                arrays[key] = arrays[key][sel]
        pos = pos[:, sel]
    wrapped_flag = attrs.pop("wrapped", None)
    pbc = np.asarray(first.pbc, dtype=bool) if cell is not None else None
    return build(path, fmt, opts, pos, species, frames, cell=cell, file_time=time, attrs=attrs,
                 wrapped=None if wrapped_flag in (None, -1) else bool(wrapped_flag), atom=sel, pbc=pbc,
                 step_time=step_time, **arrays)


def vasprun_timestep_ps(path) -> float | None:
    """POTIM (fs) of an MD vasprun.xml (IBRION = 0) in ps, from the <incar> / <parameters> head; else None."""
    with open_text(path) as fh:
        head = fh.read(400_000)
    ibrion = re.search(r'name="IBRION">\s*(-?\d+)', head)
    potim = re.search(r'name="POTIM">\s*([-+\d.eE]+)', head)
    if ibrion and potim and int(ibrion.group(1)) == 0:
        return float(potim.group(1)) / 1000.0
    return None


def _species_column(properties: str) -> int:
    """Column of ``species`` in an extxyz Properties string (``species:S:1:pos:R:3``)."""
    fields = properties.split(":")
    col = 0
    for name, count in zip(fields[0::3], fields[2::3]):
        if name == "species":
            return col
        col += int(count)
    return 0


@contextlib.contextmanager
def _placeholder_copy(path):
    """For an extxyz with non-element labels: a temporary copy with ``X`` in the species column, and the labels
    of every frame (a per-line pass, used only when ASE refuses the labels)."""
    from ase.data import atomic_numbers
    from ase.io.extxyz import key_val_str_to_dict

    labels = []
    fd, tmp = tempfile.mkstemp(prefix="ssefeat-", suffix=".extxyz")
    try:
        with os.fdopen(fd, "w") as out, open_text(path) as src:
            while True:
                count = src.readline()
                if not count.strip():
                    break
                n = int(count)
                comment = src.readline()
                col = _species_column(str(key_val_str_to_dict(comment).get("Properties", "species:S:1")))
                out.write(count + comment)
                frame = []
                for _ in range(n):  # one pass per line: only for files with labels ASE cannot read
                    parts = src.readline().split()
                    frame.append(parts[col])
                    if parts[col] not in atomic_numbers:
                        parts[col] = "X"
                    out.write(" ".join(parts) + "\n")
                labels.append(frame)
        yield Path(tmp), labels
    finally:
        os.unlink(tmp)


def _map_labels(labels, opts: ReadOptions, path) -> np.ndarray:
    """Species for the labels of an extxyz: ``type_map`` (label -> symbol), else the topology's, else the labels."""
    labels = np.asarray(labels, dtype=str)
    if opts.type_map:
        missing = sorted(set(labels.tolist()) - {str(k) for k in opts.type_map})
        if missing:
            raise ParameterError(f"{path} has species labels {missing} that the type map does not name.",
                                 fix=f"map every label, e.g. {param('type_map', 'A=Li,B=S')}.")
        lookup = {str(k): v for k, v in opts.type_map.items()}
        return np.array([lookup[x] for x in labels], dtype=str)
    if opts.topology is not None:
        from .mdtraj_formats import topology_species

        return topology_species(opts, path, "extxyz", labels.size)
    return labels


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Trajectory Datasets of up to ``frames_per_chunk`` frames (None: all in one) read through ASE."""
    path = Path(path)
    if fmt == "vasprun" and opts.timestep_ps is None:
        with errors_named(path, fmt):
            dt = vasprun_timestep_ps(path)
        if dt is not None:
            opts = dataclasses.replace(opts, timestep_ps=dt)
    with errors_named(path, fmt), local_copy(path) as local:
        yielded = False
        try:
            for chunk in _stream(local, path, fmt, opts, frames_per_chunk, None):
                yielded = True
                yield chunk
            return
        except KeyError as err:  # ASE: a species that is not an element symbol
            if fmt != "extxyz" or yielded:
                raise
            first_error = err
        with _placeholder_copy(local) as (copy, labels):
            if any(lab != labels[0] for lab in labels):
                k = next(k for k, lab in enumerate(labels) if lab != labels[0])
                raise TopologyMismatchError(f"{path}: the species labels of frame {k} differ from frame 0's.",
                                            fix="ssefeat keeps the same atoms in every frame; split the file.")
            if not labels:
                raise first_error
            species = _map_labels(labels[0], opts, path) if opts.type_map or opts.topology is not None else \
                np.asarray(labels[0], dtype=str)
            yield from _stream(copy, path, fmt, opts, frames_per_chunk, species)


def _stream(local, path, fmt, opts: ReadOptions, frames_per_chunk, labels):
    """Chunks from ASE's reader of ``local`` (``path`` names the file in messages); a chunk is held back until the
    step numbers fix the times (:class:`StepClock`)."""
    import ase.io

    clock = StepClock(path, opts)
    size = frames_per_chunk or 2**62
    pending: list = []

    def emit(batch):
        frames = np.array([f for f, _ in batch], dtype=np.int64)
        steps = [step_of(a) for _, a in batch]
        images = [a for _, a in batch]
        return images_to_dataset(images, frames, path, fmt, opts, labels=labels,
                                 step_time=clock.times(frames, steps))

    stream = ase.io.iread(str(local), index=opts.frame_slice(), format=ASE_FORMAT[fmt])
    for done, atoms in enumerate(stream):
        frame = opts.first + done * opts.step
        clock.feed(frame, step_of(atoms))
        pending.append((frame, atoms))
        if len(pending) >= size and (clock.ready or clock.first is None):
            yield emit(pending[:size])
            pending = pending[size:]
    while pending:
        yield emit(pending[:size])
        pending = pending[size:]
