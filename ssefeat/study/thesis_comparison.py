"""The thesis' statements on LiPS glasses (seeds/003 ch. 5.1) checked against a study's numbers.

Each row: the statement, where it is made, what was measured (with uncertainty and sample), and a verdict:
``reproduced``, ``not reproduced`` or ``not tested`` (missing data, or too few NEB bands for the Mann-Whitney test
to reach p < 0.05 at all). A sign is reproduced when its 95 % interval excludes zero on the thesis' side; a size
(r = -0.96 / +0.96) when the interval contains the thesis' value. Nothing
is tuned: the rule is fixed here, before the numbers.
"""
from __future__ import annotations

import math

from ..correlate import p_value_text
from .temperature_plan import ranges_text

__all__ = ["compare_with_thesis", "THESIS_R"]

#: per-ion Pearson r of S with the fraction of S atoms in P2S6 / PS4 stated in the thesis (ch. 5.1.3)
THESIS_R = {"P2S6": -0.96, "PS4": 0.96}


def _row(statement, source, measured, verdict):
    return {"statement": statement, "source": source, "measured": measured, "verdict": verdict}


def _sign(lo, hi, sign) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "not tested"
    return "reproduced" if (lo > 0 if sign > 0 else hi < 0) else "not reproduced"


def _r_text(link, n_boot: int | None = None) -> str:
    """r with its interval, p (a bound at the resampling floor of ``n_boot`` resamples) and n."""
    p = p_value_text(link["p_value"], n_boot)
    return (f"r = {link['r']:+.3f} [{link['ci_low']:+.3f}, {link['ci_high']:+.3f}] (95 % CI), "
            f"p {p if p[0] in '<n' else '= ' + p}, n = {link['n']} samples / {link['n_groups']} units")


def _finite(value) -> bool:
    """A number that is not NaN / inf (None, as NaN reads back from study.json, is not)."""
    return value is not None and math.isfinite(value)


def _num(value, spec: str = ".3g", missing: str = "n/a") -> str:
    return format(value, spec) if _finite(value) else missing


def _pm(mean, se, tag: str = "") -> str:
    """``mean +- se`` (eV) and ``tag`` (e.g. " SE"), without the error bar where one value gives none."""
    return f"{mean:.3f} +- {se:.3f}{tag}" if _finite(se) else f"{_num(mean, '.3f')}, one value"


