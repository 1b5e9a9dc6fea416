"""Writing a glass study: ``study.json`` (every number), ``study.nc`` (the results as a DataTree,
:mod:`.study_tree`), ``study_report.md`` (tables and the comparison with the thesis), ``softness_<glass>.nc``,
``li_s_rdf_soft_hard.nc`` and figures (S distributions per glass, E_a against P2S6 content, S by anion type, the
links, S against potential energy and Voronoi volume per glass, Li-S RDFs of soft and hard Li by anion type), each
written to a temporary name and renamed."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..correlate import p_value_text
from .study_tree import plain as _plain
from .temperature_plan import fitted_temperatures, plan_lines
from .thesis_comparison import _num as _f
from .thesis_comparison import _pm

__all__ = ["write_study", "report_markdown"]


def report_markdown(res: dict) -> str:
    """The study as Markdown tables (units, errors and samples in every row)."""
    g_all = res["glasses"]
    lines = ["# LiPS glass series: softness from Li-Li structure, transport, links, barriers", "",
             f"Softness at {res['softness_temperature_K']:g} K; settings: `{json.dumps(_plain(res['settings']))}`.",
             "", "## Glasses and transport", "",
             "| glass | PS4 / P2S7 / P2S6 | fraction of S in P2S6 | runs: T (K), D +- SE over ions (cm^2/s), "
             "verdict | E_a +- 1 sigma (eV) |",
             "|---|---|---|---|---|"]
    for g in g_all:
        c, t = res["counts"][g], res["transport"][g]
        runs = "; ".join(f"{r['temperature_K']:g}: {_f(r['D_cm2_s'])} +- {_f(r['D_cm2_s_err'], '.2g')} "
                         f"({r['verdict']})" for r in t["runs"])
        lines.append(f"| {g} | {c['PS4']} / {c['P2S7']} / {c['P2S6']} | {res['s_fraction'][g]['P2S6']:.3f} | {runs} "
                     f"| {_f(t['E_a_eV'], '.3f')} +- {_f(t['E_a_err_eV'], '.3f')} |")
    if res.get("temperature_plan"):  # studies stored before the plan was recorded have none
        lines += [""] + plan_lines(res["temperature_plan"])
    tr = res["E_a_trend"]
    trend = (f"E_a trend: slope {_f(tr['slope'])} +- {_f(tr['slope_err'], '.2g')} (1 sigma) eV per unit S "
             f"fraction in P2S6 (weighted line, n = {tr['n']} glasses, reduced chi^2 {_f(tr['reduced_chi2'])})."
             if tr["n"] >= 2 else f"E_a trend: none ({tr['n']} glasses with an Arrhenius E_a; a line needs 2, its "
                                  "error 3).")
    lines += ["", trend, "",
              "## Softness model (one model, pooled glasses, last frame block of each glass held out)", "",
              f"Labels ({res['settings'].get('label', 'd_cum')}, Å^2): rearranging above r_cut "
              f"{_f(res['model']['r_cut'])}, not rearranging below nr_cut {_f(res['model']['nr_cut'])} for "
              f"{res['model'].get('window', 2)} frames either side; C = "
              f"{_f(res['model']['C'])}; held-out balanced accuracy (all glasses) {_overall_accuracy(res['model'])}; "
              "chance = 0.5.", "",
              "| glass | held-out balanced accuracy [95 % CI, resampling ions] | n samples / frames / ions | "
              "mean S +- SE (ions) | fraction of samples with S > 0 | n ions |", "|---|---|---|---|---|---|"]
    for g in g_all:
        a, s = res["model"]["accuracy"][g], res["per_glass"][g]["summary"]
        ci = a.get("balanced_accuracy_ci", [float("nan")] * 2)
        lines.append(f"| {g} | {_f(a['balanced_accuracy'], '.3f')} [{_f(ci[0], '.3f')}, {_f(ci[1], '.3f')}] | "
                     f"{a['n_test']} / "
                     f"{a['n_test_frames']} / {a.get('n_test_ions', 'n/a')} | {_f(s['mean'], '+.3f')} +- "
                     f"{_f(s['mean_se_ions'], '.3f')} | "
                     f"{_f(s['fraction_soft'], '.2f')} | {s['n_ions']} |")
    lines += _chance_lines(res["model"], g_all)
    lines += ["", "## Softness by anion type (Li with that anion's S within r_env = "
              f"{_f(res['settings'].get('r_env'))} Å / as nearest anion)", "",
              "| glass | anion | mean S within (SE over ions, n ions) | mean S nearest (SE over ions, n ions) |",
              "|---|---|---|---|"]
    for g in g_all:
        for t, row in res["per_glass"][g]["by_anion"].items():
            w, n = row["within"], row["nearest"]
            lines.append(f"| {g} | {t} | {_f(w['mean'], '+.3f')} ({_f(w['mean_se_ions'], '.3f')}, {w['n_ions']}) | "
                         f"{_f(n['mean'], '+.3f')} ({_f(n['mean_se_ions'], '.3f')}, {n['n_ions']}) |")
    lines += ["", "## Links: Pearson r of S (95 % CI resampling ions; p)", "",
              "| glass | variable | r | CI | p | n samples / ions |", "|---|---|---|---|---|---|"]
    blocks = [(g, res["per_glass"][g]["ion_links"]) for g in g_all] + [("all (per ion)", res["pooled_ion_links"])]
    blocks.append(("across glasses (mean S; units: glasses)", res.get("glass_links", {})))
    for g, links in blocks:
        n_boot = None if g.startswith("across") else res["settings"].get("n_boot")  # across glasses: Fisher z
        for name, k in links.items():
            lines.append(f"| {g} | {name} | {_f(k['r'], '+.3f')} | [{_f(k['ci_low'], '+.3f')}, "
                         f"{_f(k['ci_high'], '+.3f')}] | {p_value_text(k['p_value'], n_boot)} | "
                         f"{k['n']} / {k['n_groups']} |")
    rdf = res.get("rdf")
    if rdf is not None:
        lines += ["", f"## Li-S RDF by anion type in {res['barrier_glass']} (highest peak: r in Å, g; Li-frames "
                  "averaged)", "",
                  "| anion | soft Li | hard Li |", "|---|---|---|"]
        r = rdf["r"].values
        for t in rdf["cluster_type"].values:
            cells = []
            for grp in ("soft", "hard"):
                g = np.nan_to_num(rdf["g"].sel(group=grp, cluster_type=t).values)
                k = int(np.argmax(g))
                cells.append(f"{r[k]:.2f}, {g[k]:.2f} ({int(rdf['n_centres'].sel(group=grp))} Li-frames)")
            lines.append(f"| {t} | {cells[0]} | {cells[1]} |")
    if res.get("barriers") is not None:
        lines += _barrier_lines(res, res["barriers"])
    lines += ["", "## Comparison with the thesis (seeds/003 ch. 5.1)", "",
              "| statement | source | measured | verdict |", "|---|---|---|---|"]
    lines += [f"| {r['statement']} | {r['source']} | {r['measured']} | **{r['verdict']}** |" for r in res["comparison"]]
    return "\n".join(lines) + "\n"


def _chance_lines(model: dict, glasses) -> list[str]:
    """A warning when the model's held-out accuracy is not distinguishable from chance (its 95 % CI reaches 0.5),
    overall or in some glasses: the softness views then describe the model more than the glass."""
    ci = model["test"].get("balanced_accuracy_ci")
    low = [g for g in glasses if not model["accuracy"][g].get("balanced_accuracy_ci", [np.nan])[0] > 0.5]
    if ci is not None and not ci[0] > 0.5:
        return ["", f"**The model does not beat chance**: its held-out balanced accuracy interval [{_f(ci[0], '.3f')}, "
                f"{_f(ci[1], '.3f')}] reaches 0.5, so S does not separate rearranging from quiet Li here; the "
                "softness views below show what the model computes, not a link of structure to dynamics."]
    if low:
        return ["", f"Held-out balanced accuracy not distinguishable from chance (95 % CI reaches 0.5, or no "
                f"interval) in: {', '.join(low)}; read S in these glasses with that in mind."]
    return []


def _overall_accuracy(model: dict) -> str:
    """The pooled held-out balanced accuracy with its 95 % interval, the interval's unit and count, and n samples."""
    t = model["test"]
    ci = t.get("balanced_accuracy_ci")
    text = _f(t.get("balanced_accuracy"), ".3f")
    if ci is not None:
        text += (f" [{_f(ci[0], '.3f')}, {_f(ci[1], '.3f')}] (95 % CI resampling {t.get('n_ci_units', 'n/a')} "
                 f"{t.get('ci_unit', 'ion')}s)")
    return text + f", {t.get('n_samples', 'n/a')} held-out samples"


