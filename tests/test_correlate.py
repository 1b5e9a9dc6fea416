"""Pearson links with bootstrap intervals, softness by environment, LASSO."""
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from ssefeat.correlate import (_r2_interval, lasso_links, pearson, softness_by_category, softness_by_environment,
                               softness_links)
from ssefeat.errors import SchemaError
from ssefeat.softness.accuracy import MIN_UNITS


def per_atom(values, name):
    f, a = values.shape
    return xr.DataArray(values, dims=("frame", "atom"), coords={"frame": np.arange(f), "atom": np.arange(a)},
                        name=name)


def test_pearson_matches_scipy_and_interval_covers_truth():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    y = 0.6 * x + 0.8 * rng.normal(size=2000)  # true r = 0.6
    res = pearson(x, y, n_boot=500, seed=0)
    assert res["r"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert res["ci_low"] < 0.6 < res["ci_high"]
    assert res["ci_high"] - res["ci_low"] < 0.1
    assert res["p_value"] < 1e-10


def test_softness_links_sign_and_frame_bootstrap():
    rng = np.random.default_rng(2)
    frac_ps4 = rng.random((20, 50))
    softness = per_atom(2.0 * frac_ps4 + 0.3 * rng.normal(size=(20, 50)), "softness")
    desc = xr.Dataset({"frac_PS4": per_atom(frac_ps4, "a"), "frac_P2S6": per_atom(1 - frac_ps4, "b"),
                       "noise": per_atom(rng.normal(size=(20, 50)), "c")})
    links = softness_links(softness, desc, n_boot=300)
    assert links["r"].sel(descriptor="frac_PS4") > 0.8
    assert links["r"].sel(descriptor="frac_P2S6") < -0.8
    assert links["ci_low"].sel(descriptor="noise") < 0 < links["ci_high"].sel(descriptor="noise")
    assert "parameters" in links.attrs


def test_softness_by_environment_splits_distributions():
    rng = np.random.default_rng(3)
    env = np.where(rng.random((10, 40)) < 0.5, "PS4", "P2S6")
    S = np.where(env == "PS4", 1.0, -1.0) + 0.2 * rng.normal(size=env.shape)
    out = softness_by_environment(per_atom(S, "softness"), per_atom(env, "nearest"))
    assert out["mean"].sel(category="PS4") == pytest.approx(1.0, abs=0.05)
    assert out["fraction_soft"].sel(category="P2S6") < 0.01
    assert int(out["count"].sum()) == env.size


def test_lasso_recovers_sparse_coefficients_on_held_out_frames():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 40, 6))
    y = 1.5 * X[..., 0] - 0.8 * X[..., 3] + 0.1 * rng.normal(size=(30, 40))
    desc = xr.DataArray(X, dims=("frame", "atom", "feature"),
                        coords={"frame": np.arange(30), "atom": np.arange(40), "feature": list("abcdef")})
    out = lasso_links(per_atom(y, "target"), desc, seed=0)
    coef = out["coefficient"].values
    assert coef[0] == pytest.approx(1.5, abs=0.05) and coef[3] == pytest.approx(-0.8, abs=0.05)
    assert np.all(np.abs(coef[[1, 2, 4, 5]]) < 0.05)
    assert out.attrs["r2_test"] > 0.98 and out.attrs["alpha"] > 0


def test_no_shared_samples_is_an_error():
    a = per_atom(np.ones((3, 4)), "s")
    b = xr.Dataset({"d": per_atom(np.ones((3, 4)), "d").assign_coords(frame=[7, 8, 9])})
    with pytest.raises(SchemaError, match="share no"):
        softness_links(a, b)


def test_ion_bootstrap_is_honest_for_persistent_per_ion_values():
    """Each ion keeps its descriptor and its softness offset over all frames and the two are unrelated: the
    frame bootstrap treats 40 ions x 200 frames as 8000 samples and is overconfident; resampling ions is not."""
    rng = np.random.default_rng(5)
    n_frames, n_ions = 200, 40
    desc_ion = rng.normal(size=n_ions)
    soft_ion = rng.normal(size=n_ions)  # independent of desc_ion: true r = 0
    d = np.tile(desc_ion, (n_frames, 1)) + 0.05 * rng.normal(size=(n_frames, n_ions))
    s = np.tile(soft_ion, (n_frames, 1)) + 0.05 * rng.normal(size=(n_frames, n_ions))
    S, D = per_atom(s, "softness"), xr.Dataset({"d": per_atom(d, "d")})
    by_ion = softness_links(S, D, n_boot=400, bootstrap="atom").sel(descriptor="d")
    by_frame = softness_links(S, D, n_boot=400, bootstrap="frame").sel(descriptor="d")
    assert (by_ion.ci_high - by_ion.ci_low) > 5 * (by_frame.ci_high - by_frame.ci_low)
    assert by_ion.ci_low < 0 < by_ion.ci_high


