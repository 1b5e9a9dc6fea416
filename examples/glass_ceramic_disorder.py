"""Disorder profile F(z) of a glass-ceramic, its regions and the Li diffusion in each region.

Shows:

1. a crystal | glass sandwich (by default a synthetic one: a rock-salt Li-S crystal slab next to an equally dense
   random slab in which Li diffuse; with ``--md`` a real one from ssefeat's MD engine: ordered Li3PS4 crystal in
   contact with melt-quenched Li3PS4 glass, ``ssefeat.md.systems.glass_ceramic``, several minutes);
2. the disorder profile F(z) along the stacking axis (``disorder_profile``: per slab, the 2D structure factor of the
   projected density compared with a random slab; F ~ 0 crystal, F ~ 1 glass), with concentration and density
   profiles;
3. regions from F(z): is there a significant crystal/glass step, the interfaces fitted with a periodic double-tanh
   step, crystal / interface / glass slabs relative to the fitted levels (``find_regions``); every atom labelled
   by the slab it sits in (``label_atoms``);
4. per-region Li dynamics: MSD with atoms counted in the region they occupy at the time origin, D per region
   (``region_dynamics``);
5. the figures: F(z) with the regions shaded and the fit; the MSD per region.

    python examples/glass_ceramic_disorder.py [--small] [--md] [--out DIR]

Writes ``DIR/disorder.nc``, ``DIR/region_dynamics.nc``, ``DIR/disorder.png`` and ``DIR/region_msd.png`` (and the
MD trajectory ``DIR/glass_ceramic.nc`` with ``--md``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr

import ssefeat
import ssefeat.io
from ssefeat.disorder import disorder_profile
from ssefeat.dynamics.region_dynamics import region_dynamics
from ssefeat.regions import find_regions, label_atoms

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import glass_ceramic_slab, small_mode  # noqa: E402


class FrameCollector:
    """Keeps the frames an MD run writes (``sim.run(..., writer=FrameCollector())``) in memory."""

    def __init__(self):
        self.positions, self.cells, self.times = [], [], []

    def write(self, sim):
        self.positions.append(sim.positions.copy())  # unwrapped, Å
        self.cells.append(sim.cell.copy())
        self.times.append(sim.time)                  # ps


def md_glass_ceramic(n_frames: int, n_cells=(2, 2), temperature: float = 600.0, seed: int = 0) -> xr.Dataset:
    """Build a glass-ceramic with ssefeat's MD engine (shortened protocol) and run NVT, one frame per 50 fs."""
    from ssefeat.md.protocols import make_thermostat
    from ssefeat.md.systems.glass_ceramic import glass_ceramic

    sim = glass_ceramic(n_cells=n_cells, crystal_cells=2, glass_cells=2, temperature=temperature, seed=seed,
                        melt_ps=2.0, quench_rate=400.0, equilibrate_ps=1.0, progress=True)
    frames = FrameCollector()
    sim.run(50 * n_frames, make_thermostat("nose-hoover", temperature, 0.001), dump_every=50, writer=frames,
            progress=True)
    return ssefeat.make_trajectory(np.array(frames.positions), sim.species, cell=np.array(frames.cells),
                                   time=np.array(frames.times), timestep_ps=0.05, wrapped=False,
                                   temperature_K=temperature, source="ssefeat.md glass_ceramic")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny data, a few seconds (CI)")
    ap.add_argument("--md", action="store_true", help="simulate the glass-ceramic with ssefeat.md (minutes)")
    ap.add_argument("--out", default="glass_ceramic_disorder_output")
    args = ap.parse_args(argv)
    small = args.small or small_mode([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- 1. a glass-ceramic trajectory (or ssefeat.io.read("your_run.lammpstrj", type_map=...)) ------------------
    if args.md:
        ds = md_glass_ceramic(n_frames=40 if small else 200, n_cells=(2, 2) if small else (3, 3))
        ssefeat.io.write(ds, out / "glass_ceramic.nc")  # keep the (minutes-long) run
        slab_width = 8.62 / 4  # a quarter of the Li3PS4 cell (a = 8.62 Å)
        # F of the P-S framework: at 600 K the model crystal's Li sublattice is itself partly disordered (mobile Li),
        # which would blur the crystal / glass contrast of the all-atom F (0.3 - 0.8 in the crystal instead of 0.3)
        profile_species = ["P", "S"]
    else:
        ds = glass_ceramic_slab(n_frames=60 if small else 300, cells=3 if small else 4, seed=0)
        slab_width = 5.2 / 2  # one (002) plane spacing of the rock-salt crystal: the finest slab that is still 2D
        profile_species = None  # all atoms
    print(f"{ds.sizes['atom']} atoms, {ds.sizes['frame']} frames, cell "
          f"{np.round(np.diag(ds.cell.values[0]), 2).tolist()} Å ({ds.attrs.get('source')})")

    # --- 2. the disorder profile along z, on a few frames ----------------------------------------------------
    frames = np.unique(np.linspace(0, ds.sizes["frame"] - 1, 3 if small else 8).astype(int))
    profile = disorder_profile(ds, axis="z", slab_width=slab_width, grid_spacing=0.25, sigma=0.5, frames=frames,
                               species=profile_species)
    print("F(z):", " ".join(f"{f:.2f}" for f in profile.F_mean.values))

    # --- 3. regions and atom labels ---------------------------------------------------------------------------
    regions = find_regions(profile)  # thresholds relative to this sample's crystal and glass F levels
    print("rule:", regions.attrs["rule"])
    names = {0: "crystal", 1: "interface", 2: "glass", -1: "none"}
    print("regions:", "".join(names[int(c)][0] for c in regions.region.values),
          "| interfaces at", np.round(regions.interface_position.values, 1).tolist(), "Å, widths",
          np.round(regions.interface_width.values, 2).tolist(), "Å")
    labels = label_atoms(ds, regions)

    # --- 4. Li dynamics per region ----------------------------------------------------------------------------
    dyn = region_dynamics(ds, labels, species="Li")
    for name in dyn.region.values:
        one = dyn.sel(region=name)
        if np.isfinite(float(one.D)):
            print(f"  {name:9s}: D(Li) = {float(one.D_cm2_s):.2e} +- {float(one.D_err_cm2_s):.1e} cm^2/s")
        elif np.isfinite(float(one.D_apparent)):
            print(f"  {name:9s}: no diffusive window; apparent D(Li) = {float(one.D_apparent) * 1e-4:.2e} +- "
                  f"{float(one.D_apparent_err) * 1e-4:.1e} cm^2/s (MSD exponent {float(one.msd_exponent):.2f})")
        else:
            print(f"  {name:9s}: no atoms")

    # --- 5. save and plot -------------------------------------------------------------------------------------
    from ssefeat.io.stage_files import save_dataset
    from ssefeat.plots.disorder import disorder_figure, region_msd_figure
    from ssefeat.plots.style import save

    result = xr.merge([profile, regions.rename({v: f"region_{v}" for v in regions.data_vars if v in profile})],
                      combine_attrs="override")
    save_dataset(result, out / "disorder.nc")          # F(z), profiles, regions, interfaces
    save_dataset(dyn, out / "region_dynamics.nc")      # MSD (lag, region), D per region
    save(disorder_figure(profile, regions, title="glass-ceramic: disorder profile"), out / "disorder.png")
    save(region_msd_figure(dyn), out / "region_msd.png")
    print(f"wrote {out}/disorder.nc, region_dynamics.nc, disorder.png, region_msd.png")


if __name__ == "__main__":
    main()
