"""The correlate stage read frame chunk by frame chunk (ssefeat.correlate_chunked.study_links) against the
whole-array functions of ssefeat.correlate on the same runs."""
import json

import numpy as np
import pytest
import xarray as xr

from ssefeat.correlate import lasso_links, pearson, softness_by_category, softness_links
from ssefeat.correlate_chunked import _PearsonSums, study_links
from ssefeat.softness import in_domain_softness


def make_run(seed: int, n_f: int = 13, n_a: int = 24):
    """A feature store and a softness store of one run: per-ion offsets persist over frames; CSM is NaN at some
    sites, the Voronoi volume sits far from 0 (Å^3), softness is out of the training domain for some samples and
    the nearest cluster type is missing for some."""
    rng = np.random.default_rng(seed)
    ion = rng.normal(size=(1, n_a))
    G = rng.normal(size=(n_f, n_a, 2))
    vol = 30.0 + ion + 0.3 * rng.normal(size=(n_f, n_a))
    csm = np.where(rng.random((n_f, n_a)) < 0.03, np.nan, rng.random((n_f, n_a)))
    X = np.concatenate([G, vol[..., None], csm[..., None]], axis=2)
    coords = {"frame": np.arange(n_f) + 5, "atom": np.arange(0, 2 * n_a, 2)}
    feats = xr.DataArray(X, dims=("frame", "atom", "feature"),
                         coords={**coords, "feature": ["G_0", "G_1", "voronoi_volume", "csm"],
                                 "kind": ("feature", ["radial", "angular", "voronoi", "csm"])})
    frac = np.clip(0.5 + 0.3 * ion + 0.1 * rng.normal(size=(n_f, n_a)), 0, 1)
    near = np.where(rng.random((n_f, n_a)) < 0.05, "", np.where(frac > 0.5, "PS4", "P2S7"))
    store = xr.Dataset({"features": feats, "fraction_PS4": (("frame", "atom"), frac),
                        "nearest_cluster_type": (("frame", "atom"), near)}, coords=coords)
    S = 0.8 * (vol - 30.0) - 1.2 * frac + 0.5 * G[..., 0] + 0.3 * rng.normal(size=(n_f, n_a))
    soft = xr.Dataset({"softness": (("frame", "atom"), S, {"units": "1"}),
                       "in_domain": (("frame", "atom"), rng.random((n_f, n_a)) > 0.04)}, coords=coords,
                      attrs={"model_features": json.dumps(["G_0", "G_1", "voronoi_volume"])})
    return store.chunk({"frame": 4}), soft.chunk({"frame": 4})


def whole_array_links(features, softness, n_boot):
    """study_links the whole-array way: the runs' arrays joined along frame, then softness_links, lasso_links
    and softness_by_category of ssefeat.correlate."""
    S = xr.concat([in_domain_softness(s) for s in softness], "frame", coords="minimal", compat="override")
    desc = []
    for f in features:
        d = xr.Dataset({"fraction_PS4": f["fraction_PS4"]})
        for name in ("voronoi_volume", "csm"):
            d[name] = f["features"].sel(feature=name, drop=True)
        desc.append(d)
    desc = xr.concat(desc, "frame")
    near = xr.concat([f["nearest_cluster_type"] for f in features], "frame")
    run = np.concatenate([np.full(s.sizes["frame"], k) for k, s in enumerate(softness)])
    if len(softness) > 1:
        S, desc, near = (v.assign_coords(frame=np.arange(run.size)) for v in (S, desc, near))
    run_of_frame = xr.DataArray(run, coords={"frame": S["frame"].values}, dims="frame")
    links = softness_links(S, desc, n_boot=n_boot, seed=0, run_of_frame=run_of_frame)
    las = lasso_links(S, desc[["fraction_PS4", "voronoi_volume", "csm"]], seed=0)
    by = softness_by_category(S, near, n_boot=n_boot, seed=0, run_of_frame=run_of_frame)
    return links, las, by


@pytest.mark.parametrize("n_runs, subset", [(1, False), (2, False), (1, True)])
def test_chunked_links_equal_the_whole_array_path(n_runs, subset):
    """Every number of the chunked stage (Pearson r, bootstrap interval and p over ions, n, n_groups, LASSO,
    softness by cluster type) equals the whole-array functions on the joined runs, at any chunk size; also when
    the softness covers only some of the features' frames and atoms (``subset``: the shared ones count)."""
    runs = [make_run(seed) for seed in range(n_runs)]
    features, softness = [r[0] for r in runs], [r[1] for r in runs]
    if subset:
        softness = [softness[0].isel(frame=slice(1, -2), atom=[0, 2, 3, 5] + list(range(7, 23)))]
    links, las, by = whole_array_links(features, softness, n_boot=200)
    for chunk in (1, 4, 5, 100):
        got = study_links(features, softness, n_boot=200, chunk_frames=chunk)
        assert list(got["descriptor"].values) == ["fraction_PS4", "voronoi_volume", "csm"]
        for key in ("r", "p_value", "ci_low", "ci_high"):
            np.testing.assert_allclose(got[key].values, links[key].values, rtol=1e-12, atol=1e-14, err_msg=key)
        for key in ("n", "n_groups"):
            np.testing.assert_array_equal(got[key].values, links[key].values)
        assert int(got["n_groups"][0]) == (20 if subset else 24 * n_runs)
        np.testing.assert_allclose(got["lasso_coefficient"].values, las["coefficient"].values, rtol=1e-12,
                                   atol=1e-14)
        assert got.attrs["lasso_r2_test"] == pytest.approx(las.attrs["r2_test"], rel=1e-12)
        assert got.attrs["lasso_alpha"] == pytest.approx(las.attrs["alpha"], rel=1e-12)
        assert got.attrs["lasso_sample_fraction"] == 1.0 and got.attrs["lasso_samples"] == las.attrs["n_train"] + \
            las.attrs["n_test"]
        assert list(got["category"].values) == list(by["category"].values) == ["P2S7", "PS4"]
        for key in ("mean", "ci_low", "ci_high", "n_ions", "n_samples"):
            np.testing.assert_allclose(got[f"env_{key}"].values, by[key].values, rtol=1e-12, err_msg=key)
        assert list(got["model_input"].values) == [False, True, False]


