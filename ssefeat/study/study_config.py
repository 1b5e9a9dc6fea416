"""The ``[study]`` section of a configuration (TOML / JSON): ``ssefeat run CONFIG`` runs it as the pipeline's
study stage (:mod:`ssefeat.pipeline.study`); ``ssefeat study CONFIG`` is the same run with only that section.

Built-in series (the thesis' five glasses by default)::

    [study]
    n_li = 120                        # Li per glass (400: the thesis-like size)
    temperatures = [800, 900, 1000]   # K, every glass
    production_ps = 40.0
    barriers = {n_soft = 5, n_hard = 5}

The user's own trajectories, grouped by glass (files sharing a composition), either in the study::

    [study.glasses.A]
    counts = {PS4 = 28, P2S7 = 56, P2S6 = 23}
    files = {"600" = "A_600K.nc", "700" = "A_700K.nc"}

or as ``trajectory.groups`` of a run (a ``[study]`` section then only holds analysis keys, and may be left out)::

    [trajectory.groups.A]
    files = ["A_600K.nc", "A_700K.nc"]
    temperatures = [600, 700]
    counts = {PS4 = 28, P2S7 = 56, P2S6 = 23}

Analysis keys (``softness_temperature``, ``parameters``, ``label``, ``label_kwargs``, ``stride``, ``n_blocks``,
``r_env``, ``n_boot``, ``barriers``, ``barrier_glass``, ``extras_frames``, ``arrhenius_apparent``, ``seed``) go to
:func:`~ssefeat.study.series_study.analyse_series`. Everything is checked before any work
(:func:`check_study`): unknown keys, values out of range, compositions that cannot be charge-balanced at the
requested size, missing files, and glasses without a common temperature to compare softness at (ConfigError).
"""
from __future__ import annotations

from pathlib import Path

from ..config_rules import STUDY_RULES, check_parameter_set, check_study_values, parse_table_file
from ..errors import ConfigError, MissingFileError, SsefeatError

__all__ = ["read_study_config", "check_study", "user_glasses", "resolve_study_paths", "study_result",
           "SERIES_KEYS", "ANALYSIS_KEYS"]

SERIES_KEYS = {"ys", "x", "n_li", "temperatures", "production_ps", "dump_ps", "equilibrate_ps", "build"}
ANALYSIS_KEYS = {"softness_temperature", "parameters", "label", "label_kwargs", "stride", "n_blocks", "r_env",
                 "n_boot", "barriers", "barrier_glass", "extras_frames", "arrhenius_apparent", "seed"}
_LABEL_KEYS = {"lag_frames", "window_frames", "cutoff", "t_R_frames"}
_ANIONS = ("PS4", "P2S7", "P2S6")


def read_study_config(source) -> dict:
    """The ``[study]`` table of a TOML / JSON file (or a dict holding it), checked for unknown keys and values."""
    data = source if isinstance(source, dict) else parse_table_file(source, "study configuration")
    if "study" not in data:
        raise ConfigError("the configuration has no [study] section.", fix="add a [study] table (ssefeat study -h).")
    study = dict(data["study"])
    check_study_values(study)
    study.setdefault("folder", "ssefeat-study")
    return study


def resolve_study_paths(config: dict, base: Path) -> None:
    """Make the study's trajectory paths (``study.glasses``, ``trajectory.groups``) relative to ``base``."""
    def fix(p):
        return str(p) if Path(str(p)).is_absolute() else str(base / str(p))

    study, groups = config.get("study"), config["trajectory"].get("groups")
    for spec in ((study or {}).get("glasses") or {}).values():
        if isinstance(spec, dict) and isinstance(spec.get("files"), dict):
            spec["files"] = {t: fix(p) for t, p in spec["files"].items()}
    for spec in (groups or {}).values():
        if isinstance(spec, dict) and isinstance(spec.get("files"), list):
            spec["files"] = [fix(p) for p in spec["files"]]


def user_glasses(config: dict) -> dict | None:
    """The user's glasses of a run configuration as ``{glass: {"counts": {..}, "files": {T: path}}}`` (from
    ``study.glasses`` or ``trajectory.groups``), or None for the built-in series."""
    study, groups = config["study"] or {}, config["trajectory"]["groups"]
    if groups:
        return {str(g): {"counts": spec["counts"], "files": dict(zip(spec["temperatures"], spec["files"]))}
                for g, spec in groups.items()}
    return study.get("glasses")


def _check_groups(groups: dict) -> None:
    for g, spec in groups.items():
        extra = sorted(set(spec) - {"files", "temperatures", "counts"})
        missing = sorted({"files", "temperatures", "counts"} - set(spec))
        if extra or missing:
            raise ConfigError(f"trajectory.groups.{g} " + (f"has unknown keys {extra}" if extra else
                                                           f"lacks {missing}") + ".",
                              fix="each group takes files = [..], temperatures = [..] (K, one per file) and counts "
                                  "= {PS4 = .., P2S7 = .., P2S6 = ..}.")
        files, temps = spec["files"], spec["temperatures"]
        if not (isinstance(files, list) and files and all(isinstance(f, str) and f for f in files)):
            raise ConfigError(f"trajectory.groups.{g}.files must be a non-empty list of paths, got {files!r}.",
                              fix=f"set trajectory.groups.{g}.files = [\"a.nc\", ...].")
        if not (isinstance(temps, list) and len(temps) == len(files) and STUDY_RULES["temperatures"].test(temps)):
            raise ConfigError(f"trajectory.groups.{g}.temperatures must give one temperature > 0 K per file "
                              f"({len(files)} files), got {temps!r}.", fix="one temperature per file, same order.")
        if len(set(temps)) != len(temps):
            raise ConfigError(f"trajectory.groups.{g} has two files at one temperature ({temps}).",
                              fix="one trajectory per glass and temperature.")


