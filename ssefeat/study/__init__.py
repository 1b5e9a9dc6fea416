"""Studies that combine ssefeat's pieces: NEB barriers of single hops (:mod:`.barriers`) and the thesis' LiPS glass
series (:mod:`.glass_series`)."""
from __future__ import annotations

from .barriers import SameMinimumError, drag_scan, neb_barrier

__all__ = ["neb_barrier", "drag_scan", "SameMinimumError"]