def test_p_value_resamples_ions_like_the_interval():
    """Softness and a descriptor independent per ion, each repeated over frames with small frame-to-frame noise:
    per-sample p-values call nearly every seed significant; the ion-level p is below 0.05 in about 5 % of seeds,
    and exactly when the interval excludes 0."""
    significant, naive = 0, 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        n_frames, n_ions = 30, 40
        s_ion, d_ion = rng.normal(size=n_ions), rng.normal(size=n_ions)
        S = per_atom(s_ion + 0.3 * rng.normal(size=(n_frames, n_ions)), "softness")
        D = per_atom(d_ion + 0.3 * rng.normal(size=(n_frames, n_ions)), "d")
        row = softness_links(S, xr.Dataset({"d": D}), n_boot=400, seed=seed).sel(descriptor="d")
        p, lo, hi = float(row.p_value), float(row.ci_low), float(row.ci_high)
        assert (p < 0.05) == (lo > 0 or hi < 0), (seed, p, lo, hi)
        assert int(row.n_groups) == n_ions and int(row.n) == n_frames * n_ions
        significant += p < 0.05
        naive += stats.pearsonr(S.values.ravel(), D.values.ravel()).pvalue < 0.05
    assert naive >= 10  # the per-sample test: the failure this guards against
    assert significant <= 3  # 1 expected of 20; P(>= 4 | 5 %) = 1.6 %


def test_p_value_with_a_real_link_per_ion():
    rng = np.random.default_rng(7)
    d_ion = rng.normal(size=40)
    S = per_atom(0.7 * d_ion + 0.5 * rng.normal(size=40) + 0.3 * rng.normal(size=(30, 40)), "softness")
    D = per_atom(d_ion + 0.3 * rng.normal(size=(30, 40)), "d")
    row = softness_links(S, xr.Dataset({"d": D}), n_boot=300).sel(descriptor="d")
    assert float(row.p_value) == pytest.approx(2 / 301)  # every resample on one side: the smallest p it can give
    assert float(row.ci_low) > 0


def test_study_links_mark_the_models_own_inputs():
    """A descriptor that is a column of the softness model's features is marked, one that is not is not."""
    from ssefeat.correlate_chunked import study_links

    rng = np.random.default_rng(3)
    n_f, n_a = 12, 30
    X = rng.normal(size=(n_f, n_a, 3))
    feats = xr.DataArray(X, dims=("frame", "atom", "feature"),
                         coords={"frame": np.arange(n_f), "atom": np.arange(n_a),
                                 "feature": ["G_0", "G_1", "voronoi_volume"],
                                 "kind": ("feature", ["radial", "radial", "voronoi"])})
    store = xr.Dataset({"features": feats, "fraction_PS4": per_atom(rng.random((n_f, n_a)), "f")})
    soft = xr.Dataset({"softness": per_atom(X @ np.array([0.5, -0.2, 1.0]), "softness")})
    links = study_links([store], [soft], n_boot=50, lasso=True)
    assert links["model_input"].sel(descriptor="voronoi_volume").item()
    assert not links["model_input"].sel(descriptor="fraction_PS4").item()
    assert links.attrs["lasso_model_inputs"] == 1 and links.attrs["lasso_columns"] == 2
    lo, hi = links.attrs["lasso_r2_test_ci"]
    assert lo <= links.attrs["lasso_r2_test"] <= hi
    # two runs: atom k of each is its own ion, and the cluster split uses both runs
    near = per_atom(np.tile(np.where(np.arange(n_a) % 2, "PS4", "P2S7"), (n_f, 1)), "nearest_cluster_type")
    store = store.assign(nearest_cluster_type=near)
    two = study_links([store, store], [soft, soft], n_boot=50, lasso=False)
    assert int(two["n_groups"].sel(descriptor="fraction_PS4")) == 2 * n_a
    assert int(two["env_n_ions"].sel(category="PS4")) == n_a  # 15 odd atoms x 2 runs
    assert int(two["env_n_samples"].sel(category="PS4")) == 2 * n_f * n_a // 2


