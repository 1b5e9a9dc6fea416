"""Sites, occupancy, jumps, rates and the correlation factor (ssefeat.sites): exact small cases, lattice walks of
known correlation factor, and agreement with GEMDAT on the same synthetic trajectory."""
import warnings

import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat.box import minimum_image
from ssefeat.errors import CellError, ParameterError, SelectionError
from ssefeat.sites import (Sites, collective_jumps, correlation_factor, find_sites, jump_diffusivity, jump_rates,
                           residence_times, site_jumps, site_occupancy, sites_from_fractional, sites_from_structure,
                           transition_matrix)
from ssefeat.sites.jumps import jumps_from_states

gemdat_io = pytest.importorskip("gemdat.io")
CIF = {name: gemdat_io.DATA / f"{name}.cif" for name in ("li3ps4", "argyrodite")}
NB = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


# --- synthetic walks -------------------------------------------------------------------------------------------
def site_hopping_walk(site_frac, cell, n_ions, n_frames, hop_prob=0.05, neighbour_cutoff=3.5, noise=0.3,
                      max_transit=2, seed=0):
    """Ions resting on sites (Gaussian noise, Å), hopping with hop_prob per frame to a random site within
    neighbour_cutoff, spending 0..max_transit frames on the straight line in between (often outside every site)."""
    rng = np.random.default_rng(seed)
    vec = site_frac[None] - site_frac[:, None]
    vec = (vec - np.round(vec)) @ cell
    dist = np.linalg.norm(vec, axis=-1)
    nbrs = [np.flatnonzero((dist[k] > 0) & (dist[k] < neighbour_cutoff)) for k in range(len(site_frac))]
    site = rng.choice(len(site_frac), n_ions, replace=False)
    base = site_frac[site] @ cell
    pos = np.empty((n_frames, n_ions, 3))
    transit = [[] for _ in range(n_ions)]
    for f in range(n_frames):
        for i in range(n_ions):
            if transit[i]:
                base[i] = transit[i].pop(0)
            elif rng.random() < hop_prob:
                j = rng.choice(nbrs[site[i]])
                k = int(rng.integers(0, max_transit + 1))
                transit[i] = [base[i] + vec[site[i], j] * (m + 1) / (k + 1) for m in range(k + 1)]
                site[i] = j
                base[i] = transit[i].pop(0)
        pos[f] = base
    return pos + rng.normal(0, noise, pos.shape)


def lattice_grid(L):
    return np.stack(np.meshgrid(*[np.arange(L)] * 3, indexing="ij"), -1).reshape(-1, 3)


def vacancy_walk(L, n_vacancies, n_frames, a=2.5, noise=0.15, seed=0):
    """Simple cubic lattice (L^3 sites, spacing a) with a few vacancies; every frame each vacancy swaps with a random
    neighbour (skipped if that is a vacancy or an ion that already moved this frame). Unwrapped positions."""
    rng = np.random.default_rng(seed)
    n, grid = L ** 3, lattice_grid(L)
    vac = rng.choice(n, n_vacancies, replace=False)
    occ = np.full(n, -1)
    ions = np.setdiff1d(np.arange(n), vac)
    occ[ions] = np.arange(ions.size)
    unwrapped = grid[ions].astype(float)
    pos = np.empty((n_frames, ions.size, 3))
    for f in range(n_frames):
        moved = set()
        for v in range(n_vacancies):
            k = rng.integers(6)
            g = (grid[vac[v]] + NB[k]) % L
            s2 = (g[0] * L + g[1]) * L + g[2]
            ion = occ[s2]
            if ion < 0 or ion in moved:
                continue
            moved.add(ion)
            unwrapped[ion] -= NB[k]
            occ[vac[v]], occ[s2], vac[v] = ion, -1, s2
        pos[f] = unwrapped
    pos = pos * a + rng.normal(0, noise, pos.shape)
    return ssefeat.make_trajectory(pos, ["Li"] * ions.size, cell=np.eye(3) * L * a, timestep_ps=0.1), grid / L


