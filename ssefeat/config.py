"""The configuration of ``ssefeat run``: a TOML (or JSON) file, checked completely before any heavy work.

Every section and key is listed in :data:`DEFAULTS`; unknown keys, missing files and species roles that the
trajectory does not have are refused up front with a :class:`~ssefeat.errors.ConfigError`.

Example (``run.toml``)::

    [trajectory]
    files = ["T600.lammpstrj", "T800.lammpstrj"]
    temperatures = [600, 800]            # K, one per file (or from each file's attrs)
    type_map = {1 = "Li", 2 = "P", 3 = "S"}
    stride = 2

    [species]
    mobile = "Li"
    anion = "S"
    framework = ["P", "S"]

    [labels]
    t_R_ps = 2.0

    [output]
    folder = "results"
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from . import defaults as D
from .config_rules import check_parameter_set, check_values, parse_table_file
from .errors import ConfigError, MissingFileError, ParameterError

DEFAULTS: dict = {
    "trajectory": {
        "files": [],            # paths of the user's trajectories
        "generate": None,       # or a built-in system: "lips_glass", "kob_andersen", "glass_ceramic", ...
        "n_atoms": None,        # size of a generated system (default: the system's own)
        "steps": 20000,         # production steps of a generated run
        "dump_every": 100,      # steps between stored frames of a generated run
        "temperatures": [],     # K (or reduced units for Kob-Andersen), one per file / generated run
        "seed": 0,
        "format": None, "topology": None, "type_map": None,
        "start": None, "stop": None, "stride": None, "timestep_ps": None,
        # the glass study's own trajectories, by glass: {name: {files, temperatures, counts}} (ssefeat.study)
        "groups": None,
    },
    "species": {"mobile": "Li", "anion": "S", "framework": list(D.FRAMEWORK)},
    "features": {
        "enabled": True,
        "parameters": "li_sulfide",     # a named parameter set or a JSON file of one
        "descriptors": True,            # coordination, Voronoi volume, Steinhardt q_l, density, potential energy
        "environment": True,            # anion clusters, cluster environment, Li-site polyhedra
        "r_env": D.R_ENV,               # Å, cluster-environment radius
        "cluster_types": None,          # e.g. ["PS4", "P2S7", "P2S6"]; None: those of the first frame
    },
    "labels": {
        "enabled": True,
        "kind": D.LABEL_KIND,           # "p_hop" | "d2min" | "d_cum" (ssefeat.dynamics.labels)
        "t_R_ps": None, "t_R_frames": D.T_R_FRAMES,     # p_hop window: in ps, or in frames when t_R_ps is None
        "lag_frames": D.LAG_FRAMES,                     # d2min: lag t0 -> t0 + lag; d_cum: interval dt
        "window_frames": D.DCUM_WINDOW_FRAMES,          # d_cum: summed over this window (a multiple of lag_frames)
        "cutoff": None,                         # Å, d2min / d_cum neighbour cutoff (required for those kinds)
        "neighbor_species": None,               # d2min / d_cum neighbours (None: every atom)
        "normalize": D.NORMALIZE,               # d2min / d_cum: "sum" over neighbours (OVITO) or "mean"
        "align": D.ALIGN,                       # d_cum: value at t covers [t, t + window) or is "centre"d on t
    },
    "softness": {
        "enabled": True,
        "r_cut": None, "nr_cut": None,          # label thresholds; None: the quantiles below
        "r_quantile": D.R_QUANTILE, "nr_quantile": D.NR_QUANTILE,
        "window": D.SOFTNESS_WINDOW,            # frames either side that must stay quiet
        "classifier": D.CLASSIFIER, "C": None, "test_fraction": D.TEST_FRACTION, "horizon": 10,
        # samples per class at most (a seeded random draw when more are available; None: all): the training
        # matrix, and so the stage's peak memory and time, stop growing with the trajectory's length
        "max_per_class": D.MAX_PER_CLASS,
        "model": None,                          # apply this trained model instead of training
        # the model's input columns: "all" the features stage's columns, or "structure_functions" only (then the
        # descriptors and environments it is linked to are not its own inputs)
        "inputs": "all",
    },
    "correlate": {"enabled": True, "n_boot": D.N_BOOT, "lasso": True},
    "transport": {"enabled": True, "window": None, "haven": False},
    "disorder": {"enabled": False, "axis": D.DISORDER_AXIS, "slab_width": D.SLAB_WIDTH,
                 "grid_spacing": D.GRID_SPACING, "sigma": D.SIGMA, "frames": 5,
                 # atoms whose density makes F(z): "framework" (species.framework: in Li thiophosphates the P-S
                 # lattice stays ordered while Li and PS4 orientations are mobile, so all-atom F of a hot crystal
                 # overlaps the glass), "all", or a list of species
                 "species": D.DISORDER_SPECIES},
    # site-resolved hopping (ssefeat.sites): sites from a structure file (species.mobile atoms, optional CIF labels and
    # supercell) or, without one, from the density maxima; radius in Å (required when enabled); window: [start, stop]
    # ps of the D_tracer fit of f = D_tracer / D_J (None: chosen by ssefeat.dynamics.regime.choose_window);
    # leaving_window: frames ahead in which an ion "leaves" its site, for the softness / environment contrasts
    "sites": {"enabled": False, "structure": None, "supercell": [1, 1, 1], "labels": None, "radius": None,
              "min_residence": 1, "descriptors": True, "window": None, "leaving_window": 10},
    # the thesis' glass study (ssefeat.study.study_config): a table of its keys, None when not run
    "study": None,
    "output": {"folder": "ssefeat-results", "figures": True, "tables": True},
    "execution": {"scheduler": None, "workers": 0, "chunk_frames": D.CHUNK_FRAMES, "progress": True},
}

_LABEL_ALIASES = {"phop": "p_hop", "dcum": "d_cum"}  # older spellings, still accepted


def _merge(defaults: dict, given: dict, where: str) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        if key not in defaults:
            raise ConfigError(f"unknown key '{where}{key}' in the configuration.",
                              fix=f"allowed keys{' in [' + where.rstrip('.') + ']' if where else ''}: "
                                  f"{', '.join(sorted(defaults))}.")
        if isinstance(defaults[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a table of settings, got {type(value).__name__}.",
                                  fix=f"write it as a section: [{key}] followed by key = value lines.")
            out[key] = _merge(defaults[key], value, f"{where}{key}.")
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(source) -> dict:
    """Read a TOML / JSON file (or take a dict) and fill in the defaults. Paths are made relative to the file."""
    given = source if isinstance(source, dict) else parse_table_file(source)
    base = Path(".") if isinstance(source, dict) else Path(source).parent
    if not isinstance(given, dict):
        raise ConfigError(f"the configuration must be a table of sections, got {type(given).__name__}.",
                          fix="start from the example in the README ([trajectory], [species], ...).")
    config = _merge(DEFAULTS, given, "")
    check_values(config, DEFAULTS)  # every value's type and range, before anything uses them
    lc = config["labels"]
    if isinstance(lc["kind"], str):
        lc["kind"] = _LABEL_ALIASES.get(lc["kind"].lower(), lc["kind"].lower())
    tr = config["trajectory"]
    tr["files"] = [str((base / f)) if not Path(f).is_absolute() else str(f) for f in tr["files"]]
    if tr["type_map"]:
        tr["type_map"] = {int(k): str(v) for k, v in tr["type_map"].items()}
    if config["sites"]["structure"] and not Path(config["sites"]["structure"]).is_absolute():
        config["sites"]["structure"] = str(base / config["sites"]["structure"])
    if tr["groups"] and config["study"] is None:
        config["study"] = {}  # groups are the study's trajectories: they run it
    if config["study"] is not None:
        from .study.study_config import resolve_study_paths

        resolve_study_paths(config, base)
    return config


def check_config(config: dict) -> None:
    """Refuse a configuration that cannot run, before any heavy work: every value's type and range, the files,
    the species roles against each trajectory's first frame (or the generated system's species), the labels."""
    check_values(config, DEFAULTS)
    tr, study_on = config["trajectory"], config["study"] is not None or bool(config["trajectory"]["groups"])
    if study_on:
        from .study.study_config import check_study

        check_study(config)
    if tr["files"] and tr["generate"] or not (tr["files"] or tr["generate"] or study_on):
        raise ConfigError("give either trajectory.files (your trajectories) or trajectory.generate "
                          "(a built-in system), not both or neither (or only a [study]).",
                          fix="set trajectory.files = [...] or trajectory.generate = {...} in the config, exactly one.")
    if not (tr["files"] or tr["generate"]):  # a study alone: the per-run stages have no trajectory
        if tr["temperatures"]:
            raise ConfigError("trajectory.temperatures are for trajectory.files / generate, and there are none.",
                              fix="give each trajectory.groups entry its temperatures (or the series "
                                  "study.temperatures).")
        return
    for f in tr["files"] + ([tr["topology"]] if tr["topology"] else []) + (
            [config["softness"]["model"]] if config["softness"]["model"] else []):
        if not Path(f).exists():
            raise MissingFileError(f"file {f} (from the configuration) does not exist.",
                                   fix="fix the path in the configuration (relative paths are relative to the "
                                       "configuration file).")
    n_runs = len(tr["files"]) or max(1, len(tr["temperatures"]))
    if tr["temperatures"] and len(tr["temperatures"]) != n_runs:
        raise ConfigError(f"{len(tr['temperatures'])} temperatures for {n_runs} trajectories.",
                          fix="give one temperature per file, in the same order.")
    if config["features"]["enabled"]:
        check_parameter_set(str(config["features"]["parameters"]), "features.parameters",
                            ", or the path of a JSON parameter set (`ssefeat feature-params -o params.json` writes one "
                            "to edit).")
    first = None
    if tr["generate"]:
        from .md.systems import get_system

        spec = get_system(tr["generate"])  # raises with the list of systems
        if not tr["temperatures"]:
            raise ConfigError("trajectory.generate needs trajectory.temperatures (one run per temperature).",
                              fix=f"e.g. temperatures = [{spec.default_temperature:g}].")
        _check_roles(config, set(spec.species), f"the generated system {spec.name}")
    else:
        from .io import read

        for f in tr["files"]:
            ds = read(f, format=tr["format"], topology=tr["topology"], type_map=tr["type_map"], stop=1)
            first = ds if first is None else first
            _check_roles(config, set(ds["species"].values.tolist()), str(f))
            _check_cutoffs(config, ds, str(f))
    if config["labels"]["enabled"]:
        check_labels(config["labels"], first)
    if config["softness"]["enabled"] and not config["labels"]["enabled"] and not config["softness"]["model"]:
        raise ConfigError("softness training needs labels, and [labels] is disabled.",
                          fix="set labels.enabled = true, or give softness.model (a trained model file), or set "
                              "softness.enabled = false.")
    if config["execution"]["workers"] and config["execution"]["scheduler"]:
        raise ConfigError("give execution.workers (a local cluster) or execution.scheduler (an existing one), "
                          "not both.", fix="remove execution.workers or execution.scheduler from the config.")
    if config["sites"]["enabled"]:
        _check_sites(config["sites"])


def _check_sites(sc: dict) -> None:
    """[sites]: a positive radius and an existing structure file (or none: density maxima); the other values are
    :data:`~ssefeat.config_rules.RULES`'."""
    r = sc["radius"]
    if isinstance(r, bool) or not isinstance(r, (int, float)) or not r > 0:
        raise ConfigError(f"sites.radius must be a positive length in Å, got {r!r}.",
                          fix="set sites.radius, e.g. 1.0 (below half the shortest site-site distance).")
    if sc["structure"] and not Path(sc["structure"]).exists():
        raise MissingFileError(f"sites.structure {sc['structure']} does not exist.",
                               fix="give a structure file ASE reads (relative to the configuration file), or leave "
                                   "it out to take the sites from the density.")


