"""The results folder of a pipeline run: one DataTree file, feature tables, figures and a Markdown report.

Layout::

    <folder>/results.nc        DataTree: /features_k, /labels_k, /softness_k, /correlate, /transport, /disorder_k;
                               /features_k holds the (frame, atom) environment variables and a per-feature summary
                               of the (frame, atom, feature) array, which lives in stages/ and tables/ (attrs name
                               them) and is not copied
    <folder>/softness_model.json
    <folder>/tables/*.parquet   flat (frame, atom, species, ...) tables for pandas / scikit-learn
    <folder>/figures/*.png
    <folder>/report.md          every number with its units and uncertainty
    <folder>/stages/            per-stage files (what makes a run resumable)
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__
from ..correlate import p_value_text
from ..io.atomic import atomic_output
from ..io.stage_files import open_trajectory, save_tree
from ..softness import in_domain_softness, out_of_domain
from ..units import ANGSTROM2_PER_PS_TO_CM2_PER_S


def _fmt(value, err=None, digits: int = 3) -> str:
    value = float(value)
    if not np.isfinite(value):
        return "n/a"
    if err is None or not np.isfinite(float(err)) or float(err) == 0:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}g} ± {float(err):.2g}"


def accuracy_interval(test: dict) -> str:
    """The held-out balanced accuracy's interval, its unit and its sample (ions, samples, frame blocks), in words."""
    ci = test.get("balanced_accuracy_ci") or [np.nan, np.nan]
    where = f"{test['n_samples']} samples"
    if "n_test_ions" in test:
        held = (f"{test['n_test_blocks']} held-out frame blocks" if "n_test_blocks" in test
                else f"{test.get('n_test_groups', 'n/a')} held-out frame groups")
        where = f"{test['n_test_ions']} ions, {where}, {test['n_test_frames']} frames in {held}"
    if "ci_unit" not in test:  # a model file from before the ion interval
        return f"n = {where}; the model file gives no interval per ion"
    if not np.isfinite(ci[0]):
        return f"no interval: {test.get('ci_note') or 'undefined'}; n = {where}"
    return (f"95 % CI [{_fmt(ci[0])}, {_fmt(ci[1])}], percentile bootstrap over the {test['n_ci_units']} held-out "
            f"{test['ci_unit']}s; n = {where}")


def lasso_interval(attrs: dict) -> str:
    """The held-out LASSO R²'s interval, its unit and its sample (ions, samples, frames), in words."""
    lo, hi = attrs.get("lasso_r2_test_ci", [np.nan, np.nan])
    where = f"{attrs.get('lasso_n_test', 'n/a')} held-out samples"
    if "lasso_r2_test_ci_unit" in attrs:
        where = f"{attrs['lasso_n_test_ions']} ions, {where}, {attrs['lasso_n_test_frames']} frames"
    if not np.isfinite(lo):
        return f"no interval: {attrs.get('lasso_r2_test_ci_note') or 'undefined'}; n = {where}"
    if "lasso_r2_test_ci_unit" not in attrs:  # a links file from before the interval over ions
        return f"95 % CI [{lo:.3f}, {hi:.3f}] resampling held-out frames (an older links file), not ions; n = {where}"
    return (f"95 % CI [{lo:.3f}, {hi:.3f}], percentile bootstrap over the {attrs['lasso_n_test_ions']} held-out "
            f"{attrs['lasso_r2_test_ci_unit']}s; n = {where}")


def interval_around(pr: xr.Dataset) -> xr.Dataset:
    """P_R_low <= P_R <= P_R_high exactly: the Wilson bounds at P_R = 0 or 1 are off by rounding (8.7e-19 above
    0 was seen), which matplotlib refuses as a negative error bar."""
    pr = pr.copy()
    pr["P_R_low"] = np.minimum(pr["P_R_low"], pr["P_R"])
    pr["P_R_high"] = np.maximum(pr["P_R_high"], pr["P_R"])
    return pr


