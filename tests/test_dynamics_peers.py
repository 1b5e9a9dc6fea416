"""Agreement of ssefeat transport with peer implementations on the same synthetic trajectory.

Data: 32 Li continuous random walkers (D = 0.05 Å^2/ps) and 32 vibrating S atoms in a 15 Å cubic box, 1001 frames
every 0.1 ps, written *wrapped* so that every program unwraps for itself. ssefeat runs with remove_com=False (the
peers correct drift with the framework's mean displacement, which here is only vibration noise).

Settings of the peers:
- MDAnalysis EinsteinMSD(select="name Li", msd_type="xyz", fft=True) on the unwrapped positions: MSD must agree to
  round-off.
- pymatgen-analysis-diffusion DiffusionAnalyzer.from_structures(smoothed="max", min_obs=64, time_step=100 fs,
  step_skip=1): all time origins, lags from 1 ps to N_Li * n_steps / min_obs (= half the run), least squares weighted
  by 1/t. Its diffusivity_std_dev is the naive OLS error (orders of magnitude too small), so agreement is judged
  against ssefeat's D_err over the same window.
- kinisi 2.1 DiffusionAnalyzer / ConductivityAnalyzer.from_ase(time_step=0.1 ps, step_skip=1, dt = 1..40 ps every
  0.5 ps), diffusion/conductivity(start_dt=1 ps, default MCMC, random_state 0): GLS with its modelled covariance,
  the posterior mean and standard deviation are compared with ssefeat's window 1-40 ps.
"""
import numpy as np
import pytest

import ssefeat
from ssefeat.dynamics.conductivity import conductivity
from ssefeat.dynamics.msd import mean_squared_displacement
from conftest import walkers

N, T, DT, L, D0, TEMP = 32, 1001, 0.1, 15.0, 0.05, 600.0


@pytest.fixture(scope="module")
def traj():
    ds = walkers(T, N, N, np.sqrt(2 * D0 * DT), L, DT, seed=3, temperature_K=TEMP)
    return ssefeat.wrap(ds).drop_vars("images"), ds


def test_msd_equals_mdanalysis_einstein_msd_fft(traj):
    mda = pytest.importorskip("MDAnalysis")
    pytest.importorskip("tidynamics")  # EinsteinMSD(fft=True) needs it
    from MDAnalysis.analysis.msd import EinsteinMSD
    from MDAnalysis.coordinates.memory import MemoryReader

    wrapped, unwrapped = traj
    u = mda.Universe.empty(2 * N, trajectory=True)
    u.add_TopologyAttr("name", ["Li"] * N + ["S"] * N)
    u.load_new(unwrapped.positions.values.astype(np.float64), format=MemoryReader, dt=DT)
    em = EinsteinMSD(u, select="name Li", msd_type="xyz", fft=True).run()
    ours = mean_squared_displacement(wrapped, "Li", remove_com=False, per_axis=False).sel(species="Li").values
    # MDAnalysis' MemoryReader stores float32, so agreement is to float32 round-off of the positions
    np.testing.assert_allclose(em.results.timeseries, ours, rtol=2e-5, atol=1e-4)


def test_d_and_sigma_agree_with_pymatgen_diffusion_analyzer(traj):
    pytest.importorskip("pymatgen.analysis.diffusion")
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    wrapped, _ = traj
    lattice = Lattice(np.eye(3) * L)
    structures = [Structure(lattice, ["Li"] * N + ["S"] * N, p, coords_are_cartesian=True)
                  for p in wrapped.positions.values]
    pmg = DiffusionAnalyzer.from_structures(structures, "Li", temperature=TEMP, time_step=DT * 1000, step_skip=1,
                                            smoothed="max", min_obs=2 * N)
    window = (pmg.dt[0] / 1000, pmg.dt[-1] / 1000)  # fs -> ps: 1 ps to half the run
    assert window[1] == pytest.approx(50.0, abs=0.5)
    ours = conductivity(wrapped, "Li", window, remove_com=False, haven=True)
    d, d_err = float(ours.D_cm2_s[0]), float(ours.D_cm2_s_err[0])
    ne = conductivity(wrapped, "Li", window, remove_com=False)  # H_R = 1, as pymatgen's `conductivity`
    s, s_err = float(ne.sigma[0]) * 1e3, float(ne.sigma_err[0]) * 1e3  # mS/cm like pymatgen
    print(f"pymatgen D = {pmg.diffusivity:.4e} (its naive std {pmg.diffusivity_std_dev:.1e}); ssefeat D = {d:.4e} "
          f"+- {d_err:.1e} cm^2/s; sigma {pmg.conductivity:.2f} vs {s:.2f} +- {s_err:.2f} mS/cm; "
          f"D_sigma {pmg.chg_diffusivity:.3e} vs {float(ours.D_sigma[0]) * 1e-4:.3e} +- "
          f"{float(ours.D_sigma_err[0]) * 1e-4:.1e} cm^2/s")
    assert abs(pmg.diffusivity - d) < 2 * d_err
    assert abs(pmg.conductivity - s) < 2 * s_err
    assert abs(pmg.chg_diffusivity - float(ours.D_sigma[0]) * 1e-4) < 2 * float(ours.D_sigma_err[0]) * 1e-4
    assert pmg.diffusivity_std_dev < 0.1 * d_err  # the naive OLS error the module docstring warns about
    assert abs(d - D0 * 1e-4) < 3 * d_err  # and both near the truth


