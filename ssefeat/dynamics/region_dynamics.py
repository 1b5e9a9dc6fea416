"""MSD, D and softness per crystal / interface / glass region (labels from :func:`ssefeat.regions.label_atoms`).

An atom counts in the region it occupies *at the time origin*: MSD_r(tau) = < |r_i(t0 + tau) - r_i(t0)|^2 >
over (t0, i) with label(t0, i) = r, all origins, by FFT (:func:`._msd_kernels.masked_msd`), on the positions of
:class:`.msd.PreparedPositions` (unwrapped, system drift removed). D from :func:`.diffusion.fit_d`, its error
from :func:`.diffusion.bootstrap_d_error` over groups of atoms. Softness uses the label of the same frame.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..data import species_indices
from ..errors import ParameterError, SchemaError
from ..provenance import stamp
from ..regions import REGIONS
from ..units import ANGSTROM2_PER_PS_TO_CM2_PER_S
from . import _msd_kernels as K
from .diffusion import bootstrap_d_error, fit_d, window_lags
from .regime import DIFFUSIVE_VERDICTS, choose_window
from .msd import PreparedPositions, _check_max_lag


def region_msd(ds: xr.Dataset, labels: xr.DataArray, species: str | Sequence[str] | None = None,
               max_lag: float | None = None, remove_com: bool = True, timestep_ps: float | None = None,
               chunk_atoms: int = 256, n_groups: int = 64, return_groups: bool = False):
    """MSD per region, an atom counting in the region it occupies at the time origin.

    Parameters
    ----------
    ds : trajectory (wrapped or unwrapped), equally spaced frames.
    labels : region codes (frame, atom) from :func:`ssefeat.regions.label_atoms`.
    species : atoms to follow (default all).
    max_lag : largest lag in ps (default the whole trajectory).
    remove_com : subtract the whole system's centre-of-mass drift.
    n_groups, return_groups : with ``return_groups`` also return the sums of squared displacements and the pair
        counts per group of atoms (atom k of the selection in group k mod ``n_groups``), arrays (group, lag,
        region), for resampling atoms.

    Returns
    -------
    Dataset with ``msd (lag, region)`` Å^2 and ``pairs (lag, region)`` (number of (origin, atom) pairs), coords
    ``lag`` ps, ``region`` names, ``n_atoms_at_origin (region)`` (mean over origins).
    """
    if not isinstance(labels, xr.DataArray) or labels.dims != ("frame", "atom"):
        raise SchemaError("labels must be a (frame, atom) DataArray.", fix="make them with label_atoms(ds, regions).")
    try:
        lab = np.asarray(labels.sel(frame=ds["frame"].values, atom=ds["atom"].values).values)
    except KeyError:
        raise SchemaError("the labels do not cover every frame and atom of the trajectory.",
                          fix="label the same trajectory: label_atoms(ds, regions).") from None
    idx = species_indices(ds, species)
    prep = PreparedPositions(ds, remove_com=remove_com, timestep_ps=timestep_ps)
    n_lag = _check_max_lag(max_lag, prep.n_frames, prep.dt) + 1
    # sums kept per group of atoms (atom k in group k mod n_groups) for the bootstrap error of region_dynamics
    n_groups = max(1, min(int(n_groups), idx.size))
    total_g = np.zeros((n_groups, n_lag, len(REGIONS)))
    pairs_g = np.zeros((n_groups, n_lag, len(REGIONS)))
    for c in range(0, idx.size, chunk_atoms):
        sel = idx[c:c + chunk_atoms]
        group = (c + np.arange(sel.size)) % n_groups
        x = prep.positions(sel)
        for r in range(len(REGIONS)):
            m = lab[:, sel] == r
            if m.any():
                tot, cnt = K.masked_msd_sums(x, m, n_lag, per_atom=True)
                np.add.at(total_g[:, :, r], group, tot.T)
                np.add.at(pairs_g[:, :, r], group, cnt.T)
    total = total_g.sum(axis=0)
    pairs = pairs_g.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        msd = np.where(pairs > 0, total / np.maximum(pairs, 1), np.nan)
    n_at_origin = np.array([(lab[:, idx] == r).sum() / prep.n_frames for r in range(len(REGIONS))])
    lag = np.arange(n_lag) * prep.dt
    out = xr.Dataset({"msd": (("lag", "region"), msd, {"units": "angstrom^2"}),
                      "pairs": (("lag", "region"), pairs.astype(np.int64), {"units": "(origin, atom) pairs"})},
                     coords={"lag": ("lag", lag, {"units": "ps"}), "lag_frames": ("lag", np.arange(n_lag)),
                             "region": ("region", list(REGIONS)),
                             "n_atoms_at_origin": ("region", n_at_origin)})
    params = dict(prep.info(), species=species, max_lag_ps=max_lag,
                  assignment="region occupied at the time origin")
    # the analysis name predates the move to ssefeat.dynamics; kept so that stored results stay identical
    stamp(out, parameters=params, units="angstrom^2", analysis="ssefeat.regions.region_msd")
    return (out, total_g, pairs_g) if return_groups else out


def _fit_region(lag, msd, total_g, pairs_g, r, window, n_boot, rng):
    """D (OLS slope / 6) over ``window`` of region ``r``'s MSD, its bootstrap error over the groups of atoms
    (``total_g``, ``pairs_g`` (group, lag, region)) and the MSD's log-log exponent there; NaN without 3 lags."""
    value = fit_d(lag, msd, window)[0]
    if not np.isfinite(value):
        return np.nan, np.nan, np.nan
    sel = window_lags(lag, msd, *window)
    pos = sel & (lag > 0) & (msd > 0)
    expo = float(np.polyfit(np.log(lag[pos]), np.log(msd[pos]), 1)[0]) if pos.sum() >= 3 else np.nan
    return value, bootstrap_d_error(lag[sel], total_g[:, sel, r], pairs_g[:, sel, r], n_boot, rng), expo