def _training_set_line(ts: dict) -> list[str]:
    """The softness model's training set in words: its size, the samples it was drawn from, and the cap per class
    (``softness.max_per_class``) when the cap made it a random draw."""
    if ts.get("n_train") is None or ts.get("n_rearranging_available") is None:
        return []
    avail = (int(ts["n_rearranging_available"]), int(ts["n_nonrearranging_available"]))
    cap = ts.get("max_per_class")
    capped = f"; at most softness.max_per_class = {int(cap)} per class, a seeded random draw" if (
        cap is not None and min(avail) > int(cap)) else ""
    return [f"Training set: {int(ts['n_train']) + int(ts['n_test'])} samples ({int(ts['n_train'])} to train, "
            f"{int(ts['n_test'])} held out), drawn with balanced classes from {avail[0]} rearranging and "
            f"{avail[1]} non-rearranging (frame, ion) samples{capped}.", ""]


def _figures(folder: Path, feats, soft, links, transport, disorder, model_path, temperatures=()) -> list[str]:
    from ..plots import softness as sp
    from ..plots.style import save

    made = []

    def run(k) -> str:
        return f"run {k}" + (f", {float(temperatures[k]):g} K" if k is not None and k < len(temperatures) else "")

    def out(name, fig, title):
        fig.suptitle(title, fontsize=10)
        save(fig, folder / name)
        made.append(name)

    runs = f"runs 0-{len(soft) - 1}" if len(soft) > 1 else "run 0"
    for k, s in enumerate(soft):
        S = in_domain_softness(s)
        by = feats[k]["nearest_cluster_type"] if feats and "nearest_cluster_type" in feats[k] else (
            S["species"] if "species" in S.coords else None)
        out(f"softness_histogram_{k}.png", sp.softness_histogram(S, by=by), f"Softness, {run(k)} (in-domain samples)")
        if "P_R" in s and np.isfinite(s["P_R"].values).any():
            pr = interval_around(s[["P_R", "P_R_low", "P_R_high", "count"]].load())
            out(f"rearrangement_probability_{k}.png", sp.rearrangement_probability(pr), f"P_R(S), {run(k)}")
    if model_path is not None and Path(model_path).exists():
        from ..softness import SoftnessModel

        out("softness_weights.png", sp.weights(SoftnessModel.load(model_path).weights()),
            "Softness model weights (trained on run 0)")
    if links is not None:
        out("softness_correlations.png", sp.correlation_bars(links[["r", "ci_low", "ci_high"]]),
            f"Softness links, {runs} (95 % CI over ions)")
    if transport is not None:
        from ..plots import transport as tp

        for name, node in transport.children.items():
            ds = node.to_dataset()
            k = int(name.split("_")[1]) if name.startswith("run_") and name.split("_")[1].isdigit() else None
            if "msd" in ds and "lag" in ds.dims and not name.endswith("_ngp"):
                apparent = " (not diffusive: apparent D)" if ds.attrs.get("verdict") == "apparent" else ""
                out(f"msd_{name}.png", tp.msd(ds), f"MSD, {run(k)}{apparent}")
            elif name.endswith("_ngp") and "alpha2" in ds:
                out(f"ngp_{name}.png", tp.non_gaussian(ds), f"Non-Gaussian parameter, {run(k)}")
            elif name.startswith("arrhenius") and "activation_energy" in ds:
                out(f"{name}.png", tp.arrhenius(ds), "Arrhenius fit over the runs' temperatures")
    for k, d in enumerate(disorder):
        from ..plots.disorder import disorder_figure

        out(f"disorder_{k}.png", disorder_figure(d), f"Disorder profile, {run(k)}")
    return made


