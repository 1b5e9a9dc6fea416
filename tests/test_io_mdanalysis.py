"""ssefeat's LAMMPS dump and DCD readers against MDAnalysis's readers, on MDAnalysis's own test files.

Box origin: LAMMPS writes the box from (xlo, ylo, zlo), and its scaled columns are ``xs = (x - xlo) / lx`` (for
triclinic boxes ``s = (r - origin) @ inv(cell)``). ssefeat gives positions relative to that origin for every column
set: ``x y z`` minus the origin, ``xs ys zs`` times the cell. MDAnalysis (2.x) also subtracts the origin from
Cartesian columns (same numbers), but subtracts it from the scaled ones too after multiplying by the cell, so
there MDAnalysis = ssefeat - origin (visible only when the origin is not 0).
The small files run by default; all of them with ``-m slow``.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ssefeat.io as sio
from ssefeat.box import lattice_parameters
from ssefeat.errors import CorruptFileError
from ssefeat.io.lammps_dump import _box
from ssefeat.io.sniff import open_text

mda = pytest.importorskip("MDAnalysis")
datafiles = pytest.importorskip("MDAnalysisTests.datafiles")

#: ssefeat's choice of columns -> MDAnalysis's lammps_coordinate_convention
_CONVENTION = {"x": "unscaled", "xu": "unwrapped", "xs": "scaled", "xsu": "scaled_unwrapped"}


def _headers(path):
    """(position columns ssefeat uses, the box origin (Å) of every frame, the columns) of a dump."""
    with open_text(path) as fh:
        lines = fh.read().splitlines()
    origins = []
    for k, line in enumerate(lines):  # test helper: a plain scan
        if line.startswith("ITEM: BOX BOUNDS"):
            rows = np.array([r.split() for r in lines[k + 1:k + 4]], dtype=float)
            origins.append(_box(line.split()[3:], rows)[1])
        if line.startswith("ITEM: ATOMS"):
            columns = line.split()[2:]
    first = next(c for c in ("x", "xu", "xs", "xsu") if c in columns)
    return first, np.array(origins), columns


def _compare_dump(name):
    path = getattr(datafiles, name)
    first, origins, columns = _headers(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(path, format="LAMMPSDUMP", lammps_coordinate_convention=_CONVENTION[first])
    topology = None if ("type" in columns or "element" in columns) else ["X"] * u.atoms.n_atoms
    ds = sio.read(path, topology=topology)
    assert ds.sizes["frame"] == u.trajectory.n_frames
    order = np.argsort(u.atoms.ids)  # ssefeat sorts atoms by LAMMPS id
    for k, ts in enumerate(u.trajectory):
        shift = -origins[k] if first in ("xs", "xsu") else np.zeros(3)
        np.testing.assert_allclose(ds.positions.values[k] + shift, ts.positions[order], atol=2e-4,
                                   err_msg=f"{name} frame {k}")
        lengths, angles = lattice_parameters(ds.cell.values[k])
        np.testing.assert_allclose(lengths, ts.dimensions[:3], rtol=1e-6)
        np.testing.assert_allclose(angles, ts.dimensions[3:], atol=1e-4)
    return ds


def _compare_dcd(dcd, topology, fmt=None, stop=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = mda.Universe(topology, dcd, **({"topology_format": fmt} if fmt else {}))
        ds = sio.read(dcd, topology=["X"] * u.atoms.n_atoms, stop=stop)
        for k, ts in enumerate(u.trajectory[:stop]):
            np.testing.assert_allclose(ds.positions.values[k], ts.positions, atol=1e-4)
            if ts.dimensions is None:
                assert "cell" not in ds
                continue
            lengths, angles = lattice_parameters(ds.cell.values[k])
            np.testing.assert_allclose(lengths, ts.dimensions[:3], rtol=1e-5)
            np.testing.assert_allclose(angles, ts.dimensions[3:], atol=1e-3)
    return ds


# --- small files, run by default -------------------------------------------------------------------------------
def test_mdanalysis_small_dumps_agree():
    ds = _compare_dump("LAMMPSDUMP_triclinic")  # restricted triclinic box, scaled coordinates
    assert ds.attrs.get("pbc") is None
    ds = _compare_dump("LAMMPSDUMP_image_vf")  # image flags, velocities and forces
    assert "images" in ds
    ds = _compare_dump("LAMMPSDUMP_additional_columns")  # no type column (topology given), pp pp ff
    assert ds.attrs["pbc"] == "T T F"


def test_mdanalysis_dump_without_type_needs_a_topology():
    with pytest.raises(Exception, match="neither a 'type' nor an 'element' column") as err:
        sio.read(datafiles.LAMMPSDUMP_additional_columns)
    assert "topology" in err.value.fix


def test_mdanalysis_charmm_box_matrix_and_namd_cosine_dcds_agree():
    ds = _compare_dcd(datafiles.DCD_TRICLINIC, datafiles.PSF_TRICLINIC)  # CHARMM c36: box matrix in the file
    assert np.all(ds.cell.values[0] > -1e3) and np.linalg.det(ds.cell.values[0]) > 0
    _compare_dcd(datafiles.DCD_NAMD_TRICLINIC, datafiles.PSF_NAMD_TRICLINIC)  # NAMD: angle cosines


# --- all of them ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["LAMMPSDUMP", "LAMMPSDUMP_allcoords", "LAMMPSDUMP_allinfo", "LAMMPSDUMP_chain1",
                                  "LAMMPSDUMP_chain2", "LAMMPSDUMP_nomass_elemx", "WIN_LAMMPSDUMP",
                                  "LAMMPSDUMP_triclinic", "LAMMPSDUMP_image_vf",
                                  "LAMMPSDUMP_additional_columns"])
def test_mdanalysis_dumps_agree(name):
    _compare_dump(name)


@pytest.mark.slow
def test_mdanalysis_malformed_and_empty_files_are_refused():
    with pytest.raises(CorruptFileError, match="atom line 1 of 24 has 6 values"):
        sio.read(datafiles.LAMMPSDUMP_long)  # its first lines carry an extra column
    with pytest.raises(CorruptFileError, match="empty"):
        sio.read(datafiles.DCD_empty, topology=["X"])


@pytest.mark.slow
@pytest.mark.parametrize("dcd, top, fmt", [("LAMMPSdcd2", "LAMMPSdata2", "DATA"), ("DCD", "PSF", None),
                                           ("DCD_TRICLINIC", "PSF_TRICLINIC", None),
                                           ("DCD_NAMD_TRICLINIC", "PSF_NAMD_TRICLINIC", None)])
def test_mdanalysis_dcds_agree(dcd, top, fmt):
    _compare_dcd(getattr(datafiles, dcd), getattr(datafiles, top), fmt, stop=20)