def uncorrelated_walk(L, n_ions, n_frames, hop_prob=0.05, a=2.5, noise=0.15, seed=0):
    """Independent ions hopping on a simple cubic lattice to a random neighbour (no exclusion): f = 1 exactly."""
    rng = np.random.default_rng(seed)
    start = rng.integers(0, L, (n_ions, 3)).astype(float)
    steps = NB[rng.integers(0, 6, (n_frames, n_ions))] * (rng.random((n_frames, n_ions)) < hop_prob)[..., None]
    steps[0] = 0
    pos = (start + np.cumsum(steps, axis=0)) * a + rng.normal(0, noise, (n_frames, n_ions, 3))
    return ssefeat.make_trajectory(pos, ["Li"] * n_ions, cell=np.eye(3) * L * a, timestep_ps=0.1), lattice_grid(L) / L


def li_trajectory(pos, cell, species=None, timestep_ps=0.1):
    return ssefeat.make_trajectory(pos, species or ["Li"] * pos.shape[1], cell=cell, timestep_ps=timestep_ps)


# --- sources ---------------------------------------------------------------------------------------------------
def test_structure_sites_keep_cif_labels_and_supercell():
    s = sites_from_structure(CIF["li3ps4"], species="Li")
    assert s.n_sites == 16 and s.types == ["8d", "4b", "4c"]
    assert [int((s.labels == t).sum()) for t in s.types] == [8, 4, 4]
    s2 = sites_from_structure(CIF["li3ps4"], species="Li", supercell=(1, 1, 2))
    assert s2.n_sites == 32 and np.allclose(s2.reference_cell[2], 2 * s.reference_cell[2])
    # fractional coordinates of the supercell: the first copy is the cell's sites with c halved
    assert np.allclose(s2.fractional[:16], s.fractional * [1, 1, 0.5])
    only = sites_from_structure(CIF["li3ps4"], labels=["4b", "4c"])
    assert only.n_sites == 8 and set(only.labels) == {"4b", "4c"}


def test_fractional_sites_checked():
    s = sites_from_fractional([[0.1, 0.2, 1.3], [-0.25, 0, 0]], labels=["a", "b"])
    assert np.allclose(s.fractional, [[0.1, 0.2, 0.3], [0.75, 0, 0]])
    with pytest.raises(ParameterError, match="one label per site"):
        sites_from_fractional([[0, 0, 0]], labels=["a", "b"])
    with pytest.raises(ParameterError, match=r"\(n_sites, 3\)"):
        sites_from_fractional([0.1, 0.2, 0.3])


def test_find_sites_recovers_the_lattice():
    ds, frac = uncorrelated_walk(4, 40, 400, seed=3)
    found = find_sites(ds, "Li", sigma=0.3, min_separation=1.5)
    assert found.n_sites == 64
    d = found.fractional[:, None] - frac[None]
    d = np.linalg.norm(minimum_image(d @ (np.eye(3) * 10.0), np.eye(3) * 10.0), axis=-1).min(axis=1)
    # sites lie on grid-bin boundaries (spacing 0.2 Å); refined between grid points, they are found within half a
    # spacing (a bin-centre error alone would be 0.17 Å), most within the sampling error of ~250 noisy visits
    assert d.max() < 0.1 and np.median(d) < 0.03