def _group_text(c: dict) -> str:
    if not c["n"]:
        return "0"
    return f"{c['n']}, {c['median']:.3f}, {_pm(c['mean'], c['se'])}"


def _barrier_lines(res: dict, bar: dict) -> list[str]:
    """The barrier section: one row per glass (n, median, mean +- SE per group, the test or why none), then every
    band with its glass."""
    from .glass_barriers import barrier_groups, difference_text

    hops = bar.get("targets", "empty_sites") == "hops"
    lines = ["", "## NEB barriers of soft (S > 0) and hard (S < 0) Li (" + (
        "observed hops, each from its quenched start frame)" if hops else
        "nearest empty Li sites in one quenched frame per glass)"), "",
        f"Forward barrier (eV) of each converged band, one Li one sample, from frames of the "
        f"{res['softness_temperature_K']:g} K runs; soft against hard by a two-sided Mann-Whitney U test per glass; "
        "SE = standard error of the mean over bands; a band without a saddle inside the path (energy rising to its "
        "end) gives the end-to-end energy difference, not a barrier between minima. Figure: `barriers_by_glass.png`.",
        "", "| glass | frame / hop events | soft: n, median, mean +- SE (eV) | hard: n, median, mean +- SE (eV) | "
        "soft vs hard | converged without a saddle inside (soft / hard) | bands not converged / targets skipped |",
        "|---|---|---|---|---|---|---|"]
    for g, c in barrier_groups(bar, res["barrier_glass"]).items():
        where = ("pooled" if g == "all glasses" else f"frame {c['frame']}" if "frame" in c else
                 f"{c['n_events']} events" if "n_events" in c else "n/a")
        flat = [sum(r["converged"] and not r.get("saddle_inside", True) for r in bar[k]
                    if g == "all glasses" or r.get("glass", res["barrier_glass"]) == g) for k in ("soft", "hard")]
        lines.append(f"| {g} | {where} | {_group_text(c['soft'])} | {_group_text(c['hard'])} | "
                     f"{difference_text(c)} | {flat[0]} / {flat[1]} | {c['n_unconverged']} / {c['n_skipped']} |")
    lines += ["", "| glass | Li | kind | S | forward (eV) | backward (eV) | hop (Å) | converged | saddle inside |",
              "|---|---|---|---|---|---|---|---|---|"]
    for kind in ("soft", "hard"):
        for r in bar[kind]:
            lines.append(f"| {r.get('glass', res['barrier_glass'])} | {r['atom']} | {kind} | {r['S']:+.3f} | "
                         f"{r['barrier_forward']:.3f} | {r['barrier_backward']:.3f} | {r['hop_length']:.2f} | "
                         f"{r['converged']} | {r.get('saddle_inside', '')} |")
    why = {}
    for r in bar["skipped"]:
        why[r["why"]] = why.get(r["why"], 0) + 1
    lines.append(f"\nSkipped targets: {len(bar['skipped'])} ("
                 f"{'; '.join(f'{w}: {n}' for w, n in sorted(why.items())) or 'none'}); bands not converged "
                 f"(listed, left out of the tests): {bar.get('n_unconverged', 0)}.")
    return lines


