"""Integrators at constant cell: NVE velocity Verlet, NVT Langevin (BAOAB), NVT Nose-Hoover chain (NPT and uniaxial
tension, which change the cell, are in :mod:`ssefeat.md.cell_integrators`).

Every integrator takes ``dt`` in the user time unit of the run (ps for ``units="metal"``, tau for ``"lj"``) and
temperatures in K (metal) or epsilon/k_B (lj), and implements

- ``setup(sim, steps)`` at the start of each ``Simulation.run``,
- ``step(sim, k)`` one time step (forces in ``sim`` are up to date before and after),
- ``conserved(sim)`` the quantity that the integrator conserves (NVE: total energy; thermostats: total energy plus
  the energy the thermostat took out; used for drift measurements and blow-up detection),
- ``state()`` / ``load_state(d)`` for restarts (thermostat variables), as JSON-able dicts.

Methods
-------
- :class:`NVE`: velocity Verlet.
- :class:`Langevin`: BAOAB splitting (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34), friction
  ``1/damping``; exact Ornstein-Uhlenbeck step, so configurational sampling is accurate to O(dt^2). The total momentum
  is removed after each O step by default (``zero_momentum=True``, as LAMMPS ``fix langevin ... zero yes``).
- :class:`NoseHooverChain`: Martyna-Tuckerman-Klein chain (MTK 1996; chain length 3, Suzuki-Yoshida order 3 with one
  sub-step), half thermostat steps around velocity Verlet (the same scheme as LAMMPS ``fix nvt``), ``damping`` is
  the thermostat period (LAMMPS ``Tdamp``): Q_1 = N_f k_B T damping^2, Q_k = k_B T damping^2.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import ParameterError

__all__ = ["NVE", "Langevin", "NoseHooverChain"]


# ------------------------------------------------------------------------------------------------ kernels
@njit(cache=True)
def _kick(v, f, invm, h):
    n = v.shape[0]
    for i in range(n):
        c = h * invm[i]
        v[i, 0] += c * f[i, 0]
        v[i, 1] += c * f[i, 1]
        v[i, 2] += c * f[i, 2]


@njit(cache=True)
def _drift(x, v, h):
    n = x.shape[0]
    for i in range(n):
        x[i, 0] += h * v[i, 0]
        x[i, 1] += h * v[i, 1]
        x[i, 2] += h * v[i, 2]


@njit(cache=True)
def _kick_drift(x, v, f, invm, half, dt):
    n = x.shape[0]
    for i in range(n):
        c = half * invm[i]
        for a in range(3):
            v[i, a] += c * f[i, a]
            x[i, a] += dt * v[i, a]


@njit(cache=True)
def _kinetic2(v, m):
    s = 0.0
    for i in range(v.shape[0]):
        s += m[i] * (v[i, 0] * v[i, 0] + v[i, 1] * v[i, 1] + v[i, 2] * v[i, 2])
    return s


@njit(cache=True)
def _ou(v, m, c1, kT, noise):
    """v <- c1 v + sqrt((1 - c1^2) kT / m) R; returns the change of 2*KE."""
    n = v.shape[0]
    c2 = math.sqrt(max(1.0 - c1 * c1, 0.0))
    d2 = 0.0
    for i in range(n):
        s = c2 * math.sqrt(kT / m[i])
        for a in range(3):
            old = v[i, a]
            new = c1 * old + s * noise[i, a]
            v[i, a] = new
            d2 += m[i] * (new * new - old * old)
    return d2


def _check_dt(dt):
    if not np.isfinite(dt) or dt <= 0:
        raise ParameterError(f"the time step must be positive, got dt={dt}.",
                             fix="give dt > 0 (ps in metal units), e.g. dt=0.001.")
    return float(dt)


def _check_damping(damping, dt):
    """The thermostat damping time (time units), default 100 dt."""
    value = 100.0 * dt if damping is None else float(damping)
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"damping must be a positive time, got {damping}.",
                             fix="give damping > 0 (ps), or damping=None for 100 * dt.")
    return value


def _check_temperature(t, what="temperature"):
    if t is None or not np.isfinite(t) or t < 0:
        raise ParameterError(f"{what} must be a non-negative number, got {t}.",
                             fix=f"give {what} as a finite number >= 0 (K in metal units).")
    return float(t)


# ------------------------------------------------------------------------------------------------ NVE
class NVE:
    """Velocity Verlet (microcanonical). ``dt`` in ps (metal) or tau (lj)."""

    name = "nve"

    def __init__(self, dt: float):
        self.dt = _check_dt(dt)
        self.max_temperature = 0.0

    def setup(self, sim, steps: int) -> None:
        self._h = self.dt / sim.units.time_unit
        self._invm = 1.0 / sim.masses

    def step(self, sim, k: int) -> None:
        h = self._h
        _kick_drift(sim.positions, sim.velocities, sim.forces, self._invm, 0.5 * h, h)
        sim.compute_forces()
        _kick(sim.velocities, sim.forces, self._invm, 0.5 * h)

    def conserved(self, sim) -> float:
        return sim.total_energy

    def state(self) -> dict:
        return {"name": self.name, "dt": self.dt}

    def load_state(self, d: dict) -> None:
        pass

    def parameters(self) -> dict:
        return {"integrator": self.name, "dt": self.dt}


# ------------------------------------------------------------------------------------------------ Langevin
class Langevin(NVE):
    """NVT Langevin dynamics, BAOAB splitting.

    Parameters
    ----------
    temperature : float, K (metal) or epsilon/k_B (lj)
    dt : float, time step
    damping : float, 1/friction in time units (LAMMPS ``damp``); default 100 dt
    temperature_end : float, optional; ramp the target linearly from ``temperature`` to this over each run
    zero_momentum : bool, remove the total momentum the noise adds (default True)
    """

    name = "langevin"

    def __init__(self, temperature: float, dt: float, damping: float | None = None,
                 temperature_end: float | None = None, zero_momentum: bool = True):
        super().__init__(dt)
        self.temperature = _check_temperature(temperature)
        self.temperature_end = None if temperature_end is None else _check_temperature(temperature_end,
                                                                                       "temperature_end")
        self.damping = _check_damping(damping, self.dt)
        self.zero_momentum = bool(zero_momentum)
        self.heat = 0.0  # energy taken out of the system by the thermostat
        self.max_temperature = max(self.temperature, self.temperature_end or 0.0)

    def setup(self, sim, steps: int) -> None:
        super().setup(sim, steps)
        self._steps = max(int(steps), 1)
        self._c1 = math.exp(-self._h / (self.damping / sim.units.time_unit))

    def target(self, k: int) -> float:
        if self.temperature_end is None:
            return self.temperature
        return self.temperature + (self.temperature_end - self.temperature) * (k + 1) / self._steps

    def _o_step(self, sim, k):
        kT = sim.units.kB * self.target(k)
        noise = sim.rng.standard_normal(sim.velocities.shape)
        if self.zero_momentum:
            ke0 = _kinetic2(sim.velocities, sim.masses)
            _ou(sim.velocities, sim.masses, self._c1, kT, noise)
            sim.zero_momentum()
            self.heat -= 0.5 * (_kinetic2(sim.velocities, sim.masses) - ke0)
        else:
            self.heat -= 0.5 * _ou(sim.velocities, sim.masses, self._c1, kT, noise)

    def _middle(self, sim, k):
        """Hook between the O step and the second half drift (barostats, deformation)."""

    def step(self, sim, k: int) -> None:
        h = self._h
        _kick_drift(sim.positions, sim.velocities, sim.forces, self._invm, 0.5 * h, 0.5 * h)
        self._o_step(sim, k)
        self._middle(sim, k)
        _drift(sim.positions, sim.velocities, 0.5 * h)
        sim.compute_forces()
        _kick(sim.velocities, sim.forces, self._invm, 0.5 * h)

    def conserved(self, sim) -> float:
        return sim.total_energy + self.heat

    def state(self) -> dict:
        return {"name": self.name, "heat": self.heat}

    def load_state(self, d: dict) -> None:
        self.heat = float(d.get("heat", 0.0))

    def parameters(self) -> dict:
        return {"integrator": self.name, "dt": self.dt, "temperature": self.temperature,
                "temperature_end": self.temperature_end, "damping": self.damping,
                "zero_momentum": self.zero_momentum, "scheme": "BAOAB"}


# ------------------------------------------------------------------------------------------------ Nose-Hoover
_SY3 = (1.0 / (2.0 - 2.0 ** (1.0 / 3.0)), 1.0 - 2.0 / (2.0 - 2.0 ** (1.0 / 3.0)), 1.0 / (2.0 - 2.0 ** (1.0 / 3.0)))


class NoseHooverChain(NVE):
    """NVT Nose-Hoover chain (MTK), velocity Verlet with half thermostat steps before and after.

    Parameters
    ----------
    temperature : float; dt : float
    damping : float, thermostat period (time units), default 100 dt (LAMMPS recommends ~100 dt)
    chain : int, chain length (default 3)
    temperature_end : float, optional, linear ramp over each run
    """

    name = "nose-hoover"

    def __init__(self, temperature: float, dt: float, damping: float | None = None, chain: int = 3,
                 temperature_end: float | None = None):
        super().__init__(dt)
        self.temperature = _check_temperature(temperature)
        if self.temperature <= 0:
            raise ParameterError("Nose-Hoover needs a positive temperature.", fix="use Langevin for T = 0 quenches "
                                                                                 "or minimise.")
        self.temperature_end = None if temperature_end is None else _check_temperature(temperature_end)
        self.damping = _check_damping(damping, self.dt)
        if int(chain) < 1:
            raise ParameterError(f"chain length must be >= 1, got {chain}.",
                                 fix="use chain >= 1 thermostats (3 is usual).")
        self.chain = int(chain)
        self.xi = np.zeros(self.chain)
        self.vxi = np.zeros(self.chain)
        self.max_temperature = max(self.temperature, self.temperature_end or 0.0)
        self._kT = None

    def setup(self, sim, steps: int) -> None:
        super().setup(sim, steps)
        self._steps = max(int(steps), 1)
        self._nf = sim.degrees_of_freedom
        self._set_masses(sim, self.temperature if self.temperature_end is None else self.target(0))

    target = Langevin.target  # the same linear ramp over each run

    def _set_masses(self, sim, t):
        self._kT = sim.units.kB * t
        tau = self.damping / sim.units.time_unit
        self._Q = np.full(self.chain, self._kT * tau * tau)
        self._Q[0] *= self._nf

    def _half(self, sim):
        M = self.chain
        Q, vxi, xi = self._Q, self.vxi, self.xi
        kT, nf = self._kT, self._nf
        ke2 = _kinetic2(sim.velocities, sim.masses)
        scale = 1.0
        half = 0.5 * self._h
        for w in _SY3:
            d = w * half
            # backward sweep
            g = (Q[M - 2] * vxi[M - 2] ** 2 - kT) / Q[M - 1] if M > 1 else (ke2 - nf * kT) / Q[0]
            vxi[M - 1] += 0.5 * d * g
            for j in range(M - 2, -1, -1):
                e = math.exp(-0.25 * d * vxi[j + 1])
                vxi[j] *= e
                g = (ke2 - nf * kT) / Q[0] if j == 0 else (Q[j - 1] * vxi[j - 1] ** 2 - kT) / Q[j]
                vxi[j] = (vxi[j] + 0.5 * d * g) * e
            s = math.exp(-d * vxi[0])
            scale *= s
            ke2 *= s * s
            xi += d * vxi
            # forward sweep
            for j in range(M - 1):
                e = math.exp(-0.25 * d * vxi[j + 1])
                vxi[j] *= e
                g = (ke2 - nf * kT) / Q[0] if j == 0 else (Q[j - 1] * vxi[j - 1] ** 2 - kT) / Q[j]
                vxi[j] = (vxi[j] + 0.5 * d * g) * e
            if M > 1:
                g = (Q[M - 2] * vxi[M - 2] ** 2 - kT) / Q[M - 1]
                vxi[M - 1] += 0.5 * d * g
        sim.velocities *= scale

    def step(self, sim, k: int) -> None:
        if self.temperature_end is not None:
            self._set_masses(sim, self.target(k))
        self._half(sim)
        super().step(sim, k)
        self._half(sim)

    def thermostat_energy(self) -> float:
        if self._kT is None:
            return 0.0
        e = 0.5 * float(np.sum(self._Q * self.vxi ** 2))
        e += self._nf * self._kT * self.xi[0] + self._kT * float(self.xi[1:].sum())
        return e

    def conserved(self, sim) -> float:
        return sim.total_energy + self.thermostat_energy()

    def state(self) -> dict:
        return {"name": self.name, "xi": self.xi.tolist(), "vxi": self.vxi.tolist()}

    def load_state(self, d: dict) -> None:
        if len(d.get("xi", [])) == self.chain:
            self.xi = np.array(d["xi"], dtype=float)
            self.vxi = np.array(d["vxi"], dtype=float)

    def parameters(self) -> dict:
        return {"integrator": self.name, "dt": self.dt, "temperature": self.temperature,
                "temperature_end": self.temperature_end, "damping": self.damping, "chain": self.chain,
                "scheme": "MTK Nose-Hoover chain, Suzuki-Yoshida 3"}
