"""Formats read through ASE: extended XYZ, VASP XDATCAR (also .gz) and vasprun.xml.

Conversions (ASE works in Å, eV, amu and its own time unit ``sqrt(amu Å^2 / eV)`` = 10.18 fs):

- ``momenta`` (amu Å / ASE-time) -> ``velocities`` in Å/ps: v = p / m / TIME_UNIT_PS (``ssefeat.units``), with m
  the file's ``masses`` column when present, else standard masses (what ASE itself uses).
  A ``velo`` / ``vel`` / ``velocities`` column is taken as already in Å/ps (OVITO's convention).
- ``forces`` (eV/Å), per-frame ``energy`` (eV) and per-atom ``energies`` (eV -> ``potential_energy``) come from the
  calculator results ASE attaches (or the arrays / info of the same names); ``initial_charges`` or ``charges``
  (e) -> ``charge``; an integer ``images`` column -> ``images``.
- time: the ``time_ps`` info key (written by :func:`ssefeat.io.export`); in vasprun.xml of an MD run
  (IBRION = 0), POTIM (fs); otherwise ``timestep_ps`` or the frame index.
- a cell is kept when any direction is periodic or the lattice is not all zero. XDATCAR positions are wrapped
  by VASP (``wrapped = 1``).

extxyz is streamed frame by frame; ASE reads XDATCAR and vasprun.xml whole, so chunks of those save no memory.
"""
from __future__ import annotations

import dataclasses
import gzip
import re
from pathlib import Path

import numpy as np

from ..errors import TopologyMismatchError
from ..units import TIME_UNIT_PS
from .formats import ReadOptions, atom_indices, build, chunked, errors_named

ASE_FORMAT = {"extxyz": "extxyz", "xdatcar": "vasp-xdatcar", "vasprun": "vasp-xml"}

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


def images_to_dataset(images, frames, path, fmt: str, opts: ReadOptions, wrapped=None):
    """Trajectory Dataset of a list of ASE Atoms (one per frame) at global ``frames``."""
    frames = np.asarray(frames, dtype=np.int64)
    _check_same_atoms(images, frames, path)
    first = images[0]
    species = np.asarray(first.get_chemical_symbols(), dtype=str)
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
    attrs = {k: first.info[k] for k in _ATTR_KEYS if k in first.info}
    attrs = {k: (int(v) if k == "wrapped" else float(v)) for k, v in attrs.items()}
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
    ds = build(path, fmt, opts, pos, species, frames, cell=cell, file_time=time, attrs=attrs,
               wrapped=None if wrapped_flag in (None, -1) else bool(wrapped_flag), atom=sel, **arrays)
    return ds


def _open_text(path):
    return gzip.open(path, "rt") if str(path).lower().endswith(".gz") else open(path)


def vasprun_timestep_ps(path) -> float | None:
    """POTIM (fs) of an MD vasprun.xml (IBRION = 0) in ps, from the <incar> / <parameters> head; else None."""
    with _open_text(path) as fh:
        head = fh.read(400_000)
    ibrion = re.search(r'name="IBRION">\s*(-?\d+)', head)
    potim = re.search(r'name="POTIM">\s*([-+\d.eE]+)', head)
    if ibrion and potim and int(ibrion.group(1)) == 0:
        return float(potim.group(1)) / 1000.0
    return None


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Trajectory Datasets of up to ``frames_per_chunk`` frames (None: all in one) read through ASE."""
    import ase.io

    path = Path(path)
    if fmt == "vasprun" and opts.timestep_ps is None:
        with errors_named(path, fmt):
            dt = vasprun_timestep_ps(path)
        if dt is not None:
            opts = dataclasses.replace(opts, timestep_ps=dt)
    wrapped = 1 if fmt == "xdatcar" else None
    done = 0
    with errors_named(path, fmt):
        stream = ase.io.iread(str(path), index=opts.frame_slice(), format=ASE_FORMAT[fmt])
        for batch in chunked(stream, frames_per_chunk or 2**62):
            frames = opts.first + (done + np.arange(len(batch))) * opts.step
            done += len(batch)
            yield images_to_dataset(batch, frames, path, fmt, opts, wrapped=wrapped)
