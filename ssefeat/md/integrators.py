"""Integrators: NVE velocity Verlet, NVT Langevin (BAOAB), NVT Nose-Hoover chain, NPT (Langevin + stochastic cell
rescaling) and uniaxial tensile deformation at a constant strain rate.

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
- :class:`NPT`: BAOAB Langevin thermostat + isotropic *stochastic cell rescaling* barostat (Bernetti & Bussi,
  J. Chem. Phys. 153, 114107 (2020)): with eps = ln V,
  ``d eps = -(beta_T / tau_p) (P0 - P_int - k_B T / V) dt + sqrt(2 k_B T beta_T / (V tau_p)) dW``, positions and the
  cell scaled by exp(d eps / 3), velocities by exp(-d eps / 3). It samples the isothermal-isobaric ensemble, with
  first-order relaxation of the volume (no oscillations). The rescaling is applied between the two half drifts
  of BAOAB, with the virial of the start of the step.
- :class:`UniaxialTension`: Langevin NVT while the cell is stretched along one Cartesian axis at a constant
  engineering strain rate (L(t) = L0 (1 + rate t), positions remapped affinely, like LAMMPS ``fix deform erate
  remap x``); lateral axes fixed or relaxed to zero stress (Berendsen weak coupling). Records the stress-strain
  curve (stress = -P, tensile positive) every ``record_every`` steps: :meth:`UniaxialTension.stress_strain`.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import ParameterError

__all__ = ["NVE", "Langevin", "NoseHooverChain", "NPT", "UniaxialTension"]


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
        raise ParameterError(f"the time step must be positive, got dt={dt}.")
    return float(dt)


def _check_temperature(t, what="temperature"):
    if t is None or not np.isfinite(t) or t < 0:
        raise ParameterError(f"{what} must be a non-negative number, got {t}.")
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
        self.damping = 100.0 * self.dt if damping is None else float(damping)
        if not np.isfinite(self.damping) or self.damping <= 0:
            raise ParameterError(f"damping must be a positive time, got {damping}.")
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
        self.damping = 100.0 * self.dt if damping is None else float(damping)
        if not np.isfinite(self.damping) or self.damping <= 0:
            raise ParameterError(f"damping must be a positive time, got {damping}.")
        if int(chain) < 1:
            raise ParameterError(f"chain length must be >= 1, got {chain}.")
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

    def target(self, k: int) -> float:
        if self.temperature_end is None:
            return self.temperature
        return self.temperature + (self.temperature_end - self.temperature) * (k + 1) / self._steps

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


# ------------------------------------------------------------------------------------------------ NPT
class NPT(Langevin):
    """NPT: BAOAB Langevin thermostat + isotropic stochastic cell rescaling (Bernetti & Bussi 2020).

    Parameters
    ----------
    temperature, dt, damping : as :class:`Langevin`
    pressure : float, target P0 (eV/Å^3 for metal, epsilon/sigma^3 for lj)
    tau_p : float, barostat relaxation time (time units), default 1000 dt
    compressibility : float, beta_T used by the barostat (1/pressure units). It sets how fast the volume
        relaxes (relaxation time ~ tau_p * beta_true / beta_T), not the sampled distribution. Default 0.05 (lj,
        about that of a dense LJ liquid) or 0.01 Å^3/eV (metal, ~ 1/(16 GPa)).
    """

    name = "npt-crescale"
    needs_virial = True  # the barostat reads the pressure every step

    def __init__(self, temperature: float, pressure: float, dt: float, damping: float | None = None,
                 tau_p: float | None = None, compressibility: float | None = None,
                 temperature_end: float | None = None):
        super().__init__(temperature, dt, damping=damping, temperature_end=temperature_end)
        if not np.isfinite(pressure):
            raise ParameterError(f"pressure must be finite, got {pressure}.")
        self.pressure = float(pressure)
        self.tau_p = 1000.0 * self.dt if tau_p is None else float(tau_p)
        if not np.isfinite(self.tau_p) or self.tau_p <= 0:
            raise ParameterError(f"tau_p must be a positive time, got {tau_p}.")
        self.compressibility = compressibility
        self.work = 0.0

    def setup(self, sim, steps: int) -> None:
        super().setup(sim, steps)
        if self.compressibility is None:
            self._beta = 0.05 if sim.units.name == "lj" else 0.01
        else:
            self._beta = float(self.compressibility)
            if not np.isfinite(self._beta) or self._beta <= 0:
                raise ParameterError(f"compressibility must be positive, got {self.compressibility}.")

    def _middle(self, sim, k):
        kT = sim.units.kB * self.target(k)
        vol = sim.volume
        p_int = sim.pressure
        tau = self.tau_p / sim.units.time_unit
        deps = (-(self._beta / tau) * (self.pressure - p_int - kT / vol) * self._h
                + math.sqrt(2.0 * kT * self._beta * self._h / (vol * tau)) * sim.rng.standard_normal())
        mu = math.exp(deps / 3.0)
        ke0 = sim.kinetic_energy
        sim.positions *= mu
        sim.cell *= mu
        sim.velocities /= mu
        # energy bookkeeping (first order): PE changes by -tr(W) deps/3, KE by the velocity scaling
        self.work += -float(np.trace(sim.virial)) * deps / 3.0 + (sim.kinetic_energy - ke0)

    def conserved(self, sim) -> float:
        # energy put in by the thermostat and the barostat removed: constant up to integration error
        return sim.total_energy + self.heat - self.work

    def state(self) -> dict:
        return {"name": self.name, "heat": self.heat, "work": self.work}

    def load_state(self, d: dict) -> None:
        super().load_state(d)
        self.work = float(d.get("work", 0.0))

    def parameters(self) -> dict:
        p = super().parameters()
        p.update({"integrator": self.name, "pressure": self.pressure, "tau_p": self.tau_p,
                  "compressibility": self.compressibility, "barostat": "stochastic cell rescaling, isotropic"})
        return p


# ------------------------------------------------------------------------------------------------ tensile
_AXES = {"x": 0, "y": 1, "z": 2, 0: 0, 1: 1, 2: 2}


class UniaxialTension(Langevin):
    """Uniaxial tensile deformation at a constant engineering strain rate, Langevin thermostatted.

    Parameters
    ----------
    strain_rate : float, 1/time units (1/ps or 1/tau); L(t) = L0 (1 + rate t); negative = compression
    temperature, dt, damping : as :class:`Langevin`
    axis : "x", "y" or "z" (Cartesian axis stretched; the cell's components along it are scaled)
    lateral : "fixed" (constant cross-section) or "relaxed" (the two other axes relax to zero stress with
        Berendsen weak coupling, time constant ``tau_p`` and ``compressibility``)
    record_every : int, steps between stress-strain points
    """

    name = "tensile"
    needs_virial = True  # lateral barostat, work bookkeeping and the recorded stress

    def __init__(self, strain_rate: float, temperature: float, dt: float, axis="x", damping: float | None = None,
                 lateral: str = "fixed", tau_p: float | None = None, compressibility: float | None = None,
                 record_every: int = 10):
        super().__init__(temperature, dt, damping=damping)
        if not np.isfinite(strain_rate):
            raise ParameterError(f"strain_rate must be finite, got {strain_rate}.")
        if axis not in _AXES:
            raise ParameterError(f"axis must be 'x', 'y' or 'z', got {axis!r}.")
        if lateral not in ("fixed", "relaxed"):
            raise ParameterError(f"lateral must be 'fixed' or 'relaxed', got {lateral!r}.")
        self.strain_rate = float(strain_rate)
        self.axis = _AXES[axis]
        self.lateral = lateral
        self.tau_p = 1000.0 * self.dt if tau_p is None else float(tau_p)
        self.compressibility = compressibility
        self.record_every = max(1, int(record_every))
        self.work = 0.0
        self.curve: list[tuple] = []
        self._l0 = None
        self._t0 = None

    def setup(self, sim, steps: int) -> None:
        super().setup(sim, steps)
        if self._l0 is None:  # the reference length is kept across runs: strain is cumulative
            self._l0 = float(np.abs(sim.cell[:, self.axis]).max())
            self._cell0 = sim.cell.copy()
            self._t0 = sim.time
            self._record(sim)
        self._beta = (0.05 if sim.units.name == "lj" else 0.01) if self.compressibility is None \
            else float(self.compressibility)

    def strain(self, sim) -> float:
        return self.strain_rate * (sim.time - self._t0)

    def _middle(self, sim, k):
        # sim.time is the start of this step; stretch from L(t) to L(t + dt)
        e0 = self.strain_rate * (sim.time - self._t0)
        e1 = self.strain_rate * (sim.time + self.dt - self._t0)
        lam = (1.0 + e1) / (1.0 + e0)
        if lam <= 0:
            from ..errors import SimulationError

            raise SimulationError("the compressive strain reached -100 %.", fix="use a smaller |strain_rate| or "
                                                                                "fewer steps.")
        scale = np.ones(3)
        scale[self.axis] = lam
        if self.lateral == "relaxed":
            p = sim.pressure_tensor
            tau = self.tau_p / sim.units.time_unit
            for b in range(3):
                if b != self.axis:
                    scale[b] = 1.0 + self._beta * self._h / (3.0 * tau) * p[b, b]
        sim.positions *= scale
        sim.cell *= scale
        # first-order work done on the system by the deformation: dPE = -sum_b W_bb ln(scale_b)
        self.work += -float(np.sum(np.diag(sim.virial) * np.log(scale)))

    def step(self, sim, k: int) -> None:
        super().step(sim, k)
        if (k + 1) % self.record_every == 0:
            # the step counter / time are advanced by the Simulation after step(); record the end-of-step state
            self._record(sim, dt_ahead=self.dt)

    def _record(self, sim, dt_ahead: float = 0.0):
        p = sim.pressure_tensor
        strain = self.strain_rate * (sim.time + dt_ahead - self._t0)
        self.curve.append((sim.step + (1 if dt_ahead else 0), sim.time + dt_ahead, strain, -p[0, 0], -p[1, 1],
                           -p[2, 2], -p[1, 2], -p[0, 2], -p[0, 1], sim.temperature, sim.potential_energy,
                           sim.volume))

    def conserved(self, sim) -> float:
        return sim.total_energy + self.heat - self.work

    def stress_strain(self, units=None):
        """The recorded curve as an xarray Dataset over dim ``point``: strain, stress_xx..xy (= -P, tensile
        positive), temperature, potential_energy, volume, time, step."""
        import xarray as xr

        arr = np.array(self.curve, dtype=np.float64).reshape(-1, 12)
        names = ["step", "time", "strain", "stress_xx", "stress_yy", "stress_zz", "stress_yz", "stress_xz",
                 "stress_xy", "temperature", "potential_energy", "volume"]
        ds = xr.Dataset({n: ("point", arr[:, k]) for k, n in enumerate(names)})
        ds["step"] = ds["step"].astype(np.int64)
        ds.attrs.update({"axis": "xyz"[self.axis], "strain_rate": self.strain_rate, "lateral": self.lateral,
                         "strain": "engineering strain (L - L0) / L0 along the axis",
                         "stress": "stress = -pressure tensor (virial + kinetic), tensile positive"})
        if units is not None:
            ds.attrs["units"] = units.describe()
            ds["stress_xx"].attrs["units"] = units.pressure
        return ds

    def state(self) -> dict:
        return {"name": self.name, "heat": self.heat, "work": self.work, "l0": self._l0, "t0": self._t0}

    def load_state(self, d: dict) -> None:
        super().load_state(d)
        self.work = float(d.get("work", 0.0))
        if d.get("t0") is not None:
            self._t0 = float(d["t0"])
            self._l0 = d.get("l0")

    def parameters(self) -> dict:
        p = super().parameters()
        p.update({"integrator": self.name, "strain_rate": self.strain_rate, "axis": "xyz"[self.axis],
                  "lateral": self.lateral, "record_every": self.record_every})
        return p
