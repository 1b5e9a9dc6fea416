"""Inherent structures (ssefeat.md.inherent_structures): FIRE quench of every frame of a trajectory."""
from __future__ import annotations

import numpy as np
import pytest

import ssefeat
from ssefeat.errors import ParameterError, SimulationError
from ssefeat.md.inherent import inherent_structures
from ssefeat.md.systems.kob_andersen import kob_andersen, kob_andersen_forcefield


@pytest.fixture(scope="module")
def ka_traj():
    """Four unwrapped frames of a small Kob-Andersen liquid at T = 0.8 (sigma units), 0.5 tau apart."""
    from ssefeat.md.protocols import make_thermostat

    sim = kob_andersen(n_atoms=256, temperature=0.8, seed=11, equilibrate_steps=400)
    integ = make_thermostat("langevin", 0.8, 0.005, 1.0)
    pos, t = [], []
    for _ in range(4):
        sim.run(100, integ, progress=False)
        pos.append(sim.positions.copy())
        t.append(sim.time)
    ds = ssefeat.make_trajectory(np.asarray(pos), sim.species, cell=sim.cell, time=np.asarray(t), wrapped=False,
                                 frame=np.array([10, 11, 12, 13]), atom=np.arange(256) + 1000,
                                 attrs={"units": "lj"})
    return ds, sim


def _forces_energy(ds, k):
    from ssefeat.md.simulation import Simulation

    sim = Simulation(ds.positions.values[k], ds.cell.values[k], ds.species.values, kob_andersen_forcefield(),
                     min_distance=0.0)
    return sim.forces, sim.potential_energy


def test_quench_reaches_a_minimum_below_the_thermal_energy(ka_traj):
    ds, _ = ka_traj
    q = inherent_structures(ds, system="kob_andersen", fmax=1e-4)
    # same frames, atoms, species, time, cell
    assert q.frame.values.tolist() == ds.frame.values.tolist()
    assert q.atom.values.tolist() == ds.atom.values.tolist()
    assert (q.species.values == ds.species.values).all()
    np.testing.assert_array_equal(q.time.values, ds.time.values)
    np.testing.assert_array_equal(q.cell.values, ds.cell.values)
    assert q.inherent_converged.values.all()
    for k in range(ds.sizes["frame"]):
        f_thermal, e_thermal = _forces_energy(ds, k)
        f, e = _forces_energy(q, k)
        # forces vanish at the minimum (and were large in the thermal configuration)
        assert np.sqrt((f ** 2).sum(1)).max() <= 1e-4
        assert np.sqrt((f_thermal ** 2).sum(1)).max() > 1.0
        # energy lowered, by about the harmonic 3/2 N k_B T at least a good fraction of it
        assert e == pytest.approx(q.inherent_energy.values[k], rel=1e-10)
        assert e_thermal == pytest.approx(q.thermal_energy.values[k], rel=1e-10)
        assert e < e_thermal - 0.5 * 1.5 * 256 * 0.8
    # the quench stays in the basin: sub-neighbour-distance displacements, unwrapped input stays continuous
    d = np.sqrt(((q.positions.values - ds.positions.values) ** 2).sum(-1))
    assert 0.01 < d.mean() < 0.5


def test_already_minimised_frames_are_left_unchanged(ka_traj):
    ds, _ = ka_traj
    q = inherent_structures(ds, system="kob_andersen", fmax=1e-3)
    q2 = inherent_structures(q, system="kob_andersen", fmax=1e-3)
    np.testing.assert_array_equal(q2.positions.values, q.positions.values)
    assert (q2.inherent_steps.values == 0).all()
    np.testing.assert_allclose(q2.inherent_energy.values, q.inherent_energy.values, rtol=1e-12)


def test_frames_are_independent_so_chunks_agree(ka_traj):
    ds, _ = ka_traj
    whole = inherent_structures(ds, forcefield=kob_andersen_forcefield(), fmax=1e-3)
    parts = [inherent_structures(ds.isel(frame=s), system="kob_andersen", fmax=1e-3)
             for s in (slice(0, 1), slice(1, 4))]
    joined = np.concatenate([p.positions.values for p in parts])
    np.testing.assert_allclose(joined, whole.positions.values, rtol=0, atol=1e-12)


def test_thermal_variables_are_dropped(ka_traj):
    ds, _ = ka_traj
    with_v = ds.assign(velocities=(("frame", "atom", "xyz"), np.ones(ds.positions.shape)))
    q = inherent_structures(with_v.isel(frame=[0]), system="kob_andersen")
    assert "velocities" not in q
    ssefeat.validate(q, require_cell=True)


def test_bad_input(ka_traj):
    ds, _ = ka_traj
    with pytest.raises(ParameterError, match="exactly one of"):
        inherent_structures(ds)
    with pytest.raises(ParameterError, match="exactly one of"):
        inherent_structures(ds, system="kob_andersen", forcefield=kob_andersen_forcefield())
    with pytest.raises(ParameterError, match="must be a ssefeat.md.forcefield.ForceField"):
        inherent_structures(ds, forcefield="lj")
    with pytest.raises(ParameterError, match="unknown MD system"):
        inherent_structures(ds, system="argon")
    with pytest.raises(ParameterError, match="fmax must be"):
        inherent_structures(ds, system="kob_andersen", fmax=-1.0)
    with pytest.raises(SimulationError, match="did not reach fmax"):
        inherent_structures(ds.isel(frame=[0]), system="kob_andersen", max_steps=3)
    q = inherent_structures(ds.isel(frame=[0]), system="kob_andersen", max_steps=3, require_converged=False)
    assert not q.inherent_converged.values[0] and q.inherent_steps.values[0] == 3
