"""Provenance attrs stamped on every result: the parameters that made it, its units, the ssefeat version.

netCDF attributes can only hold strings and numbers, so parameters are stored as one JSON string
(``attrs["parameters"]``) and read back with :func:`parameters_of`.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import numpy as np


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def stamp(obj, parameters: dict | None = None, units: str | None = None, analysis: str | None = None):
    """Add provenance attrs to an xarray object in place and return it.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataArray
    parameters : dict
        Everything needed to reproduce the result (JSON-serialisable after numpy conversion).
    units : str
        Units of the values, e.g. ``"angstrom^2"``.
    analysis : str
        Name of the function that made it.
    """
    from . import __version__

    obj.attrs["ssefeat_version"] = __version__
    obj.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    if analysis is not None:
        obj.attrs["analysis"] = analysis
    if parameters is not None:
        obj.attrs["parameters"] = json.dumps(_jsonable(parameters), sort_keys=True)
    if units is not None:
        obj.attrs["units"] = units
    return obj


def parameters_of(obj) -> dict:
    """The parameters stamped on an xarray object by :func:`stamp` ({} when none)."""
    raw = obj.attrs.get("parameters")
    return json.loads(raw) if raw else {}
