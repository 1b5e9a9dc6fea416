"""LiPS glass compositions by formula (ssefeat.md.systems.lips_composition) and glasses built from them."""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import pytest

from ssefeat.data import make_trajectory
from ssefeat.features.clusters import cluster_counts, find_clusters
from ssefeat.md.systems.lips_composition import (THESIS_SERIES, CompositionError, formula_counts, formula_of,
                                                  series_counts, sulfur_fractions)
from ssefeat.md.systems.lips_glass import anion_counts, lips_glass

QUICK = dict(melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1, equilibrate_ps=0.1, compress_ps=0.05)


def test_formula_counts_exact_when_the_size_allows():
    # x = 0.465, y = 1.605 with 400 Li: a = 400 (1 - 0.93) = 28, b + c = 400 (0.79) / 4 = 79, b = 400 * 0.14 = 56
    assert formula_counts(0.465, 1.605, 400) == {"PS4": 28, "P2S7": 56, "P2S6": 23}
    assert formula_of({"PS4": 28, "P2S7": 56, "P2S6": 23}) == pytest.approx((0.465, 1.605, 400))
    # the triangle's corners: pure PS4 (Li3PS4), pure P2S7 (Li4P2S7), pure P2S6 (Li4P2S6)
    assert formula_counts(1 / 3, 4 / 3, 30) == {"PS4": 10, "P2S7": 0, "P2S6": 0}
    assert formula_counts(0.5, 1.75, 40) == {"PS4": 0, "P2S7": 10, "P2S6": 0}
    assert formula_counts(0.5, 1.5, 40) == {"PS4": 0, "P2S7": 0, "P2S6": 10}


def test_formula_counts_are_neutral_and_near_the_request_for_any_size():
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.uniform(0.34, 0.5)
        y = rng.uniform(1 + x, 2.5 * x + 0.5)
        n_li = int(rng.integers(100, 2000))
        try:
            c = formula_counts(x, y, n_li, tol=0.01)
        except CompositionError:
            continue
        assert 3 * c["PS4"] + 4 * c["P2S7"] + 4 * c["P2S6"] == n_li
        gx, gy, _ = formula_of(c)
        assert abs(gx - x) <= 0.01 and abs(gy - y) <= 0.01


def test_unresolvable_compositions_raise_with_a_size_that_works():
    with pytest.raises(CompositionError, match="off by") as err:
        formula_counts(0.465, 1.62, 30)
    n = int(err.value.fix.split("n_li = ")[1].split()[0])
    c = formula_counts(0.465, 1.62, n)
    assert sum(v * k for v, k in zip(c.values(), (3, 4, 4))) == n
    with pytest.raises(CompositionError, match="triangle|cannot be made"):
        formula_counts(0.465, 1.40, 400)  # below the pure-P2S6 side: too little S
    with pytest.raises(CompositionError, match="same anion counts"):
        series_counts(n_li=60, tol=0.02)  # 60 Li cannot tell five glasses 0.0115 apart in y
    with pytest.raises(CompositionError, match="not whole anions"):
        anion_counts(n_atoms=93, composition={"PS4": 0.25, "P2S7": 0.6, "P2S6": 0.15})


def test_default_series_runs_from_p2s6_poor_to_rich_at_constant_li_and_p():
    series = series_counts()
    assert len(series) == 5 and [e["y"] for e in series] == list(THESIS_SERIES)
    assert THESIS_SERIES[0] == 1.651 and THESIS_SERIES[-1] == 1.605
    p2s6 = [e["counts"]["P2S6"] for e in series]
    assert p2s6 == sorted(p2s6) and len(set(p2s6)) == 5
    assert {e["n_li"] for e in series} == {400} and len({e["counts"]["PS4"] for e in series}) == 1
    assert all(abs(e["x_built"] - 0.465) < 1e-12 and abs(e["y_built"] - e["y"]) <= 0.005 for e in series)
    f = sulfur_fractions(series[-1]["counts"])
    assert f["PS4"] == pytest.approx(4 * 28 / (4 * 28 + 7 * 56 + 6 * 23))
    assert sum(f.values()) == pytest.approx(1.0)


def test_glass_built_from_formula_has_exactly_those_anions_by_find_clusters():
    want = formula_counts(0.465, 1.605, 120)
    sim = lips_glass(formula=(0.465, 1.605), n_li=120, temperature=600.0, seed=3, **QUICK)
    assert sim.info["anion_counts"] == want
    assert (sim.species == "Li").sum() == 120 and abs(sim.charges.sum()) < 1e-9
    cl = find_clusters(make_trajectory(sim.positions, sim.species, cell=sim.cell))
    found = cluster_counts(cl).isel(frame=0).to_series().to_dict()
    assert found == {k: v for k, v in want.items() if v}
    with pytest.raises(CompositionError, match="needs n_li"):
        lips_glass(formula=(0.465, 1.605), **QUICK)
