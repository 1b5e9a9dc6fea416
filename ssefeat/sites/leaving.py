"""Do ions that are about to leave their site look different? A per-ion quantity (softness, an anion-environment
fraction, a polyhedron CSM, ...) of ions that leave their site within a window against ions that stay.

Every (frame, ion) sample on a site is labelled *leaving* when the ion departs that site (a jump of
:func:`ssefeat.sites.site_jumps`, departure frame in [f, f + window)) and *staying* otherwise; staying samples
whose window runs past the end of the run are dropped (whether they would leave is not seen; leaving ones there
are kept). The contrast is the difference of the pooled means, leaving - staying, with a percentile bootstrap
interval that resamples whole ions (the unit of independence: an ion keeps its surroundings for many frames), per
site type and over all sites.

:func:`leaving_contrasts` does this for several quantities at once (one ``quantity`` dimension);
:func:`environment_quantities` takes the per-ion cluster-environment variables of a features Dataset
(:func:`ssefeat.features.assemble.assemble_features` with an environment, the pipeline's features store) as such
quantities.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp


def leaving_labels(occupancy: xr.Dataset, jumps: xr.Dataset, window: int) -> np.ndarray:
    """(frame, atom) int8: 1 leaving within ``window`` frames, 0 staying, -1 off-site or censored."""
    if int(window) < 1:
        raise ParameterError(f"window={window} must be >= 1 frame.", fix="give window >= 1 frame.")
    s = occupancy["site_index"].values
    n_frames, n_ions = s.shape
    frames = occupancy["frame"].values
    pos = {int(f): k for k, f in enumerate(frames)}
    atoms = {int(a): k for k, a in enumerate(occupancy["atom"].values)}
    lab = np.where(s >= 0, 0, -1).astype(np.int8)
    dep = np.array([pos[int(f)] for f in jumps["departure_frame"].values], dtype=np.int64)
    ion = np.array([atoms[int(a)] for a in jumps["atom"].values], dtype=np.int64)
    for d, i in zip(dep, ion):  # one short slice per jump (jumps are rare next to frames x ions)
        seg = lab[max(0, d - int(window) + 1):d + 1, i]
        seg[seg == 0] = 1
    lab[n_frames - int(window) + 1:][lab[n_frames - int(window) + 1:] == 0] = -1  # future not seen
    return lab


def _contrast(values, labels, ion_of, n_boot, rng):
    ions = np.unique(ion_of)
    if ions.size == 0 or not (labels == 1).any() or not (labels == 0).any():
        return np.nan, np.nan, np.nan, np.nan, np.nan
    n_ion = ion_of.max() + 1
    sums = np.zeros((2, n_ion))
    counts = np.zeros((2, n_ion))
    np.add.at(sums, (labels, ion_of), values)
    np.add.at(counts, (labels, ion_of), 1)
    m1, m0 = sums[1].sum() / counts[1].sum(), sums[0].sum() / counts[0].sum()
    boot = np.full(n_boot, np.nan)
    for b in range(n_boot):
        w = np.bincount(rng.choice(ions, ions.size), minlength=n_ion)
        c1, c0 = counts[1] @ w, counts[0] @ w
        if c1 > 0 and c0 > 0:
            boot[b] = sums[1] @ w / c1 - sums[0] @ w / c0
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    return m1, m0, m1 - m0, lo, hi


def leaving_contrast(occupancy: xr.Dataset, jumps: xr.Dataset, quantity: xr.DataArray, window: int = 10, *,
                     n_boot: int = 500, seed: int = 0) -> xr.Dataset:
    """Mean of ``quantity (frame, atom)`` for leaving and staying samples and their difference with a 95 % bootstrap
    interval over ions, per from-site type and for all sites (module docstring). ``quantity`` may cover a subset of
    the frames (e.g. features every k-th frame): only frames present in both are used."""
    lab = leaving_labels(occupancy, jumps, window)
    q = quantity.transpose("frame", "atom")
    frames = np.intersect1d(occupancy["frame"].values, q["frame"].values)
    atoms = np.intersect1d(occupancy["atom"].values, q["atom"].values)
    if frames.size == 0 or atoms.size == 0:
        raise ParameterError("the quantity shares no (frame, atom) with the site occupancy.",
                             fix="give a quantity on the same trajectory's frames and mobile atoms.")
    fi = np.searchsorted(occupancy["frame"].values, frames)
    ai = np.searchsorted(occupancy["atom"].values, atoms)
    values = q.sel(frame=frames, atom=atoms).values.astype(np.float64)
    lab = lab[np.ix_(fi, ai)]
    site = occupancy["site_index"].values[np.ix_(fi, ai)]
    types = [str(t) for t in occupancy["site_type"].values]
    tix = np.array([types.index(str(v)) for v in occupancy["site_label"].values])
    ion_of = np.broadcast_to(np.arange(atoms.size), lab.shape)
    ok = (lab >= 0) & np.isfinite(values)
    rng = np.random.default_rng(seed)
    groups = types + ["all"]
    res = np.full((len(groups), 5), np.nan)
    n = np.zeros((len(groups), 2), dtype=np.int64)
    for g, name in enumerate(groups):
        m = ok if name == "all" else ok & (site >= 0) & (tix[np.maximum(site, 0)] == g)
        res[g] = _contrast(values[m], lab[m].astype(np.int64), ion_of[m], int(n_boot), rng)
        n[g] = [(lab[m] == 1).sum(), (lab[m] == 0).sum()]
    units = quantity.attrs.get("units", "")
    out = xr.Dataset(
        {"mean_leaving": ("group", res[:, 0], {"units": units}), "mean_staying": ("group", res[:, 1], {"units": units}),
         "difference": ("group", res[:, 2], {"units": units, "long_name": "leaving - staying"}),
         "ci_low": ("group", res[:, 3], {"units": units}), "ci_high": ("group", res[:, 4], {"units": units}),
         "n_leaving": ("group", n[:, 0], {"long_name": "samples"}), "n_staying": ("group", n[:, 1]),
         "n_ions": ((), int(atoms.size))},
        coords={"group": groups})
    return stamp(out, parameters=dict(window_frames=int(window), n_boot=int(n_boot), seed=int(seed),
                                      quantity=str(quantity.name), interval="95 % percentile bootstrap over ions"),
                 units=units, analysis="ssefeat.sites.leaving.leaving_contrast")


def environment_quantities(features: xr.Dataset) -> dict[str, xr.DataArray]:
    """Per-ion (frame, atom) cluster-environment quantities of a features Dataset, for :func:`leaving_contrasts`:
    ``fraction_<type>`` (fraction of the anions within r_env in clusters of the type; NaN where no anion is within
    r_env, where the stored fractions are all 0), ``nearest_is_<type>`` (1 when the nearest cluster is of the type,
    else 0; its contrast is a difference of fractions of samples), ``n_anions`` and ``nearest_cluster_distance``
    (Å). Variables the Dataset lacks are left out (an empty dict without an environment)."""
    out: dict[str, xr.DataArray] = {}
    valid = features["n_anions"] > 0 if "n_anions" in features else None
    for name in sorted(str(v) for v in features.data_vars):
        if name.startswith("fraction_") and set(features[name].dims) == {"frame", "atom"}:
            da = features[name].astype(np.float64)
            out[name] = (da.where(valid) if valid is not None else da).assign_attrs(
                units="1", long_name=f"fraction of the anions within r_env in {name[9:]} clusters")
    if "nearest_cluster_type" in features:
        t = features["nearest_cluster_type"].load()
        t = t.copy(data=np.asarray(t.values).astype(str))
        for c in sorted(set(np.unique(t.values).tolist()) - {""}):
            out[f"nearest_is_{c}"] = xr.where(t == c, 1.0, 0.0).where(t != "").assign_attrs(
                units="1", long_name=f"nearest cluster is {c} (1) or not (0)")
    if "n_anions" in features:
        out["n_anions"] = features["n_anions"].astype(np.float64).assign_attrs(
            units="1", long_name="anions within r_env")
    if "nearest_cluster_distance" in features:
        out["nearest_cluster_distance"] = features["nearest_cluster_distance"].astype(np.float64).assign_attrs(
            units="angstrom", long_name="distance to the nearest cluster member atom")
    return out


def leaving_contrasts(occupancy: xr.Dataset, jumps: xr.Dataset, quantities: Mapping[str, xr.DataArray],
                      window: int = 10, *, n_boot: int = 500, seed: int = 0) -> xr.Dataset:
    """:func:`leaving_contrast` of every ``quantities[name] (frame, atom)`` on a ``quantity`` dimension (same
    window, bootstrap and seed for each), with ``units (quantity)``. NaN samples (e.g. softness outside the model's
    training domain) are left out of that quantity's means and counts."""
    if not quantities:
        raise ParameterError("no quantity to contrast between leaving and staying ions.",
                             fix="give at least one (frame, atom) quantity, e.g. {'softness': S}.")
    parts, units = [], []
    for name, q in quantities.items():
        c = leaving_contrast(occupancy, jumps, q.rename(str(name)), window, n_boot=n_boot, seed=seed)
        units.append(str(q.attrs.get("units", "")))
        parts.append(c.drop_attrs())
    out = xr.concat(parts, dim=xr.DataArray(list(map(str, quantities)), dims="quantity", name="quantity"),
                    combine_attrs="drop")
    for v in ("mean_leaving", "mean_staying", "difference", "ci_low", "ci_high"):
        out[v].attrs = {"units": "see units (quantity)"}
    out["difference"].attrs["long_name"] = "leaving - staying"
    out["n_leaving"].attrs = {"long_name": "(frame, ion) samples on a site that leave it within the window"}
    out["n_staying"].attrs = {"long_name": "(frame, ion) samples on a site that stay for the window"}
    out["n_ions"].attrs = {"long_name": "ions sharing frames with the quantity (bootstrap unit)"}
    out["units"] = ("quantity", units)
    return stamp(out, parameters=dict(window_frames=int(window), n_boot=int(n_boot), seed=int(seed),
                                      quantities=list(map(str, quantities)),
                                      interval="95 % percentile bootstrap over ions"),
                 units="per quantity", analysis="ssefeat.sites.leaving.leaving_contrasts")
