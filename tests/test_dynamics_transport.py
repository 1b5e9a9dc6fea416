"""Diffusion, conductivity, Haven ratio, Arrhenius, non-Gaussian parameter, van Hove, CLI and figures."""
import numpy as np
import pytest
from click.testing import CliRunner

import ssefeat
from ssefeat.dynamics.arrhenius import arrhenius_fit, arrhenius_from_results, check_timesteps, transport_study
from ssefeat.dynamics.conductivity import NERNST_EINSTEIN_S_PER_CM, conductivity, nernst_einstein
from ssefeat.dynamics.diffusion import diffusion_coefficient
from ssefeat.dynamics.msd import UnwrapError, mean_squared_displacement
from ssefeat.dynamics.ngp import non_gaussian_parameter
from ssefeat.dynamics.vanhove import van_hove_self
from ssefeat.errors import ParameterError, SelectionError
from conftest import check_transport_numbers, vibrating, walkers

KB = 8.617333262e-5
L = 20.0


def random_walk(seed=0, n=48, n_frames=1500, dt=0.1, D=0.05, n_frame_atoms=48, species=("Li", "S"), T=None,
                wrapped=False):
    """Gaussian random walkers (D per axis known exactly) among vibrating framework atoms in a cubic box."""
    return walkers(n_frames, n, n_frame_atoms, np.sqrt(2 * D * dt), L, dt, seed, wrapped=wrapped, species=species,
                   temperature_K=T)


def hopper(seed=0, n=40, n_frames=1500, dt=0.1, rate=0.05, jump=2.5, vib=0.15):
    """Lattice-gas-like hopping: atoms vibrate (Gaussian, sigma vib) around a site that jumps by `jump` Å in a
    random direction at Poisson times (rate per ps). D = rate jump^2 / 6 at long times."""
    rng = np.random.default_rng(seed)
    hops = rng.random((n_frames, n)) < rate * dt
    dirs = rng.normal(size=(n_frames, n, 3))
    dirs /= np.linalg.norm(dirs, axis=-1, keepdims=True)
    sites = rng.uniform(0, L, (n, 3)) + np.cumsum(hops[..., None] * jump * dirs, axis=0)
    pos = sites + rng.normal(0, vib, (n_frames, n, 3))
    fw = vibrating(n_frames, n, np.eye(3) * L, 0.05, rng)
    return ssefeat.make_trajectory(np.concatenate([pos, fw], axis=1), ["Li"] * n + ["S"] * n, cell=np.eye(3) * L,
                                   timestep_ps=dt, wrapped=False, temperature_K=600.0)


# --- diffusion coefficient ------------------------------------------------------------------------------------
def test_random_walk_D_within_stated_uncertainty():
    D0 = 0.05
    res = diffusion_coefficient(random_walk(seed=11, wrapped=True), "Li", remove_com=False)
    D, err = float(res.D.sel(species="Li")), float(res.D_err.sel(species="Li"))
    assert abs(D - D0) < 3 * err  # 3 sigma: fails by chance 0.3 % of the time; seed fixed
    assert 0.02 < err / D0 < 0.15  # the stated error is meaningful: neither tiny nor useless
    assert float(res.D_err_ols[0]) < 0.3 * err  # naive OLS understates, as documented
    np.testing.assert_allclose(float(res.D_cm2_s[0]), D * 1e-4)
    np.testing.assert_allclose(res.D_axis.sel(species="Li").values, D0, atol=4 * float(res.D_axis_err.max()))
    np.testing.assert_allclose(res.D_axis.sel(species="Li").values.mean(), D, rtol=1e-12)
    t0, t1 = float(res.window_start[0]), float(res.window_stop[0])
    assert 0 < t0 < t1 <= 0.5 * 149.9  # detected window inside the first half of the run
    assert "longest run" in res.attrs["parameters"]
    assert res["msd"].dims == ("lag", "species", "axis")