def test_softness_by_category_counts_ions_and_resamples_them():
    """Exact means and counts; each ion's S is one constant value repeated over frames, so the interval must be as
    wide as for one sample per ion (it resamples ions, not samples), and atom k of two runs counts as two ions."""
    rng = np.random.default_rng(5)
    n_frames, n_atoms = 40, 60
    ion_s = rng.normal(size=n_atoms)
    S = per_atom(np.tile(ion_s, (n_frames, 1)), "softness")
    cat = per_atom(np.tile(np.where(np.arange(n_atoms) < 20, "PS4", "P2S7"), (n_frames, 1)), "nearest")
    out = softness_by_category(S, cat, n_boot=2000)
    assert out["mean"].sel(category="PS4") == pytest.approx(ion_s[:20].mean())
    assert int(out["n_ions"].sel(category="PS4")) == 20 and int(out["n_samples"].sel(category="PS4")) == 800
    one = softness_by_category(S.isel(frame=[0]), cat.isel(frame=[0]), n_boot=2000)
    width = (out["ci_high"] - out["ci_low"]).values
    assert np.allclose(width, (one["ci_high"] - one["ci_low"]).values, rtol=0.15)
    se = ion_s[20:].std(ddof=1) / np.sqrt(40)  # the ion-level standard error sets the width
    assert float(width[list(out.category.values).index("P2S7")]) == pytest.approx(2 * 1.96 * se, rel=0.2)
    runs = xr.DataArray(np.repeat([0, 1], n_frames // 2), coords={"frame": np.arange(n_frames)}, dims="frame")
    assert int(softness_by_category(S, cat, run_of_frame=runs)["n_ions"].sel(category="PS4")) == 40


def test_lasso_r2_interval_covers_zero_without_signal_and_not_with_it():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 40))
    noise = rng.normal(size=(30, 40))
    none = lasso_links(per_atom(noise, "y"), xr.Dataset({"x": per_atom(X, "x")}), n_boot=500)
    lo, hi = none.attrs["r2_test_ci"]
    assert lo <= none.attrs["r2_test"] <= hi and lo < 0.05
    strong = lasso_links(per_atom(2 * X + 0.5 * noise, "y"), xr.Dataset({"x": per_atom(X, "x")}), n_boot=500)
    lo, hi = strong.attrs["r2_test_ci"]
    assert 0.8 < lo <= strong.attrs["r2_test"] <= hi




def test_group_bootstrap_equals_resampling_the_drawn_groups_samples():
    """The whole-group bootstrap from per-group sums gives the interval and p-value of building every resample
    from the drawn groups' samples (same draws), to 1e-9; a resample of one constant group has no r."""
    rng = np.random.default_rng(4)
    sizes = rng.integers(1, 9, 60)  # unequal groups (descriptors NaN for some samples)
    groups = np.repeat(rng.permutation(1000)[:60], sizes)
    x = 30.0 + rng.normal(size=groups.size)  # an offset like a Voronoi volume in Å^3
    y = 0.2 * (x - 30.0) + rng.normal(size=groups.size)
    got = pearson(x, y, n_boot=400, groups=groups, seed=7)
    uniq, inverse = np.unique(groups, return_inverse=True)
    draws = np.random.default_rng(7).integers(0, uniq.size, size=(400, uniq.size))
    rs = []
    for d in draws:
        idx = np.concatenate([np.flatnonzero(inverse == g) for g in d])
        xb, yb = x[idx], y[idx]
        rs.append(np.mean((xb - xb.mean()) * (yb - yb.mean())) / (xb.std() * yb.std()))
    lo, hi = np.nanquantile(rs, [0.025, 0.975])
    far = min(np.sum(np.array(rs) <= 0), np.sum(np.array(rs) >= 0))
    assert got["ci_low"] == pytest.approx(lo, rel=1e-9) and got["ci_high"] == pytest.approx(hi, rel=1e-9)
    assert got["p_value"] == pytest.approx(min(1.0, 2.0 * (far + 1) / 401), rel=1e-12)
    assert got["n_groups"] == 60 and got["n"] == groups.size
    from ssefeat.correlate import _group_bootstrap_r

    x, y, inverse = np.array([7.1, 7.1, 2.0, 3.0]), np.array([0.0, 1.0, 2.0, 2.5]), np.array([0, 0, 1, 2])
    r = _group_bootstrap_r(x, y, inverse, 3, np.array([[0, 0, 0], [1, 2, 0]]))
    assert np.isnan(r[0])  # only group 0 drawn: x has no spread, r is undefined
    xb, yb = x[[2, 3, 0, 1]], y[[2, 3, 0, 1]]
    assert r[1] == pytest.approx(stats.pearsonr(xb, yb).statistic, rel=1e-12)


