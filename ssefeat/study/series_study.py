"""The thesis' LiPS glass study (seeds/003 ch. 5.1) over a composition series, in one call.

:func:`analyse_series` takes :class:`~ssefeat.study.glass_runs.GlassRun` s (several glasses, each at several
temperatures; built-in or the user's files) and runs, per glass and temperature, the library's pieces:

1. transport with a per-run verdict and an Arrhenius fit of D per glass (E_a with its error,
   :func:`~ssefeat.dynamics.arrhenius.transport_study`), and the trend of E_a with the fraction of S atoms in P2S6
   across glasses (weighted line, slope with error);
2. one softness model on Li-Li structure functions (``parameters="li_li"``) with D_cum (or p_hop) labels at the
   glasses' common temperature, trained on the pooled glasses with the last frame block of each glass held out,
   and its accuracy per glass (:mod:`.pooled_softness`);
3. per glass: the S distribution, S by anion type within ``r_env`` (5 Å), Pearson r of S with each anion-type
   fraction per ion (ion-level CI and p) and with potential energy and Voronoi volume; over glasses: the per-ion
   links pooled, and mean S against each glass's anion content (n = glasses) (:mod:`.glass_links`); partial Li-S
   RDFs by anion type for soft and hard Li in the barrier glass (:mod:`.anion_rdf`);
4. NEB barriers of soft and hard Li in one glass (default the P2S6-richest, as the thesis), several
   (``barrier_glass=[...]``) or every glass (``"all"``), to the nearest empty Li site or along observed hops
   (``barriers={"targets": "hops"}``), and their test per glass and pooled (:mod:`.glass_barriers`);
5. a comparison with the thesis' statements, each reproduced / not reproduced with the numbers
   (:mod:`.thesis_comparison`).

:func:`glass_series` makes the built-in series (:mod:`ssefeat.md.systems.lips_composition`) and runs all of it.
"""
from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["analyse_series", "glass_series", "common_temperature", "series_settings"]

#: temperatures (K) of the built-in series when none are given
DEFAULT_TEMPERATURES = (600.0, 700.0, 800.0)


def series_settings(given: dict) -> dict:
    """The built-in series' ``ys``, ``x``, ``n_li`` and ``temperatures`` (K): those ``given``, else the defaults
    (the thesis' five glasses at 400 Li, :data:`DEFAULT_TEMPERATURES`)."""
    from ..md.systems.lips_composition import DEFAULT_SERIES_N_LI, THESIS_SERIES, THESIS_X

    out = {"ys": THESIS_SERIES, "x": THESIS_X, "n_li": DEFAULT_SERIES_N_LI, "temperatures": DEFAULT_TEMPERATURES}
    out.update({k: v for k, v in given.items() if k in out and v is not None})
    return out


def common_temperature(runs, wanted: float | None = None) -> float:
    """The temperature (K) every glass was run at (``wanted``, else the lowest common one); ParameterError if none."""
    by_glass: dict = {}
    for r in runs:
        by_glass.setdefault(r.glass, set()).add(float(r.temperature_K))
    common = set.intersection(*by_glass.values()) if by_glass else set()
    if wanted is not None:
        if float(wanted) not in common:
            raise ParameterError(f"not every glass has a run at {wanted:g} K (temperatures: "
                                 f"{ {g: sorted(t) for g, t in by_glass.items()} }).",
                                 fix="pick a temperature that every glass was run at.")
        return float(wanted)
    if not common:
        raise ParameterError(f"the glasses have no common temperature to compare softness at "
                             f"({ {g: sorted(t) for g, t in by_glass.items()} }).",
                             fix="run every glass at one shared temperature (at least).")
    return min(common)


def _transport(runs_of_glass, species: str, apparent: bool) -> dict:
    from ..dynamics.arrhenius import transport_study
    from ..io import read

    runs_of_glass = sorted(runs_of_glass, key=lambda r: r.temperature_K)
    tree = transport_study([read(r.path) for r in runs_of_glass], species=species,
                           temperatures=[r.temperature_K for r in runs_of_glass],
                           labels=[f"{r.temperature_K:g}K" for r in runs_of_glass], fallback=True,
                           arrhenius_apparent=apparent)
    root = tree["/"].to_dataset()
    out = {"runs": [{"temperature_K": float(root["temperature_K"][k]), "D_cm2_s": float(root["D_cm2_s"][k]),
                     "D_cm2_s_err": float(root["D_cm2_s_err"][k]), "sigma_S_cm": float(root["sigma"][k]),
                     "sigma_err": float(root["sigma_err"][k]), "verdict": str(root["verdict"].values[k])}
                    for k in range(root.sizes["run"])],
           "E_a_eV": np.nan, "E_a_err_eV": np.nan, "arrhenius_note": root.attrs.get("arrhenius_note", "")}
    if "arrhenius_D" in tree:
        a = tree["arrhenius_D"].to_dataset()
        out.update(E_a_eV=float(a["activation_energy"]), E_a_err_eV=float(a["activation_energy_err"]),
                   arrhenius_runs=a.attrs.get("runs", ""),
                   arrhenius_temperatures_K=sorted({float(t) for t in np.atleast_1d(a["temperature"].values)}))
    return out


