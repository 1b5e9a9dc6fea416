"""Periodicity per axis: read (extxyz pbc, LAMMPS BOX BOUNDS), stored, written, shown, honoured by the neighbour list
and the structure functions, refused by the analyses that need a bulk cell; LAMMPS dumps written with image flags."""
from __future__ import annotations

import numpy as np
import pytest

import ssefeat
import ssefeat.io as sio
from ssefeat.data import periodic_axes
from ssefeat.errors import CellError, SchemaError
from ssefeat.neighbors import neighbor_pairs
from conftest import rich_trajectory

SLAB_CELL = np.array([[9.0, 0.0, 0.0], [1.0, 9.5, 0.0], [0.0, 0.0, 8.0]])


def _slab(pbc=(True, True, False), c=8.0, seed=0, n=40, n_frames=2):
    """Li / S atoms filling 0 < z < 8 Å (separated by > 1.6 Å), in a cell of height c."""
    rng = np.random.default_rng(seed)
    pts = []
    while len(pts) < n:  # rejection sampling of a small test configuration
        p = rng.random(3) @ SLAB_CELL
        d = [np.linalg.norm(ssefeat.box.minimum_image(p - q, SLAB_CELL * [1, 1, 10])) for q in pts]
        if not d or min(d) > 1.6:
            pts.append(p)
    pos = np.array(pts)
    pos = np.stack([pos + 0.05 * k for k in range(n_frames)])
    cell = SLAB_CELL.copy()
    cell[2, 2] = c
    species = ["Li" if k % 2 else "S" for k in range(n)]
    return ssefeat.make_trajectory(pos, species, cell, timestep_ps=0.1, pbc=pbc)


def test_schema_stores_pbc_only_when_needed():
    assert "pbc" not in _slab(pbc=(True, True, True)).attrs
    ds = _slab()
    assert ds.attrs["pbc"] == "T T F"
    np.testing.assert_array_equal(periodic_axes(ds), [True, True, False])
    assert not periodic_axes(ds.drop_vars("cell")).any()
    bad = ds.copy()
    bad.attrs["pbc"] = "T T"
    with pytest.raises(SchemaError, match="three periodicity flags"):
        ssefeat.validate(bad)


def test_extxyz_and_lammps_read_and_write_pbc(tmp_path):
    ds = _slab()
    for name in ("s.xyz", "s.lammpstrj", "s.nc"):
        sio.write(ds, tmp_path / name) if name.endswith(".nc") else sio.export(ds, tmp_path / name)
        assert sio.read(tmp_path / name).attrs["pbc"] == "T T F", name
    assert 'pbc="T T F"' in (tmp_path / "s.xyz").read_text()
    assert "pp pp ff\n" in (tmp_path / "s.lammpstrj").read_text()
    text = (tmp_path / "s.lammpstrj").read_text()
    for flags, expected in (("pp ss pp", "T F T"), ("fs pp pp", "F T T"), ("pp pp pp", None)):
        (tmp_path / "b.lammpstrj").write_text(text.replace("pp pp ff", flags))
        assert sio.read(tmp_path / "b.lammpstrj").attrs.get("pbc") == expected


def test_info_shows_the_periodicity(tmp_path):
    from click.testing import CliRunner

    from ssefeat.cli import main

    sio.export(_slab(), tmp_path / "s.xyz")
    result = CliRunner().invoke(main, ["info", str(tmp_path / "s.xyz")])
    assert result.exit_code == 0, result.output
    assert "periodic    pbc T T F: not along c" in result.output
    result = CliRunner().invoke(main, ["info", str(tmp_path / "s.xyz"), "--json"])
    assert '"pbc": "T T F"' in result.output


@pytest.mark.parametrize("pbc", [(True, True, False), (False, True, True), (False, False, False)])
def test_neighbor_pairs_without_minimum_image_across_open_directions(pbc):
    rng = np.random.default_rng(1)
    cell = np.array([[8.0, 0, 0], [1.0, 9.0, 0], [0.5, 0.3, 7.0]])
    pos = rng.random((70, 3)) @ cell
    pos[:, 2] += rng.normal(0, 4, 70)  # atoms outside the cell along c too
    pairs = neighbor_pairs(pos, cell, 3.2, pbc=pbc)
    d = pos[None, :, :] - pos[:, None, :]  # brute force: round only along periodic directions
    s = d @ np.linalg.inv(cell)
    s -= np.round(s) * np.asarray(pbc)
    vec = s @ cell
    r = np.linalg.norm(vec, axis=-1)
    np.fill_diagonal(r, np.inf)
    i, j = np.nonzero(r < 3.2)
    np.testing.assert_array_equal(pairs.i, i)
    np.testing.assert_array_equal(pairs.j, j)
    np.testing.assert_allclose(pairs.vectors, vec[i, j], atol=1e-12)


def test_slab_features_equal_the_same_slab_in_vacuum():
    from test_features_sf import small_params

    from ssefeat.features.structure_functions import structure_functions

    params = small_params()
    open_slab = structure_functions(_slab(c=8.0), params)
    vacuum = structure_functions(_slab(pbc=(True, True, True), c=40.0), params)
    periodic = structure_functions(_slab(pbc=(True, True, True), c=8.0), params)
    np.testing.assert_allclose(open_slab.values, vacuum.values, rtol=1e-12, atol=1e-12)
    differs = np.any(np.abs(periodic.values - vacuum.values) > 1e-9, axis=(0, 2))
    assert differs.sum() >= 5  # the surface atoms: the test would catch minimum image across c
    # the neighbour search shared by the feature parts honours the open direction too
    from ssefeat.features.assemble import shared_neighbors

    slab = _slab(c=8.0)
    shared = structure_functions(slab, params, neighbors=shared_neighbors(slab, "Li", [params.cutoff]))
    np.testing.assert_array_equal(shared.values, open_slab.values)


