"""``ssefeat info`` and ``ssefeat convert``: output, conversions, and errors with exit code 2 and no traceback."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import ssefeat
import ssefeat.io as sio
from ssefeat.io.export import to_ase
from ssefeat.cli import main
from ssefeat.cli.io_commands import parse_selection
from ssefeat.errors import ParameterError

from conftest import LAMMPS_CELL as CELL, rich_trajectory
from test_io import _mdtraj_files


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result, result.output + (result.stderr if result.stderr_bytes is not None else "")


@pytest.fixture
def nc(tmp_path):
    path = tmp_path / "t.nc"
    sio.write(ssefeat.wrap(rich_trajectory(n_frames=10)), path)
    return path


def test_info_text(nc):
    result, out = run("info", nc)
    assert result.exit_code == 0, out
    assert "atoms       8: Li 3, P 1, S 4" in out
    assert "frames      10 (frame 0 .. 9)" in out
    assert "0 .. 0.18 ps, 0.02 ps between frames" in out
    assert "alpha=79.61" in out and f"volume      {np.linalg.det(CELL):.4f}" in out
    assert "g/cm^3" in out and "wrapped     yes" in out
    assert "velocities, forces, potential_energy, energy, images" in out


def test_info_json_chunked_matches_whole(nc):
    result, out = run("info", nc, "--json", "--chunk", "3")
    assert result.exit_code == 0, out
    info = json.loads(out)
    assert info["n_frames"] == 10 and info["species"] == {"Li": 3, "P": 1, "S": 4}
    assert info["time_ps"] == [0.0, pytest.approx(0.18)]
    mass = 3 * 6.94 + 30.974 + 4 * 32.06
    assert info["density_g_cm3"] == pytest.approx(mass / np.linalg.det(CELL) * 1.66054, rel=1e-3)
    assert info["format"] == "netcdf" and info["has_images"] is True


def test_info_lammps_with_type_map_and_topology(tmp_path):
    ds = rich_trajectory(n_frames=4)
    sio.export(ds, tmp_path / "t.lammpstrj", species_column="type")
    result, out = run("info", tmp_path / "t.lammpstrj", "--type-map", "1=Li,2=P,3=S")
    assert result.exit_code == 0, out
    assert "Li 3, P 1, S 4" in out
    top = _mdtraj_files(tmp_path, ds)
    result, out = run("info", tmp_path / "t.dcd", "--topology", top)
    assert result.exit_code == 0, out
    assert "Li 3, P 1, S 4" in out and "frame index only" in out
    result, out = run("info", tmp_path / "t.dcd", "--topology", top, "--timestep", "0.5")
    assert "0 .. 1.5 ps, 0.5 ps between frames" in out


@pytest.mark.parametrize("out_ext", ["nc", "zarr", "extxyz", "lammpstrj"])
def test_convert_subset(tmp_path, nc, out_ext):
    target = tmp_path / f"out.{out_ext}"
    result, out = run("convert", nc, target, "--start", 1, "--stop", 9, "--stride", 2, "--select", "Li,S",
                      "--chunk", 3)
    assert result.exit_code == 0, out
    assert f"wrote {target}: 4 frames of 7 atoms" in out
    got = sio.read(target)
    want = ssefeat.select(sio.read(nc), species=["Li", "S"]).isel(frame=slice(1, 9, 2))
    np.testing.assert_allclose(got.positions.values, want.positions.values, atol=1e-7)
    np.testing.assert_allclose(got.time.values, want.time.values, atol=1e-9)
    assert got.attrs["timestep_ps"] == pytest.approx(0.04)
    if out_ext in ("nc", "zarr"):
        assert got.frame.values.tolist() == [1, 3, 5, 7]  # global indices kept
        assert got.atom.values.tolist() == [0, 1, 2, 4, 5, 6, 7]


def test_convert_to_lammps_types_then_info_hints_type_map(tmp_path, nc):
    result, out = run("convert", nc, tmp_path / "t.dump", "--lammps-types")
    assert result.exit_code == 0, out
    assert "ITEM: ATOMS id type x y z" in (tmp_path / "t.dump").read_text()
    result, out = run("info", tmp_path / "t.dump")
    assert "1 3, 2 1, 3 4" in out and "--type-map" in out
    _error(*run("convert", nc, tmp_path / "t.xyz", "--lammps-types"), "LAMMPS dump outputs only")


def test_convert_index_selection_and_cell(tmp_path):
    import ase.io
    from ase import Atoms
    ase.io.write(tmp_path / "mol.xyz", [Atoms("LiPS", positions=np.eye(3) * k) for k in (1, 2)], format="extxyz")
    result, out = run("convert", tmp_path / "mol.xyz", tmp_path / "mol.nc", "--select", "0,2", "--cell", "10,10,10")
    assert result.exit_code == 0, out
    got = sio.read(tmp_path / "mol.nc")
    assert got.species.values.tolist() == ["Li", "S"]
    np.testing.assert_allclose(got.cell.values[0], np.eye(3) * 10)


def test_parse_selection():
    assert parse_selection("Li,S") == ["Li", "S"]
    assert parse_selection("0-2, 5,7:9").tolist() == [0, 1, 2, 5, 7, 8]
    assert parse_selection(None) is None
    with pytest.raises(ParameterError, match="mixes"):
        parse_selection("Li,3")


# --- errors: one clear line, exit code 2, no traceback -------------------------------------------------------
def _error(result, out, pattern):
    assert result.exit_code == 2, out
    assert "ssefeat error:" in out and pattern in out, out
    assert "Traceback" not in out


def test_cli_missing_file(tmp_path):
    _error(*run("info", tmp_path / "nope.xtc"), "does not exist")


def test_cli_unknown_format(tmp_path):
    (tmp_path / "a.abc").write_text("hello")
    _error(*run("info", tmp_path / "a.abc"), "cannot tell the format")
    _error(*run("info", tmp_path / "a.abc", "--format", "nonsense"), "unknown format")


def test_cli_corrupt_file(tmp_path, nc):
    data = nc.read_bytes()
    nc.write_bytes(data[: len(data) // 2])
    _error(*run("info", nc), "t.nc")
    (tmp_path / "bad.lammpstrj").write_text("ITEM: TIMESTEP\n0\nITEM: NUMBER OF ATOMS\n3\nITEM: BOX BOUNDS pp pp pp\n"
                                            "0 1\n0 1\n0 1\nITEM: ATOMS id type x y z\n1 1 0 0 0\n")
    _error(*run("info", tmp_path / "bad.lammpstrj"), "frame 0 is incomplete: the file ends after 1 of its 3 atom lines")


def test_cli_topology_mismatch(tmp_path):
    ds = rich_trajectory(n_frames=3)
    _mdtraj_files(tmp_path, ds)
    sio.export(ssefeat.select(ds, species="S"), tmp_path / "small.xyz")
    _error(*run("info", tmp_path / "t.dcd", "--topology", tmp_path / "small.xyz"), "has 4 atoms but")


def test_cli_no_topology(tmp_path):
    _mdtraj_files(tmp_path, rich_trajectory(n_frames=3))
    _error(*run("info", tmp_path / "t.xtc"), "--topology")


def test_cli_nonfinite_cell_time_selection(tmp_path):
    import ase.io
    ds = rich_trajectory(n_frames=4)
    images = to_ase(ds)
    images[1].positions[0, 0] = np.inf
    ase.io.write(tmp_path / "inf.xyz", images, format="extxyz")
    _error(*run("info", tmp_path / "inf.xyz"), "NaN or infinite")
    images = to_ase(ds)
    for a in images:
        a.set_cell(np.diag([10.0, 10.0, 0.0]))
    ase.io.write(tmp_path / "flat.xyz", images, format="extxyz")
    _error(*run("info", tmp_path / "flat.xyz"), "zero or negative")
    images = to_ase(ds)
    images[2].info["time_ps"] = 0.0
    ase.io.write(tmp_path / "time.xyz", images, format="extxyz")
    _error(*run("info", tmp_path / "time.xyz"), "time does not increase")
    sio.write(ds, tmp_path / "t.nc")
    _error(*run("convert", tmp_path / "t.nc", tmp_path / "o.nc", "--select", "Na"), "matches no atom")
    assert not (tmp_path / "o.nc").exists()


def test_cli_convert_refuses_overwrite_and_bad_output(tmp_path, nc):
    _error(*run("convert", nc, nc, "--no-overwrite"), "already exists")
    _error(*run("convert", nc, tmp_path / "out.pdb"), "cannot write")
    _error(*run("convert", nc, tmp_path / "missing_dir" / "o.nc"), "does not exist")
    _error(*run("convert", nc, tmp_path / "o.nc", "--stride", "0"), "stride=0")


def test_cli_convert_unwrap_and_no_cell(tmp_path):
    from test_data import walk_traj
    true, ds = walk_traj(n_frames=40, n_atoms=12)
    sio.write(ds, tmp_path / "walk.nc")
    result, out = run("convert", tmp_path / "walk.nc", tmp_path / "unwrapped.nc", "--unwrap", "--chunk", 7)
    assert result.exit_code == 0, out
    got = sio.read(tmp_path / "unwrapped.nc")
    np.testing.assert_allclose(got.positions.values, true, atol=1e-9)
    assert got.attrs["wrapped"] == 0
    import ase.io
    from ase import Atoms
    ase.io.write(tmp_path / "mol.xyz", [Atoms("LiPS", positions=np.eye(3) * k) for k in (1, 2)], format="extxyz")
    _error(*run("convert", tmp_path / "mol.xyz", tmp_path / "mol.nc", "--unwrap"), "has no cell")
    assert not (tmp_path / "mol.nc").exists()