# --- bad input -------------------------------------------------------------------------------------------------
def test_bad_input_refused_with_what_and_fix():
    s = sites_from_structure(CIF["li3ps4"], species="Li")
    cell = s.reference_cell
    ds = li_trajectory(np.tile(s.fractional[:4] @ cell, (3, 1, 1)), cell)
    # the closest Li sites of beta-Li3PS4 are 2.8657 Å apart: the largest radius that does not overlap is half
    with pytest.raises(ParameterError, match=r"largest radius that does not overlap is 1\.433 Å"):
        site_jumps(ds, s, "Li", radius=1.5)
    site_jumps(ds, s, "Li", radius=1.43)
    for r in (0.0, -1.0):
        with pytest.raises(ParameterError, match="positive length"):
            site_occupancy(ds, s, "Li", radius=r)
    with pytest.raises(SelectionError, match=r"\['Na'\] not in the trajectory"):
        site_jumps(ds, s, "Na", radius=1.0)
    with pytest.raises(SelectionError, match="'Na' is not in the structure"):
        sites_from_structure(CIF["li3ps4"], species="Na")
    with pytest.raises(SelectionError, match=r"labels \['9z'\]"):
        sites_from_structure(CIF["li3ps4"], species="Li", labels=["9z"])
    big = li_trajectory(np.tile(s.fractional[:4] @ cell, (3, 1, 1)), cell * [[1], [1], [2]])
    with pytest.raises(CellError) as err:
        site_jumps(big, s, "Li", radius=1.0)
    assert "6.124" in err.value.what and "12.247" in err.value.what and "1.00, 1.00, 2.00" in err.value.fix
    sc = sites_from_structure(CIF["li3ps4"], species="Li", supercell=(1, 1, 2))
    assert site_jumps(big, sc, "Li", radius=1.0).sizes["jump"] == 0


# --- occupancy -------------------------------------------------------------------------------------------------
def test_occupancy_npt_triclinic_matches_brute_force():
    rng = np.random.default_rng(7)
    h0 = np.array([[9.0, 0.0, 0.0], [2.1, 8.6, 0.0], [1.4, -1.7, 9.3]])
    cells = h0 * (1 + 0.04 * np.sin(np.arange(30) / 3.0))[:, None, None]  # NPT-like breathing, triclinic
    frac_sites = (lattice_grid(3) + 0.5) / 3 + rng.normal(0, 0.01, (27, 3))
    sites = sites_from_fractional(frac_sites, labels=np.where(np.arange(27) % 2, "odd", "even"))
    n = 40
    pos = rng.random((30, n, 3)) @ h0 + rng.normal(0, 20.0, (30, n, 3))  # far outside the cell too
    ds = li_trajectory(pos, cells)
    occ = site_occupancy(ds, sites, "Li", radius=1.2)
    # brute force: every (frame, ion, site) minimum-image distance in the frame's own cell
    site_cart = np.einsum("sj,fjk->fsk", sites.fractional, cells)
    d = np.stack([np.linalg.norm(minimum_image(pos[f][:, None] - site_cart[f][None], cells[f]), axis=-1)
                  for f in range(30)])
    within = d < 1.2
    assert within.sum(axis=2).max() <= 1  # sites do not overlap: at most one site per ion
    expected = np.where(within.any(axis=2), within.argmax(axis=2), -1)
    assert 50 < (expected >= 0).sum() < expected.size  # both cases occur
    np.testing.assert_array_equal(occ["site_index"].values, expected)
    # occupancies sum to the number of ions within the radius of some site, frame by frame
    np.testing.assert_array_equal(occ["occupancy"].sum("site").values, within.any(axis=2).sum(axis=1))
    np.testing.assert_array_equal(occ["occupancy"].values, within.sum(axis=1))
    assert occ["type_occupancy"].sel(site_type="odd").sum() == within[:, :, 1::2].sum()
    np.testing.assert_allclose(occ["fraction_outside"].values, 1 - within.any(axis=2).mean(axis=1))


