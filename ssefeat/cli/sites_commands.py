"""CLI: ``ssefeat sites TRAJ`` (site occupancy, jumps, rates, residence times, correlation factor)."""
from __future__ import annotations

from pathlib import Path

import click

from .environment_commands import _read, io_options
from .group import main


@main.command("sites")
@click.argument("traj", type=click.Path())
@click.option("--structure", type=click.Path(), default=None,
              help="structure file with the sites (CIF, POSCAR, anything ASE reads)")
@click.option("--supercell", nargs=3, type=int, default=None, metavar="A B C",
              help="repeat the structure to the trajectory's cell")
@click.option("--labels", default=None, help="only these site labels of the structure, e.g. 8d,4b")
@click.option("--find-sites", is_flag=True, help="sites at the maxima of the time-averaged density instead")
@click.option("--species", default="Li", show_default=True, help="mobile species (and the structure's site element)")
@click.option("--radius", type=float, required=True, help="site radius, Å (sites must not overlap at it)")
@click.option("--min-residence", type=int, default=1, show_default=True,
              help="frames a visit must last to count (removes rattling between neighbouring sites)")
@click.option("--collective-window", type=float, default=None,
              help="ps: also count collective jump pairs within this time window")
@click.option("--collective-distance", type=float, default=1.0, show_default=True,
              help="Å between end sites of two collective jumps")
@click.option("-o", "--output", type=click.Path(), default="sites.nc", show_default=True,
              help="netCDF DataTree: occupancy, jumps, rates, transitions, residence, correlation")
@click.option("--plot", type=click.Path(), default=None, help="folder for figures (rate matrix, residence, occupancy)")
@io_options
def sites_cmd(traj, structure, supercell, labels, find_sites, species, radius, min_residence, collective_window,
              collective_distance, output, plot, topology, type_map, start, stop, stride):
    """Which site every ion occupies, the jumps between sites (GEMDAT's convention), rates per site-pair type with
    Poisson errors, transition matrix, residence times, D_J and the correlation factor f = D_tracer / D_J."""
    import xarray as xr

    from .. import sites as S
    from ..errors import ParameterError, SsefeatError
    from ..io.stage_files import save_tree
    from ..sites.occupancy import site_states

    if (structure is None) == (not find_sites):
        raise ParameterError("give the sites either with --structure FILE or with --find-sites (one of the two).",
                             fix="e.g. --structure Li3PS4.cif --supercell 1 1 2, or --find-sites for a glass.")
    ds = _read(traj, topology, type_map, start, stop, stride)
    if find_sites:
        sites = S.find_sites(ds, species)
    else:
        sites = S.sites_from_structure(structure, species=species, supercell=supercell or (1, 1, 1),
                                       labels=[v.strip() for v in labels.split(",")] if labels else None)
    st = site_states(ds, sites, species, radius)
    occ = S.site_occupancy(ds, sites, states=st)
    jumps = S.site_jumps(ds, sites, species, radius, min_residence=min_residence, states=st)
    rates = S.jump_rates(jumps)
    parts = {"/": xr.Dataset(attrs={"trajectory": str(traj), "species": species, "radius_angstrom": radius,
                                    "site_source": sites.source}),
             "/occupancy": occ, "/jumps": jumps, "/rates": rates, "/transitions": S.transition_matrix(jumps),
             "/residence": S.residence_times(jumps)}
    note = None
    try:
        parts["/correlation"] = S.correlation_factor(ds, jumps)
    except SsefeatError as err:  # said, not hidden: f needs a diffusive MSD and at least one jump
        note = f"correlation factor not computed: {err.what}"
    if collective_window is not None:
        parts["/collective"] = S.collective_jumps(jumps, collective_distance, max_time=collective_window)
    save_tree(xr.DataTree.from_dict(parts), output)
    n_ions, t = jumps.attrs["n_ions"], jumps.attrs["duration_ps"]
    click.echo(f"{sites.n_sites} sites ({', '.join(f'{k} x{int((sites.labels == k).sum())}' for k in sites.types)})"
               f" from {sites.source}; {n_ions} {species} ions over {t:.4g} ps; radius {radius:g} Å")
    click.echo(f"{jumps.sizes['jump']} jumps; {float(occ['fraction_outside'].mean()):.1%} of ion-frames outside "
               "every site")
    click.echo(f"{'from':>8} {'to':>8} {'n':>7} {'rate (1/ps per ion)':>24} {'escape rate (1/ps)':>24}")
    for a in rates["from_type"].values:
        for b in rates["to_type"].values:
            r = rates.sel(from_type=a, to_type=b)
            if int(r["n_jumps"]):
                click.echo(f"{a:>8} {b:>8} {int(r['n_jumps']):7d} {float(r['rate']):12.4g} ± "
                           f"{float(r['rate_err']):<9.2g} {float(r['escape_rate']):12.4g} ± "
                           f"{float(r['escape_rate_err']):<9.2g}")
    if "/correlation" in parts:
        c = parts["/correlation"]
        click.echo(f"D_J = {float(c['D_J_cm2_s']):.3e} cm^2/s, D_tracer = {float(c['D_tracer_cm2_s']):.3e} cm^2/s, "
                   f"f = {float(c['f']):.3f} ± {float(c['f_err']):.3f} ({n_ions} ions, {int(c['n_jumps'])} jumps)")
    if note:
        click.echo(note)
    if "/collective" in parts:
        c = parts["/collective"]
        click.echo(f"collective jumps: {c.attrs['n_collective']} of {c.attrs['n_jumps']} in pairs within "
                   f"{collective_window:g} ps and {collective_distance:g} Å")
    click.echo(f"written to {output}")
    if plot:
        from ..plots import sites as sp
        from ..plots.style import save

        folder = Path(plot)
        folder.mkdir(parents=True, exist_ok=True)
        save(sp.rate_matrix(rates), folder / "site_rate_matrix.png")
        save(sp.residence_times(parts["/residence"]), folder / "site_residence_times.png")
        save(sp.occupancy(occ), folder / "site_occupancy.png")
        click.echo(f"figures in {folder}")
