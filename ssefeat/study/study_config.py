"""The ``[study]`` section of a study configuration (TOML / JSON), as ``ssefeat study CONFIG`` reads it.

Built-in series (the thesis' five glasses by default)::

    [study]
    folder = "lips-series"
    n_li = 120                        # Li per glass (400: the thesis-like size)
    temperatures = [800, 900, 1000]   # K, every glass
    production_ps = 40.0
    barriers = {n_soft = 5, n_hard = 5}

The user's own trajectories, grouped by glass (files sharing a composition)::

    [study.glasses.A]
    counts = {PS4 = 28, P2S7 = 56, P2S6 = 23}
    files = {"600" = "A_600K.nc", "700" = "A_700K.nc"}

Analysis keys (``softness_temperature``, ``parameters``, ``label``, ``label_kwargs``, ``stride``, ``n_blocks``,
``r_env``, ``n_boot``, ``barriers``, ``barrier_glass``, ``extras_frames``, ``arrhenius_apparent``, ``seed``) go to
:func:`~ssefeat.study.series_study.analyse_series`. Unknown keys are refused (ConfigError).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, MissingFileError

__all__ = ["read_study_config", "run_study_config", "SERIES_KEYS", "ANALYSIS_KEYS"]

SERIES_KEYS = {"ys", "x", "n_li", "temperatures", "production_ps", "dump_ps", "equilibrate_ps", "build"}
ANALYSIS_KEYS = {"softness_temperature", "parameters", "label", "label_kwargs", "stride", "n_blocks", "r_env",
                 "n_boot", "barriers", "barrier_glass", "extras_frames", "arrhenius_apparent", "seed"}


def read_study_config(source) -> dict:
    """The ``[study]`` table of a TOML / JSON file (or a dict holding it), checked for unknown keys."""
    import json

    if isinstance(source, dict):
        data = source
    else:
        path = Path(source)
        if not path.exists():
            raise MissingFileError(f"study configuration {path} does not exist.")
        text = path.read_text()
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            import tomllib

            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as err:
                raise ConfigError(f"{path} is not valid TOML: {err}.") from None
    if "study" not in data:
        raise ConfigError("the configuration has no [study] section.", fix="add a [study] table (ssefeat study -h).")
    study = dict(data["study"])
    unknown = set(study) - SERIES_KEYS - ANALYSIS_KEYS - {"folder", "glasses"}
    if unknown:
        raise ConfigError(f"unknown [study] keys {sorted(unknown)}.",
                          fix=f"use folder, glasses, {sorted(SERIES_KEYS)} or {sorted(ANALYSIS_KEYS)}.")
    if "glasses" in study and set(study) & (SERIES_KEYS - {"build"}):
        raise ConfigError(f"[study] names the user's glasses and also series keys "
                          f"{sorted(set(study) & SERIES_KEYS)}.", fix="drop the series keys (they make new runs).")
    study.setdefault("folder", "ssefeat-study")
    return study


def run_study_config(study: dict, overwrite: bool = False, say=lambda msg: None) -> dict:
    """Run a checked ``[study]`` table: the built-in series, or the user's glasses; writes the study's files."""
    from ..errors import OutputError
    from .glass_runs import runs_from_files
    from .series_study import analyse_series, glass_series
    from .study_report import write_study

    folder = Path(study["folder"])
    if (folder / "study_report.md").exists() and not overwrite:
        raise OutputError(f"{folder} already holds a study report; it is not overwritten.",
                          fix="choose another folder or pass --overwrite.")
    analysis = {k: v for k, v in study.items() if k in ANALYSIS_KEYS}
    if "glasses" in study:
        res = analyse_series(runs_from_files(study["glasses"]), say=say, **analysis)
        write_study(res, folder)
        return res
    series = {k: v for k, v in study.items() if k in SERIES_KEYS}
    return glass_series(folder, say=say, **series, **analysis)