def test_block_and_max_uncertainties():
    ds = random_walk(seed=12, n_frames=1500)
    res = diffusion_coefficient(ds, "Li", window=(1.0, 25.0), uncertainty="blocks", n_blocks=5, remove_com=False)
    assert int(res.n_blocks_used[0]) == 5 and np.isfinite(float(res.D_err_blocks[0]))
    assert float(res.D_err[0]) == float(res.D_err_blocks[0])
    mx = diffusion_coefficient(ds, "Li", window=(1.0, 25.0), uncertainty="max", remove_com=False)
    assert float(mx.D_err[0]) == max(float(mx.D_err_blocks[0]), float(mx.D_err_atoms[0]))
    long = diffusion_coefficient(ds, "Li", window=(1.0, 60.0), remove_com=False)  # 60 ps: < 3 blocks of 150 ps
    assert int(long.n_blocks_used[0]) == 0 and np.isnan(float(long.D_err_blocks[0]))
    with pytest.raises(ParameterError, match="uncertainty"):
        diffusion_coefficient(ds, "Li", uncertainty="bootstrap")


@pytest.mark.slow
def test_collective_uncertainty_coverage_over_seeds():
    z = []
    for seed in range(40):
        r = conductivity(random_walk(seed=200 + seed, n=24, n_frames=1000, T=600.0), "Li", window=(1.0, 30.0),
                         remove_com=False, haven=True, n_sim=100)
        z.append((float(r.D_sigma[0]) - 0.05) / float(r.D_sigma_err[0]))
    z = np.abs(np.asarray(z))
    assert 0.5 < np.mean(z < 1) < 0.85 and np.mean(z < 2) > 0.85


@pytest.mark.slow
def test_random_walk_uncertainty_coverage_over_seeds():
    D0 = 0.05
    z = []
    for seed in range(60):
        r = diffusion_coefficient(random_walk(seed=100 + seed, n=32, n_frames=1000), "Li", remove_com=False)
        z.append((float(r.D[0]) - D0) / float(r.D_err[0]))
    z = np.abs(np.asarray(z))
    # the atom estimate should cover the truth like a standard error: ~68 % within 1 sigma, ~95 % within 2
    assert 0.5 < np.mean(z < 1) < 0.85
    assert np.mean(z < 2) > 0.85


def test_window_detection_skips_the_vibrational_plateau():
    ds = hopper()
    res = diffusion_coefficient(ds, "Li", remove_com=False)
    t0 = float(res.window_start[0])
    assert t0 > 2.0  # the plateau (vib) and the crossover (1/rate = 20 ps) are excluded at the start
    D_true = 0.05 * 2.5 ** 2 / 6
    assert abs(float(res.D[0]) - D_true) < 3 * float(res.D_err[0]) + 0.1 * D_true


def test_diffusion_bad_input():
    ds = random_walk(n_frames=200)
    with pytest.raises(ParameterError, match="too few frames for the fit window"):
        diffusion_coefficient(ds, "Li", window=(1.0, 1.15))
    with pytest.raises(ParameterError, match="outside the trajectory"):
        diffusion_coefficient(ds, "Li", window=(1.0, 50.0))
    with pytest.raises(ParameterError, match="too few frames for a diffusion fit"):
        diffusion_coefficient(ds.isel(frame=slice(0, 4)), "Li")
    with pytest.raises(SelectionError, match="no mobile species"):
        diffusion_coefficient(random_walk(n_frames=50, species=("A", "B")))  # nothing like Li, Na, ...
    with pytest.raises(SelectionError, match="no mobile species"):
        diffusion_coefficient(ds, "Na")
    with pytest.raises(ParameterError, match="no diffusive window"):
        diffusion_coefficient(ds, "S")  # the framework only vibrates
    with pytest.raises(UnwrapError, match="cannot unwrap safely"):
        diffusion_coefficient(random_walk(n_frames=100, D=20.0, wrapped=True), "Li")


# --- conductivity ---------------------------------------------------------------------------------------------
def test_nernst_einstein_by_hand():
    # n = 0.02 / Å^3, D = 0.01 Å^2/ps, T = 600 K, q = +1 e, computed in SI by hand
    n_si = 0.02 * 1e30  # m^-3
    D_si = 0.01 * 1e-20 / 1e-12  # m^2/s
    e = 1.602176634e-19
    kT = 1.380649e-23 * 600.0
    sigma_S_per_cm = n_si * e ** 2 * D_si / kT / 100.0
    sigma, err = nernst_einstein(0.01, 0.02, 600.0, charge=1.0, D_err=0.001)
    assert sigma == pytest.approx(sigma_S_per_cm, rel=1e-6)
    assert err == pytest.approx(0.1 * sigma_S_per_cm, rel=1e-6)
    assert sigma == pytest.approx(0.0619750, rel=1e-5)  # 6.20e-2 S/cm
    # divalent ion, Haven ratio 0.5: four times the charge squared, twice from H_R
    assert nernst_einstein(0.01, 0.02, 600.0, charge=2.0, haven_ratio=0.5)[0] == pytest.approx(8 * sigma_S_per_cm)
    assert NERNST_EINSTEIN_S_PER_CM == pytest.approx(16.02176634)


