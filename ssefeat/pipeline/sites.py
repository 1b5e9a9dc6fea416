"""Stage 8 (optional): site-resolved hopping of the mobile ions in every run (:mod:`ssefeat.sites`): jumps, rates
per site-pair type, residence times, the correlation factor, E_a per jump type over the runs' temperatures and the
CSM / volume of each site's anion polyhedron; a DataTree, and the report's sites section."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..io.stage_files import frame_coords, read_frames
from .stage import Stage
from .transport import mobile_trajectory


def _sites(config, first_run):
    from ..sites import find_sites, sites_from_structure

    sc, mobile = config["sites"], config["species"]["mobile"]
    if sc["structure"]:
        return sites_from_structure(sc["structure"], species=mobile, labels=sc["labels"], supercell=sc["supercell"])
    return find_sites(first_run, mobile)


class SitesStage(Stage, label="sites", inputs=("trajs",), sections=("trajectory", "species", "sites"),
                 storage="tree"):

    def compute(self):
        from ..errors import SsefeatError
        from ..sites import (correlation_factor, jump_arrhenius, jump_diffusivity, jump_rates, residence_times,
                             site_descriptors, site_jumps, site_occupancy, site_states, transition_matrix)

        sc, mobile = self.config["sites"], self.config["species"]["mobile"]
        temps = self.config["trajectory"]["temperatures"]
        runs = [mobile_trajectory(self.pipe, p) for p in self.trajs]
        sites = _sites(self.config, runs[0])
        nodes = {"/": xr.Dataset(sites.to_dataset().data_vars, attrs={
            "species": mobile, "radius_angstrom": float(sc["radius"]), "site_source": sites.source})}
        jumps, temperatures = [], []
        for k, ds in enumerate(runs):
            st = site_states(ds, sites, mobile, sc["radius"])
            J = site_jumps(ds, sites, mobile, sc["radius"], min_residence=int(sc["min_residence"]), states=st)
            occ = site_occupancy(ds, sites, states=st)
            T = float(temps[k]) if temps else float(ds.attrs.get("temperature_K", np.nan))
            J.attrs["temperature_K"] = T
            nodes[f"/run_{k}/jumps"] = J
            nodes[f"/run_{k}/occupancy"] = occ.drop_vars(["site_index", "occupancy"])  # the per-ion table stays out
            nodes[f"/run_{k}/rates"] = jump_rates(J)
            dj, dj_err = jump_diffusivity(J)
            nodes[f"/run_{k}/rates"].attrs.update(D_J_A2_ps=dj, D_J_err_A2_ps=dj_err)
            nodes[f"/run_{k}/transitions"] = transition_matrix(J)
            nodes[f"/run_{k}/residence"] = residence_times(J)
            try:
                nodes[f"/run_{k}/correlation"] = correlation_factor(ds, J)
            except SsefeatError as err:  # reported, not hidden: f needs jumps and a fitted D
                nodes[f"/run_{k}/rates"].attrs["correlation_note"] = err.what
                self.pipe.say(f"sites run {k}: correlation factor not computed: {err.what}")
            jumps.append(J)
            temperatures.append(T)
        if np.unique([t for t in temperatures if np.isfinite(t)]).size >= 2:
            nodes["/arrhenius"] = jump_arrhenius(jumps, temperatures)
        if sc["descriptors"]:
            n = frame_coords(self.trajs[0]).sizes["frame"]
            frames = np.unique(np.linspace(0, n - 1, min(10, n)).astype(int))
            nodes["/descriptors"] = site_descriptors(read_frames(self.trajs[0], frames), sites,
                                                     self.config["species"]["anion"])
        return xr.DataTree.from_dict(nodes)


def _f(value, err) -> str:
    return f"{float(value):.3g} ± {float(err):.2g}"


def report_lines(tree) -> list[str]:
    """The report's sites section from the stage's DataTree."""
    root = tree["/"].to_dataset()
    runs = sorted(k for k in tree.children if k.startswith("run_"))
    lines = ["## Sites and jumps", "",
             f"{root.sizes['site']} sites from {root.attrs['site_source']}, radius "
             f"{root.attrs['radius_angstrom']:g} Å;"
             " a jump is a change between two different sites, time outside every site ignored (GEMDAT's rule). "
             "Rates: Poisson errors; escape rate = jumps per ps spent on sites of the from type.", "",
             "| run | T (K) | ions | jumps | D_J (cm²/s, error over ions) | f = D_tracer / D_J |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        J = tree[r]["jumps"].to_dataset()
        c = tree[r]["correlation"].to_dataset() if "correlation" in tree[r].children else None
        ra = tree[r]["rates"].attrs
        lines.append(f"| {r} | {J.attrs['temperature_K']:.0f} | {J.attrs['n_ions']} | {J.sizes['jump']} | "
                     f"{ra['D_J_A2_ps'] * 1e-4:.3e} ± {ra['D_J_err_A2_ps'] * 1e-4:.1e} | "
                     + (f"{_f(c['f'], c['f_err'])} |" if c is not None else
                        f"not computed: {ra.get('correlation_note', '')} |"))
    lines += ["", "| run | jump | n | escape rate (1/ps) | mean residence on the from type (ps, visits) |",
              "|---|---|---|---|---|"]
    for r in runs:
        rates, res = tree[r]["rates"].to_dataset(), tree[r]["residence"].to_dataset()
        for a in rates["from_type"].values:
            for b in rates["to_type"].values:
                x = rates.sel(from_type=a, to_type=b)
                if int(x["n_jumps"]):
                    m = res.sel(site_type=a)
                    lines.append(f"| {r} | {a} → {b} | {int(x['n_jumps'])} | "
                                 f"{_f(x['escape_rate'], x['escape_rate_err'])} | "
                                 f"{_f(m['mean_residence_time'], m['mean_residence_time_err'])} "
                                 f"({int(m['n_visits'])}) |")
    if "arrhenius" in tree.children:
        a = tree["arrhenius"].to_dataset()
        pairs = [(f, t) for f in a["from_type"].values for t in a["to_type"].values
                 if np.isfinite(float(a["activation_energy"].sel(from_type=f, to_type=t)))]
        rows = []
        for f, t in pairs:
            x = a.sel(from_type=f, to_type=t)
            rows.append(f"{f} → {t}: {_f(x['activation_energy'], x['activation_energy_err'])} eV "
                        f"({int(x['n_temperatures'])} temperatures, {int(x['n_jumps_total'])} jumps)")
        lines += ["", "E_a per jump type (Arrhenius of the escape rate over the runs' temperatures, weighted, Birge "
                  "scaled): " + ("; ".join(rows) or "no jump type seen at two temperatures") + "."]
    if "descriptors" in tree.children:
        d = tree["descriptors"].to_dataset()
        rows = [f"{t}: V_T {float(d['type_volume_T'].sel(site_type=t)):.3g} Å³, CSM_T "
                f"{float(d['type_csm_T'].sel(site_type=t)):.3g}, V_O {float(d['type_volume_O'].sel(site_type=t)):.3g}"
                f" Å³, CSM_O {float(d['type_csm_O'].sel(site_type=t)):.3g}" for t in d["site_type"].values]
        lines += ["", "Site polyhedra (run 0, mean over the sites of a type and 10 frames): " + "; ".join(rows) + "."]
    lines.append("")
    return lines


def sites_figures(folder, tree) -> list[str]:
    """The stage's figures (rate matrix and residence times per run, f against temperature): file names written."""
    from ..plots import sites as sp
    from ..plots.style import save

    names = []
    runs = sorted(k for k in tree.children if k.startswith("run_"))
    for r in runs:
        save(sp.rate_matrix(tree[r]["rates"].to_dataset()), folder / f"sites_rates_{r}.png")
        save(sp.residence_times(tree[r]["residence"].to_dataset()), folder / f"sites_residence_{r}.png")
        names += [f"sites_rates_{r}.png", f"sites_residence_{r}.png"]
    have = [r for r in runs if "correlation" in tree[r].children]
    if have:
        c = [tree[r]["correlation"].to_dataset() for r in have]
        T = [float(tree[r]["jumps"].attrs["temperature_K"]) for r in have]
        save(sp.correlation_vs_temperature(T, [float(x["f"]) for x in c], [float(x["f_err"]) for x in c]),
             folder / "sites_correlation_factor.png")
        names.append("sites_correlation_factor.png")
    return names