def test_lasso_r2_interval_resamples_whole_ions_by_hand():
    """Exact small case: 12 ions with 1-4 held-out samples each; each resample is built by hand from the drawn
    ions' samples (same seed, so the same draws) and scored with sklearn's r2_score; percentiles by np.quantile.
    Under MIN_UNITS ions there is no interval and the note says why."""
    from sklearn.metrics import r2_score

    rng = np.random.default_rng(11)
    sizes = np.array([1, 2, 3, 4, 1, 2, 3, 4, 2, 2, 3, 1])
    ions = np.repeat(np.arange(100, 112), sizes)  # any labels
    y = 5.0 + rng.normal(size=ions.size)  # an offset: SST must be about each resample's mean
    pred = y + 0.7 * rng.normal(size=ions.size)
    got, note = _r2_interval(y, pred, ions, n_boot=9, seed=3)
    draws = np.random.default_rng(3).integers(0, 12, (9, 12))
    by_ion = [np.flatnonzero(ions == 100 + k) for k in range(12)]
    r2 = [r2_score(y[idx], pred[idx]) for idx in (np.concatenate([by_ion[d] for d in row]) for row in draws)]
    assert note == "" and got == pytest.approx(np.quantile(r2, [0.025, 0.975]), abs=1e-12)
    few = ions < 100 + MIN_UNITS - 1
    none, note = _r2_interval(y[few], pred[few], ions[few], n_boot=9, seed=3)
    assert np.isnan(none).all() and note == f"{MIN_UNITS - 1} held-out ions are too few for an interval (at least " \
                                            f"{MIN_UNITS})"


