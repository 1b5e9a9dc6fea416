"""The held-out balanced accuracy's interval resamples ions (ssefeat.softness.accuracy): an exact small case, its
coverage on a synthetic truth where samples repeat per ion, the under-coverage of the old frame-block interval,
and what train_softness and the report say about it."""
import numpy as np
import pytest

from ssefeat.softness import MIN_UNITS, balanced_accuracy_interval, train_softness
from ssefeat.softness.accuracy import held_out_ions
from test_softness import synthetic


def test_interval_resamples_whole_units_exactly():
    """Two units, one predicted perfectly (BA 1) and one at chance (BA 0.5): every resample is both bad, mixed or
    both good, so the interval is [0.5, 1]; under MIN_UNITS units there is no interval and the note says why."""
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    pred = np.array([1, 1, 0, 0, 1, 0, 0, 1])
    units = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    out = balanced_accuracy_interval(y, pred, units, n_boot=4000, seed=1, min_units=2, unit="frame block")
    assert out["balanced_accuracy_ci"] == [0.5, 1.0] and out["n_ci_units"] == 2 and out["ci_unit"] == "frame block"
    refused = balanced_accuracy_interval(y, pred, units)
    assert np.isnan(refused["balanced_accuracy_ci"]).all() and refused["n_ci_units"] == 2
    assert "too few" in refused["ci_note"] and str(MIN_UNITS) in refused["ci_note"]


def test_held_out_ions_tell_runs_apart():
    """The same atom index in two runs is two ions; without runs it is one."""
    atom = np.array([3, 3, 5, 3])
    assert held_out_ions(atom).tolist() == [0, 0, 1, 0]
    assert held_out_ions(atom, np.array([0, 1, 0, 0])).tolist() == [0, 2, 1, 0]


def _held_out(rng, n_ions=60, n_frames=30, n_blocks=3, a=3.5, b=1.5):
    """Held-out samples (frame, ion) of a classifier whose accuracy is a per-ion property: ion i is classified
    right with probability p_i ~ Beta(a, b) in every frame (labels balanced, independent of p_i), so the
    population balanced accuracy is E[p] = a / (a + b) exactly."""
    p = rng.beta(a, b, n_ions)
    frame, ion = np.meshgrid(np.arange(n_frames), np.arange(n_ions), indexing="ij")
    y = rng.integers(0, 2, frame.shape)
    right = rng.random(frame.shape) < p[None, :]
    pred = np.where(right, y, 1 - y)
    block = frame * n_blocks // n_frames
    return y.ravel(), pred.ravel(), ion.ravel(), block.ravel(), a / (a + b)


def test_ion_interval_covers_the_truth_and_the_block_interval_does_not():
    """Over 200 seeds the 95 % interval over ions holds the true balanced accuracy near 95 % of the time; the
    old interval over 3 held-out frame blocks (the same ions in each) holds it far less often."""
    hits = {"ion": 0, "block": 0}
    n_seeds = 200
    for seed in range(n_seeds):
        y, pred, ion, block, truth = _held_out(np.random.default_rng(seed))
        for unit, units in (("ion", ion), ("block", block)):
            lo, hi = balanced_accuracy_interval(y, pred, units, n_boot=1000, seed=seed, min_units=2,
                                                unit=unit)["balanced_accuracy_ci"]
            hits[unit] += lo <= truth <= hi
    ion, block = hits["ion"] / n_seeds, hits["block"] / n_seeds
    assert 0.90 <= ion <= 0.99, ion  # binomial sd ~0.015 at 0.95; a percentile bootstrap is a little short
    assert block < 0.7 and ion - block > 0.25, (ion, block)


def test_train_softness_reports_the_ion_interval_and_its_sample():
    feats, labels, _ = synthetic()
    _, report = train_softness(feats, labels, r_cut=3.0, nr_cut=1.0, window=2, seed=0)
    t = report["test"]
    lo, hi = t["balanced_accuracy_ci"]
    assert lo <= t["balanced_accuracy"] <= hi and t["ci_unit"] == "ion"
    assert t["n_ci_units"] == t["n_test_ions"] <= feats.sizes["atom"] and t["n_test_ions"] >= MIN_UNITS
    assert 2 <= t["n_test_blocks"] <= 10 and t["n_test_frames"] <= feats.sizes["frame"]
    ts = report["training_set"]
    _, test = ts.split(seed=0)
    assert t["n_test_ions"] == np.unique(ts.atom[test]).size and t["n_samples"] == test.sum()


@pytest.mark.parametrize("n_ions", [4, 40])
def test_report_line_gives_interval_unit_and_sample_or_refuses(n_ions):
    from ssefeat.pipeline.report import accuracy_interval

    rng = np.random.default_rng(0)
    y, pred, ion, block, _ = _held_out(rng, n_ions=n_ions)
    test = {"n_samples": y.size, "n_test_ions": n_ions, "n_test_frames": 30, "n_test_blocks": 3,
            **balanced_accuracy_interval(y, pred, ion)}
    line = accuracy_interval(test)
    assert f"{n_ions} ions, {y.size} samples, 30 frames in 3 held-out frame blocks" in line
    if n_ions < MIN_UNITS:
        assert line.startswith("no interval:") and "too few" in line and "CI" not in line
    else:
        assert line.startswith("95 % CI [") and f"bootstrap over the {n_ions} held-out ions" in line
