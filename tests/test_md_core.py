"""Core MD engine: forces, virial, neighbour lists, integrators, state, writer, systems, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from ssefeat.errors import ParameterError, SimulationError
from ssefeat.md.forcefield import ForceField
from ssefeat.md.cell_integrators import NPT, UniaxialTension
from ssefeat.md.integrators import NVE, Langevin, NoseHooverChain
from ssefeat.md.neighbors import VerletList
from ssefeat.md.pair_lj import LennardJones
from ssefeat.md.simulation import Simulation
from ssefeat.md.systems.kob_andersen import KA_PARAMETERS, kob_andersen, random_positions

TRICLINIC = np.array([[7.0, 0.0, 0.0], [1.3, 6.6, 0.0], [-0.9, 1.1, 7.2]])


def _ka_forcefield(skin=0.3):
    return ForceField([LennardJones(KA_PARAMETERS)], skin=skin, units="lj")


def _random_config(cell, n, seed, d_min=0.85):
    """Random non-overlapping configuration in an arbitrary (triclinic) cell via a cubic RSA + affine map."""
    rng = np.random.default_rng(seed)
    s = random_positions(n, 1.0, d_min / np.abs(cell).max() * 0.9, seed=seed)
    pos = s @ cell
    # an atom's unwrapped image far away must not matter
    pos[::7] += rng.integers(-2, 3, size=(len(pos[::7]), 3)) @ cell
    species = np.where(rng.random(n) < 0.8, "A", "B")
    return pos, species


def _energy(ff, pos, cell):
    return ff.compute(pos, cell)[0].sum()


@pytest.fixture(scope="module")
def ka_small():
    return kob_andersen(n_atoms=256, temperature=1.0, seed=3, equilibrate_steps=500)


@pytest.mark.parametrize("cell", [np.diag([7.1, 7.4, 6.9]), TRICLINIC], ids=["orthorhombic", "triclinic"])
def test_forces_are_minus_gradient_and_virial_is_strain_derivative(cell):
    pos, species = _random_config(cell, 250, seed=1)
    ff = _ka_forcefield()
    ff.bind(species)
    epa, forces, virial = ff.compute(pos, cell)
    assert np.allclose(forces.sum(axis=0), 0.0, atol=1e-9)
    rng = np.random.default_rng(0)
    h = 1e-6
    for i in rng.choice(len(pos), 8, replace=False):
        for a in range(3):
            p1, p2 = pos.copy(), pos.copy()
            p1[i, a] += h
            p2[i, a] -= h
            fd = -(_energy(ff, p1, cell) - _energy(ff, p2, cell)) / (2 * h)
            assert fd == pytest.approx(forces[i, a], rel=1e-6, abs=1e-6)
    # W_ab = -dE/d eps_ab for r -> r (1 + eps) (rows), cell -> cell (1 + eps)
    w_fd = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            e = np.zeros((3, 3))
            e[a, b] = h
            w_fd[a, b] = -(_energy(ff, pos @ (np.eye(3) + e), cell @ (np.eye(3) + e))
                           - _energy(ff, pos @ (np.eye(3) - e), cell @ (np.eye(3) - e))) / (2 * h)
    assert np.allclose(virial, w_fd, rtol=1e-6, atol=1e-5 * np.abs(virial).max())


@pytest.mark.parametrize("cell", [np.diag([9.0, 9.5, 10.0]), TRICLINIC * 1.3, np.diag([5.5, 5.6, 5.7])],
                         ids=["cells", "triclinic-cells", "all-pairs"])
def test_verlet_list_matches_brute_force(cell):
    from ssefeat.box import minimum_image

    pos, _ = _random_config(cell, 300, seed=2, d_min=0.6)
    nl = VerletList(2.0, 0.4 if cell[0, 0] > 6 else 0.2)
    nl.build(pos, cell)
    d = minimum_image(pos[:, None] - pos[None], cell)
    r = np.linalg.norm(d, axis=-1)
    i, j = np.nonzero(np.triu(r < nl.interaction_cutoff + nl.skin_used, 1))
    got = {tuple(p) for p in nl.pairs.tolist()}
    assert got == set(zip(i.tolist(), j.tolist()))
    assert np.all(nl.pairs[:, 0] < nl.pairs[:, 1]) and np.all(np.diff(nl.pairs[:, 0]) >= 0)
    # image codes reproduce the minimum-image vectors
    y = nl.wrapped_positions(pos, cell)
    owner = nl.order[np.repeat(np.arange(len(pos)), np.diff(nl.owner_offsets))]
    other = nl.order[nl.neighbors]
    c = np.stack([nl.codes // 9 - 1, (nl.codes // 3) % 3 - 1, nl.codes % 3 - 1], axis=1)
    vec = y[owner] - y[other] + c @ cell
    assert np.allclose(vec, minimum_image(pos[owner] - pos[other], cell), atol=1e-10)


def test_nve_energy_conservation_and_momentum(ka_small):
    sim = ka_small.copy()
    nve = NVE(0.005)
    energies = []
    sim.run(10_000, nve, progress=False, check_every=50, callback=lambda s: energies.append(s.total_energy))
    e = np.array(energies)
    t = np.arange(len(e))
    slope = np.polyfit(t, e, 1)[0]
    drift = abs(slope * (len(e) - 1)) / abs(e[0])
    assert drift < 1e-4
    assert np.abs(e - e[0]).max() / abs(e[0]) < 1e-3
    assert np.allclose(sim.momentum, 0.0, atol=1e-10)


def test_langevin_and_nose_hoover_hold_the_temperature(ka_small):
    for integ in (Langevin(0.8, 0.005, damping=0.5), NoseHooverChain(0.8, 0.005, damping=0.25)):
        sim = ka_small.copy()
        temps = []
        sim.run(600, integ, progress=False)
        sim.run(1500, integ, progress=False, check_every=10, callback=lambda s: temps.append(s.temperature))
        assert np.mean(temps) == pytest.approx(0.8, rel=0.04), integ.name
        assert np.allclose(sim.momentum, 0.0, atol=1e-9)


def test_nose_hoover_conserved_quantity(ka_small):
    sim = ka_small.copy()
    integ = NoseHooverChain(1.2, 0.004, damping=0.2)
    h = []
    sim.run(2000, integ, progress=False, callback=lambda s: h.append(integ.conserved(s)))
    h = np.array(h)
    assert np.abs(h - h[0]).max() / abs(h[0]) < 2e-3
    assert abs(integ.thermostat_energy()) > 0


def test_kob_andersen_gr_first_peak(ka_small):
    from ssefeat.box import minimum_image

    sim = ka_small.copy()
    a = sim.species == "A"
    hist = 0
    bins = np.linspace(0.5, 2.5, 81)
    integ = NoseHooverChain(1.0, 0.005)
    for _ in range(10):
        sim.run(100, integ, progress=False)
        x = sim.positions[a]
        d = np.linalg.norm(minimum_image(x[:, None] - x[None], sim.cell), axis=-1)[np.triu_indices(a.sum(), 1)]
        hist = hist + np.histogram(d, bins)[0]
    r = 0.5 * (bins[1:] + bins[:-1])
    shell = 4 / 3 * np.pi * (bins[1:] ** 3 - bins[:-1] ** 3)
    n_a = a.sum()
    g = hist / 10 / (0.5 * n_a * (n_a - 1) / sim.volume * shell)
    assert 0.95 <= r[np.argmax(g)] <= 1.15
    assert g.max() > 2.0
    assert g[r > 2.0].mean() == pytest.approx(1.0, abs=0.15)


def test_writer_round_trip_is_a_valid_trajectory(tmp_path, ka_small):
    import json

    import xarray as xr

    import ssefeat
    from ssefeat.md.writer import TrajectoryWriter

    sim = ka_small.copy()
    path = tmp_path / "ka.nc"
    last = None
    with TrajectoryWriter(path, sim, velocities=True, chunk_frames=3) as w:
        assert not path.exists()  # written under a temporary name until closed
        w.write(sim)
        sim.run(100, NVE(0.005), dump_every=10, writer=w, progress=False)
        last = sim.positions.copy()
    ds = xr.open_dataset(path)
    ssefeat.validate(ds, require_cell=True)
    assert ds.sizes["frame"] == 11 and ds.sizes["atom"] == sim.n_atoms
    assert np.array_equal(ds.positions.values[-1], last)
    assert np.allclose(ds.time.values, np.arange(11) * 0.05)
    assert list(ds.species.values[:3]) == ["A", "A", "A"]
    assert ds.attrs["units"] == "lj" and ds.attrs["wrapped"] == 0
    assert ds.attrs["timestep_tau"] == pytest.approx(0.05)
    params = json.loads(ds.attrs["parameters"])
    assert params["forcefield"]["terms"][0]["parameters"]["pairs"]["A-B"]["epsilon"] == 1.5
    assert params["runs"][0]["integrator"] == "nve"
    assert np.allclose(ds.potential_energy.sum("atom").values, ds.energy.values)
    assert "velocities" in ds
    ds.close()


def test_restart_continues_exactly(tmp_path, ka_small):
    a = ka_small.copy()
    a.run(100, NoseHooverChain(1.0, 0.005), progress=False)
    b = ka_small.copy()
    integ = NoseHooverChain(1.0, 0.005)
    b.run(50, integ, progress=False)
    b.save(tmp_path / "state.npz", integrator=integ)
    integ2 = NoseHooverChain(1.0, 0.005)
    c = Simulation.restore(tmp_path / "state.npz", integrator=integ2)
    assert c.step == 50 and c.time == pytest.approx(0.25)
    c.run(50, integ2, progress=False)
    assert np.allclose(c.positions, a.positions, rtol=0, atol=1e-9)
    assert np.allclose(c.velocities, a.velocities, rtol=0, atol=1e-9)
    # the file holds no pickled object
    with np.load(tmp_path / "state.npz", allow_pickle=False) as z:
        assert "positions" in z.files


def test_protocol_chain_minimise_ramp_production(tmp_path):
    import json

    import xarray as xr

    from ssefeat.md import protocols as P
    from ssefeat.md.writer import TrajectoryWriter

    sim = kob_andersen(n_atoms=256, temperature=2.0, seed=4, equilibrate_steps=0, minimise=False)
    with TrajectoryWriter(tmp_path / "q.nc", sim) as w:
        out = P.run_protocol(sim, [P.Minimise(fmax=1e-2), P.Equilibrate(2.0, 300, dt=0.004),
                                   P.Ramp(2.0, 0.6, 600, dt=0.004, damping=0.2, dump_every=100),
                                   P.Production(NoseHooverChain(0.6, 0.004), 200, dump_every=100)],
                             writer=w, progress=False)
    assert out[0]["converged"] and out[0]["fmax"] < 1e-2
    assert out[2]["rate"] == pytest.approx((0.6 - 2.0) / (600 * 0.004))
    assert out[2]["final_temperature"] == pytest.approx(0.6, rel=0.2)
    ds = xr.open_dataset(tmp_path / "q.nc")
    assert ds.sizes["frame"] == 6 + 2  # the ramp's last frame is not repeated by the production run
    assert [p["protocol"] for p in json.loads(ds.attrs["parameters"])["protocol"]] == \
        ["minimise", "equilibrate", "ramp", "production"]
    ds.close()


def test_npt_relaxes_the_density(ka_small):
    sim = ka_small.copy()
    nvt_p = []
    sim.run(400, Langevin(1.0, 0.005, damping=0.5), progress=False, callback=lambda s: nvt_p.append(s.pressure))
    p0 = float(np.mean(nvt_p[10:]))
    # expand the box by 3 % in volume, then let the barostat bring the density back
    sim.positions *= 1.01
    sim.cell *= 1.01
    sim.compute_forces()
    rho = []
    integ = NPT(1.0, p0, 0.005, damping=0.5, tau_p=0.5)
    sim.run(1500, integ, progress=False, callback=lambda s: rho.append(s.n_atoms / s.volume))
    assert np.mean(rho[-50:]) == pytest.approx(1.2, abs=0.02)


def test_uniaxial_tension_records_stress_strain(ka_small):
    sim = ka_small.copy()
    l0 = sim.cell[0, 0]
    integ = UniaxialTension(0.05, 0.5, 0.005, axis="x", damping=0.5, record_every=20)
    sim.run(1000, integ, progress=False)
    curve = integ.stress_strain(sim.units)
    assert curve.sizes["point"] == 51
    assert curve.strain.values[-1] == pytest.approx(0.05 * 5.0)
    assert sim.cell[0, 0] == pytest.approx(l0 * 1.25)
    assert sim.cell[1, 1] == pytest.approx(ka_small.cell[1, 1])
    # stretching a dense liquid at a high rate: tensile normal-stress difference, and the pressure falls
    late = curve.isel(point=slice(25, None))
    assert float((late.stress_xx - 0.5 * (late.stress_yy + late.stress_zz)).mean()) > 0
    assert float(curve.stress_xx[-5:].mean()) > float(curve.stress_xx[:5].mean())


# ------------------------------------------------------------------------------------------------ bad input
def test_unknown_species_and_missing_parameters():
    pos = random_positions(40, 5.0, 0.9, seed=1)
    cell = np.eye(3) * 5.0
    species = ["A"] * 39 + ["C"]
    with pytest.raises(ParameterError, match="no Lennard-Jones parameters for species \\['C'\\]"):
        Simulation(pos, cell, species, _ka_forcefield())
    ff = ForceField([LennardJones({("A", "A"): (1.0, 1.0), ("B", "B"): (0.5, 0.88)})], units="lj")
    with pytest.raises(ParameterError, match="pair A-B"):
        Simulation(pos, cell, ["A"] * 30 + ["B"] * 10, ff)
    with pytest.raises(ParameterError, match="epsilon, sigma"):
        LennardJones({("A", "A"): (1.0,)})


def test_overlapping_atoms_are_reported():
    pos = random_positions(60, 6.0, 0.9, seed=2)
    pos[5] = pos[17] + [0.05, 0.0, 0.0]
    with pytest.raises(SimulationError, match="atoms 5 .* and 17 .* overlap|atoms 17 .* and 5 .* overlap"):
        Simulation(pos, np.eye(3) * 6.0, ["A"] * 60, _ka_forcefield())


def test_cutoff_larger_than_half_the_box():
    pos = random_positions(20, 4.5, 0.9, seed=3)
    with pytest.raises(ParameterError, match="not below half the smallest cell width"):
        Simulation(pos, np.eye(3) * 4.5, ["A"] * 20, _ka_forcefield())


def test_time_step_too_large_blows_up_cleanly(tmp_path, ka_small):
    from ssefeat.md.writer import TrajectoryWriter

    sim = ka_small.copy()
    out = tmp_path / "bad.nc"
    with pytest.raises(SimulationError, match="blew up"):
        with TrajectoryWriter(out, sim) as w:
            sim.run(2000, NVE(0.05), dump_every=5, writer=w, progress=False)
    assert not out.exists()
    partial = tmp_path / "bad.partial.nc"
    if partial.exists():  # frames before the blow-up are kept apart, marked incomplete, and all finite
        import xarray as xr

        ds = xr.open_dataset(partial)
        assert ds.attrs["complete"] == 0 and np.isfinite(ds.positions.values).all()
        ds.close()


def test_bad_parameters():
    with pytest.raises(ParameterError):
        NVE(-0.1)
    with pytest.raises(ParameterError):
        Langevin(-1.0, 0.005)
    with pytest.raises(ParameterError, match="unknown MD system"):
        from ssefeat.md.systems import get_system

        get_system("argon_crystal_nope")


def test_cli_simulate_and_restart(tmp_path):
    import xarray as xr
    from click.testing import CliRunner

    import ssefeat
    from ssefeat.cli import main

    out = tmp_path / "ka.nc"
    r = CliRunner().invoke(main, ["simulate", "kob_andersen", "--n-atoms", "256", "--steps", "100", "--dump-every",
                                  "50", "--equilibrate-steps", "50", "--no-progress", "-o", str(out)])
    assert r.exit_code == 0, r.output
    state = tmp_path / "ka.state.npz"
    assert state.exists()
    out2 = tmp_path / "ka2.nc"
    r = CliRunner().invoke(main, ["simulate", "kob_andersen", "--restart", str(state), "--steps", "100",
                                  "--dump-every", "50", "--no-progress", "-o", str(out2)])
    assert r.exit_code == 0, r.output
    a, b = xr.open_dataset(out), xr.open_dataset(out2)
    ssefeat.validate(b, require_cell=True)
    assert a.time.values.tolist() == [0.0, 0.25, 0.5] and b.time.values.tolist() == [0.75, 1.0]
    a.close()
    b.close()
    r = CliRunner().invoke(main, ["simulate", "nope", "-o", str(tmp_path / "x.nc")])
    assert r.exit_code == 2 and "unknown MD system" in r.output


def test_per_type_list_cutoffs_keep_exactly_the_needed_pairs():
    from ssefeat.box import minimum_image

    cell = TRICLINIC * 1.4
    pos, species = _random_config(cell, 400, seed=7, d_min=0.6)
    types = (species == "B").astype(np.int64)
    table = np.array([[2.5, 2.0], [2.0, 2.2]])
    nl = VerletList(2.5, 0.3, types=types, type_cutoffs=table)
    nl.build(pos, cell)
    r = np.linalg.norm(minimum_image(pos[:, None] - pos[None], cell), axis=-1)
    need = r < table[types[:, None], types[None, :]] + 0.3
    i, j = np.nonzero(np.triu(need, 1))
    assert {tuple(p) for p in nl.pairs.tolist()} == set(zip(i.tolist(), j.tolist()))
    # the KA force field uses them (LJ gives per-pair cutoffs) and forces do not change
    ff = _ka_forcefield()
    ff.bind(species)
    f1 = ff.compute(pos, cell)[1]
    assert ff.nlist.types is not None
    ff_global = ForceField([LennardJones(KA_PARAMETERS)], skin=0.3, units="lj")
    ff_global.nlist = VerletList(2.5, 0.3)
    ff_global.bind(species)
    ff_global.nlist = VerletList(2.5, 0.3)
    f2 = ff_global.compute(pos, cell)[1]
    assert len(ff.nlist.pairs) < len(ff_global.nlist.pairs)
    assert np.allclose(f1, f2, rtol=0, atol=1e-12)
