"""The MD state and run loop: :class:`Simulation`.

A Simulation holds positions (never wrapped, so the written trajectory is continuous), velocities, the cell (rows),
masses, species, charges, a :class:`~ssefeat.md.forcefield.ForceField`, a unit system, a random generator (seeded)
and the step counter. ``run(steps, integrator, dump_every, writer)`` advances it with any integrator of
:mod:`ssefeat.md.integrators`, checks for energy blow-up (raising :class:`~ssefeat.errors.SimulationError`
before anything bad is written) and hands frames to a :class:`~ssefeat.md.writer.TrajectoryWriter`.
``save(path)`` / ``Simulation.restore(path)`` write and read the full state as ``.npz`` (no pickle) for restarts.

Unit systems
------------
``"metal"`` (ssefeat default): length Å, energy eV, mass amu, temperature K, k_B = 8.617e-5 eV/K, user-facing time
in ps (internally the natural unit sqrt(amu Å^2/eV) = ``TIME_UNIT_PS`` ps), velocities written in Å/ps, pressure
in eV/Å^3. ``"lj"`` (reduced): length sigma, energy epsilon, mass m, k_B = 1, time tau = sigma sqrt(m/epsilon),
temperature epsilon/k_B, pressure epsilon/sigma^3.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .. import box as _box
from ..errors import MissingFileError, ModelFileError, ParameterError, SimulationError
from ..units import BOLTZMANN_EV, TIME_UNIT_PS
from .forcefield import ForceField
from .neighbors import pair_distances
from .writer import json_default

__all__ = ["Simulation", "UnitSystem", "UNIT_SYSTEMS", "STATE_FORMAT"]

STATE_FORMAT = "ssefeat-md-state-1"


@dataclass(frozen=True)
class UnitSystem:
    """Units of a run. ``time_unit`` is the internal time unit expressed in the user-facing time unit."""

    name: str
    kB: float
    time_unit: float
    length: str
    time: str
    energy: str
    mass: str
    temperature: str
    pressure: str
    default_min_distance: float

    def describe(self) -> str:
        return (f"{self.name}: length={self.length} time={self.time} energy={self.energy} mass={self.mass} "
                f"temperature={self.temperature} pressure={self.pressure}")


UNIT_SYSTEMS = {
    "metal": UnitSystem("metal", BOLTZMANN_EV, TIME_UNIT_PS, "angstrom", "ps", "eV", "amu", "K", "eV/angstrom^3",
                        0.5),
    "lj": UnitSystem("lj", 1.0, 1.0, "sigma", "tau", "epsilon", "m", "epsilon/k_B", "epsilon/sigma^3", 0.3),
}


class Simulation:
    """The state of an MD run and the loop that advances it.

    Parameters
    ----------
    positions : (N, 3) length units
    cell : (3, 3) rows are the cell vectors (triclinic allowed)
    species : (N,) str
    forcefield : ForceField
    masses : (N,), optional; default standard atomic masses ("metal") or 1 ("lj")
    charges : (N,), optional, e
    velocities : (N, 3), optional, length / user time unit (Å/ps or sigma/tau); default zero
    units : "metal" or "lj"; default the force field's
    seed : int, seeds the generator used for velocities, thermostats and barostats
    min_distance : float, optional
        Two atoms closer than this at start are reported as overlapping (SimulationError). Default 0.5 Å or
        0.3 sigma. Pass 0 to switch the check off (e.g. before a minimisation from a rough start).
    system : str, optional; name of the registered system (so a restart can rebuild the force field)
    system_kwargs : dict, optional; the keyword arguments that rebuild the force field of ``system``
    """

    def __init__(self, positions, cell, species, forcefield: ForceField, masses=None, charges=None, velocities=None,
                 units: str | None = None, seed: int | None = 0, min_distance: float | None = None,
                 system: str | None = None, system_kwargs: dict | None = None, time: float = 0.0, step: int = 0):
        pos = np.array(positions, dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 3 or len(pos) == 0:
            raise ParameterError(f"positions must be (N, 3) with N > 0, got shape {pos.shape}.",
                                 fix="pass positions as an (N, 3) array in Å, one row per atom.")
        if not np.isfinite(pos).all():
            raise ParameterError("positions contain NaN or infinite values.",
                                 fix="check the structure (NaN positions often mean a failed earlier run).")
        n = len(pos)
        cell = np.array(cell, dtype=np.float64)
        if cell.shape == (3,):
            cell = np.diag(cell)
        if cell.shape != (3, 3) or not np.isfinite(cell).all() or _box.cell_volume(cell) <= 0:
            raise ParameterError(f"the cell must be three right-handed vectors (3, 3) with positive volume, got "
                                 f"{cell.tolist()}.", fix="give the cell vectors as rows a, b, c.")
        species = np.asarray([str(s) for s in species])
        if species.shape != (n,):
            raise ParameterError(f"{species.size} species labels for {n} atoms.", fix="give one label per atom.")
        if not isinstance(forcefield, ForceField):
            raise ParameterError("forcefield must be a ssefeat.md.forcefield.ForceField.",
                                 fix="wrap the terms: ForceField([LennardJones(...)], units=...).")
        units = units or forcefield.units
        if units not in UNIT_SYSTEMS:
            raise ParameterError(f"unknown unit system {units!r}.", fix=f"use one of {sorted(UNIT_SYSTEMS)}.")
        if units != forcefield.units:
            raise ParameterError(f"the simulation uses units={units!r} but the force field is written in "
                                 f"units={forcefield.units!r}.", fix="use the same unit system for both.")
        self.units = UNIT_SYSTEMS[units]
        if masses is None:
            if units == "lj":
                masses = np.ones(n)
            else:
                from ..data import default_masses

                masses = default_masses(species)
                if masses is None:
                    raise ParameterError("masses are needed: species are not all element symbols.",
                                         fix="pass masses=... (amu) to the Simulation.")
        masses = np.array(masses, dtype=np.float64).reshape(-1)
        if masses.shape != (n,) or not np.all(np.isfinite(masses)) or np.any(masses <= 0):
            raise ParameterError(f"masses must be {n} positive numbers.",
                                 fix=f"give one positive finite mass per atom ({n}), in amu, or masses=None for "
                                     f"the species' masses.")
        if charges is not None:
            charges = np.array(charges, dtype=np.float64).reshape(-1)
            if charges.shape != (n,):
                raise ParameterError(f"charges must have one value per atom ({n}).",
                                     fix=f"give one charge per atom ({n}), in e, or charges=None.")
        self.positions, self.cell, self.species, self.masses, self.charges = pos, cell, species, masses, charges
        self.forcefield = forcefield
        self.velocities = np.zeros((n, 3))  # internal units: length / internal time
        if velocities is not None:
            v = np.array(velocities, dtype=np.float64)
            if v.shape != (n, 3) or not np.isfinite(v).all():
                raise ParameterError(f"velocities must be finite, shape ({n}, 3).",
                                     fix=f"give finite velocities of shape ({n}, 3), or velocities=None (at rest).")
            self.velocities = v * self.units.time_unit
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.step = int(step)
        self.time = float(time)  # user time units
        self.system = system
        self.system_kwargs = dict(system_kwargs or {})
        #: netCDF-ready global attributes that a TrajectoryWriter of this simulation writes (numbers / strings)
        self.attrs: dict = {}
        #: free-form information from the builder (protocol summaries, counts, ...)
        self.info: dict = {}
        self.min_distance = self.units.default_min_distance if min_distance is None else float(min_distance)
        self._want_energy = True
        self._energy_valid = False
        forcefield.bind(species, charges, masses)
        forcefield.check_cell(cell)
        self.compute_forces()
        if self.min_distance > 0:
            self.check_overlaps(self.min_distance)
        if not (np.isfinite(self.forces).all() and np.isfinite(self.energy_per_atom).all()):
            bad = int(np.argmax(~np.isfinite(self.forces).all(axis=1) | ~np.isfinite(self.energy_per_atom)))
            raise SimulationError(f"non-finite energy or force at the start (atom {bad}, step {self.step}).",
                                  fix="atoms overlap or the time step is too large: minimise first "
                                      "(ssefeat.md.protocols.minimise) and/or reduce dt.")

    # ---------------------------------------------------------------- basic quantities
    @property
    def n_atoms(self) -> int:
        return len(self.positions)

    @property
    def volume(self) -> float:
        return float(_box.cell_volume(self.cell))

    @property
    def degrees_of_freedom(self) -> int:
        """3N - 3 (total momentum is conserved; the LAMMPS ``compute temp`` convention)."""
        return max(3 * self.n_atoms - 3, 1)

    @property
    def kinetic_energy(self) -> float:
        v = self.velocities
        return 0.5 * float(np.einsum("i,ij,ij->", self.masses, v, v))

    @property
    def potential_energy(self) -> float:
        return float(self.energy_per_atom.sum())

    @property
    def total_energy(self) -> float:
        return self.kinetic_energy + self.potential_energy

    @property
    def temperature(self) -> float:
        """Instantaneous kinetic temperature 2 KE / (N_f k_B) (K or epsilon/k_B)."""
        return 2.0 * self.kinetic_energy / (self.degrees_of_freedom * self.units.kB)

    @property
    def pressure_tensor(self) -> np.ndarray:
        """P = (sum_i m v v^T + W) / V (eV/Å^3 or epsilon/sigma^3)."""
        v = self.velocities
        kin = np.einsum("i,ia,ib->ab", self.masses, v, v)
        return (kin + self.virial) / self.volume

    @property
    def pressure(self) -> float:
        return float(np.trace(self.pressure_tensor) / 3.0)

    @property
    def momentum(self) -> np.ndarray:
        return (self.masses[:, None] * self.velocities).sum(axis=0)

    def velocities_user(self) -> np.ndarray:
        """Velocities in length per user time unit (Å/ps or sigma/tau)."""
        return self.velocities / self.units.time_unit

    def thermo(self) -> dict:
        """Current step, time, temperature, energies (total, per atom) and pressure, as plain floats."""
        return {"step": self.step, "time": self.time, "temperature": self.temperature,
                "potential_energy": self.potential_energy, "kinetic_energy": self.kinetic_energy,
                "total_energy": self.total_energy, "pressure": self.pressure, "volume": self.volume}

    # ---------------------------------------------------------------- forces and checks
    def compute_forces(self, energy: bool | None = None) -> None:
        """Recompute forces (and, unless ``energy`` is False, energy_per_atom and virial) at the current positions
        and cell. ``energy=None`` follows the run loop, which asks for energies only on steps that need them."""
        want = self._want_energy if energy is None else bool(energy)
        res = self.forcefield.compute(self.positions, self.cell, energy=want)
        self.forces = res[1]
        self._energy_per_atom, self._virial = res[0], res[2]
        self._energy_valid = want

    def _ensure_energy(self) -> None:
        if not self._energy_valid:
            self.compute_forces(energy=True)

    @property
    def energy_per_atom(self) -> np.ndarray:
        """Potential energy of each atom (pair energies split half/half)."""
        self._ensure_energy()
        return self._energy_per_atom

    @property
    def virial(self) -> np.ndarray:
        """W_ab = sum_pairs r_ij,a f_ij,b (energy units)."""
        self._ensure_energy()
        return self._virial

    def check_overlaps(self, min_distance: float) -> None:
        """Raise SimulationError if two atoms are closer than ``min_distance`` (length units)."""
        nl = self.forcefield.nlist
        if nl is None or len(nl.pairs) == 0:
            return
        d = pair_distances(self.positions, self.cell, nl.pairs)
        k = int(np.argmin(d))
        if d[k] < min_distance:
            i, j = (int(x) for x in nl.pairs[k])
            raise SimulationError(
                f"atoms {i} ({self.species[i]}) and {j} ({self.species[j]}) overlap: distance {d[k]:.4g} "
                f"{self.units.length} (< {min_distance:g}); {int((d < min_distance).sum())} such pairs.",
                fix="start from a configuration without overlaps (or minimise it first with min_distance=0 and "
                    "ssefeat.md.protocols.minimise).")

    # ---------------------------------------------------------------- velocities
    def set_velocities(self, temperature: float, seed: int | None = None) -> None:
        """Maxwell-Boltzmann velocities at ``temperature`` (K or eps/k_B), zero total momentum, rescaled exactly."""
        rng = self.rng if seed is None else np.random.default_rng(seed)
        if temperature < 0 or not np.isfinite(temperature):
            raise ParameterError(f"temperature must be >= 0, got {temperature}.",
                                 fix="give temperature as a finite number >= 0 in K.")
        sigma = np.sqrt(self.units.kB * temperature / self.masses)[:, None]  # per atom and axis
        self.velocities = rng.standard_normal((self.n_atoms, 3)) * sigma
        self.zero_momentum()
        if temperature > 0 and self.n_atoms > 1:
            self.velocities *= math.sqrt(temperature / self.temperature)

    def zero_momentum(self) -> None:
        self.velocities -= (self.masses[:, None] * self.velocities).sum(0) / self.masses.sum()

    # ---------------------------------------------------------------- the run loop
    def run(self, steps: int, integrator, dump_every: int = 0, writer=None, progress: bool = True,
            check_every: int = 10, blowup_energy: float | None = None, callback=None,
            phase: str | None = None) -> "Simulation":
        """Advance ``steps`` time steps with ``integrator``.

        Parameters
        ----------
        steps : int
        integrator : an integrator of :mod:`ssefeat.md.integrators` (NVE, Langevin, NoseHooverChain, ...)
        dump_every : int
            Write a frame to ``writer`` every this many steps (0: never). The frame at the current step is not
            written first (so that consecutive runs do not duplicate it); call ``writer.write(sim)`` for that.
        writer : TrajectoryWriter, optional
        progress : bool, tqdm progress bar
        check_every : int
            Blow-up check interval (steps); frames are always checked before they are written.
        blowup_energy : float, optional
            Largest allowed change of the total energy per atom between two checks, in energy units. Default
            ``50 k_B T`` with T the largest of the target and the starting temperatures (at least 0.05 eps or
            50 K), which no physical thermostatted or NVE run approaches in ``check_every`` steps.
        callback : callable(sim), optional, called after every check.
        phase : str, optional, what this run is (melt, quench, anneal, equilibrate, production): names the progress.
        """
        steps = int(steps)
        if steps < 0:
            raise ParameterError(f"steps must be >= 0, got {steps}.", fix="give steps >= 0.")
        if dump_every and writer is None:
            raise ParameterError("dump_every > 0 needs a writer.", fix="pass writer=TrajectoryWriter(path, sim).")
        if dump_every < 0:
            raise ParameterError(f"dump_every must be >= 0, got {dump_every}.",
                                 fix="give dump_every >= 0 (0 writes nothing).")
        integrator.setup(self, steps)
        if writer is not None and hasattr(writer, "note_run"):
            writer.note_run(integrator.parameters(), steps, dump_every)
        t_ref = max(self.temperature, float(getattr(integrator, "max_temperature", 0.0) or 0.0),
                    0.05 if self.units.name == "lj" else 50.0)
        jump = blowup_energy if blowup_energy is not None else 50.0 * self.units.kB * t_ref
        e_last = integrator.conserved(self) / self.n_atoms
        check_every = max(1, int(check_every))
        bar = None
        if progress and steps > 0:
            from ..progress import progress_bar

            bar = progress_bar(total=steps, unit="step", desc=f"MD {phase or integrator.name} ({integrator.name})")
        done_since_bar = 0
        try:
            t_start = self.time
            always = bool(getattr(integrator, "needs_virial", False))
            for k in range(steps):
                # energies and virial only where they are used: checks, dumps, the last step, barostats
                self._want_energy = (always or (k + 1) % check_every == 0 or k == steps - 1
                                     or (bool(dump_every) and (k + 1) % dump_every == 0))
                integrator.step(self, k)
                self.step += 1
                self.time = t_start + (k + 1) * integrator.dt
                dump = bool(dump_every) and (k + 1) % dump_every == 0
                if dump or (k + 1) % check_every == 0 or k == steps - 1:
                    e_now = integrator.conserved(self) / self.n_atoms
                    self._check_blowup(e_last, e_now, jump, integrator)
                    e_last = e_now
                    if callback is not None:
                        callback(self)
                if dump:
                    writer.write(self)
                done_since_bar += 1
                if bar is not None and done_since_bar >= 50:
                    bar.update(done_since_bar)
                    done_since_bar = 0
        except ParameterError as err:
            # e.g. an NPT or tensile cell became smaller than twice the cutoff
            raise SimulationError(f"the run stopped at step {self.step}: {err.what}", fix=err.fix) from err
        finally:
            self._want_energy = True
            if bar is not None:
                bar.update(done_since_bar)
                bar.close()
        return self

    def _check_blowup(self, e_last: float, e_now: float, jump: float, integrator) -> None:
        finite = (np.isfinite(e_now) and np.isfinite(self.positions).all() and np.isfinite(self.velocities).all()
                  and np.isfinite(self.cell).all())
        if not finite or abs(e_now - e_last) > jump:
            what = ("non-finite energy or coordinates" if not finite else
                    f"the energy per atom jumped by {e_now - e_last:+.4g} {self.units.energy} "
                    f"(from {e_last:.6g} to {e_now:.6g}; allowed {jump:.3g})")
            raise SimulationError(
                f"the simulation blew up at step {self.step} (t = {self.time:.6g} {self.units.time}): {what}; "
                f"temperature {self.temperature:.4g} {self.units.temperature}, dt = {integrator.dt:g} "
                f"{self.units.time}.",
                fix="reduce the time step (dt), minimise the starting configuration, or check the force-field "
                    "parameters. Frames already written are good; nothing after the blow-up was written.")

    # ---------------------------------------------------------------- restart
    def save(self, path, integrator=None) -> Path:
        """Write the full state (and the integrator's state, e.g. thermostat variables) to ``.npz`` (no pickle)."""
        from ..io.atomic import atomic_output

        path = Path(path)
        meta = {"format": STATE_FORMAT, "units": self.units.name, "step": self.step, "time": self.time,
                "seed": self.seed, "system": self.system, "system_kwargs": self.system_kwargs,
                "min_distance": self.min_distance, "attrs": self.attrs,
                "forcefield": self.forcefield.parameters(),
                "rng_state": self.rng.bit_generator.state,
                "integrator": None if integrator is None else integrator.state()}
        arrays = {"positions": self.positions, "velocities": self.velocities_user(), "cell": self.cell,
                  "masses": self.masses, "species": self.species.astype("U"),
                  "meta": np.array(json.dumps(meta, default=partial(json_default, strict=True)))}
        if self.charges is not None:
            arrays["charges"] = self.charges
        with atomic_output(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        return path

    @classmethod
    def restore(cls, path, forcefield: ForceField | None = None, integrator=None) -> "Simulation":
        """Read a state written by :meth:`save`.

        The force field is rebuilt from the system registry (``ssefeat.md.systems``) when the state names a
        registered system; otherwise pass ``forcefield``. ``integrator`` (optional) gets its saved state back.
        """
        path = Path(path)
        if not path.exists():
            raise MissingFileError(f"state file {path} does not exist.",
                                   fix="check the path (a state is written by Simulation.save or --save-state).")
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            meta = json.loads(str(data["meta"]))
        except (ValueError, KeyError, OSError) as err:
            raise ModelFileError(f"{path} is not an ssefeat MD state file ({err}).",
                                 fix="pass a file written by Simulation.save / --save-state.") from err
        if meta.get("format") != STATE_FORMAT:
            raise ModelFileError(f"{path} has state format {meta.get('format')!r}; expected {STATE_FORMAT!r}.",
                                 fix="pass a state written by this version of Simulation.save, or restart from "
                                     "a structure.")
        if forcefield is None:
            if not meta.get("system"):
                raise ParameterError(f"{path} does not name a registered system, so its force field cannot be "
                                     "rebuilt.", fix="pass forcefield=... to Simulation.restore.")
            from .systems import get_system

            forcefield = get_system(meta["system"]).forcefield(**meta.get("system_kwargs", {}))
        sim = cls(data["positions"], data["cell"], data["species"], forcefield, masses=data["masses"],
                  charges=data.get("charges"), velocities=data["velocities"], units=meta["units"],
                  seed=meta.get("seed"), min_distance=0.0, system=meta.get("system"),
                  system_kwargs=meta.get("system_kwargs"), time=meta["time"], step=meta["step"])
        sim.min_distance = meta.get("min_distance", sim.min_distance)
        sim.attrs = dict(meta.get("attrs") or {})
        sim.rng.bit_generator.state = meta["rng_state"]
        if integrator is not None and meta.get("integrator"):
            integrator.load_state(meta["integrator"])
        return sim

    def copy(self) -> "Simulation":
        """An independent copy: own arrays, generator state and neighbour list (the force-field terms, which hold
        only parameters bound to the same species, are shared)."""
        import copy

        new = copy.copy(self)
        new.forcefield = copy.copy(self.forcefield)
        new.forcefield.nlist = None
        for name in ("positions", "velocities", "cell", "masses", "forces", "_energy_per_atom", "_virial"):
            setattr(new, name, getattr(self, name).copy())
        new.attrs = dict(self.attrs)
        new.info = dict(self.info)
        new.rng = np.random.default_rng()
        new.rng.bit_generator.state = self.rng.bit_generator.state
        return new
