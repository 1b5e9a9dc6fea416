"""Stage 8 (optional): site-resolved hopping of the mobile ions in every run (:mod:`ssefeat.sites`): jumps, rates
per site-pair type, residence times, the correlation factor, E_a per jump type over the runs' temperatures and the
CSM / volume of each site's anion polyhedron; softness (in-domain samples) and cluster environment of ions about to
leave their site against those that stay (when the softness / features stages ran); a DataTree, and the report's
sites section. The stage's hash holds the hashes of the softness and features stores it reads, so a changed
softness or environment recomputes it."""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..config import section_hash
from ..io.stage_files import frame_coords, read_frames
from ..provenance import parameters_of
from .stage import Stage
from .transport import mobile_trajectory


def leaving_quantities(features, softness) -> dict:
    """The per-ion quantities of one run whose leaving vs staying contrast the stage computes: ``softness`` (in the
    model's training domain only) when the softness stage ran, the cluster environment when the features have one."""
    from ..sites import environment_quantities
    from ..softness import in_domain_softness

    q = {}
    if softness is not None:
        q["softness"] = in_domain_softness(softness).assign_attrs(units="1", long_name="softness, in-domain samples")
    if features is not None:
        q.update(environment_quantities(features))
    return q


class SitesStage(Stage, label="sites", inputs=("trajs", "features", "softness"),
                 sections=("trajectory", "species", "sites"), storage="tree"):

    def key(self) -> str:  # the stores read for the leaving contrasts are part of what the result depends on
        used = {"features": [f.attrs.get("stage_hash") for f in self.features],
                "softness": [s.attrs.get("stage_hash") for s in self.softness]}
        return section_hash(self.config, *self.sections, extra=used)

    def compute(self):
        from ..sites import (analyse_run, find_sites, jump_arrhenius, jump_diffusivity, leaving_contrasts,
                             site_descriptors, sites_from_structure)

        sc, mobile = self.config["sites"], self.config["species"]["mobile"]
        temps = self.config["trajectory"]["temperatures"]
        runs = [mobile_trajectory(self.pipe, p) for p in self.trajs]
        sites = (sites_from_structure(sc["structure"], species=mobile, labels=sc["labels"], supercell=sc["supercell"])
                 if sc["structure"] else find_sites(runs[0], mobile))
        nodes = {"/": xr.Dataset(sites.to_dataset().data_vars, attrs={
            "species": mobile, "radius_angstrom": float(sc["radius"]), "site_source": sites.source})}
        jumps, temperatures = [], []
        for k, ds in enumerate(runs):
            T = float(temps[k]) if temps else float(ds.attrs.get("temperature_K", np.nan))
            parts, why = analyse_run(ds, sites, mobile, sc["radius"], min_residence=int(sc["min_residence"]),
                                     window=tuple(sc["window"]) if sc["window"] else None, temperature=T)
            J, occ = parts["jumps"], parts.pop("occupancy")
            parts["rates"].attrs.update(zip(("D_J_A2_ps", "D_J_err_A2_ps"), jump_diffusivity(J)))
            q = leaving_quantities(self.features[k] if k < len(self.features) else None,
                                   self.softness[k] if k < len(self.softness) else None)
            if q:
                parts["leaving"] = leaving_contrasts(occ, J, q, int(sc["leaving_window"]),
                                                     seed=int(self.config["trajectory"]["seed"]))
            if why is not None:  # reported, not hidden: f needs jumps and a fitted D
                parts["rates"].attrs["correlation_note"] = why
                self.pipe.say(f"sites run {k}: correlation factor not computed: {why}")
            elif parts["correlation"].attrs["verdict"] == "apparent":
                self.pipe.say(f"sites run {k}: {parts['correlation'].attrs['window_note']}")
            parts["occupancy"] = occ.drop_vars(["site_index", "occupancy"])  # the per-ion table stays out
            nodes.update({f"/run_{k}/{name}": parts[name] for name in ("jumps", "occupancy", "rates", "transitions",
                                                                        "residence", "leaving", "correlation")
                          if name in parts})
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
    """``value ± err``; ``n/a`` for a missing value, no error bar where there is none (one visit, one sample)."""
    value, err = float(value), float(err)
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.3g} ± {err:.2g}" if np.isfinite(err) else f"{value:.3g} (no error: one sample)"


