"""Anion rotation: orientation vectors, P1/P2 autocorrelation, decorrelation times, deflection angles."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import ssefeat
from ssefeat.dynamics.rotation import (anion_orientations, decorrelation_times, deflection_angles,
                                       orientation_autocorrelation)
from ssefeat.errors import ParameterError, SelectionError
from conftest import anion, build_system


def _rotating_ps4(n_clusters, n_frames, rotations, box=40.0, drift=None, seed=0):
    """PS4 anions on a grid, each rotated about its centre by rotations[f, c] (3x3), wrapped into the box."""
    sp, tpl = anion("PS4")
    g = int(np.ceil(n_clusters ** (1 / 3)))
    centres = np.array([[i, j, k] for i in range(g) for j in range(g) for k in range(g)][:n_clusters], float)
    centres = centres * (box / g) + 0.1
    frames = np.empty((n_frames, n_clusters * 5, 3))
    for f in range(n_frames):
        shift = 0.0 if drift is None else drift * f
        xyz = np.einsum("cij,kj->cki", rotations[f], tpl) + centres[:, None, :] + shift
        frames[f] = xyz.reshape(-1, 3)
    cell = np.eye(3) * box
    frames, _ = ssefeat.box.wrap_positions(frames, cell)
    return ssefeat.make_trajectory(frames, sp * n_clusters, cell=cell, timestep_ps=0.1)


def test_rigid_cluster_crossing_boundary_stays_correlated():
    species, pos, cell, truth = build_system(n_ps4=4, n_p2s7=2, n_p2s6=1, n_li=5, seed=2)
    drift = np.array([0.9, -0.6, 0.4])                     # Å per frame: crosses the boundary several times
    frames = np.stack([pos + f * drift for f in range(40)])
    frames, _ = ssefeat.box.wrap_positions(frames, cell)
    ds = ssefeat.make_trajectory(frames, species, cell=cell, timestep_ps=0.05)
    u = anion_orientations(ds)
    assert u.sizes["cluster"] == 7 and u.sizes["vertex"] == 7       # P2S7 has 7 S vertices, PS4 padded with NaN
    assert np.isnan(u.values[:, u.cluster_type.values == "PS4", 4:]).all()
    assert np.allclose(np.linalg.norm(u.values, axis=-1)[np.isfinite(u.values[..., 0])], 1.0)
    acf = orientation_autocorrelation(u)
    assert np.allclose(acf.xi.values, 1.0, atol=1e-12) and np.allclose(acf.p2.values, 1.0, atol=1e-12)
    assert acf.lag.values[1] == pytest.approx(0.05) and acf.lag.attrs["units"] == "ps"
    assert np.isnan(acf.tau_1e_p1.item()) and not bool(acf.tau_integral_p1_converged)
    d = deflection_angles(u, lag=3)
    assert d.mean_angle.item() < 1e-5 and np.nanmax(d.max_deflection.values) < 1e-5
    # only PS4, explicit vertex species
    u4 = anion_orientations(ds, cluster_type="PS4", vertex_species="S")
    assert u4.sizes["cluster"] == 4 and u4.sizes["vertex"] == 4
    # the vectors point from the centre of mass to the S atoms of the built template
    kind, idx, centre = [t for t in truth if t[0] == "PS4"][0]
    cid = int(u4.cluster.values[np.flatnonzero([set(v) <= set(idx) for v in u4.vertex_atom.values])[0]])
    va = u4.vertex_atom.sel(cluster=cid).values
    expect = ssefeat.box.minimum_image(pos[va] - centre, cell)
    expect /= np.linalg.norm(expect, axis=1, keepdims=True)
    assert np.allclose(u4.sel(cluster=cid).values[0], expect, atol=1e-9)


def test_random_rotation_decorrelates_immediately():
    n_c, n_f = 24, 60
    rots = Rotation.random(n_c * n_f, random_state=1).as_matrix().reshape(n_f, n_c, 3, 3)
    ds = _rotating_ps4(n_c, n_f, rots)
    acf = orientation_autocorrelation(anion_orientations(ds), max_lag=30)
    assert acf.xi.values[0] == pytest.approx(1.0) and acf.p2.values[0] == pytest.approx(1.0)
    assert np.abs(acf.xi.values[1:]).max() < 0.08
    assert np.abs(acf.p2.values[1:]).max() < 0.08
    d = deflection_angles(anion_orientations(ds), lag=1, bins=18)
    # random directions: angle density sin(theta)/2 per radian
    theta = np.radians(d.angle.values)
    expect = np.sin(theta) / 2 * np.pi / 180
    assert np.allclose(d.density.values, expect, atol=0.0025)
    assert d.mean_angle.item() == pytest.approx(90, abs=3)


def test_rotational_diffusion_p1_p2_analytic():
    D, dt, n_c, n_f = 0.05, 0.1, 64, 600        # rad^2/ps, ps
    rng = np.random.default_rng(4)
    steps = Rotation.from_rotvec(rng.normal(0, np.sqrt(2 * D * dt), (n_f * n_c, 3))).as_matrix()
    steps = steps.reshape(n_f, n_c, 3, 3)
    rots = np.empty_like(steps)
    rots[0] = Rotation.random(n_c, random_state=5).as_matrix()
    for f in range(1, n_f):
        rots[f] = steps[f] @ rots[f - 1]
    ds = _rotating_ps4(n_c, n_f, rots, drift=np.array([0.3, 0.2, -0.1]))
    acf = orientation_autocorrelation(anion_orientations(ds), max_lag=150)
    t = acf.lag.values
    assert np.allclose(acf.xi.values, np.exp(-2 * D * t), atol=0.03)
    assert np.allclose(acf.p2.values, np.exp(-6 * D * t), atol=0.03)
    assert acf.tau_1e_p1.item() == pytest.approx(1 / (2 * D), rel=0.06)
    assert acf.tau_1e_p2.item() == pytest.approx(1 / (6 * D), rel=0.06)
    assert acf.tau_integral_p2.item() == pytest.approx(1 / (6 * D), rel=0.06)


def test_fft_equals_direct_average():
    rng = np.random.default_rng(8)
    v = rng.normal(size=(25, 3, 2, 3))
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    u = ssefeat.make_trajectory(np.zeros((25, 1, 3)), ["X"], timestep_ps=0.5)
    da = __import__("xarray").DataArray(v, dims=("frame", "cluster", "vertex", "xyz"),
                                        coords={"time": ("frame", u.time.values)})
    acf = orientation_autocorrelation(da, max_lag=10)
    for lag in (0, 1, 4, 10):
        dots = np.einsum("tcvk,tcvk->tcv", v[lag:], v[: 25 - lag])
        assert acf.xi.values[lag] == pytest.approx(dots.mean(), abs=1e-12)
        assert acf.p2.values[lag] == pytest.approx((1.5 * dots ** 2 - 0.5).mean(), abs=1e-12)


def test_decorrelation_times_of_exponential():
    t = np.arange(0, 50, 0.01)
    ti, te, conv = decorrelation_times(np.exp(-t / 3.0) - 0.01, t)
    assert conv and te == pytest.approx(3.0 * -np.log(1 / np.e + 0.01), rel=1e-3)
    assert ti == pytest.approx(3.0 * (1 - 0.01) - 0.01 * 3.0 * np.log(100), rel=2e-3)


def test_bad_input():
    n_c, n_f = 2, 5
    rots = np.broadcast_to(np.eye(3), (n_f, n_c, 3, 3))
    ds = _rotating_ps4(n_c, n_f, rots)
    with pytest.raises(SelectionError, match="no cluster of type"):
        anion_orientations(ds, cluster_type="P2S7")
    with pytest.raises(SelectionError, match="framework species"):
        anion_orientations(ds, species=("B", "H"), cutoffs={"B-H": 1.3})
    with pytest.raises(ParameterError, match="reference_frame"):
        anion_orientations(ds, reference_frame=9)
    u = anion_orientations(ds)
    with pytest.raises(ParameterError, match="max_lag"):
        orientation_autocorrelation(u, max_lag=5)
    with pytest.raises(ParameterError, match="lag"):
        deflection_angles(u, lag=5)
    uneven = u.assign_coords(time=("frame", [0.0, 0.1, 0.2, 0.4, 0.5]))
    with pytest.raises(ParameterError, match="evenly spaced"):
        orientation_autocorrelation(uneven)


def test_rotation_cli_writes_the_data_and_the_figure(tmp_path):
    from click.testing import CliRunner

    from ssefeat.cli import main

    rng = np.random.default_rng(3)
    rotations = Rotation.random(12 * 8, random_state=rng).as_matrix().reshape(12, 8, 3, 3)
    ssefeat.io.write(_rotating_ps4(8, 12, rotations), tmp_path / "t.nc")
    res = CliRunner().invoke(main, ["rotation", str(tmp_path / "t.nc"), "-o", str(tmp_path / "rot.nc"),
                                    "--plot", str(tmp_path / "acf.png")])
    assert res.exit_code == 0, res.output
    assert "decorrelation times (ps)" in res.output
    assert (tmp_path / "acf.png").stat().st_size > 0 and (tmp_path / "rot.nc").exists()
