"""Chainable simulation protocols: minimise (FIRE), equilibrate, temperature ramps (melt / quench), production runs.

>>> from ssefeat.md import protocols as P                                              # doctest: +SKIP
>>> P.run_protocol(sim, [P.Minimise(), P.Equilibrate(2.0, 2000, dt=0.005),
...                      P.Ramp(2.0, 0.45, 10000, dt=0.005), P.Production(NoseHooverChain(0.45, 0.005), 20000,
...                      dump_every=100)], writer=writer)

Each step is a small object with ``apply(sim, writer=None, progress=True) -> dict`` (a summary: what ran, final
thermo); :func:`run_protocol` applies a list in order and returns the summaries, which are also what the
trajectory attrs record.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, SimulationError
from .integrators import NVE, Langevin, NoseHooverChain

__all__ = ["minimise", "Minimise", "Equilibrate", "Ramp", "Production", "run_protocol", "make_thermostat"]


def minimise(sim, fmax: float | None = None, max_steps: int = 5000, dt: float | None = None,
             max_move: float | None = None, progress: bool = False) -> dict:
    """FIRE energy minimisation (Bitzek et al., PRL 97, 170201 (2006)) of the positions at fixed cell.

    Parameters
    ----------
    fmax : float, converge when the largest force component norm is below this (default 1e-3 eps/sigma or
        1e-3 eV/Å)
    max_steps : int
    dt : float, initial FIRE time step in user time units (default 0.002 tau or 1 fs); dt_max = 10 dt
    max_move : float, largest displacement per step (default 0.1 length units)

    Velocities are set to zero. Returns {"steps", "energy", "fmax", "converged"}.
    """
    fmax = 1e-3 if fmax is None else float(fmax)
    dt = (0.002 if sim.units.name == "lj" else 0.001) if dt is None else float(dt)
    max_move = 0.1 if max_move is None else float(max_move)
    h = dt / sim.units.time_unit
    h_max = 10.0 * h
    alpha0, alpha, f_alpha, f_inc, f_dec, n_min = 0.1, 0.1, 0.99, 1.1, 0.5, 5
    invm = 1.0 / sim.masses[:, None]
    v = np.zeros_like(sim.positions)
    n_pos = 0
    sim.compute_forces()
    steps = 0
    fnow = float(np.sqrt((sim.forces ** 2).sum(1)).max())
    while fnow > fmax and steps < max_steps:
        f = sim.forces
        power = float(np.sum(f * v))
        if power > 0:
            n_pos += 1
            if n_pos > n_min:
                h = min(h * f_inc, h_max)
                alpha *= f_alpha
        else:
            n_pos = 0
            h *= f_dec
            alpha = alpha0
            v[:] = 0.0
        v += h * f * invm
        vnorm = math.sqrt(float(np.sum(v * v)))
        fnorm = math.sqrt(float(np.sum(f * f)))
        if fnorm > 0:
            v = (1.0 - alpha) * v + alpha * vnorm * f / fnorm
        dx = h * v
        longest = float(np.sqrt((dx ** 2).sum(1)).max())
        if longest > max_move:
            dx *= max_move / longest
        sim.positions += dx
        sim.compute_forces()
        if not np.isfinite(sim.energy_per_atom).all():
            raise SimulationError("the minimisation produced non-finite energies.",
                                  fix="check for atoms on top of each other and the force-field parameters.")
        fnow = float(np.sqrt((sim.forces ** 2).sum(1)).max())
        steps += 1
    sim.velocities[:] = 0.0
    return {"protocol": "minimise", "method": "FIRE", "steps": steps, "energy": sim.potential_energy,
            "fmax": fnow, "converged": bool(fnow <= fmax)}


def make_thermostat(kind: str, temperature: float, dt: float, damping: float | None = None,
                    temperature_end: float | None = None):
    """``"langevin"`` or ``"nose-hoover"`` (alias ``"nvt"``) integrator; ``"nve"`` ignores the temperature."""
    kind = kind.lower()
    if kind == "langevin":
        return Langevin(temperature, dt, damping=damping, temperature_end=temperature_end)
    if kind in ("nose-hoover", "nosehoover", "nvt", "nhc"):
        return NoseHooverChain(temperature, dt, damping=damping, temperature_end=temperature_end)
    if kind == "nve":
        return NVE(dt)
    raise ParameterError(f"unknown thermostat {kind!r}.", fix="use 'langevin', 'nose-hoover' or 'nve'.")


@dataclass
class Minimise:
    """FIRE minimisation step (see :func:`minimise`)."""

    fmax: float | None = None
    max_steps: int = 5000

    def apply(self, sim, writer=None, progress: bool = True) -> dict:
        return minimise(sim, fmax=self.fmax, max_steps=self.max_steps)


@dataclass
class Equilibrate:
    """Thermostatted run at ``temperature`` without dumping; velocities drawn first when the system is cold
    (below half the target) or ``reset_velocities``."""

    temperature: float
    steps: int
    dt: float
    thermostat: str = "langevin"
    damping: float | None = None
    reset_velocities: bool = False

    def apply(self, sim, writer=None, progress: bool = True) -> dict:
        if self.reset_velocities or sim.temperature < 0.5 * self.temperature:
            sim.set_velocities(self.temperature)
        integ = make_thermostat(self.thermostat, self.temperature, self.dt, self.damping)
        sim.run(self.steps, integ, progress=progress, phase="equilibrate")
        return {"protocol": "equilibrate", **integ.parameters(), "steps": self.steps, **_thermo(sim)}


@dataclass
class Ramp:
    """Linear temperature ramp (melt or quench) from ``t_start`` to ``t_end`` over ``steps`` (rate =
    (t_end - t_start) / (steps dt)); optionally dumps frames."""

    t_start: float
    t_end: float
    steps: int
    dt: float
    thermostat: str = "langevin"
    damping: float | None = None
    dump_every: int = 0

    def apply(self, sim, writer=None, progress: bool = True) -> dict:
        integ = make_thermostat(self.thermostat, self.t_start, self.dt, self.damping, temperature_end=self.t_end)
        sim.run(self.steps, integ, dump_every=self.dump_every if writer is not None else 0, writer=writer,
                progress=progress, phase="melt" if self.t_end > self.t_start else "quench")
        rate = (self.t_end - self.t_start) / (self.steps * self.dt) if self.steps else 0.0
        return {"protocol": "ramp", **integ.parameters(), "steps": self.steps, "rate": rate, **_thermo(sim)}


@dataclass
class Production:
    """A run with a given integrator, dumping every ``dump_every`` steps to the writer."""

    integrator: object
    steps: int
    dump_every: int = 0
    write_first: bool = True

    def apply(self, sim, writer=None, progress: bool = True) -> dict:
        if writer is not None and self.write_first and self.dump_every and writer.last_time != sim.time:
            writer.write(sim)
        sim.run(self.steps, self.integrator, dump_every=self.dump_every if writer is not None else 0,
                writer=writer, progress=progress, phase="production")
        return {"protocol": "production", **self.integrator.parameters(), "steps": self.steps,
                "dump_every": self.dump_every, **_thermo(sim)}


def _thermo(sim) -> dict:
    t = sim.thermo()
    return {"final_temperature": t["temperature"], "final_potential_energy_per_atom": t["potential_energy"] /
            sim.n_atoms, "final_pressure": t["pressure"], "final_step": t["step"]}


def run_protocol(sim, steps: list, writer=None, progress: bool = True) -> list[dict]:
    """Apply protocol steps in order; returns their summaries (also added to ``writer``'s attrs if given)."""
    out = []
    for s in steps:
        if not hasattr(s, "apply"):
            raise ParameterError(f"{s!r} is not a protocol step.", fix="use Minimise, Equilibrate, Ramp, Production.")
        out.append(s.apply(sim, writer=writer, progress=progress))
    if writer is not None and hasattr(writer, "add_history"):
        writer.add_history(out)
    return out
