"""``ssefeat simulate``: run the built-in MD engine on a registered system and write a trajectory."""
from __future__ import annotations

from pathlib import Path

import click

from .group import main


@main.command("simulate")
@click.argument("system")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Trajectory (.nc) to write.")
@click.option("--temperature", type=float, default=None,
              help="Temperature (K for metal-unit systems, epsilon/k_B for kob_andersen). Default: the system's.")
@click.option("--steps", type=int, default=10000, show_default=True, help="Production steps.")
@click.option("--dump-every", type=int, default=100, show_default=True, help="Steps between stored frames.")
@click.option("--dt", type=float, default=None, help="Time step (ps, or tau for kob_andersen). Default: the system's.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--n-atoms", type=int, default=None, help="System size (default: the system's).")
@click.option("--equilibrate-steps", type=int, default=None, help="Equilibration steps before production.")
@click.option("--thermostat", type=click.Choice(["nose-hoover", "langevin", "nve"]), default="nose-hoover",
              show_default=True, help="Production integrator.")
@click.option("--restart", "restart", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Continue from a state file (.npz) written by --save-state.")
@click.option("--save-state", type=click.Path(dir_okay=False), default=None,
              help="Where to write the final state for a restart (default: OUTPUT with .state.npz).")
@click.option("--velocities/--no-velocities", default=False, show_default=True, help="Store velocities.")
@click.option("--overwrite/--no-overwrite", default=False, show_default=True)
@click.option("--progress/--no-progress", default=True, show_default=True)
def simulate(system, output, temperature, steps, dump_every, dt, seed, n_atoms, equilibrate_steps, thermostat,
             restart, save_state, velocities, overwrite, progress):
    """Run MD of SYSTEM (e.g. kob_andersen) and write an ssefeat trajectory to OUTPUT (netCDF)."""
    from ..errors import OutputError, ParameterError
    from ..md.protocols import Production, make_thermostat, run_protocol
    from ..md.simulation import Simulation
    from ..md.systems import get_system
    from ..md.writer import TrajectoryWriter

    from ..io.atomic import check_folder

    spec = get_system(system)
    out = Path(output)
    if out.exists() and not overwrite:
        raise OutputError(f"{out} already exists.", fix="choose another output or pass --overwrite.")
    check_folder(out.parent)  # before the MD, not after it
    if steps < 1 or dump_every < 1:
        raise ParameterError(f"--steps ({steps}) and --dump-every ({dump_every}) must be positive.",
                             fix="e.g. --steps 10000 --dump-every 100.")
    spec.equilibration(equilibrate_steps, 1.0)  # refuse a bad --equilibrate-steps before building
    dt = spec.default_dt if dt is None else dt
    temperature = spec.default_temperature if temperature is None else temperature
    integ = (spec.production(temperature, dt, seed) if thermostat == "nose-hoover" and spec.production is not None
             else make_thermostat(thermostat, temperature, dt))
    if restart:
        sim = Simulation.restore(restart, integrator=integ)
        if sim.system and sim.system.replace("-", "_") != spec.name:
            raise ParameterError(f"the state {restart} is of system {sim.system!r}, not {spec.name!r}.",
                                 fix=f"run 'ssefeat simulate {sim.system} --restart {restart} ...'.")
        click.echo(f"restarted {sim.system} from {restart} at step {sim.step} (t = {sim.time:g} "
                   f"{sim.units.time})", err=True)
    else:
        sim = spec.build(temperature=temperature, seed=seed, n_atoms=n_atoms, dt=dt, progress=progress,
                         **spec.equilibration(equilibrate_steps, dt))
    state_path = Path(save_state) if save_state else out.with_suffix(".state.npz")
    with TrajectoryWriter(out, sim, velocities=velocities,
                          parameters={"command": "ssefeat simulate", "restart": restart}) as writer:
        run_protocol(sim, [Production(integ, steps, dump_every=dump_every, write_first=not restart)],
                     writer=writer, progress=progress)
    sim.save(state_path, integrator=integ)
    t = sim.thermo()
    click.echo(f"wrote {writer.n_frames} frames to {out} (T = {t['temperature']:.4g} {sim.units.temperature}, "
               f"E_pot/atom = {t['potential_energy'] / sim.n_atoms:.5g} {sim.units.energy}); state: {state_path}",
               err=True)