def _figures(res: dict, folder: Path) -> list[str]:
    """Write the study's figures into ``folder``; returns their file names."""
    from ..plots.style import new_figure, save

    edges = np.asarray(res["histogram_edges"])
    mid = 0.5 * (edges[1:] + edges[:-1])
    fig, ax = new_figure(figsize=(6.4, 4.2))
    for g in res["glasses"]:
        s = res["per_glass"][g]["summary"]
        line, = ax.plot(mid, s["histogram"], label=f"{g} (S frac. in P2S6 {res['s_fraction'][g]['P2S6']:.2f}): "
                        f"mean S {_f(s['mean'], '+.3f')} ± {_f(s['mean_se_ions'], '.3f')}, {s['n_ions']} ions; "
                        f"{accuracy_text(res, g)}")
        top = float(np.nanmax(s["histogram"])) if np.isfinite(s["histogram"]).any() else 0.0
        ax.errorbar([s["mean"]], [1.05 * top], xerr=[s["mean_se_ions"]], fmt="v", ms=4, color=line.get_color(),
                    capsize=2)  # the mean with its SE over ions, above its curve
    ax.set(xlabel="softness S", ylabel="probability density",
           title=f"Li softness at {res['softness_temperature_K']:g} K (one pooled model); markers: mean ± SE "
                 "over ions;\nacc.: held-out balanced accuracy [95 % CI over ions], chance = 0.5")
    ax.title.set_fontsize(8)
    ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    save(fig, folder / "softness_by_glass.png")
    fig, ax = new_figure()
    x = [res["s_fraction"][g]["P2S6"] for g in res["glasses"]]
    y = [res["transport"][g]["E_a_eV"] for g in res["glasses"]]
    e = [res["transport"][g]["E_a_err_eV"] for g in res["glasses"]]
    ax.errorbar(x, y, yerr=e, fmt="o", capsize=2)
    for xi, yi, g in zip(x, y, res["glasses"]):  # the temperatures each E_a was fitted over
        used = fitted_temperatures(res["transport"][g])
        if np.isfinite(yi) and used:
            ax.annotate(f"{min(used):g}-{max(used):g} K, {len(used)} T", (xi, yi), xytext=(4, 4),
                        textcoords="offset points", fontsize=6)
    tr = res["E_a_trend"]
    if np.isfinite(tr.get("slope", np.nan)):
        xs = np.linspace(min(x), max(x), 2)
        ax.plot(xs, tr["intercept"] + tr["slope"] * xs, "--", color="0.5", lw=1)
    ax.set(xlabel="fraction of S atoms in P2S6 (one glass each)", ylabel="E_a of Li diffusion (eV, ± 1 sigma)")
    ax.set_title(f"weighted line: slope {_f(tr.get('slope'), '+.3g')} ± {_f(tr.get('slope_err'), '.2g')} eV "
                 f"(1 sigma), {tr.get('n', 0)} glasses with an E_a", fontsize=8)
    save(fig, folder / "activation_energy_vs_p2s6.png")
    names = ["softness_by_glass.png", "activation_energy_vs_p2s6.png"]
    _anion_and_link_figures(res, folder)
    names += ["softness_by_anion.png", "softness_links.png"] + _energy_volume_figures(res, folder)
    rdf = res.get("rdf")
    if rdf is not None:
        fig, ax = new_figure()
        for k, t in enumerate(rdf["cluster_type"].values):
            for grp, style in (("soft", "-"), ("hard", "--")):
                ax.plot(rdf["r"].values, rdf["g"].sel(group=grp, cluster_type=t).values, style, color=f"C{k}",
                        label=f"{t}, {grp} Li")
        ax.set(xlabel="r (Å)", ylabel="g Li-S (S of the anion type)")
        n = {grp: int(rdf["n_centres"].sel(group=grp)) for grp in ("soft", "hard")}
        ax.set_title(f"{res['barrier_glass']}, {res['softness_temperature_K']:g} K: averaged over {n['soft']} soft "
                     f"(S > 0) and {n['hard']} hard (S < 0) Li-frames", fontsize=8)
        ax.legend(fontsize=7)
        save(fig, folder / "li_s_rdf_soft_hard.png")
        names.append("li_s_rdf_soft_hard.png")
    if res.get("barriers") is not None:
        from ..plots.study import barrier_panels
        from .glass_barriers import barrier_groups

        bar, g = res["barriers"], res["barrier_glass"]
        save(barrier_panels(bar, barrier_groups(bar, g), g), folder / "barriers_by_glass.png")
        names.append("barriers_by_glass.png")
    return names