def _softness_statistics(out: xr.Dataset, softness: xr.DataArray, labels: xr.DataArray, species) -> None:
    """Softness mean, std, median, fraction soft (S > 0) and sample count per region, added to ``out``."""
    if not isinstance(softness, xr.DataArray) or softness.dims != ("frame", "atom"):
        raise SchemaError("softness must be a (frame, atom) DataArray.",
                          fix="pass the softness returned by the softness model (one value per frame and atom).")
    lab = labels
    if species is not None and "species" in labels.coords:
        lab = labels.isel(atom=species_indices(labels, species))
    s_al, l_al = xr.align(softness, lab, join="inner")
    if s_al.size == 0:
        raise SchemaError("softness and labels share no (frame, atom).",
                          fix="compute both on the same trajectory (frame and atom coordinates must match).")
    sv = np.asarray(s_al.values, dtype=np.float64)
    lv = np.asarray(l_al.values)
    stats = {k: np.full(len(REGIONS), np.nan) for k in ("mean", "std", "median", "fraction_soft")}
    n = np.zeros(len(REGIONS), dtype=np.int64)
    for r in range(len(REGIONS)):
        v = sv[(lv == r) & np.isfinite(sv)]
        n[r] = v.size
        if v.size:
            stats["mean"][r], stats["std"][r] = v.mean(), v.std(ddof=1) if v.size > 1 else np.nan
            stats["median"][r], stats["fraction_soft"][r] = np.median(v), (v > 0).mean()
    for k, v in stats.items():
        name = "fraction_soft" if k == "fraction_soft" else f"softness_{k}"
        out[name] = (("region",), v, {"units": "1"})
    out["softness_samples"] = (("region",), n, {"units": "(frame, atom) values"})


