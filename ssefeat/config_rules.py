"""The type and range of every value of a pipeline configuration (:mod:`ssefeat.config`), checked before any work.

:data:`RULES` maps ``(section, key)`` to a rule; :func:`check_values` refuses the first value that breaks its rule
with a :class:`~ssefeat.errors.ConfigError` naming the key, the value, what is allowed and the default. Nothing is
clamped or guessed: a value out of range is an error, not a corrected value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import ConfigError, MissingFileError


def parse_table_file(path: Path, what: str = "configuration file") -> dict:
    """The table of a ``.json`` file or else a TOML file; a :class:`MissingFileError` when there is no such file
    and a :class:`ConfigError` naming the file when it does not parse (``what``: the file's name in messages)."""
    import json

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    if not Path(path).exists():
        raise MissingFileError(f"{what} {path} does not exist.", fix="check the path.")
    text = Path(path).read_text()
    try:
        return json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except Exception as err:  # noqa: BLE001 - any parse error is the user's file
        raise ConfigError(f"cannot parse {path}: {err}.", fix="check the TOML / JSON syntax.") from None


@dataclass(frozen=True)
class Rule:
    """``test(value) -> bool`` and the phrase saying what is allowed (``"a number > 0"``)."""

    test: Callable
    allowed: str


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def number(lo=None, hi=None, *, lo_open=False, hi_open=False, integer=False, none=False, unit="") -> Rule:
    """A finite number (or a whole number) in [lo, hi] (open ends with lo_open / hi_open); None allowed if none."""
    def test(v):
        if v is None:
            return none
        if not (_is_int(v) if integer else _is_number(v)):
            return False
        return ((lo is None or (v > lo if lo_open else v >= lo)) and (hi is None or (v < hi if hi_open else v <= hi)))
    kind = "a whole number" if integer else "a number"
    bounds = []
    if lo is not None:
        bounds.append(f"{'>' if lo_open else '>='} {lo}")
    if hi is not None:
        bounds.append(f"{'<' if hi_open else '<='} {hi}")
    text = f"{kind}{' ' + ' and '.join(bounds) if bounds else ''}{' ' + unit if unit else ''}"
    return Rule(test, text + (" (or left out)" if none else ""))


def choice(*values, none=False) -> Rule:
    return Rule(lambda v: (v is None and none) or (isinstance(v, str) and v in values),
                "one of " + ", ".join(f'"{x}"' for x in values) + (" (or left out)" if none else ""))


def text(none=False) -> Rule:
    return Rule(lambda v: (v is None and none) or (isinstance(v, str) and v.strip() != ""),
                "a text value" + (" (or left out)" if none else ""))


def flag() -> Rule:
    return Rule(lambda v: isinstance(v, bool), "true or false")


def names(none=False, empty=True) -> Rule:
    """A list of species names (strings)."""
    return Rule(lambda v: (v is None and none) or (isinstance(v, list) and all(isinstance(x, str) and x for x in v)
                                                   and (empty or bool(v))),
                ("a non-empty" if not empty else "a") + ' list of names, e.g. ["P", "S"]'
                + (" (or left out)" if none else ""))


def numbers(lo_open=0.0, unit="") -> Rule:
    return Rule(lambda v: isinstance(v, list) and all(_is_number(x) and x > lo_open for x in v),
                f"a list of numbers > {lo_open:g}{' ' + unit if unit else ''}, e.g. [600, 800]")


def _window(v) -> bool:
    return v is None or (isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v) and 0 <= v[0] < v[1])


def _type_map(v) -> bool:
    return v is None or (isinstance(v, dict) and all(str(k).isdigit() and isinstance(x, str) and x
                                                     for k, x in v.items()))


def _species_choice(v) -> bool:
    return v in ("framework", "all") or (isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v))


def _n_atoms(v) -> bool:
    return v is None or (_is_int(v) and v > 0) or (isinstance(v, str) and v.strip() != "")