def _leaving_lines(tree, runs) -> list[str]:
    """Leaving vs staying contrasts per run and quantity: all sites, and per site type when there are several."""
    have = [r for r in runs if "leaving" in tree[r].children]
    if not have:
        return []
    first = tree[have[0]]["leaving"].to_dataset()
    w = parameters_of(first)["window_frames"]
    lines = ["", f"Structure of ions about to leave their site: a (frame, ion) sample on a site is *leaving* when the "
             f"ion departs that site within {w} frames, else *staying*; difference of the means, 95 % percentile "
             "bootstrap interval over ions; softness only where the sample lies in the model's training domain, "
             "fractions only where an anion is within r_env.", "",
             "| run | quantity (units) | sites | leaving | staying | leaving − staying [95 % CI] | "
             "samples leaving / staying | ions |", "|---|---|---|---|---|---|---|---|"]
    for r in have:
        c = tree[r]["leaving"].to_dataset()
        groups = [g for g in c["group"].values.tolist() if g == "all" or c.sizes["group"] > 2]
        for q in c["quantity"].values:
            for g in groups:
                x = c.sel(quantity=q, group=g)
                if not (int(x["n_leaving"]) and int(x["n_staying"])):
                    continue
                lines.append(f"| {r} | {q} ({str(x['units'].values) or '1'}) | {g} | {float(x['mean_leaving']):.3g} | "
                             f"{float(x['mean_staying']):.3g} | {float(x['difference']):+.3g} "
                             f"[{float(x['ci_low']):+.3g}, {float(x['ci_high']):+.3g}] | {int(x['n_leaving'])} / "
                             f"{int(x['n_staying'])} | {int(x['n_ions'])} |")
    return lines


def report_lines(tree) -> list[str]:
    """The report's sites section from the stage's DataTree."""
    from ..sites.correlation import describe_f

    root = tree["/"].to_dataset()
    runs = sorted(k for k in tree.children if k.startswith("run_"))
    lines = ["## Sites and jumps", "",
             f"{root.sizes['site']} sites from {root.attrs['site_source']}, radius "
             f"{root.attrs['radius_angstrom']:g} Å;"
             " a jump is a change between two different sites, time outside every site ignored (GEMDAT's rule). "
             "Rates: Poisson errors; escape rate = jumps per ps spent on sites of the from type.", "",
             "| run | T (K) | ions | jumps | D_J (cm²/s, error over ions) "
             "| f = D_tracer / D_J (D_tracer fit window) |",
             "|---|---|---|---|---|---|"]
    for r in runs:
        J = tree[r]["jumps"].to_dataset()
        c = tree[r]["correlation"].to_dataset() if "correlation" in tree[r].children else None
        ra = tree[r]["rates"].attrs
        lines.append(f"| {r} | {J.attrs['temperature_K']:.0f} | {J.attrs['n_ions']} | {J.sizes['jump']} | "
                     f"{ra['D_J_A2_ps'] * 1e-4:.3e} ± {ra['D_J_err_A2_ps'] * 1e-4:.1e} | "
                     + (f"{describe_f(c)} |" if c is not None else
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
        cells = [(f, t, a.sel(from_type=f, to_type=t)) for f in a["from_type"].values for t in a["to_type"].values]
        rows = [f"{f} → {t}: {_f(x['activation_energy'], x['activation_energy_err'])} eV "
                f"({int(x['n_temperatures'])} temperatures, {int(x['n_jumps_total'])} jumps)"
                for f, t, x in cells if np.isfinite(float(x["activation_energy"]))]
        lines += ["", "E_a per jump type (Arrhenius of the escape rate over the runs' temperatures, weighted, Birge "
                  "scaled): " + ("; ".join(rows) or "no jump type seen at two temperatures") + "."]
    lines += _leaving_lines(tree, runs)
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
        save(sp.correlation_vs_temperature(T, [float(x["f"]) for x in c], [float(x["f_err"]) for x in c],
                                           [x.attrs.get("verdict") == "apparent" for x in c]),
             folder / "sites_correlation_factor.png")
        names.append("sites_correlation_factor.png")
    if "arrhenius" in tree.children:
        save(sp.jump_arrhenius(tree["arrhenius"].to_dataset()), folder / "sites_arrhenius.png")
        names.append("sites_arrhenius.png")
    return names
