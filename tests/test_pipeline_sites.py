"""The [sites] stage of ``ssefeat run``: an antifluorite Li2S-like Li sublattice with independent hops at two
temperatures, sites from a POSCAR with a supercell; the stage equals the one-shot API, recovers E_a, measures the
ideal site tetrahedra, and bad [sites] settings are refused up front."""
import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat.config import load_config
from ssefeat.errors import ConfigError, MissingFileError
from ssefeat.pipeline import Pipeline
from ssefeat.sites import site_jumps, sites_from_structure
from ssefeat.units import BOLTZMANN_EV
from conftest import check_report

A = 5.70  # conventional Li2S cell, Å; Li on the simple cubic sublattice of spacing A / 2
NB = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def li2s_poscar(path):
    import ase
    import ase.io

    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    tet = np.array([[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)])
    ase.io.write(path, ase.Atoms(["S"] * 4 + ["Li"] * 8, scaled_positions=np.vstack([fcc, tet]),
                                 cell=np.eye(3) * A, pbc=True), format="vasp")


def hopping_run(path, temperature, n_frames=600, n_ions=100, barrier=0.2, nu=20.0, dt=0.1, seed=0):
    """3x3x3 conventional cells: S fixed on the fcc sites, Li hopping independently between the tetrahedral holes
    (rate nu exp(-barrier / k_B T) per ps), Gaussian noise 0.1 Å."""
    rng = np.random.default_rng(seed)
    L = 6
    s_idx = np.array([[i, j, k] for i in range(L) for j in range(L) for k in range(L) if (i + j + k) % 2 == 0])
    cur = rng.integers(0, L, (n_ions, 3)).astype(float)
    p = nu * np.exp(-barrier / (BOLTZMANN_EV * temperature)) * dt
    li = np.empty((n_frames, n_ions, 3))
    for f in range(n_frames):
        li[f] = cur
        cur = cur + NB[rng.integers(0, 6, n_ions)] * (rng.random(n_ions) < p)[:, None]
    li = (li + 0.5) * A / 2 + rng.normal(0, 0.1, li.shape)
    s = np.broadcast_to(s_idx * A / 2, (n_frames,) + s_idx.shape)
    ds = ssefeat.make_trajectory(np.concatenate([li, s], axis=1), ["Li"] * n_ions + ["S"] * len(s_idx),
                                 cell=np.eye(3) * 3 * A, timestep_ps=dt, wrapped=False, temperature_K=temperature)
    ssefeat.io.write(ds, path)
    return ds


def config(tmp_path, **sites):
    return load_config({"trajectory": {"files": [str(tmp_path / "T600.nc"), str(tmp_path / "T900.nc")],
                                       "temperatures": [600.0, 900.0]},
                        "features": {"enabled": False}, "labels": {"enabled": False},
                        "softness": {"enabled": False}, "correlate": {"enabled": False},
                        "transport": {"enabled": False},
                        "sites": {"enabled": True, "structure": str(tmp_path / "Li2S.vasp"), "supercell": [3, 3, 3],
                                  "radius": 0.9, **sites},
                        "output": {"folder": str(tmp_path / "out"), "figures": True, "tables": False}})