def test_conductivity_of_a_trajectory_and_haven_flag():
    ds = random_walk(seed=5, T=600.0)
    res = conductivity(ds, "Li", window=(1.0, 40.0), remove_com=False)
    n = 48 / L ** 3
    assert float(res.number_density[0]) == pytest.approx(n)
    expect = nernst_einstein(float(res.D[0]), n, 600.0)[0]
    assert float(res.sigma[0]) == pytest.approx(expect)
    assert float(res.haven_ratio[0]) == 1.0 and "H_R = 1 assumed" in res.attrs["haven"]
    assert res.sigma.attrs["units"] == "S/cm"
    with pytest.raises(ParameterError, match="temperature is not known"):
        conductivity(random_walk(n_frames=100), "Li", window=(1.0, 4.0))


def test_haven_ratio_independent_vs_concerted_ions():
    # independent walkers: H_R = 1 within its uncertainty
    ind = conductivity(random_walk(seed=8, T=600.0), "Li", window=(1.0, 30.0), remove_com=False, haven=True)
    hr, hr_err = float(ind.haven_ratio[0]), float(ind.haven_ratio_err[0])
    assert abs(hr - 1.0) < 2.5 * hr_err and hr_err < 0.6
    assert "D*/D_sigma" in ind.attrs["haven"]
    # concerted motion: every Li follows one common walk (plus a little own noise): D_sigma ~ N D*, H_R ~ 1/N
    rng = np.random.default_rng(9)
    n, nf, dt = 16, 1000, 0.1
    common = np.cumsum(rng.normal(0, np.sqrt(2 * 0.05 * dt), (nf, 1, 3)), axis=0)
    li = rng.uniform(0, L, (n, 3)) + common + rng.normal(0, 0.02, (nf, n, 3))
    fw = rng.uniform(0, L, (64, 3)) + rng.normal(0, 0.02, (nf, 64, 3))
    ds = ssefeat.make_trajectory(np.concatenate([li, fw], axis=1), ["Li"] * n + ["S"] * 64, cell=np.eye(3) * L,
                                 timestep_ps=dt, wrapped=False, temperature_K=600.0)
    con = conductivity(ds, "Li", window=(1.0, 30.0), remove_com=False, haven=True)
    assert float(con.haven_ratio[0]) == pytest.approx(1.0 / n, rel=0.05)


# --- Arrhenius ------------------------------------------------------------------------------------------------
def test_arrhenius_recovers_activation_energy():
    rng = np.random.default_rng(4)
    T = np.array([500.0, 600.0, 700.0, 800.0, 900.0, 1000.0])
    Ea, A = 0.30, 1e-3
    D = A * np.exp(-Ea / (KB * T))
    err = 0.05 * D
    fit = arrhenius_fit(T, D * np.exp(rng.normal(0, 0.05, T.size)), err)
    ea, ea_err = float(fit.activation_energy), float(fit.activation_energy_err)
    assert abs(ea - Ea) < 2.5 * ea_err and 0.002 < ea_err < 0.05
    d300 = A * np.exp(-Ea / (KB * 300.0))
    assert abs(np.log(float(fit.extrapolated) / d300)) < 2.5 * float(fit.extrapolated_err) / float(fit.extrapolated)
    assert float(fit.extrapolated_low) < float(fit.extrapolated) < float(fit.extrapolated_high)
    # exact data, no noise: exact parameters
    exact = arrhenius_fit(T, D, err)
    assert float(exact.activation_energy) == pytest.approx(Ea, rel=1e-10)
    assert float(exact.prefactor) == pytest.approx(A, rel=1e-9)
    # extrapolation variance includes the slope-intercept covariance: check against the explicit formula
    cov = exact.covariance.values
    g = np.array([1.0, 1 / 300.0])
    assert float(exact.extrapolated_err) == pytest.approx(float(exact.extrapolated) * np.sqrt(g @ cov @ g))
    # sigma*T: the fit is of sigma T and the extrapolation comes back as sigma
    sig = 50.0 / T * np.exp(-Ea / (KB * T))
    fs = arrhenius_fit(T, sig, 0.05 * sig, quantity="sigma")
    assert float(fs.activation_energy) == pytest.approx(Ea, rel=1e-10)
    assert float(fs.extrapolated) == pytest.approx(50.0 / 300 * np.exp(-Ea / (KB * 300)), rel=1e-9)