def region_dynamics(ds: xr.Dataset, labels: xr.DataArray, species: str | Sequence[str] | None = "Li",
                    softness: xr.DataArray | None = None, window: tuple[float, float] | None = None,
                    max_lag: float | None = None, remove_com: bool = True, n_boot: int = 500,
                    seed: int = 0) -> xr.Dataset:
    """MSD, D and softness statistics per region (crystal, interface, glass) for the atoms of ``species``.

    Atoms count in the region they occupy at the time origin (MSD) or in the frame of the softness value.
    ``window`` (ps) is the D fit window, else chosen per region by :func:`ssefeat.dynamics.regime.choose_window`
    (the rule of ``ssefeat transport`` and the pipeline: diffusive, short, or apparent), its verdict in
    ``verdict (region)``; D is NaN, with the reason in ``attrs["D_messages"]``, when no diffusive window exists.
    ``softness`` is an optional (frame, atom) DataArray; its statistics use the atoms of ``species`` it covers.

    ``D_err`` is the bootstrap-over-atoms standard error of D (``n_boot`` seeded resamples of 64 groups of atoms,
    the same window; as the "atoms" error of :func:`ssefeat.dynamics.diffusion.diffusion_coefficient`, ion-ion
    correlations are not included). Where no diffusive window exists (short or cold runs), ``D_apparent`` is the
    slope / 6 over 0.2-0.5 of the longest lag (verdict "apparent"), with its error and the MSD's log-log exponent there
    (``msd_exponent``): not a diffusion coefficient while the exponent is below 1 (then an upper bound of it).

    Returns the :func:`region_msd` Dataset plus per region ``D`` Å^2/ps, ``D_err``, ``D_cm2_s``, ``D_err_cm2_s``,
    ``window_start``, ``window_stop`` ps, ``D_apparent``, ``D_apparent_err``, ``apparent_window_start`` /
    ``_stop``, ``msd_exponent``, and when softness is given ``softness_mean``, ``softness_std``,
    ``softness_median``, ``fraction_soft`` (S > 0) and ``softness_samples``.
    """
    if int(n_boot) < 2:
        raise ParameterError(f"n_boot={n_boot} is too small for a bootstrap error.",
                             fix="use n_boot >= 2 (default 500).")
    out, total_g, pairs_g = region_msd(ds, labels, species=species, max_lag=max_lag, remove_com=remove_com,
                                       return_groups=True)
    lag = np.asarray(out["lag"].values)
    nr = len(REGIONS)
    d, d_err, w0, w1 = (np.full(nr, np.nan) for _ in range(4))
    d_app, d_app_err, a0, a1, beta = (np.full(nr, np.nan) for _ in range(5))
    verdicts, notes, messages = [], [], []
    rng = np.random.default_rng(seed)
    n_groups = total_g.shape[0]
    for r, name in enumerate(REGIONS):
        msd = np.asarray(out["msd"].values[:, r])
        try:
            (a0[r], a1[r]), verdict, note = choose_window(lag, msd, window, t_max=float(lag[-1]), label=name)
        except ParameterError as err:  # fewer than 3 finite lags: no atoms of this region
            verdict, note = "none", err.what
        verdicts.append(verdict)
        notes.append(f"{name}: {note}")
        if verdict == "none":
            messages.append(f"{name}: no MSD")
            continue
        d_app[r], d_app_err[r], beta[r] = _fit_region(lag, msd, total_g, pairs_g, r, (a0[r], a1[r]), n_boot, rng)
        if verdict in DIFFUSIVE_VERDICTS:
            d[r], d_err[r], w0[r], w1[r] = d_app[r], d_app_err[r], a0[r], a1[r]
        if verdict == "apparent" or not np.isfinite(d_app[r]):
            messages.append(f"{name}: {note}" if np.isfinite(d_app[r]) else f"{name}: fewer than 3 lags in the window")
    err_method = (f"bootstrap over atoms ({n_groups} groups of the followed atoms, {int(n_boot)} resamples, same "
                  "window); ion-ion correlations not included")
    out["D"] = (("region",), d, {"units": "angstrom^2/ps", "long_name": "tracer D = slope / 6 (diffusive window)"})
    out["D_err"] = (("region",), d_err, {"units": "angstrom^2/ps", "method": err_method})
    out["D_cm2_s"] = (("region",), d * ANGSTROM2_PER_PS_TO_CM2_PER_S, {"units": "cm^2/s"})
    out["D_err_cm2_s"] = (("region",), d_err * ANGSTROM2_PER_PS_TO_CM2_PER_S, {"units": "cm^2/s"})
    out["D_apparent"] = (("region",), d_app, {
        "units": "angstrom^2/ps", "method": err_method,
        "long_name": "slope / 6 over apparent_window: D where diffusive, else NOT a diffusion coefficient (an "
                     "upper bound of the long-time D while msd_exponent < 1)"})
    out["D_apparent_err"] = (("region",), d_app_err, {"units": "angstrom^2/ps", "method": err_method})
    out["apparent_window_start"] = (("region",), a0, {"units": "ps"})
    out["apparent_window_stop"] = (("region",), a1, {"units": "ps"})
    out["msd_exponent"] = (("region",), beta, {
        "units": "1", "long_name": "log-log MSD slope over the apparent window (1: diffusive)"})
    out["window_start"] = (("region",), w0, {"units": "ps"})
    out["window_stop"] = (("region",), w1, {"units": "ps"})
    out["verdict"] = (("region",), np.array(verdicts, dtype=object), {
        "long_name": "fit window verdict per region (ssefeat.dynamics.regime.choose_window): given, diffusive, "
                     "short, apparent (D NaN, D_apparent not a diffusion coefficient) or none (no atoms)"})
    out.attrs["D_messages"] = "; ".join(messages)
    out.attrs["window_notes"] = " | ".join(notes)
    if softness is not None:
        _softness_statistics(out, softness, labels, species)
    params = {"species": species, "window": window, "max_lag": max_lag, "remove_com": remove_com,
              "softness": softness is not None, "n_boot": int(n_boot), "seed": int(seed)}
    stamp(out, parameters=params, analysis="ssefeat.regions.region_dynamics")
    return out
