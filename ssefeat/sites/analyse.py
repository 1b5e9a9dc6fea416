"""One run's site analysis, as ``ssefeat sites`` and the pipeline's sites stage both do it."""
from __future__ import annotations

import xarray as xr

from ..errors import SsefeatError
from .collective import collective_jumps
from .correlation import correlation_factor
from .jumps import site_jumps
from .occupancy import site_occupancy, site_states
from .rates import jump_rates, residence_times, transition_matrix


def analyse_run(ds: xr.Dataset, sites, species: str, radius: float, *, min_residence: int = 1, window=None,
                temperature: float | None = None, collective: tuple[float, float] | None = None):
    """Occupancy, jumps, rates, transitions, residence times, the correlation factor and, with ``collective``
    (max_time ps, max_dist Å), collective jumps of ``species`` in one trajectory (sites within ``radius`` Å):
    ({name: Dataset}, why). ``window`` (ps) is f's D_tracer fit window (default: the rule of
    :mod:`ssefeat.dynamics.regime`); ``temperature`` (K) goes to the jumps' attrs; without f, ``why`` says why.
    """
    states = site_states(ds, sites, species, radius)
    jumps = site_jumps(ds, sites, species, radius, min_residence=min_residence, states=states)
    if temperature is not None:
        jumps.attrs["temperature_K"] = float(temperature)
    parts = {"occupancy": site_occupancy(ds, sites, states=states), "jumps": jumps, "rates": jump_rates(jumps),
             "transitions": transition_matrix(jumps), "residence": residence_times(jumps)}
    why = None
    try:
        parts["correlation"] = correlation_factor(ds, jumps, window=window)
    except SsefeatError as err:  # said, not hidden: f needs an MSD and at least one jump
        why = err.what
    if collective is not None:
        parts["collective"] = collective_jumps(jumps, collective[1], max_time=collective[0])
    return parts, why