def _report(pipe, trajs, feats, soft, links, transport, disorder, figures, sites=None, study_lines=()) -> str:
    from ..data import summary

    c = pipe.config
    lines = ["# ssefeat report", "", f"ssefeat {__version__}. Units: length Å, time ps, energy eV, T in K, "
             "D in cm²/s, σ in S/cm. Uncertainties are one standard error unless stated.", ""]
    if not trajs:
        lines += ["No trajectory.files or trajectory.generate: the per-run stages (features to sites) did not run; "
                  "the glass study below has its own trajectories.", ""]
    lines += ["## Trajectories", "", "| run | source | atoms | frames | time span (ps) | T | density (g/cm³) |",
              "|---|---|---|---|---|---|---|"] if trajs else []
    for k, p in enumerate(trajs):
        with open_trajectory(p) as ds:
            s = summary(ds)
        species = ", ".join(f"{n} {v}" for n, v in s["species"].items())
        lines.append(f"| {k} | {s['source']} | {species} | {s['n_frames']} | {s['time_ps'][0]:.3g} – "
                     f"{s['time_ps'][1]:.3g} | {s.get('temperature_K', 'n/a')} | "
                     f"{_fmt(s.get('density_g_cm3', float('nan')))} |")
    lines.append("")
    if feats:
        f = feats[0]["features"]
        lines += ["## Features", "", f"{f.sizes['feature']} features per {c['species']['mobile']} atom "
                  f"(structure functions, parameter set `{c['features']['parameters']}`"
                  f"{', descriptors' if c['features']['descriptors'] else ''}"
                  + (f", cluster environment (r_env = {c['features']['r_env']} Å) and Li-site polyhedra"
                     if c['features']['environment'] else "") +
                  "). Tables: `tables/features_<run>.parquet` (every per-atom column of the features stage: structure "
                  "functions, descriptors, environments, polyhedra; the settings in the parquet metadata), "
                  "`tables/labels_<run>.parquet`, `tables/softness_<run>.parquet`.", ""]
        if "nearest_cluster_type" in feats[0]:
            types, counts = np.unique(np.asarray(feats[0]["nearest_cluster_type"].values).astype(str),
                                      return_counts=True)
            share = ", ".join(f"{t} {100 * n / counts.sum():.1f} %"
                              for t, n in zip(types, counts) if t not in ("", "nan"))
            lines += [f"Nearest anion cluster of {c['species']['mobile']} (run 0): {share}.", ""]
    if soft:
        s0 = soft[0]
        metrics = json.loads(s0.attrs.get("metrics", "{}"))
        test = metrics.get("test", {})
        lines += ["## Softness", "",
                  f"Labels: {c['labels']['kind']} (rearranging above r_cut = {_fmt(s0.attrs['r_cut'])}, "
                  f"non-rearranging below nr_cut = {_fmt(s0.attrs['nr_cut'])} over ±{c['softness']['window']} "
                  f"frames; label units Å²). Classifier: {c['softness']['classifier']}, standardised features, "
                  "train / test split by frame blocks.", ""]
        lines += _training_set_line(json.loads(s0.attrs.get("training_samples", "{}")))
        if test:
            lines += [f"- held-out accuracy {_fmt(test['accuracy'])}, balanced accuracy "
                      f"{_fmt(test['balanced_accuracy'])} ({accuracy_interval(test)})",
                      f"- P(S > 0 | rearranging) = {_fmt(test['p_soft_given_rearranging'])}, "
                      f"P(S > 0) = {_fmt(test['p_soft'])}",
                      f"- confusion matrix [[TN, FP], [FN, TP]] = {test['confusion_matrix']}", ""]
            if test["balanced_accuracy"] < 0.6:
                lines += ["**The held-out balanced accuracy is close to chance (0.5): in this trajectory the "
                          "structure functions do not predict rearrangements, so softness values and their "
                          "correlations below should not be interpreted.** Longer runs (more rearrangements), "
                          "other label thresholds or a lower temperature usually help.", ""]
        for k, s in enumerate(soft):
            S = in_domain_softness(s).transpose("frame", "atom").values
            v = S[np.isfinite(S)]
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an ion with no in-domain frame: left out
                per_ion = np.nanmean(S, axis=0)
            per_ion = per_ion[np.isfinite(per_ion)]
            se = per_ion.std(ddof=1) / np.sqrt(per_ion.size) if per_ion.size > 1 else np.nan
            lines.append(f"- run {k}: mean S = {_fmt(v.mean(), se)} (standard error over the {per_ion.size} ions' "
                         f"time averages), std {_fmt(v.std())}, fraction soft {_fmt((v > 0).mean())}"
                         + _domain_line(s))
        lines.append("")
    if links is not None:
        n_boot = json.loads(links.attrs.get("parameters", "{}")).get("n_boot")
        lines += ["## Softness and structure (Pearson r, 95 % bootstrap CI and p resampling whole ions)", ""]
        inputs = links["model_input"].values.astype(bool) if "model_input" in links else np.zeros(
            links.sizes["descriptor"], bool)
        order = np.argsort(-np.abs(np.nan_to_num(links["r"].values)))
        for title, part in (("Descriptors that are not inputs of the softness model", ~inputs),
                            ("Inputs of the softness model: S is built from them, so these links are partly the "
                             "model's own weights, not findings", inputs)):
            if not part.any():
                continue
            lines += [f"{title}:", "", "| descriptor | r | 95 % CI | p | ions | samples |", "|---|---|---|---|---|---|"]
            for i in order[part[order]]:
                row = links.isel(descriptor=i)
                ions = int(row.n_groups) if "n_groups" in links else "n/a"
                lines.append(f"| {row.descriptor.item()} | {float(row.r):+.3f} | [{float(row.ci_low):+.3f}, "
                             f"{float(row.ci_high):+.3f}] | {p_value_text(row.p_value, n_boot)} | {ions} | "
                             f"{int(row.n)} |")
            lines.append("")
        if "lasso_alpha" in links.attrs:
            own = int(links.attrs.get("lasso_model_inputs", 0))
            lines += [f"LASSO softness ~ descriptors: alpha = {_fmt(links.attrs['lasso_alpha'])}, held-out "
                      f"R² = {_fmt(links.attrs['lasso_r2_test'])} ({lasso_interval(links.attrs)}"
                      + _lasso_subsample(links) + ")" + (
                          f"; {own} of its {links.attrs['lasso_columns']} columns are inputs of the softness "
                          "model, so R² partly measures the model's own inputs." if own else ".")]
        if "env_mean" in links:
            lines += ["", "Softness by nearest anion cluster (all runs, in-domain samples; mean S with a 95 % CI "
                          "resampling whole ions): " + ", ".join(
                f"{cat}: {float(m):+.2f} [{float(lo):+.2f}, {float(hi):+.2f}] ({int(ni)} ions, {int(n)} samples)"
                for cat, m, lo, hi, ni, n in zip(links["category"].values, links["env_mean"].values,
                                                 links["env_ci_low"].values, links["env_ci_high"].values,
                                                 links["env_n_ions"].values, links["env_n_samples"].values))]
        lines.append("")
    if transport is not None:
        lines += _transport_section(transport, c["species"]["mobile"])
    for k, d in enumerate(disorder):
        lines += [f"## Disorder profile (run {k})", "", _disorder_line(d, c["disorder"]["axis"]), ""]
        if "dyn_D_cm2_s" in d:
            rows = [_region_d(d, i) for i in range(d.sizes["region_class"]) if d["n_atoms_at_origin"].values[i] > 0]
            lines += [f"{c['species']['mobile']} diffusion by region (an ion counts in the region it occupies at "
                      "the time origin): " + "; ".join(rows), ""]
    if sites is not None:
        from .sites import report_lines

        lines += report_lines(sites)
    lines += list(study_lines)
    if figures:
        lines += ["## Figures", ""] + [f"![{f}](figures/{f})" for f in figures] + [""]
    lines += ["## Timings", "", "Computed by this run: " + (", ".join(f"{k} {v:.1f} s" for k, v in
                                                                  pipe.timings.items()) or "nothing") + "."]
    if pipe.earlier_timings:
        lines += ["", "Up to date, computed by an earlier run: " + ", ".join(
            f"{k} {v:.1f} s" for k, v in pipe.earlier_timings.items()) + "."]
    lines.append("")
    return "\n".join(lines)


