"""CLI: ``ssefeat sites TRAJ [TRAJ ...]`` (site occupancy, jumps, rates, residence times, correlation factor; with
several trajectories at different temperatures, E_a per jump type)."""
from __future__ import annotations

from pathlib import Path

import click

from .environment_commands import _read, io_options
from .group import main


def _temperatures(paths, given, read_first) -> list[float]:
    """One temperature (K) per trajectory: ``--temperature`` in order, else each file's ``temperature_K`` (its first
    frame is read); refused when one is unknown (E_a needs them all)."""
    from ..errors import ParameterError

    if given:
        return [float(t) for t in given]
    temps = [float(read_first(p).attrs.get("temperature_K", float("nan"))) for p in paths]
    missing = [str(p) for p, t in zip(paths, temps) if not t == t or t <= 0]
    if missing:
        raise ParameterError(f"the temperature of {', '.join(missing)} is not known (no temperature_K in the file); "
                             "E_a per jump type needs one per trajectory.",
                             fix="give --temperature K once per trajectory, in the same order.")
    return temps


def _echo_run(parts, why, species, collective_window, collective_distance, head=""):
    from ..sites.correlation import describe_f

    jumps, rates, occ = parts["jumps"], parts["rates"], parts["occupancy"]
    n_ions, t = jumps.attrs["n_ions"], jumps.attrs["duration_ps"]
    temp = jumps.attrs.get("temperature_K", float("nan"))
    click.echo(f"{head}{n_ions} {species} ions over {t:.4g} ps" + (f" at {temp:g} K" if temp == temp else "")
               + f"; {jumps.sizes['jump']} jumps; {float(occ['fraction_outside'].mean()):.1%} of ion-frames outside "
               "every site")
    click.echo(f"{'from':>8} {'to':>8} {'n':>7} {'rate (1/ps per ion)':>24} {'escape rate (1/ps)':>24}")
    for a in rates["from_type"].values:
        for b in rates["to_type"].values:
            r = rates.sel(from_type=a, to_type=b)
            if int(r["n_jumps"]):
                click.echo(f"{a:>8} {b:>8} {int(r['n_jumps']):7d} {float(r['rate']):12.4g} ± "
                           f"{float(r['rate_err']):<9.2g} {float(r['escape_rate']):12.4g} ± "
                           f"{float(r['escape_rate_err']):<9.2g}")
    if "correlation" in parts:
        c = parts["correlation"]
        click.echo(f"D_J = {float(c['D_J_cm2_s']):.3e} cm^2/s, D_tracer = {float(c['D_tracer_cm2_s']):.3e} cm^2/s, "
                   f"{describe_f(c)} ({n_ions} ions, {int(c['n_jumps'])} jumps)")
    if why:
        click.echo(f"correlation factor not computed: {why}")
    if "collective" in parts:
        c = parts["collective"]
        click.echo(f"collective jumps: {c.attrs['n_collective']} of {c.attrs['n_jumps']} in pairs within "
                   f"{collective_window:g} ps and {collective_distance:g} Å")


def _echo_arrhenius(arr) -> None:
    import numpy as np

    rows = [(a, b) for a in arr["from_type"].values for b in arr["to_type"].values
            if np.isfinite(float(arr["activation_energy"].sel(from_type=a, to_type=b)))]
    if not rows:
        click.echo("E_a per jump type: no jump type seen at two temperatures")
    for a, b in rows:
        x = arr.sel(from_type=a, to_type=b)
        click.echo(f"E_a {a} -> {b} = {float(x['activation_energy']):.3f} ± {float(x['activation_energy_err']):.3f} "
                   f"eV, attempt frequency {float(x['prefactor']):.3g} ± {float(x['prefactor_err']):.2g} 1/ps "
                   f"({int(x['n_temperatures'])} temperatures, {int(x['n_jumps_total'])} jumps)")


@main.command("sites")
@click.argument("trajs", nargs=-1, required=True, type=click.Path())
@click.option("--structure", type=click.Path(), default=None,
              help="structure file with the sites (CIF, POSCAR, anything ASE reads)")
@click.option("--supercell", nargs=3, type=int, default=None, metavar="A B C",
              help="repeat the structure to the trajectory's cell")
@click.option("--labels", default=None, help="only these site labels of the structure, e.g. 8d,4b")
@click.option("--find-sites", is_flag=True,
              help="sites at the maxima of the time-averaged density (of the first trajectory) instead")
@click.option("--species", default="Li", show_default=True, help="mobile species (and the structure's site element)")
@click.option("--radius", type=float, required=True, help="site radius, Å (sites must not overlap at it)")
@click.option("--min-residence", type=int, default=1, show_default=True,
              help="frames a visit must last to count (removes rattling between neighbouring sites)")
@click.option("--temperature", "temperatures", type=float, multiple=True, metavar="K",
              help="temperature of each trajectory, in order (default: each file's temperature_K)")
@click.option("--window", nargs=2, type=float, default=None, metavar="START STOP",
              help="ps: D_tracer fit window of f = D_tracer / D_J (default: the diffusive range detected, else an "
                   "apparent D, said so)")
@click.option("--collective-window", type=float, default=None,
              help="ps: also count collective jump pairs within this time window")
@click.option("--collective-distance", type=float, default=1.0, show_default=True,
              help="Å between end sites of two collective jumps")
