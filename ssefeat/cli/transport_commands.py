"""CLI: ``ssefeat transport TRAJ...`` (MSD, D, Nernst-Einstein conductivity, Haven ratio, Arrhenius fits)."""
from __future__ import annotations

from pathlib import Path

import click

from .group import main, read_options


@main.command("transport")
@click.argument("trajectories", nargs=-1, required=True, type=click.Path())
@click.option("--species", default=None, help="mobile species (default: the first of Li, Na, K, Ag, ... present)")
@click.option("--temperature", "temperatures", type=float, multiple=True,
              help="temperature in K, once per trajectory in order (or once for all); default attrs temperature_K")
@click.option("--window", nargs=2, type=float, default=None, metavar="START STOP",
              help="fit window in ps (default: detected where the log-log MSD slope is 1 within --tol)")
@click.option("--tol", type=float, default=0.15, show_default=True, help="slope tolerance of the window detection")
@click.option("--haven", is_flag=True, help="Haven ratio from the collective MSD (else H_R = 1, stated)")
@click.option("--charge", type=float, default=None, help="ion charge in e (default: formal charge of the element)")
@click.option("--uncertainty", type=click.Choice(["atoms", "blocks", "max"]), default="atoms", show_default=True,
              help="error estimate reported as D_err")
@click.option("--no-com", "no_com", is_flag=True, help="do not remove the centre-of-mass drift")
@click.option("--ngp", is_flag=True, help="also compute the non-Gaussian parameter alpha2(t)")
@read_options("timestep", "topology", "format", "stride")
@click.option("--allow-mixed-timesteps", is_flag=True, help="accept trajectories with different timesteps")
@click.option("--plot", type=click.Path(), default=None, help="folder for figures (MSD, Arrhenius, NGP)")
@click.option("-o", "--output", type=click.Path(), default="transport.nc", show_default=True,
              help="netCDF file (a DataTree: run_k, arrhenius_D, arrhenius_sigma)")
def transport_cmd(trajectories, species, temperatures, window, tol, haven, charge, uncertainty, no_com, ngp,
                  timestep_ps, topology, fmt, stride, allow_mixed_timesteps, plot, output):
    """Tracer D, Nernst-Einstein conductivity (and Haven ratio) of each trajectory; with several temperatures an
    Arrhenius fit of D and sigma*T with E_a and the 300 K extrapolation."""
    from ..dynamics.arrhenius import transport_study
    from ..errors import ParameterError
    from ..io import read
    from ..io.atomic import atomic_output

    if temperatures and len(temperatures) not in (1, len(trajectories)):
        raise ParameterError(f"{len(temperatures)} --temperature values for {len(trajectories)} trajectories.",
                             fix="give --temperature once per trajectory, in the same order (or once for all).")
    data = [read(p, fmt, topology=topology, stride=stride, timestep_ps=timestep_ps) for p in trajectories]
    labels = [f"run_{k}" for k in range(len(data))]
    # a run without a diffusive window gets an apparent D, said so; the other runs keep theirs
    tree = transport_study(data, species, list(temperatures) or None, tuple(window) if window else None,
                           fallback=True, haven=haven, ngp=ngp, allow_mixed_timesteps=allow_mixed_timesteps,
                           labels=labels, charge=charge, uncertainty=uncertainty, remove_com=not no_com, tol=tol,
                           timestep_ps=timestep_ps)
    tree["/"].attrs["files"] = "\n".join(str(p) for p in trajectories)
    with atomic_output(output) as tmp:
        tree.to_netcdf(tmp)
    sp = tree["/"].attrs["species"]
    click.echo(f"{'file':<30} {'T (K)':>7} {'window (ps)':>15} {'D (cm^2/s)':>22} {'sigma (S/cm)':>22} {'H_R':>6}")
    for lab, p in zip(labels, trajectories):
        r = tree[lab]
        click.echo(f"{Path(p).name[-30:]:<30} {float(r['temperature_K']):7.1f} "
                   f"{float(r['window_start'][0]):7.3g}-{float(r['window_stop'][0]):<7.3g} "
                   f"{float(r['D_cm2_s'][0]):10.3e} ± {float(r['D_cm2_s_err'][0]):9.2e} "
                   f"{float(r['sigma'][0]):10.3e} ± {float(r['sigma_err'][0]):9.2e} "
                   f"{float(r['haven_ratio'][0]):6.2f}" + ("  APPARENT (not diffusive)" if r.attrs["verdict"] ==
                                                             "apparent" else ""))
    for lab in labels:
        if tree[lab].attrs["verdict"] == "apparent":
            click.echo(f"{lab}: {tree[lab].attrs['window_note']}")
    if "arrhenius_note" in tree["/"].attrs:
        click.echo(tree["/"].attrs["arrhenius_note"])
    if not haven:
        click.echo("Haven ratio not computed: H_R = 1 assumed (use --haven).")
    for key, name in (("arrhenius_D", "D"), ("arrhenius_sigma", "sigma*T")):
        if key in tree:
            f = tree[key]
            click.echo(f"Arrhenius {name} ({sp}): E_a = {float(f['activation_energy']):.3f} ± "
                       f"{float(f['activation_energy_err']):.3f} eV; at {f.attrs['extrapolate_to_K']:g} K "
                       f"{float(f['extrapolated']):.3e} ± {float(f['extrapolated_err']):.2e} "
                       f"{f['value'].attrs['units']}")
    click.echo(f"written to {output}")
    if plot:
        from ..plots import transport as tp
        from ..plots.style import save

        folder = Path(plot)
        folder.mkdir(parents=True, exist_ok=True)
        for lab in labels:
            save(tp.msd(tree[lab].to_dataset()), folder / f"msd_{lab}.png")
            if ngp:
                save(tp.non_gaussian(tree[f"{lab}_ngp"].to_dataset()), folder / f"ngp_{lab}.png")
        for key in ("arrhenius_D", "arrhenius_sigma"):
            if key in tree:
                save(tp.arrhenius(tree[key].to_dataset()), folder / f"{key}.png")
        click.echo(f"figures in {folder}")
