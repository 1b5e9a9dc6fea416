"""Do ions that are about to leave their site look different? A per-ion quantity (softness, an anion-environment
fraction, a polyhedron CSM, ...) of ions that leave their site within a window against ions that stay.

Every (frame, ion) sample on a site is labelled *leaving* when the ion departs that site (a jump of
:func:`ssefeat.sites.site_jumps`, departure frame in [f, f + window)) and *staying* otherwise; samples whose window
runs past the end of the run are dropped (their future is not seen). The contrast is the difference of the pooled
means, leaving - staying, with a percentile bootstrap interval that resamples whole ions (the unit of independence:
an ion keeps its surroundings for many frames), per site type and over all sites.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp


def leaving_labels(occupancy: xr.Dataset, jumps: xr.Dataset, window: int) -> np.ndarray:
    """(frame, atom) int8: 1 leaving within ``window`` frames, 0 staying, -1 off-site or censored."""
    if int(window) < 1:
        raise ParameterError(f"window={window} must be >= 1 frame.")
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