def _check_roles(config: dict, present: set, source: str) -> None:
    """The species roles the enabled stages use must exist in ``present`` (the species of ``source``)."""
    sp, dis = config["species"], config["disorder"]
    env_on = config["features"]["enabled"] and config["features"]["environment"]
    roles = {"mobile": [sp["mobile"]], "anion": [sp["anion"]] if env_on else [],
             "framework": sp["framework"] if env_on or (dis["enabled"] and dis["species"] == "framework") else []}
    if dis["enabled"] and isinstance(dis["species"], list):
        roles["disorder"] = dis["species"]
    for role, wanted in roles.items():
        missing = [s for s in wanted if s not in present]
        if missing:
            where = "disorder.species" if role == "disorder" else f"species.{role}"
            has = ", ".join(sorted(present)) if present else "no atoms"
            raise ConfigError(f"{where} names {missing}, which {source} does not have (its species: {has}).",
                              fix="fix [species] (or the type_map) so the roles match the trajectory; set "
                                  "features.environment = false for systems without anion clusters.")
    if config["features"]["enabled"]:
        params = _feature_parameters(config)
        missing = [s for s in params.neighbour_species if s not in present]
        if missing:
            raise ConfigError(f"features.parameters = \"{config['features']['parameters']}\" uses neighbour species "
                              f"{missing}, which {source} does not have (its species: {', '.join(sorted(present))}).",
                              fix="choose the parameter set of this system (features.parameters = \"kob_andersen\" "
                                  "for A/B model glasses) or a JSON parameter set naming its species.")