def compare_with_thesis(res: dict) -> list[dict]:
    """Rows of the comparison table for a result of :func:`~ssefeat.study.series_study.analyse_series`."""
    rows = []
    n_boot = res["settings"].get("n_boot")  # the ion bootstrap's resamples: its p has a floor of 2 / (n_boot + 1)
    tr = res["E_a_trend"]
    b, e = tr["slope"], tr["slope_err"]
    ranges = ranges_text(res["transport"])
    rows.append(_row("E_a of Li diffusion rises with the P2S6 content", "ch. 5.1.2, Fig. 5-4",
                     (f"dE_a/d(S fraction in P2S6) = {b:+.3g} +- {e:.2g} eV (1 sigma, weighted line over "
                      if _finite(b) else "no trend: it needs two glasses with an Arrhenius E_a (found ") +
                     f"{tr['n']} glasses with an Arrhenius E_a" + (", INCLUDING APPARENT (non-diffusive) D" if any(
                         r["verdict"] == "apparent" for t in res["transport"].values() for r in t["runs"])
                         and res["settings"].get("arrhenius_apparent") else "") + ")" +
                     (f"; E_a over different temperature ranges: {ranges}" if ranges else ""),
                     _sign(b - 1.96 * e, b + 1.96 * e, +1) if _finite(e) else "not tested"))
    gl = res.get("glass_links", {}).get("fraction_P2S6")
    rows.append(_row("the S distribution shifts to greater S as P2S6 rises (and P2S7 falls)", "ch. 5.1.3, Fig. 5-6",
                     "mean S per glass vs S fraction in P2S6: " + (_r_text(gl) + " (units: glasses)" if gl else
                                                                  "fewer than 3 glasses"),
                     _sign(gl["ci_low"], gl["ci_high"], +1) if gl else "not tested"))
    for t in ("P2S6", "PS4"):
        link = res["pooled_ion_links"].get(f"fraction_{t}")
        want = THESIS_R[t]
        if link is None:
            rows.append(_row(f"r(S, fraction of S in {t}) = {want:+.2f}", "ch. 5.1.3", "no data", "not tested"))
            continue
        rows.append(_row(f"sign of r(S, fraction of nearby S atoms in {t}) is {'+' if want > 0 else '-'} "
                         f"(per ion, all glasses)", "ch. 5.1.3", _r_text(link, n_boot) + " (units: ions)",
                         _sign(link["ci_low"], link["ci_high"], want)))
        inside = link["ci_low"] <= want <= link["ci_high"]
        rows.append(_row(f"size: r(S, fraction of nearby S atoms in {t}) = {want:+.2f}", "ch. 5.1.3",
                         f"r = {link['r']:+.3f}, CI [{link['ci_low']:+.3f}, {link['ci_high']:+.3f}]",
                         "reproduced" if inside else "not reproduced"))
    g = res.get("barrier_glass")
    by = res["per_glass"].get(g, {}).get("by_anion", {})
    if "PS4" in by and "P2S6" in by:
        p4, p6 = by["PS4"]["nearest"], by["P2S6"]["nearest"]
        ok = [_sign(p4["mean"] - 1.96 * p4["mean_se_ions"], p4["mean"] + 1.96 * p4["mean_se_ions"], +1),
              _sign(p6["mean"] - 1.96 * p6["mean_se_ions"], p6["mean"] + 1.96 * p6["mean_se_ions"], -1)]
        rows.append(_row("Li next to PS4 are mostly soft (S > 0), next to P2S6 mostly hard (S < 0)",
                         "ch. 5.1.3, Fig. 5-7 / 5-8b",
                         f"{g}, Li by nearest anion: PS4 mean S {p4['mean']:+.3f} +- {p4['mean_se_ions']:.3f} "
                         f"(SE over {p4['n_ions']} ions; {p4['fraction_soft']:.0%} of samples soft); P2S6 "
                         f"{p6['mean']:+.3f} +- {p6['mean_se_ions']:.3f} (SE over {p6['n_ions']} ions; "
                         f"{p6['fraction_soft']:.0%} of samples soft)",
                         "reproduced" if ok == ["reproduced"] * 2 else
                         ("not tested" if "not tested" in ok else "not reproduced")))
    links = res["per_glass"].get(g, {}).get("ion_links", {})
    for name, what in (("potential_energy", "potential energy"), ("voronoi_volume", "Voronoi volume")):
        link = links.get(name)
        rows.append(_row(f"softer Li have higher {what}", "ch. 5.1.3, Fig. 5-9",
                         f"{g}: " + (_r_text(link, n_boot) + " (units: ions)" if link else "not computed"),
                         _sign(link["ci_low"], link["ci_high"], +1) if link else "not tested"))
    bar = res.get("barriers")
    if bar is None:
        rows.append(_row("soft Li (S > 0) cross lower NEB barriers than hard Li", "ch. 5.1.4, Fig. 5-11",
                         "barriers not computed", "not tested"))
    else:
        c = bar["comparison"]
        s, h = c["soft"], c["hard"]
        min_p = 2.0 / math.comb(s["n"] + h["n"], s["n"]) if s["n"] >= 2 and h["n"] >= 2 else math.nan
        verdict = ("not tested" if not _finite(c["p_mannwhitney"]) or min_p > 0.05 else
                   "reproduced" if (s["median"] < h["median"] and c["p_mannwhitney"] < 0.05) else "not reproduced")
        where = ", ".join(bar.get("glasses") or [g])
        if len(bar.get("glasses") or [g]) > 1:
            where = f"pooled over {where} (per glass: the barrier table)"
        rows.append(_row("soft Li (S > 0) cross lower NEB barriers than hard Li", "ch. 5.1.4, Fig. 5-11",
                         f"{where}: soft median {_num(s['median'], '.3f')} eV (mean "
                         f"{_pm(s['mean'], s['se'], ' SE')}, n = {s['n']}); hard median {_num(h['median'], '.3f')} "
                         f"eV (mean {_pm(h['mean'], h['se'], ' SE')}, n = {h['n']}); Mann-Whitney p = "
                         f"{_num(c['p_mannwhitney'], '.2g', 'n/a (too few bands in a group)')}"
                         + (f" (n too small: the smallest possible p is {min_p:.2g})" if min_p > 0.05 else "") +
                         f"; converged bands only ({bar.get('n_unconverged', 0)} left out)", verdict))
    return rows