def _neighbors(v) -> bool:
    return v is None or (isinstance(v, str) and v != "") or (isinstance(v, list) and all(isinstance(x, str)
                                                                                           for x in v))


RULES: dict = {
    ("trajectory", "files"): Rule(lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v),
                                  'a list of file paths, e.g. ["run.lammpstrj"]'),
    ("trajectory", "generate"): text(none=True),
    ("trajectory", "n_atoms"): Rule(_n_atoms, 'a whole number > 0 or a size name such as "small" (or left out)'),
    ("trajectory", "steps"): number(1, integer=True),
    ("trajectory", "dump_every"): number(1, integer=True),
    ("trajectory", "temperatures"): numbers(unit="(K, or epsilon/k_B for Kob-Andersen)"),
    ("trajectory", "seed"): number(0, integer=True),
    ("trajectory", "format"): text(none=True),
    ("trajectory", "topology"): text(none=True),
    ("trajectory", "type_map"): Rule(_type_map, 'a table of LAMMPS types to names, e.g. {1 = "Li", 2 = "S"}'),
    ("trajectory", "start"): number(0, integer=True, none=True),
    ("trajectory", "stop"): number(1, integer=True, none=True),
    ("trajectory", "stride"): number(1, integer=True, none=True),
    ("trajectory", "timestep_ps"): number(0, lo_open=True, none=True, unit="ps"),
    ("trajectory", "groups"): Rule(lambda v: v is None or (isinstance(v, dict) and bool(v) and all(
        isinstance(g, dict) for g in v.values())), 'a table of glasses, e.g. [trajectory.groups.A] with files = [..], '
        'temperatures = [..], counts = {PS4 = .., P2S7 = .., P2S6 = ..} (or left out)'),
    ("study", None): Rule(lambda v: v is None or isinstance(v, dict), "a [study] table (or left out)"),
    ("species", "mobile"): text(),
    ("species", "anion"): text(),
    ("species", "framework"): names(),
    ("features", "enabled"): flag(),
    ("features", "parameters"): text(),
    ("features", "descriptors"): flag(),
    ("features", "environment"): flag(),
    ("features", "r_env"): number(0, lo_open=True, unit="Å"),
    ("features", "cluster_types"): names(none=True, empty=False),
    ("labels", "enabled"): flag(),
    ("labels", "kind"): text(),
    ("labels", "t_R_ps"): number(0, lo_open=True, none=True, unit="ps"),
    ("labels", "t_R_frames"): number(2, integer=True),
    ("labels", "lag_frames"): number(1, integer=True),
    ("labels", "window_frames"): number(1, integer=True),
    ("labels", "cutoff"): number(0, lo_open=True, none=True, unit="Å"),
    ("labels", "neighbor_species"): Rule(_neighbors, 'a species name or a list of them (or left out)'),
    ("labels", "normalize"): choice("sum", "mean"),
    ("labels", "align"): choice("forward", "centre", "center"),
    ("softness", "enabled"): flag(),
    ("softness", "r_cut"): number(none=True),
    ("softness", "nr_cut"): number(none=True),
    ("softness", "r_quantile"): number(0, 1, lo_open=True, hi_open=True),
    ("softness", "nr_quantile"): number(0, 1, lo_open=True, hi_open=True),
    ("softness", "window"): number(0, integer=True),
    ("softness", "classifier"): choice("logistic", "svm"),
    ("softness", "C"): number(0, lo_open=True, none=True),
    ("softness", "test_fraction"): number(0, 1, lo_open=True, hi_open=True),
    ("softness", "horizon"): number(0, integer=True),
    ("softness", "max_per_class"): number(2, integer=True, none=True),
    ("softness", "inputs"): choice("all", "structure_functions"),
    ("softness", "model"): text(none=True),
    ("correlate", "enabled"): flag(),
    ("correlate", "n_boot"): number(10, integer=True),
    ("correlate", "lasso"): flag(),
    ("transport", "enabled"): flag(),
    ("transport", "window"): Rule(_window, "[start, stop] in ps with 0 <= start < stop (or left out)"),
    ("transport", "haven"): flag(),
    ("disorder", "enabled"): flag(),
    ("disorder", "axis"): choice("a", "b", "c", "x", "y", "z"),
    ("disorder", "slab_width"): number(0, lo_open=True, unit="Å"),
    ("disorder", "grid_spacing"): number(0, lo_open=True, unit="Å"),
    ("disorder", "sigma"): number(0, lo_open=True, unit="Å"),
    ("disorder", "frames"): number(1, integer=True),
    ("disorder", "species"): Rule(_species_choice, '"framework", "all" or a list of species, e.g. ["P", "S"]'),
    ("sites", "window"): Rule(_window, "[start, stop] in ps with 0 <= start < stop (or left out)"),
    ("sites", "leaving_window"): number(1, integer=True, unit="frames"),
    ("sites", "supercell"): Rule(lambda v: isinstance(v, list) and len(v) == 3 and all(_is_int(x) and x >= 1
                                                                                      for x in v),
                                 "three positive integers, e.g. [1, 1, 2]"),
    ("sites", "min_residence"): number(1, integer=True, unit="frames"),
    ("output", "folder"): text(),
    ("output", "figures"): flag(),
    ("output", "tables"): flag(),
    ("execution", "scheduler"): text(none=True),
    ("execution", "workers"): number(0, integer=True),
    ("execution", "chunk_frames"): number(1, integer=True),
    ("execution", "progress"): flag(),
}


