"""The held-out balanced accuracy's 95 % interval, resampling the unit of independence: the ion.

A held-out sample is one (frame, ion). An ion is seen in many frames and whether the model classifies it right
persists from frame to frame (its environment persists), so samples of one ion are not independent. Frame blocks
are not a usable unit either: a frame-block split holds out 2 or 3 blocks (the demo holds out 2), and every block
contains the same ions, so a bootstrap over blocks sees neither the ion-to-ion spread nor more than 2-3 draws,
and its interval looks precise but under-covers: on a synthetic truth where the per-ion accuracy varies
(tests/test_softness_accuracy.py, 60 ions x 30 frames, 200 seeds) a nominal 95 % interval over 2 / 3 frame blocks
holds the truth 27 % / 41 % of the time, the interval over ions 95.5 %.

Rule: a percentile bootstrap over held-out ions (every sample of a drawn ion, as often as it is drawn). With fewer
than :data:`MIN_UNITS` ions there is no interval (NaN, with ``ci_note`` saying why) rather than a precise-looking one.
What the interval covers: which ions happened to be held out, and each ion's frame-to-frame noise. What it does
not cover: correlation between ions of one trajectory (one glass, one melt-quench) and, in a frame-block split,
that the test ions are also training ions at other times; an independent run is the test of that.
"""
from __future__ import annotations

import numpy as np

#: fewest resampled units for which an interval is given
MIN_UNITS = 10


def balanced_accuracy_interval(y, predicted, units, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0,
                               unit: str = "ion", min_units: int = MIN_UNITS) -> dict:
    """Percentile bootstrap interval of the balanced accuracy resampling whole ``units`` (one label per sample:
    the held-out ion by default; see the module docstring).

    Returns ``balanced_accuracy_ci`` [low, high] (NaN when there are fewer than ``min_units`` units, or when the
    resamples never hold both classes), ``ci_unit`` (``unit``), ``n_ci_units`` and ``ci_note`` (why there is no
    interval, else empty).
    """
    y, predicted = np.asarray(y).astype(int), np.asarray(predicted).astype(int)
    names, idx = np.unique(np.asarray(units), return_inverse=True, axis=0)
    idx = idx.reshape(-1)
    cell = np.select([(y == 1) & (predicted == 1), (y == 1) & (predicted == 0), (y == 0) & (predicted == 0),
                      (y == 0) & (predicted == 1)], [0, 1, 2, 3], 4)  # TP, FN, TN, FP or neither
    counts = np.bincount(idx * 5 + cell, minlength=5 * len(names)).reshape(len(names), 5)[:, :4].astype(np.float64)
    out = {"balanced_accuracy_ci": [float("nan")] * 2, "ci_unit": unit, "n_ci_units": int(len(names)),
           "ci_note": ""}
    if len(names) < max(int(min_units), 2):
        out["ci_note"] = f"{len(names)} held-out {unit}s are too few for an interval (at least {min_units})"
        return out
    n = len(names)
    draws = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    sums = np.empty((n_boot, 4))
    step = max(1, int(2e6 // n))  # bounded memory for many ions
    for b in range(0, n_boot, step):  # how often each unit is drawn per resample, times its counts (exact integers)
        part = draws[b:b + step]
        times = np.bincount((np.arange(len(part))[:, None] * n + part).ravel(), minlength=len(part) * n)
        sums[b:b + step] = times.reshape(len(part), n).astype(np.float64) @ counts
    tp, fn, tn, fp = sums.T
    with np.errstate(invalid="ignore", divide="ignore"):
        ba = 0.5 * (tp / (tp + fn) + tn / (tn + fp))
    if not np.isfinite(ba).any():
        out["ci_note"] = "no resample holds both classes"
        return out
    alpha = (1 - confidence) / 2
    out["balanced_accuracy_ci"] = np.nanquantile(ba, [alpha, 1 - alpha]).tolist()
    return out


def held_out_ions(atom, group=None) -> np.ndarray:
    """One integer per sample naming its ion: the atom index, or the (group, atom) pair when samples come from
    several frame groups (independent runs: the same index is another ion)."""
    atom = np.asarray(atom)
    if group is None:
        return np.unique(atom, return_inverse=True)[1].reshape(-1)
    return np.unique(np.stack([np.asarray(group), atom], axis=1), axis=0, return_inverse=True)[1].reshape(-1)