@click.option("-o", "--output", type=click.Path(), default="sites.nc", show_default=True,
              help="netCDF DataTree: occupancy, jumps, rates, transitions, residence, correlation (one trajectory); "
                   "/run_k/... and /arrhenius (several)")
@click.option("--plot", type=click.Path(), default=None,
              help="folder for figures (rate matrix, residence, occupancy; E_a and f against T)")
@io_options
def sites_cmd(trajs, structure, supercell, labels, find_sites, species, radius, min_residence, temperatures, window,
              collective_window, collective_distance, output, plot, topology, type_map, start, stop, stride):
    """Which site every ion occupies, the jumps between sites (GEMDAT's convention), rates per site-pair type with
    Poisson errors, transition matrix, residence times, D_J and the correlation factor f = D_tracer / D_J; with
    several trajectories (one per temperature) also E_a per jump type (Arrhenius of the escape rates)."""
    import xarray as xr

    from .. import sites as S
    from ..errors import ParameterError
    from ..io.stage_files import save_tree

    if (structure is None) == (not find_sites):
        raise ParameterError("give the sites either with --structure FILE or with --find-sites (one of the two).",
                             fix="e.g. --structure Li3PS4.cif --supercell 1 1 2, or --find-sites for a glass.")
    if temperatures and len(temperatures) != len(trajs):
        raise ParameterError(f"{len(temperatures)} --temperature values for {len(trajs)} trajectories.",
                             fix="give --temperature once per trajectory, in the same order, or none to use the "
                                 "files' own temperature_K.")
    if window is not None and not 0 <= window[0] < window[1]:
        raise ParameterError(f"--window {window[0]:g} {window[1]:g}: the D_tracer fit window must have "
                             "0 <= start < stop (ps).", fix="e.g. --window 2 10 (the diffusive range, ps).")
    temps = [None] * len(trajs)
    if len(trajs) > 1 or temperatures:  # every temperature known before any work
        first = (start or 0) + 1
        temps = _temperatures(trajs, temperatures, lambda p: _read(p, topology, type_map, start, first, None))
    sites, done = None, []
    if not find_sites:
        sites = S.sites_from_structure(structure, species=species, supercell=supercell or (1, 1, 1),
                                       labels=[v.strip() for v in labels.split(",")] if labels else None)
    for path, T in zip(trajs, temps):  # one trajectory in memory at a time
        ds = _read(path, topology, type_map, start, stop, stride)
        if sites is None:
            sites = S.find_sites(ds, species)  # from the first trajectory
        done.append(S.analyse_run(ds, sites, species, radius, min_residence=min_residence, window=window,
                                  temperature=T, collective=None if collective_window is None else
                                  (collective_window, collective_distance)))
        del ds
    root = xr.Dataset(attrs={"trajectory": ", ".join(map(str, trajs)), "species": species, "radius_angstrom": radius,
                             "site_source": sites.source})
    if len(trajs) == 1:
        parts = {"/": root, **{f"/{k}": v for k, v in done[0][0].items()}}
    else:
        parts = {"/": root}
        for k, (p, _) in enumerate(done):
            parts.update({f"/run_{k}/{name}": v for name, v in p.items()})
        if len(set(temps)) >= 2:
            parts["/arrhenius"] = S.jump_arrhenius([p["jumps"] for p, _ in done], temps)
    save_tree(xr.DataTree.from_dict(parts), output)
    click.echo(f"{sites.n_sites} sites ({', '.join(f'{k} x{int((sites.labels == k).sum())}' for k in sites.types)})"
               f" from {sites.source}; radius {radius:g} Å")
    for k, (p, why) in enumerate(done):
        _echo_run(p, why, species, collective_window, collective_distance,
                  head=f"run {k} ({trajs[k]}): " if len(trajs) > 1 else "")
    if "/arrhenius" in parts:
        _echo_arrhenius(parts["/arrhenius"])
    elif len(trajs) > 1:
        click.echo("E_a per jump type not computed: the trajectories share one temperature")
    click.echo(f"written to {output}")
    if plot:
        _figures(Path(plot), done, parts.get("/arrhenius"), temps)


def _figures(folder, done, arrhenius, temps) -> None:
    from ..plots import sites as sp
    from ..plots.style import save

    folder.mkdir(parents=True, exist_ok=True)
    for k, (p, _) in enumerate(done):
        tail = "" if len(done) == 1 else f"_run_{k}"
        save(sp.rate_matrix(p["rates"]), folder / f"site_rate_matrix{tail}.png")
        save(sp.residence_times(p["residence"]), folder / f"site_residence_times{tail}.png")
        save(sp.occupancy(p["occupancy"]), folder / f"site_occupancy{tail}.png")
    if arrhenius is not None:
        save(sp.jump_arrhenius(arrhenius), folder / "site_arrhenius.png")
        have = [(T, p["correlation"]) for T, (p, _) in zip(temps, done) if "correlation" in p]
        if have:
            save(sp.correlation_vs_temperature([T for T, _ in have], [float(c["f"]) for _, c in have],
                                               [float(c["f_err"]) for _, c in have],
                                               [c.attrs["verdict"] == "apparent" for _, c in have]),
                 folder / "site_correlation_factor.png")
    click.echo(f"figures in {folder}")