def accuracy_text(res: dict, g: str) -> str:
    """``acc. 0.56 [0.52, 0.60]``: glass ``g`` 's held-out balanced accuracy with its 95 % CI over ions."""
    a = res["model"]["accuracy"].get(g, {})
    lo, hi = a.get("balanced_accuracy_ci", [float("nan")] * 2)
    return f"acc. {_f(a.get('balanced_accuracy'), '.2f')} [{_f(lo, '.2f')}, {_f(hi, '.2f')}]"


def _energy_volume_figures(res: dict, folder: Path) -> list[str]:
    """softness_energy_volume_<glass>.png: S of every Li sample against its potential energy and Voronoi volume,
    and the binned mean with its SE over ions (Fig. 5-9), one figure per glass with the extras."""
    from ..plots.study import softness_against
    from ..plots.style import save

    names = []
    for g, ex in (res.get("extras") or {}).items():
        if not ex or g not in res.get("softness", {}):
            continue
        frames = next(iter(ex.values()))["frame"].values
        title = (f"{g}: Li softness against potential energy and Voronoi volume, {res['softness_temperature_K']:g} K, "
                 f"{len(frames)} frames")
        name = f"softness_energy_volume_{g}.png"
        save(softness_against(res["softness"][g].sel(frame=frames), ex, title,
                              links=res["per_glass"][g]["ion_links"]), folder / name)
        names.append(name)
    return names