def _feature_parameters(config: dict):
    from .features.parameters import resolve

    name = str(config["features"]["parameters"])
    params = resolve(params=name) if Path(name).suffix == ".json" else resolve(system=name)
    return params.replace(centre=config["species"]["mobile"])


def _check_cutoffs(config: dict, first_frame, source: str) -> None:
    """Structure-function and environment cutoffs below half the cell width of the first frame."""
    if not config["features"]["enabled"] or "cell" not in first_frame:
        return
    from .box import check_cutoff

    cell = first_frame["cell"].values[0]
    fc = config["features"]
    checks = [(_feature_parameters(config).cutoff, "structure-function cutoff (features.parameters)")]
    if fc["environment"]:
        checks.append((fc["r_env"], "features.r_env"))
    for cutoff, what in checks:
        try:
            check_cutoff(cutoff, cell, what=what)
        except ParameterError as err:
            raise ConfigError(f"{source}: {err.what}", fix=err.fix) from None


def check_labels(lc: dict, first_frame=None) -> None:
    """Refuse an unknown labels.kind or parameters its label cannot use (the cutoff against the cell when the
    trajectory's first frame is given). The type and range of each value are :data:`~ssefeat.config_rules.RULES`'
    (checked by :func:`check_config` first)."""
    from .dynamics.labels import LABEL_KINDS, PIPELINE_KINDS

    kind = lc["kind"]
    if kind not in PIPELINE_KINDS:
        made = f" is made by `ssefeat labels` ({LABEL_KINDS[kind].description}) but" if kind in LABEL_KINDS else ""
        raise ConfigError(f"labels.kind {kind!r}{made} is not a label the pipeline computes.",
                          fix="use one of: " + "; ".join(f'"{k}" ({v.description})' for k, v in PIPELINE_KINDS.items())
                              + ".")
    if kind == "p_hop":
        return
    lag, window = lc["lag_frames"], lc["window_frames"]
    if kind == "d_cum" and window % lag:
        raise ConfigError(f"labels.window_frames ({window}) is not a multiple of labels.lag_frames ({lag}).",
                          fix=f"set labels.window_frames = {max(1, window // lag) * lag}.")
    cutoff = lc["cutoff"]
    if cutoff is None:
        raise ConfigError(f"labels.kind = \"{kind}\" needs labels.cutoff, the neighbour cutoff in Å "
                          f"(got {cutoff!r}).", fix="set labels.cutoff, e.g. 4.0 (near the first minimum of g(r)).")
    if first_frame is not None and "cell" in first_frame:
        from .box import check_cutoff

        try:
            check_cutoff(cutoff, first_frame["cell"].values[0], what="labels.cutoff")
        except ParameterError as err:
            raise ConfigError(err.what, fix=err.fix) from None


def section_hash(config: dict, *sections: str, extra=None) -> str:
    """A short stable hash of some sections of the configuration (decides whether a stage must be redone)."""
    payload = {s: config[s] for s in sections}
    payload["extra"] = extra
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
