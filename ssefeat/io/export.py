"""Export trajectories to text formats that OVITO, ASE and LAMMPS tools open: extended XYZ and LAMMPS dumps.

:func:`export` takes a trajectory Dataset or an iterable of chunks (e.g. :func:`ssefeat.io.iter_chunks`), so a
long trajectory is converted without holding it whole; the file appears only when complete (atomic output).

extxyz (written by ASE): ``Lattice`` (rows a, b, c, Å) and ``pbc``, ``species``, ``pos`` (Å), ``momenta``
(ASE units: amu Å / (10.18 fs), so that ASE gives back the velocities; :mod:`ssefeat.io.ase_formats` converts to
Å/ps), ``forces`` (eV/Å), ``energies`` (per-atom eV), ``initial_charges`` (e), ``images`` (int), ``masses`` when
they differ from the standard ones, and per frame ``time_ps``, ``energy`` (eV), ``wrapped``, ``timestep_ps``,
``temperature_K``; ``pbc`` from the Dataset's periodicity. Species that are not element symbols (``A``, ``B``
of model systems) are written as they are in the species column (ASE holds them as ``X`` meanwhile; ssefeat,
OVITO and other label-aware readers read them back). LAMMPS dump: see :func:`ssefeat.io.lammps_dump.write_frames`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import xarray as xr

from ..data import default_masses, periodic_axes, validate
from ..errors import UnknownFormatError
from ..units import TIME_UNIT_PS
from .atomic import atomic_output
from .formats import format_from_name, normalise_format
from .sniff import _OPENERS

EXPORT_FORMATS = ("extxyz", "lammps-dump")


def to_ase(ds: xr.Dataset) -> list:
    """One ``ase.Atoms`` per frame (with a SinglePointCalculator holding energy / forces / energies)."""
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    from ase.data import atomic_numbers

    species = ds["species"].values.astype(str).tolist()
    species = [s if s in atomic_numbers else "X" for s in species]  # labels: see _write_extxyz
    pbc = periodic_axes(ds)
    pos = np.asarray(ds["positions"].values, dtype=np.float64)
    cell = np.asarray(ds["cell"].values, dtype=np.float64) if "cell" in ds else None
    masses = ds["mass"].values if "mass" in ds.coords else None
    standard = default_masses(species)
    custom_masses = masses is not None and (standard is None or not np.allclose(masses, standard, rtol=0, atol=0))
    info_attrs = {k: ds.attrs[k] for k in ("wrapped", "timestep_ps", "temperature_K") if k in ds.attrs}
    time = np.asarray(ds["time"].values, dtype=np.float64)
    images = []
    for f in range(pos.shape[0]):  # one Atoms per frame
        atoms = Atoms(species, positions=pos[f], cell=None if cell is None else cell[f], pbc=pbc)
        if custom_masses:
            atoms.set_masses(masses)
        if "velocities" in ds:
            atoms.set_velocities(np.asarray(ds["velocities"].values[f], dtype=np.float64) * TIME_UNIT_PS)
        if "charge" in ds.coords:
            atoms.set_initial_charges(ds["charge"].values)
        if "images" in ds:
            atoms.new_array("images", np.asarray(ds["images"].values[f], dtype=np.int64))
        atoms.info["time_ps"] = float(time[f])
        atoms.info.update(info_attrs)
        results = {}
        if "energy" in ds:
            results["energy"] = float(ds["energy"].values[f])
        if "forces" in ds:
            results["forces"] = np.asarray(ds["forces"].values[f], dtype=np.float64)
        if "potential_energy" in ds:
            results["energies"] = np.asarray(ds["potential_energy"].values[f], dtype=np.float64)
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        images.append(atoms)
    return images


def _write_extxyz(ds: xr.Dataset, fh) -> None:
    """ASE's extxyz of ``ds``; species that are not element symbols replace ASE's ``X`` in the species column."""
    import io

    import ase.io
    from ase.data import atomic_numbers

    labels = ds["species"].values.astype(str)
    if all(s in atomic_numbers for s in set(labels.tolist())):
        ase.io.write(fh, to_ase(ds), format="extxyz")
        return
    buf = io.StringIO()
    ase.io.write(buf, to_ase(ds), format="extxyz")  # ASE writes the species column first
    n = labels.size
    lines = buf.getvalue().splitlines(keepends=True)
    for start in range(0, len(lines), n + 2):  # frames: count, comment, n atom lines (species first)
        fh.write(lines[start] + lines[start + 1])
        fh.write("".join(lab + line.lstrip()[1:] for lab, line in zip(labels, lines[start + 2:start + 2 + n])))


def export_format(path, format: str | None = None) -> str:
    """``"extxyz"`` or ``"lammps-dump"`` for an output path (by ``format`` or extension)."""
    fmt = normalise_format(format) if format is not None else format_from_name(path)
    if fmt not in EXPORT_FORMATS:
        raise UnknownFormatError(f"cannot export to {path} (format {fmt or 'unknown'}).",
                                 fix="export writes extxyz (.xyz, .extxyz) and LAMMPS dumps (.lammpstrj, .dump); "
                                     "use ssefeat.io.write for .nc and .zarr.")
    return fmt


def export(data, path, format: str | None = None, overwrite: bool = True, species_column: str = "element") -> Path:
    """Write a trajectory (a Dataset or an iterable of chunk Datasets) to extxyz or a LAMMPS dump, atomically.

    ``species_column`` ("element" or "type") chooses how LAMMPS dumps name species (OVITO reads either, but
    mis-handles both at once). A ``.gz``, ``.bz2`` or ``.xz`` suffix compresses the output.
    """
    fmt = export_format(path, format)
    chunks: Iterable[xr.Dataset] = [data] if isinstance(data, xr.Dataset) else data
    opener = _OPENERS.get(Path(path).suffix.lower()[1:], open)  # out.xyz.gz, dump.lammpstrj.xz: compressed
    with atomic_output(path, overwrite=overwrite) as tmp:
        with opener(tmp, "wt") as fh:
            for ds in chunks:
                validate(ds, require_cell=fmt == "lammps-dump")
                if fmt == "extxyz":
                    _write_extxyz(ds, fh)
                else:
                    from .lammps_dump import write_frames

                    write_frames(ds, fh, species_column=species_column)
    return Path(path)