# --- jumps: exact cases ----------------------------------------------------------------------------------------
def test_jump_rule_exact_cases():
    states = np.array([[0, 0, -1, 0, -1, -1, 1, 1, 2, -1, 1],       # 0 -> 1 (dep 3, arr 6), 1 -> 2, 2 -> 1
                       [5, 5, 5, 5, 5, -1, -1, 5, 5, 5, 5],          # leaves and comes back: no jump
                       [-1, -1, 3, 3, 4, 3, 3, 3, 4, 4, -1]]).T        # 3 -> 4, 4 -> 3 (1-frame visit), 3 -> 4
    ion, a, b, dep, arr = jumps_from_states(states)
    assert ion.tolist() == [0, 0, 0, 2, 2, 2]
    assert list(zip(a.tolist(), b.tolist())) == [(0, 1), (1, 2), (2, 1), (3, 4), (4, 3), (3, 4)]
    assert dep.tolist() == [3, 7, 8, 3, 4, 7] and arr.tolist() == [6, 8, 10, 4, 5, 8]
    # min_residence=2: the 1-frame visits (site 2 of ion 0, site 4 at frame 4 of ion 2) count as outside
    ion, a, b, dep, arr = jumps_from_states(states, min_residence=2)
    assert list(zip(ion.tolist(), a.tolist(), b.tolist())) == [(0, 0, 1), (2, 3, 4)]
    assert dep.tolist() == [1, 7] and arr.tolist() == [6, 8]
    with pytest.raises(ParameterError):
        jumps_from_states(states, min_residence=0)


def test_rates_transition_matrix_residence_exact():
    cell = np.eye(3) * 12.0
    frac = np.array([[0.0, 0, 0], [0.25, 0, 0], [0.5, 0, 0]])
    sites = sites_from_fractional(frac, labels=["A", "B", "A"])
    path = [0, 0, 1, 1, 1, 2, 2, 1, 1, 1, 1]  # A0 -> B1 -> A2 -> B1, 3 m apart; 11 frames of 0.5 ps
    pos = np.stack([frac[[p, 0]] @ cell for p in path])
    ds = li_trajectory(pos, cell, timestep_ps=0.5)
    J = site_jumps(ds, sites, "Li", radius=1.0)
    assert J.sizes["jump"] == 3 and J["from_label"].values.tolist() == ["A", "B", "A"]
    np.testing.assert_allclose(J["jump_distance"], 3.0)
    np.testing.assert_allclose(J["jump_vector"][:, 0], [3.0, 3.0, -3.0])
    r = jump_rates(J)
    # N = 2 ions (the second stays on site 0), t = 5 ps; A->B twice, B->A once
    np.testing.assert_allclose(r["rate"].sel(from_type="A", to_type="B"), 2 / (2 * 5.0))
    np.testing.assert_allclose(r["rate_err"].sel(from_type="A", to_type="B"), np.sqrt(2) / 10.0)
    # ion-time on A: ion 0 on A for frames 0-1 and 5-6, ion 1 always; frame weights 0.25 at the ends, else 0.5
    t_a = (0.25 + 0.5 + 0.5 + 0.5) + 5.0
    np.testing.assert_allclose(r["type_time"].sel(from_type="A"), t_a)
    np.testing.assert_allclose(r["escape_rate"].sel(from_type="A", to_type="B"), 2 / t_a)
    tm = transition_matrix(J)
    assert tm["count"].sel(from_type="A", to_type="B") == 2 and tm["probability"].sel(from_type="B", to_type="A") == 1
    res = residence_times(J)
    # visits bounded by jumps: B1 frames 2-4 (1.5 ps), A2 frames 5-6 (1.0 ps)
    assert sorted(res["residence_time"].values.tolist()) == [1.0, 1.5]
    np.testing.assert_allclose(res["mean_residence_time"].sel(site_type="B"), 1.5)


# --- correlation factor ----------------------------------------------------------------------------------------
def test_uncorrelated_hops_give_f_one():
    ds, frac = uncorrelated_walk(6, 100, 3000, seed=1)
    J = site_jumps(ds, frac, "Li", radius=0.8)
    cf = correlation_factor(ds, J)
    assert float(cf["f_err"]) < 0.08
    assert abs(float(cf["f"]) - 1.0) < 3 * float(cf["f_err"])
    # every hop of 2.5 Å is seen: D_J = n a^2 / (6 N t)
    np.testing.assert_allclose(float(cf["D_J"]), J.sizes["jump"] * 2.5 ** 2 / (6 * 100 * 299.9))


