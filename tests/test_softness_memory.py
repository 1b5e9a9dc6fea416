"""Softness training and apply read frame chunk by frame chunk: the same cuts, samples, model and softness as the
whole arrays at any chunk size (1, sizes that do not divide the frames, lazy dask-chunked inputs)."""
import numpy as np
import pytest
import xarray as xr

import ssefeat.pipeline.softness as pipeline_softness
from ssefeat.softness import SoftnessModel, label_cuts, select_training_set, train_softness

N_FRAMES, N_ATOMS, N_FEATURES = 41, 29, 5


def _case(seed=0):
    """Features that carry the labels' signal (so a fit has something to find) and p_hop-like labels with NaN."""
    rng = np.random.default_rng(seed)
    lab = rng.exponential(1.0, (N_FRAMES, N_ATOMS))
    lab[-3:] = np.nan  # p_hop: its window does not fit at the end
    lab[rng.random(lab.shape) < 0.03] = np.nan
    X = rng.normal(size=(N_FRAMES, N_ATOMS, N_FEATURES))
    X[..., 0] += np.nan_to_num(lab, nan=1.0)
    frames, atoms = np.arange(N_FRAMES) * 5, np.arange(N_ATOMS)
    species = np.where(atoms % 3 == 0, "P", "Li")
    F = xr.DataArray(X, dims=("frame", "atom", "feature"),
                     coords={"frame": frames, "atom": atoms, "species": ("atom", species),
                             "feature": [f"f{k}" for k in range(N_FEATURES)], "time": ("frame", frames * 0.1)})
    L = xr.DataArray(lab, dims=("frame", "atom"), coords={"frame": frames, "atom": atoms,
                                                           "species": ("atom", species)}, name="phop")
    return F, L


CHUNKS = [1, 4, 7, 1000]  # 4 and 7 do not divide the 41 frames


@pytest.mark.parametrize("chunk", CHUNKS)
def test_label_cuts_chunked_equal_numpy_quantiles(chunk):
    F, L = _case(1)
    values = L.values[np.isfinite(L.values)]
    want = (float(np.quantile(values, 0.9)), float(np.quantile(values, 0.35)))
    assert label_cuts(L, r_quantile=0.9, nr_quantile=0.35) == want
    assert label_cuts(L, r_quantile=0.9, nr_quantile=0.35, chunk_frames=chunk) == want
    assert label_cuts(L.chunk({"frame": chunk}), r_quantile=0.9, nr_quantile=0.35) == want  # its own chunks
    # two runs, one Li only: the quantiles of all their values
    L2 = L.isel(frame=slice(0, 17))
    li = L.values[:, L["species"].values == "Li"]
    both = np.concatenate([li[np.isfinite(li)], L2.values[:, L["species"].values == "Li"].ravel()])
    both = both[np.isfinite(both)]
    assert label_cuts([L, L2], r_quantile=0.8, nr_cut=0.1, species="Li", chunk_frames=chunk) == (
        float(np.quantile(both, 0.8)), 0.1)


def _whole_reference(L, r_cut, nr_cut, window):
    """(rearranging, non-rearranging) masks by their definitions, frame by frame (an independent statement)."""
    lab = L.values
    rearr = lab > r_cut
    quiet = np.zeros_like(rearr)
    for t in range(lab.shape[0]):
        if t - window >= 0 and t + window < lab.shape[0]:
            win = lab[t - window:t + window + 1]
            quiet[t] = np.all(np.isfinite(win) & (win < nr_cut), axis=0)
    return rearr, quiet


