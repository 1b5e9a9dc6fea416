"""Arrhenius fits of D or sigma*T over temperatures, with the activation energy and a 300 K extrapolation.

Model: ln y = ln A - E_a / (k_B T), fitted as a weighted linear least-squares line of ln y against 1/T with weights
1 / sigma_ln(y)^2, sigma_ln(y) = err(y) / y. The parameter covariance is (X^T W X)^-1, multiplied by the reduced
chi^2 when that exceeds 1 (Birge ratio: the scatter says the stated errors are too small); without errors, ordinary
least squares with the residual variance (needs >= 3 temperatures for an uncertainty). The extrapolation
ln y(T*) = ln A - E_a / (k_B T*) carries the variance [1, 1/T*] C [1, 1/T*]^T (the slope-intercept covariance
included), reported both as a symmetric first-order error and as the 1-sigma interval exp(ln y* +- s).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp
from ..units import BOLTZMANN_EV

QUANTITIES = {"D": ("D", "cm^2/s"), "sigma": ("sigma*T", "S K/cm"), "sigma_T": ("sigma*T", "S K/cm")}


def arrhenius_fit(temperature_K: Sequence[float], values: Sequence[float], errors: Sequence[float] | None = None, *,
                  quantity: str = "D", units: str | None = None, extrapolate_to: float = 300.0,
                  covariance: str = "birge") -> xr.Dataset:
    """Weighted Arrhenius fit of ``values`` at ``temperature_K``.

    Parameters
    ----------
    temperature_K : temperatures in K (at least two distinct).
    values, errors : the quantity and its 1-sigma error at each temperature, > 0.
    quantity : "D" fits ln D; "sigma" fits ln(sigma T) (values are sigma; the extrapolation is given back as sigma).
    units : units of ``values`` (default cm^2/s for D, S/cm for sigma).
    extrapolate_to : temperature (K) of the extrapolation (default 300 K).
    covariance : "birge" (scale by reduced chi^2 when > 1, default), "absolute" (trust the errors).

    Returns
    -------
    xarray.Dataset with ``activation_energy`` and ``activation_energy_err`` eV, ``prefactor`` (A, units of the
    fitted quantity) and ``ln_prefactor(_err)``, ``covariance (param, param2)`` of (ln A, -E_a/k_B),
    ``extrapolated``, ``extrapolated_err`` (first order), ``extrapolated_low/high`` (1-sigma interval) at
    ``extrapolate_to``, ``reduced_chi2``, and the data ``temperature (point)``, ``value``, ``value_err``.
    """
    if quantity not in QUANTITIES:
        raise ParameterError(f"quantity={quantity!r} is not one of {sorted(QUANTITIES)}.",
                             fix="use 'D' or 'sigma' (the fit is then of sigma*T).")
    if covariance not in ("birge", "absolute"):
        raise ParameterError(f"covariance={covariance!r} is not 'birge' or 'absolute'.",
                             fix="use covariance='birge' (scaled by the fit's chi^2) or 'absolute' (errors as given).")
    T = np.asarray(temperature_K, dtype=np.float64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    if T.size != y.size:
        raise ParameterError(f"{T.size} temperatures but {y.size} values.", fix="give one value per temperature.")
    if np.unique(T).size < 2:
        raise ParameterError(f"an Arrhenius fit needs at least 2 different temperatures; got {np.unique(T).size} "
                             f"({', '.join(f'{t:g} K' for t in np.unique(T))}).",
                             fix="analyse trajectories at two or more temperatures (more give an uncertainty).")
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ParameterError(f"temperatures must be positive and finite, got {T.tolist()}.", fix="give T in K.")
    if np.any(~np.isfinite(y)) or np.any(y <= 0):
        k = int(np.argmax(~np.isfinite(y) | (y <= 0)))
        raise ParameterError(f"{quantity} at {T[k]:g} K is {y[k]:g}; an Arrhenius fit needs positive values.",
                             fix="check that the ions diffuse at that temperature (MSD, fit window) or drop it.")
    fitted_label, default_units = QUANTITIES[quantity]
    units = units or ("S/cm" if quantity != "D" else default_units)
    scale = T if quantity != "D" else np.ones_like(T)
    Y = y * scale
    ln_y = np.log(Y)
    if errors is not None:
        e = np.asarray(errors, dtype=np.float64).reshape(-1)
        if e.size != y.size:
            raise ParameterError(f"{e.size} errors for {y.size} values.", fix="give one error per value.")
        if np.any(~np.isfinite(e)) or np.any(e <= 0):
            raise ParameterError(f"errors must be positive and finite for a weighted fit, got {e.tolist()}.",
                                 fix="pass errors=None for an unweighted fit, or fix the uncertainties.")
        s_ln = e / y
        weighted = True
    else:
        e = np.full_like(y, np.nan)
        s_ln = np.ones_like(y)
        weighted = False
    X = np.stack([np.ones_like(T), 1.0 / T], axis=1)
    W = 1.0 / s_ln ** 2
    A = X.T @ (W[:, None] * X)
    cov = np.linalg.inv(A)
    beta = cov @ (X.T @ (W * ln_y))
    res = ln_y - X @ beta
    dof = T.size - 2
    chi2 = float(res @ (W * res))
    red = chi2 / dof if dof > 0 else np.nan
    if weighted:
        note = "weighted by the given errors"
        if covariance == "birge" and dof > 0 and red > 1:
            cov = cov * red
            note += f"; covariance scaled by reduced chi^2 = {red:.3g} (Birge)"
    else:
        if dof > 0:
            cov = cov * red
            note = "unweighted; covariance from the residual variance"
        else:
            cov = np.full((2, 2), np.nan)
            note = "unweighted with 2 temperatures: no uncertainty (give errors or more temperatures)"
    ln_a, b = beta
    ea = -b * BOLTZMANN_EV
    ea_err = np.sqrt(cov[1, 1]) * BOLTZMANN_EV
    g = np.array([1.0, 1.0 / extrapolate_to])
    ln_star = float(g @ beta)
    s_star = float(np.sqrt(g @ cov @ g))
    back = 1.0 / extrapolate_to if quantity != "D" else 1.0
    star = np.exp(ln_star) * back
    coords = {"point": ("point", np.arange(T.size)), "param": ("param", ["ln_A", "slope"]),
              "param2": ("param2", ["ln_A", "slope"])}
    fit_units = units if quantity == "D" else f"{units} K"
    out = xr.Dataset(
        {"temperature": ("point", T, {"units": "K"}),
         "value": ("point", y, {"units": units}),
         "value_err": ("point", e, {"units": units}),
         "fitted": ("point", np.exp(X @ beta) / scale, {"units": units, "long_name": "fit at the data temperatures"}),
         "activation_energy": ((), ea, {"units": "eV"}),
         "activation_energy_err": ((), ea_err, {"units": "eV"}),
         "ln_prefactor": ((), ln_a, {"units": f"ln({fit_units})"}),
         "ln_prefactor_err": ((), np.sqrt(cov[0, 0]), {"units": "1"}),
         "prefactor": ((), np.exp(ln_a), {"units": fit_units}),
         "prefactor_err": ((), np.exp(ln_a) * np.sqrt(cov[0, 0]), {"units": fit_units, "note": "first order"}),
         "covariance": (("param", "param2"), cov, {"long_name": "covariance of (ln A, -E_a/k_B [K])"}),
         "extrapolated": ((), star, {"units": units, "temperature_K": float(extrapolate_to)}),
         "extrapolated_err": ((), star * s_star, {"units": units, "note": "first order: y* s_ln"}),
         "extrapolated_low": ((), np.exp(ln_star - s_star) * back, {"units": units}),
         "extrapolated_high": ((), np.exp(ln_star + s_star) * back, {"units": units}),
         "reduced_chi2": ((), red)},
        coords=coords)
    out.attrs.update(quantity=quantity, fitted_quantity=fitted_label, extrapolate_to_K=float(extrapolate_to),
                     covariance_note=note)
    params = dict(quantity=quantity, units=units, extrapolate_to_K=extrapolate_to, covariance=covariance,
                  model=f"ln({fitted_label}) = ln A - E_a/(k_B T), weighted linear fit against 1/T",
                  weighted=weighted)
    return stamp(out, parameters=params, units="eV", analysis="ssefeat.dynamics.arrhenius.arrhenius_fit")


def arrhenius_from_results(results: Sequence[xr.Dataset], species: str | None = None, quantity: str = "D",
                           **kwargs) -> xr.Dataset:
    """Arrhenius fit over transport results (from :func:`~ssefeat.dynamics.conductivity.conductivity`), one per
    temperature: ``quantity="D"`` uses ``D_cm2_s`` and its error, ``"sigma"`` uses ``sigma`` (fit of sigma*T)."""
    if len(results) < 2:
        raise ParameterError(f"an Arrhenius fit needs at least 2 temperatures; got {len(results)} result(s).",
                             fix="give trajectories at two or more temperatures.")
    T, y, e = [], [], []
    for r in results:
        sp = species or str(r.species.values[0])
        if "temperature_K" not in r:
            raise ParameterError("a transport result has no temperature.", fix="compute it with conductivity(...).")
        T.append(float(r["temperature_K"]))
        key = "D_cm2_s" if quantity == "D" else "sigma"
        y.append(float(r[key].sel(species=sp)))
        e.append(float(r[key + "_err"].sel(species=sp)))
    e_arr = np.asarray(e)
    errors = e_arr if np.all(np.isfinite(e_arr) & (e_arr > 0)) else None
    out = arrhenius_fit(T, y, errors, quantity=quantity, **kwargs)
    out.attrs["species"] = species or str(results[0].species.values[0])
    return out


def check_timesteps(timesteps: Sequence[float], labels: Sequence[str] | None = None, rtol: float = 1e-3) -> None:
    """Raise when trajectories meant to be compared have different stored timesteps (often a fs / ps mix-up)."""
    dts = np.asarray(timesteps, dtype=np.float64)
    if dts.size < 2 or np.all(np.abs(dts - dts[0]) <= rtol * dts[0]):
        return
    labels = list(labels) if labels is not None else [f"#{k}" for k in range(dts.size)]
    listing = ", ".join(f"{lab}: {dt:g} ps" for lab, dt in zip(labels, dts))
    raise ParameterError(f"inconsistent timesteps across trajectories ({listing}).",
                         fix="check the time units of each file (fs vs ps; give timestep_ps / --timestep), or allow "
                             "it explicitly with allow_mixed_timesteps=True / --allow-mixed-timesteps.")


def transport_study(trajectories: Sequence[xr.Dataset], species: str | None = None,
                    temperatures: Sequence[float | None] | None = None, window: tuple[float, float] | None = None, *,
                    haven: bool = False, ngp: bool = False, allow_mixed_timesteps: bool = False,
                    labels: Sequence[str] | None = None, extrapolate_to: float = 300.0, fallback: bool = False,
                    arrhenius_apparent: bool = False, **kwargs) -> xr.DataTree:
    """Conductivity of one mobile species in each trajectory and, with >= 2 temperatures, Arrhenius fits of D and
    sigma*T.

    Each run gets its own fit-window verdict (:func:`~ssefeat.dynamics.regime.conductivity_with_verdict`:
    ``fallback`` gives a run without a diffusive window an *apparent* D instead of an error). The Arrhenius fits use
    the runs whose D is a diffusion coefficient, unless ``arrhenius_apparent``; with fewer than two such
    temperatures there is no fit, and the root's ``arrhenius_note`` says why.

    Returns an ``xarray.DataTree``: ``/run_k`` (the :func:`~ssefeat.dynamics.conductivity.conductivity` result of
    trajectory k with ``attrs["verdict"]``, and ``/run_k_ngp`` when ``ngp``), ``/arrhenius_D`` and
    ``/arrhenius_sigma``; the root holds a per-run summary table (``run`` dim: temperature, D, sigma with errors,
    ``verdict``) and ``window_note`` (each run's).
    """
    from .msd import resolve_species, timestep_of
    from .ngp import non_gaussian_parameter
    from .regime import DIFFUSIVE_VERDICTS, conductivity_with_verdict

    trajectories = list(trajectories)
    if not trajectories:
        raise ParameterError("no trajectory given.", fix="give one or more trajectories.")
    labels = list(labels) if labels is not None else [f"run_{k}" for k in range(len(trajectories))]
    temps = list(temperatures) if temperatures is not None else [None] * len(trajectories)
    if len(temps) == 1 and len(trajectories) > 1:
        own = sorted({float(ds.attrs["temperature_K"]) for ds in trajectories
                      if ds.attrs.get("temperature_K") is not None})
        if len(own) > 1:  # one value would silently replace the runs' own, different temperatures
            raise ParameterError(f"one temperature ({temps[0]:g} K) was given for {len(trajectories)} trajectories "
                                 f"that were run at different temperatures ({', '.join(f'{t:g}' for t in own)} K).",
                                 fix="give one temperature per trajectory, in order, or none to use the files' own.")
        temps = temps * len(trajectories)
    if len(temps) != len(trajectories):
        raise ParameterError(f"{len(temps)} temperatures for {len(trajectories)} trajectories.",
                             fix="give one temperature per trajectory (or one for all).")
    dts = [timestep_of(ds, kwargs.get("timestep_ps")) for ds in trajectories]
    if not allow_mixed_timesteps:
        check_timesteps(dts, labels)
    sp = resolve_species(trajectories[0], species, mobile_default=True)
    if len(sp) != 1:
        raise ParameterError("transport_study takes one mobile species.", fix="give species='Li' (one name).")
    sp = sp[0]
    tree = {}
    results = []
    for lab, ds, temp in zip(labels, trajectories, temps):
        res = conductivity_with_verdict(ds, sp, window, fallback=fallback, temperature_K=temp, haven=haven, **kwargs)
        results.append(res)
        tree[lab] = res
        if ngp:
            tree[f"{lab}_ngp"] = non_gaussian_parameter(ds, sp, remove_com=kwargs.get("remove_com", True),
                                                        timestep_ps=kwargs.get("timestep_ps"))
    T = np.array([float(r["temperature_K"]) for r in results])
    summary = xr.Dataset(
        {"temperature_K": ("run", T, {"units": "K"}),
         **{name: ("run", [float(r[name][0]) for r in results], {"units": units}) for name, units in (
             ("D_cm2_s", "cm^2/s"), ("D_cm2_s_err", "cm^2/s"), ("sigma", "S/cm"), ("sigma_err", "S/cm"),
             ("haven_ratio", "1"))},
         "verdict": ("run", [r.attrs["verdict"] for r in results],
                     {"long_name": "fit window: given / diffusive / short (a diffusion coefficient) or apparent "
                                   "(not diffusive: D and sigma are not transport coefficients)"})},
        coords={"run": ("run", labels)}, attrs={"species": sp, "window_note": "; ".join(
            f"{lab}: {r.attrs['window_note']}" for lab, r in zip(labels, results))})
    used = [k for k, r in enumerate(results) if arrhenius_apparent or r.attrs["verdict"] in DIFFUSIVE_VERDICTS]
    if np.unique(T[used]).size >= 2:
        picked = [results[k] for k in used]
        for name, quantity in (("arrhenius_D", "D"), ("arrhenius_sigma", "sigma")):
            tree[name] = arrhenius_from_results(picked, sp, quantity, extrapolate_to=extrapolate_to)
            tree[name].attrs.update(runs=", ".join(labels[k] for k in used), includes_apparent=int(
                any(results[k].attrs["verdict"] not in DIFFUSIVE_VERDICTS for k in used)))
    elif np.unique(T).size >= 2:
        summary.attrs["arrhenius_note"] = (
            f"no Arrhenius fit: {len(used)} run(s) with a diffusive window "
            f"({', '.join(labels[k] for k in used) or 'none'}) at fewer than two temperatures; apparent D values "
            "are not fitted unless asked (arrhenius_apparent=True).")
    stamp(summary, parameters=dict(species=sp, window_ps=window, haven=haven, temperatures_K=T.tolist(),
                                   timesteps_ps=dts, **kwargs),
          analysis="ssefeat.dynamics.arrhenius.transport_study")
    tree["/"] = summary
    return xr.DataTree.from_dict(tree)
