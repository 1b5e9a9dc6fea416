"""Li2S-P2S5 glass compositions: the formula LiP(x)S(y) as whole anion counts, and the thesis' default series.

A glass of a PS4(3-), b P2S7(4-) and c P2S6(4-) with n_li = 3a + 4(b + c) Li (neutral by construction) has
x = P/Li = (a + 2(b + c)) / n_li and y = S/Li = (4a + 7b + 6c) / n_li. At a given Li count and x the numbers
a = n_li (1 - 2x) and b + c = n_li (6x - 2) / 4 are fixed, and the S content sets the P2S7 : P2S6 split:
b = n_li (y - 1 - x), c = n_li (2.5 x + 0.5 - y). This is the thesis' series (seeds/003 ch. 5.1, Fig. 5-2):
constant Li and P (x = 0.465, about 70Li2S-30P2S5), y from 1.605 (P2S6-rich) to 1.651 (P2S6-poor).

:data:`THESIS_SERIES` holds its five y values (equally spaced over the thesis' range, P2S6-poor first);
:func:`formula_counts` turns one (x, y, n_li) into whole anion counts and raises :class:`CompositionError` when the
nearest whole counts miss the requested x or y by more than ``tol`` (too few Li to resolve the composition) or when
no anion mix can give the formula; :func:`series_counts` does it for a whole series and also refuses series whose
glasses would coincide at that size.
"""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError

__all__ = ["CompositionError", "THESIS_X", "THESIS_SERIES", "DEFAULT_SERIES_N_LI", "formula_counts",
           "series_counts", "formula_of", "sulfur_fractions"]

#: P per Li of the thesis' glasses (LiP(0.465)S(y)).
THESIS_X = 0.465
#: The default series: S per Li of five glasses at x = 0.465, P2S6-poor (y = 1.651) to P2S6-rich (y = 1.605).
THESIS_SERIES = tuple(float(v) for v in np.round(np.linspace(1.651, 1.605, 5), 4))
#: Li per glass of the default series (x = 0.465 exactly; 1,200-1,260 atoms per glass).
DEFAULT_SERIES_N_LI = 400

_LI_PER = {"PS4": 3, "P2S7": 4, "P2S6": 4}
_P_PER = {"PS4": 1, "P2S7": 2, "P2S6": 2}
_S_PER = {"PS4": 4, "P2S7": 7, "P2S6": 6}


class CompositionError(ParameterError):
    """A composition that cannot be made of whole, charge-balanced anions at the requested size."""


def formula_of(counts: dict) -> tuple[float, float, int]:
    """(x, y, n_li) of a glass with anion ``counts`` and just enough Li to neutralise them."""
    n_li = sum(_LI_PER[k] * int(counts.get(k, 0)) for k in _LI_PER)
    if n_li <= 0:
        raise CompositionError(f"anion counts {counts} hold no anion.", fix="give at least one anion.")
    p = sum(_P_PER[k] * int(counts.get(k, 0)) for k in _P_PER)
    s = sum(_S_PER[k] * int(counts.get(k, 0)) for k in _S_PER)
    return p / n_li, s / n_li, n_li


def sulfur_fractions(counts: dict) -> dict:
    """Fraction of the S atoms that belong to each anion kind (the thesis' link variable, per glass)."""
    s = {k: _S_PER[k] * int(counts.get(k, 0)) for k in _S_PER}
    total = sum(s.values())
    return {k: v / total for k, v in s.items()}


