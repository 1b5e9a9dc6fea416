"""Li D and conductivity of a real MD trajectory (ssefeat's Li2S-P2S5 glass model) against pymatgen and kinisi.

Data: ``ssefeat.md.simulate("lips_glass", ...)`` (rigid-ion LiPS model, Nose-Hoover NVT production, frames every
20 fs), read back and handed to every program *wrapped*, so that each one unwraps for itself.

- fast (CI): the "small" glass (279 atoms, 90 Li) at 1200 K (a supercooled melt: Li is diffusive after ~0.5 ps),
  a short melt-quench and 5 ps of production; fit window 1-2.5 ps. About 15 s of MD.
- full (``-m slow``): the "medium" glass (558 atoms, 180 Li) made with the default protocol (5 ps melt at 1500 K,
  100 K/ps quench, 5 ps anneal, 2 ps equilibration) at 1000 K, 40 ps of production; fit window 1-20 ps (about
  11 min, mostly MD, on a shared 2-core machine).

Settings (the same window for everyone):
- pymatgen-analysis-diffusion DiffusionAnalyzer.from_structures(specie="Li", time_step=20 fs, step_skip=1,
  smoothed="max", min_obs=2 N_Li): MSD averaged over all time origins at lags from 1 ps to N_Li n_frames / min_obs
  (half the run), least squares weighted by 1/t, drift = mean displacement of the non-Li atoms. Its
  ``diffusivity_std_dev`` is the naive OLS error, so agreement is judged against ssefeat's error.
  (smoothed=False, a single time origin, is a different and much noisier estimator; not compared.)
- kinisi 2.1 DiffusionAnalyzer / ConductivityAnalyzer.from_ase(specie="Li", time_step=0.02 ps, step_skip=1,
  dt = every 0.1 ps (fast) / 0.2 ps (full) up to the window end), diffusion / conductivity(start_dt = 1 ps, default
  MCMC, random_state 0): GLS with its modelled covariance; posterior mean and standard deviation. Drift = mean
  displacement of the non-Li atoms.
- ssefeat conductivity(window, charge=1, uncertainty="max"): OLS over every lag of the window, error the larger of
  the over-ions and over-time-blocks estimates. Tracer D and the Nernst-Einstein sigma (H_R = 1) use ssefeat's default
  drift removal (the system's centre of mass, about 0.2 % different from the framework reference here); the
  collective quantities (D_sigma, kinisi's sigma) are compared on positions referred to the framework's mean
  displacement (remove_com=False), the peers' convention, because that choice changes the collective MSD by
  (1 + M_Li / M_framework)^2 ~ 1.2 in a momentum-conserving run.
"""
import numpy as np
import pytest

import ssefeat
import ssefeat.io
from ssefeat.dynamics.conductivity import conductivity
from test_dynamics_peers import kinisi_d_and_sigma

DUMP_STEPS, DT_PS = 20, 0.001  # 20 fs between frames

CASES = {
    "fast": dict(size="small", temperature=1200.0, production_ps=5.0, kinisi_step=0.1,
                 build=dict(melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1, equilibrate_ps=0.2, compress_ps=0.05)),
    "full": dict(size="medium", temperature=1000.0, production_ps=40.0, kinisi_step=0.2, build={}),
}


@pytest.fixture(scope="module", params=["fast", pytest.param("full", marks=pytest.mark.slow)])
def run(request, tmp_path_factory):
    from ssefeat.md import simulate

    case = dict(CASES[request.param], name=request.param)
    path = tmp_path_factory.mktemp("lips") / f"lips_{request.param}.nc"
    simulate("lips_glass", path, temperature=case["temperature"], steps=int(round(case["production_ps"] / DT_PS)),
             dump_every=DUMP_STEPS, seed=1, n_atoms=case["size"], progress=False, **case["build"])
    ds = ssefeat.io.read(path)
    assert ds.attrs["wrapped"] == 0 and ds.attrs["temperature_K"] == case["temperature"]
    case["unwrapped"] = ds
    case["wrapped"] = ssefeat.wrap(ds).drop_vars("images")
    species = ds["species"].values
    case["n_li"] = int((species == "Li").sum())
    # positions referred to the framework (non-Li) mean displacement, the peers' drift convention
    pos = ds["positions"].values.astype(np.float64)
    drift = pos[:, species != "Li"].mean(axis=1)
    framework = ds.copy()
    framework["positions"] = (("frame", "atom", "xyz"), pos - (drift - drift[:1])[:, None, :])
    case["framework"] = framework
    return case


def _window_of(pmg):
    return float(pmg.dt[0]) / 1000.0, float(pmg.dt[-1]) / 1000.0  # fs -> ps


