"""ssefeat.io on files it did not write: formats told by content, compression, empty files, XDATCAR count lines,
LAMMPS step numbers with gaps, dumps without a type column, extxyz labels; files made here in tmp_path."""
from __future__ import annotations

import bz2
import gzip
import lzma
import shutil

import numpy as np
import pytest

import ssefeat
import ssefeat.io as sio
from ssefeat.errors import (CorruptFileError, OutputError, ParameterError, TimeOrderError, TopologyMismatchError,
                            UnknownFormatError)
from conftest import LAMMPS_CELL, rich_trajectory

SPECIES = ["Li", "Li", "Li", "P", "S", "S", "S", "S"]


@pytest.fixture
def traj():
    return ssefeat.wrap(rich_trajectory())


def _compress(src, dst, kind):
    opener = {"gz": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
    with open(src, "rb") as a, opener(dst, "wb") as b:
        shutil.copyfileobj(a, b)
    return dst


# --- formats by content -----------------------------------------------------------------------------------------
def test_extxyz_under_any_extension_and_compression(tmp_path, traj):
    sio.export(traj, tmp_path / "t.xyz")
    ref = sio.read(tmp_path / "t.xyz")
    shutil.copy(tmp_path / "t.xyz", tmp_path / "t.exyz")
    shutil.copy(tmp_path / "t.xyz", tmp_path / "frames.dat")
    _compress(tmp_path / "t.xyz", tmp_path / "frames.bin", "xz")  # compressed, name says nothing
    for name in ("t.exyz", "frames.dat", "frames.bin"):
        back = sio.read(tmp_path / name)
        np.testing.assert_allclose(back.positions.values, ref.positions.values, atol=1e-12)
        assert sio.detect_format(tmp_path / name) == "extxyz"


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
def test_export_compresses_by_suffix(tmp_path, traj, kind):
    sio.export(traj, tmp_path / f"t.xyz.{kind}")
    sio.write(traj, tmp_path / f"t.lammpstrj.{kind}")
    from ssefeat.io.sniff import compression

    for name in (f"t.xyz.{kind}", f"t.lammpstrj.{kind}"):
        assert compression(tmp_path / name) == kind
        np.testing.assert_allclose(sio.read(tmp_path / name).positions.values, traj.positions.values, atol=1e-7)
    with pytest.raises(UnknownFormatError):
        sio.write(traj, tmp_path / f"t.nc.{kind}")


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz"])
def test_lammps_dump_compressed_under_any_name(tmp_path, traj, kind):
    sio.export(traj, tmp_path / "d.lammpstrj")
    _compress(tmp_path / "d.lammpstrj", tmp_path / f"run1.{kind}", kind)
    _compress(tmp_path / "d.lammpstrj", tmp_path / f"d.lammpstrj.{kind}", kind)
    a, b = sio.read(tmp_path / f"run1.{kind}"), sio.read(tmp_path / f"d.lammpstrj.{kind}")
    assert sio.detect_format(tmp_path / f"run1.{kind}") == "lammps-dump"
    np.testing.assert_allclose(a.positions.values, traj.positions.values, atol=1e-8)
    np.testing.assert_array_equal(a.positions.values, b.positions.values)


def _xdatcar(n_frames=4, counts=(2, 1, 3), count_line=None, steps=None, cells=None, seed=0, drop_last=0):
    """An XDATCAR (VASP 5) written by hand; ``cells`` (per frame) gives the variable-cell layout."""
    rng = np.random.default_rng(seed)
    n = sum(counts)
    frac = rng.random((n_frames, n, 3))
    steps = list(range(1, n_frames + 1)) if steps is None else steps
    count_line = " ".join(map(str, counts)) if count_line is None else count_line

    def header(cell):
        return ("Li3PS4 test\n1.0\n" + "".join(" ".join(f"{x:.10f}" for x in row) + "\n" for row in cell)
                + "Li P S\n" + count_line + "\n")

    text = header(LAMMPS_CELL if cells is None else cells[0])
    for k in range(n_frames):
        if cells is not None and k:
            text += header(cells[k])
        text += f"Direct configuration= {steps[k]:5d}\n"
        rows = frac[k] if k < n_frames - 1 else frac[k][:n - drop_last]
        text += "".join(f"  {a:.8f} {b:.8f} {c:.8f}\n" for a, b, c in rows)
    return text, frac


def test_xdatcar_and_poscar_by_header_and_compressed(tmp_path):
    text, frac = _xdatcar()
    (tmp_path / "run1").write_text(text)
    _compress(tmp_path / "run1", tmp_path / "run1.gz", "gz")
    ds = sio.read(tmp_path / "run1.gz")
    assert sio.detect_format(tmp_path / "run1.gz") == "xdatcar"
    assert ssefeat.data.species_counts(ds) == {"Li": 2, "P": 1, "S": 3}
    np.testing.assert_allclose(ds.positions.values, frac @ LAMMPS_CELL, atol=1e-9)
    import ase.io

    ase.io.write(tmp_path / "structure.txt", ase.Atoms("Li2S", scaled_positions=frac[0, :3], cell=LAMMPS_CELL,
                                                       pbc=True), format="vasp")
    assert sio.detect_format(tmp_path / "structure.txt") == "poscar"
    np.testing.assert_allclose(sio.read(tmp_path / "structure.txt").positions.values[0], frac[0, :3] @ LAMMPS_CELL,
                               atol=1e-6)


def test_vasprun_netcdf_zarr_and_dcd_by_content(tmp_path, traj):
    from test_io import _vasprun

    rng = np.random.default_rng(0)
    xml = _vasprun(["Li", "S"], LAMMPS_CELL, rng.random((2, 2, 3)), rng.random((2, 2, 3)), [-1.0, -2.0])
    (tmp_path / "out.txt").write_text(xml)
    assert sio.detect_format(tmp_path / "out.txt") == "vasprun"
    sio.write(traj, tmp_path / "t.nc")
    shutil.copy(tmp_path / "t.nc", tmp_path / "t.data")
    sio.write(traj, tmp_path / "t.zarr")
    shutil.copytree(tmp_path / "t.zarr", tmp_path / "store")
    assert sio.detect_format(tmp_path / "t.data") == "netcdf"
    assert sio.detect_format(tmp_path / "store") == "zarr"
    np.testing.assert_array_equal(sio.read(tmp_path / "store").positions.values, traj.positions.values)
    import mdtraj as md

    top = md.Topology()
    chain = top.add_chain()
    for s in SPECIES:
        top.add_atom(s, md.element.get_by_symbol(s), top.add_residue("X", chain))
    with md.formats.DCDTrajectoryFile(str(tmp_path / "t.bin"), "w") as f:
        f.write(traj.positions.values.astype(np.float32))
    assert sio.detect_format(tmp_path / "t.bin") == "dcd"


def test_nothing_fits_lists_what_was_tried(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\nthis is not a trajectory\n")
    with pytest.raises(UnknownFormatError) as err:
        sio.read(tmp_path / "notes.txt")
    for rule in ("LAMMPS dump", "extxyz", "XDATCAR", "vasprun", "netCDF"):
        assert rule in err.value.what
    assert "--format" in err.value.fix


@pytest.mark.parametrize("name", ["empty.xyz", "empty.lammpstrj", "XDATCAR", "empty.nc", "empty"])
def test_empty_files_are_refused_clearly(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(CorruptFileError, match="is empty"):
        sio.read(tmp_path / name)
    _compress(tmp_path / name, tmp_path / (name + ".gz"), "gz")  # empty after decompression
    with pytest.raises(CorruptFileError, match="is empty"):
        sio.read(tmp_path / (name + ".gz"))


def test_cli_info_on_an_empty_file(tmp_path):
    from click.testing import CliRunner

    from ssefeat.cli import main

    (tmp_path / "empty.xyz").write_text("")
    result = CliRunner().invoke(main, ["info", str(tmp_path / "empty.xyz")])
    assert result.exit_code == 2 and "is empty" in result.output and "Traceback" not in result.output


# --- XDATCAR count lines -----------------------------------------------------------------------------------------
def test_xdatcar_count_line_one_too_small_is_refused_naming_frame_and_lines(tmp_path):
    text, _ = _xdatcar(n_frames=20, count_line="2 1 2")  # 6 atoms in every block, the header says 5
    (tmp_path / "XDATCAR").write_text(text)
    with pytest.raises(CorruptFileError) as err:
        sio.read(tmp_path / "XDATCAR")
    assert "frame 0 (configuration line 8) has 6 coordinate lines (lines 9..14)" in err.value.what
    assert "atom-count line (line 7) gives 5 atoms" in err.value.what


def test_xdatcar_count_line_too_large_and_cut_last_frame(tmp_path):
    text, _ = _xdatcar(n_frames=3, count_line="2 1 4")
    (tmp_path / "XDATCAR").write_text(text)
    with pytest.raises(CorruptFileError, match="frame 0 .* has 6 coordinate lines .* gives 7 atoms"):
        sio.read(tmp_path / "XDATCAR")
    text, _ = _xdatcar(n_frames=3, drop_last=2)
    (tmp_path / "XDATCAR").write_text(text)
    with pytest.raises(CorruptFileError, match="the file ends after 4 of the 6 coordinate lines of frame 2"):
        sio.read(tmp_path / "XDATCAR")
    assert sio.read(tmp_path / "XDATCAR", stop=2).sizes["frame"] == 2  # as the message says


def test_xdatcar_variable_cell_and_steps_give_times_with_gaps(tmp_path):
    cells = np.stack([LAMMPS_CELL * (1 + 0.01 * k) for k in range(4)])
    text, frac = _xdatcar(n_frames=4, steps=[10, 20, 30, 60], cells=cells)
    (tmp_path / "XDATCAR").write_text(text)
    ds = sio.read(tmp_path / "XDATCAR", timestep_ps=0.05)
    np.testing.assert_allclose(ds.cell.values, cells, atol=1e-9)
    np.testing.assert_allclose(ds.positions.values, np.einsum("fai,fij->faj", frac, cells), atol=1e-9)
    np.testing.assert_allclose(ds.time.values, [0.0, 0.05, 0.10, 0.25])  # steps 10 apart = 0.05 ps; a gap of 3
    import ase.io  # the same file through ASE

    frames = ase.io.read(tmp_path / "XDATCAR", index=":", format="vasp-xdatcar")
    np.testing.assert_allclose(ds.positions.values[3], frames[3].positions, atol=1e-6)


# --- step numbers and --timestep ---------------------------------------------------------------------------------
def _dump_with_steps(tmp_path, traj, steps, name="gaps.lammpstrj"):
    sio.export(traj, tmp_path / "plain.lammpstrj")
    text = (tmp_path / "plain.lammpstrj").read_text().split("ITEM: TIMESTEP\n")
    out = text[0]
    for k, part in enumerate(text[1:]):
        out += f"ITEM: TIMESTEP\n{steps[k]}\n" + part.split("\n", 1)[1]
    out = out.replace("ITEM: TIME\n", "ITEM: OLDTIME\n")  # no TIME items: only the step numbers
    (tmp_path / name).write_text(out)
    return tmp_path / name


@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_lammps_timestep_values_with_gaps_give_true_times(tmp_path, traj, chunk):
    steps = [1000, 1100, 1200, 3200, 3300, 3400]  # 19 frames missing between 1200 and 3200
    path = _dump_with_steps(tmp_path, traj, steps)
    if chunk is None:
        ds = sio.read(path, timestep_ps=0.1)
    else:
        import xarray as xr

        ds = xr.concat(list(sio.iter_chunks(path, chunk, timestep_ps=0.1)), dim="frame")
    np.testing.assert_allclose(ds.time.values, [0.0, 0.1, 0.2, 2.2, 2.3, 2.4])
    sub = sio.read(path, timestep_ps=0.1, start=2, stride=2)  # frames 2 and 4: the file's spacing still rules
    np.testing.assert_allclose(sub.time.values, [0.2, 2.3])
    if chunk == 1:
        from click.testing import CliRunner

        from ssefeat.cli import main

        out = CliRunner().invoke(main, ["info", str(path), "--timestep", "0.1", "--chunk", "2"]).output
        assert "0 .. 2.4 ps, uneven: 0.1 .. 2 ps between frames" in out


def test_lammps_steps_whose_first_spacing_is_a_gap_are_ambiguous(tmp_path, traj):
    path = _dump_with_steps(tmp_path, traj, [0, 200, 300, 400, 500, 600])
    with pytest.raises(ParameterError, match="ambiguous"):
        sio.read(path, timestep_ps=0.1)
    assert sio.read(path).sizes["frame"] == 6  # without a timestep: frame indices, as documented
    overlap = _dump_with_steps(tmp_path, traj, [0, 100, 200, 100, 200, 300], name="overlap.lammpstrj")
    with pytest.raises(TimeOrderError, match="step 200 -> 100"):  # a restart overlap stays a time-order error
        sio.read(overlap, timestep_ps=0.1)


def test_extxyz_step_info_gives_times(tmp_path, traj):
    sio.export(traj, tmp_path / "t.xyz")
    lines = (tmp_path / "t.xyz").read_text().splitlines(keepends=True)
    steps = iter([0, 5, 10, 40, 45, 50])
    out = "".join(line.replace("time_ps=", f"step={next(steps)} old_time=") if "Lattice=" in line else line
                  for line in lines)
    (tmp_path / "s.xyz").write_text(out)
    ds = sio.read(tmp_path / "s.xyz", timestep_ps=0.01)
    np.testing.assert_allclose(ds.time.values, [0.0, 0.01, 0.02, 0.08, 0.09, 0.10])


# --- valid files that used to be refused ------------------------------------------------------------------------
def test_lammps_dump_without_type_column(tmp_path, traj):
    sio.export(traj, tmp_path / "d.lammpstrj")
    text = (tmp_path / "d.lammpstrj").read_text()
    lines, in_atoms = [], False
    for line in text.splitlines():  # drop the element column (second) of every atom line
        if line.startswith("ITEM:"):
            in_atoms = line.startswith("ITEM: ATOMS")
            line = line.replace(" element", "")
        elif in_atoms:
            parts = line.split()
            line = " ".join([parts[0]] + parts[2:])
        lines.append(line)
    (tmp_path / "notype.lammpstrj").write_text("\n".join(lines) + "\n")
    with pytest.raises(ParameterError, match="neither a 'type' nor an 'element' column") as err:
        sio.read(tmp_path / "notype.lammpstrj")
    assert "truncated" not in str(err.value) and "--topology" in err.value.fix
    ds = sio.read(tmp_path / "notype.lammpstrj", topology=SPECIES)
    assert ds.species.values.tolist() == SPECIES
    np.testing.assert_allclose(ds.positions.values, traj.positions.values, atol=1e-8)
    with pytest.raises(TopologyMismatchError):
        sio.read(tmp_path / "notype.lammpstrj", topology=SPECIES[:-1])


def test_extxyz_with_labels_reads_maps_and_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    labels = ["A", "A", "B", "OW", "A"]
    pos = rng.random((3, 5, 3)) * 6
    ds = ssefeat.make_trajectory(pos, labels, np.diag([6.0, 6.0, 6.0]), timestep_ps=0.1)
    sio.export(ds, tmp_path / "ka.xyz")  # Kob-Andersen-like labels: written as they are
    back = sio.read(tmp_path / "ka.xyz")
    assert back.species.values.tolist() == labels
    np.testing.assert_allclose(back.positions.values, pos, atol=1e-7)
    mapped = sio.read(tmp_path / "ka.xyz", type_map="A=Li,B=S,OW=O")
    assert mapped.species.values.tolist() == ["Li", "Li", "S", "O", "Li"]
    assert "mass" in mapped.coords and "mass" not in back.coords
    with pytest.raises(ParameterError, match=r"labels \['OW'\]"):
        sio.read(tmp_path / "ka.xyz", type_map="A=Li,B=S")
    assert sio.read(tmp_path / "ka.xyz", topology=["Li"] * 5).species.values.tolist() == ["Li"] * 5


def test_lammps_message_for_a_short_line_does_not_contradict_itself(tmp_path, traj):
    sio.export(traj, tmp_path / "d.lammpstrj")
    lines = (tmp_path / "d.lammpstrj").read_text().splitlines()
    k = lines.index(next(x for x in lines if x.startswith("ITEM: ATOMS"))) + 3
    lines[k] = " ".join(lines[k].split()[:-2])
    (tmp_path / "short.lammpstrj").write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptFileError) as err:
        sio.read(tmp_path / "short.lammpstrj")
    assert "atom line 3 of 8 has" in err.value.what and "of 8 atom lines" not in err.value.what
    lines = (tmp_path / "d.lammpstrj").read_text().splitlines()  # a bad line in frame 3: frames parsed together
    k = [i for i, x in enumerate(lines) if x.startswith("ITEM: ATOMS")][3] + 5
    lines[k] = " ".join(lines[k].split()[:-1])
    (tmp_path / "long.lammpstrj").write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptFileError, match="frame 3: atom line 5 of 8 has"):
        sio.read(tmp_path / "long.lammpstrj")


def test_gapped_dump_times_make_msd_refuse_instead_of_a_wrong_d(tmp_path, traj):
    from ssefeat.dynamics.msd import timestep_of

    path = _dump_with_steps(tmp_path, traj, [0, 100, 200, 2200, 2300, 2400])
    with pytest.raises(ParameterError, match="not evenly spaced in time: 0.1 ps typically but 2 ps"):
        timestep_of(sio.read(path, timestep_ps=0.1))
    assert timestep_of(sio.read(path, timestep_ps=0.1, stop=3)) == pytest.approx(0.1)


def test_output_into_a_folder_that_cannot_be_written_is_an_output_error(tmp_path, traj):
    (tmp_path / "afile").write_text("x")
    for name in ("t.xyz", "t.nc", "t.lammpstrj"):
        with pytest.raises(OutputError, match="is a file, not a folder"):
            sio.write(traj, tmp_path / "afile" / name)  # the "folder" is a file: the OS refuses
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_cli_convert_labels_to_xyz_and_unwrapped_to_a_dump_with_images(tmp_path):
    from click.testing import CliRunner

    from ssefeat.cli import main

    rng = np.random.default_rng(4)
    pos = rng.random((3, 6, 3)) * 5 + np.arange(3)[:, None, None] * 4.0  # drifting out of the 5 Å cell
    ka = ssefeat.make_trajectory(pos, ["A"] * 4 + ["B"] * 2, np.diag([5.0, 5.0, 5.0]), timestep_ps=0.1, wrapped=False)
    sio.write(ka, tmp_path / "ka.nc")
    runner = CliRunner()
    result = runner.invoke(main, ["convert", str(tmp_path / "ka.nc"), str(tmp_path / "ka.xyz")])
    assert result.exit_code == 0, result.output
    assert sio.read(tmp_path / "ka.xyz").species.values.tolist() == ["A"] * 4 + ["B"] * 2
    result = runner.invoke(main, ["convert", str(tmp_path / "ka.nc"), str(tmp_path / "ka.lammpstrj")])
    assert result.exit_code == 0, result.output
    assert "ITEM: ATOMS id element x y z ix iy iz" in (tmp_path / "ka.lammpstrj").read_text()
    np.testing.assert_allclose(ssefeat.unwrap(sio.read(tmp_path / "ka.lammpstrj")).positions.values, pos, atol=1e-8)
    (tmp_path / "empty.xyz").write_text("")
    result = runner.invoke(main, ["convert", str(tmp_path / "empty.xyz"), str(tmp_path / "o.nc")])
    assert result.exit_code == 2 and "is empty" in result.output and not (tmp_path / "o.nc").exists()


def test_lammps_type_labels_are_species(tmp_path, traj):
    sio.export(traj, tmp_path / "d.lammpstrj")
    text = (tmp_path / "d.lammpstrj").read_text().replace(" element ", " type ")  # dump_modify types labels
    (tmp_path / "labels.lammpstrj").write_text(text)
    ds = sio.read(tmp_path / "labels.lammpstrj")
    assert ds.species.values.tolist() == SPECIES
    np.testing.assert_allclose(ds.positions.values, traj.positions.values, atol=1e-8)
    mapped = sio.read(tmp_path / "labels.lammpstrj", type_map="Li=Na,P=P,S=Se")
    assert mapped.species.values.tolist() == ["Na"] * 3 + ["P"] + ["Se"] * 4


def test_lammps_dump_line_with_an_extra_value_in_a_later_frame_is_refused(tmp_path):
    """Later frames are parsed without their text columns; a line with one value too many must still be named,
    not silently cut to the named columns."""
    rng = np.random.default_rng(0)
    ds = ssefeat.make_trajectory(rng.random((3, 5, 3)) * 5, ["Li"] * 5, np.diag([5.0, 5.0, 5.0]), timestep_ps=0.1)
    sio.export(ds, tmp_path / "a.lammpstrj")
    lines = (tmp_path / "a.lammpstrj").read_text().splitlines()
    k = [i for i, line in enumerate(lines) if line.startswith("ITEM: ATOMS")][-1] + 3
    lines[k] += " 7.0"
    (tmp_path / "b.lammpstrj").write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptFileError, match="frame 2: atom line 3 of 5 has 9 values"):
        sio.read(tmp_path / "b.lammpstrj")
