"""Frame-chunked netCDF trajectory writer: a long run never holds its trajectory in memory.

Frames are buffered ``chunk_frames`` at a time and appended to a netCDF4 file whose ``frame`` dimension is
unlimited. The file is written under a temporary name and renamed on :meth:`TrajectoryWriter.close` (through
:func:`ssefeat.io.atomic.atomic_output`), so a crash or a blow-up never leaves a half-written file under the
final name; :meth:`TrajectoryWriter.abort` keeps what was written as ``<name>.partial.nc`` (marked incomplete).

The file reads back with ``xarray.open_dataset(path)`` as an ssefeat trajectory (``ssefeat.validate`` passes):
``positions (frame, atom, xyz)`` unwrapped (``attrs["wrapped"] = 0``), ``cell (frame, cell_vector, xyz)``,
coordinates ``time``, ``step``, ``species``, ``mass``, ``charge`` (when the system has charges),
``potential_energy (frame, atom)``, per-frame ``energy`` (potential), ``kinetic_energy``, ``temperature``,
``pressure``, optional ``velocities``; attrs ``units``, ``source``, ``timestep_ps`` (metal) or ``timestep_tau``
(lj), the full parameter set as JSON in ``attrs["parameters"]`` (read it with
``ssefeat.provenance.parameters_of``).

For ``units="lj"`` (Kob-Andersen) every quantity is in reduced LJ units: ``attrs["units"] = "lj"``, length sigma_AA,
time tau, energy epsilon_AA, temperature epsilon_AA/k_B (``attrs["unit_note"]`` spells it out); ssefeat's default
units (Å, ps, eV) apply to ``units="metal"`` runs.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
from pathlib import Path

import numpy as np

from ..errors import OutputError, ParameterError

__all__ = ["TrajectoryWriter"]

_LJ_NOTE = ("reduced Lennard-Jones units: length sigma_AA, time tau = sigma_AA sqrt(m/epsilon_AA), energy "
            "epsilon_AA, mass m, temperature epsilon_AA/k_B, pressure epsilon_AA/sigma_AA^3")


def json_default(obj, strict: bool = False):
    """``json.dumps`` default: numpy scalars and arrays as Python values, anything else as its text, or with
    ``strict`` (a state file must read back as written) a TypeError."""
    if isinstance(obj, (np.integer, np.floating, np.ndarray)):
        return obj.tolist()
    if strict:
        raise TypeError(f"cannot store {type(obj).__name__} in a state file")
    return str(obj)


class TrajectoryWriter:
    """Append frames of a :class:`~ssefeat.md.simulation.Simulation` to a netCDF trajectory.

    Parameters
    ----------
    path : str or Path, the ``.nc`` output
    sim : Simulation, gives atoms, species, masses, charges and units
    velocities : bool, also store velocities (Å/ps or sigma/tau)
    chunk_frames : int, frames buffered in memory before they are appended
    precision : "float64" (default) or "float32" for positions / velocities
    attrs : dict, extra global attributes (numbers / strings); ``sim.attrs`` (set by system builders) is included
    parameters : dict, extra entries of the JSON parameter set
    overwrite : bool, replace an existing file at ``path`` (only when the run succeeds)

    Use as a context manager: the file appears under its name when the block ends without error.
    """

    def __init__(self, path, sim, velocities: bool = False, chunk_frames: int = 100, precision: str = "float64",
                 attrs: dict | None = None, parameters: dict | None = None, overwrite: bool = True):
        import netCDF4

        from ..io.atomic import atomic_output

        if precision not in ("float64", "float32"):
            raise ParameterError(f"precision must be 'float64' or 'float32', got {precision!r}.",
                                 fix="use precision='float64' or 'float32'.")
        if int(chunk_frames) < 1:
            raise ParameterError(f"chunk_frames must be >= 1, got {chunk_frames}.", fix="give chunk_frames >= 1.")
        self.path = Path(path)
        self.velocities = bool(velocities)
        self.chunk_frames = int(chunk_frames)
        self.dtype = np.dtype(precision)
        self.units = sim.units
        self.n_atoms = sim.n_atoms
        self.n_frames = 0
        self._buffer: list[dict] = []
        self._runs: list[dict] = []
        self._history: list[dict] = []
        self._extra_attrs = {**dict(getattr(sim, "attrs", None) or {}), **dict(attrs or {})}
        self._parameters = {"forcefield": sim.forcefield.parameters(), "system": sim.system,
                            "system_kwargs": sim.system_kwargs, "seed": sim.seed, "units": sim.units.name,
                            "n_atoms": sim.n_atoms}
        self._parameters.update(parameters or {})
        self._times: list[float] = []
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_output(self.path, overwrite=overwrite))
        try:
            self._nc = netCDF4.Dataset(self._tmp, "w", format="NETCDF4")
            self._define(sim)
        except BaseException:
            self._stack.__exit__(*__import__("sys").exc_info())
            raise
        self._closed = False

    # ------------------------------------------------------------------ layout
    def _define(self, sim) -> None:
        nc = self._nc
        n = sim.n_atoms
        u = self.units
        nc.createDimension("frame", None)
        nc.createDimension("atom", n)
        nc.createDimension("xyz", 3)
        nc.createDimension("cell_vector", 3)

        def var(name, dtype, dims, values=None, chunksizes=None, **attrs):
            v = nc.createVariable(name, dtype, dims, chunksizes=chunksizes)
            if values is not None:
                v[:] = values
            v.setncatts(attrs)

        var("atom", "i8", ("atom",), np.arange(n))
        var("xyz", str, ("xyz",), np.array(["x", "y", "z"], dtype=object))
        var("cell_vector", str, ("cell_vector",), np.array(["a", "b", "c"], dtype=object))
        var("species", str, ("atom",), np.asarray(sim.species, dtype=object))
        var("mass", "f8", ("atom",), sim.masses, units=u.mass)
        atom_coords = "species mass"
        if sim.charges is not None:
            var("charge", "f8", ("atom",), sim.charges, units="e" if u.name == "metal" else "reduced")
            atom_coords += " charge"
        frame_coords = "time step"
        var("frame", "i8", ("frame",))
        var("time", "f8", ("frame",), units=u.time)
        var("step", "i8", ("frame",))
        fdt = self.dtype.str[1:]
        per_atom = {"coordinates": f"{frame_coords} {atom_coords}"}
        var("positions", fdt, ("frame", "atom", "xyz"), chunksizes=(1, n, 3), units=u.length, **per_atom)
        var("cell", "f8", ("frame", "cell_vector", "xyz"), units=u.length, coordinates=frame_coords)
        var("potential_energy", "f8", ("frame", "atom"), chunksizes=(1, n), units=u.energy, **per_atom)
        if self.velocities:
            var("velocities", fdt, ("frame", "atom", "xyz"), chunksizes=(1, n, 3), units=f"{u.length}/{u.time}",
                **per_atom)
        for name, unit, desc in (("energy", u.energy, "total potential energy"),
                                 ("kinetic_energy", u.energy, "total kinetic energy"),
                                 ("temperature", u.temperature, "kinetic temperature, 3N-3 degrees of freedom"),
                                 ("pressure", u.pressure, "pressure (kinetic + virial) / V")):
            var(name, "f8", ("frame",), units=unit, long_name=desc, coordinates=frame_coords)

    # ------------------------------------------------------------------ writing
    def note_run(self, integrator_parameters: dict, steps: int, dump_every: int) -> None:
        """Record one ``Simulation.run`` (called by the run loop) in the parameter set."""
        self._runs.append({**integrator_parameters, "steps": int(steps), "dump_every": int(dump_every)})

    def add_history(self, entries: list[dict]) -> None:
        """Record protocol summaries (see :func:`ssefeat.md.protocols.run_protocol`)."""
        self._history.extend(entries)

    @property
    def last_time(self) -> float | None:
        """Time of the last frame written (None before the first)."""
        return self._times[-1] if self._times else None

    def write(self, sim) -> None:
        """Buffer the current frame of ``sim``; appended to the file every ``chunk_frames`` frames."""
        if self._closed:
            raise OutputError(f"the writer of {self.path} is closed.",
                              fix="write every frame before close(), or open a new TrajectoryWriter on a new path.")
        if sim.n_atoms != self.n_atoms:
            raise ParameterError(f"the writer holds {self.n_atoms} atoms but the simulation has {sim.n_atoms}.",
                                 fix="write each simulation to its own TrajectoryWriter.")
        if self._times and not sim.time > self._times[-1]:
            raise ParameterError(f"frame time {sim.time} does not increase (last {self._times[-1]}).",
                                 fix="do not write the same step twice (run(...) writes after each dump_every).")
        frame = {"positions": sim.positions.astype(self.dtype), "cell": sim.cell.copy(), "time": sim.time,
                 "step": sim.step, "potential_energy": sim.energy_per_atom.copy(),
                 "energy": sim.potential_energy, "kinetic_energy": sim.kinetic_energy,
                 "temperature": sim.temperature, "pressure": sim.pressure}
        if self.velocities:
            frame["velocities"] = sim.velocities_user().astype(self.dtype)
        self._times.append(sim.time)
        self._buffer.append(frame)
        if len(self._buffer) >= self.chunk_frames:
            self.flush()

    def flush(self) -> None:
        """Append the buffered frames to the file."""
        if not self._buffer:
            return
        nc = self._nc
        k0 = self.n_frames
        k1 = k0 + len(self._buffer)
        nc["frame"][k0:k1] = np.arange(k0, k1)
        for name in ("time", "step", "energy", "kinetic_energy", "temperature", "pressure"):
            nc[name][k0:k1] = np.array([f[name] for f in self._buffer])
        for name in ("positions", "cell", "potential_energy") + (("velocities",) if self.velocities else ()):
            nc[name][k0:k1] = np.stack([f[name] for f in self._buffer])
        nc.sync()
        self.n_frames = k1
        self._buffer.clear()

    # ------------------------------------------------------------------ finishing
    def _final_attrs(self, complete: bool) -> None:
        from .. import __version__
        from ..data import UNITS

        nc = self._nc
        u = self.units
        attrs = {"source": "ssefeat.md", "wrapped": 0, "ssefeat_version": __version__,
                 "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                 "complete": int(complete), "analysis": "ssefeat.md.Simulation.run"}
        if u.name == "lj":
            attrs["units"] = "lj"
            attrs["unit_note"] = _LJ_NOTE
        else:
            attrs["units"] = UNITS
        if len(self._times) > 1:
            step = float(np.median(np.diff(self._times)))
            attrs["timestep_ps" if u.name == "metal" else "timestep_tau"] = step
        temps = [r.get("temperature") for r in self._runs if r.get("temperature") is not None]
        if temps:
            attrs["temperature_K" if u.name == "metal" else "temperature"] = float(temps[-1])
        params = dict(self._parameters)
        params["runs"] = self._runs
        if self._history:
            params["protocol"] = self._history
        attrs["parameters"] = json.dumps(params, default=json_default, sort_keys=True)
        for k, v in self._extra_attrs.items():
            attrs[k] = v if isinstance(v, (int, float, str)) else json.dumps(v, default=json_default)
        nc.setncatts(attrs)

    def close(self) -> Path:
        """Flush, write the attrs and move the file to its final name."""
        if self._closed:
            return self.path
        try:
            self.flush()
            if self.n_frames == 0:
                raise OutputError(f"no frame was written to {self.path}.",
                                  fix="use dump_every > 0 and at least dump_every steps, or call writer.write(sim).")
            self._final_attrs(True)
            self._nc.close()
        except BaseException:
            self._closed = True
            with contextlib.suppress(Exception):
                self._nc.close()
            self._stack.__exit__(*__import__("sys").exc_info())
            raise
        self._closed = True
        self._stack.close()
        return self.path

    def abort(self, reason: str = "") -> Path | None:
        """Stop writing: the good frames written so far are kept as ``<name>.partial.nc`` (attrs complete=0)."""
        if self._closed:
            return None
        self._closed = True
        partial = None
        try:
            self.flush()
            self._extra_attrs["incomplete_reason"] = reason or "aborted"
            self._final_attrs(False)
            self._nc.close()
            if self.n_frames:
                partial = self.path.with_name(self.path.stem + ".partial.nc")
                os.replace(self._tmp, partial)
        finally:
            with contextlib.suppress(Exception):
                self._nc.close()
            err = OutputError(f"{self.path} was not completed: {reason}")
            with contextlib.suppress(BaseException):
                self._stack.__exit__(OutputError, err, None)
        return partial

    def __enter__(self) -> "TrajectoryWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort(f"{exc_type.__name__}: {exc}")
        return False
