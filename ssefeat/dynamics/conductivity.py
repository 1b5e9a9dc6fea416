"""Ionic conductivity by Nernst-Einstein, with the Haven ratio from the collective (centre-of-charge) MSD on request.

sigma = n q^2 D* / (H_R k_B T), n = N_mobile / <V> the number density of the mobile ions, q their (formal) charge.
In ssefeat units (n in Å^-3, q in e, D in Å^2/ps, k_B T in eV) sigma [S/cm] = 1e20 e[C] n q^2 D / (k_B T):
S/m = n[1e30 m^-3] (q e)^2 D[1e-8 m^2/s] / (k_B T[eV] e) = 1e22 e n q^2 D / k_B T, and 1 S/m = 0.01 S/cm.

H_R = D* / D_sigma where D_sigma = slope / 6 of <|sum_i dr_i(t)|^2> / N over the mobile species (same fit window as
D*). Without ``haven=True`` the Haven ratio is taken as 1 (no ion-ion correlation), and the result says so.

The collective MSD is a single 3-d trajectory (no atoms to average over), so its error cannot come from atoms. It is
estimated by a parametric bootstrap: the relative spread of D fitted (same frames, timestep and window, FFT MSD, OLS)
from ``n_sim`` simulated 3-d Brownian trajectories, which is exact for a collective coordinate that diffuses in the
window (D_sigma_err = D_sigma x that relative spread). When at least 3 independent time blocks fit the window, the
block estimate is stored too (``D_sigma_err_blocks``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import species_indices
from ..errors import ParameterError
from ..provenance import parameters_of, stamp
from ..units import BOLTZMANN_EV, ELEMENTARY_CHARGE_C
from . import _msd_kernels as K
from .diffusion import _usable_blocks, diffusion_coefficient
from .msd import MAX_UNWRAP_STEP_FRACTION, PreparedPositions, collective_msd_values, collective_series

#: S/cm per (Å^-3 e^2 Å^2/ps / eV)
NERNST_EINSTEIN_S_PER_CM = ELEMENTARY_CHARGE_C * 1e20

#: formal charges (e) of common ions, used when no charge is given
FORMAL_CHARGES = {"Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1, "Ag": 1, "Cu": 1, "H": 1, "Mg": 2, "Ca": 2, "Zn": 2,
                  "Al": 3, "F": -1, "Cl": -1, "Br": -1, "I": -1, "O": -2, "S": -2, "Se": -2}


def nernst_einstein(D, number_density, temperature_K, charge=1.0, haven_ratio=1.0, D_err=0.0, haven_err=0.0):
    """Nernst-Einstein conductivity and its propagated error, S/cm.

    D, D_err in Å^2/ps; number_density in Å^-3; temperature_K in K; charge in e; haven_ratio dimensionless.
    Relative errors of D and H_R are added in quadrature.
    """
    D = np.asarray(D, dtype=np.float64)
    if np.any(np.asarray(temperature_K) <= 0):
        raise ParameterError(f"temperature {temperature_K} K must be positive.", fix="give the temperature in K.")
    sigma = NERNST_EINSTEIN_S_PER_CM * np.asarray(number_density) * np.asarray(charge) ** 2 * D / (
        BOLTZMANN_EV * np.asarray(temperature_K) * np.asarray(haven_ratio))
    rel = np.sqrt((np.asarray(D_err) / D) ** 2 + (np.asarray(haven_err) / np.asarray(haven_ratio)) ** 2)
    return sigma, np.abs(sigma) * rel


def brownian_fit_spread(n_frames: int, i0: int, i1: int, n_sim: int = 200, seed: int = 0) -> float:
    """Relative standard deviation of D fitted by OLS over lags i0..i1 (frames) from the FFT MSD of ONE 3-d
    Brownian trajectory of ``n_frames`` frames (independent of D and of the timestep)."""
    rng = np.random.default_rng(seed)
    w = K.ols_slope_weights(np.arange(i0, i1 + 1, dtype=np.float64))
    est = []
    batch = max(1, min(n_sim, int(2e7 // (3 * max(n_frames, 1)))))
    done = 0
    while done < n_sim:
        b = min(batch, n_sim - done)
        walk = np.cumsum(rng.standard_normal((3 * b, n_frames)), axis=1)  # D = 1/2 per axis per frame
        m = K.msd_fft_series(walk)[:, i0:i1 + 1].reshape(b, 3, -1).sum(axis=1)
        est.append(m @ w / 3.0)  # slope/6 for D = 1/2  ->  estimate / true = (m @ w / 6) / 0.5
        done += b
    est = np.concatenate(est)
    return float(est.std(ddof=1))


def number_density(ds: xr.Dataset, species: str) -> float:
    """Number density of ``species`` in Å^-3 (count / mean cell volume over frames)."""
    if "cell" not in ds:
        raise ParameterError("the trajectory has no cell, so the number density of the mobile ions is unknown.",
                             fix="read a format with the cell or give cell=... ; conductivity needs a volume.")
    vol = float(np.abs(_box.cell_volume(np.asarray(ds["cell"].values, dtype=np.float64))).mean())
    return float((ds["species"].values == species).sum()) / vol


def ion_charge(ds: xr.Dataset, species: str, charge: float | dict | None = None) -> tuple[float, str]:
    """Charge (e) of a mobile species: given, else formal charge by element, else the trajectory's charges."""
    if isinstance(charge, dict):
        charge = charge.get(species)
    if charge is not None:
        return float(charge), "given"
    if species in FORMAL_CHARGES:
        return float(FORMAL_CHARGES[species]), "formal charge of the element"
    if "charge" in ds.coords:
        q = np.asarray(ds["charge"].values)[ds["species"].values == species]
        if q.size and np.allclose(q, q[0]):
            return float(q[0]), "charge coordinate of the trajectory"
    raise ParameterError(f"the charge of species {species!r} is unknown.",
                         fix="give charge=... (e) / --charge, e.g. 1 for a monovalent ion.")