@pytest.mark.parametrize("window", [0, 2])
@pytest.mark.parametrize("chunk", CHUNKS)
def test_training_set_chunked_equals_whole(chunk, window):
    F, L = _case(2)
    r_cut, nr_cut = label_cuts(L, r_quantile=0.9, nr_quantile=0.5)
    groups = np.where(np.arange(N_FRAMES) < 20, "run0", "run1")
    for kw in ({}, {"groups": groups}, {"species": "Li", "max_per_class": 15}):
        whole = select_training_set(F, L, r_cut, nr_cut, window=window, seed=3, n_blocks=4, **kw)
        for got in (select_training_set(F, L, r_cut, nr_cut, window=window, seed=3, n_blocks=4, chunk_frames=chunk,
                                        **kw),
                    select_training_set(F.chunk({"frame": 3}), L.chunk({"frame": chunk}), r_cut, nr_cut,
                                        window=window, seed=3, n_blocks=4, **kw)):
            for name in ("X", "y", "frame", "atom", "block", "group"):
                a, b = getattr(whole, name), getattr(got, name)
                assert (a is None and b is None) or np.array_equal(a, b), name
            assert got.info == whole.info and got.group_names == whole.group_names
    # the chosen samples are what the definitions say (no groups, all species)
    rearr, quiet = _whole_reference(L, r_cut, nr_cut, window)
    got = select_training_set(F, L, r_cut, nr_cut, window=window, seed=3, n_blocks=4, chunk_frames=chunk)
    fr, at = got.frame // 5, got.atom
    assert rearr[fr[got.y == 1], at[got.y == 1]].all() and quiet[fr[got.y == 0], at[got.y == 0]].all()
    assert got.info["n_rearranging_available"] == rearr.sum() and got.info["n_nonrearranging_available"] == quiet.sum()
    np.testing.assert_array_equal(got.X, F.values[fr, at])


@pytest.mark.parametrize("chunk", [1, 7])
def test_trained_model_chunked_equals_whole(chunk):
    F, L = _case(3)
    r_cut, nr_cut = label_cuts(L, r_quantile=0.85, nr_quantile=0.5)
    kw = dict(r_cut=r_cut, nr_cut=nr_cut, window=1, C=1.0, n_blocks=4, seed=1)
    whole, _ = train_softness(F, L, **kw)
    got, report = train_softness(F.chunk({"frame": chunk}), L.chunk({"frame": chunk}), **kw)
    assert report["test"]["balanced_accuracy"] > 0.6  # the fit found the signal
    np.testing.assert_allclose(got.coef_, whole.coef_, rtol=1e-12, atol=0)
    assert got.intercept_ == pytest.approx(whole.intercept_, rel=1e-12, abs=0)
    assert got.metrics_["test"] == whole.metrics_["test"]


def _model(n_features, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, n_features))
    X[:, 1] = 2.0  # a dead feature: the domain distance's range check too
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    return SoftnessModel(C=1.0).fit(X, y, feature_names=[f"f{k}" for k in range(n_features)])


@pytest.mark.parametrize("rows", [4, 64, 100])
def test_apply_in_row_blocks_equals_one_call(monkeypatch, rows):
    """The softness stage's chunk task applies the model a few rows at a time (APPLY_ROWS) over lazy features: the
    same softness and in_domain, to the bit, as one call over the whole chunk."""
    F, _ = _case(5)
    F = F.copy()
    F[..., 1] = 2.0  # the model's dead feature at its training value, but for a few samples (out of domain)
    F[::5, ::4, 1] = 2.5
    F[6, 2, 3] = np.nan
    model = _model(N_FEATURES)
    lazy = F.chunk({"frame": 6})
    monkeypatch.setattr(pipeline_softness, "APPLY_ROWS", 10**9)
    want = pipeline_softness._apply(model, lazy, 3, 40)  # one call
    monkeypatch.setattr(pipeline_softness, "APPLY_ROWS", rows)
    got = pipeline_softness._apply(model, lazy, 3, 40)
    assert 0 < int((~want["in_domain"].values).sum()) < want["in_domain"].size
    np.testing.assert_array_equal(got["softness"].values, want["softness"].values)
    np.testing.assert_array_equal(got["in_domain"].values, want["in_domain"].values)
    for name in ("frame", "atom", "time", "species"):
        assert got[name].identical(want[name])
    assert set(got.variables) == set(want.variables)
