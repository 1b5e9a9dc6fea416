"""Is a run diffusive? The fit window of D and what to say about it, run by run.

One decision, made here and nowhere else: a diffusive window (log-log MSD slope near 1 over a factor 2 in time),
else a short one (a factor 1.5, said so), else an *apparent* D fitted over 0.2-0.5 of the run's length, said
loudly. :func:`conductivity_with_verdict` decides for one run; :func:`~ssefeat.dynamics.arrhenius.transport_study`
calls it for each run of a study, so one sub-diffusive run never changes the verdict on the others.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError
from .diffusion import MIN_WINDOW_POINTS, diffusive_window

GIVEN = "window given"
DIFFUSIVE = "diffusive window detected from the log-log MSD slope"
SHORT = ("diffusive window detected from the log-log MSD slope, but spanning only a factor 1.5-2 "
         "in time (short runs: D is less certain than its error bar says)")
#: the shortest diffusive stretch accepted when the default factor 2 is not found
SHORT_SPAN = 1.5
#: the apparent-D window as fractions of the run length
APPARENT = (0.2, 0.5)
#: verdicts whose D is a diffusion coefficient
DIFFUSIVE_VERDICTS = ("given", "diffusive", "short")


def apparent_note(why: str, window: tuple[float, float]) -> str:
    """The loud note of an apparent D: why no diffusive window was found and the window (ps) used instead."""
    return (f"NOT DIFFUSIVE: no lag range with a log-log MSD slope near 1 ({why}); D and sigma are "
            f"apparent values fitted over {window[0]:.3g}-{window[1]:.3g} ps; "
            "they are not diffusion coefficients. Run longer or hotter.")


def _by_the_rule(fit, window, t_max, fallback: bool):
    """The rule of this module over ``fit(window, **detection)``: the result, verdict and note. ``t_max()``: ps.
    Errors other than "no diffusive window", and every error with ``fallback=False``, are raised."""
    if window is not None:
        return fit(window), "given", GIVEN
    try:
        return fit(None), "diffusive", DIFFUSIVE
    except ParameterError as err:
        if not fallback or "no diffusive window" not in str(err):
            raise
        why = err.what
    try:
        return fit(None, min_span=SHORT_SPAN), "short", SHORT
    except ParameterError:
        pass
    t = t_max()
    window = (APPARENT[0] * t, APPARENT[1] * t)
    return fit(window), "apparent", apparent_note(why, window)


def choose_window(lag_ps: np.ndarray, msd: np.ndarray, window=None, *, t_max: float | None = None,
                  fallback: bool = True, label: str = "") -> tuple[tuple[float, float], str, str]:
    """The fit window (start, stop) ps of one MSD curve, its verdict and note, by the rule of this module.

    ``window`` given: used as is. Else the diffusive window (factor 2), else with ``fallback`` a short one
    (factor 1.5), else 0.2-0.5 of ``t_max`` (default the last lag): an apparent D. ``fallback=False`` raises the
    detection's :class:`~ssefeat.errors.ParameterError` instead. NaN lags are ignored.
    """
    if window is None:
        ok = np.isfinite(msd)
        lag, y = np.asarray(lag_ps)[ok], np.asarray(msd)[ok]
        if lag.size < MIN_WINDOW_POINTS:
            raise ParameterError(f"no MSD to fit{' for ' + label if label else ''}: fewer than "
                                 f"{MIN_WINDOW_POINTS} finite lags.", fix="follow more atoms or frames.")

    def fit(win, **span):
        return (float(win[0]), float(win[1])) if win is not None else diffusive_window(lag, y, label=label, **span)

    return _by_the_rule(fit, window, lambda: float(lag_ps[-1]) if t_max is None else float(t_max), fallback)


def conductivity_with_verdict(ds: xr.Dataset, species, window=None, *, fallback: bool = True,
                              **kwargs) -> xr.Dataset:
    """:func:`~ssefeat.dynamics.conductivity.conductivity` of one run with the verdict on its fit window in
    ``attrs["verdict"]`` ("given", "diffusive", "short" or "apparent") and ``attrs["window_note"]``.

    Without a window the diffusive window is detected; when there is none, ``fallback`` accepts a short one
    (factor 1.5), else fits over 0.2-0.5 of the run's length: an *apparent* D, which is not a diffusion
    coefficient. ``fallback=False`` raises instead. The positions are unwrapped once and the MSD that the
    detection reads is computed once, whichever rule decides. With several species the run gets one verdict:
    every species is detected by the same tier, the first that suits them all.
    """
    from ..data import species_indices
    from .conductivity import conductivity
    from .msd import MAX_UNWRAP_STEP_FRACTION, PreparedPositions, msd_sums, resolve_species

    if kwargs.get("prepared") is None:
        kwargs["prepared"] = PreparedPositions(ds, remove_com=kwargs.get("remove_com", True),
                                               max_unwrap_step=kwargs.get("max_unwrap_step", MAX_UNWRAP_STEP_FRACTION),
                                               timestep_ps=kwargs.get("timestep_ps"))
    if window is None and kwargs.get("msd_sum") is None:
        kwargs["msd_sum"] = {name: msd_sums(kwargs["prepared"], species_indices(ds, name), None, 0,
                                            kwargs.get("workers"))[0]
                             for name in resolve_species(ds, species, mobile_default=True)}
    res, verdict, note = _by_the_rule(lambda win, **span: conductivity(ds, species, win, **kwargs, **span), window,
                                      lambda: float(ds["time"].values[-1] - ds["time"].values[0]), fallback)
    res.attrs.update(verdict=verdict, window_note=note)
    return res
