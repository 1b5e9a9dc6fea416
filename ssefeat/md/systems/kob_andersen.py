"""The Kob-Andersen 80:20 binary Lennard-Jones glass former (Kob & Andersen, PRE 51, 4626 (1995)).

Reduced LJ units (``units="lj"``): length sigma_AA, energy epsilon_AA, mass m (both species), time
tau = sigma_AA sqrt(m / epsilon_AA), temperature epsilon_AA / k_B. Parameters: eps_AA = 1, sigma_AA = 1,
eps_AB = 1.5, sigma_AB = 0.8, eps_BB = 0.5, sigma_BB = 0.88, cutoff 2.5 sigma_ab, number density 1.2, shifted-force
LJ (:mod:`ssefeat.md.pair_lj`; the original paper truncated and shifted the energy only, so absolute energies
and pressures differ slightly from the paper's tables while the structure and dynamics are nearly the same).
The usual supercooled range is T = 0.43 - 1.0 (mode-coupling T_c ~ 0.435); T = 2 is a normal liquid.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...errors import ParameterError
from ..forcefield import ForceField
from ..pair_lj import LennardJones
from ..simulation import Simulation
from . import SystemSpec, register_system

__all__ = ["kob_andersen", "kob_andersen_forcefield", "kob_andersen_trajectory", "KA_PARAMETERS",
           "random_positions"]

KA_PARAMETERS = {("A", "A"): (1.0, 1.0), ("A", "B"): (1.5, 0.8), ("B", "B"): (0.5, 0.88)}


def kob_andersen_forcefield(rc_sigma: float = 2.5, skin: float = 0.3, **_ignored) -> ForceField:
    """The KA force field: shifted-force LJ, cutoff ``rc_sigma`` sigma_ab, Verlet skin ``skin`` sigma."""
    return ForceField([LennardJones(KA_PARAMETERS, rc_sigma=rc_sigma)], skin=skin, units="lj", name="kob-andersen")


@njit(cache=True)
def _rsa(candidates, n_target, length, d_min, nb, head, nxt, pos, n_have):
    """Random sequential addition in a cubic box with a bin grid; returns the number of atoms placed."""
    d2 = d_min * d_min
    bw = length / nb
    for c in range(candidates.shape[0]):
        if n_have >= n_target:
            break
        x = candidates[c, 0] * length
        y = candidates[c, 1] * length
        z = candidates[c, 2] * length
        bx = min(int(x / bw), nb - 1)
        by = min(int(y / bw), nb - 1)
        bz = min(int(z / bw), nb - 1)
        ok = True
        for ox in range(-1, 2):
            if not ok:
                break
            for oy in range(-1, 2):
                if not ok:
                    break
                for oz in range(-1, 2):
                    b = (((bx + ox) % nb) * nb + (by + oy) % nb) * nb + (bz + oz) % nb
                    j = head[b]
                    while j >= 0:
                        dx = x - pos[j, 0]
                        dy = y - pos[j, 1]
                        dz = z - pos[j, 2]
                        dx -= length * math.floor(dx / length + 0.5)
                        dy -= length * math.floor(dy / length + 0.5)
                        dz -= length * math.floor(dz / length + 0.5)
                        if dx * dx + dy * dy + dz * dz < d2:
                            ok = False
                            break
                        j = nxt[j]
                    if not ok:
                        break
        if ok:
            pos[n_have, 0] = x
            pos[n_have, 1] = y
            pos[n_have, 2] = z
            b = (bx * nb + by) * nb + bz
            nxt[n_have] = head[b]
            head[b] = n_have
            n_have += 1
    return n_have


def random_positions(n_atoms: int, length: float, d_min: float, seed: int | None = 0,
                     max_attempts: int | None = None) -> np.ndarray:
    """``n_atoms`` random points in a cubic box of side ``length``, no two closer than ``d_min`` (periodic)."""
    rng = np.random.default_rng(seed)
    nb = max(3, int(length / d_min))
    if length / nb < d_min:
        nb = max(1, int(length / d_min))
    if nb < 3:
        raise ParameterError(f"the box ({length:.3g}) is too small for random insertion with d_min={d_min}.",
                             fix="use more atoms.")
    head = -np.ones(nb ** 3, dtype=np.int64)
    nxt = -np.ones(n_atoms, dtype=np.int64)
    pos = np.zeros((n_atoms, 3))
    n_have = 0
    max_attempts = max_attempts or 2000 * n_atoms
    tried = 0
    while n_have < n_atoms and tried < max_attempts:
        batch = rng.random((max(4 * (n_atoms - n_have), 1024), 3))
        tried += len(batch)
        n_have = _rsa(batch, n_atoms, float(length), float(d_min), nb, head, nxt, pos, n_have)
    if n_have < n_atoms:
        raise ParameterError(f"could place only {n_have} of {n_atoms} atoms with minimum distance {d_min}.",
                             fix="lower the density or d_min.")
    return pos


def kob_andersen(n_atoms: int = 500, temperature: float = 1.0, density: float = 1.2, seed: int | None = 0,
                 dt: float = 0.005, equilibrate_steps: int = 2000, minimise: bool = True,
                 thermostat: str = "langevin", damping: float | None = None, fraction_a: float = 0.8,
                 rc_sigma: float = 2.5, skin: float = 0.3, progress: bool = False) -> Simulation:
    """A ready Kob-Andersen simulation at ``temperature`` (epsilon/k_B) and number ``density`` (sigma^-3).

    Random non-overlapping start (random sequential addition, d_min = 0.75 sigma; the first 80 % of the atoms
    are A), FIRE minimisation, Maxwell-Boltzmann velocities (seeded), ``equilibrate_steps`` of thermostatted MD
    at ``temperature`` with time step ``dt`` (tau). Deep supercooled states need far longer equilibration
    (~ 10^5 - 10^7 tau below T = 0.5) than the default: pass ``equilibrate_steps`` or use
    :func:`kob_andersen_trajectory`.
    """
    n_atoms = int(n_atoms)
    if n_atoms < 10:
        raise ParameterError(f"n_atoms must be at least 10, got {n_atoms}.", fix="use n_atoms >= 10.")
    if not (0.0 < fraction_a <= 1.0):
        raise ParameterError(f"fraction_a must be in (0, 1], got {fraction_a}.",
                             fix="use 0 < fraction_a <= 1 (0.8 is the Kob-Andersen mixture).")
    if not np.isfinite(density) or density <= 0:
        raise ParameterError(f"density must be positive, got {density}.",
                             fix="give density > 0 (LJ units; 1.2 is the usual value).")
    length = (n_atoms / density) ** (1.0 / 3.0)
    n_a = int(round(fraction_a * n_atoms))
    species = np.array(["A"] * n_a + ["B"] * (n_atoms - n_a))
    d_min = min(0.75, 0.8 * density ** (-1.0 / 3.0))
    pos = random_positions(n_atoms, length, d_min, seed=seed)
    ff = kob_andersen_forcefield(rc_sigma=rc_sigma, skin=skin)
    kwargs = {"rc_sigma": rc_sigma, "skin": skin, "density": density, "n_atoms": n_atoms,
              "fraction_a": fraction_a}
    sim = Simulation(pos, np.eye(3) * length, species, ff, units="lj", seed=seed, system="kob_andersen",
                     system_kwargs=kwargs)
    if minimise:
        from ..protocols import minimise as _minimise

        _minimise(sim, fmax=1e-2, max_steps=2000)
    sim.set_velocities(temperature)
    if equilibrate_steps:
        from ..protocols import make_thermostat

        if thermostat == "langevin" and damping is None:
            damping = 1.0  # tau; strong enough to thermalise the minimised start quickly
        sim.run(int(equilibrate_steps), make_thermostat(thermostat, temperature, dt, damping), progress=progress,
                phase="equilibrate")
    sim.step = 0
    sim.time = 0.0
    return sim


def kob_andersen_trajectory(path, n_atoms: int = 500, temperature: float = 0.6, steps: int = 10000,
                            dump_every: int = 100, dt: float = 0.005, equilibrate_steps: int = 20000,
                            seed: int | None = 0, thermostat: str = "nose-hoover", velocities: bool = False,
                            progress: bool = True, **kwargs):
    """Make a supercooled-liquid trajectory file: equilibrate at ``temperature``, then NVT and dump.

    Returns the path of the netCDF trajectory (read it with ``xarray.open_dataset`` or ``ssefeat.io``).
    """
    from ..protocols import Production, make_thermostat, run_protocol
    from ..writer import TrajectoryWriter

    sim = kob_andersen(n_atoms=n_atoms, temperature=temperature, seed=seed, dt=dt,
                       equilibrate_steps=equilibrate_steps, progress=progress, **kwargs)
    integ = make_thermostat(thermostat, temperature, dt)
    with TrajectoryWriter(path, sim, velocities=velocities,
                          attrs={"system": "kob_andersen", "temperature": temperature}) as w:
        run_protocol(sim, [Production(integ, steps, dump_every=dump_every)], writer=w, progress=progress)
    return path


def _build(temperature=None, seed=0, n_atoms=None, dt=None, equilibrate_steps=None, progress=False, **kw):
    args = {"temperature": 1.0 if temperature is None else temperature, "seed": seed,
            "n_atoms": 500 if n_atoms is None else n_atoms, "progress": progress}
    if dt is not None:
        args["dt"] = dt
    if equilibrate_steps is not None:
        args["equilibrate_steps"] = equilibrate_steps
    args.update(kw)
    return kob_andersen(**args)


register_system(SystemSpec(name="kob_andersen", build=_build, forcefield=kob_andersen_forcefield, units="lj",
                           species=("A", "B"), equilibrate="equilibrate_steps",
                           default_dt=0.005, default_temperature=1.0, default_n_atoms=500,
                           description="Kob-Andersen 80:20 binary LJ glass former, reduced LJ units, rho = 1.2"))