def kinisi_d_and_sigma(atoms, step_ps, lags_ps, temperature_K):
    """kinisi 2.1 on ASE frames: Li D (cm^2/s) and collective sigma (S/cm) as posterior mean and standard deviation
    (time_step = step_ps, step_skip 1, dt = lags_ps, start_dt = 1 ps, default MCMC, random_state 0)."""
    sc = pytest.importorskip("scipp")
    from kinisi.analyze import ConductivityAnalyzer, DiffusionAnalyzer

    kw = dict(specie="Li", time_step=sc.scalar(step_ps, unit="ps"), step_skip=sc.scalar(1),
              dt=sc.array(dims=["time interval"], values=np.asarray(lags_ps, dtype=float), unit="ps"),
              progress=False)
    kd = DiffusionAnalyzer.from_ase(atoms, **kw)
    kd.diffusion(sc.scalar(1.0, unit="ps"), progress=False, random_state=np.random.RandomState(0))
    assert str(kd.D.unit) == "cm^2/s"
    kc = ConductivityAnalyzer.from_ase(atoms, ionic_charge=sc.scalar(1.602176634e-19, unit="C"), **kw)
    kc.conductivity(sc.scalar(1.0, unit="ps"), temperature=sc.scalar(temperature_K, unit="K"), progress=False,
                    random_state=np.random.RandomState(0))
    k_sig = sc.to_unit(sc.scalar(1.0, unit=kc.sigma.unit), "S/cm").value * np.asarray(kc.sigma.values)
    return float(np.mean(kd.D.values)), float(np.std(kd.D.values)), float(np.mean(k_sig)), float(np.std(k_sig))


def test_d_and_sigma_agree_with_kinisi(traj):
    pytest.importorskip("kinisi")
    from ase import Atoms

    wrapped, _ = traj
    atoms = [Atoms(symbols=["Li"] * N + ["S"] * N, positions=p, cell=np.eye(3) * L, pbc=True)
             for p in wrapped.positions.values]
    k_d, k_err, k_s, k_s_err = kinisi_d_and_sigma(atoms, DT, np.arange(1.0, 40.05, 0.5), TEMP)

    ours = conductivity(wrapped, "Li", (1.0, 40.0), remove_com=False, haven=True)
    d, d_err = float(ours.D_cm2_s[0]), float(ours.D_cm2_s_err[0])
    s, s_err = float(ours.sigma[0]), float(ours.sigma_err[0])  # from the collective MSD, as kinisi's sigma
    print(f"kinisi D = {k_d:.4e} +- {k_err:.1e}, ssefeat D = {d:.4e} +- {d_err:.1e} cm^2/s; kinisi sigma = "
          f"{k_s:.4f} +- {k_s_err:.4f}, ssefeat sigma (collective) = {s:.4f} +- {s_err:.4f} S/cm")
    assert abs(k_d - d) < 2 * np.hypot(k_err, d_err)
    assert abs(k_s - s) < 2 * np.hypot(k_s_err, s_err)
    # the GLS of kinisi is more efficient than an OLS fit; both errors are of the same order
    assert 0.2 < k_err / d_err < 2.0