def check_values(config: dict, defaults: dict) -> None:
    """Refuse the first value of ``config`` whose type or range its rule does not allow (ConfigError)."""
    for (section, key), rule in RULES.items():
        value = config[section] if key is None else config[section][key]
        if not rule.test(value):
            default = defaults[section] if key is None else defaults[section][key]
            if key is None:
                raise ConfigError(f"[{section}] must be {rule.allowed}, got {_toml(value)}.",
                                  fix=f"set [{section}] to {rule.allowed} or remove it (default {_toml(default)}).")
            keep = ("leave it out to use the default" if default is None
                    else f"the default is {section}.{key} = {_toml(default)}")
            raise ConfigError(f"{section}.{key} must be {rule.allowed}, got {_toml(value)}.",
                              fix=f"set [{section}] {key} to {rule.allowed}; {keep}.")
    tr, sc, dc = config["trajectory"], config["softness"], config["disorder"]
    if tr["start"] is not None and tr["stop"] is not None and tr["stop"] <= tr["start"]:
        raise ConfigError(f"trajectory.stop ({tr['stop']}) is not after trajectory.start ({tr['start']}).",
                          fix="set stop > start, or leave one out.")
    if tr["generate"] and tr["dump_every"] > tr["steps"]:
        raise ConfigError(f"trajectory.dump_every ({tr['dump_every']}) is larger than trajectory.steps "
                          f"({tr['steps']}): the generated run would store a single frame.",
                          fix="set dump_every well below steps (e.g. steps / 100).")
    if sc["r_cut"] is not None and sc["nr_cut"] is not None and not sc["nr_cut"] < sc["r_cut"]:
        raise ConfigError(f"softness.nr_cut ({sc['nr_cut']}) must be below softness.r_cut ({sc['r_cut']}).",
                          fix="a sample is rearranging above r_cut and quiet below nr_cut; set nr_cut < r_cut.")
    if sc["r_cut"] is None and sc["nr_cut"] is None and not sc["nr_quantile"] < sc["r_quantile"]:
        raise ConfigError(f"softness.nr_quantile ({sc['nr_quantile']}) must be below softness.r_quantile "
                          f"({sc['r_quantile']}).", fix="e.g. nr_quantile = 0.5, r_quantile = 0.95.")
    if not dc["grid_spacing"] < dc["sigma"]:
        raise ConfigError(f"disorder.grid_spacing ({dc['grid_spacing']} Å) must be below disorder.sigma "
                          f"({dc['sigma']} Å): the grid must resolve the Gaussians.",
                          fix=f"set grid_spacing <= {dc['sigma'] / 2:g} Å.")