def test_single_vacancy_diffusion_gives_f_0653():
    ds, frac = vacancy_walk(6, 2, 10000, seed=0)
    J = site_jumps(ds, frac, "Li", radius=0.8)
    # every vacancy move is one jump of 2.5 Å (none missed, none invented)
    assert J.sizes["jump"] > 0.97 * 2 * 9999 and np.allclose(J["jump_distance"], 2.5)
    cf = correlation_factor(ds, J)
    f, err = float(cf["f"]), float(cf["f_err"])
    assert err < 0.03
    assert abs(f - 0.6531) < 3 * err and f < 0.8


# --- agreement with GEMDAT -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, supercell, radius", [("li3ps4", (1, 1, 2), 1.2), ("argyrodite", (1, 1, 1), 0.9)])
def test_agrees_with_gemdat(name, supercell, radius):
    from gemdat.collective import Collective
    from gemdat.trajectory import Trajectory
    from gemdat.transitions import Transitions
    from pymatgen.core import Element, Lattice

    sites = sites_from_structure(CIF[name], species="Li", supercell=supercell)
    cell = sites.reference_cell
    pos = site_hopping_walk(sites.fractional, cell, 16, 1500, seed=1)
    ds = li_trajectory(pos, cell, timestep_ps=0.1)
    J = site_jumps(ds, sites, "Li", radius)
    gs = gemdat_io.load_known_material(name, supercell=supercell)
    traj = Trajectory(species=[Element("Li")] * 16, coords=pos @ np.linalg.inv(cell), lattice=Lattice(cell),
                      time_step=0.1e-12, metadata={"temperature": 600.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = Transitions.from_trajectory(trajectory=traj, sites=gs, floating_specie="Li", site_radius=radius)
        gj = tr.jumps()
    assert J.sizes["jump"] == gj.n_jumps > 300
    # same site pairs: map GEMDAT's site order onto ours by position
    d = (gs.frac_coords[:, None] - sites.fractional[None]) % 1.0
    d -= np.round(d)
    g2s = np.argmin(np.linalg.norm(d @ cell, axis=-1), axis=1)
    assert sorted(g2s.tolist()) == list(range(sites.n_sites))
    ours = sorted(zip(J["atom"].values.tolist(), J["from_site"].values.tolist(), J["to_site"].values.tolist(),
                      J["departure_frame"].values.tolist(), J["arrival_frame"].values.tolist()))
    theirs = sorted(zip(gj.data["atom index"].tolist(), g2s[gj.data["start site"]].tolist(),
                        g2s[gj.data["destination site"]].tolist(), gj.data["start time"].tolist(),
                        gj.data["stop time"].tolist()))
    assert ours == theirs
    counts = jump_rates(J)["n_jumps"]
    for (a, b), n in gj.counter().items():
        assert int(counts.sel(from_type=a, to_type=b)) == n
    # jump diffusivity: GEMDAT divides by n_frames x timestep, ssefeat by the run length (n_frames - 1) x timestep
    dj = jump_diffusivity(J)[0]
    np.testing.assert_allclose(dj * 1e-8 * (1499 / 1500), float(gj.jump_diffusivity(3)), rtol=1e-9)
    # collective jumps at a window of 5 frames and 3 Å: GEMDAT's rule checked on every pair of jumps
    coll = collective_jumps(J, max_dist=3.0, max_frames=5)
    dep, arr, ion = J["departure_frame"].values, J["arrival_frame"].values, J["atom"].values
    ends = np.stack([J["from_site"].values, J["to_site"].values], 1)
    p, q = np.triu_indices(J.sizes["jump"], 1)
    near = (dep[q] - arr[p] <= 5) & (dep[p] - arr[q] <= 5) & (ion[p] != ion[q])
    p, q = p[near], q[near]
    sep = sites.fractional[ends[p][:, :, None]] - sites.fractional[ends[q][:, None, :]]
    close = (np.linalg.norm((sep - np.round(sep)) @ cell, axis=-1) < 3.0).any(axis=(1, 2))
    brute = {tuple(sorted(t)) for t in zip(p[close].tolist(), q[close].tolist())}
    assert {tuple(sorted(t)) for t in zip(coll["jump_a"].values.tolist(), coll["jump_b"].values.tolist())} == brute
    gc = Collective(jumps=gj, sites=gs, lattice=traj.get_lattice(), max_steps=5, max_dist=3.0)
    key = {k: n for n, k in enumerate(zip(ion.tolist(), dep.tolist(), arr.tolist()))}
    theirs = {tuple(sorted(key[(int(e["atom index"]), int(e["start time"]), int(e["stop time"]))] for e in pair))
              for pair in gc.collective}
    # every pair GEMDAT finds is ours; it misses the pairs (about 1 in 200) its scan never reaches: in its order (by
    # arrival, then departure) it stops at the first later jump that departs more than the window after p arrives
    assert theirs <= brute
    rank = np.empty(arr.size, dtype=np.int64)
    rank[np.lexsort((dep, arr))] = np.arange(arr.size)
    by_rank = np.argsort(rank)
    for pair in brute - theirs:
        first, second = sorted(pair, key=lambda k: rank[k])
        between = by_rank[rank[first] + 1:rank[second] + 1]
        assert (dep[between] - arr[first] > 5).any()
    assert len(brute - theirs) <= 0.01 * len(brute)


def test_sites_object_types():
    s = Sites(np.zeros((3, 3)), np.array(["x", "y", "x"]))
    assert s.types == ["x", "y"] and s.type_index().tolist() == [0, 1, 0]
    assert s.to_dataset()["site_label"].values.tolist() == ["x", "y", "x"]


# --- activation energy per jump type ---------------------------------------------------------------------------
def checkerboard_walk(n_ions, n_frames, rate_ps, L=6, a=2.5, dt=0.1, noise=0.15, seed=0):
    """Independent ions on a simple cubic lattice whose sites alternate A / B (checkerboard, so every hop is A -> B
    or B -> A); an ion on a site of type t hops with probability rate_ps[t] * dt per frame to a random neighbour."""
    rng = np.random.default_rng(seed)
    cur = rng.integers(0, L, (n_ions, 3))
    unwrapped = cur.astype(float)
    pos = np.empty((n_frames, n_ions, 3))
    p = np.array([rate_ps["A"], rate_ps["B"]]) * dt
    for f in range(n_frames):
        pos[f] = unwrapped
        kind = cur.sum(axis=1) % 2  # 0: A, 1: B
        hop = rng.random(n_ions) < p[kind]
        step = NB[rng.integers(0, 6, n_ions)] * hop[:, None]
        cur, unwrapped = cur + step, unwrapped + step
    grid = lattice_grid(L)
    labels = np.where(grid.sum(axis=1) % 2 == 0, "A", "B")
    ds = ssefeat.make_trajectory(pos * a + rng.normal(0, noise, pos.shape), ["Li"] * n_ions, cell=np.eye(3) * L * a,
                                 timestep_ps=dt)
    return ds, sites_from_fractional(grid / L, labels=labels)


def test_activation_energy_per_jump_type_recovered():
    from ssefeat.sites import jump_arrhenius
    from ssefeat.units import BOLTZMANN_EV

    barrier, nu = {"A": 0.20, "B": 0.35}, 20.0  # eV, 1/ps
    temps = [500.0, 650.0, 800.0, 1000.0]
    runs = []
    for k, T in enumerate(temps):
        rate = {t: nu * np.exp(-e / (BOLTZMANN_EV * T)) for t, e in barrier.items()}
        ds, sites = checkerboard_walk(40, 1500, rate, seed=k)
        runs.append(site_jumps(ds, sites, "Li", radius=0.8))
    fit = jump_arrhenius(runs, temps)
    for t, other in (("A", "B"), ("B", "A")):
        e, err = float(fit["activation_energy"].sel(from_type=t, to_type=other)), \
            float(fit["activation_energy_err"].sel(from_type=t, to_type=other))
        assert err < 0.03 and abs(e - barrier[t]) < 3 * err
        assert abs(float(fit["prefactor"].sel(from_type=t, to_type=other)) - nu) < 3 * float(
            fit["prefactor_err"].sel(from_type=t, to_type=other))
    assert np.isnan(float(fit["activation_energy"].sel(from_type="A", to_type="A")))  # no A -> A jumps
    with pytest.raises(ParameterError, match="one finite temperature per run"):
        jump_arrhenius(runs)  # the synthetic runs carry no temperature


def test_site_descriptors_of_ideal_polyhedra():
    from ssefeat.sites import site_descriptors

    tet = 1.5 * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])  # cube side 3 Å: V = 27 / 3
    octa = 1.6 * np.vstack([np.eye(3), -np.eye(3)])  # V = 4/3 d^3
    s_pos = np.vstack([tet + 2.5, octa + 7.5])
    li = np.array([[0.5, 0.5, 0.5]])
    pos = np.tile(np.vstack([li, s_pos]), (3, 1, 1))
    ds = ssefeat.make_trajectory(pos, ["Li"] + ["S"] * 10, cell=np.eye(3) * 10.0, timestep_ps=0.1)
    sites = sites_from_fractional([[0.25] * 3, [0.75] * 3], labels=["tet", "oct"])
    d = site_descriptors(ds, sites, "S", n_frames=3)
    np.testing.assert_allclose(d["volume_T"].sel(site=0), 9.0, rtol=1e-9)
    np.testing.assert_allclose(d["volume_O"].sel(site=1), 4 / 3 * 1.6 ** 3, rtol=1e-9)
    assert float(d["csm_T"].sel(site=0)) < 1e-6 and float(d["csm_O"].sel(site=1)) < 1e-6
    assert float(d["csm_T"].sel(site=1)) > 1  # four vertices of an octahedron are far from a tetrahedron
    assert np.isnan(float(d["csm_O"].sel(site=0)))  # only 4 anions within r_max of the tetrahedral site
    np.testing.assert_allclose(d["type_volume_T"].sel(site_type="tet"), 9.0, rtol=1e-9)
    assert float(d["volume_T_err"].sel(site=0)) == 0.0  # identical frames


