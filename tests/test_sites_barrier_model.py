"""From site descriptors to E_a per jump type: the join and the LASSO (C-V-D model, seeds/002)."""
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ssefeat.errors import ParameterError
from ssefeat.sites import barrier_lasso, jump_type_table


def test_jump_type_table_joins_each_fitted_jump_type_with_its_site_types():
    types = ["Li1", "Li2"]
    ea = np.array([[0.20, 0.35], [np.nan, 0.50]])  # Li2 -> Li1 had no fit
    arr = xr.Dataset({"activation_energy": (("from_type", "to_type"), ea),
                      "activation_energy_err": (("from_type", "to_type"), ea / 10)},
                     coords={"from_type": types, "to_type": types})
    desc = xr.Dataset({"type_volume_T": ("site_type", [7.7, 9.1]), "type_csm_T": ("site_type", [0.1, 2.5])},
                      coords={"site_type": types})
    table = jump_type_table(arr, desc, material="X")
    assert table[["from_type", "to_type"]].values.tolist() == [["Li1", "Li1"], ["Li1", "Li2"], ["Li2", "Li2"]]
    row = table.iloc[1]
    assert (row.E_a, row.from_type_csm_T, row.to_type_csm_T, row.to_type_volume_T) == (0.35, 0.1, 2.5, 9.1)
    assert (table.material == "X").all()


def test_barrier_lasso_recovers_known_weights_and_refuses_too_few_rows():
    """E_a = 0.3 + 0.05 z(CSM) - 0.04 z(volume) + noise over 40 pooled jump types, and a descriptor with no
    effect: the signs and sizes come back, the irrelevant one gets ~0, the predictive R^2 is high; on noise
    alone the leave-one-out R^2 is not."""
    rng = np.random.default_rng(3)
    n = 40
    csm, vol, other = rng.normal(1.0, 0.5, n), rng.normal(8.0, 1.0, n), rng.normal(5.0, 2.0, n)
    z = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    ea = 0.3 + 0.05 * z(csm) - 0.04 * z(vol) + rng.normal(0, 0.005, n)
    table = pd.DataFrame({"material": np.repeat(["A", "B", "C", "D"], 10), "E_a": ea, "from_type_csm_T": csm,
                          "from_type_volume_T": vol, "to_type_csm_T": other})
    fit = barrier_lasso(table)
    c = fit["coefficient"]
    assert float(c.sel(descriptor="from_type_csm_T")) == pytest.approx(0.05, abs=0.006)
    assert float(c.sel(descriptor="from_type_volume_T")) == pytest.approx(-0.04, abs=0.006)
    assert abs(float(c.sel(descriptor="to_type_csm_T"))) < 0.005
    assert fit.attrs["r2_loo"] > 0.9 and fit.attrs["n_rows"] == n and fit.attrs["materials"] == "A, B, C, D"
    noise = table.assign(E_a=rng.normal(0.3, 0.05, n))
    assert barrier_lasso(noise).attrs["r2_loo"] < 0.3
    with pytest.raises(ParameterError, match="needs at least 8 rows"):
        barrier_lasso(table.iloc[:5])
