"""The thesis' Li-Li-only structure functions (ssefeat.features.parameters.li_li) against a brute-force numpy sum."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from ssefeat.data import make_trajectory
from ssefeat.features import li_li, structure_functions
from ssefeat.features.parameters import resolve

L_BOX = 15.0


def _system(seed):
    """Li, P and S on a jittered 5x5x5 grid of a 15 Å cube (no two atoms closer than ~1.2 Å)."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(5) * 3.0] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = grid + rng.uniform(-0.9, 0.9, grid.shape)
    species = rng.choice(["Li", "Li", "S", "P"], size=len(pos))
    return pos, species


def brute_force(pos, species):
    """G and Psi of every Li from the other Li only, by explicit loops and a cubic minimum image."""
    p = li_li()
    li = np.flatnonzero(species == "Li")
    out = []
    for i in li:
        d = pos[li] - pos[i]
        d -= L_BOX * np.round(d / L_BOX)
        r = np.linalg.norm(d, axis=1)
        other = r > 0
        d, r = d[other], r[other]
        rad = [np.sum(np.exp(-(r[r < 7.0] - mu) ** 2 / (2 * 0.1 ** 2))) for mu in p.mu]
        near = np.flatnonzero(r < 4.5)
        ang = []
        for xi, lam, zeta in itertools.product(p.xi, p.lambdas, p.zeta):
            total = 0.0
            for a, b in itertools.combinations(near, 2):
                rjk = np.linalg.norm(d[b] - d[a])
                cos = d[a] @ d[b] / (r[a] * r[b])
                total += np.exp(-(r[a] ** 2 + r[b] ** 2 + rjk ** 2) / xi ** 2) * (1 + lam * cos) ** zeta
            ang.append(total)
        out.append(rad + ang)
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1])
def test_li_li_equals_brute_force_and_ignores_p_and_s(seed):
    pos, species = _system(seed)
    cell = np.eye(3) * L_BOX
    got = structure_functions(make_trajectory(pos, species, cell=cell), "li_li")
    assert got.sizes["feature"] == 51 + 8
    assert set(got["species_j"].values) == {"Li"} and set(got["species_k"].values) <= {"", "Li"}
    np.testing.assert_allclose(got.isel(frame=0).values, brute_force(pos, species), rtol=1e-10, atol=1e-12)
    # P and S moved anywhere (and relabelled between each other) do not change a Li-Li feature
    rng = np.random.default_rng(seed + 10)
    moved = pos.copy()
    framework = species != "Li"
    moved[framework] = (moved[framework] + rng.uniform(-0.5, 0.5, (framework.sum(), 3))) % L_BOX
    swapped = np.where(species == "S", "P", np.where(species == "P", "S", species))
    again = structure_functions(make_trajectory(moved, swapped, cell=cell), "li_li")
    np.testing.assert_array_equal(again.values, got.values)


def test_li_li_is_a_named_set_beside_li_sulfide():
    p = resolve("li_li")
    assert p.name == "li_li" and p.neighbour_species == ("Li",)
    full = resolve("li_sulfide")
    assert set(p.feature_names()) < set(full.feature_names())
    assert p.fingerprint != full.fingerprint
