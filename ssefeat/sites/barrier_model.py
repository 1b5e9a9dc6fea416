"""From site structure to jump barriers, in the spirit of the seed's C-V-D model (seeds/002: site distortion (CSM)
and volume correlate with migration barriers).

:func:`jump_type_table` joins the activation energy of every jump type (:func:`~ssefeat.sites.jump_arrhenius`) with
the descriptors of its departure and arrival site types (:func:`~ssefeat.sites.site_descriptors`: CSM and volume of
the tetrahedron / octahedron of anions around the site); tables of several materials are concatenated.
:func:`barrier_lasso` fits a LASSO from the standardised descriptors to E_a (alpha by cross-validation) and reports
its leave-one-out predictive R^2. One material has only a few jump types, so the fit needs tables pooled over
materials (or many site types); fewer rows than ``min_rows`` are refused rather than fitted.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp

#: descriptor columns of site_descriptors' per-type means used by default (from_* and to_* each)
TYPE_DESCRIPTORS = ("type_volume_T", "type_csm_T", "type_volume_O", "type_csm_O")


def jump_type_table(arrhenius: xr.Dataset, descriptors: xr.Dataset, material: str = "") -> pd.DataFrame:
    """One row per jump type with a fitted E_a: ``material``, ``from_type``, ``to_type``, ``E_a`` and ``E_a_err``
    (eV), and ``from_<descriptor>`` / ``to_<descriptor>`` for the per-type descriptors of ``descriptors``."""
    names = [d for d in TYPE_DESCRIPTORS if d in descriptors]
    types = [str(t) for t in descriptors["site_type"].values]
    rows = []
    for a in arrhenius["from_type"].values.astype(str):
        for b in arrhenius["to_type"].values.astype(str):
            ea = float(arrhenius["activation_energy"].sel(from_type=a, to_type=b))
            if not np.isfinite(ea):
                continue
            if a not in types or b not in types:
                raise ParameterError(f"the jump type {a}->{b} has site types that the descriptors do not hold "
                                     f"({types}).", fix="compute both from the same sites.")
            row = {"material": material, "from_type": a, "to_type": b, "E_a": ea,
                   "E_a_err": float(arrhenius["activation_energy_err"].sel(from_type=a, to_type=b))}
            for d in names:
                row[f"from_{d}"] = float(descriptors[d].sel(site_type=a))
                row[f"to_{d}"] = float(descriptors[d].sel(site_type=b))
            rows.append(row)
    return pd.DataFrame(rows)


def barrier_lasso(table: pd.DataFrame, columns: Sequence[str] | None = None, min_rows: int = 8,
                  seed: int = 0) -> xr.Dataset:
    """LASSO from site descriptors to E_a per jump type over the rows of ``table`` (:func:`jump_type_table`,
    pooled over materials). ``columns``: the descriptor columns (default every ``from_*`` / ``to_*`` column that is
    finite in every row and not constant).

    Returns ``coefficient (descriptor)`` in eV per standard deviation of the descriptor, ``descriptor_mean`` and
    ``descriptor_std``; attrs ``alpha``, ``intercept`` (eV), ``r2_loo`` (leave-one-out predictive R^2, alpha chosen
    anew inside each left-out fit), ``rmse_loo`` (eV) and ``n_rows``.
    """
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold, LeaveOneOut, cross_val_predict

    if columns is None:
        columns = [c for c in table.columns if c.startswith(("from_", "to_")) and c not in ("from_type", "to_type")
                   and np.isfinite(table[c].to_numpy(dtype=float)).all() and table[c].std() > 0]
    columns = list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ParameterError(f"the table has no columns {missing}.", fix=f"choose from {list(table.columns)}.")
    y = table["E_a"].to_numpy(dtype=float)
    X = table[columns].to_numpy(dtype=float) if columns else np.empty((len(table), 0))
    ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
    if int(ok.sum()) < int(min_rows) or not columns:
        raise ParameterError(
            f"{int(ok.sum())} jump types with E_a and finite descriptors ({len(columns)} usable descriptors); a "
            f"LASSO over site descriptors needs at least {int(min_rows)} rows.",
            fix="pool the jump-type tables of several materials (pd.concat of jump_type_table(...) results), or "
                "lower min_rows knowingly.")
    y, X = y[ok], X[ok]
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = (X - mean) / scale
    folds = KFold(min(5, len(y)), shuffle=True, random_state=seed)
    model = LassoCV(cv=folds, random_state=seed, max_iter=50000).fit(Z, y)
    pred = cross_val_predict(LassoCV(cv=KFold(min(5, len(y) - 1), shuffle=True, random_state=seed),
                                     random_state=seed, max_iter=50000), Z, y, cv=LeaveOneOut())
    ss_res, ss_tot = float(((y - pred) ** 2).sum()), float(((y - y.mean()) ** 2).sum())
    out = xr.Dataset({"coefficient": ("descriptor", model.coef_, {"units": "eV per descriptor std"}),
                      "descriptor_mean": ("descriptor", mean), "descriptor_std": ("descriptor", scale)},
                     coords={"descriptor": columns})
    out.attrs.update(alpha=float(model.alpha_), intercept=float(model.intercept_),
                     r2_loo=1.0 - ss_res / ss_tot if ss_tot > 0 else np.nan,
                     rmse_loo=float(np.sqrt(ss_res / len(y))), n_rows=int(len(y)),
                     materials=json_list(table.loc[ok, "material"]) if "material" in table else "")
    return stamp(out, parameters={"columns": columns, "min_rows": int(min_rows), "seed": int(seed)}, units="eV",
                 analysis="ssefeat.sites.barrier_model.barrier_lasso")


def json_list(values) -> str:
    """The distinct values of a column, comma-separated (an attrs-safe summary)."""
    return ", ".join(dict.fromkeys(str(v) for v in values))
