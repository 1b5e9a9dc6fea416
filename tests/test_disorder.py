"""Disorder profile F(z): kernels against brute force, crystal / random / jammed glass, stability, bad input."""
from __future__ import annotations

import itertools
from functools import partial

import numpy as np
import pytest
from scipy.spatial import cKDTree

import ssefeat
from ssefeat import _disorder_kernels as K
from ssefeat.disorder import disorder_profile
from ssefeat.errors import NoCellError, ParameterError
from conftest import trajectory

PARAMS = dict(slab_width=2.0, grid_spacing=0.25, sigma=0.5)


# ---------------------------------------------------------------------------------------------- configurations
def lattice(n=(8, 8, 8), a=3.0, basis="sc", noise=0.1, seed=0):
    """A simple cubic or fcc crystal of n unit cells with Gaussian thermal noise (Å) on every coordinate."""
    rng = np.random.default_rng(seed)
    b = {"sc": np.zeros((1, 3)), "fcc": np.array([[0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]])}[basis]
    g = np.stack(np.meshgrid(*[np.arange(k) for k in n], indexing="ij"), -1).reshape(-1, 3)
    pos = ((g[:, None, :] + b[None]).reshape(-1, 3) * a).astype(float)
    pos += rng.normal(0.0, noise, pos.shape)
    return pos, np.diag(np.asarray(n, float) * a)


def jammed(n, box, phi=0.66, steps=250, seed=0):
    """A quenched 50:50 bidisperse (1 : 1.4) soft-sphere packing: steepest descent of harmonic overlaps from random
    points at packing fraction ``phi``; amorphous (bidispersity frustrates crystallisation)."""
    rng = np.random.default_rng(seed)
    box = np.asarray(box, float)
    p = rng.random((n, 3)) * box
    d = np.where(np.arange(n) < n // 2, 1.0, 1.4)
    d *= (phi * box.prod() / (np.pi / 6 * (d ** 3).sum())) ** (1 / 3)
    for _ in range(steps):
        pairs = cKDTree(p % box, boxsize=box).query_pairs(d.max(), output_type="ndarray")
        i, j = pairs[:, 0], pairs[:, 1]
        r = p[j] - p[i]
        r -= np.round(r / box) * box
        dist = np.linalg.norm(r, axis=1)
        s = 0.5 * (d[i] + d[j])
        f = (np.clip(1 - dist / s, 0, None) / dist * 0.2 * s)[:, None] * r
        force = np.zeros_like(p)
        np.add.at(force, i, -f)
        np.add.at(force, j, f)
        p += force
    return p % box, np.diag(box)


traj = partial(trajectory, timestep_ps=1.0)  # (positions, cell, species="A"); test_regions imports it


# ---------------------------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("cell", [np.diag([10.0, 12.0, 14.0]),
                                  np.array([[10.0, 0, 0], [2.0, 12.0, 0], [1.0, -1.5, 14.0]])])
def test_density_grid_matches_brute_force_periodic_sum(cell):
    rng = np.random.default_rng(3)
    frac = rng.random((25, 3))
    n = np.array([20, 24, 28])
    sigma = 0.8
    grid = K.density_grid(frac, cell, n, sigma)
    pts = np.stack(np.meshgrid(*[(np.arange(k) + 0.5) / k for k in n], indexing="ij"), -1) @ cell
    ref = np.zeros(n)
    for r in frac @ cell:
        for im in itertools.product([-1, 0, 1], repeat=3):
            d = pts - r - np.array(im) @ cell
            ref += np.exp(-(d ** 2).sum(-1) / (2 * sigma ** 2))
    ref *= (2 * np.pi * sigma ** 2) ** -1.5
    assert np.abs(grid - ref).max() < 1e-9 * ref.max()
    # normalised: integrates to the number of atoms
    assert grid.sum() * abs(np.linalg.det(cell)) / n.prod() == pytest.approx(25, rel=1e-8)
    # slabs of 4 planes along b are the grid summed over those planes times the plane spacing
    proj = K.slab_projections(frac, cell, n, 1, 4, sigma)
    width = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[0], cell[2]))
    expect = ref.reshape(20, 6, 4, 28).sum(2).transpose(1, 0, 2) * width / 24
    assert np.abs(proj - expect).max() < 1e-9 * expect.max()


