"""Arrhenius conductivity from runs at several temperatures.

Shows ``transport_study``: for each trajectory the Li MSD (FFT, centre-of-mass drift removed), D with an honest
uncertainty (block analysis over the fit window), the Nernst-Einstein conductivity sigma; across temperatures the
Arrhenius fits of D and of sigma*T with activation energies, their errors and the extrapolation to 300 K; and the
Arrhenius figure.

Trajectories: by default synthetic Li-P-S runs (the same framework at every T, Li hopping with rate
nu exp(-E_site / k_B T), site barriers 0.25 eV on average; the fitted E_a comes out lower because the shallow
sites carry most of the diffusion); with ``--md`` short melt-quenched Li-P-S glass runs from
ssefeat's MD engine (``ssefeat.md.systems.lips_glass``, tens of minutes). With your own runs::

    runs = [ssefeat.io.read(f"T{T}.lammpstrj", type_map={1: "Li", 2: "P", 3: "S"}, timestep_ps=0.1)
            for T in (500, 600, 700)]

    python examples/arrhenius_conductivity.py [--small] [--md] [--out DIR]

Writes ``DIR/transport.nc`` (a netCDF DataTree), ``DIR/summary.csv`` and ``DIR/arrhenius.png``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import ssefeat
from ssefeat.dynamics import transport_study

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic import lips_hopping, small_mode  # noqa: E402


def md_runs(temperatures, n_frames: int, seed: int = 0):
    """Short melt-quenched Li-P-S glass runs (ssefeat.md lips_glass, ~250 atoms), one frame per 100 fs."""
    from ssefeat.md.protocols import make_thermostat
    from ssefeat.md.systems.lips_glass import lips_glass

    runs = []
    for k, T in enumerate(temperatures):
        sim = lips_glass("small", temperature=T, seed=seed + k, melt_ps=2.0, quench_rate=500.0, anneal_ps=1.0,
                         equilibrate_ps=1.0, progress=True)
        pos, cells, times = [], [], []

        class Collector:  # a minimal writer: sim.run calls writer.write(sim) every dump_every steps
            def write(self, s):
                pos.append(s.positions.copy())
                cells.append(s.cell.copy())
                times.append(s.time)

        sim.run(100 * n_frames, make_thermostat("nose-hoover", T, 0.001), dump_every=100, writer=Collector())
        runs.append(ssefeat.make_trajectory(np.array(pos), sim.species, cell=np.array(cells), time=np.array(times),
                                            timestep_ps=0.1, wrapped=False, temperature_K=float(T),
                                            source="ssefeat.md lips_glass"))
    return runs


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny data, a few seconds (CI)")
    ap.add_argument("--md", action="store_true", help="simulate the runs with ssefeat.md (slow)")
    ap.add_argument("--out", default="arrhenius_conductivity_output")
    args = ap.parse_args(argv)
    small = args.small or small_mode([])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # --- runs at several temperatures -----------------------------------------------------------------------
    temperatures = [500.0, 650.0, 800.0] if small else [450.0, 525.0, 600.0, 700.0, 800.0]
    window = None  # the lag range (ps) of the D fit; None detects the diffusive regime from the MSD's slope
    if args.md:
        # short MD runs are only diffusive when hot: higher temperatures and a fixed fit window (a first estimate;
        # production studies need runs long enough for the window detection to find the diffusive regime)
        temperatures = [700.0, 850.0, 1000.0] if small else [600.0, 700.0, 800.0, 900.0, 1000.0]
        n_md = 100 if small else 1000  # frames of 0.1 ps
        runs = md_runs(temperatures, n_frames=n_md)
        window = (1.0, 0.3 * n_md * 0.1)
    else:
        runs = [lips_hopping(n_frames=400 if small else 2000, grid=2 if small else 3, temperature=T,
                             structure_seed=0, seed=k) for k, T in enumerate(temperatures)]

    # --- transport: D, sigma per run; Arrhenius over temperatures -------------------------------------------
    tree = transport_study(runs, species="Li", temperatures=temperatures, window=window, ngp=False)
    summary = tree["/"].to_dataset()
    table = summary[["temperature_K", "D_cm2_s", "D_cm2_s_err", "sigma", "sigma_err"]].to_dataframe()
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    fit_d, fit_s = tree["arrhenius_D"].to_dataset(), tree["arrhenius_sigma"].to_dataset()
    for name, fit in (("D", fit_d), ("sigma*T", fit_s)):
        print(f"Arrhenius {name}: E_a = {float(fit.activation_energy):.3f} +- {float(fit.activation_energy_err):.3f} "
              f"eV" + (f", extrapolated to {fit.attrs.get('extrapolate_to_K', 300):g} K: "
                       f"{float(fit.extrapolated):.3g} +- {float(fit.extrapolated_err):.2g}"
                       if "extrapolated" in fit else ""))

    # --- save and plot ----------------------------------------------------------------------------------------
    from ssefeat.io.stage_files import clean_tree
    from ssefeat.plots.style import new_figure, save
    from ssefeat.plots.transport import arrhenius

    clean_tree(tree).to_netcdf(out / "transport.nc")
    table.to_csv(out / "summary.csv")
    fig, (a, b) = new_figure(1, 2, figsize=(9, 3.4))
    for k, (label, T) in enumerate(zip(summary.run.values, summary.temperature_K.values)):
        res = tree[str(label)].to_dataset()
        m = res["msd"].sel(species="Li")
        m = m.sel(axis="total") if "axis" in m.dims else m
        lag = m["lag"].values
        a.loglog(lag[1:], m.values[1:], label=f"{T:.0f} K: D = {float(res.D.sel(species='Li')):.3g} Å²/ps")
        t0, t1 = float(res.window_start.sel(species="Li")), float(res.window_stop.sel(species="Li"))
        a.axvspan(t0, t1, color=f"C{k}", alpha=0.06)
    a.set_xlabel("lag time (ps)")
    a.set_ylabel("Li MSD (Å²)")
    a.legend()
    a.set_title("Li MSD (shaded: D fit windows)")
    arrhenius(fit_s, ax=b)
    b.set_title(r"Arrhenius fit of $\sigma T$")
    save(fig, out / "arrhenius.png")
    print(f"wrote {out}/transport.nc, summary.csv, arrhenius.png")


if __name__ == "__main__":
    main()