def test_ion_bootstrap_from_chunked_sums_equals_resampling_raw_samples():
    """Per-ion sums accumulated over chunks (shifted by the first chunk's means) give the r of every resample
    built from the drawn ions' raw samples (same seed), and r of the pooled samples."""
    rng = np.random.default_rng(11)
    n_f, n_a = 9, 15
    x = 30.0 + rng.normal(size=(1, n_a)) + 0.2 * rng.normal(size=(n_f, n_a))
    y = 0.5 * (x - 30.0) + rng.normal(size=(n_f, n_a))
    x[rng.random(x.shape) < 0.1] = np.nan
    sums = _PearsonSums(1, n_a)
    for a in range(0, n_f, 2):
        sums.add(y[a:a + 2], x[a:a + 2, :, None], np.arange(n_a))
    row = sums.row(0, 300, 0.95, seed=3)
    ok = np.isfinite(x)
    ions = np.broadcast_to(np.arange(n_a), x.shape)[ok]
    xs, ys = x[ok], y[ok]
    draws = np.random.default_rng(3).integers(0, n_a, size=(300, n_a))
    rs = [np.corrcoef(np.concatenate([xs[ions == g] for g in d]), np.concatenate([ys[ions == g] for g in d]))[0, 1]
          for d in draws]
    lo, hi = np.quantile(rs, [0.025, 0.975])
    assert row["ci_low"] == pytest.approx(lo, rel=1e-12) and row["ci_high"] == pytest.approx(hi, rel=1e-12)
    assert row["r"] == pytest.approx(np.corrcoef(xs, ys)[0, 1], rel=1e-12)
    assert row["r"] == pytest.approx(pearson(xs, ys, n_boot=300, groups=ions, seed=3)["r"], rel=1e-12)
    assert row["n"] == ok.sum() and row["n_groups"] == n_a


def test_lasso_subsample_is_seeded_by_frame_not_by_chunk_and_recovers_the_link():
    """Above lasso_max_samples, LASSO fits a random fraction of each frame's samples: the same samples (so the
    same fit) at any chunk size, about the requested number of them, and the coefficients of a known link."""
    rng = np.random.default_rng(5)
    n_f, n_a = 40, 60
    a, b = rng.normal(size=(n_f, n_a)), rng.normal(size=(n_f, n_a))
    coords = {"frame": np.arange(n_f), "atom": np.arange(n_a)}
    feats = xr.DataArray(np.stack([a, b], axis=2), dims=("frame", "atom", "feature"),
                         coords={**coords, "feature": ["a", "b"], "kind": ("feature", ["csm", "volume"])})
    store = xr.Dataset({"features": feats}, coords=coords)
    soft = xr.Dataset({"softness": (("frame", "atom"), 1.5 * a - 0.8 * b + 0.1 * rng.normal(size=(n_f, n_a)))},
                      coords=coords)
    runs = [study_links([store], [soft], n_boot=20, chunk_frames=c, lasso_max_samples=600) for c in (3, 7, 40)]
    fraction = runs[0].attrs["lasso_sample_fraction"]
    assert fraction == pytest.approx(600 / (n_f * n_a))
    assert 600 - 4 * np.sqrt(600) < runs[0].attrs["lasso_samples"] < 600 + 4 * np.sqrt(600)  # binomial
    for other in runs[1:]:
        assert other.attrs["lasso_samples"] == runs[0].attrs["lasso_samples"]
        np.testing.assert_array_equal(other["lasso_coefficient"].values, runs[0]["lasso_coefficient"].values)
    assert runs[0]["lasso_coefficient"].sel(descriptor="a") == pytest.approx(1.5, abs=0.05)
    assert runs[0]["lasso_coefficient"].sel(descriptor="b") == pytest.approx(-0.8, abs=0.05)
    full = study_links([store], [soft], n_boot=20, chunk_frames=7)
    assert full.attrs["lasso_samples"] == n_f * n_a and full.attrs["lasso_sample_fraction"] == 1.0
    # the Pearson links still use every sample
    np.testing.assert_array_equal(full["r"].values, runs[1]["r"].values)


def test_report_says_when_lasso_was_fitted_on_a_subsample():
    from ssefeat.pipeline.report import _lasso_subsample

    assert _lasso_subsample(xr.Dataset(attrs={"lasso_sample_fraction": 1.0, "lasso_samples": 50})) == ""
    line = _lasso_subsample(xr.Dataset(attrs={"lasso_sample_fraction": 0.125, "lasso_samples": 199_871}))
    assert "12.5% of the (frame, atom) samples" in line and "199871 complete" in line