def test_lasso_r2_interval_counts_ions_samples_and_frames():
    """40 frames x 30 atoms, a quarter of the frames held out: 10 frames, 30 ions, 300 samples; with two runs (frames
    0-19 and 20-39) atom k of each is its own ion; with 8 atoms there is no interval and the note says why."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 30))
    y, x = per_atom(X + rng.normal(size=(40, 30)), "y"), xr.Dataset({"x": per_atom(X, "x")})
    one = lasso_links(y, x, n_boot=200)
    assert (one.attrs["n_test"], one.attrs["n_test_ions"], one.attrs["n_test_frames"]) == (300, 30, 10)
    assert one.attrs["r2_test_ci_unit"] == "ion" and "ions" in one.attrs["r2_test_ci_method"]
    runs = xr.DataArray(np.repeat([0, 1], 20), coords={"frame": np.arange(40)}, dims="frame")
    two = lasso_links(y, x, n_boot=200, run_of_frame=runs)
    assert two.attrs["n_test_ions"] == 60  # the 10 held-out frames fall in both runs (else 30; chance 4e-4)
    assert (two.attrs["n_test"], two.attrs["n_test_frames"]) == (300, 10)
    few = lasso_links(y.isel(atom=slice(0, 8)), x.isel(atom=slice(0, 8)), n_boot=200)
    assert np.isnan(few.attrs["r2_test_ci"]).all() and "8 held-out ions are too few" in few.attrs["r2_test_ci_note"]


def test_report_line_gives_the_lasso_interval_unit_and_sample():
    """The report's words for the LASSO R^2 interval: unit and n (ions, samples, frames); the refusal note instead
    of NaN; a links file from before the ion interval says its interval resamples frames."""
    from ssefeat.pipeline.report import lasso_interval

    attrs = {"lasso_r2_test_ci": [0.21, 0.43], "lasso_r2_test_ci_unit": "ion", "lasso_r2_test_ci_note": "",
             "lasso_n_test": 600, "lasso_n_test_ions": 40, "lasso_n_test_frames": 15}
    assert lasso_interval(attrs) == ("95 % CI [0.210, 0.430], percentile bootstrap over the 40 held-out ions; "
                                     "n = 40 ions, 600 held-out samples, 15 frames")
    refused = {**attrs, "lasso_r2_test_ci": [np.nan, np.nan], "lasso_n_test_ions": 8,
               "lasso_r2_test_ci_note": "8 held-out ions are too few for an interval (at least 10)"}
    assert lasso_interval(refused) == ("no interval: 8 held-out ions are too few for an interval (at least 10); "
                                       "n = 8 ions, 600 held-out samples, 15 frames")
    old = {"lasso_r2_test_ci": [0.3, 0.32], "lasso_n_test": 600}
    assert "resampling held-out frames (an older links file), not ions; n = 600 held-out samples" in lasso_interval(old)


def _repeated_ions(seed: int, n_ions: int, n_frames: int):
    """y = x_i + u_i + 0.3 e: the descriptor x_i and an unexplained u_i are fixed per ion over frames (N(0, 1)),
    the frame noise e is small; the population R^2 of the true model is 1 / (1 + 1 + 0.09)."""
    rng = np.random.default_rng(1000 + seed)
    x = np.tile(rng.normal(size=n_ions), (n_frames, 1))
    y = x + np.tile(rng.normal(size=n_ions), (n_frames, 1)) + 0.3 * rng.normal(size=(n_frames, n_ions))
    return per_atom(y, "y"), xr.Dataset({"x": per_atom(x, "x")}), 1 / 2.09


def _coverage(n_seeds: int, n_ions: int, n_frames: int) -> tuple[float, float, float]:
    """Coverage of the population R^2 by lasso_links' interval over held-out ions, and by intervals resampling
    frames and ions on the same samples (the fitted model over every frame); the median width ratio frame / ion."""
    hits, frame_hits, ion_hits, ratios = 0, 0, 0, []
    for seed in range(n_seeds):
        y, x, truth = _repeated_ions(seed, n_ions, n_frames)
        las = lasso_links(y, x, n_boot=1000, seed=seed)
        lo, hi = las.attrs["r2_test_ci"]
        hits += lo <= truth <= hi
        pred = las.attrs["intercept"] + las["coefficient"].item() * (
            x["x"].values - las["descriptor_mean"].item()) / las["descriptor_std"].item()
        frames, atoms = np.meshgrid(np.arange(n_frames), np.arange(n_ions), indexing="ij")
        (flo, fhi), _ = _r2_interval(y.values.ravel(), pred.ravel(), frames.ravel(), 1000, seed, unit="frame")
        (ilo, ihi), _ = _r2_interval(y.values.ravel(), pred.ravel(), atoms.ravel(), 1000, seed)
        frame_hits += flo <= truth <= fhi
        ion_hits += ilo <= truth <= ihi
        ratios.append((fhi - flo) / (ihi - ilo))
    return hits / n_seeds, frame_hits / n_seeds, float(np.median(ratios))


def test_lasso_r2_interval_over_ions_covers_when_ions_repeat_over_frames():
    """Per-ion effects repeated over frames: resampling frames gives an interval several times narrower than
    resampling ions (median 0.06 of its width), and it misses the population R^2 most of the time (measured 2 of
    20); the ion interval holds it (20 seeds, 60 ions x 20 frames, measured 20 of 20; at least 16 required,
    P(<= 15 | 95 %) = 0.3 %). The 200-seed figures are in the slow test."""
    cover, frame_cover, ratio = _coverage(20, 60, 20)
    assert ratio < 0.3 and frame_cover <= 0.5
    assert cover >= 0.8


@pytest.mark.slow
def test_lasso_r2_interval_over_ions_coverage_over_many_seeds():
    """200 seeds, 100 ions x 12 frames (3 held-out frames each): the ion interval holds the population R^2 near
    95 % (measured 94.0 %; at 60 ions x 20 frames 92.5 %, the percentile bootstrap's small-sample shortfall), the
    frame interval on the same samples 10 % of the time, with a median width 0.078 of the ion interval's. The band
    is binomial around 95 %: P(< 178 | 200, 95 %) = 2e-4, P(> 198) = 4e-4."""
    cover, frame_cover, ratio = _coverage(200, 100, 12)
    assert 0.89 <= cover <= 0.99
    assert frame_cover < 0.5 and ratio < 0.3
