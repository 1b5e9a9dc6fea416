"""Studies that combine ssefeat's pieces: NEB barriers of single hops (:mod:`.barriers`) and the thesis' LiPS glass
series (:func:`glass_series` / :func:`analyse_series` in :mod:`.series_study`)."""
from __future__ import annotations

from .barriers import SameMinimumError, drag_scan, neb_barrier
from .glass_runs import GlassRun, runs_from_files, simulate_series
from .series_study import analyse_series, glass_series
from .study_report import write_study

__all__ = ["neb_barrier", "drag_scan", "SameMinimumError", "glass_series", "analyse_series", "GlassRun",
           "runs_from_files", "simulate_series", "write_study"]
