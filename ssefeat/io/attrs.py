"""The one attrs sanitiser: attributes that netCDF and zarr can store."""
from __future__ import annotations

import json

import numpy as np


def safe_attrs(attrs: dict, plain: bool = False, drop_none: bool = False) -> dict:
    """Attributes netCDF and zarr can store: bools -> int, None -> "" (or left out with ``drop_none``), dicts and
    lists other than of numbers -> JSON text; ``plain`` (zarr keeps attributes as JSON) also turns numpy scalars and
    arrays into Python values."""
    out = {}
    for k, v in attrs.items():
        if v is None and drop_none:
            continue
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        elif v is None:
            v = ""
        elif plain and isinstance(v, np.generic):
            v = v.item()
        elif plain and isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (dict, list, tuple)) and not (isinstance(v, (list, tuple)) and v and
                                                       all(isinstance(x, (int, float)) for x in v)):
            v = json.dumps(v, default=str)
        out[k] = v
    return out