def _anion_and_link_figures(res: dict, folder: Path) -> None:
    """softness_by_anion.png (mean S of Li by nearest anion type per glass, SE over ions; Fig. 5-8b) and
    softness_links.png (Pearson r per glass with its 95 % ion-bootstrap interval; Figs. 5-7 and 5-9)."""
    from ..plots.style import new_figure, save

    glasses = res["glasses"]
    x = np.arange(len(glasses))

    def tick(g: str) -> str:  # the glass's P2S6 share, its Li and the model's accuracy on it
        n = res["per_glass"][g].get("summary", {}).get("n_ions")
        return "\n".join([f"{res['s_fraction'][g]['P2S6']:.2f}"] + ([f"{n} Li"] if n else []) +
                         ([accuracy_text(res, g)] if "model" in res else []))

    def finish(fig, ax, ylabel: str, name: str, note: str) -> None:  # one glass per x position
        ax.axhline(0.0, color="0.6", lw=0.8)
        ax.set_xticks(x, [tick(g) for g in glasses], fontsize=7)
        ax.set(xlabel="fraction of S atoms in P2S6 (one glass each)", ylabel=ylabel)
        ax.set_title(f"Li softness at {res.get('softness_temperature_K', float('nan')):g} K; acc.: held-out balanced "
                     f"accuracy of the model\n[95 % CI over ions], chance = 0.5; {note}", fontsize=8)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        save(fig, folder / name)

    fig, ax = new_figure(figsize=(1.3 * len(glasses) + 3.0, 3.8))
    anions = list(res["per_glass"][glasses[0]]["by_anion"])
    for k, a in enumerate(anions):
        rows = [res["per_glass"][g]["by_anion"].get(a, {}).get("nearest", {}) for g in glasses]
        xs, ys = x + 0.1 * (k - 1), [r.get("mean", np.nan) for r in rows]
        ax.errorbar(xs, ys, yerr=[r.get("mean_se_ions", np.nan) for r in rows], fmt="o", label=f"nearest anion {a}")
        for xi, yi, r in zip(xs, ys, rows):  # the ions behind each point
            if np.isfinite(yi) and r.get("n_ions") is not None:
                ax.annotate(f"{int(r['n_ions'])}", (xi, yi), xytext=(3, -8), textcoords="offset points", fontsize=5)
    finish(fig, ax, "mean S of Li (± SE over ions)", "softness_by_anion.png", "small numbers: ions per point")
    fig, ax = new_figure(figsize=(1.3 * len(glasses) + 3.0, 3.8))
    names = list(res["per_glass"][glasses[0]]["ion_links"])
    for k, v in enumerate(names):
        rows = [res["per_glass"][g]["ion_links"].get(v, {}) for g in glasses]
        r = np.array([row.get("r", np.nan) for row in rows])
        lo = np.array([row.get("ci_low", np.nan) for row in rows])
        hi = np.array([row.get("ci_high", np.nan) for row in rows])
        ax.errorbar(x + 0.08 * (k - len(names) / 2), r, yerr=[r - lo, hi - r], fmt="o", label=v)
    finish(fig, ax, "Pearson r with S (95 % CI over ions)", "softness_links.png",
           "samples and ions per point: study_report.md")


def write_study(res: dict, folder, figures: bool = True, figure_folder=None) -> list[Path]:
    """Write the study's files into ``folder`` (figures into ``figure_folder``, default ``folder``), atomically,
    file by file; returns their paths."""
    from ..io.atomic import atomic_output
    from ..io.stage_files import save_tree
    from .study_tree import study_tree

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("study.json", json.dumps(_plain({k: v for k, v in res.items()
                                                         if k not in ("softness", "rdf", "extras")}), indent=1)),
                       ("study_report.md", report_markdown(res))):
        with atomic_output(folder / name) as tmp:
            Path(tmp).write_text(text)
        written.append(folder / name)
    written.append(save_tree(study_tree(res), folder / "study.nc"))
    if res.get("rdf") is not None:
        with atomic_output(folder / "li_s_rdf_soft_hard.nc") as tmp:
            res["rdf"].to_netcdf(tmp)
        written.append(folder / "li_s_rdf_soft_hard.nc")
    for g, S in res.get("softness", {}).items():
        path = folder / f"softness_{g}.nc"
        with atomic_output(path) as tmp:
            S.to_dataset(name="softness").to_netcdf(tmp)
        written.append(path)
    if figures:
        fig_folder = Path(figure_folder) if figure_folder is not None else folder
        fig_folder.mkdir(parents=True, exist_ok=True)
        written += [fig_folder / f for f in _figures(res, fig_folder)]
    return written