def test_li_d_and_sigma_agree_with_pymatgen(run):
    pytest.importorskip("pymatgen.analysis.diffusion")
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    wrapped, n_li, temp = run["wrapped"], run["n_li"], run["temperature"]
    species = wrapped["species"].values.tolist()
    cells = wrapped["cell"].values
    structures = [Structure(Lattice(cells[f]), species, p, coords_are_cartesian=True)
                  for f, p in enumerate(wrapped["positions"].values)]
    pmg = DiffusionAnalyzer.from_structures(structures, "Li", temperature=temp, time_step=DUMP_STEPS * DT_PS * 1e3,
                                            step_skip=1, smoothed="max", min_obs=2 * n_li)
    window = _window_of(pmg)
    assert window[0] == pytest.approx(1.0, abs=0.03)
    assert window[1] == pytest.approx(run["production_ps"] / 2, rel=0.03)

    ours = conductivity(wrapped, "Li", window, charge=1.0, uncertainty="max")
    d, d_err = float(ours.D_cm2_s[0]), float(ours.D_cm2_s_err[0])
    s, s_err = float(ours.sigma[0]) * 1e3, float(ours.sigma_err[0]) * 1e3  # mS/cm, as pymatgen
    coll = conductivity(run["framework"], "Li", window, charge=1.0, haven=True, remove_com=False)
    ds_, ds_err = float(coll.D_sigma[0]) * 1e-4, float(coll.D_sigma_err[0]) * 1e-4  # Å^2/ps -> cm^2/s
    report = (f"[{run['name']}: {n_li} Li, {temp:.0f} K, window {window[0]:.2f}-{window[1]:.2f} ps] "
              f"D: pymatgen {pmg.diffusivity:.4e} (naive std {pmg.diffusivity_std_dev:.1e}), ssefeat {d:.4e} "
              f"+- {d_err:.1e} cm^2/s; sigma (H_R = 1): pymatgen {pmg.conductivity:.2f}, ssefeat {s:.2f} +- "
              f"{s_err:.2f} mS/cm; D_sigma: pymatgen {pmg.chg_diffusivity:.3e}, ssefeat {ds_:.3e} +- {ds_err:.1e} "
              f"cm^2/s")
    print(report)
    assert d > 5 * d_err, report  # Li really diffuses: the comparison is not one of noise
    assert abs(pmg.diffusivity - d) < 2 * d_err, report
    assert abs(pmg.conductivity - s) < 2 * s_err, report
    assert abs(pmg.chg_diffusivity - ds_) < 2 * ds_err, report
    # same number density and Nernst-Einstein factor: the ratios sigma / D agree to round-off
    assert pmg.conductivity / pmg.diffusivity == pytest.approx(s / d, rel=1e-6), report


def test_li_d_and_sigma_agree_with_kinisi(run):
    pytest.importorskip("kinisi")
    from ase import Atoms

    wrapped, temp = run["wrapped"], run["temperature"]
    stop = run["production_ps"] / 2
    step = DUMP_STEPS * DT_PS
    symbols = wrapped["species"].values.tolist()
    cells = wrapped["cell"].values
    atoms = [Atoms(symbols=symbols, positions=p, cell=cells[f], pbc=True)
             for f, p in enumerate(wrapped["positions"].values)]
    k = int(round(run["kinisi_step"] / step))
    lags = np.arange(k, int(round(stop / step)) + 1, k) * step  # multiples of the frame spacing
    k_d, k_err, k_s, k_s_err = kinisi_d_and_sigma(atoms, step, lags, temp)

    window = (1.0, float(lags[-1]))
    ours = conductivity(wrapped, "Li", window, charge=1.0, uncertainty="max")
    d, d_err = float(ours.D_cm2_s[0]), float(ours.D_cm2_s_err[0])
    coll = conductivity(run["framework"], "Li", window, charge=1.0, haven=True, remove_com=False)
    s, s_err = float(coll.sigma[0]), float(coll.sigma_err[0])  # from the collective MSD, as kinisi's sigma
    report = (f"[{run['name']}: {run['n_li']} Li, {temp:.0f} K, window {window[0]:.2f}-{window[1]:.2f} ps] "
              f"D: kinisi {k_d:.4e} +- {k_err:.1e}, ssefeat {d:.4e} +- {d_err:.1e} cm^2/s; sigma (collective): "
              f"kinisi {k_s:.4f} +- {k_s_err:.4f}, ssefeat {s:.4f} +- {s_err:.4f} S/cm")
    print(report)
    assert d > 5 * d_err, report
    assert abs(k_d - d) < 2 * np.hypot(k_err, d_err), report
    assert abs(k_s - s) < 2 * np.hypot(k_s_err, s_err), report
    # both error models see the same data: their tracer errors are of the same order
    assert 0.2 < k_err / d_err < 5.0, report
