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
    from ..io.atomic import check_folder
    from ..md import simulate as run_md
    from ..md.systems import get_system

    spec = get_system(system)
    out = Path(output)
    if out.exists() and not overwrite:
        raise OutputError(f"{out} already exists.", fix="choose another output or pass --overwrite.")
    check_folder(out.parent)  # before the MD, not after it
    if steps < 1 or dump_every < 1:
        raise ParameterError(f"--steps ({steps}) and --dump-every ({dump_every}) must be positive.",
                             fix="e.g. --steps 10000 --dump-every 100.")
    spec.equilibration(equilibrate_steps, 1.0)  # refuse a bad --equilibrate-steps before building
    state_path = Path(save_state) if save_state else out.with_suffix(".state.npz")
    sim = run_md(system, out, temperature, steps, dump_every, dt, seed, n_atoms, equilibrate_steps, thermostat,
                 velocities, progress, restart=restart, save_state=state_path,
                 parameters={"command": "ssefeat simulate", "restart": restart})
    t = sim.thermo()
    click.echo(f"wrote {sim.info['frames_written']} frames to {out}" + (f" (restarted from {restart})" if restart
                                                                          else "")
               + f" (T = {t['temperature']:.4g} {sim.units.temperature}, E_pot/atom = "
               f"{t['potential_energy'] / sim.n_atoms:.5g} {sim.units.energy}); state: {state_path}", err=True)