def formula_counts(x: float, y: float, n_li: int, tol: float = 0.005) -> dict:
    """Whole anion counts {PS4, P2S7, P2S6} of LiP(x)S(y) with exactly ``n_li`` Li (a neutral cell).

    The PS4 count is the whole number nearest n_li (1 - 2x) that leaves a multiple of 4 Li for the dimers (charge
    balance); the P2S7 count is the nearest whole number to n_li y - 4 a - 6 (b + c). Raises CompositionError when
    the formula is outside the PS4 / P2S7 / P2S6 triangle (1/3 <= x <= 1/2, 1 + x <= y <= 2.5 x + 0.5) or when the
    whole counts give an x or y further than ``tol`` from the request (the fix names a size that resolves it).
    """
    x, y, tol = float(x), float(y), float(tol)
    if isinstance(n_li, bool) or int(n_li) != n_li or n_li < 3:
        raise CompositionError(f"n_li must be a whole number >= 3, got {n_li!r}.",
                               fix="give n_li as a whole number >= 3.")
    n_li = int(n_li)
    if not (1 / 3 - 1e-12 <= x <= 0.5 + 1e-12) or not (1 + x - 1e-12 <= y <= 2.5 * x + 0.5 + 1e-12):
        raise CompositionError(
            f"LiP{x:g}S{y:g} cannot be made of PS4, P2S7 and P2S6 with Li+ (needs 1/3 <= x <= 1/2 and "
            f"{1 + x:.4g} <= y <= {2.5 * x + 0.5:.4g}).", fix="choose x, y inside the Li2S-P2S5 anion triangle.")
    counts = _nearest(x, y, n_li)
    if counts is None:
        raise CompositionError(f"{n_li} Li cannot be charge-balanced by PS4(3-) / P2S7, P2S6(4-) near LiP{x:g}.",
                               fix=_size_fix(x, y, tol, n_li))
    gx, gy, _ = formula_of(counts)
    if abs(gx - x) > tol or abs(gy - y) > tol:
        raise CompositionError(
            f"with {n_li} Li the nearest neutral glass to LiP{x:g}S{y:g} is LiP{gx:.4f}S{gy:.4f} ({counts}), "
            f"off by {max(abs(gx - x), abs(gy - y)):.4f} > tol {tol:g}.", fix=_size_fix(x, y, tol, n_li))
    return counts


def _nearest(x: float, y: float, n_li: int) -> dict | None:
    """The neutral whole-anion glass with n_li Li nearest LiP(x)S(y), or None if none exists."""
    a_target = n_li * (1 - 2 * x)
    cands = [a for a in range(max(0, int(np.floor(a_target)) - 4), int(np.ceil(a_target)) + 5)
             if 3 * a <= n_li and (n_li - 3 * a) % 4 == 0]
    if not cands:
        return None
    a = min(cands, key=lambda v: (abs(v - a_target), v))
    dimers = (n_li - 3 * a) // 4
    b = int(np.clip(np.rint(n_li * y - 4 * a - 6 * dimers), 0, dimers))
    return {"PS4": a, "P2S7": b, "P2S6": dimers - b}


def _size_fix(x: float, y: float, tol: float, n_li: int) -> str:
    for n in range(n_li + 1, n_li + 20001):
        counts = _nearest(x, y, n)
        if counts is None:
            continue
        gx, gy, _ = formula_of(counts)
        if abs(gx - x) <= tol and abs(gy - y) <= tol:
            return f"use n_li = {n} (the next Li count that resolves it) or a larger tol."
    return "use a larger tol."


def series_counts(ys=THESIS_SERIES, x: float = THESIS_X, n_li: int = DEFAULT_SERIES_N_LI,
                  tol: float = 0.005) -> list[dict]:
    """One entry per glass of a series at constant Li and x: name, requested and realised x, y, anion counts
    and the fraction of S in each anion kind. Raises CompositionError if a glass cannot be made at ``n_li`` or
    if two glasses get the same counts (the series is not resolved at that size)."""
    out = []
    for y in ys:
        counts = formula_counts(x, y, n_li, tol)
        gx, gy, _ = formula_of(counts)
        out.append({"name": f"LiP{x:g}S{y:g}", "x": float(x), "y": float(y), "x_built": gx, "y_built": gy,
                    "n_li": int(n_li), "counts": counts, "s_fraction": sulfur_fractions(counts)})
    keys = [tuple(sorted(e["counts"].items())) for e in out]
    if len(set(keys)) < len(keys):
        raise CompositionError(f"at {n_li} Li two glasses of the series get the same anion counts "
                               f"({[e['counts'] for e in out]}).", fix="use more Li (n_li) or fewer glasses.")
    return out
