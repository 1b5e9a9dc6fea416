"""Glasses that share only some temperatures: which temperatures each cross-glass comparison of a study uses and
which runs it leaves out (:mod:`ssefeat.study.temperature_plan`)."""
from __future__ import annotations

import pytest

from ssefeat.errors import ParameterError
from ssefeat.study.glass_runs import GlassRun
from ssefeat.study.series_study import common_temperature
from ssefeat.study.temperature_plan import plan_lines, temperature_plan


def _runs(spec: dict) -> list:
    return [GlassRun(g, float(t), f"{g}_{t}.nc", {}) for g, ts in spec.items() for t in ts]


def _transport(spec: dict, fitted: dict) -> dict:
    return {g: {"runs": [{"temperature_K": float(t), "verdict": "diffusive" if t in fitted[g] else "apparent"}
                         for t in ts], "arrhenius_temperatures_K": [float(t) for t in fitted[g]]}
            for g, ts in spec.items()}


def test_partly_shared_temperatures_name_each_comparison_and_the_runs_left_out():
    spec = {"A": [900, 1000], "B": [1000, 1100], "C": [900, 1000, 1100]}
    runs = _runs(spec)
    t = common_temperature(runs)
    assert t == 1000.0  # the one temperature every glass has
    plan = temperature_plan(runs, t, _transport(spec, {"A": [900, 1000], "B": [1000, 1100], "C": [1000]}))
    assert plan["temperatures_by_glass"] == {"A": [900.0, 1000.0], "B": [1000.0, 1100.0],
                                             "C": [900.0, 1000.0, 1100.0]}
    assert plan["common_K"] == [1000.0] and plan["partial_K"] == {"900": ["A", "C"], "1100": ["B", "C"]}
    soft, d, ea = plan["comparisons"]
    assert soft["temperatures_K"] == [1000.0]
    assert soft["runs_left_out"] == ["A at 900 K", "B at 1100 K", "C at 900 K", "C at 1100 K"]
    assert d["temperatures_K"] == [1000.0] and d["runs_left_out"] == soft["runs_left_out"]
    assert ea["temperatures_K"] == {"A": [900.0, 1000.0], "B": [1000.0, 1100.0], "C": [1000.0]}
    assert ea["runs_left_out"] == ["C at 900 K (apparent)", "C at 1100 K (apparent)"]
    assert "different temperature ranges" in ea["note"] and "without an E_a: C" in ea["note"]
    text = "\n".join(plan_lines(plan))
    assert "Only in some glasses: 900 K (A, C); 1100 K (B, C)." in text
    assert "| 4: A at 900 K; B at 1100 K; C at 900 K; C at 1100 K |" in text
    assert "A: 900, 1000; B: 1000, 1100; C: 1000" in text


def test_fully_shared_temperatures_leave_out_only_the_other_softness_temperatures():
    spec = {"A": [800, 900], "B": [800, 900]}
    plan = temperature_plan(_runs(spec), 900.0, chosen=True)
    soft, d = plan["comparisons"]  # no transport given: no E_a entry
    assert plan["partial_K"] == {} and d["runs_left_out"] == [] and soft["runs_left_out"] == ["A at 800 K",
                                                                                              "B at 800 K"]
    assert "given as softness_temperature" in soft["note"]
    assert "No temperature is missing from any glass." in "\n".join(plan_lines(plan))


def test_no_temperature_shared_by_every_glass_is_still_refused():
    runs = _runs({"A": [900, 1000], "B": [1000, 1100], "C": [1100]})
    with pytest.raises(ParameterError, match="no common temperature"):
        common_temperature(runs)
    with pytest.raises(ParameterError, match="not every glass has a run at 900 K"):
        common_temperature(_runs({"A": [900, 1000], "B": [1000, 1100]}), 900.0)


def test_fitted_temperature_ranges_named_when_they_differ():
    from ssefeat.study.temperature_plan import fitted_temperatures, ranges_text

    old = {"arrhenius_runs": "1000K, 1100K"}  # a study written before the temperatures were recorded
    assert fitted_temperatures(old) == [1000.0, 1100.0] and fitted_temperatures({}) == []
    same = {"A": {"arrhenius_temperatures_K": [900.0, 1000.0]}, "B": {"arrhenius_runs": "900K, 1000K"},
            "C": {"arrhenius_runs": ""}}  # C: no fit, not a range
    assert ranges_text(same) == ""
    assert ranges_text({**same, "D": old}) == ("A: 900-1000 K (2 T); B: 900-1000 K (2 T); D: 1000-1100 K (2 T)")
