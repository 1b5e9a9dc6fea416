"""Activation energy per jump type: Arrhenius fits of the escape rate of each site-pair type over temperatures.

For every (from type, to type) the escape rate n_AB / T_A (jumps per ps spent on A sites, Poisson error) of each run
is fitted as ln k = ln A - E_a / (k_B T) with :func:`ssefeat.dynamics.arrhenius.arrhenius_fit` (weighted, Birge
scaling). The prefactor A (1/ps) is the effective attempt frequency of that jump. Jump types with jumps at fewer
than two temperatures get NaN, and ``n_temperatures`` says how many runs entered each fit.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..dynamics.arrhenius import arrhenius_fit
from ..errors import ParameterError
from ..provenance import stamp
from .rates import jump_rates


def jump_arrhenius(runs: Sequence[xr.Dataset], temperatures_K: Sequence[float] | None = None) -> xr.Dataset:
    """E_a per jump type from ``runs`` (jumps Datasets of :func:`ssefeat.sites.site_jumps`, or their
    :func:`ssefeat.sites.jump_rates`), at ``temperatures_K`` (default: each run's ``temperature_K`` attribute).

    Returns ``activation_energy``, ``activation_energy_err`` (eV), ``prefactor``, ``prefactor_err`` (1/ps),
    ``n_temperatures`` and ``n_jumps_total`` on (from_type, to_type), and ``escape_rate (run, from_type, to_type)``.
    """
    rates = [r if "escape_rate" in r else jump_rates(r) for r in runs]
    if temperatures_K is None:
        temperatures_K = [float(r.attrs.get("temperature_K", np.nan)) for r in rates]
    T = np.asarray(temperatures_K, dtype=np.float64)
    if T.size != len(rates) or not np.all(np.isfinite(T)):
        raise ParameterError(f"need one finite temperature per run, got {T.tolist()} for {len(rates)} runs.",
                             fix="give temperatures_K=[...] in K, or runs whose attrs carry temperature_K.")
    types = list(dict.fromkeys(t for r in rates for t in r["from_type"].values.astype(str).tolist()))
    shape = (len(types), len(types))
    k = np.full((len(rates),) + shape, np.nan)
    k_err = np.full_like(k, np.nan)
    n = np.zeros((len(rates),) + shape, dtype=np.int64)
    for i, r in enumerate(rates):
        r = r.reindex(from_type=types, to_type=types)
        k[i], k_err[i] = r["escape_rate"].values, r["escape_rate_err"].values
        n[i] = np.nan_to_num(r["n_jumps"].values).astype(np.int64)
    out = {v: np.full(shape, np.nan) for v in ("activation_energy", "activation_energy_err", "prefactor",
                                               "prefactor_err", "reduced_chi2")}
    used = (n > 0).sum(axis=0)
    for a in range(len(types)):
        for b in range(len(types)):
            ok = n[:, a, b] > 0
            if np.unique(T[ok]).size < 2:
                continue
            fit = arrhenius_fit(T[ok], k[ok, a, b], k_err[ok, a, b], quantity="D", units="1/ps")
            for v in out:
                out[v][a, b] = float(fit[v])
    dims = ("from_type", "to_type")
    res = xr.Dataset(
        {"activation_energy": (dims, out["activation_energy"], {"units": "eV"}),
         "activation_energy_err": (dims, out["activation_energy_err"], {"units": "eV"}),
         "prefactor": (dims, out["prefactor"], {"units": "1/ps", "long_name": "effective attempt frequency"}),
         "prefactor_err": (dims, out["prefactor_err"], {"units": "1/ps", "note": "first order"}),
         "reduced_chi2": (dims, out["reduced_chi2"]),
         "n_temperatures": (dims, used), "n_jumps_total": (dims, n.sum(axis=0)),
         "escape_rate": (("run",) + dims, k, {"units": "1/ps"}),
         "escape_rate_err": (("run",) + dims, k_err, {"units": "1/ps", "method": "Poisson"}),
         "temperature": ("run", T, {"units": "K"})},
        coords={"from_type": types, "to_type": types, "run": np.arange(len(rates))})
    return stamp(res, parameters=dict(model="ln k_AB = ln A - E_a / (k_B T), k_AB escape rate (jumps per ps on A "
                                            "sites), weighted by Poisson errors, Birge-scaled",
                                      temperatures_K=T.tolist()),
                 units="eV", analysis="ssefeat.sites.arrhenius.jump_arrhenius")
