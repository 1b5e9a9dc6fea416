"""CLI: ``ssefeat disorder TRAJ`` (disorder profile F(z), concentration / density profiles, regions)."""
from __future__ import annotations

import click

from .. import defaults as D
from .group import main, read_options


@main.command("disorder")
@click.argument("trajectory", type=click.Path())
@click.option("--axis", default=D.DISORDER_AXIS, show_default=True, help="slab axis: a, b, c (or x, y, z)")
@click.option("--slab-width", type=float, default=D.SLAB_WIDTH, show_default=True, help="slab width in Å")
@click.option("--grid-spacing", type=float, default=D.GRID_SPACING, show_default=True,
              help="grid spacing in Å (< sigma)")
@click.option("--sigma", type=float, default=D.SIGMA, show_default=True, help="Gaussian width in Å")
@click.option("--species", multiple=True,
              help=f"species making the density for F (repeatable), or 'all'; default the framework "
                   f"{', '.join(D.FRAMEWORK)} (as `ssefeat run`)")
@click.option("--reference", type=click.Choice(["random", "analytic"]), default="random", show_default=True,
              help="F_raw of a random slab: seeded random realisations or the analytic Gaussian limit")
@click.option("--n-random", type=int, default=None,
              help="random realisations of the reference (default: ceil(96 / slabs), 1 to 8)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the random reference")
@click.option("--crystal-below", type=float, default=0.35, show_default=True,
              help="crystal below this: a fraction of the way from the sample's crystal F level to its glass level "
                   "(--regions adaptive) or an F value (--regions threshold)")
@click.option("--glass-above", type=float, default=0.65, show_default=True,
              help="glass above this (same meaning as --crystal-below)")
@click.option("--regions", "method", type=click.Choice(["adaptive", "threshold", "fit"]), default="adaptive",
              show_default=True,
              help="slab classes relative to the sample's fitted crystal / glass levels, from fixed F cut-offs, or "
                   "from the fitted interface positions")
@click.option("--alpha", type=float, default=0.01, show_default=True,
              help="significance level of the interface test (a step in F against the slab scatter)")
@read_options("stride", "start", "stop", "timestep", "topology", "format")
@click.option("-o", "--output", type=click.Path(), default="disorder.nc", show_default=True,
              help="netCDF file with F(frame, z), F_mean(z), profiles, regions and interfaces")
@click.option("--plot", type=click.Path(), default=None, help="figure file (png, pdf, svg)")
def disorder_cmd(trajectory, axis, slab_width, grid_spacing, sigma, species, reference, n_random, seed, crystal_below,
                 glass_above, method, alpha, stride, start, stop, timestep_ps, topology, fmt, output, plot):
    """Disorder profile F(z) along a cell axis (1 = random slab, ~0 = crystal), element concentration and density
    profiles on the same slabs, crystal / interface / glass regions and the interface positions."""
    import numpy as np

    from ..disorder import disorder_profile
    from ..io import read
    from ..io.atomic import atomic_output
    from ..regions import find_regions

    from ..disorder import axis_index
    from ..errors import ParameterError

    axis_index(axis)  # a bad --axis is refused before the trajectory is read
    ds = read(trajectory, fmt, topology=topology, start=start, stop=stop, stride=stride, timestep_ps=timestep_ps)
    chosen = None if tuple(species) == ("all",) else list(species) or list(D.FRAMEWORK)
    present = set(ds["species"].values.astype(str).tolist())
    if not species and not set(chosen) <= present:
        raise ParameterError(f"the default --species (the framework {', '.join(D.FRAMEWORK)}) is not in "
                             f"{trajectory} (its species: {', '.join(sorted(present))}).",
                             fix="name the species whose order F measures (--species A --species B) or use "
                                 "--species all.")
    prof = disorder_profile(ds, axis=axis, slab_width=slab_width, grid_spacing=grid_spacing, sigma=sigma,
                            species=chosen, reference=reference, n_random=n_random, seed=seed)
    reg = find_regions(prof, crystal_below=crystal_below, glass_above=glass_above, method=method, alpha=alpha,
                       seed=seed)
    out = combine(prof, reg)
    out.attrs["source_file"] = str(trajectory)
    with atomic_output(output) as tmp:
        out.to_netcdf(tmp)
    f = prof["F_mean"].values
    codes = reg["region"].values
    click.echo(f"{prof.sizes['frame']} frame(s), {prof.sizes['z']} slabs of {prof.attrs['slab_width_actual']:.3f} Å "
               f"along {prof.attrs['axis']}; grid {prof.attrs['n_grid']}, sigma {sigma} Å; "
               f"F_raw of a random slab {prof.attrs['F_raw_random']:.4g} ({reference})")
    click.echo(f"F(z): min {np.nanmin(f):.3f}, mean {np.nanmean(f):.3f}, max {np.nanmax(f):.3f}; slabs: "
               + ", ".join(f"{(codes == c).sum()} {n}" for c, n in enumerate(("crystal", "interface", "glass"))))
    if reg.attrs["fit_ok"]:
        pos = reg["interface_position"].values
        w = reg["interface_width_10_90"].values
        click.echo(f"interfaces: crystal->glass at {pos[0]:.2f} Å (10-90 width {w[0]:.2f} Å), glass->crystal at "
                   f"{pos[1]:.2f} Å ({w[1]:.2f} Å); step F {reg.attrs['F_crystal']:.3f} -> "
                   f"{reg.attrs['F_glass']:.3f}, z = {reg.attrs['interface_z']:.1f}, "
                   f"p = {reg.attrs['interface_p_value']:.3g}")
    else:
        click.echo(f"no interfaces: {reg.attrs['fit_message']}")
    click.echo(f"regions: {reg.attrs['rule']}")
    click.echo(f"written to {output}")
    if plot:
        from ..plots.disorder import disorder_figure
        from ..plots.style import save

        save(disorder_figure(prof, reg, title=str(trajectory)), plot)
        click.echo(f"figure written to {plot}")


def combine(profile, regions):
    """One Dataset with the profile and the regions (region, region_name, F_fit, interface_*), for netCDF."""
    out = profile.copy()
    for name in ("region", "region_name", "F_fit", "interface_position", "interface_width", "interface_width_10_90"):
        out[name] = regions[name]
    for key in ("crystal_below", "glass_above", "method", "rule", "levels_from", "F_threshold_crystal",
                "F_threshold_glass", "interface_significant", "interface_p_value", "interface_z", "contrast",
                "slab_noise", "slab_noise_from", "fit_ok", "fit_message", "F_crystal", "F_glass", "fit_rms",
                "flag_values", "flag_meanings", "legend"):
        if key in regions.attrs:
            out.attrs[f"regions_{key}"] = regions.attrs[key]
    out["region"].attrs.pop("crystal_below", None)
    out["region"].attrs.pop("glass_above", None)
    return out
