"""Tracer diffusion coefficients from the MSD: D = slope / (2 d) over a diffusive window, with honest uncertainties.

Fit: ordinary least squares of MSD(t) = a + b t over every lag in the window [start, stop] (ps); D = b / 6 for the
total MSD (d = 3) and D_x = b_x / 2 per axis.

Window: given by the user, or detected from the local exponent beta(t) = d ln MSD / d ln t. beta is estimated at
log-spaced lags (10 per decade) by a least-squares fit of ln MSD against ln t over lags within a factor ``smooth``
(default 2) around each point; the diffusive window is the longest contiguous run (in ln t) with |beta - 1| <= tol
(default 0.15), searched between the first lag and ``max_fraction`` (default 0.5) of the trajectory, and it must
span at least a factor ``min_span`` (default 2) in time.

Uncertainty: MSD values at neighbouring lags are strongly correlated, so the textbook OLS slope error (reported as
``D_err_ols`` for reference only) understates the real error, often by an order of magnitude. Two estimates that do
account for the correlation are computed:

- ``atoms`` (default): the OLS slope is linear in the data, so the fit of the atom-averaged MSD equals the mean of
  per-atom fits D_i; its standard error std(D_i) / sqrt(N) is the bootstrap-over-atoms error (exact for independent
  ions; ion-ion correlations are not included).
- ``blocks``: the trajectory is cut into ``n_blocks`` independent time blocks, D is fitted in each, and the error is
  std(D_b) / sqrt(n_blocks) (includes ion-ion correlations; needs the window to fit inside one block, and at least
  3 blocks, else NaN; with few blocks the estimate itself is noisy: n_blocks - 1 degrees of freedom).

``uncertainty="max"`` reports the larger of the two.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from ..data import species_indices
from ..errors import ParameterError
from ..provenance import stamp
from ..units import ANGSTROM2_PER_PS_TO_CM2_PER_S
from . import _msd_kernels as K
from .msd import AXES, MAX_UNWRAP_STEP_FRACTION, PreparedPositions, _lag_coords, msd_sums, resolve_species

UNCERTAINTY_METHODS = ("atoms", "blocks", "max")
MIN_WINDOW_POINTS = 3


def local_exponent(lag_ps: np.ndarray, msd: np.ndarray, max_fraction: float = 0.5, smooth: float = 2.0,
                   points_per_decade: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The log-log slope beta(t) of an MSD curve at log-spaced lags: (t_j in ps, beta_j)."""
    lag_ps = np.asarray(lag_ps, dtype=np.float64)
    msd = np.asarray(msd, dtype=np.float64)
    ok = (lag_ps > 0) & (msd > 0) & (lag_ps <= max_fraction * lag_ps[-1] + 1e-12)
    t, y = lag_ps[ok], msd[ok]
    if t.size < 3:
        return np.empty(0), np.empty(0)
    lt, ly = np.log(t), np.log(y)
    grid = np.exp(np.arange(lt[0], lt[-1] + 1e-12, np.log(10.0) / points_per_decade))
    half = 0.5 * np.log(smooth)
    tj, bj = [], []
    for g in grid:
        sel = np.abs(lt - np.log(g)) <= half + 1e-12
        if sel.sum() < 2:
            continue
        x = lt[sel] - lt[sel].mean()
        tj.append(g)
        bj.append(float(x @ (ly[sel] - ly[sel].mean()) / (x @ x)))
    return np.asarray(tj), np.asarray(bj)


#: a log-log MSD slope below this after a stretch of slope 1 means the MSD flattens (a cage), not diffusion: it grows
#: more slowly than even single-file diffusion (t^1/2), where a caged ion's MSD goes to 0
CAGE_SLOPE = 0.5


def diffusive_window(lag_ps: np.ndarray, msd: np.ndarray, tol: float = 0.15, max_fraction: float = 0.5,
                     min_span: float = 2.0, smooth: float = 2.0, label: str = "") -> tuple[float, float]:
    """Detect the diffusive window (start, stop) in ps where |d ln MSD / d ln t - 1| <= tol (see module docstring).

    A stretch followed by lags whose slope falls below CAGE_SLOPE is not diffusion: an ion rattling in a cage has
    a slope near 1 at short times and then a flat MSD, so such a stretch is set aside (and named in the error)."""
    tj, bj = local_exponent(lag_ps, msd, max_fraction, smooth)
    good = np.abs(bj - 1.0) <= tol
    best, best_span, caged = None, 0.0, None
    k = 0
    while k < good.size:
        if good[k]:
            j = k
            while j + 1 < good.size and good[j + 1]:
                j += 1
            span = tj[j] / tj[k]
            if j + 1 < bj.size and bj[j + 1:].min() < CAGE_SLOPE:  # the MSD flattens later: a cage
                caged = caged or (float(tj[k]), float(tj[j]), float(bj[j + 1:].min()))
            elif span > best_span:
                best, best_span = (float(tj[k]), float(tj[j])), span
            k = j + 1
        else:
            k += 1
    if best is None or best_span < min_span:
        found = "no lag" if best is None else f"only {best[0]:.4g}-{best[1]:.4g} ps"
        if caged is not None:
            found += (f" (the slope is near 1 over {caged[0]:.4g}-{caged[1]:.4g} ps but falls to {caged[2]:.2f} "
                      "later: the MSD flattens, as in a cage)")
        raise ParameterError(
            f"no diffusive window found{' for ' + label if label else ''}: {found} has a log-log MSD slope within "
            f"{tol:g} of 1 over a factor {min_span:g} in time (slopes range {bj.min() if bj.size else np.nan:.2f}"
            f" to {bj.max() if bj.size else np.nan:.2f}); the ions may not diffuse on this time scale.",
            fix="give the fit window explicitly (window=(start_ps, stop_ps) / --window START STOP), raise tol, or "
                "run longer / hotter.")
    return best


