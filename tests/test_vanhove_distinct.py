"""Distinct van Hove function G_d(r, t): pair counts against pymatgen-analysis-diffusion's VanHoveAnalysis on the
same walk, and the ideal-gas limit G_d -> (N - 1) / N."""
import numpy as np
import pytest

import ssefeat
from ssefeat.dynamics import van_hove_distinct
from ssefeat.errors import ParameterError

L, N = 12.0, 20


def walk(n_frames=80, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.random((N, 3)) * L + np.cumsum(rng.normal(0, 0.15, (n_frames, N, 3)), axis=0)
    return ssefeat.make_trajectory(pos, ["Li"] * N, cell=np.eye(3) * L, timestep_ps=0.1, wrapped=False)


def test_distinct_pairs_agree_with_pymatgen_van_hove():
    pytest.importorskip("pymatgen.analysis.diffusion")
    from pymatgen.analysis.diffusion.aimd.van_hove import VanHoveAnalysis
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure
    from scipy.stats import norm

    ds = walk()
    lattice = Lattice(np.eye(3) * L)
    # pymatgen measures drift on the non-diffusing atoms: add 8 fixed S, so neither side removes any drift
    frame_s = np.random.default_rng(5).random((8, 3)) * L
    structures = [Structure(lattice, ["Li"] * N + ["S"] * 8, np.vstack([p, frame_s]), coords_are_cartesian=True)
                  for p in ds.positions.values]
    da = DiffusionAnalyzer.from_structures(structures, "Li", temperature=600, time_step=100, step_skip=1,
                                           smoothed=False)
    avg, skip, ngrid, rmax, sigma = 20, 10, 60, 5.9, 0.1
    vh = VanHoveAnalysis(da, avg_nsteps=avg, ngrid=ngrid, rmax=rmax, step_skip=skip, sigma=sigma, species=["Li"])
    interval = np.linspace(0.0, rmax, ngrid)
    dr = interval[1]
    aux = 4.0 * np.pi * interval ** 2
    aux[0] = np.pi * dr ** 2
    gauss = norm.pdf(interval[:, None], interval[None, :], sigma) / avg / N
    rho = N / L ** 3
    for it in range(vh.gdrt.shape[0]):
        m = it * skip
        # pymatgen averages over time origins 0 .. avg - 1: give ssefeat exactly those frames
        ours = van_hove_distinct(ds.isel(frame=slice(0, avg + m)), "Li", lags=[m * 0.1], r_max=rmax,
                                 n_bins=ngrid - 1, remove_com=False)
        assert int(ours["n_origins"][0]) == avg
        counts = np.concatenate([ours["n_pairs"].values[0], [0.0]])
        expected = (gauss * (counts / aux / rho)[:, None]).sum(axis=0)
        np.testing.assert_allclose(vh.gdrt[it], expected, rtol=1e-9, atol=1e-12)
        assert counts.sum() > 1000


def test_distinct_van_hove_ideal_gas_limit_and_input():
    rng = np.random.default_rng(1)
    ds = ssefeat.make_trajectory(rng.random((40, N, 3)) * L, ["Li"] * N, cell=np.eye(3) * L, timestep_ps=0.1,
                                 wrapped=True)
    g = van_hove_distinct(ds, "Li", lags=[0.0, 1.0], n_bins=20, origin_step=1, remove_com=False)
    assert g["lag"].values.tolist() == [0.0, 1.0] and g["r"].values.max() < L / 2
    far = g["G_d"].sel(r=slice(2.0, None))
    # independent uniform positions: expected (N - 1) / N, with the Poisson error of the pooled counts
    expected = (N - 1) / N
    err = expected / np.sqrt(g["n_pairs"].sel(r=slice(2.0, None)).sum("r"))
    assert (np.abs(far.mean("r") - expected) < 4 * err).all()
    with pytest.raises(ParameterError, match="r_max"):
        van_hove_distinct(ds, "Li", lags=[0.0], r_max=7.0, remove_com=False)
