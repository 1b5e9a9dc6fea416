"""Softness: training-set selection, the hyperplane model, model files, P_R(S) and its Arrhenius fit."""
import json

import numpy as np
import pytest
import xarray as xr

from ssefeat.errors import ModelFileError, ParameterError, SchemaError
from ssefeat.softness import (SoftnessModel, feature_signature, fit_softness_arrhenius, rearrangement_probability,
                              select_training_set, train_softness)


def synthetic(n_frames=60, n_atoms=80, n_features=6, seed=0, noise=0.3):
    """Features with a hidden hyperplane w; the label (a p_hop-like number) is high where w.x is high."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_frames, n_atoms, n_features)) * np.arange(1, n_features + 1)  # unequal scales
    w = rng.normal(size=n_features)
    score = (X / np.arange(1, n_features + 1)) @ w / np.linalg.norm(w) + noise * rng.normal(size=(n_frames, n_atoms))
    label = np.exp(score)  # positive, monotone in the score
    coords = {"frame": np.arange(n_frames) + 100, "atom": np.arange(n_atoms),
              "species": ("atom", np.where(np.arange(n_atoms) % 4 == 0, "B", "A")),
              "feature": [f"G_{k}" for k in range(n_features)],
              "kind": ("feature", ["radial"] * n_features), "mu": ("feature", np.linspace(0.5, 3, n_features))}
    feats = xr.DataArray(X, dims=("frame", "atom", "feature"), coords=coords, name="features")
    labels = xr.DataArray(label, dims=("frame", "atom"), coords={k: coords[k] for k in ("frame", "atom")},
                          name="phop")
    return feats, labels, w


def test_training_set_classes_are_balanced_and_respect_the_cuts():
    feats, labels, _ = synthetic()
    ts = select_training_set(feats, labels, r_cut=3.0, nr_cut=1.0, window=2, seed=1)
    assert ts.y.sum() == (ts.y == 0).sum() > 50
    lab = labels.sel(frame=xr.DataArray(ts.frame), atom=xr.DataArray(ts.atom)).values
    assert np.all(lab[ts.y == 1] > 3.0)
    # non-rearranging samples stay quiet over +-2 frames
    for f, a in zip(ts.frame[ts.y == 0][:50], ts.atom[ts.y == 0][:50]):
        window = labels.sel(atom=a).sel(frame=slice(f - 2, f + 2)).values
        assert window.size == 5 and np.all(window < 1.0)
    again = select_training_set(feats, labels, r_cut=3.0, nr_cut=1.0, window=2, seed=1)
    assert np.array_equal(again.frame, ts.frame) and np.array_equal(again.atom, ts.atom)


def test_species_selection_keeps_only_that_species():
    feats, labels, _ = synthetic()
    ts = select_training_set(feats, labels, 3.0, 1.0, species="B")
    assert np.all(ts.atom % 4 == 0)


def test_learns_the_hidden_hyperplane_on_held_out_frames():
    feats, labels, w = synthetic()
    model, report = train_softness(feats, labels, r_cut=3.0, nr_cut=1.0, window=1, seed=0)
    assert report["test"]["balanced_accuracy"] > 0.9
    # weights are in standardised units; the hidden w acts on standardised features too
    cos = model.weights().values @ (w / np.linalg.norm(w))
    assert cos > 0.95
    assert 0 < report["test"]["p_soft"] < 1
    assert report["test"]["p_soft_given_rearranging"] > 0.85
    cm = np.array(report["test"]["confusion_matrix"])
    assert cm.sum() == report["test"]["n_samples"]


def test_softness_is_the_signed_distance_to_the_hyperplane():
    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, 3.0, 1.0, C=1.0)
    X = feats.values.reshape(-1, feats.sizes["feature"])
    Z = (X - model.mean_) / model.scale_
    w, b = model.coef_, model.intercept_
    S = model.softness(X)
    # moving a point by t along the unit normal (in standardised space) changes S by exactly t
    n = w / np.linalg.norm(w)
    np.testing.assert_allclose(model.softness((Z + 0.7 * n) * model.scale_ + model.mean_), S + 0.7, atol=1e-10)
    np.testing.assert_allclose(S, (Z @ w + b) / np.linalg.norm(w))


def test_permuted_labels_give_chance_accuracy():
    feats, labels, _ = synthetic(n_frames=80, seed=3)
    rng = np.random.default_rng(0)
    shuffled = labels.copy(data=rng.permutation(labels.values.ravel()).reshape(labels.shape))
    _, report = train_softness(feats, shuffled, r_cut=3.0, nr_cut=1.0, C=1.0, seed=0)
    assert abs(report["test"]["balanced_accuracy"] - 0.5) < 0.1


def test_svm_option_also_learns():
    feats, labels, _ = synthetic()
    _, report = train_softness(feats, labels, 3.0, 1.0, classifier="svm", C=0.1)
    assert report["test"]["balanced_accuracy"] > 0.9


def test_saved_model_reloads_to_identical_predictions(tmp_path):
    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, 3.0, 1.0, C=1.0)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = SoftnessModel.load(path)
    a, b = model.apply(feats), loaded.apply(feats)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.dims == ("frame", "atom") and a["frame"].values[0] == 100
    assert "pickle" not in path.read_text()


def test_tampered_newer_or_foreign_model_files_are_refused(tmp_path):
    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, 3.0, 1.0, C=1.0)
    path = tmp_path / "model.json"
    model.save(path)
    doc = json.loads(path.read_text())
    doc["model"]["coef"][0] += 1.0
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="checksum"):
        SoftnessModel.load(tmp_path / "tampered.json")
    doc = json.loads(path.read_text())
    doc["format_version"] = 99
    (tmp_path / "newer.json").write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="format version 99"):
        SoftnessModel.load(tmp_path / "newer.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="not a JSON"):
        SoftnessModel.load(tmp_path / "junk.json")


def test_features_from_another_parameter_set_are_refused():
    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, 3.0, 1.0, C=1.0)
    other = feats.assign_coords(mu=("feature", feats["mu"].values + 0.1))
    with pytest.raises(ModelFileError, match="parameter set"):
        model.apply(other)
    with pytest.raises(ModelFileError, match="5 features vs the model's 6"):
        model.apply(feats.isel(feature=slice(0, 5)))
    assert feature_signature(feats) == model.feature_signature_


def test_a_checked_parameter_set_is_remembered_but_another_still_refused():
    """The check is remembered for further chunks of the same features (the signature is not rebuilt), yet features
    of another parameter set after an accepted chunk, or a model with another signature, are refused."""
    import ssefeat.softness.model as sm

    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, 3.0, 1.0, C=1.0)
    calls = []
    real = sm.feature_signature
    sm_patch = pytest.MonkeyPatch()
    sm_patch.setattr(sm, "feature_signature", lambda f: calls.append(1) or real(f))
    try:
        first = model.apply(feats.isel(frame=slice(0, 10)), warn=False)
        second = model.apply(feats.isel(frame=slice(10, 20)), warn=False)
        assert len(calls) == 1  # the second chunk's coordinates are the first's
        np.testing.assert_array_equal(second.values, model.apply(feats, warn=False).values[10:20])
        assert first.shape == (10, feats.sizes["atom"])
        with pytest.raises(ModelFileError, match="parameter set"):
            model.apply(feats.assign_coords(mu=("feature", feats["mu"].values + 0.1)))
        model.feature_signature_ = [dict(row, mu=-1.0) for row in model.feature_signature_]
        with pytest.raises(ModelFileError, match="parameter set"):
            model.apply(feats.isel(frame=slice(0, 10)))
    finally:
        sm_patch.undo()


def test_bad_training_input_is_refused():
    feats, labels, _ = synthetic()
    with pytest.raises(ParameterError, match="too few samples"):
        select_training_set(feats, labels, r_cut=1e9, nr_cut=1.0)
    nan = feats.copy()
    nan[3, 4, 1] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        select_training_set(nan, labels, 3.0, 1.0)
    with pytest.raises(SchemaError, match="share no frame"):
        select_training_set(feats, labels.assign_coords(frame=labels.frame + 10_000), 3.0, 1.0)
    with pytest.raises(ParameterError, match="nr_cut"):
        select_training_set(feats, labels, 1.0, 3.0)


def test_rearrangement_probability_counts_exactly_on_a_tiny_case():
    S = xr.DataArray(np.array([[-1.0, 1.0], [-1.0, 1.0], [-1.0, 1.0], [0.0, 0.0]]), dims=("frame", "atom"))
    lab = xr.DataArray(np.array([[0, 0], [0, 5], [0, 0], [0, 0]], dtype=float), dims=("frame", "atom"))
    pr = rearrangement_probability(S, lab, r_cut=1.0, horizon=1, bins=2, s_range=(-2, 2), min_count=1)
    # frames 0..2 usable; atom 1 (S=+1) rearranges within [t, t+1] for t=0,1; atom 0 never
    np.testing.assert_allclose(pr["count"].values, [3, 3])
    np.testing.assert_allclose(pr["P_R"].values, [0, 2 / 3])
    # Wilson 68 % interval, by hand for k = 2 of n = 3: centre (p + 1/6) / (4/3), half sqrt(p(1-p)/3 + 1/36) / (4/3)
    p = 2 / 3
    np.testing.assert_allclose(pr["P_R_low"].values[1], ((p + 1 / 6) - np.sqrt(p * (1 - p) / 3 + 1 / 36)) * 0.75)
    np.testing.assert_allclose(pr["P_R_high"].values[1], ((p + 1 / 6) + np.sqrt(p * (1 - p) / 3 + 1 / 36)) * 0.75)
    # a bin without rearrangements: its interval starts exactly at 0 (for n = 49 the Wilson formula gives -2e-18
    # by round-off, which a plot takes as a negative error bar)
    quiet = rearrangement_probability(xr.DataArray(np.full((50, 1), -1.0), dims=("frame", "atom")),
                                      xr.DataArray(np.zeros((50, 1)), dims=("frame", "atom")), r_cut=1.0,
                                      horizon=1, bins=2, s_range=(-2, 2), min_count=1)
    assert quiet["count"].values[0] == 49 and quiet["P_R"].values[0] == 0
    assert quiet["P_R_low"].values[0] == 0.0 and quiet["P_R_high"].values[0] > 0


def test_p_r_rises_with_softness_and_arrhenius_fit_recovers_sigma_and_delta_e():
    rng = np.random.default_rng(0)
    true_sigma = lambda s: -0.5 + 0.5 * s  # noqa: E731
    true_de = lambda s: 1.5 - 0.5 * s  # noqa: E731
    results = {}
    for T in (0.5, 0.7, 1.0):
        S = rng.uniform(-2, 2, size=(400, 200))
        p = np.exp(true_sigma(S) - true_de(S) / T)
        lab = (rng.random(S.shape) < p).astype(float) * 10.0
        results[T] = rearrangement_probability(xr.DataArray(S, dims=("frame", "atom")),
                                               xr.DataArray(lab, dims=("frame", "atom")), r_cut=1.0, horizon=0,
                                               bins=8, s_range=(-2, 2))
        P = results[T]["P_R"].values
        assert np.all(np.diff(P) > 0)
    fit = fit_softness_arrhenius(results, boltzmann=1.0)
    s = fit["S"].values
    # bin-averaged truth differs slightly from the value at the bin centre; allow 4 standard errors + 0.05
    assert np.all(np.abs(fit["DeltaE"].values - true_de(s)) < 4 * fit["DeltaE_err"].values + 0.05)
    assert np.all(np.abs(fit["Sigma"].values - true_sigma(s)) < 4 * fit["Sigma_err"].values + 0.05)
    with pytest.raises(ParameterError, match="two temperatures"):
        fit_softness_arrhenius({0.5: results[0.5]})


def test_rearrangement_probability_skips_unknown_futures_and_values_outside_s_range():
    # p_hop-like labels are NaN where the window does not fit (last frames): those futures are unknown, not quiet
    S = xr.DataArray(np.array([[1.0, 1.0]] * 4 + [[9.0, -9.0]]), dims=("frame", "atom"))
    lab = xr.DataArray(np.array([[5, 0], [0, 0], [0, 0], [np.nan, np.nan], [0, 0]], dtype=float),
                       dims=("frame", "atom"))
    pr = rearrangement_probability(S, lab, r_cut=1.0, horizon=1, bins=2, s_range=(-2, 2), min_count=1)
    # usable (frame, atom): t=0 both (atom 0 rearranges), t=1 both (quiet, frame 2 known); t=2 has a NaN future;
    # t=3 has a NaN label itself; S = +-9 at t=4 is outside s_range and has no future anyway
    np.testing.assert_allclose(pr["count"].values, [0, 4])
    np.testing.assert_allclose(pr["rearranging"].values, [0, 1])
    # a sample whose future already shows a rearrangement is known to rearrange even if a later label is NaN
    lab2 = lab.copy()
    lab2[2, 0] = 5.0
    pr2 = rearrangement_probability(S, lab2, r_cut=1.0, horizon=1, bins=2, s_range=(-2, 2), min_count=1)
    np.testing.assert_allclose(pr2["count"].values, [0, 5])
    np.testing.assert_allclose(pr2["rearranging"].values, [0, 3])
    # outside an explicit s_range nothing is counted (not folded into the end bins)
    S3 = xr.DataArray(np.array([[5.0, -5.0], [0.5, -0.5], [0.5, -0.5]]), dims=("frame", "atom"))
    lab3 = xr.DataArray(np.zeros((3, 2)), dims=("frame", "atom"))
    pr3 = rearrangement_probability(S3, lab3, r_cut=1.0, horizon=0, bins=2, s_range=(-2, 2), min_count=1)
    np.testing.assert_allclose(pr3["count"].values, [2, 2])


def test_dead_features_do_not_blow_up_softness_elsewhere():
    """A feature that is ~1e-60 in training (a radial shell far inside the closest contact) must not make
    softness explode on a configuration where it is 1e-40."""
    feats, labels, _ = synthetic()
    dead = feats.isel(feature=[0]).copy(data=np.full(feats.shape[:2] + (1,), 1e-60)
                                        * (1 + 0.1 * np.random.default_rng(0).random(feats.shape[:2] + (1,))))
    dead = dead.assign_coords(feature=["G_dead"], kind=("feature", ["radial"]), mu=("feature", [0.1]))
    both = xr.concat([feats, dead], "feature")
    model, _ = train_softness(both, labels, 3.0, 1.0, C=1.0)
    S = model.apply(both)
    other = both.copy()
    other[..., -1] = 1e-40
    assert np.abs(model.apply(other).values - S.values).max() < 1e-6
    assert np.abs(S.values).max() < 100


def test_rare_features_are_left_out_of_the_hyperplane():
    """A shell that is occupied in one training sample out of thousands (a rare close contact) must get weight 0,
    so that softness stays bounded where the contact does occur."""
    feats, labels, _ = synthetic()
    rare = np.zeros(feats.shape[:2] + (1,))
    rare[5, 7, 0] = 1e-5
    extra = feats.isel(feature=[0]).copy(data=rare).assign_coords(feature=["G_rare"], mu=("feature", [2.3]))
    both = xr.concat([feats, extra], "feature")
    model, _ = train_softness(both, labels, 3.0, 1.0, C=1.0)
    assert model.coef_[-1] == 0 and model.dead_features_ == ["G_rare"]
    other = both.copy()
    other[..., -1] = 0.4
    np.testing.assert_allclose(model.apply(other).values, model.apply(both).values)


# ---- frame groups (independent runs) ------------------------------------------------------------------------------
def _run_groups(feats, n_runs=4):
    n = feats.sizes["frame"]
    return xr.DataArray(np.array([f"run{k * n_runs // n}" for k in range(n)]), dims="frame",
                        coords={"frame": feats["frame"].values})


def test_groups_hold_out_whole_runs_and_quiet_windows_stay_inside_a_run():
    feats, labels, _ = synthetic(n_frames=80, seed=5)
    groups = _run_groups(feats)
    model, report = train_softness(feats, labels, r_cut=3.0, nr_cut=1.0, window=3, seed=0, groups=groups,
                                   test_groups=["run2"])
    ts = report["training_set"]
    run_of = dict(zip(groups.frame.values.tolist(), groups.values.tolist()))
    train, test = ts.split(test_groups=["run2"])
    assert {run_of[f] for f in ts.frame[test]} == {"run2"}
    assert "run2" not in {run_of[f] for f in ts.frame[train]}
    assert report["test"]["n_samples"] == int(test.sum())
    assert model.provenance_["split"] == "frame groups" and model.provenance_["test_groups"] == ["run2"]
    assert report["test"]["balanced_accuracy"] > 0.9
    # a quiet (non-rearranging) sample's +-3 frame window lies inside its own run
    for f in ts.frame[ts.y == 0]:
        assert {run_of.get(g, run_of[f]) for g in range(f - 3, f + 4)} == {run_of[f]}
    # without groups, some quiet windows do straddle run boundaries (so the check above is not vacuous)
    plain = select_training_set(feats, labels, 3.0, 1.0, window=3, seed=0, balance=False)
    straddle = [f for f in plain.frame[plain.y == 0]
                if len({run_of.get(g, run_of[f]) for g in range(f - 3, f + 4)}) > 1]
    assert straddle
    # a seeded random choice of groups, the same each time, never all of them
    a = select_training_set(feats, labels, 3.0, 1.0, groups=groups.values, seed=0).split(test_fraction=0.5, seed=4)
    b = select_training_set(feats, labels, 3.0, 1.0, groups=groups, seed=0).split(test_fraction=0.5, seed=4)
    assert np.array_equal(a[1], b[1]) and a[1].any() and a[0].any() and not (a[0] & a[1]).any()


def test_group_errors():
    feats, labels, _ = synthetic(n_frames=40)
    groups = _run_groups(feats)
    with pytest.raises(ParameterError, match="gap_blocks"):
        train_softness(feats, labels, 3.0, 1.0, groups=groups, gap_blocks=1)
    with pytest.raises(ParameterError, match="not among the groups"):
        train_softness(feats, labels, 3.0, 1.0, groups=groups, test_groups=["run9"])
    with pytest.raises(SchemaError, match="one label per feature frame"):
        select_training_set(feats, labels, 3.0, 1.0, groups=groups.values[:-1])
    with pytest.raises(SchemaError, match="no group for"):
        select_training_set(feats, labels, 3.0, 1.0, groups=groups.isel(frame=slice(1, None)))
    one = select_training_set(feats, labels, 3.0, 1.0, groups=np.zeros(feats.sizes["frame"], int))
    with pytest.raises(ParameterError, match="one frame group"):
        one.split()
    plain = select_training_set(feats, labels, 3.0, 1.0)
    with pytest.raises(ParameterError, match="has no groups"):
        plain.split(test_groups=["run0"])


# ---- labels at full time resolution reduced to the feature frames --------------------------------------------------
def test_labels_at_frames_exact_small_case():
    from ssefeat.softness import labels_at_frames

    rng = np.random.default_rng(2)
    vals = rng.random((15, 3))
    vals[6, 0] = np.nan
    lab = xr.DataArray(vals, dims=("frame", "atom"), coords={"frame": np.arange(100, 115), "atom": [7, 8, 9],
                                                             "time": ("frame", 0.1 * np.arange(15))},
                       name="phop", attrs={"units": "sigma^2"})
    out = labels_at_frames(lab, [102, 107, 112])
    assert out.frame.values.tolist() == [102, 107, 112] and out.atom.values.tolist() == [7, 8, 9]
    np.testing.assert_allclose(out.time.values, [0.2, 0.7, 1.2])
    expect = np.stack([vals[0:5].max(0), vals[5:10].max(0), vals[10:15].max(0)])
    expect[1, 0] = np.nan  # a NaN label inside the interval: unknown
    np.testing.assert_array_equal(out.values, expect)
    assert out.attrs["units"] == "sigma^2" and out.name == "phop"
    # uneven spacing: midpoints go to both neighbours; an interval past the last label frame is unknown
    uneven = labels_at_frames(lab, np.array([102, 106, 112]), reduce="mean")
    np.testing.assert_allclose(uneven.values[0], vals[0:5].mean(0))
    np.testing.assert_allclose(uneven.values[1, 1:], vals[4:10, 1:].mean(0))
    assert np.isnan(uneven.values[1, 0]) and np.isnan(uneven.values[2]).all()
    # an interval before the first label frame is unknown; a features array gives its frames
    feats = xr.DataArray(np.zeros((2, 3, 1)), dims=("frame", "atom", "feature"),
                         coords={"frame": [100, 105], "atom": [7, 8, 9], "feature": ["g"]})
    edge = labels_at_frames(lab, feats, reduce="min")
    assert np.isnan(edge.values[0]).all()
    np.testing.assert_allclose(edge.values[1, 1:], vals[3:8, 1:].min(0))


def test_labels_at_frames_errors():
    from ssefeat.softness import labels_at_frames

    lab = xr.DataArray(np.zeros((10, 2)), dims=("frame", "atom"), coords={"frame": np.arange(10), "atom": [0, 1]})
    with pytest.raises(SchemaError, match="not frames of the labels"):
        labels_at_frames(lab, [2, 12])
    with pytest.raises(ParameterError, match="strictly increasing"):
        labels_at_frames(lab, [5, 2])
    with pytest.raises(ParameterError, match="unknown reduce"):
        labels_at_frames(lab, [2, 5], reduce="median")
    with pytest.raises(ParameterError, match="integer frame indices"):
        labels_at_frames(lab, [2.5])
    with pytest.raises(SchemaError, match="expected \\(frame, atom\\)"):
        labels_at_frames(lab.rename(atom="particle"), [2, 5])


def test_training_set_from_a_lazy_store_reads_one_frame_chunk_at_a_time(tmp_path):
    """Features in a chunked zarr store (as the pipeline's features stage): the same training set as from memory,
    the NaN check still covers every value and names the first bad one, and the traced peak does not grow with
    the features (4x the frames adds 38 MB of features but only the chosen rows and (frame, atom) label arrays;
    loading the features whole, as before, adds at least those 38 MB)."""
    import tracemalloc

    def store(feats, name):
        feats.to_dataset().chunk({"frame": 10}).to_zarr(tmp_path / name, zarr_format=2)
        return xr.open_zarr(tmp_path / name)["features"]

    def peak(n_frames):
        feats, labels, _ = synthetic(n_frames=n_frames, n_atoms=200, n_features=40, seed=3)
        lazy = store(feats, f"f{n_frames}.zarr")
        assert lazy.chunks is not None
        want = select_training_set(feats, labels, r_cut=12.0, nr_cut=1.0, window=2, seed=5)
        tracemalloc.start()
        try:
            got = select_training_set(lazy, labels, r_cut=12.0, nr_cut=1.0, window=2, seed=5)
            out = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        for name in ("X", "y", "frame", "atom", "block"):
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
        assert 0 < got.y.size < 0.05 * labels.size
        return out, feats.nbytes, (feats, labels)
    peak(20)  # imports and first-use allocations out of the way
    (p1, size1, _), (p4, size4, (feats, labels)) = peak(200), peak(800)
    assert size4 - size1 > 35e6
    assert p4 - p1 < 0.1 * (size4 - size1), (p1, p4, size1, size4)
    nan = feats.copy()
    nan[133 - 100, 4, 1] = np.nan
    nan[150 - 100, 0, 0] = np.inf
    with pytest.raises(SchemaError, match="first at frame 133, atom 4, feature G_1"):
        select_training_set(store(nan, "nan.zarr"), labels, 12.0, 1.0, window=2)
    with pytest.raises(SchemaError, match="first at frame 133, atom 4, feature G_1"):
        select_training_set(nan, labels, 12.0, 1.0, window=2)


def test_future_max_is_the_largest_label_ahead_and_unknown_near_nan_or_the_end():
    from ssefeat.softness import future_max

    lab = xr.DataArray(np.array([[1.0, 0.0], [3.0, np.nan], [2.0, 0.5], [0.0, 0.2]]), dims=("frame", "atom"),
                       coords={"frame": [10, 11, 12, 13], "atom": [4, 7]}, name="phop")
    fm = future_max(lab, 1)
    expected = np.array([[3.0, np.nan], [3.0, np.nan], [2.0, 0.5], [np.nan, np.nan]])
    np.testing.assert_array_equal(fm.values, expected)
    assert fm.name == "phop_future_max" and fm["frame"].values.tolist() == [10, 11, 12, 13]
    np.testing.assert_array_equal(future_max(lab, 0).values, lab.values)
    with pytest.raises(ParameterError, match="whole number of frames"):
        future_max(lab, -1)


def test_softness_knows_its_training_domain(tmp_path):
    """One sample with a feature ~800 training standard deviations away is flagged and warned about; samples drawn
    like the training data are in the domain; the domain survives the model file; an older file warns."""
    import json
    import warnings

    from ssefeat.errors import DomainWarning

    feats, labels, _ = synthetic()
    model, _ = train_softness(feats, labels, r_cut=3.0, nr_cut=1.0, window=2, seed=0)
    fresh, _, _ = synthetic(seed=5)  # the same distribution, new samples
    fresh = fresh.copy()
    fresh[3, 7, 2] = 800.0 * 3.0  # feature G_2 has standard deviation 3
    with pytest.warns(DomainWarning, match="1 of 4800 samples"):
        S = model.apply(fresh)
    inside = S["in_domain"].values
    assert not inside[3, 7] and inside.sum() == inside.size - 1
    # a sample's distance grows with its departure; the training samples set the threshold
    d = model.domain_distance(np.array([model.mean_, model.mean_ + 10 * model.scale_]))
    assert d[0] == pytest.approx(0, abs=1e-12) and d[1] > model.domain_["threshold"]
    model.save(tmp_path / "m.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file with its domain loads silently
        again = SoftnessModel.load(tmp_path / "m.json")
    assert np.array_equal(again.apply(fresh, warn=False)["in_domain"].values, inside)
    doc = json.loads((tmp_path / "m.json").read_text())
    del doc["model"]["domain"]
    doc["sha256"] = __import__("hashlib").sha256(json.dumps(doc["model"], sort_keys=True).encode()).hexdigest()
    (tmp_path / "old.json").write_text(json.dumps(doc))
    with pytest.warns(DomainWarning, match="no training domain"):
        old = SoftnessModel.load(tmp_path / "old.json")
    assert "in_domain" not in old.apply(fresh).coords


def test_c_path_equals_independent_fits_per_fold_and_shows_progress(capsys):
    """The warm-started regularisation path scores every C as independent scikit-learn fits on the same grouped
    folds do (each C's optimum is unique; warm starts only save iterations), and picks the same C; progress=True
    shows a tqdm bar."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold

    rng = np.random.default_rng(3)
    n, k = 1200, 12
    X = rng.normal(size=(n, 4)) @ rng.normal(size=(4, k)) + 0.3 * rng.normal(size=(n, k))
    y = (X[:, 0] - 0.5 * X[:, 1] + rng.normal(0, 2.0, n) > 0).astype(int)
    groups = np.repeat(np.arange(12), n // 12)
    model = SoftnessModel(progress=True).fit(X, y, groups=groups)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    ref = [np.mean([balanced_accuracy_score(y[te], LogisticRegression(C=C, max_iter=2000, tol=1e-10)
                                            .fit(Z[tr], y[tr]).predict(Z[te]))
                    for tr, te in GroupKFold(n_splits=5).split(Z, y, groups)]) for C in model.Cs]
    np.testing.assert_allclose(model.cv_scores_, ref, atol=2e-3)  # at most a borderline sample per fold
    assert model.C_ == model.Cs[int(np.argmax(ref))]
    assert "C by cross-validation" in capsys.readouterr().err
