"""The MD runs of a glass study: one melt-quenched glass per composition, production at each temperature.

Each glass of the series (:mod:`ssefeat.md.systems.lips_composition`) is made once by melt-quench
(:func:`~ssefeat.md.systems.lips_glass.lips_glass` at the lowest temperature), so that every temperature of a glass
samples the same glass; each temperature then gets ``equilibrate_ps`` of Langevin from fresh velocities and
``production_ps`` of Nose-Hoover NVT written to ``<folder>/<glass>_<T>K.nc`` (atomically; an existing file is
reused when its recorded inputs are the same, and never overwritten: OutputError otherwise). A :class:`GlassRun`
records one file with its glass, composition and temperature; user trajectories become GlassRuns with
:func:`runs_from_files`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MissingFileError, OutputError, ParameterError

__all__ = ["GlassRun", "simulate_series", "runs_from_files"]


@dataclass
class GlassRun:
    """One trajectory of a glass study: ``glass`` (name), ``temperature_K``, ``path`` (netCDF or any ssefeat
    format), ``counts`` (anion counts {PS4, P2S7, P2S6}), and for built glasses ``system_kwargs`` (the force
    field's topology, for NEB barriers)."""

    glass: str
    temperature_K: float
    path: str
    counts: dict
    system_kwargs: dict = field(default_factory=dict)


def runs_from_files(files: dict) -> list[GlassRun]:
    """GlassRuns of the user's trajectories: ``{glass: {"counts": {...}, "files": {T_K: path, ...}}}``."""
    out = []
    for glass, spec in files.items():
        if "counts" not in spec or "files" not in spec:
            raise ParameterError(f"glass {glass!r} needs 'counts' (anion counts) and 'files' ({{T: path}}).",
                                 fix=f"give glass {glass!r} as {{'counts': {{...}}, 'files': {{T: path}}}}.")
        for temp, path in spec["files"].items():
            if not Path(path).exists():
                raise MissingFileError(f"trajectory {path} of glass {glass!r} does not exist.",
                                       fix="check the path in the glass's files, or run the glass first.")
            out.append(GlassRun(str(glass), float(temp), str(path), dict(spec["counts"])))
    return out


def simulate_series(folder, series: list[dict], temperatures=(600.0, 700.0, 800.0), *, production_ps: float = 50.0,
                    dump_ps: float = 0.1, equilibrate_ps: float = 5.0, seed: int = 0, dt: float = 0.001,
                    progress: bool = False, build: dict | None = None) -> list[GlassRun]:
    """Make and run every glass of ``series`` (entries of :func:`~ssefeat.md.systems.lips_composition.
    series_counts`) at every temperature (K); returns the GlassRuns (``build``: keyword arguments of
    :func:`~ssefeat.md.systems.lips_glass.lips_glass`, e.g. the melt-quench times)."""
    import netCDF4

    from ..md.integrators import Langevin, NoseHooverChain
    from ..md.protocols import Production, run_protocol
    from ..md.systems.lips_glass import lips_glass
    from ..md.writer import TrajectoryWriter

    build = dict(build or {})

    temps = sorted(float(t) for t in temperatures)
    if not temps or min(temps) <= 0:
        raise ParameterError(f"temperatures must be positive, got {list(temperatures)}.",
                             fix="give at least one temperature > 0 K.")
    if production_ps <= 0 or dump_ps <= 0 or dump_ps < dt:
        raise ParameterError("production_ps and dump_ps must be positive, dump_ps at least dt.",
                             fix="give production_ps > 0 and dump_ps >= dt > 0.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dump = max(1, int(round(dump_ps / dt)))
    steps = int(round(production_ps / dt / dump)) * dump
    runs = []
    for k, entry in enumerate(series):
        glass_seed = seed + 1000 * k
        tag = {"glass": entry["name"], "counts": entry["counts"], "seed": glass_seed, "production_ps": production_ps,
               "dump_ps": dump_ps, "equilibrate_ps": equilibrate_ps, "dt": dt, "build": build}
        paths = {t: folder / f"{entry['name']}_{t:g}K.nc" for t in temps}
        sim = None
        for t in temps:
            path = paths[t]
            if path.exists():  # kept when made with these inputs (its study_inputs attr), else refused
                with netCDF4.Dataset(path) as nc:
                    stored, made = getattr(nc, "study_inputs", None), getattr(nc, "parameters", "{}") or "{}"
                if stored != json.dumps({**tag, "T": t}):
                    raise OutputError(f"{path} exists and was made with other inputs; it is not overwritten.",
                                      fix="use another folder, or delete the file to remake it.")
                kwargs = dict(json.loads(made).get("system_kwargs", {}))
                runs.append(GlassRun(entry["name"], t, str(path), dict(entry["counts"]), kwargs))
                continue
            if sim is None:
                sim = lips_glass(counts=entry["counts"], temperature=temps[0], seed=glass_seed, dt=dt,
                                 progress=progress, **build)
            run = sim.copy()
            run.set_velocities(t, seed=glass_seed + int(t))
            run.run(max(1, int(round(equilibrate_ps / dt))), Langevin(t, dt, damping=0.5), progress=progress)
            run.step, run.time = 0, 0.0
            attrs = {"temperature_K": t, "glass": entry["name"], "study_inputs": json.dumps({**tag, "T": t})}
            with TrajectoryWriter(path, run, attrs=attrs, overwrite=False,
                                  parameters={"function": "ssefeat.study.simulate_series"}) as writer:
                run_protocol(run, [Production(NoseHooverChain(t, dt), steps, dump_every=dump)], writer=writer,
                             progress=progress)
            runs.append(GlassRun(entry["name"], t, str(path), dict(entry["counts"]), dict(run.system_kwargs)))
    return runs