def test_spectrum_ratio_of_a_single_plane_wave_is_small_and_flat_spectrum_is_one():
    u = np.arange(32) / 32
    wave = 1 + np.cos(2 * np.pi * 3 * u)[:, None] * np.ones(32)[None]
    ratio, mean, mx = K.spectrum_ratio(wave[None])
    assert ratio[0] == pytest.approx(2 / (32 * 32 - 1))  # two peaks (+-k) of equal height, all else zero
    delta = np.zeros((1, 16, 16))
    delta[0, 3, 5] = 1.0  # a single point: flat spectrum
    assert K.spectrum_ratio(delta)[0][0] == pytest.approx(1.0)


def test_analytic_reference_agrees_with_random_realisations():
    pos = np.random.default_rng(0).random((900, 3)) * 24.0
    ds = traj(pos, np.eye(3) * 24.0)
    sampled = disorder_profile(ds, n_random=8, **PARAMS).attrs
    analytic = disorder_profile(ds, reference="analytic", **PARAMS).attrs["F_raw_random"]
    stderr = sampled["F_raw_random_std"] / np.sqrt(8 * sampled["n_slabs"])
    assert abs(analytic - sampled["F_raw_random"]) < max(4 * stderr, 0.03 * analytic)


# ---------------------------------------------------------------------------------------------- physics
@pytest.mark.parametrize("basis,a", [("sc", 3.0), ("fcc", 4.0)])
def test_crystal_with_thermal_noise_is_ordered_in_every_slab(basis, a):
    pos, cell = lattice((8, 8, 8) if basis == "sc" else (6, 6, 6), a=a, basis=basis, noise=0.1)
    out = disorder_profile(traj(pos, cell), axis="z", **PARAMS)
    assert out.sizes["z"] == 12
    assert float(out.F.max()) < 0.2
    assert np.all(out.F_raw.values < out.attrs["F_raw_random"])


def test_random_box_is_disordered():
    rng = np.random.default_rng(1)
    pos = rng.random((6, 864, 3)) * 24.0  # six independent ideal-gas frames
    out = disorder_profile(traj(pos, np.eye(3) * 24.0), axis="x", **PARAMS)
    assert out.F.dims == ("frame", "z") and out.sizes["frame"] == 6
    assert float(out.F.mean()) == pytest.approx(1.0, abs=0.1)
    assert float(out.F_mean.min()) > 0.8
    np.testing.assert_allclose(out.F_mean, out.F.mean("frame"))
    np.testing.assert_allclose(out.F, out.F_raw / out.attrs["F_raw_random"])


def test_jammed_glass_is_disordered():
    pos, cell = jammed(1000, [24.0, 24.0, 24.0])
    out = disorder_profile(traj(pos, cell), axis="y", **PARAMS)
    # dense amorphous packing: no Bragg peaks, and suppressed long-wavelength fluctuations make its spectrum
    # flatter than a random one (F above 1)
    assert float(out.F.min()) > 0.8


def test_stable_to_grid_spacing_and_slab_width():
    rng = np.random.default_rng(5)
    crystal = traj(lattice((6, 6, 6), a=4.0, basis="fcc", noise=0.1, seed=2)[0], np.eye(3) * 24.0)
    gas = traj(rng.random((4, 864, 3)) * 24.0, np.eye(3) * 24.0)
    for ds in (crystal, gas):
        base = disorder_profile(ds, slab_width=2.0, grid_spacing=0.25, sigma=0.5, reference="analytic")
        fine = disorder_profile(ds, slab_width=2.0, grid_spacing=0.125, sigma=0.5, reference="analytic")
        # same slabs, half the grid spacing: slab by slab within 0.05
        assert np.abs(fine.F_mean - base.F_mean).max() < 0.05
        for width in (3.0, 4.0, 6.0):  # slabs at least one plane spacing (2 Å) thick
            other = disorder_profile(ds, slab_width=width, grid_spacing=0.25, sigma=0.5, reference="analytic")
            if ds is crystal:
                assert np.abs(other.F_mean - base.F_mean.mean()).max() < 0.05
            else:  # a random slab scatters by ~20 % per frame: compare the profile means (4 frames)
                assert abs(float(other.F_mean.mean() - base.F_mean.mean())) < 0.1


