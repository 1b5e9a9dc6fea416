"""ssefeat: molecular-dynamics trajectories of solid-state electrolytes in, machine-learning insight out.

The trajectory is an ``xarray.Dataset`` (see :mod:`ssefeat.data`); every analysis takes one and returns xarray
results with units and provenance in attrs.
"""
from __future__ import annotations

import os as _os

# numba's OpenMP threads otherwise spin between parallel regions, which costs tens of ms per region on a
# machine that is also running other work; a user's own setting wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from importlib.metadata import version as _version

    __version__ = _version("ssefeat")
except Exception:  # pragma: no cover - running from a source tree without install
    __version__ = "0.1.0"

from . import errors, units  # noqa: E402,F401
from .data import make_trajectory, validate, unwrap, wrap, select  # noqa: E402,F401

__all__ = ["make_trajectory", "validate", "unwrap", "wrap", "select", "errors", "units", "__version__"]