def _transport_section(transport, mobile: str) -> list[str]:
    """Per-run D and sigma with each run's fit-window verdict; Arrhenius over the diffusive runs, with caveats."""
    root = transport.to_dataset()
    lines = ["## Transport", "", "| run | T (K) | D (cm²/s) | σ (S/cm) | Haven ratio | fit window |",
             "|---|---|---|---|---|---|"]
    apparent = []
    for i, run in enumerate(root["run"].values):
        r = root.isel(run=i)
        verdict = str(r["verdict"].values) if "verdict" in root else "diffusive"
        apparent += [str(run)] if verdict == "apparent" else []
        shown = "**apparent: not diffusive**" if verdict == "apparent" else verdict
        lines.append(f"| {run} | {float(r.temperature_K):.0f} | {_fmt(r.D_cm2_s, r.D_cm2_s_err)} | "
                     f"{_fmt(r.sigma, r.sigma_err)} | {_fmt(r.haven_ratio)} | {shown} |")
    lines += ["", f"D from the MSD of {mobile} over each run's fit window (D = slope / 6; "
                  f"{transport.attrs.get('window_note', '')}); σ by Nernst-Einstein "
                  "(H_R = 1 unless the Haven ratio was computed)."]
    if apparent:
        lines += ["", f"**The MSD of {', '.join(apparent)} never reached the diffusive regime: the D and σ of "
                      f"{'that run' if len(apparent) == 1 else 'those runs'} are apparent values, not transport "
                      "coefficients.**"]
    for name in ("arrhenius_D", "arrhenius_sigma"):
        if name in transport.children:
            a = transport[name].to_dataset()
            units = a["value"].attrs.get("units", "")
            n = a.sizes.get("point", 0)
            lines.append(
                f"- Arrhenius {a.attrs.get('fitted_quantity', name)} over {a.attrs.get('runs', 'all runs')}: E_a = "
                f"{_fmt(a.activation_energy, a.activation_energy_err)} eV; at {a.attrs.get('extrapolate_to_K', 300):g}"
                f" K: {_fmt(a.extrapolated)} {units} (68 % interval {_fmt(a.extrapolated_low)} to "
                f"{_fmt(a.extrapolated_high)} {units}, the fit being in log space)"
                + (" — two points: E_a has no fit uncertainty beyond the propagated point errors" if n == 2 else "")
                + (" — includes apparent (not diffusive) points" if a.attrs.get("includes_apparent") else ""))
    if "arrhenius_note" in root.attrs:
        lines.append(f"- {root.attrs['arrhenius_note']}")
    lines.append("")
    return lines


