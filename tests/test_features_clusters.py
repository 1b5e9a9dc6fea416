"""Anion clusters and their environment on synthetic Li-P-S configurations built from anion templates."""
from __future__ import annotations

import numpy as np
import pytest

import ssefeat
from ssefeat.errors import ParameterError, SelectionError
from ssefeat.features.clusters import ClusterFinder, cluster_counts, cluster_members, find_clusters

from conftest import TET, build_system, template_ps4  # build_system stays importable from here


def _check_no_cross_bonds(species, pos, cell, truth):
    """The builder must not create bonds between anions (else the 'truth' is wrong)."""
    owner = np.full(len(species), -1)
    for k, (_, idx, _) in enumerate(truth):
        owner[idx] = k
    sp = np.array(species)
    p = np.flatnonzero(sp == "P")
    fw = np.flatnonzero(sp != "Li")
    for i in p:
        d = np.linalg.norm(ssefeat.box.minimum_image(pos[fw] - pos[i], cell), axis=1)
        other = owner[fw] != owner[i]
        assert d[other].min() > 2.7


@pytest.fixture(scope="module")
def system():
    species, pos, cell, truth = build_system(seed=1)
    _check_no_cross_bonds(species, pos, cell, truth)
    return species, pos, cell, truth


def test_counts_equal_what_was_built(system):
    species, pos, cell, truth = system
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    cl = find_clusters(ds)
    counts = cluster_counts(cl).isel(frame=0)
    assert dict(zip(counts.cluster_type.values.tolist(), counts.values.tolist())) == {"PS4": 8, "P2S7": 3, "P2S6": 3}
    # Li atoms are not in any cluster
    li = np.array(species) == "Li"
    assert np.all(cl.cluster_id.values[0, li] == -1)
    assert np.all(cl.cluster_type.values[0, li] == "")
    # topology tells apart the P-P bonded P2S6 and the corner-sharing P2S7
    topo = dict(zip(cl.type.values[0].tolist(), cl.topology.values[0].tolist()))
    assert topo["P2S6"] == "P-P:1,P-S:6"
    assert topo["P2S7"] == "P-S:8"
    assert topo["PS4"] == "P-S:4"


def test_straddling_anions_whole_with_correct_com(system):
    species, pos, cell, truth = system
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    cl = find_clusters(ds)
    n_straddle = 0
    for kind, idx, centre in truth:
        ids = np.unique(cl.cluster_id.values[0, idx])
        assert len(ids) == 1                          # not broken by the boundary
        members = cluster_members(cl, ids[0])
        assert sorted(members.tolist()) == idx        # not merged with anything
        assert cl.type.sel(cluster=ids[0]).values[0] == kind
        com = cl.com.sel(cluster=ids[0]).values[0]
        frac = ssefeat.box.to_fractional(com, cell)
        assert np.all((frac >= 0) & (frac < 1))
        assert np.allclose(ssefeat.box.minimum_image(com - centre, cell), 0, atol=1e-9)
        whole = cl.whole_positions.values[0, idx]
        # whole: bonded geometry reproduced without any periodic jump
        assert np.ptp(whole, axis=0).max() < 8.0
        s = ssefeat.box.to_fractional(pos[idx], cell)
        n_straddle += int(np.ptp(s, axis=0).max() > 0.5)
    assert n_straddle >= 2


def test_triclinic_cell_and_formula_order():
    cell = np.array([[24.0, 0, 0], [5.0, 23.0, 0], [-3.0, 4.0, 22.0]])
    species, pos, cell, truth = build_system(n_ps4=5, n_p2s7=2, n_p2s6=2, n_li=0, seed=3, cell=cell)
    _check_no_cross_bonds(species, pos, cell, truth)
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    cl = find_clusters(ds, element_order=("S", "P"), topology_in_type=True)
    counts = cluster_counts(cl).isel(frame=0)
    got = dict(zip(counts.cluster_type.values.tolist(), counts.values.tolist()))
    assert got == {"S4P[S-P:4]": 5, "S7P2[S-P:8]": 2, "S6P2[S-P:6,P-P:1]": 2}  # element order everywhere
    for kind, idx, centre in truth:
        cid = cl.cluster_id.values[0, idx[0]]
        assert np.allclose(ssefeat.box.minimum_image(cl.com.sel(cluster=cid).values[0] - centre, cell), 0,
                           atol=1e-9)


def test_identity_tracking_with_noise_and_chunks(system):
    species, pos, cell, truth = system
    rng = np.random.default_rng(5)
    frames = pos[None] + rng.normal(0, 0.05, (6, len(pos), 3))
    ds = ssefeat.make_trajectory(frames, species, cell=cell, timestep_ps=0.1)
    cl = find_clusters(ds)
    ids = cl.cluster_id.values
    assert np.all(ids == ids[0])
    assert cl.sizes["cluster"] == 14
    assert bool(cl.present.all())
    # chunked: one finder over two chunks gives the same ids
    finder = ClusterFinder()
    a = finder.compute(ds.isel(frame=slice(0, 3)))
    b = finder.compute(ds.isel(frame=slice(3, 6)))
    assert np.array_equal(np.concatenate([a.cluster_id.values, b.cluster_id.values]), ids)
    # untracked numbering restarts per frame but is also stable for an unchanged graph
    assert np.array_equal(find_clusters(ds, track=False).cluster_id.values, ids)