def _table(v) -> bool:
    return isinstance(v, dict)


def _positive_list(v) -> bool:
    return isinstance(v, list) and bool(v) and all(_is_number(x) and x > 0 for x in v)


#: the keys of a ``[study]`` table (ssefeat.study.study_config; ``glasses`` and ``trajectory.groups`` are checked
#: there, entry by entry) and the type and range of each
STUDY_RULES: dict = {
    "folder": text(),
    "glasses": Rule(lambda v: isinstance(v, dict) and bool(v) and all(isinstance(g, dict) for g in v.values()),
                    'a table of glasses, e.g. [study.glasses.A] with counts = {..} and files = {"600" = "A.nc"}'),
    "ys": Rule(_positive_list, "a non-empty list of S contents y of LiP(x)S(y), e.g. [1.651, 1.605]"),
    "x": number(0, lo_open=True),
    "n_li": number(1, integer=True),
    "temperatures": Rule(_positive_list, "a non-empty list of temperatures > 0 K, e.g. [800, 900, 1000]"),
    "production_ps": number(0, lo_open=True, unit="ps"),
    "dump_ps": number(0, lo_open=True, unit="ps"),
    "equilibrate_ps": number(0, unit="ps"),
    "build": Rule(_table, "a table of lips_glass settings, e.g. {melt_ps = 2.0}"),
    "softness_temperature": number(0, lo_open=True, none=True, unit="K"),
    "parameters": text(),
    "label": choice("d_cum", "p_hop"),
    "label_kwargs": Rule(_table, "a table of label settings, e.g. {lag_frames = 5, window_frames = 20}"),
    "stride": number(1, integer=True),
    "n_blocks": number(2, integer=True),
    "r_env": number(0, lo_open=True, unit="Å"),
    "n_boot": number(10, integer=True),
    "barriers": Rule(lambda v: v is None or _table(v), "a table of NEB settings, e.g. {n_soft = 5, n_hard = 5}"),
    "barrier_glass": Rule(lambda v: v is None or (isinstance(v, str) and v.strip() != "") or (
        isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v)),
        'a glass name, a list of them, or "all" (every glass)'),
    "extras_frames": number(1, integer=True),
    "arrhenius_apparent": flag(),
    "seed": number(0, integer=True),
}


def check_study_values(study: dict, allowed: set | None = None) -> None:
    """Refuse unknown ``[study]`` keys (``allowed``: the keys this entry point takes, default all of
    :data:`STUDY_RULES`) and the first value its rule does not allow (ConfigError)."""
    allowed = set(STUDY_RULES) if allowed is None else set(allowed)
    unknown = sorted(set(study) - allowed)
    if unknown:
        raise ConfigError(f"unknown [study] keys {unknown}.", fix=f"use {', '.join(sorted(allowed))}.")
    for key, value in study.items():
        rule = STUDY_RULES[key]
        if not rule.test(value):
            raise ConfigError(f"study.{key} must be {rule.allowed}, got {_toml(value)}.",
                              fix=f"set [study] {key} to {rule.allowed}, or leave it out for the default.")


def check_parameter_set(name: str, key: str, fix_tail: str) -> None:
    """Refuse ``key = name`` unless it names a structure-function parameter set or an existing JSON file of one."""
    from .features.parameters import SYSTEMS

    if name not in SYSTEMS and not (Path(name).suffix == ".json" and Path(name).exists()):
        raise ConfigError(f"{key} = \"{name}\" is neither a named parameter set nor a JSON file.",
                          fix=f"use one of {', '.join(sorted(SYSTEMS))}{fix_tail}")


def _toml(value) -> str:
    """A value as it would be written in the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if value is None:
        return "nothing (left out)"
    return repr(value)