def _domain_line(s: xr.Dataset) -> str:
    """How many of a run's samples lie outside the softness model's training domain (not used above)."""
    if "in_domain" not in s:
        return "; the model file has no training domain, so extrapolated samples cannot be told"
    n_out, n = out_of_domain(s)
    return (f"; {n_out} of {n} samples ({100 * n_out / max(1, n):.2g} %) outside the "
            "model's training domain, left out of these numbers, the figures and the links")


def _lasso_subsample(links) -> str:
    """What LASSO was fitted on when the correlate stage subsampled (above its sample cap), else nothing."""
    fraction = float(links.attrs.get("lasso_sample_fraction", 1.0))
    if fraction >= 1.0:
        return ""
    return (f"; fitted on a seeded random {fraction:.1%} of the (frame, atom) samples, "
            f"{int(links.attrs['lasso_samples'])} complete ones")


def _disorder_line(d, axis: str) -> str:
    """F(z) at its lowest and highest slab, each ± its standard error over the profile's frames (frames taken as
    independent: an underestimate when they are close in time)."""
    if "F_mean" not in d:
        F = d["F"].values
        return (f"F(z) along {axis}: min {_fmt(np.nanmin(F))}, max {_fmt(np.nanmax(F))} (≈1 disordered, "
                "≈0 crystalline).")
    F, n = d["F_mean"].values, int(d.sizes.get("frame", 1))
    se = d["F_std"].values / np.sqrt(max(n - 1, 1)) if "F_std" in d and n > 1 else np.full(F.shape, np.nan)
    lo, hi = int(np.nanargmin(F)), int(np.nanargmax(F))
    z = d["z"].values
    return (f"F(z) along {axis}: min {_fmt(F[lo], se[lo])} at z = {z[lo]:.1f} Å, max {_fmt(F[hi], se[hi])} at "
            f"z = {z[hi]:.1f} Å (≈1 disordered, ≈0 crystalline; ± standard error over the {n} frames of the "
            "profile, taken as independent).")


def _region_d(d, i: int) -> str:
    """One region's Li D for the report: D ± error, or the apparent D and its MSD exponent where the region's MSD
    has no diffusive window (dynamics.region_dynamics)."""
    region, n = d["region_class"].values[i], int(d["n_atoms_at_origin"].values[i])
    if np.isfinite(d["dyn_D"].values[i]):
        short = "dyn_verdict" in d and d["dyn_verdict"].values[i] == "short"
        return (f"{region}: {_fmt(d['dyn_D_cm2_s'].values[i], d['dyn_D_err_cm2_s'].values[i])} cm²/s (n = {n}"
                + ("; short diffusive window, a factor 1.5-2 in time: less certain than its error bar)" if short
                   else ")"))
    if "dyn_D_apparent" in d and np.isfinite(d["dyn_D_apparent"].values[i]):
        apparent = _fmt(d["dyn_D_apparent"].values[i] * ANGSTROM2_PER_PS_TO_CM2_PER_S,
                        d["dyn_D_apparent_err"].values[i] * ANGSTROM2_PER_PS_TO_CM2_PER_S)
        return (f"{region}: no diffusive window; apparent D {apparent} cm²/s with MSD ~ t^"
                f"{d['dyn_msd_exponent'].values[i]:.2f} (not a diffusion coefficient; n = {n})")
    return f"{region}: n/a (n = {n})"