def temperature_of(ds: xr.Dataset, temperature_K: float | None = None) -> float:
    """Temperature in K: given, else ``attrs['temperature_K']``."""
    if temperature_K is None:
        temperature_K = ds.attrs.get("temperature_K")
    if temperature_K is None:
        raise ParameterError("the temperature is not known (no attrs['temperature_K']).",
                             fix="give temperature_K=... / --temperature T (K) for each trajectory.")
    if not float(temperature_K) > 0:
        raise ParameterError(f"temperature {temperature_K} K must be positive.", fix="give the temperature in K.")
    return float(temperature_K)


def conductivity(ds: xr.Dataset, species: str | Sequence[str] | None = None,
                 window: tuple[float, float] | None = None, *, temperature_K: float | None = None,
                 charge: float | dict | None = None, haven: bool = False, n_blocks: int = 5, n_sim: int = 200,
                 seed: int = 0, prepared: PreparedPositions | None = None, **kwargs) -> xr.Dataset:
    """Nernst-Einstein conductivity of each mobile species, with D* and optionally the Haven ratio.

    Parameters
    ----------
    ds : trajectory Dataset (with a cell)
    species, window : as :func:`~ssefeat.dynamics.diffusion.diffusion_coefficient` (window in ps).
    temperature_K : float, optional
        Default ``ds.attrs['temperature_K']``.
    charge : float or {species: charge}, optional
        Ion charge in e (default: formal charge of the element).
    haven : bool
        Compute H_R = D*/D_sigma from the collective MSD and use sigma = n q^2 D_sigma / (k_B T); its error is the
        parametric (Brownian) bootstrap of the module docstring with ``n_sim`` walks and ``seed``.
        Otherwise H_R = 1 is assumed and stated in ``attrs['haven']``.
    prepared : PreparedPositions, optional
        Unwrapped, drift-corrected positions already set up (shared with D* and the collective MSD).
    kwargs : passed to :func:`diffusion_coefficient` (uncertainty, tol, remove_com, msd_sum, ...).

    Returns
    -------
    The diffusion Dataset plus ``sigma``, ``sigma_err`` (species) S/cm, ``number_density`` Å^-3, ``charge`` e,
    ``haven_ratio``, ``haven_ratio_err`` and, with ``haven``, ``D_sigma``, ``D_sigma_err`` Å^2/ps and
    ``msd_collective (lag, species, axis)`` Å^2.
    """
    temp = temperature_of(ds, temperature_K)
    prep = prepared
    if haven and prep is None:  # one unwrap + centre-of-mass pass shared by D* and the collective MSD
        prep = PreparedPositions(ds, remove_com=kwargs.get("remove_com", True),
                                 max_unwrap_step=kwargs.get("max_unwrap_step", MAX_UNWRAP_STEP_FRACTION),
                                 timestep_ps=kwargs.get("timestep_ps"))
    res = diffusion_coefficient(ds, species, window, n_blocks=n_blocks, prepared=prep, **kwargs)
    names = [str(s) for s in res.species.values]
    dens = np.array([number_density(ds, s) for s in names])
    charges, sources = zip(*(ion_charge(ds, s, charge) for s in names))
    charges = np.array(charges)
    hr = np.ones(len(names))
    hr_err = np.zeros(len(names))
    D = res["D"].values
    D_err = res["D_err"].values
    if haven:
        t, dt = prep.n_frames, prep.dt
        lag = np.arange(t) * dt
        coll = np.zeros((t, len(names), 4))
        d_sig = np.full(len(names), np.nan)
        d_sig_err = np.full(len(names), np.nan)
        d_sig_err_blocks = np.full(len(names), np.nan)
        nb_used = np.zeros(len(names), dtype=np.int64)
        for s, name in enumerate(names):
            idx = species_indices(ds, name)
            series = collective_series(prep, idx)
            m = collective_msd_values(series) / idx.size
            coll[:, s, :3] = m
            i0 = int(round(float(res.window_start[s]) / dt))
            i1 = int(round(float(res.window_stop[s]) / dt))
            w = K.ols_slope_weights(lag[i0:i1 + 1])
            d_sig[s] = w @ m[i0:i1 + 1].sum(axis=1) / 6.0
            d_sig_err[s] = abs(d_sig[s]) * brownian_fit_spread(t, i0, i1, n_sim, seed)
            nb = _usable_blocks(n_blocks, i1, t)
            nb_used[s] = nb
            if nb:
                lb = t // nb
                d_b = [w @ collective_msd_values(series[b * lb:(b + 1) * lb])[i0:i1 + 1].sum(axis=1) / idx.size / 6.0
                       for b in range(nb)]
                d_sig_err_blocks[s] = np.std(d_b, ddof=1) / np.sqrt(nb)
        coll[..., 3] = coll[..., :3].sum(axis=-1)
        if np.any(~(d_sig > 0)):
            bad = names[int(np.argmax(~(d_sig > 0)))]
            raise ParameterError(
                f"the collective MSD of {bad} does not grow (D_sigma = {d_sig[~(d_sig > 0)][0]:.3g} Å^2/ps), so the "
                "Haven ratio is undefined; with the centre-of-mass drift removed this happens when the mobile "
                "species carries (almost) all the mass of the system.",
                fix="check the fit window, use remove_com=False if the system has no framework, or drop haven.")
        hr = D / d_sig
        hr_err = np.abs(hr) * np.sqrt((D_err / D) ** 2 + (d_sig_err / d_sig) ** 2)
        sigma, sigma_err = nernst_einstein(d_sig, dens, temp, charges, 1.0, d_sig_err)
        a2ps = {"units": "angstrom^2/ps"}
        res["msd_collective"] = (("lag", "species", "axis"), coll,
                                 {"units": "angstrom^2", "long_name": "<|sum_i dr_i|^2> / N"})
        res["D_sigma"] = ("species", d_sig, {**a2ps, "long_name": "charge (collective) diffusion coefficient"})
        res["D_sigma_err"] = ("species", d_sig_err, {**a2ps, "method": f"parametric bootstrap: spread of D fitted "
                                                                       f"from {n_sim} 3-d Brownian walks, seed {seed}"})
        res["D_sigma_err_blocks"] = ("species", d_sig_err_blocks,
                                     {**a2ps, "method": "std over independent time blocks / sqrt(n_blocks); NaN when "
                                                        "fewer than 3 blocks fit the window"})
        res["n_blocks_collective"] = ("species", nb_used)
        res.attrs["haven"] = ("H_R = D*/D_sigma from the collective MSD of each mobile species over the D* window; "
                              "sigma = n q^2 D_sigma / (k_B T).")
    else:
        sigma, sigma_err = nernst_einstein(D, dens, temp, charges, 1.0, D_err)
        res.attrs["haven"] = ("not computed: H_R = 1 assumed (uncorrelated ions), sigma is the tracer "
                              "Nernst-Einstein estimate n q^2 D* / (k_B T); pass haven=True for H_R.")
    res["sigma"] = ("species", sigma, {"units": "S/cm", "long_name": "ionic conductivity (Nernst-Einstein)"})
    res["sigma_err"] = ("species", sigma_err, {"units": "S/cm"})
    res["haven_ratio"] = ("species", hr, {"units": "1", "computed": int(bool(haven))})
    res["haven_ratio_err"] = ("species", hr_err, {"units": "1"})
    res["number_density"] = ("species", dens, {"units": "angstrom^-3"})
    res["charge"] = ("species", charges, {"units": "e", "source": "; ".join(sources)})
    res["temperature_K"] = ((), temp, {"units": "K"})
    params = parameters_of(res)
    params.update(temperature_K=temp, haven=bool(haven), n_sim=n_sim, seed=seed, charge_source=list(sources),
                  formula="sigma = n q^2 D / (H_R k_B T)")
    return stamp(res, parameters=params, units="S/cm", analysis="ssefeat.dynamics.conductivity.conductivity")


__all__ = ["nernst_einstein", "conductivity", "number_density", "ion_charge", "temperature_of",
           "brownian_fit_spread", "NERNST_EINSTEIN_S_PER_CM", "FORMAL_CHARGES"]