def test_leaving_contrast_exact_labels_and_bootstrap():
    from ssefeat.sites import leaving_contrast
    from ssefeat.sites.leaving import leaving_labels

    ds, frac = uncorrelated_walk(4, 30, 400, hop_prob=0.05, seed=4)
    occ = site_occupancy(ds, frac, "Li", radius=0.8)
    J = site_jumps(ds, frac, "Li", radius=0.8)
    lab = leaving_labels(occ, J, window=3)
    # exact on one ion: label 1 exactly on its frames d-2..d before each departure d, -1 in the last 2 frames
    i = int(J["ion"][0])
    expected = np.where(occ["site_index"].values[:, i] >= 0, 0, -1)
    for d in J["departure_frame"].values[J["ion"].values == i]:
        seg = expected[max(0, d - 2):d + 1]
        seg[seg == 0] = 1
    expected[-2:][expected[-2:] == 0] = -1
    np.testing.assert_array_equal(lab[:, i], expected)
    # a quantity that is 1 higher just before leaving: difference 1 within noise, interval excludes 0
    rng = np.random.default_rng(0)
    q = xr.DataArray((lab == 1) + rng.normal(0, 0.5, lab.shape), dims=("frame", "atom"),
                     coords={"frame": occ.frame, "atom": occ.atom}, name="q")
    c = leaving_contrast(occ, J, q, window=3, n_boot=200).sel(group="all")
    assert abs(float(c["difference"]) - 1.0) < 0.1 and float(c["ci_low"]) > 0.8
    # a quantity unrelated to leaving: the interval covers 0
    q0 = q.copy(data=rng.normal(0, 0.5, lab.shape))
    c0 = leaving_contrast(occ, J, q0, window=3, n_boot=200).sel(group="all")
    assert float(c0["ci_low"]) < 0 < float(c0["ci_high"])
    assert int(c0["n_leaving"]) == int((lab == 1).sum())
