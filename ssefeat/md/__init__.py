"""A compact numba MD engine that makes realistic solid-electrolyte trajectories (the embedded default data source).

Systems (``ssefeat.md.systems``): ``kob_andersen`` (reduced LJ units), ``lips_glass``, ``glass_ceramic``,
``vacancy_crystal`` (Å, ps, eV). :func:`simulate` builds one, runs NVT production and writes an ssefeat
trajectory (netCDF, frame chunk by frame chunk); it is what ``ssefeat simulate`` and the pipeline use.
:func:`inherent_structures` quenches every frame of a trajectory to its local energy minimum (FIRE).
"""
from __future__ import annotations

from pathlib import Path

from .inherent import inherent_structures


def simulate(system: str, path, temperature: float | None = None, steps: int = 10000, dump_every: int = 100,
             dt: float | None = None, seed: int = 0, n_atoms: int | None = None,
             equilibrate_steps: int | None = None, thermostat: str = "nose-hoover", velocities: bool = False,
             progress: bool = True, attrs: dict | None = None, overwrite: bool = True, *, restart=None,
             save_state=None, parameters: dict | None = None, **build_kwargs):
    """Build a registered system, run ``steps`` of production and write every ``dump_every``-th frame to ``path``.

    Parameters
    ----------
    system : str, a name in ``ssefeat.md.systems.SYSTEMS``
    path : output netCDF trajectory (written atomically, chunk by chunk)
    temperature : K (or epsilon/k_B for Kob-Andersen); default: the system's
    steps, dump_every : production steps and steps between stored frames
    dt : time step in ps (or tau); default: the system's
    seed : random seed of the build (packing, velocities) and thermostat
    n_atoms, equilibrate_steps, **build_kwargs : passed to the system's builder
    thermostat : "nose-hoover" (the system's production integrator), "langevin" or "nve"
    attrs : extra global attributes of the trajectory file
    restart : a state file (.npz, :meth:`~ssefeat.md.simulation.Simulation.save`) to continue from instead of a build
    save_state : where to write the final state (and the integrator's) for a later restart
    parameters : the file's ``parameters`` attribute (default: this call's system, steps, dump_every and seed)

    Returns the final :class:`~ssefeat.md.simulation.Simulation` (``sim.info["frames_written"]``: frames stored).
    """
    from ..errors import ParameterError
    from .protocols import Production, make_thermostat, run_protocol
    from .simulation import Simulation
    from .systems import get_system
    from .writer import TrajectoryWriter

    spec = get_system(system)
    if int(steps) < 1 or int(dump_every) < 1:
        raise ParameterError(f"steps ({steps}) and dump_every ({dump_every}) must be positive.",
                             fix="give steps >= 1 and dump_every >= 1 (steps between written frames).")
    dt = spec.default_dt if dt is None else dt
    temperature = spec.default_temperature if temperature is None else temperature
    integ = (spec.production(temperature, dt, seed) if thermostat == "nose-hoover" and spec.production is not None
             else make_thermostat(thermostat, temperature, dt))
    if restart:
        sim = Simulation.restore(restart, integrator=integ)
        if sim.system and sim.system.replace("-", "_") != spec.name:
            raise ParameterError(f"the state {restart} is of system {sim.system!r}, not {spec.name!r}.",
                                 fix=f"run 'ssefeat simulate {sim.system} --restart {restart} ...'.")
    else:
        build_kwargs.update(spec.equilibration(equilibrate_steps, dt))  # steps, or their duration in ps
        sim = spec.build(temperature=temperature, seed=seed, n_atoms=n_atoms, dt=dt, progress=progress, **build_kwargs)
    parameters = parameters or {"function": "ssefeat.md.simulate", "system": system, "steps": int(steps),
                                "dump_every": int(dump_every), "seed": seed}
    with TrajectoryWriter(Path(path), sim, velocities=velocities, attrs=attrs, overwrite=overwrite,
                          parameters=parameters) as writer:
        run_protocol(sim, [Production(integ, int(steps), dump_every=int(dump_every), write_first=not restart)],
                     writer=writer, progress=progress)
    sim.info["frames_written"] = writer.n_frames
    if save_state:
        sim.save(save_state, integrator=integ)
    return sim


__all__ = ["simulate", "inherent_structures"]