def test_arrhenius_bad_input():
    with pytest.raises(ParameterError, match="at least 2 different temperatures"):
        arrhenius_fit([600.0], [1e-5])
    with pytest.raises(ParameterError, match="at least 2 different temperatures"):
        arrhenius_fit([600.0, 600.0], [1e-5, 2e-5])
    with pytest.raises(ParameterError, match="positive values"):
        arrhenius_fit([600.0, 700.0], [1e-5, -1e-6])
    with pytest.raises(ParameterError, match="at least 2 temperatures"):
        arrhenius_from_results([])
    two = arrhenius_fit([600.0, 700.0], [1e-5, 2e-5])  # no errors, 2 points: no uncertainty, said so
    assert np.isnan(float(two.activation_energy_err)) and "no uncertainty" in two.attrs["covariance_note"]


def test_inconsistent_timesteps_across_files():
    check_timesteps([0.1, 0.1 * (1 + 1e-6)])
    with pytest.raises(ParameterError, match="inconsistent timesteps"):
        check_timesteps([0.1, 100.0], ["a.nc", "b.nc"])
    a = random_walk(seed=1, n_frames=300, T=600.0)
    b = random_walk(seed=2, n_frames=300, dt=0.2, T=700.0)
    with pytest.raises(ParameterError, match="inconsistent timesteps"):
        transport_study([a, b], "Li", window=(1.0, 10.0))
    tree = transport_study([a, b], "Li", window=(1.0, 10.0), allow_mixed_timesteps=True, remove_com=False)
    assert "arrhenius_D" in tree.children


def test_transport_study_arrhenius_over_temperatures():
    Ea = 0.25
    trajs = [random_walk(seed=k, n=32, n_frames=800, D=2.0 * np.exp(-Ea / (KB * T)), T=T)
             for k, T in enumerate([500.0, 650.0, 800.0, 950.0])]
    tree = transport_study(trajs, "Li", window=(1.0, 30.0), remove_com=False)
    fit = tree["arrhenius_D"]
    assert abs(float(fit.activation_energy) - Ea) < 3 * float(fit.activation_energy_err)
    assert tree["arrhenius_sigma"].attrs["fitted_quantity"] == "sigma*T"
    np.testing.assert_allclose(tree["/"]["temperature_K"].values, [500, 650, 800, 950])


# --- NGP and van Hove -----------------------------------------------------------------------------------------
def test_ngp_zero_for_gaussian_and_positive_for_hopping():
    gauss = non_gaussian_parameter(random_walk(seed=3, n_frames=800), "Li", remove_com=False)
    a = gauss.alpha2.sel(species="Li")
    assert np.abs(a.sel(lag=slice(0, 10)).values).max() < 0.05
    hop = non_gaussian_parameter(hopper(seed=3), "Li", remove_com=False)
    h = hop.alpha2.sel(species="Li")
    assert float(h.max()) > 1.0
    t_peak = float(hop.peak_time.sel(species="Li"))
    assert float(h.sel(lag=t_peak)) == float(h.max())
    # in this model the peak sits where hops and vibrations contribute alike to the MSD:
    # rate t jump^2 ~ 6 vib^2  ->  t ~ 6 * 0.15^2 / (0.05 * 2.5^2) = 0.43 ps; far later the walk is Gaussian again
    assert 0.2 < t_peak < 1.5
    assert float(h.isel(lag=-1)) < 0.3 * float(h.max())
    # direct check of the formula on the stored moments
    np.testing.assert_allclose(h.values, 3 * hop.r4.sel(species="Li") / (5 * hop.msd.sel(species="Li") ** 2) - 1)
    with pytest.raises(ParameterError, match="outside the trajectory"):
        non_gaussian_parameter(random_walk(n_frames=100), "Li", lags=[500.0])