def window_lags(lag_ps: np.ndarray, msd: np.ndarray, start: float, stop: float) -> np.ndarray:
    """The lags (bool mask) inside [start, stop] ps, to 1e-9 ps, where the MSD is finite."""
    return np.isfinite(msd) & (lag_ps >= start - 1e-9) & (lag_ps <= stop + 1e-9)


def fit_d(lag_ps: np.ndarray, msd: np.ndarray, window: tuple[float, float] | None = None,
          label: str = "") -> tuple[float, float, float, str]:
    """D (Å^2/ps) = OLS slope / 6 of an MSD curve over the finite lags of ``window`` (ps; :func:`diffusive_window`
    when None): (D, start, stop, message), D NaN and the reason in the message instead of an error."""
    ok = np.isfinite(msd)
    if ok.sum() < MIN_WINDOW_POINTS:
        return np.nan, np.nan, np.nan, f"{label}: no MSD"
    if window is None:
        try:
            start, stop = diffusive_window(lag_ps[ok], msd[ok], label=label)
        except ParameterError as err:
            return np.nan, np.nan, np.nan, err.what
    else:
        start, stop = (float(v) for v in window)
    sel = window_lags(lag_ps, msd, start, stop)
    if sel.sum() < MIN_WINDOW_POINTS:
        return np.nan, start, stop, f"{label}: fewer than 3 lags in the window"
    return K.ols_line(lag_ps[sel], msd[sel])[0] / 6.0, start, stop, ""


def bootstrap_d_error(lag_ps: np.ndarray, sums: np.ndarray, pairs: np.ndarray, n_boot: int,
                      rng: np.random.Generator) -> float:
    """Bootstrap-over-atoms error of D = OLS slope / 6 of an MSD pooled from groups of atoms: ``sums``, ``pairs``
    (group, lag) are each group's summed squared displacements and (origin, atom) pairs at ``lag_ps``; ``n_boot``
    resamples draw groups with replacement, pool them (groups weigh by their pairs) and refit the same lags."""
    n_groups = sums.shape[0]
    if n_groups < 2:
        return np.nan
    t = lag_ps - lag_ps.mean()
    weights = np.stack([np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
                        for _ in range(int(n_boot))])  # (B, G)
    with np.errstate(invalid="ignore", divide="ignore"):
        msd_b = (weights @ sums) / (weights @ pairs)
    ok = np.all(np.isfinite(msd_b), axis=1)
    slopes = (msd_b[ok] - msd_b[ok].mean(axis=1, keepdims=True)) @ t / (t @ t)
    return slopes.std(ddof=1) / 6.0 if slopes.size >= 2 else np.nan


def window_indices(window: tuple[float, float], dt: float, n_frames: int) -> tuple[int, int]:
    """Inclusive lag-frame indices of a window in ps, checked against the trajectory."""
    try:
        start, stop = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ParameterError(f"window={window!r} is not a pair of times.", fix="give window=(start_ps, stop_ps).")
    duration = (n_frames - 1) * dt
    if not (0 <= start < stop):
        raise ParameterError(f"fit window {start:g}-{stop:g} ps is empty or negative.",
                             fix="give 0 <= start < stop, in ps.")
    if stop > duration * (1 + 1e-9):
        raise ParameterError(f"fit window {start:g}-{stop:g} ps is outside the trajectory, which lasts "
                             f"{duration:g} ps ({n_frames} frames of {dt:g} ps).",
                             fix=f"choose stop <= {duration:g} ps (ideally below half of it), or run longer.")
    i0 = int(np.ceil(start / dt - 1e-9))
    i1 = int(np.floor(stop / dt + 1e-9))
    if i1 - i0 + 1 < MIN_WINDOW_POINTS:
        raise ParameterError(f"too few frames for the fit window {start:g}-{stop:g} ps: {max(0, i1 - i0 + 1)} "
                             f"lag(s) of {dt:g} ps fall inside; a line needs at least {MIN_WINDOW_POINTS}.",
                             fix="widen the window or store frames more often.")
    return i0, i1