def test_merge_keeps_id_of_larger_overlap():
    # two PS4 far apart, then in frame 1 P of the second moves next to an S of the first: a P2S8-like merge
    sp, xyz = template_ps4()
    a = xyz + 5.0
    b = xyz + 12.0
    pos0 = np.vstack([a, b])
    pos1 = pos0.copy()
    s_far = a[1] + 2.05 * (a[1] - a[0]) / np.linalg.norm(a[1] - a[0])
    pos1[5:] = b - b[0] + s_far
    species = sp + sp
    ds = ssefeat.make_trajectory(np.stack([pos0, pos1, pos0]), species, cell=np.eye(3) * 20, timestep_ps=1)
    cl = find_clusters(ds)
    ids = cl.cluster_id.values
    assert ids[0, 0] != ids[0, 5]
    assert len(np.unique(ids[1])) == 1 and ids[1, 0] == ids[0, 0]   # merged: tie -> lower id survives
    assert cl.type.sel(cluster=ids[0, 0]).values[1] == "P2S8"
    assert ids[2, 0] == ids[0, 0] and ids[2, 5] not in (ids[0, 0], ids[0, 5])  # split: new id for the other


def test_percolating_chain_flagged():
    # an infinite P-S-P-S chain along x through the periodic boundary
    n = 4
    L = n * 4.0
    pos = np.array([[4.0 * k + (2.0 if s else 0.0), 5.0, 5.0] for k in range(n) for s in (0, 1)])
    species = ["P", "S"] * n
    ds = ssefeat.make_trajectory(pos, species, cell=np.diag([L, 12.0, 12.0]))
    cl = find_clusters(ds)
    assert cl.sizes["cluster"] == 1
    assert bool(cl.percolating.values[0, 0])
    assert np.isnan(cl.com.values[0, 0]).all()


def test_bad_input_errors(system):
    species, pos, cell, truth = system
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    with pytest.raises(SelectionError, match="framework species"):
        find_clusters(ds, species=("B", "H"), cutoffs={"B-H": 1.3})
    with pytest.raises(ParameterError, match="half the smallest cell width"):
        find_clusters(ds, cutoffs={"P-S": 13.0})
    with pytest.raises(ParameterError, match="no bond cutoff"):
        find_clusters(ds, cutoffs={"S-S": 0})
    with pytest.raises(ParameterError, match="species pair"):
        find_clusters(ds, cutoffs={"P-S-S": 2.0})
    nocell = ssefeat.make_trajectory(pos, species)
    with pytest.raises(ssefeat.errors.NoCellError):
        find_clusters(nocell)


# ---------------------------------------------------------------------------------------------------------------
# cluster environment of Li
from ssefeat.features.environment import cluster_environment  # noqa: E402


def test_environment_fractions_sum_to_one_and_match_brute_force(system):
    species, pos, cell, truth = system
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    cl = find_clusters(ds)
    env = cluster_environment(ds, cl, r_env=5.0)
    assert list(env.cluster_type.values) == ["P2S6", "P2S7", "PS4"]
    frac = env.fraction.values[0]
    has = env.n_anions.values[0] > 0
    assert has.sum() > 5
    assert np.allclose(frac[has].sum(axis=1), 1.0)
    assert np.all(frac[~has] == 0)
    # brute force: every Li against every S
    sp = np.array(species)
    li, s = np.flatnonzero(sp == "Li"), np.flatnonzero(sp == "S")
    owner_type = {}
    for kind, idx, _ in truth:
        for a in idx:
            owner_type[a] = kind
    for k, i in enumerate(li):
        d = np.linalg.norm(ssefeat.box.minimum_image(pos[s] - pos[i], cell), axis=1)
        inside = s[d < 5.0]
        assert env.n_anions.values[0, k] == len(inside)
        for t in ["P2S6", "P2S7", "PS4"]:
            assert env["count"].sel(cluster_type=t).values[0, k] == sum(owner_type[a] == t for a in inside)
        fw = np.flatnonzero(sp != "Li")
        dfw = np.linalg.norm(ssefeat.box.minimum_image(pos[fw] - pos[i], cell), axis=1)
        assert np.isclose(env.nearest_cluster_distance.values[0, k], dfw.min())
        assert env.nearest_cluster_type.values[0, k] == owner_type[fw[np.argmin(dfw)]]