def test_van_hove_normalisation_and_gaussian_shape():
    dt, D = 0.1, 0.05
    vh = van_hove_self(random_walk(seed=6, n_frames=600, dt=dt, D=D), "Li", lags=[0.5, 5.0], n_bins=120,
                       r_max=6.0, remove_com=False)
    dr = float(vh.r[1] - vh.r[0])
    total = (4 * np.pi * vh.r ** 2 * vh.G_s * dr).sum("r") + vh.fraction_beyond
    np.testing.assert_allclose(total.values, 1.0, rtol=1e-12)
    np.testing.assert_allclose((vh.P_r * dr).sum("r").values, 1.0 - vh.fraction_beyond.values, rtol=1e-12)
    for t in (0.5, 5.0):  # Gaussian self part: G_s = (4 pi D t)^(-3/2) exp(-r^2 / 4 D t)
        r = vh.r.values
        analytic = (4 * np.pi * D * t) ** -1.5 * np.exp(-r ** 2 / (4 * D * t)) * 4 * np.pi * r ** 2
        got = vh.P_r.sel(lag=t, method="nearest").values
        assert np.abs(got - analytic).max() < 0.1 * analytic.max()
    hop = van_hove_self(hopper(seed=4), "Li", lags=[30.0], r_max=4.0, n_bins=40, remove_com=False)
    p = hop.P_r.isel(lag=0)
    assert float(p.sel(r=2.5, method="nearest")) > 3 * float(p.sel(r=1.25, method="nearest"))  # hop shell