def test_analyses_that_need_a_bulk_cell_refuse_naming_the_axis():
    from ssefeat.disorder import disorder_profile
    from ssefeat.dynamics.bond_switching import bond_switching
    from ssefeat.dynamics.d2min import nonaffine_displacement
    from ssefeat.features.clusters import find_clusters
    from ssefeat.features.descriptors import steinhardt, voronoi_volume
    from ssefeat.features.environment import cluster_environment
    from ssefeat.dynamics.vanhove import van_hove_distinct
    from ssefeat.features.polyhedra import li_polyhedra
    from ssefeat.sites import site_occupancy

    ds = _slab()
    calls = {"D2min": lambda: nonaffine_displacement(ds, reference=0, lag=1, cutoff=3.0),
             "cluster analysis": lambda: find_clusters(ds),
             "cluster environment": lambda: cluster_environment(ds),
             "polyhedra": lambda: li_polyhedra(ds),
             "Voronoi": lambda: voronoi_volume(ds, centre="Li"),
             "Steinhardt": lambda: steinhardt(ds, cutoff=3.0, centre="Li"),
             "disorder profile": lambda: disorder_profile(ds),
             "bond switching": lambda: bond_switching(ds, 0, "Li", "S", 3.0),
             "site occupancy": lambda: site_occupancy(ds, np.array([[0.5, 0.5, 0.5]]), species="Li", radius=0.5),
             "distinct van Hove": lambda: van_hove_distinct(ds, species="Li")}
    for name, call in calls.items():
        with pytest.raises(CellError, match=r"not periodic along c \(z\)") as err:
            call()
        assert name in err.value.what, name


def test_unwrap_and_wrap_leave_open_directions_alone():
    ds = _slab(n_frames=1)
    pos = ds.positions.values.copy()
    moved = np.concatenate([pos, pos], axis=0)
    moved[1, 0] += [0.0, 0.0, 7.5]  # a big step along the open c direction: a real move, no image jump
    moved[1, 1] += [8.7, 0.0, 0.0]  # along periodic a: wrapped around, so an image jump
    two = ssefeat.make_trajectory(moved, ds.species.values, ds.cell.values[0], timestep_ps=0.1,
                                  pbc=(True, True, False))
    with pytest.warns(ssefeat.errors.UnwrapWarning):
        out = ssefeat.unwrap(two)
    np.testing.assert_allclose(out.positions.values[1, 0], moved[1, 0])
    np.testing.assert_allclose(out.positions.values[1, 1], moved[1, 1] - [9.0, 0, 0])
    far = two.copy()
    far["positions"] = far.positions + np.array([0.0, 0.0, 30.0])
    wrapped = ssefeat.wrap(far)
    np.testing.assert_array_equal(wrapped.images.values[..., 2], 0)
    np.testing.assert_allclose(wrapped.positions.values[..., 2], far.positions.values[..., 2])


# --- LAMMPS dumps with image flags -------------------------------------------------------------------------------
def _unwrapped():
    ds = rich_trajectory(n_frames=5, wrapped=False)
    drift = np.random.default_rng(2).normal(0, 6.0, (5, ds.sizes["atom"], 3)).cumsum(axis=0)
    ds["positions"] = ds.positions + drift  # atoms several cells away from the first
    ds.attrs["wrapped"] = 0
    return ds


def test_lammps_dump_of_unwrapped_positions_writes_image_flags(tmp_path):
    ds = _unwrapped()
    sio.export(ds, tmp_path / "u.lammpstrj")
    assert "ix iy iz" in (tmp_path / "u.lammpstrj").read_text()
    back = sio.read(tmp_path / "u.lammpstrj")
    assert "images" in back and np.abs(back.images.values).max() >= 1
    frac = ssefeat.box.to_fractional(back.positions.values, back.cell.values[:, None])
    assert frac.min() >= -1e-9 and frac.max() < 1 + 1e-9  # wrapped in the file
    np.testing.assert_allclose(ssefeat.unwrap(back).positions.values, ds.positions.values, atol=1e-7)


def test_lammps_dump_image_flags_agree_with_ovito(tmp_path):
    ovito_io = pytest.importorskip("ovito.io")
    ds = _unwrapped()
    ds = ds.assign_coords(cell_vector=["a", "b", "c"])
    sio.export(ds, tmp_path / "u.lammpstrj")
    back = sio.read(tmp_path / "u.lammpstrj")
    pipeline = ovito_io.import_file(str(tmp_path / "u.lammpstrj"))
    for k in range(ds.sizes["frame"]):
        data = pipeline.compute(k)
        order = np.argsort(np.asarray(data.particles["Particle Identifier"]))
        images = np.asarray(data.particles["Periodic Image"])[order]
        pos = np.asarray(data.particles.positions)[order]
        cell = np.asarray(data.cell)[:, :3].T  # OVITO: columns are the cell vectors
        np.testing.assert_array_equal(images, back.images.values[k])
        np.testing.assert_allclose(pos + images @ cell, ssefeat.unwrap(back).positions.values[k], atol=1e-6)
