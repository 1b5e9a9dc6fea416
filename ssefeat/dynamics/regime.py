"""Is a run diffusive? The fit window of D and what to say about it.

One decision, made here and nowhere else: a diffusive window (log-log MSD slope near 1 over a factor 2 in time),
else a short one (a factor 1.5, said so), else an *apparent* D fitted over 0.2-0.5 of the run's length, said
loudly. :func:`transport_with_verdict` decides for a whole study, the way ``ssefeat run`` reports transport.
"""
from __future__ import annotations

from typing import Sequence

import xarray as xr

from ..errors import ParameterError

GIVEN = "window from the config"
DIFFUSIVE = "diffusive window detected from the log-log MSD slope"
SHORT = ("diffusive window detected from the log-log MSD slope, but spanning only a factor 1.5-2 "
         "in time (short runs: D is less certain than its error bar says)")
#: the shortest diffusive stretch accepted when the default factor 2 is not found
SHORT_SPAN = 1.5
#: the apparent-D window as fractions of the run length
APPARENT = (0.2, 0.5)


def transport_with_verdict(runs: Sequence[xr.Dataset], species: str | None = None, temperatures=None,
                           window: tuple[float, float] | None = None, *, fallback: bool = True, say=None,
                           **kwargs) -> tuple[xr.DataTree, str]:
    """:func:`~ssefeat.dynamics.arrhenius.transport_study` with the study-level verdict: returns ``(tree, note)``.

    Without a window, the diffusive window of every run is detected; when one run has none, ``fallback`` accepts a
    short window (factor 1.5) in every run, else fits every run over 0.2-0.5 of the shortest run's length (an
    apparent D, said in the note; ``say(note)`` is called then). ``fallback=False`` raises instead.
    """
    from .arrhenius import transport_study

    note = DIFFUSIVE if window is None else GIVEN
    try:
        return transport_study(runs, species, temperatures, window, **kwargs), note
    except ParameterError as err:
        if not fallback or window is not None or "no diffusive window" not in str(err):
            raise
        why = err.what
    try:
        return transport_study(runs, species, temperatures, None, min_span=SHORT_SPAN, **kwargs), SHORT
    except ParameterError:
        pass
    t_max = min(float(r["time"].values[-1] - r["time"].values[0]) for r in runs)
    window = (APPARENT[0] * t_max, APPARENT[1] * t_max)
    note = (f"NOT DIFFUSIVE: no lag range with a log-log MSD slope near 1 ({why}); D and sigma are "
            f"apparent values fitted over {window[0]:.3g}-{window[1]:.3g} ps; "
            "they are not diffusion coefficients. Run longer or hotter.")
    if say is not None:
        say("transport: " + note)
    return transport_study(runs, species, temperatures, window, **kwargs), note
