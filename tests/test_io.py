"""ssefeat.io: round trips, agreement between readers, format details, chunking and error messages."""
from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
import xarray as xr

import ssefeat
import ssefeat.io as sio
from ssefeat.io.export import to_ase
from ssefeat.errors import (CellError, CorruptFileError, MissingFileError, NoCellError, NonFiniteError,
                            OutputError, ParameterError, SelectionError, TimeOrderError, TopologyMismatchError,
                            UnknownFormatError)
from ssefeat.units import TIME_UNIT_PS
from conftest import LAMMPS_CELL, RICH_SPECIES, rich_trajectory

SPECIES, CELL = RICH_SPECIES, LAMMPS_CELL
GENERAL_CELL = np.array([[9.0, 1.0, 0.5], [1.5, 10.0, -0.5], [0.3, 2.0, 8.0]])  # not lower triangular


@pytest.fixture
def traj():
    return ssefeat.wrap(rich_trajectory())


def assert_same(a: xr.Dataset, b: xr.Dataset, atol=1e-8, skip=()):
    """Same variables, coordinates and values (to atol for floats)."""
    for name in set(a.variables) | set(b.variables):
        if name in skip:
            continue
        assert name in a.variables and name in b.variables, f"{name} missing in one of the Datasets"
        x, y = a[name].values, b[name].values
        if x.dtype.kind in "fiu":
            np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(x.astype(str), y.astype(str), err_msg=name)


# --- round trips -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["nc", "zarr", "NC"])
def test_native_round_trip_is_identical(tmp_path, traj, ext):
    path = tmp_path / f"t.{ext}"
    sio.write(traj, path)
    back = sio.read(path)
    xr.testing.assert_identical(traj, back)
    # and again: read -> write -> read
    sio.write(back, tmp_path / f"u.{ext}")
    xr.testing.assert_identical(back, sio.read(tmp_path / f"u.{ext}"))


def test_native_keeps_float32_selection_coords_and_attrs(tmp_path):
    ds = rich_trajectory()
    ds["positions"] = ds["positions"].astype(np.float32)
    ds = ssefeat.select(ds, species=["S"]).isel(frame=slice(1, None, 2))
    ds.attrs["note"] = "hello"
    sio.write(ds, tmp_path / "s.nc")
    back = sio.read(tmp_path / "s.nc")
    xr.testing.assert_identical(ds, back)
    assert back["positions"].dtype == np.float32
    assert back["atom"].values.tolist() == [4, 5, 6, 7]
    assert back["frame"].values.tolist() == [1, 3, 5]


@pytest.mark.parametrize("ext", ["extxyz", "xyz", "lammpstrj", "dump"])
def test_text_round_trip(tmp_path, traj, ext):
    path = tmp_path / f"t.{ext}"
    sio.export(traj, path)
    first = sio.read(path)
    lammps = ext in ("lammpstrj", "dump")
    skip = {"energy"} if lammps else set()  # a LAMMPS dump has no per-frame energy
    assert_same(traj, first, atol=1e-7, skip=skip)
    assert first.attrs["wrapped"] == 1
    # read -> write -> read is exact to the text precision
    sio.export(first, tmp_path / f"u.{ext}")
    assert_same(first, sio.read(tmp_path / f"u.{ext}"), atol=1e-8)


def test_lammps_dump_rotates_a_general_cell_into_lammps_frame(tmp_path):
    ds = rich_trajectory(cell=GENERAL_CELL)
    sio.export(ds, tmp_path / "g.lammpstrj")
    back = sio.read(tmp_path / "g.lammpstrj")
    cell = back["cell"].values[0]
    assert cell[0, 1] == cell[0, 2] == cell[1, 2] == 0.0  # restricted triclinic
    # same lattice: lengths, angles, volume; same fractional positions; rotated vectors keep their length
    from ssefeat.box import lattice_parameters, to_fractional
    for got, want in zip(lattice_parameters(cell), lattice_parameters(GENERAL_CELL)):
        np.testing.assert_allclose(got, want, atol=1e-8)
    np.testing.assert_allclose(to_fractional(back.positions.values, back.cell.values),
                               to_fractional(ds.positions.values, ds.cell.values), atol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(back.velocities, axis=-1), np.linalg.norm(ds.velocities, axis=-1),
                               atol=1e-8)