def test_crystal_slab_and_random_slab_box():
    pos, cell = crystal_glass_box()
    out = disorder_profile(traj(pos, cell), axis="z", **PARAMS)
    z = out.z.values
    crystal = (z > 1.0) & (z < 23.0)
    glass = (z > 25.0) & (z < 47.0)
    assert float(out.F_mean[crystal].max()) < 0.2
    assert float(out.F_mean[glass].min()) > 0.6
    # profiles on the same slabs: the random part is at the crystal's density, all one species here
    conc = out.concentration.sel(species="A").values
    np.testing.assert_allclose(conc[np.isfinite(conc)], 1.0)
    assert np.isnan(conc).sum() == 1  # the slab z in [22, 24) between the last crystal plane and the random part
    assert out.total_density.sum() * out.attrs["box_width"] / out.sizes["z"] * 24 * 24 == pytest.approx(1024)


def crystal_glass_box(n_frames=4, seed=0):
    """Frames of an sc crystal (a = 3 Å, 8 x 8 x 8 cells, z in [0, 24), thermal noise 0.1 Å) + random atoms at the
    same density in z in [24, 48); independent noise and random atoms in each frame."""
    frames = []
    rng = np.random.default_rng(seed + 1)
    for f in range(n_frames):
        pos, _ = lattice((8, 8, 8), a=3.0, noise=0.1, seed=seed + 100 * f)
        gas = rng.random((512, 3)) * [24.0, 24.0, 24.0] + [0.0, 0.0, 24.0]
        frames.append(np.concatenate([pos, gas]))
    return np.asarray(frames), np.diag([24.0, 24.0, 48.0])


# ---------------------------------------------------------------------------------------------- geometry
def test_triclinic_cell_and_axis_synonyms():
    pos, cell = lattice((8, 8, 8), a=3.0, noise=0.1)
    frac = pos @ np.linalg.inv(cell)
    tric = cell.copy()
    tric[2, 0] = 4.0  # tilt c in the xz plane: crystal planes stay parallel to a, b
    out = disorder_profile(traj(frac @ tric, tric), axis="c", **PARAMS)
    assert float(out.F.max()) < 0.2
    ortho = disorder_profile(traj(pos, cell), axis="z", **PARAMS)
    same = disorder_profile(traj(pos, cell), axis=2, **PARAMS)
    np.testing.assert_allclose(ortho.F, same.F)


def test_attrs_and_coordinates():
    rng = np.random.default_rng(0)
    pos = rng.random((2, 300, 3)) * [20.0, 21.0, 22.0]
    ds = traj(pos, np.diag([20.0, 21.0, 22.0]), species=["Li"] * 200 + ["S"] * 100)
    out = disorder_profile(ds, axis="y", slab_width=3.0, grid_spacing=0.3, sigma=0.5, species="S", frames=[1])
    assert out.frame.values.tolist() == [1]
    assert out.attrs["axis"] == "b" and out.attrs["n_slabs"] == 7 and out.attrs["n_atoms_F"] == 100
    assert out.attrs["slab_width_actual"] == pytest.approx(3.0)
    assert list(out.species.values) == ["Li", "S"]
    assert int(out["count"].sum()) == 300
    np.testing.assert_allclose(out.concentration.sum("species", skipna=False), 1.0)
    assert out.z_hi.values[-1] == pytest.approx(21.0)
    assert "mass_density" in out and out.attrs["ssefeat_version"]
    assert ssefeat.provenance.parameters_of(out)["species"] == "S"
    # chunk by chunk gives the same per-frame F (same seeded reference for the same cell)
    both = disorder_profile(ds, axis="y", slab_width=3.0, grid_spacing=0.3, sigma=0.5)
    for f in (0, 1):
        one = disorder_profile(ds, axis="y", slab_width=3.0, grid_spacing=0.3, sigma=0.5, frames=[f])
        np.testing.assert_allclose(one.F.values[0], both.F.values[f])


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors():
    pos, cell = lattice((4, 4, 4), a=3.0)
    ds = traj(pos, cell)
    with pytest.raises(ParameterError, match="smaller than the grid spacing"):
        disorder_profile(ds, slab_width=0.2, grid_spacing=0.25, sigma=0.5)
    with pytest.raises(ParameterError, match="too small to hold one slab"):
        disorder_profile(ds, slab_width=13.0, grid_spacing=0.25, sigma=0.5)
    with pytest.raises(ParameterError, match="does not exist"):
        disorder_profile(ds, axis="w")
    with pytest.raises(ParameterError, match="too small to hold one slab"):
        tiny = traj(pos[:8] % 1.5, np.diag([1.5, 1.5, 12.0]))
        disorder_profile(tiny, axis="z", slab_width=2.0, grid_spacing=0.25, sigma=0.5)
    with pytest.raises(NoCellError, match="no cell"):
        disorder_profile(ssefeat.make_trajectory(pos, ["A"] * len(pos)))
    with pytest.raises(ParameterError, match="positive"):
        disorder_profile(ds, sigma=-1.0)
    with pytest.raises(ParameterError, match="reference"):
        disorder_profile(ds, reference="nonsense", **PARAMS)


