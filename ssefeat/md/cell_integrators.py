"""Integrators that change the cell: NPT (Langevin + stochastic cell rescaling) and uniaxial tensile deformation at a
constant strain rate; they follow the contract of :mod:`ssefeat.md.integrators`.

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

from ..errors import ParameterError
from .integrators import Langevin

__all__ = ["NPT", "UniaxialTension"]


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
            raise ParameterError(f"pressure must be finite, got {pressure}.",
                                 fix="give pressure as a finite number (bar in metal units).")
        self.pressure = float(pressure)
        self.tau_p = 1000.0 * self.dt if tau_p is None else float(tau_p)
        if not np.isfinite(self.tau_p) or self.tau_p <= 0:
            raise ParameterError(f"tau_p must be a positive time, got {tau_p}.",
                                 fix="give tau_p > 0 (ps), or tau_p=None for 1000 * dt.")
        self.compressibility = compressibility
        self.work = 0.0

    def setup(self, sim, steps: int) -> None:
        super().setup(sim, steps)
        if self.compressibility is None:
            self._beta = 0.05 if sim.units.name == "lj" else 0.01
        else:
            self._beta = float(self.compressibility)
            if not np.isfinite(self._beta) or self._beta <= 0:
                raise ParameterError(f"compressibility must be positive, got {self.compressibility}.",
                                     fix="give compressibility > 0 (1/pressure units), or None for the default.")

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
            raise ParameterError(f"strain_rate must be finite, got {strain_rate}.",
                                 fix="give strain_rate as a finite number (1/ps; negative compresses).")
        if axis not in _AXES:
            raise ParameterError(f"axis must be 'x', 'y' or 'z', got {axis!r}.", fix="use axis='x', 'y' or 'z'.")
        if lateral not in ("fixed", "relaxed"):
            raise ParameterError(f"lateral must be 'fixed' or 'relaxed', got {lateral!r}.",
                                 fix="use lateral='fixed' (constant lateral lengths) or 'relaxed' (barostat on them).")
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