MIN_BLOCKS = 3


def _usable_blocks(n_blocks: int, i1: int, n_frames: int) -> int:
    """Blocks that fit the window (lags up to i1 frames); 0 when fewer than MIN_BLOCKS fit (the spread of two
    numbers is no error estimate)."""
    nb = int(min(n_blocks, n_frames // (i1 + 1)))
    return nb if nb >= MIN_BLOCKS else 0


def diffusion_coefficient(ds: xr.Dataset, species: str | Sequence[str] | None = None,
                          window: tuple[float, float] | None = None, *, uncertainty: str = "atoms",
                          n_blocks: int = 5, tol: float = 0.15, max_fraction: float = 0.5, min_span: float = 2.0,
                          remove_com: bool = True, max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION,
                          timestep_ps: float | None = None, workers: int | None = None,
                          prepared: PreparedPositions | None = None, msd_sum: dict | None = None) -> xr.Dataset:
    """Tracer diffusion coefficient per species from the FFT MSD (see module docstring for fit, window, errors).

    Parameters
    ----------
    ds : trajectory Dataset
    species : str or list, optional
        Diffusing species (default: the first common mobile ion present: Li, Na, ...).
    window : (start, stop) in ps, optional
        Fit window; detected from the log-log slope when omitted.
    uncertainty : "atoms" | "blocks" | "max"
        Which error estimate is reported as ``D_err``; all of them are stored.
    n_blocks : int
        Number of independent time blocks for the block estimate (reduced so that the window fits in a block).
    prepared : PreparedPositions, optional
        Unwrapped, drift-corrected positions of ``ds`` already set up (then ``remove_com``, ``max_unwrap_step`` and
        ``timestep_ps`` are those it was made with); lets callers share the pass over every atom.
    msd_sum : {species: array (frames, 3)}, optional
        The per-axis MSD summed over each species' atoms, Å^2, from :func:`~ssefeat.dynamics.msd.msd_sums` of
        ``prepared``: the window detection uses it instead of its own pass over the atoms (a caller that tries
        several detection rules computes the MSD once).

    Returns
    -------
    xarray.Dataset with ``msd (lag, species, axis)`` Å^2, ``D``, ``D_err`` (species) Å^2/ps, ``D_cm2_s``,
    ``D_cm2_s_err`` cm^2/s, ``D_axis``, ``D_axis_err (species, axis)`` (1-d D along x, y, z), the alternative
    errors ``D_err_atoms``, ``D_err_blocks``, ``D_err_ols``, ``intercept`` Å^2, ``window_start``, ``window_stop``
    ps and ``n_atoms``.
    """
    if uncertainty not in UNCERTAINTY_METHODS:
        raise ParameterError(f"uncertainty={uncertainty!r} is not one of {UNCERTAINTY_METHODS}.",
                             fix="use 'atoms' (default), 'blocks' or 'max'.")
    names = resolve_species(ds, species, mobile_default=True)
    prep = prepared if prepared is not None else PreparedPositions(
        ds, remove_com=remove_com, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps)
    t, dt = prep.n_frames, prep.dt
    if t < 2 * MIN_WINDOW_POINTS:
        raise ParameterError(f"too few frames for a diffusion fit: {t} frames.",
                             fix=f"give at least {2 * MIN_WINDOW_POINTS} frames (ideally thousands).")
    user_window = None if window is None else window_indices(window, dt, t)
    lag = np.arange(t) * dt
    ns = len(names)
    msd = np.zeros((t, ns, 4))
    res = {k: np.full(ns, np.nan) for k in ("D", "D_err_atoms", "D_err_blocks", "D_err_ols", "intercept",
                                            "window_start", "window_stop", "n_blocks_used")}
    d_axis = np.full((ns, 3), np.nan)
    d_axis_err = np.full((ns, 3), np.nan)
    counts = np.zeros(ns, dtype=np.int64)
    for s, name in enumerate(names):
        idx = species_indices(ds, name)
        counts[s] = idx.size
        if user_window is not None:
            i0, i1 = user_window
            nb = _usable_blocks(n_blocks, i1, t)
            total, slopes, blocks = msd_sums(prep, idx, (i0, i1), nb, workers)
        else:
            total = msd_sum[name] if msd_sum is not None and name in msd_sum else \
                msd_sums(prep, idx, None, 0, workers)[0]
            if np.shape(total) != (t, 3):
                raise ParameterError(f"msd_sum[{name!r}] has shape {np.shape(total)}, expected ({t}, 3).",
                                     fix="pass the msd_sums total of the same prepared positions.")
            start, stop = diffusive_window(lag, total.sum(axis=1) / idx.size, tol, max_fraction, min_span,
                                           label=f"species {name}")
            i0, i1 = window_indices((start, stop), dt, t)
            nb = _usable_blocks(n_blocks, i1, t)
            _, slopes, blocks = msd_sums(prep, idx, (i0, i1), nb, workers)
        msd[:, s, :3] = total / idx.size
        y = msd[i0:i1 + 1, s, :3].sum(axis=1)
        b, a, eb, _ = K.ols_line(lag[i0:i1 + 1], y)
        res["D"][s] = b / 6.0
        res["intercept"][s] = a
        res["D_err_ols"][s] = eb / 6.0
        res["window_start"][s], res["window_stop"][s] = i0 * dt, i1 * dt
        d_i = slopes.sum(axis=1) / 6.0
        if idx.size > 1:
            res["D_err_atoms"][s] = d_i.std(ddof=1) / np.sqrt(idx.size)
            d_axis_err[s] = slopes.std(axis=0, ddof=1) / 2.0 / np.sqrt(idx.size)
        d_axis[s] = slopes.mean(axis=0) / 2.0
        res["n_blocks_used"][s] = nb
        if blocks is not None and nb >= 2:
            w = K.ols_slope_weights(lag[i0:i1 + 1])
            d_b = np.einsum("k,bk->b", w, blocks.sum(axis=2)) / idx.size / 6.0
            res["D_err_blocks"][s] = d_b.std(ddof=1) / np.sqrt(nb)
    msd[..., 3] = msd[..., :3].sum(axis=-1)
    if uncertainty == "atoms":
        d_err = res["D_err_atoms"]
    elif uncertainty == "blocks":
        d_err = res["D_err_blocks"]
    else:
        d_err = np.fmax(res["D_err_atoms"], res["D_err_blocks"])
    coords = _lag_coords(t, dt)
    coords.update({"species": ("species", names), "axis": ("axis", AXES), "direction": ("direction", AXES[:3])})
    a2ps, cm2s = {"units": "angstrom^2/ps"}, {"units": "cm^2/s"}
    out = xr.Dataset(
        {"msd": (("lag", "species", "axis"), msd, {"units": "angstrom^2", "long_name": "mean squared displacement"}),
         "D": ("species", res["D"], {**a2ps, "long_name": "tracer diffusion coefficient"}),
         "D_err": ("species", d_err, {**a2ps, "method": uncertainty}),
         "D_cm2_s": ("species", res["D"] * ANGSTROM2_PER_PS_TO_CM2_PER_S, cm2s),
         "D_cm2_s_err": ("species", d_err * ANGSTROM2_PER_PS_TO_CM2_PER_S, cm2s),
         "D_axis": (("species", "direction"), d_axis, {**a2ps, "long_name": "one-dimensional D along each axis"}),
         "D_axis_err": (("species", "direction"), d_axis_err, {**a2ps, "method": "atoms"}),
         "D_err_atoms": ("species", res["D_err_atoms"], {**a2ps, "method": "std(D_i)/sqrt(N) over atoms"}),
         "D_err_blocks": ("species", res["D_err_blocks"], {**a2ps, "method": "std(D_b)/sqrt(n_blocks) over "
                                                                              "independent time blocks"}),
         "D_err_ols": ("species", res["D_err_ols"], {**a2ps, "method": "naive OLS; ignores correlation between "
                                                                         "lags, underestimates"}),
         "intercept": ("species", res["intercept"], {"units": "angstrom^2"}),
         "window_start": ("species", res["window_start"], {"units": "ps"}),
         "window_stop": ("species", res["window_stop"], {"units": "ps"}),
         "n_blocks_used": ("species", res["n_blocks_used"]),
         "n_atoms": ("species", counts)},
        coords=coords)
    params = dict(species=names, window_ps=None if window is None else [float(v) for v in window],
                  window_rule=None if window is not None else
                  f"longest run of lags with |dlnMSD/dlnt - 1| <= {tol} (slope over a factor 2 in t, 10 points per "
                  f"decade), lags <= {max_fraction} x duration, span >= factor {min_span}",
                  fit="OLS of MSD = a + b t over every lag in the window; D = b/6, D_axis = b_axis/2",
                  uncertainty=uncertainty, n_blocks=n_blocks, **prep.info())
    out.attrs["uncertainty_note"] = (
        "D_err by '" + uncertainty + "'. MSD points at different lags are correlated: D_err_ols (naive least "
        "squares) understates the error; D_err_atoms treats ions as independent; D_err_blocks uses independent "
        "time blocks and includes ion-ion correlations but is itself noisy with few blocks.")
    return stamp(out, parameters=params, units="angstrom^2/ps",
                 analysis="ssefeat.dynamics.diffusion.diffusion_coefficient")