def _check_glasses(glasses: dict, mobile: str) -> list:
    """The GlassRuns of the user's glasses, every file checked (exists, holds the mobile species)."""
    from ..io import read
    from .glass_runs import runs_from_files

    for g, spec in glasses.items():
        extra = sorted(set(spec) - {"counts", "files"})
        if extra or "counts" not in spec or "files" not in spec:
            raise ConfigError(f"glass {g!r} needs exactly 'counts' (anion counts) and 'files' ({{T: path}})"
                              + (f"; unknown keys {extra}" if extra else "") + ".",
                              fix=f"give study.glasses.{g} only counts = {{...}} and files = {{T = path}}.")
        c = spec["counts"]
        if not (isinstance(c, dict) and set(c) == set(_ANIONS) and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in c.values()) and sum(c.values())):
            raise ConfigError(f"glass {g!r}: counts must give whole numbers >= 0 of PS4, P2S7 and P2S6 (not all 0), "
                              f"got {c!r}.", fix="e.g. counts = {PS4 = 28, P2S7 = 56, P2S6 = 23}.")
        for t, path in spec["files"].items():
            try:
                float(t)
            except ValueError:
                raise ConfigError(f"glass {g!r}: {t!r} is not a temperature in K.",
                                  fix=f"key glass {g!r} files by temperatures in K, e.g. \"600\" = "
                                      f"\"run.nc\".") from None
            if not Path(path).exists():
                raise MissingFileError(f"trajectory {path} of glass {g!r} does not exist.",
                                       fix="fix the path (relative paths are relative to the configuration file).")
            species = set(read(path, stop=1)["species"].values.tolist())
            if mobile not in species:
                raise ConfigError(f"{path} (glass {g!r}) has no {mobile} atoms (its species: {sorted(species)}).",
                                  fix="fix species.mobile or the file.")
    return runs_from_files(glasses)


def check_study(config: dict) -> None:
    """Refuse a run configuration's study before any work (module docstring): ConfigError / MissingFileError."""
    from ..md.systems.lips_composition import series_counts
    from .series_study import common_temperature

    study, groups = config["study"] or {}, config["trajectory"]["groups"]
    if "folder" in study:
        raise ConfigError("study.folder is for `ssefeat study`; a run writes its study into output.folder.",
                          fix="drop study.folder and set [output] folder.")
    check_study_values(study, set(STUDY_RULES) - {"folder"})
    if groups and "glasses" in study:
        raise ConfigError("both trajectory.groups and study.glasses name the study's files.", fix="keep one of them.")
    own = groups or study.get("glasses")
    if own and set(study) & (SERIES_KEYS - {"build"}):
        raise ConfigError(f"the study names the user's glasses and also series keys "
                          f"{sorted(set(study) & SERIES_KEYS)}.", fix="drop the series keys (they make new runs).")
    if groups:
        _check_groups(groups)
    bad = sorted(set(study.get("label_kwargs", {})) - _LABEL_KEYS)
    if bad:
        raise ConfigError(f"unknown study.label_kwargs {bad}.", fix=f"use {sorted(_LABEL_KEYS)}.")
    if (study.get("barriers") or {}).get("targets", "empty_sites") not in ("empty_sites", "hops"):
        raise ConfigError(f"study.barriers.targets must be \"empty_sites\" or \"hops\", got "
                          f"{study['barriers']['targets']!r}.",
                          fix='set study.barriers.targets = "empty_sites" or "hops".')
    check_parameter_set(str(study.get("parameters", "li_li")), "study.parameters",
                        " (the thesis: li_li), or a JSON parameter set.")
    try:
        if own:
            runs = _check_glasses(user_glasses(config), config["species"]["mobile"])
            names = [r.glass for r in runs]
        else:
            from .glass_runs import GlassRun
            from .series_study import series_settings

            s = series_settings(study)
            names = [e["name"] for e in series_counts(s["ys"], s["x"], s["n_li"])]
            runs = [GlassRun(n, float(t), "", {}) for n in names for t in s["temperatures"]]
        common_temperature(runs, study.get("softness_temperature"))
    except ConfigError:
        raise
    except SsefeatError as err:  # a composition that cannot be balanced, no common temperature: a config error
        raise ConfigError(err.what, fix=err.fix) from None
    chosen = study.get("barrier_glass")
    chosen = [] if chosen in (None, "all") else [chosen] if isinstance(chosen, str) else chosen
    bad = [g for g in chosen if g not in names]
    if bad:
        raise ConfigError(f"study.barrier_glass names {bad}, not among the glasses {sorted(set(names))}.",
                          fix='name the study\'s glasses, or "all".')


def study_result(config: dict, md_folder, say=lambda msg: None) -> dict:
    """Run a checked run configuration's study: the user's glasses, or the built-in series simulated into
    ``md_folder`` (its runs are reused when their inputs match); returns :func:`analyse_series`' result."""
    from .glass_runs import runs_from_files
    from .series_study import analyse_series, glass_series

    study = config["study"] or {}
    analysis = {k: v for k, v in study.items() if k in ANALYSIS_KEYS}
    analysis["species"] = config["species"]["mobile"]
    glasses = user_glasses(config)
    if glasses:
        return analyse_series(runs_from_files(glasses), say=say, **analysis)
    series = {k: v for k, v in study.items() if k in SERIES_KEYS}
    return glass_series(md_folder, say=say, write=False, **series, **analysis)
