"""NEB barriers of soft and hard Li per glass: the per-glass tests equal a grouping by hand, the study merges the
glasses' bands with their glass, the figure has a panel per glass, and study.nc carries the glass of every band."""
from __future__ import annotations

from math import comb

import numpy as np
import pytest
import xarray as xr
from scipy import stats

import ssefeat.study.glass_barriers as GB
from ssefeat.errors import ParameterError


def _band(glass, atom, S, forward, converged=True, inside=True):
    return {"glass": glass, "atom": atom, "S": S, "barrier_forward": forward, "barrier_backward": forward / 2,
            "hop_length": 2.5, "converged": converged, "saddle_inside": inside}


SOFT = [_band("A", 1, 0.2, 0.30), _band("A", 2, 0.1, 0.25), _band("A", 3, 0.3, 0.9, converged=False),
        _band("B", 11, 0.1, 0.42), _band("B", 12, 0.2, 0.38, inside=False), _band("B", 13, 0.05, 0.51)]
HARD = [_band("A", 4, -0.2, 0.55), _band("A", 5, -0.1, 0.61), _band("A", 6, -0.4, 0.47),
        _band("B", 14, -0.3, 0.40)]
SKIPPED = [{"glass": "B", "atom": 15, "kind": "hard", "why": "ends relax into one minimum"}]


def test_per_glass_tests_equal_a_grouping_by_hand():
    bar = {"soft": SOFT, "hard": HARD, "skipped": SKIPPED}
    by = GB.barriers_by_glass(bar, glasses=["A", "B", "C"])
    assert list(by) == ["A", "B", "C"]  # C: a barrier glass with no band at all
    for g in ("A", "B"):
        soft = [r["barrier_forward"] for r in SOFT if r["glass"] == g and r["converged"]]
        hard = [r["barrier_forward"] for r in HARD if r["glass"] == g and r["converged"]]
        c = by[g]
        assert c["soft"]["n"] == len(soft) and c["hard"]["n"] == len(hard)
        assert c["soft"]["median"] == pytest.approx(np.median(soft))
        assert c["hard"]["mean"] == pytest.approx(np.mean(hard))
        if len(hard) > 1:
            assert c["hard"]["se"] == pytest.approx(np.std(hard, ddof=1) / np.sqrt(len(hard)))
    assert by["A"]["p_mannwhitney"] == pytest.approx(stats.mannwhitneyu([0.30, 0.25], [0.55, 0.61, 0.47]).pvalue)
    assert by["A"]["min_p"] == pytest.approx(2 / comb(5, 2))  # 0.2: two soft and three hard bands cannot reach 0.05
    assert by["A"]["n_unconverged"] == 1 and by["A"]["n_skipped"] == 0
    assert np.isnan(by["B"]["p_mannwhitney"]) and by["B"]["n_skipped"] == 1  # one hard band: no test
    assert by["C"]["soft"]["n"] == 0 and by["C"]["n_skipped"] == 0
    assert GB.difference_text(by["B"]) == "n too small for a test (soft 3, hard 1; 2 each needed)"
    assert "n too small for p < 0.05: smallest possible p 0.2" in GB.difference_text(by["A"])
    big = GB.compare_barriers([0.1, 0.2, 0.15, 0.12, 0.11], [0.4, 0.35, 0.5, 0.45])
    assert big["min_p"] == pytest.approx(2 / 126) and "n too small" not in GB.difference_text(big)


def test_study_barriers_tags_every_band_with_its_glass(monkeypatch):
    """study_barriers runs the barrier search once per glass (here a stand-in returning that glass's bands) and
    merges: every band and skipped target carries its glass, by_glass holds each glass's frame and test."""
    calls = []

    def fake(ds, S, *, system_kwargs, calculator, seed, **opts):
        g = ds
        calls.append((g, system_kwargs, opts))
        strip = [{k: v for k, v in r.items() if k != "glass"} for r in SOFT + HARD if r["glass"] == g]
        return {"soft": [r for r in strip if r["S"] > 0], "hard": [r for r in strip if r["S"] < 0],
                "skipped": [{k: v for k, v in r.items() if k != "glass"} for r in SKIPPED if r["glass"] == g],
                "frame": {"A": 30, "B": 40}[g], "n_sites": 7}

    monkeypatch.setattr(GB, "soft_hard_barriers", fake)
    out = GB.study_barriers({"A": "A", "B": "B"}, {"A": None, "B": None}, {"A": {"k": 1}, "B": {"k": 2}}, ["B", "A"],
                            n_soft=3)
    assert [c[0] for c in calls] == ["B", "A"] and calls[0][1] == {"k": 2} and calls[0][2] == {"n_soft": 3}
    assert sorted((r["glass"], r["atom"]) for r in out["soft"]) == sorted((r["glass"], r["atom"]) for r in SOFT)
    assert [r["glass"] for r in out["skipped"]] == ["B"] and out["glasses"] == ["B", "A"]
    assert out["by_glass"]["A"]["frame"] == 30 and out["by_glass"]["B"]["frame"] == 40 and "frame" not in out
    assert out["by_glass"]["A"]["soft"] == GB.barriers_by_glass({"soft": SOFT, "hard": HARD})["A"]["soft"]
    pooled = GB.compare_barriers([r["barrier_forward"] for r in SOFT if r["converged"]],
                                 [r["barrier_forward"] for r in HARD])
    assert out["comparison"] == pooled and out["n_unconverged"] == 1
    with pytest.raises(ParameterError, match="targets"):
        GB.study_barriers({}, {}, {}, ["A"], targets="sites")