# ---------------------------------------------------------------------------------------------- CLI and figure
def test_cli_writes_profile_regions_and_figure(tmp_path):
    import xarray as xr
    from click.testing import CliRunner

    from ssefeat.cli import main
    from ssefeat.io import write

    pos, cell = crystal_glass_box(n_frames=2)
    path = tmp_path / "gc.nc"
    write(traj(pos, cell), path)
    out, fig = tmp_path / "disorder.nc", tmp_path / "disorder.png"
    res = CliRunner().invoke(main, ["disorder", str(path), "--axis", "c", "--slab-width", "2", "--grid-spacing",
                                    "0.25", "--sigma", "0.5", "--species", "all", "-o", str(out), "--plot", str(fig)])
    assert res.exit_code == 0, res.output
    assert "interfaces: crystal->glass" in res.output and "regions: relative to the sample's levels" in res.output
    assert fig.stat().st_size > 10_000
    with xr.open_dataset(out) as back:
        assert back.F.dims == ("frame", "z") and back.sizes["z"] == 24
        assert set(back.region.values.tolist()) == {0, 1, 2}
        assert back.attrs["regions_flag_meanings"] == "crystal interface glass"
        assert back.interface_position.sizes["interface"] == 2
        assert back.attrs["regions_method"] == "adaptive" and back.attrs["regions_interface_significant"] == 1
        lo, hi = back.attrs["regions_F_crystal"], back.attrs["regions_F_glass"]
        assert back.attrs["regions_F_threshold_crystal"] == pytest.approx(lo + 0.35 * (hi - lo))
    fixed = CliRunner().invoke(main, ["disorder", str(path), "--axis", "c", "--regions", "threshold", "--species",
                                      "all", "-o", str(tmp_path / "fixed.nc")])
    assert fixed.exit_code == 0 and "fixed F cut-offs: crystal F < 0.35" in fixed.output
    bad = CliRunner().invoke(main, ["disorder", str(path), "--axis", "q", "-o", str(tmp_path / "x.nc")])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    assert not (tmp_path / "x.nc").exists()


@pytest.mark.slow
def test_kob_andersen_inherent_structures_are_disordered():
    """Kob-Andersen liquid (T = 2) snapshots quenched by energy minimisation: glasses (inherent structures). Reduced
    LJ units, so the Å defaults are scaled by ~0.4 (nearest neighbours at ~1 sigma instead of ~2.5 Å). Three
    quenches: a single frame of a 1000-atom box scatters by ~25 % per slab."""
    from ssefeat.md.protocols import make_thermostat, minimise
    from ssefeat.md.systems.kob_andersen import kob_andersen

    sim = kob_andersen(n_atoms=1000, temperature=2.0, equilibrate_steps=500, seed=1)
    frames = []
    for _ in range(3):
        sim.run(300, make_thermostat("langevin", 2.0, 0.005, 1.0), progress=False)
        quenched = sim.copy()
        minimise(quenched, fmax=1e-3, max_steps=3000)
        frames.append(quenched.positions.copy())
    ds = ssefeat.make_trajectory(np.array(frames), list(sim.species), cell=sim.cell)
    for axis in ("x", "z"):
        out = disorder_profile(ds, axis=axis, slab_width=1.0, grid_spacing=0.1, sigma=0.2)
        assert float(out.F.mean()) > 0.9 and float(out.F_mean.min()) > 0.7
