"""Which temperatures each cross-glass comparison of a glass study uses, and which runs it leaves out.

The glasses of a study may share only some temperatures (glass A at 900 / 1000 K, glass B at 1000 / 1100 K):

- the Arrhenius fit of each glass uses that glass's own runs (those with a diffusive window, unless apparent D are
  fitted too), so the E_a trend across glasses compares E_a fitted over each glass's own temperature range;
- everything built on softness compares the glasses at one temperature that every glass was run at, the softness
  temperature: the one pooled model and its accuracy, the S distributions and their shift, S by anion type, the links
  per ion, per glass and across glasses, the Li-S RDFs and the NEB barriers; the runs at every other temperature are
  left out of all of these;
- D and sigma compare across all glasses only at the temperatures every glass has; a run at a temperature some glass
  lacks appears in the transport table but in no comparison across all glasses.

:func:`temperature_plan` writes this down for a study's runs (the report's "Temperatures" section and the
``temperature_plan`` attribute of ``study.nc``). A study whose glasses share no temperature at all is refused
earlier (:func:`~ssefeat.study.series_study.common_temperature`).
"""
from __future__ import annotations

__all__ = ["temperature_plan", "plan_lines", "fitted_temperatures", "ranges_text", "SOFTNESS_VIEWS"]

#: what the softness temperature is used for (every comparison across glasses at one temperature)
SOFTNESS_VIEWS = ("softness model and its held-out accuracy, S distributions and their shift, S by anion type, "
                  "links per ion / per glass / across glasses, S against potential energy and Voronoi volume, "
                  "Li-S RDFs, NEB barriers")


def _run(glass: str, t: float) -> str:
    return f"{glass} at {t:g} K"


def temperature_plan(runs, softness_K: float, transport: dict | None = None, chosen: bool = False) -> dict:
    """The temperatures (K) of each glass, those every glass shares, those only some have (with their glasses),
    and one entry per cross-glass comparison: ``comparison``, ``temperatures_K`` (or, for the E_a trend, per glass
    the temperatures its Arrhenius fit used), ``runs_left_out`` (``"<glass> at <T> K"``) and ``note``.

    ``transport``: the study's per-glass transport (``runs`` with ``temperature_K`` and ``verdict``,
    ``arrhenius_temperatures_K``); without it the E_a entry is left out. ``chosen``: the softness temperature was
    given (``softness_temperature``), not the default lowest common one."""
    by_glass: dict = {}
    for r in runs:
        by_glass.setdefault(r.glass, set()).add(float(r.temperature_K))
    by_glass = {g: sorted(t) for g, t in by_glass.items()}
    glasses = list(by_glass)
    every = sorted(set().union(*by_glass.values())) if by_glass else []
    common = [t for t in every if all(t in by_glass[g] for g in glasses)]
    partial = {f"{t:g}": [g for g in glasses if t in by_glass[g]] for t in every if t not in common}
    soft = float(softness_K)
    comparisons = [{
        "comparison": SOFTNESS_VIEWS, "temperatures_K": [soft],
        "runs_left_out": [_run(g, t) for g in glasses for t in by_glass[g] if t != soft],
        "note": f"one temperature every glass has ({'given as softness_temperature' if chosen else 'the lowest common'}"
                f" of {', '.join(f'{t:g}' for t in common)} K)"}]
    comparisons.append({
        "comparison": "D and sigma across glasses", "temperatures_K": common,
        "runs_left_out": [_run(g, t) for g in glasses for t in by_glass[g] if t not in common],
        "note": "runs at a temperature some glass lacks are in the transport table, not compared across all glasses"
                if partial else "every temperature is shared by every glass"})
    if transport is not None:
        used = {g: fitted_temperatures(transport[g]) for g in glasses}
        out = [f"{_run(g, r['temperature_K'])} ({r['verdict']})" for g in glasses for r in transport[g]["runs"]
               if float(r["temperature_K"]) not in used[g]]
        ranges = {tuple(v) for v in used.values() if v}
        comparisons.append({
            "comparison": "E_a trend across glasses (each glass's own Arrhenius fit)",
            "temperatures_K": {g: used[g] for g in glasses},
            "runs_left_out": out,
            "note": ("the glasses' E_a come from different temperature ranges" if len(ranges) > 1 else
                     "every fitted glass uses the same temperatures" if ranges else "no glass has an Arrhenius fit") +
                    ("; glasses without an E_a: " + ", ".join(g for g in glasses if len(used[g]) < 2)
                     if any(len(used[g]) < 2 for g in glasses) else "")})
    return {"temperatures_by_glass": by_glass, "common_K": common, "partial_K": partial, "softness_K": soft,
            "comparisons": comparisons}


def fitted_temperatures(transport: dict) -> list[float]:
    """The temperatures (K) of one glass's Arrhenius fit: recorded (``arrhenius_temperatures_K``), or read from its
    run labels (``arrhenius_runs``, "900K, 1000K") in a study written before they were recorded."""
    if "arrhenius_temperatures_K" in transport:
        return [float(t) for t in transport["arrhenius_temperatures_K"]]
    labels = [x.strip() for x in str(transport.get("arrhenius_runs", "")).split(",") if x.strip()]
    return [float(x[:-1]) for x in labels if x.endswith("K")]


def ranges_text(transport: dict) -> str:
    """"" when every glass with an E_a was fitted over the same temperatures, else which glass over which (K)."""
    used = {g: fitted_temperatures(t) for g, t in transport.items()}
    used = {g: v for g, v in used.items() if len(v) >= 2}
    if len({tuple(v) for v in used.values()}) <= 1:
        return ""
    return "; ".join(f"{g}: {min(v):g}-{max(v):g} K ({len(v)} T)" for g, v in used.items())


def plan_lines(plan: dict) -> list[str]:
    """The report's Markdown lines for a :func:`temperature_plan`."""
    def temps(v) -> str:
        if isinstance(v, dict):
            return "; ".join(f"{g}: {', '.join(f'{t:g}' for t in ts) or 'none'}" for g, ts in v.items())
        return ", ".join(f"{t:g}" for t in v) or "none"

    partial = plan["partial_K"]
    lines = ["## Temperatures of the comparisons across glasses", "",
             "Runs per glass (K): " + "; ".join(f"{g}: {temps(t)}" for g, t in plan["temperatures_by_glass"].items())
             + f". Shared by every glass: {temps(plan['common_K'])} K. " +
             ("Only in some glasses: " + "; ".join(f"{t} K ({', '.join(gs)})" for t, gs in partial.items()) + "."
              if partial else "No temperature is missing from any glass."), "",
             "| comparison | temperatures (K) | runs left out | note |", "|---|---|---|---|"]
    for c in plan["comparisons"]:
        left = c["runs_left_out"]
        lines.append(f"| {c['comparison']} | {temps(c['temperatures_K'])} | "
                     f"{len(left)}{': ' + '; '.join(left) if left else ''} | {c['note']} |")
    return lines
