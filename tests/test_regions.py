"""Regions from F(z): slab classes, interface fit, atom labels, per-region MSD / D / softness."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat import _disorder_kernels as K
from ssefeat.disorder import disorder_profile
from ssefeat.errors import ParameterError, SchemaError
from ssefeat.regions import (classify_slabs, find_regions, fit_interfaces, label_atoms, region_dynamics, region_msd,
                             step_model)

from test_disorder import PARAMS, crystal_glass_box, lattice, traj


@pytest.fixture(scope="module")
def box():
    pos, cell = crystal_glass_box(n_frames=4)
    ds = traj(pos, cell)
    return ds, disorder_profile(ds, axis="z", **PARAMS)


def periodic_distance(a, b, length):
    return abs((a - b + length / 2) % length - length / 2)


def test_interfaces_found_where_built(box):
    ds, prof = box
    reg = find_regions(prof)
    slab = prof.attrs["slab_width_actual"]
    # built: crystal planes z = 0..21 Å, random atoms in [24, 48): interfaces at ~23 (+-1.5) and ~48 = 0
    up, down = reg.interface_position.values
    assert periodic_distance(up, 23.25, 48.0) <= slab
    assert periodic_distance(down, 47.25, 48.0) <= slab
    assert np.all(reg.interface_width.values < 2 * slab)
    assert reg.attrs["F_crystal"] < 0.2 < 0.8 < reg.attrs["F_glass"]
    z = prof.z.values
    codes = reg.region.values
    assert np.all(codes[(z > 2) & (z < 21)] == 0)
    assert np.all(codes[(z > 26) & (z < 45)] == 2)
    assert reg.attrs["flag_meanings"] == "crystal interface glass"
    # the fit is a periodic step: continuous across the cell boundary
    L = prof.attrs["box_width"]
    f = step_model(np.array([0.0, L]), 0.1, 1.0, up, (down - up) % L, 0.5, 0.7, L)
    assert f[0] == pytest.approx(f[1])


def test_fit_method_and_thresholds(box):
    _, prof = box
    reg = find_regions(prof, method="fit")
    codes = reg.region.values
    assert set(np.unique(codes)) == {0, 1, 2}
    assert (codes == 1).sum() <= 4  # two interfaces, at most two slabs each
    strict = classify_slabs(prof, crystal_below=0.05, glass_above=0.05)
    assert np.all(strict.values[np.isfinite(prof.F_mean.values)] == 2)
    with pytest.raises(ParameterError, match="above glass_above"):
        classify_slabs(prof, crystal_below=0.8, glass_above=0.2)
    with pytest.raises(ParameterError, match="'threshold' or 'fit'"):
        find_regions(prof, method="tanh")


def test_single_phase_has_no_interfaces():
    pos, cell = lattice((8, 8, 8), a=3.0)
    prof = disorder_profile(traj(pos, cell), **PARAMS)
    fit = fit_interfaces(prof)
    assert not fit["ok"] and "contrast" in fit["message"]
    reg = find_regions(prof)
    assert np.all(reg.region.values == 0) and np.isnan(reg.interface_position.values).all()
    with pytest.raises(ParameterError, match="cannot place regions by fit"):
        find_regions(prof, method="fit")


def test_atom_labels_follow_slabs(box):
    ds, prof = box
    reg = find_regions(prof)
    lab = label_atoms(ds, reg)
    assert lab.dims == ("frame", "atom") and lab.dtype == np.int8
    assert lab.attrs["flag_values"] == [0, 1, 2]
    z = ds.positions.values[..., 2] % 48.0
    inner_crystal = (z > 2.0) & (z < 21.0)
    inner_glass = (z > 26.0) & (z < 45.0)
    assert np.all(lab.values[inner_crystal] == 0) and np.all(lab.values[inner_glass] == 2)
    # brute force: the slab code of each atom
    slab = np.minimum((z / 2.0).astype(int), 23)
    np.testing.assert_array_equal(lab.values, reg.region.values[slab])


def test_masked_msd_matches_brute_force():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(size=(40, 9, 3)), axis=0)
    mask = rng.random((40, 9)) < 0.4
    msd, count = K.masked_msd(x, mask, max_lag=25)
    for tau in range(26):
        d = ((x[tau:] - x[:40 - tau]) ** 2).sum(-1)
        m = mask[:40 - tau]
        assert count[tau] == m.sum()
        assert msd[tau] == pytest.approx(d[m].mean(), rel=1e-10, abs=1e-12)


def dynamic_box(n_frames=120, step=0.1, seed=3):
    """Crystal atoms vibrating (0.1 Å) about sc sites in z in [0, 24), 'glass' atoms random-walking (per-axis step
    ``step`` Å per 1 ps frame) starting in z in [28, 44), far enough from the crystal to stay out of it."""
    rng = np.random.default_rng(seed)
    sites, _ = lattice((8, 8, 8), a=3.0, noise=0.0)
    crystal = sites[None] + rng.normal(0, 0.1, (n_frames,) + sites.shape)
    start = rng.random((512, 3)) * [24.0, 24.0, 16.0] + [0, 0, 28.0]
    walk = start[None] + np.cumsum(rng.normal(0, step, (n_frames, 512, 3)), axis=0)
    pos = np.concatenate([crystal, walk], axis=1)
    ds = ssefeat.make_trajectory(pos, ["Li"] * 1024, cell=np.diag([24.0, 24.0, 48.0]), timestep_ps=1.0,
                                 wrapped=False)
    return ds


def test_region_msd_and_diffusion():
    ds = dynamic_box()
    prof = disorder_profile(ds, frames=slice(0, None, 30), **PARAMS)
    reg = find_regions(prof)
    lab = label_atoms(ds, reg)
    res = region_dynamics(ds, lab, species="Li", window=(5.0, 40.0), max_lag=60.0)
    msd = res.msd
    assert msd.dims == ("lag", "region") and list(res.region.values) == ["crystal", "interface", "glass"]
    # crystal: plateau 2 * 3 * 0.1^2 = 0.06 Å^2 ; glass random walk: 3 step^2 tau, D = step^2 / 2 = 0.005 Å^2/ps
    assert float(msd.sel(region="crystal").isel(lag=slice(5, None)).mean()) == pytest.approx(0.06, rel=0.1)
    assert float(msd.sel(region="glass", lag=40.0)) == pytest.approx(3 * 0.01 * 40, rel=0.1)
    assert float(res.D.sel(region="glass")) == pytest.approx(0.005, rel=0.1)
    assert abs(float(res.D.sel(region="crystal"))) < 2e-4
    assert float(res.D_cm2_s.sel(region="glass")) == pytest.approx(float(res.D.sel(region="glass")) * 1e-4)
    assert res.n_atoms_at_origin.sum() == pytest.approx(1024)


def test_region_msd_equals_transport_msd_for_a_constant_region():
    from ssefeat.dynamics.msd import mean_squared_displacement

    ds = dynamic_box(n_frames=50)
    lab = xr.DataArray(np.full((50, 1024), 2, np.int8), dims=("frame", "atom"),
                       coords={"frame": ds.frame, "atom": ds.atom})
    mine = region_msd(ds, lab).msd.sel(region="glass")
    theirs = mean_squared_displacement(ds, per_axis=False).sel(species="Li")
    np.testing.assert_allclose(mine.values, theirs.values, rtol=1e-9, atol=1e-10)
    assert np.isnan(region_msd(ds, lab).msd.sel(region="crystal").values).all()


def test_softness_statistics_per_region(box):
    ds, prof = box
    lab = label_atoms(ds, find_regions(prof))
    rng = np.random.default_rng(0)
    # soft (positive) in the glass, hard in the crystal
    soft = xr.DataArray(np.where(lab.values == 2, 1.0, -1.0) + rng.normal(0, 0.1, lab.shape),
                        dims=("frame", "atom"), coords={"frame": lab.frame, "atom": lab.atom})
    ds4 = ds.assign_attrs(timestep_ps=1.0, wrapped=0)  # independent frames: no unwrapping, the MSD is moot here
    res = region_dynamics(ds4, lab, species=None, softness=soft, window=(0.0, 2.0))
    assert float(res.softness_mean.sel(region="glass")) == pytest.approx(1.0, abs=0.02)
    assert float(res.softness_mean.sel(region="crystal")) == pytest.approx(-1.0, abs=0.02)
    assert float(res.fraction_soft.sel(region="glass")) > 0.99
    assert int(res.softness_samples.sum()) == lab.size
    with pytest.raises(SchemaError, match="frame, atom"):
        region_dynamics(ds4, lab, species=None, softness=soft.isel(frame=0), window=(0.0, 2.0))


@pytest.mark.slow
def test_md_glass_ceramic_interfaces():
    """The MD glass-ceramic (ordered Li3PS4 slab | Li3PS4 glass, 600 K): F low in the crystal, high in the glass, and
    the interfaces near where the crystal was built. One frame of a small (17 Å wide) box: the crystal's F is ~0.3-0.45
    (2 x 2 unit cells in the plane, 600 K), and the crystal layer facing the glass is partly disordered, so the
    interfaces are asked within two slabs."""
    from ssefeat.md.systems.glass_ceramic import glass_ceramic

    sim = glass_ceramic(n_cells=(2, 2), crystal_cells=2, glass_cells=2, melt_ps=2.0, quench_rate=500.0,
                        equilibrate_ps=1.0, seed=0)
    ds = ssefeat.make_trajectory(sim.positions, list(sim.species), cell=sim.cell)
    prof = disorder_profile(ds, axis=int(sim.info["axis"]), **PARAMS)
    reg = find_regions(prof)
    L = prof.attrs["box_width"]
    slab = prof.attrs["slab_width_actual"]
    assert reg.attrs["fit_ok"] and reg.attrs["F_glass"] - reg.attrs["F_crystal"] > 0.5
    built = sorted(sim.info["interfaces"])  # [crystal -> glass, glass -> crystal (near the cell origin)]
    found = reg.interface_position.values
    assert periodic_distance(found[0], built[0], L) <= 2 * slab
    assert periodic_distance(found[1], built[1], L) <= 2 * slab
    lo, hi = sim.info["crystal_range"]
    z = prof.z.values
    middle = (z > lo + 0.3 * (hi - lo)) & (z < hi - 0.3 * (hi - lo))
    assert float(prof.F_mean[middle].max()) < 0.5
    glass_lo, glass_hi = sim.info["glass_range"]
    inside = (z > glass_lo + 2) & (z < glass_hi - 2)
    assert float(prof.F_mean[inside].mean()) > 0.9