def _extras(ds, S, max_frames: int) -> dict:
    """Potential energy (eV) and Voronoi volume (Å^3) of the ions at up to ``max_frames`` of the softness frames."""
    from ..features.descriptors import potential_energy, voronoi_volume

    frames = S["frame"].values
    pick = frames[np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int))]
    sub = ds.sel(frame=pick)
    centre = str(S["species"].values[0]) if "species" in S.coords else "Li"
    out = {"voronoi_volume": voronoi_volume(sub, centre=centre).isel(feature=0, drop=True)}
    if "potential_energy" in ds:
        out["potential_energy"] = potential_energy(sub, centre=centre).isel(feature=0, drop=True)
    return out


def analyse_series(runs, *, softness_temperature: float | None = None, parameters="li_li", label: str = "d_cum",
                   label_kwargs: dict | None = None, stride: int = 1, n_blocks: int = 4, r_env: float = 5.0,
                   n_boot: int = 300, barriers: dict | None = None, barrier_glass: str | list | None = None,
                   calculator=None, extras_frames: int = 10, species: str = "Li", seed: int = 0,
                   arrhenius_apparent: bool = False,
                   say=lambda msg: None) -> dict:
    """The whole study on ``runs`` (module docstring). ``barriers``: keyword arguments of
    :func:`~ssefeat.study.glass_barriers.soft_hard_barriers` (``{}`` for its defaults, None to skip);
    ``barrier_glass``: a glass name, a list of them or ``"all"`` (default the P2S6-richest);
    ``calculator``: an ASE calculator for the NEB (default the study's force field for built glasses);
    ``arrhenius_apparent``: also fit runs whose D is apparent (not diffusive; the report says so).
    Returns a dict of plain numbers and the ``softness`` DataArrays per glass, ready for :func:`write_study`."""
    from ..features.environment import cluster_environment
    from ..io import read
    from ..md.systems.lips_composition import formula_of, sulfur_fractions
    from .glass_links import (ANION_TYPES, glass_links, ion_links, pooled_ion_links, softness_by_anion,
                              softness_summary, weighted_trend)
    from .pooled_softness import apply_softness, features_and_labels, train_pooled
    from .temperature_plan import temperature_plan
    from .thesis_comparison import compare_with_thesis

    runs = list(runs)
    if not runs:
        raise ParameterError("no runs to analyse.", fix="pass at least one run.")
    glasses = list(dict.fromkeys(r.glass for r in runs))
    counts = {g: next(r.counts for r in runs if r.glass == g) for g in glasses}
    frac = {g: sulfur_fractions(counts[g]) for g in glasses}
    t_soft = common_temperature(runs, softness_temperature)
    result = {"glasses": glasses, "counts": counts, "s_fraction": frac, "softness_temperature_K": t_soft,
              "formula": {g: dict(zip(("x", "y"), formula_of(counts[g])[:2])) for g in glasses},
              "settings": {"parameters": str(parameters), "label": label, "label_kwargs": label_kwargs or {},
                           "stride": stride, "n_blocks": n_blocks, "r_env": r_env, "n_boot": n_boot, "seed": seed,
                           "arrhenius_apparent": arrhenius_apparent}}
    say("transport per glass")
    result["transport"] = {g: _transport([r for r in runs if r.glass == g], species, arrhenius_apparent)
                           for g in glasses}
    result["temperature_plan"] = temperature_plan(runs, t_soft, result["transport"],
                                                  chosen=softness_temperature is not None)
    ea = [result["transport"][g]["E_a_eV"] for g in glasses]
    ea_err = [result["transport"][g]["E_a_err_eV"] for g in glasses]
    x6 = [frac[g]["P2S6"] for g in glasses]
    result["E_a_trend"] = {"x": "fraction of S atoms in P2S6", **weighted_trend(
        x6, ea, ea_err if np.all(np.isfinite(ea_err)) else None)}
    say(f"softness: features and {label} labels at {t_soft:g} K")
    soft_runs = {g: next(r for r in runs if r.glass == g and r.temperature_K == t_soft) for g in glasses}
    data = {g: read(soft_runs[g].path) for g in glasses}
    F, L = {}, {}
    for g in glasses:
        F[g], L[g] = features_and_labels(data[g], parameters, label, species, stride=stride, **(label_kwargs or {}))
    model, rep = train_pooled(F, L, n_blocks=n_blocks, seed=seed)
    result["model"] = {k: rep[k] for k in ("r_cut", "nr_cut", "window", "C", "accuracy", "n_train", "held_out")}
    result["model"]["test"] = {k: v for k, v in rep["test"].items() if k != "confusion_matrix"}
    S = {g: apply_softness(model, F[g]) for g in glasses}
    finite = np.concatenate([s.values[np.isfinite(s.values)] for s in S.values()])
    edges = np.linspace(np.quantile(finite, 0.005), np.quantile(finite, 0.995), 41)
    say("softness per glass, by anion type, links")
    env, per_glass, extras = {}, {}, {}
    for g in glasses:
        sub = data[g].sel(frame=S[g]["frame"].values)
        env[g] = cluster_environment(sub, mobile=species, r_env=r_env, cluster_types=ANION_TYPES)
        extras[g] = _extras(data[g], S[g], extras_frames)
        per_glass[g] = {"summary": softness_summary(S[g], edges), "by_anion": softness_by_anion(S[g], env[g]),
                        "ion_links": ion_links(S[g], env[g], extras[g], n_boot=n_boot)}
    result["per_glass"] = per_glass
    result["extras"] = extras  # (frame, atom) potential energy / Voronoi volume at the extras frames (Fig. 5-9)
    result["histogram_edges"] = edges
    result["pooled_ion_links"] = pooled_ion_links({g: (S[g], env[g]) for g in glasses}, n_boot=n_boot)
    mean_s = {g: per_glass[g]["summary"]["mean"] for g in glasses}
    result["glass_links"] = glass_links(mean_s, frac) if len(glasses) >= 3 else {}
    chosen = _barrier_glasses(barrier_glass, glasses, frac)
    result["barrier_glass"] = chosen[0]  # the RDFs' and the single-glass thesis rows' glass
    result["barrier_glasses"] = chosen
    from .anion_rdf import soft_hard_rdf

    result["rdf"] = soft_hard_rdf(data[chosen[0]], S[chosen[0]], ANION_TYPES, r_max=min(6.0, r_env + 1.0),
                                  max_frames=extras_frames)
    if barriers is not None:
        from .glass_barriers import study_barriers

        result["barriers"] = study_barriers(data, S, {g: soft_runs[g].system_kwargs for g in glasses}, chosen,
                                            calculator=calculator, seed=seed, say=say, **dict(barriers))
    result["softness"] = S
    result["comparison"] = compare_with_thesis(result)
    return result


