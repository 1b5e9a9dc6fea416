"""Statistics of site jumps: rates per site-pair type, the transition matrix, residence times.

Rates (per site-pair type A -> B, from a :func:`ssefeat.sites.site_jumps` Dataset):
- ``rate`` = n_AB / (N t): jumps per ion and ps (GEMDAT's ``rates``), N mobile ions, t the run length;
- ``escape_rate`` = n_AB / T_A: jumps per ps spent on A sites (T_A the ion-time on sites of type A), the rate an ion
  on an A site leaves for a B site, which is what an Arrhenius fit per jump type wants;
both with Poisson errors sqrt(n_AB) / (N t) and sqrt(n_AB) / T_A (jumps are rare, nearly independent events).
Residence time: for every visit bounded by two jumps of the same ion, the time from the arrival frame to the
departure frame inclusive (frames spent outside every site in between count, since they are no jump), in ps.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp


def transition_counts(jumps: xr.Dataset) -> xr.DataArray:
    """Jumps counted per (from_type, to_type), int64."""
    types = [str(t) for t in jumps["site_type"].values]
    lookup = {t: k for k, t in enumerate(types)}
    a = np.array([lookup[str(v)] for v in jumps["from_label"].values], dtype=np.int64)
    b = np.array([lookup[str(v)] for v in jumps["to_label"].values], dtype=np.int64)
    n = len(types)
    counts = np.bincount(a * n + b, minlength=n * n).reshape(n, n)
    return xr.DataArray(counts, dims=("from_type", "to_type"), coords={"from_type": types, "to_type": types},
                        attrs={"units": "jumps"})


def jump_rates(jumps: xr.Dataset) -> xr.Dataset:
    """Rates per site-pair type with Poisson errors (see module docstring), in 1/ps.

    Returns ``n_jumps``, ``rate``, ``rate_err``, ``escape_rate``, ``escape_rate_err`` on (from_type, to_type),
    with ``type_time`` (ps) and the sample (``n_ions``, ``duration_ps``) in attrs.
    """
    counts = transition_counts(jumps)
    n = counts.values.astype(np.float64)
    n_ions, t = int(jumps.attrs["n_ions"]), float(jumps.attrs["duration_ps"])
    type_time = jumps["type_time"].values.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        esc = n / type_time[:, None]
        esc_err = np.sqrt(n) / type_time[:, None]
    dims = ("from_type", "to_type")
    out = xr.Dataset(
        {"n_jumps": counts,
         "rate": (dims, n / (n_ions * t), {"units": "1/ps", "long_name": "jumps per ion and ps"}),
         "rate_err": (dims, np.sqrt(n) / (n_ions * t), {"units": "1/ps", "method": "Poisson sqrt(n)/(N t)"}),
         "escape_rate": (dims, esc, {"units": "1/ps", "long_name": "jumps per ps spent on from-type sites"}),
         "escape_rate_err": (dims, esc_err, {"units": "1/ps", "method": "Poisson sqrt(n)/T_from"}),
         "type_time": ("from_type", type_time, {"units": "ps", "long_name": "ion-time on from-type sites"})},
        coords=counts.coords)
    out.attrs.update(n_ions=n_ions, duration_ps=t, n_jumps_total=int(n.sum()),
                     temperature_K=float(jumps.attrs.get("temperature_K", np.nan)))
    return stamp(out, parameters=dict(errors="Poisson", n_ions=n_ions, duration_ps=t), units="1/ps",
                 analysis="ssefeat.sites.rates.jump_rates")


def transition_matrix(jumps: xr.Dataset, by: str = "type") -> xr.Dataset:
    """Counts and the row-normalised probability P(to | from) of the next site, per site type (``by="type"``) or
    per site (``by="site"``, dense n_sites x n_sites), with binomial errors sqrt(p (1 - p) / n_from)."""
    if by == "type":
        counts = transition_counts(jumps)
        dims = ("from_type", "to_type")
    elif by == "site":
        ns = jumps.sizes["site"]
        c = np.bincount(jumps["from_site"].values * ns + jumps["to_site"].values, minlength=ns * ns)
        dims = ("from_site", "to_site")
        counts = xr.DataArray(c.reshape(ns, ns), dims=dims,
                              coords={dims[0]: np.arange(ns), dims[1]: np.arange(ns)}, attrs={"units": "jumps"})
    else:
        raise ParameterError(f"by={by!r} is not 'type' or 'site'.", fix="use by='type' or by='site'.")
    n_from = counts.sum(dims[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / n_from
        p_err = np.sqrt(p * (1 - p) / n_from)
    out = xr.Dataset({"count": counts, "probability": p.assign_attrs(units="1"),
                      "probability_err": p_err.assign_attrs(units="1", method="binomial"),
                      "n_from": n_from})
    return stamp(out, parameters=dict(by=by), units="1", analysis="ssefeat.sites.rates.transition_matrix")


def residence_times(jumps: xr.Dataset) -> xr.Dataset:
    """Residence time of every visit bounded by two jumps of the same ion (module docstring), ps, on a ``visit``
    dimension, and per site type its mean with the standard error, median and count (visits and ions)."""
    ion = jumps["ion"].values
    order = np.lexsort((jumps["departure_time"].values, ion))
    ion = ion[order]
    same = ion[1:] == ion[:-1]
    arrive = jumps["arrival_time"].values[order][:-1][same]
    leave = jumps["departure_time"].values[order][1:][same]
    n_frames = int(jumps.attrs["n_frames"])
    dt = float(jumps.attrs["duration_ps"]) / max(n_frames - 1, 1)
    res = leave - arrive + dt
    site = jumps["to_site"].values[order][:-1][same]
    label = jumps["to_label"].values[order][:-1][same].astype(str)
    types = [str(t) for t in jumps["site_type"].values]
    stats = {k: np.full(len(types), np.nan) for k in ("mean", "sem", "median")}
    n_vis = np.zeros(len(types), dtype=np.int64)
    n_ion = np.zeros(len(types), dtype=np.int64)
    for k, t in enumerate(types):
        r = res[label == t]
        n_vis[k] = r.size
        n_ion[k] = np.unique(ion[1:][same][label == t]).size
        if r.size:
            stats["mean"][k], stats["median"][k] = r.mean(), np.median(r)
        if r.size > 1:
            stats["sem"][k] = r.std(ddof=1) / np.sqrt(r.size)
    out = xr.Dataset(
        {"residence_time": ("visit", res, {"units": "ps"}), "visit_site": ("visit", site),
         "visit_label": ("visit", label), "visit_atom": ("visit", jumps["atom"].values[order][1:][same]),
         "mean_residence_time": ("site_type", stats["mean"], {"units": "ps"}),
         "mean_residence_time_err": ("site_type", stats["sem"], {"units": "ps", "method": "std/sqrt(n visits)"}),
         "median_residence_time": ("site_type", stats["median"], {"units": "ps"}),
         "n_visits": ("site_type", n_vis), "n_visit_ions": ("site_type", n_ion)},
        coords={"site_type": types, "visit": np.arange(res.size)})
    return stamp(out, parameters=dict(rule="arrival frame to departure frame inclusive, visits between two jumps",
                                      frame_time_ps=dt), units="ps", analysis="ssefeat.sites.rates.residence_times")
