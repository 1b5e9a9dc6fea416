"""Core MD engine: forces, virial, neighbour lists, integrators, state, writer, systems, bad input."""
from __future__ import annotations

import numpy as np
import pytest

from ssefeat.errors import ParameterError, SimulationError
from ssefeat.md.forcefield import ForceField
from ssefeat.md.integrators import NVE, Langevin, NoseHooverChain, NPT, UniaxialTension
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
    owner = np.repeat(np.arange(len(pos)), np.diff(nl.owner_offsets))
    c = np.stack([nl.codes // 9 - 1, (nl.codes // 3) % 3 - 1, nl.codes % 3 - 1], axis=1)
    vec = y[owner] - y[nl.neighbors] + c @ cell
    assert np.allclose(vec, minimum_image(pos[owner] - pos[nl.neighbors], cell), atol=1e-10)


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