def test_lammps_dump_type_column_and_type_map(tmp_path, traj):
    sio.export(traj, tmp_path / "t.dump", species_column="type")
    text = (tmp_path / "t.dump").read_text()
    assert "ITEM: ATOMS id type x y z ix iy iz vx vy vz fx fy fz q c_pe" in text
    plain = sio.read(tmp_path / "t.dump")
    assert plain["species"].values.tolist() == ["1"] * 3 + ["2"] + ["3"] * 4
    mapped = sio.read(tmp_path / "t.dump", type_map={1: "Li", 2: "P", 3: "S"})
    assert_same(traj, mapped, atol=1e-7, skip={"energy", "mass"})
    assert sio.read(tmp_path / "t.dump", type_map="1=Li,2=P,3=S")["species"].values.tolist() == SPECIES
    with pytest.raises(ParameterError, match=r"types \[3\]"):
        sio.read(tmp_path / "t.dump", type_map={1: "Li", 2: "P"})


def test_lammps_dump_images_unwrap_exactly(tmp_path):
    true = rich_trajectory(n_frames=5, wrapped=False)
    true["positions"] = true["positions"] + np.arange(5)[:, None, None] * 7.3  # walk across the box
    wrapped = ssefeat.wrap(true)
    sio.export(wrapped, tmp_path / "w.lammpstrj")
    text = (tmp_path / "w.lammpstrj").read_text()
    assert " ix iy iz " in text
    back = sio.read(tmp_path / "w.lammpstrj")
    assert "images" in back and np.abs(back["images"].values).max() > 0
    np.testing.assert_allclose(ssefeat.unwrap(back).positions, true.positions, atol=1e-7)


def test_lammps_dump_written_by_hand_scaled_units_time_and_ids(tmp_path):
    frame = """ITEM: UNITS
real
ITEM: TIME
{time}
ITEM: TIMESTEP
{step}
ITEM: NUMBER OF ATOMS
3
ITEM: BOX BOUNDS pp pp pp
-1.0 9.0
0.0 10.0
2.0 12.0
ITEM: ATOMS id type xs ys zs vx vy vz
3 2 0.5 0.5 0.5 0.001 0 0
1 1 0.1 0.2 0.3 0 0.002 0
2 1 0.9 0.9 0.9 0 0 -0.001
"""
    text = frame.format(time=0.0, step=0) + frame.format(time=5.0, step=5).replace("ITEM: UNITS\nreal\n", "")
    (tmp_path / "hand.lammpstrj").write_text(text)
    ds = sio.read(tmp_path / "hand.lammpstrj", type_map={1: "Li", 2: "S"})
    assert ds["species"].values.tolist() == ["Li", "Li", "S"]  # sorted by id
    assert ds["atom"].values.tolist() == [0, 1, 2]
    np.testing.assert_allclose(ds.positions.values[0, 0], [1.0, 2.0, 3.0])  # scaled, origin moved to 0
    np.testing.assert_allclose(ds.time.values, [0.0, 0.005])  # real: fs -> ps
    np.testing.assert_allclose(ds.velocities.values[0, 0], [0.0, 2.0, 0.0])  # Å/fs -> Å/ps
    np.testing.assert_allclose(ds.cell.values[0], np.diag([10.0, 10.0, 10.0]))


def test_extxyz_triclinic_with_momenta_from_ase(tmp_path):
    import ase.io
    from ase import Atoms

    rng = np.random.default_rng(3)
    frames = []
    for k in range(3):
        atoms = Atoms(SPECIES, positions=rng.random((8, 3)) @ GENERAL_CELL, cell=GENERAL_CELL, pbc=True)
        atoms.set_momenta(rng.normal(size=(8, 3)))
        atoms.set_initial_charges(np.arange(8.0))
        frames.append(atoms)
    ase.io.write(tmp_path / "m.extxyz", frames, format="extxyz")
    ds = sio.read(tmp_path / "m.extxyz")
    np.testing.assert_allclose(ds["cell"].values, np.repeat(GENERAL_CELL[None], 3, 0))
    want_v = np.stack([a.get_momenta() / a.get_masses()[:, None] for a in frames]) / TIME_UNIT_PS
    np.testing.assert_allclose(ds["velocities"].values, want_v, rtol=1e-6, atol=1e-6)
    # a Li with momentum 1 amu Å/ASE-time has v = 1 / (6.94 * 0.010180 ps) ≈ 14.15 Å/ps
    assert abs(1 / (6.94 * TIME_UNIT_PS) - 14.154) < 1e-2
    np.testing.assert_allclose(ds["charge"].values, np.arange(8.0))
    np.testing.assert_allclose(ds.positions.values, np.stack([a.positions for a in frames]), atol=1e-7)