def _feature_summary(f: xr.Dataset, k: int, config: dict) -> xr.Dataset:
    """The features node of results.nc: the stage store without its (frame, atom, feature) array, which is
    summarised per feature (mean, std, min, max over frames and atoms, reduced chunk by chunk) and referred to."""
    F = f["features"]
    out = f.drop_vars("features")
    for stat in ("mean", "std", "min", "max"):
        out[f"features_{stat}"] = getattr(F, stat)(("frame", "atom")).compute()
        out[f"features_{stat}"].attrs = {"long_name": f"{stat} of each feature over frames and atoms"}
    out.attrs.update({"features_store": f"stages/features_{k}.zarr",
                      "features_table": f"tables/features_{k}.parquet" if config["output"]["tables"] else "",
                      "features_shape": json.dumps(dict(F.sizes))})
    return out


def write_results(pipe, trajs, feats, labels, soft, links, transport, disorder, sites=None, study=None) -> None:
    """Write results.nc (DataTree), tables, figures and report.md into the pipeline's output folder (and the glass
    study's files, :func:`ssefeat.pipeline.study.write_study_outputs`)."""
    folder = pipe.out
    c = pipe.config
    nodes = {}
    for name, items in (("features", feats), ("labels", labels), ("softness", soft), ("disorder", disorder)):
        for k, ds in enumerate(items):
            nodes[f"/{name}_{k}"] = _feature_summary(ds, k, c) if name == "features" else ds
    if links is not None:
        nodes["/correlate"] = links
    for name, tree in (("transport", transport), ("sites", sites), ("study", study)):
        if tree is not None:
            for node in tree.subtree:
                nodes[f"/{name}" + (node.path if node.path != "/" else "")] = node.to_dataset()
    root = xr.Dataset(attrs={"ssefeat_version": __version__, "config": json.dumps(c, default=str),
                             "trajectories": json.dumps([str(p) for p in trajs])})
    save_tree(xr.DataTree.from_dict({"/": root, **nodes}), folder / "results.nc")  # every node's attrs made safe
    if c["output"]["tables"]:
        from ..features.table import TableWriter, stage_table

        (folder / "tables").mkdir(exist_ok=True)
        size = int(c["execution"]["chunk_frames"])
        made = {"features": {s: c[s] for s in ("species", "features")}, "labels": {"species": c["species"],
                                                                                  "labels": c["labels"]}}
        for name, items in (("features", feats), ("labels", labels)):
            for k, f in enumerate(items):  # frame chunk by frame chunk: the stage store is never loaded whole
                with TableWriter(folder / "tables" / f"{name}_{k}.parquet") as w:
                    for a in range(0, f.sizes["frame"], size):
                        w.write(stage_table(f.isel(frame=slice(a, a + size)).load(), parameters=made[name]))
        for k, s in enumerate(soft):
            df = s["softness"].to_dataframe().reset_index()
            with atomic_output(folder / "tables" / f"softness_{k}.parquet") as tmp:
                df.to_parquet(tmp)
    figures = []
    if c["output"]["figures"]:
        (folder / "figures").mkdir(exist_ok=True)
        model_path = folder / "softness_model.json"
        figures = _figures(folder / "figures", feats, soft, links, transport, disorder,
                           model_path if model_path.exists() else None, c["trajectory"]["temperatures"])
        if sites is not None:
            from .sites import sites_figures

            figures += sites_figures(folder / "figures", sites)
    study_lines = []
    if study is not None:
        from .study import write_study_outputs

        study_lines, names = write_study_outputs(folder, study, c["output"]["figures"])
        figures += names
    text = _report(pipe, trajs, feats, soft, links, transport, disorder, figures, sites, study_lines)
    with atomic_output(folder / "report.md") as tmp:
        Path(tmp).write_text(text)