def test_sites_stage_in_the_pipeline(tmp_path):
    li2s_poscar(tmp_path / "Li2S.vasp")
    runs = [hopping_run(tmp_path / f"T{T}.nc", float(T), seed=k) for k, T in enumerate((600, 900))]
    out = Pipeline(config(tmp_path), progress=False).run()
    tree = xr.open_datatree(out / "stages" / "sites.nc")
    sites = sites_from_structure(tmp_path / "Li2S.vasp", species="Li", supercell=(3, 3, 3))
    for k, ds in enumerate(runs):
        J = site_jumps(ds, sites, "Li", 0.9)
        stage = tree[f"run_{k}"]["jumps"]
        assert stage.sizes["jump"] == J.sizes["jump"] > 100
        np.testing.assert_array_equal(stage["arrival_frame"].values, J["arrival_frame"].values)
        np.testing.assert_allclose(stage["jump_distance"], A / 2, atol=1e-9)
        c = tree[f"run_{k}"]["correlation"]
        assert abs(float(c["f"]) - 1.0) < 3 * float(c["f_err"])  # independent hops
    a = tree["arrhenius"].to_dataset().sel(from_type="Li", to_type="Li")
    assert abs(float(a["activation_energy"]) - 0.2) < 3 * float(a["activation_energy_err"]) < 0.1
    d = tree["descriptors"].to_dataset()
    np.testing.assert_allclose(d["volume_T"], (A / 2) ** 3 / 3, rtol=1e-9)  # S on alternate cube corners
    assert float(d["csm_T"].max()) < 1e-6
    report = (out / "report.md").read_text()
    check_report(report)
    assert "## Sites and jumps" in report and "E_a per jump type" in report and "Li → Li" in report
    assert "sites" in xr.open_datatree(out / "results.nc").children
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"sites_rates_run_0.png", "sites_residence_run_1.png", "sites_correlation_factor.png"} <= figures
    assert "![sites_correlation_factor.png]" in report


def test_bad_sites_settings_are_refused_up_front(tmp_path):
    li2s_poscar(tmp_path / "Li2S.vasp")
    for T in (600, 900):
        hopping_run(tmp_path / f"T{T}.nc", float(T), n_frames=3, n_ions=4)
    with pytest.raises(ConfigError, match="sites.radius must be a positive length"):
        Pipeline(config(tmp_path, radius=None), progress=False)
    with pytest.raises(MissingFileError, match="sites.structure"):
        Pipeline(config(tmp_path, structure=str(tmp_path / "missing.cif")), progress=False)
    with pytest.raises(ConfigError, match="three positive integers"):
        Pipeline(config(tmp_path, supercell=[3, 3]), progress=False)


def test_md_vacancy_crystal_through_ssefeat_run_with_sites(tmp_path):
    """The MD engine's Li2S vacancy crystal at two temperatures through ``ssefeat run`` with a [sites] stage (sites
    from the Li density): jumps in both runs, E_a of the jump type, the site tetrahedra of Li2S (ideal V = a^3 / 24
    at a = 5.70 Å: 7.72 Å^3), f labelled apparent when the short runs have no diffusive MSD range, all in the
    report. (Short runs: the numbers are small-sample; the test checks that the study is made and said right.)"""
    cfg = load_config({"trajectory": {"generate": "vacancy_crystal", "temperatures": [1300.0, 1500.0],
                                      "steps": 3000, "dump_every": 20},
                       "features": {"enabled": False}, "labels": {"enabled": False},
                       "softness": {"enabled": False}, "correlate": {"enabled": False},
                       "transport": {"enabled": True}, "sites": {"enabled": True, "radius": 0.9},
                       "output": {"folder": str(tmp_path / "out"), "figures": False, "tables": False}})
    Pipeline(cfg).run()
    tree = xr.open_datatree(tmp_path / "out" / "stages" / "sites.nc")
    for run in ("run_0", "run_1"):
        assert tree[run]["jumps"].sizes["jump"] > 0
    ea = tree["arrhenius"]["activation_energy"].values
    assert np.isfinite(ea).any()
    v_t = float(np.nanmean(tree["descriptors"]["type_volume_T"].values))
    assert v_t == pytest.approx(5.70 ** 3 / 24, rel=0.03)
    report = (tmp_path / "out" / "report.md").read_text()
    check_report(report)
    assert "## Sites and jumps" in report and "E_a per jump type" in report
    for run in ("run_0", "run_1"):
        verdict = tree[run]["correlation"].attrs.get("verdict")
        if verdict == "apparent":
            assert "NOT a correlation factor" in report