def test_xdatcar_gz_species_counts_and_cell(tmp_path):
    import ase.io
    from ase import Atoms

    species = ["Li"] * 6 + ["P"] * 2 + ["S"] * 8
    rng = np.random.default_rng(5)
    frames = [Atoms(species, scaled_positions=rng.random((16, 3)), cell=GENERAL_CELL, pbc=True) for _ in range(4)]
    ase.io.write(tmp_path / "XDATCAR", frames, format="vasp-xdatcar")
    with open(tmp_path / "XDATCAR", "rb") as src, gzip.open(tmp_path / "XDATCAR.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    ds = sio.read(tmp_path / "XDATCAR.gz", timestep_ps=0.002)
    assert ssefeat.data.species_counts(ds) == {"Li": 6, "P": 2, "S": 8}
    assert ds.sizes["frame"] == 4
    np.testing.assert_allclose(ds["cell"].values[0], GENERAL_CELL, atol=1e-6)
    np.testing.assert_allclose(ds.time.values, [0, 0.002, 0.004, 0.006])
    np.testing.assert_allclose(ds.positions.values[2], frames[2].positions, atol=1e-5)
    assert ds.attrs["wrapped"] == 1
    assert sio.detect_format("run/xdatcar.GZ") == "xdatcar"


def _vasprun(species, cell, frac, forces, energies, potim=2.0, ibrion=0):
    """A minimal vasprun.xml of an MD run (the parts ASE reads)."""
    vec = lambda rows: "".join(f"<v>{' '.join(f'{x:.10f}' for x in r)}</v>" for r in rows)  # noqa: E731
    basis = f"<crystal><varray name=\"basis\">{vec(cell)}</varray></crystal>"
    steps = "".join(
        f"<calculation><scstep><energy><i name=\"e_fr_energy\">{e}</i><i name=\"e_0_energy\">{e}</i></energy>"
        f"</scstep><structure>{basis}<varray name=\"positions\">{vec(p)}</varray></structure>"
        f"<varray name=\"forces\">{vec(f)}</varray><energy><i name=\"e_fr_energy\">{e}</i></energy></calculation>"
        for p, f, e in zip(frac, forces, energies))
    atoms = "".join(f"<rc><c>{s}</c><c>1</c></rc>" for s in species)
    return (f"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><modeling><incar><i type=\"int\" name=\"IBRION\">"
            f"{ibrion}</i><i name=\"POTIM\">{potim}</i></incar><kpoints><varray name=\"kpointlist\"><v>0 0 0</v>"
            f"</varray><varray name=\"weights\"><v>1</v></varray></kpoints><atominfo><array name=\"atoms\"><set>{atoms}</set>"
            f"</array></atominfo><structure name=\"initialpos\">{basis}<varray name=\"positions\">{vec(frac[0])}"
            f"</varray></structure>{steps}</modeling>")


def test_vasprun_md_positions_forces_energy_and_time(tmp_path):
    rng = np.random.default_rng(2)
    frac, forces, energies = rng.random((4, 8, 3)), rng.normal(size=(4, 8, 3)), [-10.5, -10.4, -10.6, -10.55]
    (tmp_path / "vasprun.xml").write_text(_vasprun(SPECIES, GENERAL_CELL, frac, forces, energies))
    ds = sio.read(tmp_path / "vasprun.xml")
    assert ds["species"].values.tolist() == SPECIES
    np.testing.assert_allclose(ds.positions.values, frac @ GENERAL_CELL, atol=1e-8)
    np.testing.assert_allclose(ds.forces.values, forces, atol=1e-9)
    np.testing.assert_allclose(ds.energy.values, energies)
    np.testing.assert_allclose(ds.time.values, [0, 0.002, 0.004, 0.006])  # POTIM 2 fs of an MD run
    part = sio.read(tmp_path / "vasprun.xml", start=1, stride=2)
    assert part.frame.values.tolist() == [1, 3] and part.attrs["timestep_ps"] == pytest.approx(0.004)
    assert sio.detect_format("VASPRUN.XML") == "vasprun"


# --- the same trajectory through ASE and through mdtraj --------------------------------------------------------
def _mdtraj_files(tmp_path, ds):
    import mdtraj as md

    from ssefeat.io.mdtraj_formats import topology_from_species

    top = topology_from_species(ds["species"].values)
    t = md.Trajectory(ds.positions.values / 10.0, top, time=ds.time.values)
    t.unitcell_vectors = ds.cell.values / 10.0
    t[0].save_pdb(str(tmp_path / "top.pdb"))
    for ext in ("dcd", "trr", "xtc", "nc"):
        t.save(str(tmp_path / f"t.{ext}"))
    return tmp_path / "top.pdb"


def test_mdtraj_hdf5_carries_its_topology(tmp_path):
    pytest.importorskip("tables")
    import mdtraj as md

    from ssefeat.io.mdtraj_formats import topology_from_species
    ds = rich_trajectory(n_frames=7)
    t = md.Trajectory(ds.positions.values / 10.0, topology_from_species(SPECIES), time=ds.time.values)
    t.unitcell_vectors = ds.cell.values / 10.0
    t.save_hdf5(str(tmp_path / "t.h5"))
    got = sio.read(tmp_path / "t.h5")
    assert got["species"].values.tolist() == SPECIES
    np.testing.assert_allclose(got.positions.values, ds.positions.values, atol=1e-5)
    np.testing.assert_allclose(got.cell.values, ds.cell.values, atol=1e-5)
    np.testing.assert_allclose(got.time.values, ds.time.values, atol=1e-6)
    chunks = list(sio.iter_chunks(tmp_path / "t.h5", 2, start=1, stride=2, atoms="Li"))
    assert [c.frame.values.tolist() for c in chunks] == [[1, 3], [5]]
    np.testing.assert_allclose(chunks[1].positions.values, ds.positions.values[5:6, :3], atol=1e-5)


def test_ase_and_mdtraj_formats_read_to_the_same_dataset(tmp_path):
    import ase.io

    ds = rich_trajectory(n_frames=5)
    ase.io.write(tmp_path / "t.extxyz", to_ase(ds), format="extxyz")
    top = _mdtraj_files(tmp_path, ds)
    ref = sio.read(tmp_path / "t.extxyz")
    for ext, tol in (("dcd", 1e-5), ("trr", 1e-5), ("nc", 1e-3), ("xtc", 1e-2)):
        got = sio.read(tmp_path / f"t.{ext}", topology=top, timestep_ps=None if ext != "dcd" else 0.02)
        assert got["species"].values.tolist() == SPECIES
        np.testing.assert_allclose(got.positions.values, ref.positions.values, atol=tol, err_msg=ext)
        np.testing.assert_allclose(got.cell.values, ref.cell.values, atol=max(tol, 1e-4), err_msg=ext)
        np.testing.assert_allclose(got.time.values, ref.time.values, atol=1e-6, err_msg=ext)
        assert got.frame.values.tolist() == list(range(5))
    # topology as a plain list of species works too
    lst = sio.read(tmp_path / "t.dcd", topology=SPECIES)
    assert lst["species"].values.tolist() == SPECIES and lst.attrs["time_is_frame_index"] == 1


def test_mdtraj_start_stop_stride_atoms_and_chunks(tmp_path):
    ds = rich_trajectory(n_frames=9)
    top = _mdtraj_files(tmp_path, ds)
    part = sio.read(tmp_path / "t.trr", topology=top, start=1, stop=8, stride=3, atoms="S")
    assert part.frame.values.tolist() == [1, 4, 7]
    assert part.atom.values.tolist() == [4, 5, 6, 7]
    np.testing.assert_allclose(part.positions.values, ds.positions.values[1:8:3, 4:], atol=1e-5)
    chunks = list(sio.iter_chunks(tmp_path / "t.trr", 2, topology=top, start=1, stride=2))
    assert [c.frame.values.tolist() for c in chunks] == [[1, 3], [5, 7]]
    whole = sio.read(tmp_path / "t.trr", topology=top, start=1, stride=2)
    xr.testing.assert_allclose(xr.concat(chunks, "frame"), whole)


def test_gro_and_mdtraj_lammpstrj(tmp_path):
    import mdtraj as md

    from ssefeat.box import to_fractional
    from ssefeat.io.mdtraj_formats import topology_from_species
    ds = rich_trajectory(n_frames=3)
    t = md.Trajectory(ds.positions.values / 10.0, topology_from_species(SPECIES), time=ds.time.values)
    t.unitcell_vectors = ds.cell.values / 10.0
    t.save_gro(str(tmp_path / "t.gro"))
    t.save_lammpstrj(str(tmp_path / "t.lammpstrj"))
    gro = sio.read(tmp_path / "t.gro")  # 1e-3 nm precision
    assert gro.species.values.tolist() == SPECIES
    np.testing.assert_allclose(gro.positions.values, ds.positions.values, atol=6e-3)
    np.testing.assert_allclose(gro.time.values, ds.time.values)
    # mdtraj's own LAMMPS reader (species from a topology) and ssefeat's (types; origin moved to 0) agree
    mine = sio.read(tmp_path / "t.lammpstrj", type_map={1: "X"})
    theirs = sio.read(tmp_path / "t.lammpstrj", format="mdtraj-lammpstrj", topology=SPECIES)
    assert theirs.species.values.tolist() == SPECIES
    np.testing.assert_allclose(theirs.positions.values, ds.positions.values, atol=1e-3)
    np.testing.assert_allclose(mine.cell.values, ds.cell.values, atol=1e-3)
    d = to_fractional(mine.positions.values, mine.cell.values) - to_fractional(ds.positions.values, ds.cell.values)
    np.testing.assert_allclose(d - d[:, :1], 0, atol=1e-3)  # the same up to one translation per frame


@pytest.mark.parametrize("ext", ["nc", "zarr", "extxyz", "lammpstrj"])
def test_iter_chunks_keeps_global_frames(tmp_path, ext):
    ds = rich_trajectory(n_frames=11)
    sio.write(ds, tmp_path / f"c.{ext}")
    kw = {"start": 2, "stop": 10, "stride": 2, "atoms": ["Li", "P"]}
    chunks = list(sio.iter_chunks(tmp_path / f"c.{ext}", 3, **kw))
    assert [c.frame.values.tolist() for c in chunks] == [[2, 4, 6], [8]]
    whole = sio.read(tmp_path / f"c.{ext}", **kw)
    joined = xr.concat(chunks, "frame")
    assert_same(joined, whole, atol=0)
    np.testing.assert_allclose(whole.positions.values, ds.positions.values[2:10:2, :4], atol=1e-7)
    np.testing.assert_allclose(whole.time.values, ds.time.values[2:10:2], atol=1e-9)


# --- atomic writes -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["nc", "zarr", "extxyz", "lammpstrj"])
def test_failed_write_leaves_old_file_and_no_partial(tmp_path, traj, monkeypatch, ext):
    path = tmp_path / f"out.{ext}"
    sio.write(traj, path)
    before = sio.read(path)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full (simulated)")

    import ase.io
    from ssefeat.io import lammps_dump
    if ext == "nc":
        monkeypatch.setattr(xr.Dataset, "to_netcdf", lambda self, p, **kw: (open(p, "wb").write(b"CDF partial"),
                                                                            boom()))
    elif ext == "zarr":
        monkeypatch.setattr(xr.Dataset, "to_zarr", lambda self, p, **kw: ((p.mkdir()), boom()))
    elif ext == "extxyz":
        monkeypatch.setattr(ase.io, "write", lambda fh, *a, **k: (fh.write("8\npartial"), boom()))
    else:
        monkeypatch.setattr(lammps_dump, "write_frames", lambda ds, fh, **k: (fh.write("ITEM: TIMESTEP"), boom()))
    with pytest.raises((RuntimeError, OutputError), match="disk full"):
        sio.write(rich_trajectory(seed=9), path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left behind
    assert_same(before, sio.read(path), atol=0)


def test_write_refuses_to_overwrite_when_asked(tmp_path, traj):
    sio.write(traj, tmp_path / "a.nc")
    with pytest.raises(OutputError, match="already exists"):
        sio.write(traj, tmp_path / "a.nc", overwrite=False)


def test_write_validates_first(tmp_path, traj):
    bad = traj.copy()
    bad["positions"] = bad["positions"].where(bad.atom != 2)
    with pytest.raises(NonFiniteError, match="NaN"):
        sio.write(bad, tmp_path / "bad.nc")
    assert not (tmp_path / "bad.nc").exists()


# --- errors --------------------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    (tmp_path / "traj.xtc").touch()
    with pytest.raises(MissingFileError, match="does not exist") as err:
        sio.read(tmp_path / "traj.xct")
    assert "traj.xtc" in err.value.fix  # suggests the near name


def test_unknown_format(tmp_path):
    (tmp_path / "a.weird").write_text("x")
    with pytest.raises(UnknownFormatError, match="cannot tell the format"):
        sio.read(tmp_path / "a.weird")
    with pytest.raises(UnknownFormatError, match="unknown format 'gromos'"):
        sio.read(tmp_path / "a.weird", format="gromos")
    (tmp_path / "other.nc").write_bytes(b"")
    import netCDF4
    with netCDF4.Dataset(tmp_path / "other.nc", "w") as nc:
        nc.createDimension("t", 2)
        nc.createVariable("temperature", "f8", ("t",))
    with pytest.raises(UnknownFormatError, match="neither an ssefeat trajectory"):
        sio.read(tmp_path / "other.nc")


@pytest.mark.parametrize("ext", ["nc", "extxyz", "lammpstrj", "dcd"])
def test_truncated_file(tmp_path, traj, ext):
    path = tmp_path / f"t.{ext}"
    if ext == "dcd":
        _mdtraj_files(tmp_path, traj)
    else:
        sio.write(traj, path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    kwargs = {"topology": SPECIES} if ext == "dcd" else {}
    with pytest.raises(CorruptFileError, match=str(path.name)) as err:
        sio.read(path, **kwargs)
    assert "truncated" in str(err.value)


def test_amber_netcdf_is_told_apart_from_ssefeat(tmp_path, traj):
    top = _mdtraj_files(tmp_path, traj)
    assert sio.detect_format(tmp_path / "t.nc") == "amber-netcdf"
    sio.write(traj, tmp_path / "mine.nc")
    assert sio.detect_format(tmp_path / "mine.nc") == "netcdf"
    amber = sio.read(tmp_path / "t.nc", topology=top)
    np.testing.assert_allclose(amber.positions.values, traj.positions.values, atol=1e-3)
    with pytest.raises(ParameterError, match="no atom names"):
        sio.read(tmp_path / "t.nc")


def test_topology_with_a_different_atom_count(tmp_path, traj):
    _mdtraj_files(tmp_path, traj)
    with pytest.raises(TopologyMismatchError, match="has 3 atoms but .*t.dcd has 8 atoms"):
        sio.read(tmp_path / "t.dcd", topology=["Li", "P", "S"])


def test_nonfinite_coordinates(tmp_path, traj):
    import ase.io
    images = to_ase(traj)
    images[2].positions[3, 1] = np.nan
    ase.io.write(tmp_path / "nan.extxyz", images, format="extxyz")
    with pytest.raises(NonFiniteError, match=r"nan.extxyz: positions contain 1 NaN .*frame 2, atom 3"):
        sio.read(tmp_path / "nan.extxyz")


def test_cell_of_zero_or_negative_volume(tmp_path, traj):
    import ase.io
    images = to_ase(traj)
    for a in images:
        a.set_cell(CELL[[1, 0, 2]])  # swapped vectors: left-handed
    ase.io.write(tmp_path / "left.extxyz", images, format="extxyz")
    with pytest.raises(CellError, match="left.extxyz: the cell of frame 0 has volume -"):
        sio.read(tmp_path / "left.extxyz")
    with pytest.raises(CellError, match="zero or negative"):
        sio.read(tmp_path / "left.extxyz", cell=[[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    fixed = sio.read(tmp_path / "left.extxyz", cell=CELL)
    np.testing.assert_allclose(fixed.cell.values[0], CELL)


def test_no_cell_then_periodic_analysis(tmp_path):
    import ase.io
    from ase import Atoms
    ase.io.write(tmp_path / "mol.xyz", [Atoms("LiPS", positions=np.eye(3) * k) for k in (1, 2)], format="extxyz")
    ds = sio.read(tmp_path / "mol.xyz")
    assert "cell" not in ds
    with pytest.raises(NoCellError, match="no cell"):
        ssefeat.unwrap(ds)
    import mdtraj as md
    from ssefeat.io.mdtraj_formats import topology_from_species
    md.Trajectory(np.random.default_rng(0).random((2, 3, 3)), topology_from_species(["Li", "P", "S"])).save_pdb(
        str(tmp_path / "nocell.pdb"))
    pdb = sio.read(tmp_path / "nocell.pdb")
    assert "cell" not in pdb and pdb.sizes["frame"] == 2
    with pytest.raises(NoCellError, match="has no cell"):
        ssefeat.unwrap(pdb)
    assert "cell" in sio.read(tmp_path / "nocell.pdb", cell=[10, 10, 10])


def test_time_that_does_not_increase(tmp_path, traj):
    import ase.io
    images = to_ase(traj)
    images[3].info["time_ps"] = images[1].info["time_ps"]  # a restart overlap
    ase.io.write(tmp_path / "restart.extxyz", images, format="extxyz")
    with pytest.raises(TimeOrderError, match="restart.extxyz: time does not increase between frames 2 and 3"):
        sio.read(tmp_path / "restart.extxyz")


def test_lammps_restart_overlap_is_a_time_order_error(tmp_path, traj):
    sio.export(traj, tmp_path / "a.lammpstrj")
    text = (tmp_path / "a.lammpstrj").read_text()
    frames = text.split("ITEM: TIME\n")[1:]
    overlap = "".join("ITEM: TIME\n" + f for f in frames[:4] + frames[2:])  # steps 0 1 2 3 2 3 4 5
    (tmp_path / "restart.lammpstrj").write_text(overlap)
    with pytest.raises(TimeOrderError, match=r"restart.lammpstrj: the timestep does not increase .*step 3 -> 2"):
        sio.read(tmp_path / "restart.lammpstrj")


@pytest.mark.parametrize("ext", ["nc", "extxyz", "lammpstrj"])
def test_selection_that_matches_no_atom(tmp_path, traj, ext):
    sio.write(traj, tmp_path / f"t.{ext}")
    with pytest.raises(SelectionError, match=r"matches no atom .*species are \['Li', 'P', 'S'\]"):
        sio.read(tmp_path / f"t.{ext}", atoms="Na")
    with pytest.raises(SelectionError, match="out of range"):
        sio.read(tmp_path / f"t.{ext}", atoms=[0, 99])


def test_bad_frame_range(tmp_path, traj):
    sio.write(traj, tmp_path / "t.nc")
    with pytest.raises(ParameterError, match="stride=0"):
        sio.read(tmp_path / "t.nc", stride=0)
    with pytest.raises(ParameterError, match="not after start"):
        sio.read(tmp_path / "t.nc", start=4, stop=2)
    with pytest.raises(Exception, match="no frames"):
        sio.read(tmp_path / "t.nc", start=50)


def test_cell_from_lengths_angles_matches_mdtraj():
    import mdtraj as md

    from ssefeat.io.mdtraj_formats import cell_from_lengths_angles
    rng = np.random.default_rng(7)
    lengths = rng.uniform(5, 20, size=(50, 3))
    angles = rng.uniform(60, 120, size=(50, 3))
    a, b, c = md.utils.lengths_and_angles_to_box_vectors(*lengths.T, *angles.T)
    want = np.stack([a, b, c], axis=1)
    np.testing.assert_allclose(cell_from_lengths_angles(lengths, angles), want, atol=1e-10)
    np.testing.assert_array_equal(cell_from_lengths_angles([10, 11, 12], [90, 90, 90]), np.diag([10.0, 11, 12]))