def test_barrier_figure_table_and_tree_per_glass(tmp_path):
    from ssefeat.plots.study import barrier_panels
    from ssefeat.plots.style import save
    from ssefeat.study.study_report import _barrier_lines
    from ssefeat.study.study_tree import _by_glass_rows, _rows

    bar = {"soft": SOFT, "hard": HARD, "skipped": SKIPPED, "glasses": ["A", "B"], "targets": "empty_sites",
           "comparison": GB.compare_barriers([0.3, 0.25, 0.42, 0.38, 0.51], [0.55, 0.61, 0.47, 0.40]),
           "n_unconverged": 1}
    bar["by_glass"] = {g: {**c, "frame": f} for (g, c), f in
                       zip(GB.barriers_by_glass(bar, glasses=["A", "B"]).items(), (30, 40))}
    groups = GB.barrier_groups(bar, "A")
    assert list(groups) == ["A", "B", "all glasses"] and groups["all glasses"]["n_skipped"] == 1
    save(barrier_panels(bar, groups, "A"), tmp_path / "barriers_by_glass.png")
    assert (tmp_path / "barriers_by_glass.png").stat().st_size > 5000
    lines = _barrier_lines({"barrier_glass": "A", "softness_temperature_K": 900.0}, bar)
    rows = {}
    for ln in lines:  # the first row of each glass: its test (its bands follow in the second table)
        rows.setdefault(ln.split(" | ")[0][2:], ln)
    assert rows["A"].startswith("| A | frame 30 | 2, 0.275, 0.275 +- 0.025 | 3, 0.550, 0.543 +- 0.041 |")
    assert "| 0 / 0 | 1 / 0 |" in rows["A"]  # no flat band; one unconverged band, nothing skipped
    assert "| B | frame 40 | 3, 0.420, 0.437 +- 0.038 | 1, 0.400, 0.400, one value | n too small" in rows["B"]
    assert "| 1 / 0 | 0 / 1 |" in rows["B"]
    assert sum(ln.startswith("| A | ") for ln in lines) == 1 + 6  # the glass row and its six bands
    ds = _by_glass_rows(bar, "A")
    assert ds["barrier_glass"].values.tolist() == ["A", "B"] and ds["frame"].values.tolist() == [30, 40]
    np.testing.assert_allclose(ds["soft_median"].values, [0.275, 0.42])
    assert ds["hard_n"].values.tolist() == [3, 1] and ds["soft_median"].attrs["units"] == "eV"
    bands = _rows({f"{k}_{i}": {**r, "kind": k} for k in ("soft", "hard") for i, r in enumerate(bar[k])}, "band")
    assert isinstance(bands, xr.Dataset) and bands["glass"].values.tolist().count("B") == 4


def test_barrier_glasses_default_all_and_names():
    from ssefeat.study.series_study import _barrier_glasses

    glasses = ["poor", "mid", "rich"]
    frac = {"poor": {"P2S6": 0.05}, "mid": {"P2S6": 0.1}, "rich": {"P2S6": 0.2}}
    assert _barrier_glasses(None, glasses, frac) == ["rich"]  # the thesis' choice: the P2S6-richest
    assert _barrier_glasses("all", glasses, frac) == ["rich", "poor", "mid"]
    assert _barrier_glasses("mid", glasses, frac) == ["mid"]
    assert _barrier_glasses(["poor", "mid", "poor"], glasses, frac) == ["poor", "mid"]
    with pytest.raises(ParameterError, match=r"\['nope'\] is not one of the glasses"):
        _barrier_glasses(["poor", "nope"], glasses, frac)