def _barrier_glasses(barrier_glass, glasses: list, frac: dict) -> list:
    """The glasses with NEB barriers: None, the P2S6-richest (as the thesis); ``"all"``, every glass (the
    P2S6-richest first); else one name or a list of names of the study's glasses."""
    richest = max(glasses, key=lambda g: frac[g]["P2S6"])
    if barrier_glass is None:
        return [richest]
    if barrier_glass == "all":
        return [richest] + [g for g in glasses if g != richest]
    chosen = [barrier_glass] if isinstance(barrier_glass, str) else list(dict.fromkeys(barrier_glass))
    bad = [g for g in chosen if g not in glasses]
    if bad or not chosen:
        raise ParameterError(f"barrier_glass {bad or barrier_glass!r} is not one of the glasses {glasses}.",
                             fix='name study glasses, or "all".')
    return chosen


def glass_series(folder, *, ys=None, x: float | None = None, n_li: int | None = None,
                 temperatures=DEFAULT_TEMPERATURES, production_ps: float = 50.0, dump_ps: float = 0.1,
                 equilibrate_ps: float = 5.0, build: dict | None = None, seed: int = 0, write: bool = True,
                 say=lambda msg: None, **analysis) -> dict:
    """Make the series (default the thesis' five glasses, :data:`~ssefeat.md.systems.lips_composition.
    THESIS_SERIES`, 400 Li each), run each at ``temperatures`` (K) into ``folder`` and analyse it
    (:func:`analyse_series` keyword arguments in ``analysis``); with ``write``, the report and tables go to
    ``folder`` too (:func:`~ssefeat.study.study_report.write_study`)."""
    from ..md.systems.lips_composition import series_counts
    from .glass_runs import simulate_series
    from .study_report import write_study

    s = series_settings({"ys": ys, "x": x, "n_li": n_li})
    series = series_counts(s["ys"], s["x"], s["n_li"])
    say(f"MD: {len(series)} glasses x {len(temperatures)} temperatures into {folder}")
    runs = simulate_series(folder, series, temperatures, production_ps=production_ps, dump_ps=dump_ps,
                           equilibrate_ps=equilibrate_ps, seed=seed, build=build)
    result = analyse_series(runs, seed=seed, say=say, **analysis)
    result["series"] = series
    if write:
        write_study(result, folder)
    return result