def test_environment_hand_count():
    sp4, ps4 = template_ps4()
    p_pos = np.array([10.0, 10.0, 10.0])
    li0 = p_pos - 2.8 * TET[0]            # below the face opposite S0: P at 2.8 Å is its nearest framework atom
    s_free = li0 - 4.0 * TET[0]           # a free S2- 4 Å away on the other side (6.8 Å from P: no bond)
    li1 = np.array([25.0, 25.0, 25.0])    # nothing within 5 Å
    species = sp4 + ["S", "Li", "Li"]
    pos = np.vstack([ps4 + p_pos, s_free, li0, li1])
    ds = ssefeat.make_trajectory(pos, species, cell=np.eye(3) * 30.0)
    env = cluster_environment(ds, r_env=5.0)
    assert list(env.cluster_type.values) == ["PS4", "S"]
    assert env.n_anions.values[0].tolist() == [5, 0]                 # 4 S of PS4 (farthest 4.85 Å) + free S
    assert np.allclose(env.fraction.values[0, 0], [0.8, 0.2])
    assert np.all(env.fraction.values[0, 1] == 0) and not env.has_anions.values[0, 1]
    assert env.nearest_cluster_type.values[0].tolist() == ["PS4", "S"]
    assert np.isclose(env.nearest_cluster_distance.values[0, 0], 2.8)
    d1 = np.linalg.norm(ssefeat.box.minimum_image(pos[:6] - li1, np.eye(3) * 30.0), axis=1).min()
    assert np.isclose(env.nearest_cluster_distance.values[0, 1], d1)
    assert list(env.atom.values) == [6, 7]
    with pytest.raises(SelectionError, match="mobile species"):
        cluster_environment(ds, mobile="Na")
    with pytest.raises(ParameterError, match="half the smallest cell width"):
        cluster_environment(ds, r_env=16.0)


def test_closo_borates_b12h12_and_cb11h12():
    phi = (1 + np.sqrt(5)) / 2
    ico = np.array([[0, s1, s2 * phi] for s1 in (-1, 1) for s2 in (-1, 1)], float)
    ico = np.vstack([ico, ico[:, [1, 2, 0]], ico[:, [2, 0, 1]]]) * (1.78 / 2)     # B-B edge 1.78 Å
    h = ico * (1 + 1.19 / np.linalg.norm(ico[0]))                               # B-H 1.19 Å radially
    anion = np.vstack([ico, h])
    pos = np.vstack([anion + [1.0, 1.0, 1.0], anion + [9.0, 9.0, 9.0]])          # the first straddles the corner
    species = ["B"] * 12 + ["H"] * 12 + ["C"] + ["B"] * 11 + ["H"] * 12
    cell = np.eye(3) * 16.0
    pos, _ = ssefeat.box.wrap_positions(pos, cell)
    ds = ssefeat.make_trajectory(pos, species, cell=cell)
    cl = find_clusters(ds, species=("C", "B", "H"), cutoffs={"B-B": 2.0, "C-B": 2.0, "B-H": 1.4, "C-H": 1.4})
    counts = cluster_counts(cl).isel(frame=0)
    assert dict(zip(counts.cluster_type.values.tolist(), counts.values.tolist())) == {"B12H12": 1, "CB11H12": 1}
    com = cl.com.values[0]
    expect = np.array([[1.0, 1.0, 1.0], [9.0, 9.0, 9.0]])
    m = np.array([[10.81] * 12 + [1.008] * 12, [12.011] + [10.81] * 11 + [1.008] * 12])
    expect[1] += (m[1][:, None] * anion).sum(0) / m[1].sum()                    # C shifts the CB11H12 centre
    got = {cl.type.values[0, k]: com[k] for k in range(2)}
    assert np.allclose(ssefeat.box.minimum_image(got["B12H12"] - expect[0], cell), 0, atol=1e-9)
    assert np.allclose(ssefeat.box.minimum_image(got["CB11H12"] - expect[1], cell), 0, atol=1e-9)


def test_clusters_command_environment_columns_cover_every_cluster_type(tmp_path):
    """A cluster type without anion atoms (here a lone P) gets fraction 0 for every ion, not NaN."""
    import warnings

    import xarray as xr
    from click.testing import CliRunner

    from ssefeat.cli import main

    species, pos, cell, _ = build_system(n_ps4=4, n_p2s7=1, n_p2s6=1, n_li=10)
    species = list(species) + ["P"]
    pos = np.vstack([pos, [[12.0, 12.0, 12.0]]])
    ds = ssefeat.make_trajectory(np.stack([pos, pos]), species, cell=cell, timestep_ps=1.0)
    ssefeat.io.write(ds, tmp_path / "t.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        res = CliRunner().invoke(main, ["clusters", str(tmp_path / "t.nc"), "-o", str(tmp_path / "cl.nc")])
    assert res.exit_code == 0, res.output
    out = xr.load_dataset(tmp_path / "cl.nc")
    assert "P" in out["cluster_type"].values.tolist()
    assert np.isfinite(out["env_fraction"].values).all()
    np.testing.assert_allclose(out["env_fraction"].sel(cluster_type="P").values, 0.0)


def test_type_codes_are_the_columns_of_the_requested_cluster_types():
    from ssefeat.features.environment import _type_codes

    got = _type_codes(np.array(["PS4", "P2S6", "", "P2S7", "PS4"]), ["PS4", "P2S7"])
    np.testing.assert_array_equal(got, [0, -1, -1, 1, 0])
    assert _type_codes(np.array([], dtype=str), ["PS4"]).size == 0
    np.testing.assert_array_equal(_type_codes(np.array(["PS4"]), []), [-1])
