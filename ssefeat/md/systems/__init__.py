"""Ready-made MD systems and their registry (used by ``ssefeat simulate SYSTEM``).

A system is registered as a :class:`SystemSpec`: ``build(temperature=, seed=, n_atoms=, **kwargs) -> Simulation``
returns a ready (minimised, equilibrated) simulation and ``forcefield(**system_kwargs) -> ForceField`` rebuilds
its force field (used when restoring a saved state). To add one (e.g. in ``systems/lips_glass.py``)::

    from . import SystemSpec, register_system
    register_system(SystemSpec(name="lips_glass", build=lips_glass, forcefield=lips_forcefield, units="metal",
                               default_dt=0.001, default_temperature=600.0, description="Li2S-P2S5 glass"))

and add the module name to :func:`_import_systems` at the bottom of this file.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...errors import ParameterError

__all__ = ["SystemSpec", "SYSTEMS", "register_system", "get_system"]


@dataclass(frozen=True)
class SystemSpec:
    """A registered system.

    Attributes
    ----------
    name : str
    build : callable(temperature=..., seed=..., n_atoms=..., **kwargs) -> Simulation
    forcefield : callable(**system_kwargs) -> ForceField
    units : "metal" or "lj"
    default_dt : float, time step in the user time unit (ps or tau)
    default_temperature : float
    default_n_atoms : int
    description : str
    production : callable(temperature, dt, seed) -> integrator, optional; the default NVT integrator of
        ``ssefeat simulate`` (Nose-Hoover chain when None)
    species : the species names of its atoms (checked against the roles of a pipeline configuration)
    equilibrate : the builder's equilibration keyword, ``"equilibrate_steps"`` or ``"equilibrate_ps"``
    """

    name: str
    build: Callable
    forcefield: Callable
    units: str
    default_dt: float
    default_temperature: float
    default_n_atoms: int = 500
    description: str = ""
    production: Callable | None = None
    species: tuple[str, ...] = ()
    equilibrate: str = "equilibrate_ps"

    def equilibration(self, steps: int | None, dt: float) -> dict:
        """The builder keyword for ``steps`` equilibration steps of ``dt`` (``--equilibrate-steps``); {} for None."""
        if steps is None:
            return {}
        if isinstance(steps, bool) or int(steps) != steps or steps < 0:
            raise ParameterError(f"equilibrate_steps must be a whole number of steps >= 0, got {steps!r}.",
                                 fix="e.g. --equilibrate-steps 2000.")
        return {self.equilibrate: int(steps) if self.equilibrate == "equilibrate_steps" else int(steps) * float(dt)}


SYSTEMS: dict[str, SystemSpec] = {}


def register_system(spec: SystemSpec) -> SystemSpec:
    """Add (or replace) a system in the registry."""
    SYSTEMS[spec.name] = spec
    return spec


def get_system(name: str) -> SystemSpec:
    """The registered system ``name`` (``-`` and ``_`` are interchangeable); ParameterError listing the known ones."""
    key = name.replace("-", "_")
    if key not in SYSTEMS:
        raise ParameterError(f"unknown MD system {name!r}; known systems: {sorted(SYSTEMS)}.",
                             fix="pick one of the listed systems (ssefeat simulate --help).")
    return SYSTEMS[key]


def _import_systems() -> None:
    """Import every system module so that it registers itself (a module not written yet is skipped)."""
    import importlib

    for name in ("kob_andersen", "lips_glass", "glass_ceramic", "vacancy_crystal"):
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise


_import_systems()
