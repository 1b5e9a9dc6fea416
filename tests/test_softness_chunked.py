"""P_R(S) and its softness range read frame chunk by frame chunk equal the whole-array computation."""
import numpy as np
import pytest
import xarray as xr

from ssefeat.config import load_config
from ssefeat.pipeline import Pipeline
from ssefeat.softness import (chunked_quantiles, in_domain_softness, rearrangement_probability,
                              rearrangement_probability_chunked)
from test_pipeline import config_for, stage, synthetic_glass_trajectory


def _random_case(seed, n_frames=37, n_atoms=23):
    rng = np.random.default_rng(seed)
    S = rng.normal(0, 1, (n_frames, n_atoms))
    S[rng.random(S.shape) < 0.05] = np.nan  # outside the training domain
    lab = rng.exponential(1.0, (n_frames, n_atoms))
    lab[-3:] = np.nan  # p_hop: its window does not fit at the end
    lab[rng.random(lab.shape) < 0.02] = np.nan
    dims = ("frame", "atom")
    return xr.DataArray(S, dims=dims), xr.DataArray(lab, dims=dims)


@pytest.mark.parametrize("horizon", [0, 1, 4])
@pytest.mark.parametrize("chunk", [1, 5, 16, 100])
def test_chunked_p_r_equals_whole(horizon, chunk):
    S, lab = _random_case(horizon * 100 + chunk)
    whole = rearrangement_probability(S, lab, r_cut=1.5, horizon=horizon, bins=12, s_range=(-1.8, 2.1))
    # lazy (dask) inputs, as read from the stage stores
    got = rearrangement_probability_chunked(S.chunk({"frame": 7}), lab.chunk({"frame": 7}), r_cut=1.5,
                                            horizon=horizon, bins=12, s_range=(-1.8, 2.1), chunk_frames=chunk)
    assert whole["count"].sum() > 500 and whole["rearranging"].sum() > 50  # a case with content
    np.testing.assert_array_equal(got["count"].values, whole["count"].values)
    np.testing.assert_array_equal(got["rearranging"].values, whole["rearranging"].values)
    for v in ("P_R", "P_R_low", "P_R_high", "S", "S_edge_low", "S_edge_high"):
        np.testing.assert_allclose(got[v].values, whole[v].values, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize("n_bins", [4, 1 << 16])
@pytest.mark.parametrize("block", [1, 13, 1000])
def test_chunked_quantiles_equal_numpy(n_bins, block):
    rng = np.random.default_rng(block)
    v = np.concatenate([rng.normal(0, 1, 700), np.round(rng.normal(3, 1, 300), 1)])  # ties in the upper tail
    v[rng.random(v.size) < 0.05] = np.nan
    v[:3] = [np.inf, -np.inf, np.nan]
    qs = (0.0, 0.005, 0.3, 0.5, 0.995, 1.0)
    got = chunked_quantiles(lambda: (v[a:a + block] for a in range(0, v.size, block)), qs, n_bins=n_bins)
    want = np.quantile(v[np.isfinite(v)], qs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    with pytest.raises(Exception, match="no finite value"):
        chunked_quantiles(lambda: iter([np.full(3, np.nan)]), qs)


def test_softness_stage_p_r_equals_the_whole_array_computation(tmp_path):
    traj = synthetic_glass_trajectory(tmp_path / "glass.nc")
    cfg = config_for(tmp_path, traj, correlate={"enabled": False}, transport={"enabled": False},
                     disorder={"enabled": False}, execution={"chunk_frames": 4}, output={"figures": False})
    out = Pipeline(load_config(cfg), progress=False).run()
    soft, labels = stage(out, "softness_0.zarr"), stage(out, "labels_0.zarr")
    S = in_domain_softness(soft)
    finite = S.values[np.isfinite(S.values)]
    lo, hi = np.quantile(finite, [0.005, 0.995])
    horizon = min(cfg["softness"]["horizon"], labels.sizes["frame"] - 2)
    want = rearrangement_probability(S, labels[labels.attrs["label_variable"]], r_cut=soft.attrs["r_cut"],
                                     horizon=horizon, bins=12, s_range=(float(lo), float(hi)))
    assert want["count"].sum() > 50 and want["rearranging"].sum() > 0  # a case with content
    for v in ("P_R", "P_R_low", "P_R_high", "count", "rearranging", "S_edge_low", "S_edge_high"):
        np.testing.assert_allclose(soft[v].values, want[v].values, rtol=1e-12, atol=0, equal_nan=True)
    # another chunk size over the same features store (written in chunks of 4): the same P_R(S)
    import shutil

    shutil.rmtree(out / "stages" / "softness_0.zarr")
    cfg["execution"]["chunk_frames"] = 20
    Pipeline(load_config(cfg), progress=False).run()
    again = stage(out, "softness_0.zarr")
    for v in ("softness", "P_R", "count", "rearranging", "S_edge_low"):
        np.testing.assert_array_equal(again[v].values, soft[v].values)