# --- CLI and figures ------------------------------------------------------------------------------------------
def test_cli_transport_two_temperatures(tmp_path):
    from ssefeat.cli import main
    from ssefeat.io import write

    files = []
    for k, T in enumerate([600.0, 800.0]):
        p = tmp_path / f"t{int(T)}.nc"
        write(random_walk(seed=k, n=24, n_frames=400, D=0.01 * (k + 1), wrapped=True), p)
        files.append(str(p))
    out = tmp_path / "transport.nc"
    res = CliRunner().invoke(main, ["transport", *files, "--species", "Li", "--temperature", "600",
                                    "--temperature", "800", "--window", "1", "15", "--haven", "--ngp", "--plot",
                                    str(tmp_path / "figs"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "E_a =" in res.output and out.exists()
    import xarray as xr

    tree = xr.open_datatree(out)
    assert {"run_0", "run_1", "arrhenius_D", "arrhenius_sigma", "run_0_ngp"} <= set(tree.children)
    assert (tmp_path / "figs" / "arrhenius_sigma.png").exists() and (tmp_path / "figs" / "msd_run_0.png").exists()
    bad = CliRunner().invoke(main, ["transport", files[0], "--species", "Na", "--temperature", "600"])
    assert bad.exit_code == 2 and "no mobile species" in bad.output
    outside = CliRunner().invoke(main, ["transport", files[0], "--temperature", "600", "--window", "1", "500"])
    assert outside.exit_code == 2 and "outside the trajectory" in outside.output


def test_figures(tmp_path):
    from ssefeat.plots import transport as tp
    from ssefeat.plots.style import save

    ds = random_walk(seed=2, n=16, n_frames=400, T=600.0)
    res = conductivity(ds, "Li", (1.0, 15.0), remove_com=False, haven=True)
    fit = arrhenius_fit([500.0, 600.0, 700.0], [1e-6, 3e-6, 7e-6], [1e-7, 3e-7, 7e-7])
    figs = {"msd": tp.msd(res, axes=True), "arr": tp.arrhenius(fit),
            "ngp": tp.non_gaussian(non_gaussian_parameter(ds, "Li", n_lags=10)),
            "vh": tp.van_hove(van_hove_self(ds, "Li", lags=[1.0, 5.0])),
            "msd_da": tp.msd(mean_squared_displacement(ds, per_axis=False))}
    for name, fig in figs.items():
        save(fig, tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_conductivity_with_haven_prepares_positions_once(monkeypatch):
    """The unwrap + centre-of-mass pass over every atom is shared by D* and the collective MSD."""
    from ssefeat.dynamics import msd as M

    calls = []
    original = M.PreparedPositions.__init__

    def counting(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)

    ds = random_walk(seed=8, T=600.0)
    ref = conductivity(ds, "Li", window=(1.0, 30.0), haven=True, n_sim=20)
    monkeypatch.setattr(M.PreparedPositions, "__init__", counting)
    got = conductivity(ds, "Li", window=(1.0, 30.0), haven=True, n_sim=20)
    assert len(calls) == 1
    for v in ("D", "D_sigma", "sigma", "haven_ratio"):
        np.testing.assert_allclose(got[v].values, ref[v].values, rtol=1e-12)


def test_one_temperature_for_runs_at_different_temperatures_is_refused():
    runs = [random_walk(seed=1, T=500.0), random_walk(seed=2, T=700.0)]
    with pytest.raises(ParameterError, match="different temperatures"):
        transport_study(runs, "Li", [600.0], window=(1.0, 30.0))


def caged(seed=0, n=48, n_frames=1500, dt=0.1, phi=0.99, T=500.0):
    """Li rattling in cages: an Ornstein-Uhlenbeck process (relaxation 10 ps) whose MSD has a slope near 1 at short
    times and then plateaus. Not diffusion."""
    rng = np.random.default_rng(seed)
    pos, x = np.zeros((n_frames, n, 3)), np.zeros((n, 3))
    for t in range(n_frames):
        x = phi * x + rng.normal(scale=0.1, size=(n, 3))
        pos[t] = x
    fw = vibrating(n_frames, n, np.eye(3) * L, 0.05, rng)
    return ssefeat.make_trajectory(np.concatenate([pos + rng.uniform(0, L, (n, 3)), fw], axis=1),
                                   ["Li"] * n + ["S"] * n, cell=np.eye(3) * L, timestep_ps=dt, wrapped=False,
                                   temperature_K=T)


def test_per_run_verdicts_in_a_study_with_a_caged_run(tmp_path):
    """A random walk of known D and a caged run: each gets its own verdict, through the API, `ssefeat transport`
    and `ssefeat run`; the diffusive D stays within 3 sigma of the truth and is not called apparent."""
    from ssefeat.cli import main
    from ssefeat.config import load_config
    from ssefeat.pipeline import Pipeline

    walk, cage = random_walk(seed=3, T=700.0), caged()
    with pytest.raises(ParameterError, match="MSD flattens, as in a cage"):
        diffusion_coefficient(cage, "Li")  # slope ~1 at short times is not taken for diffusion
    tree = transport_study([walk, cage], "Li", fallback=True)
    root = tree["/"].to_dataset()
    assert list(root["verdict"].values) == ["diffusive", "apparent"]
    D = float(tree["run_0"]["D"][0])
    assert abs(D - 0.05) < 3 * float(tree["run_0"]["D_err"][0])
    assert tree["run_1"].attrs["window_note"].startswith("NOT DIFFUSIVE")
    assert "arrhenius_D" not in tree and "fewer than two temperatures" in root.attrs["arrhenius_note"]
    with pytest.raises(ParameterError, match="needs positive values"):  # on request only, and never on nothing
        transport_study([walk, cage], "Li", fallback=True, arrhenius_apparent=True)
    # the command line: both runs reported, only the caged one called apparent
    for k, ds in enumerate((walk, cage)):
        ssefeat.io.write(ds, tmp_path / f"run{k}.nc")
    res = CliRunner().invoke(main, ["transport", str(tmp_path / "run0.nc"), str(tmp_path / "run1.nc"),
                                    "--species", "Li", "-o", str(tmp_path / "t.nc")])
    assert res.exit_code == 0, res.output
    rows = [line for line in res.output.splitlines() if line.startswith("run")]
    assert "APPARENT" not in rows[0] and "APPARENT" in rows[1]
    # the pipeline: per-run verdicts in the stage file and a report line naming only the caged run
    cfg = load_config({"trajectory": {"files": [str(tmp_path / "run0.nc"), str(tmp_path / "run1.nc")],
                                      "temperatures": [700.0, 500.0]},
                       "features": {"enabled": False}, "labels": {"enabled": False},
                       "softness": {"enabled": False}, "correlate": {"enabled": False},
                       "output": {"folder": str(tmp_path / "out"), "figures": False}})
    out = Pipeline(cfg, progress=False).run()
    report = (out / "report.md").read_text()
    assert "The MSD of run_1 never reached the diffusive regime" in report
    assert check_transport_numbers(report) == {"apparent": ["run_1"], "arrhenius": 0}
    assert "| run_0 | 700 |" in report and "| diffusive |" in report


def test_choose_window_tiers_on_exact_curves():
    """The one window rule on exact MSD curves: a straight line is diffusive, a line that only spans a factor
    1.5-2 is 'short', a cage (t then flat) is apparent with the window 0.2-0.5 of t_max, and fallback=False
    refuses instead of guessing."""
    from ssefeat.dynamics.regime import choose_window
    from ssefeat.errors import ParameterError

    lag = np.arange(0, 2001) * 0.01
    window, verdict, _ = choose_window(lag, 6 * 0.1 * lag)
    assert verdict == "diffusive" and window[1] / window[0] >= 2
    cage = np.where(lag < 0.5, lag, 0.5)  # slope 1 up to 0.5 ps, then flat
    window, verdict, note = choose_window(lag, cage, t_max=20.0)
    assert verdict == "apparent" and window == (4.0, 10.0) and note.startswith("NOT DIFFUSIVE")
    with pytest.raises(ParameterError):
        choose_window(lag, cage, fallback=False)
    assert choose_window(lag, cage, window=(1, 2))[1:] == ("given", "window given")


@pytest.mark.parametrize("kind", ["caged", "walk"])
def test_verdict_unwraps_and_computes_the_msd_once(monkeypatch, kind):
    """conductivity_with_verdict tries up to three window rules on one run: the positions are unwrapped once and
    the full-lag MSD the detection reads is computed once (one pass over the atoms, plus the fit window's), and
    the result equals conductivity() with the window the verdict settled on."""
    from ssefeat.dynamics import diffusion as Dmod
    from ssefeat.dynamics import msd as M
    from ssefeat.dynamics.regime import APPARENT, conductivity_with_verdict

    ds = caged(seed=3) if kind == "caged" else random_walk(seed=3, T=600.0)
    passes, prepared = [], []
    original_sums, original_init = M.msd_sums, M.PreparedPositions.__init__

    def counting_sums(prep, idx, window, n_blocks, workers):
        passes.append(window)
        return original_sums(prep, idx, window, n_blocks, workers)

    def counting_init(self, *args, **kwargs):
        prepared.append(1)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(M, "msd_sums", counting_sums)
    monkeypatch.setattr(Dmod, "msd_sums", counting_sums)
    monkeypatch.setattr(M.PreparedPositions, "__init__", counting_init)
    got = conductivity_with_verdict(ds, "Li", temperature_K=600.0)
    assert got.attrs["verdict"] == ("apparent" if kind == "caged" else "diffusive")
    assert len(prepared) == 1 and [w is None for w in passes] == [True, False]
    monkeypatch.undo()
    if kind == "caged":
        t_max = float(ds.time[-1] - ds.time[0])
        ref = conductivity(ds, "Li", (APPARENT[0] * t_max, APPARENT[1] * t_max), temperature_K=600.0)
    else:
        ref = conductivity(ds, "Li", temperature_K=600.0)
    for v in ("msd", "D", "D_err", "sigma", "sigma_err", "window_start", "window_stop"):
        np.testing.assert_array_equal(got[v].values, ref[v].values)


@pytest.mark.parametrize("seed, n_frames, verdict", [(1, 120, "short"), (0, 120, "apparent"), (0, 60, "diffusive")])
def test_run_verdict_is_the_curve_rule_on_its_msd(seed, n_frames, verdict):
    """One rule: conductivity_with_verdict on a run gives the verdict, note and (frame-snapped) window that
    choose_window gives on the run's own MSD curve, in each of the three detected tiers."""
    from ssefeat.dynamics.diffusion import window_indices
    from ssefeat.dynamics.regime import choose_window, conductivity_with_verdict

    ds = hopper(seed=seed, n_frames=n_frames)
    run = conductivity_with_verdict(ds, "Li")
    lag = run["lag"].values
    window, v, note = choose_window(lag, run["msd"].sel(species="Li", axis="total").values,
                                    t_max=float(ds.time[-1] - ds.time[0]), label="species Li")
    assert (run.attrs["verdict"], run.attrs["window_note"]) == (v, note) and v == verdict
    i0, i1 = window_indices(window, lag[1], lag.size)
    assert (float(run["window_start"][0]), float(run["window_stop"][0])) == (lag[i0], lag[i1])
