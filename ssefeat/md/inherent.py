"""Inherent structures: every frame of a trajectory quenched to its local potential-energy minimum (FIRE).

The inherent structure of a configuration (Stillinger & Weber 1982) is the minimum reached by steepest descent
from it. Structural features computed on inherent structures instead of on the thermal configurations are free
of the vibrational noise around the basin (the convention of the softness literature: Cubuk et al., PRL 114,
108001 (2015); Schoenholz et al., Nat. Phys. 12, 469 (2016)); the dynamics (labels) still come from the thermal
trajectory.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError, SimulationError

__all__ = ["inherent_structures"]

#: per-frame / per-atom variables of a thermal trajectory that do not describe its quenched configuration
_THERMAL_VARIABLES = ("velocities", "forces", "potential_energy", "energy")


def _forcefield(system, forcefield, system_kwargs):
    from .forcefield import ForceField

    if (system is None) == (forcefield is None):
        raise ParameterError("give exactly one of system= (a registered MD system) or forcefield= (a ForceField).",
                             fix="e.g. inherent_structures(ds, system='kob_andersen').")
    if forcefield is not None:
        if not isinstance(forcefield, ForceField):
            raise ParameterError(f"forcefield must be a ssefeat.md.forcefield.ForceField, got "
                                 f"{type(forcefield).__name__}.",
                                 fix="build one, e.g. ssefeat.md.systems.kob_andersen.kob_andersen_forcefield().")
        return forcefield
    from .systems import get_system

    return get_system(system).forcefield(**dict(system_kwargs or {}))


def inherent_structures(ds: xr.Dataset, system: str | None = None, forcefield=None, system_kwargs: dict | None = None,
                        fmax: float | None = None, max_steps: int = 20000, require_converged: bool = True,
                        progress: bool = False) -> xr.Dataset:
    """Quench every frame of ``ds`` with FIRE at fixed cell; return a trajectory Dataset of the minima.

    Parameters
    ----------
    ds : trajectory Dataset with a cell, positions in the force field's length unit (sigma for ``kob_andersen``,
        Å for the metal-unit systems). Wrapped or unwrapped.
    system : name of a registered MD system (``ssefeat.md.systems``) whose force field to use, with
        ``system_kwargs`` (e.g. ``{"rc_sigma": 2.5}``); or
    forcefield : a :class:`~ssefeat.md.forcefield.ForceField` (exactly one of the two).
    fmax : convergence: largest force norm below this (energy / length units; default 1e-3 as in
        :func:`ssefeat.md.protocols.minimise`).
    max_steps : FIRE steps allowed per frame.
    require_converged : raise SimulationError when a frame does not reach ``fmax`` within ``max_steps``
        (otherwise its state is returned and flagged by ``inherent_converged``).

    Returns a Dataset with the frames, atoms, coordinates, cell and attributes of ``ds`` whose ``positions`` are
    the quenched ones (the input positions plus the quench displacement, so unwrapped input stays unwrapped),
    without the thermal variables (velocities, forces, per-atom and total energies), and with per-frame variables
    ``thermal_energy`` and ``inherent_energy`` (total potential energy before / after the quench, energy unit of
    the force field), ``inherent_fmax`` (largest force norm left), ``inherent_steps`` and ``inherent_converged``.
    Frames are independent, so it runs chunk by chunk.
    """
    from ..data import validate
    from ..provenance import stamp
    from .protocols import minimise
    from .simulation import Simulation

    validate(ds, require_cell=True)
    ff = _forcefield(system, forcefield, system_kwargs)
    if int(max_steps) < 1:
        raise ParameterError(f"max_steps must be positive, got {max_steps}.", fix="allow e.g. 20000 FIRE steps.")
    if fmax is not None and not (np.isfinite(fmax) and fmax > 0):
        raise ParameterError(f"fmax must be a positive number, got {fmax}.", fix="use e.g. fmax=1e-3.")
    positions = np.asarray(ds["positions"].values, dtype=np.float64)
    cells = np.asarray(ds["cell"].values, dtype=np.float64)
    species = np.asarray(ds["species"].values).astype(str)
    charges = np.asarray(ds["charge"].values, dtype=np.float64) if "charge" in ds.coords else None
    masses = None
    if ff.units != "lj" and "mass" in ds.coords:
        masses = np.asarray(ds["mass"].values, dtype=np.float64)
    n_frames = positions.shape[0]
    out = positions.copy()
    e_before, e_after, f_left = (np.empty(n_frames) for _ in range(3))
    steps = np.empty(n_frames, dtype=np.int64)
    converged = np.empty(n_frames, dtype=bool)
    for k in range(n_frames):
        sim = Simulation(positions[k], cells[k], species, ff, masses=masses, charges=charges, min_distance=0.0)
        e_before[k] = sim.potential_energy
        res = minimise(sim, fmax=fmax, max_steps=int(max_steps))
        if require_converged and not res["converged"]:
            raise SimulationError(
                f"frame {int(ds.frame[k])} did not reach fmax {fmax if fmax is not None else 1e-3} within "
                f"{max_steps} FIRE steps (largest force left {res['fmax']:.3g}).",
                fix="allow more steps (max_steps=...), loosen fmax, or pass require_converged=False to keep "
                    "unconverged frames (flagged by inherent_converged).")
        out[k] = positions[k] + (sim.positions - positions[k])
        e_after[k], f_left[k], steps[k], converged[k] = res["energy"], res["fmax"], res["steps"], res["converged"]
        if progress:
            print(f"inherent structure {k + 1}/{n_frames}: {res['steps']} FIRE steps, "
                  f"E {e_before[k]:.4g} -> {e_after[k]:.4g}", flush=True)
    if not (np.isfinite(out).all() and np.isfinite(e_after).all()):
        raise SimulationError("the quench produced non-finite positions or energies.",
                              fix="check the force field and that positions are in its length unit.")
    res_ds = ds.drop_vars([v for v in _THERMAL_VARIABLES if v in ds.data_vars]).copy()
    res_ds["positions"] = ds["positions"].copy(data=out)
    e_unit = "epsilon" if ff.units == "lj" else "eV"
    f_unit = "epsilon/sigma" if ff.units == "lj" else "eV/angstrom"
    res_ds["thermal_energy"] = ("frame", e_before, {"units": e_unit})
    res_ds["inherent_energy"] = ("frame", e_after, {"units": e_unit})
    res_ds["inherent_fmax"] = ("frame", f_left, {"units": f_unit})
    res_ds["inherent_steps"] = ("frame", steps)
    res_ds["inherent_converged"] = ("frame", converged)
    if ds.attrs.get("wrapped", -1) == 1:
        # quench displacements can carry an atom just outside the cell
        res_ds.attrs["wrapped"] = -1
    res_ds.attrs["source"] = f"inherent structures of ({ds.attrs.get('source', '?')})"
    return stamp(res_ds, parameters={"system": system, "system_kwargs": dict(system_kwargs or {}),
                                     "forcefield": None if forcefield is None else type(forcefield).__name__,
                                     "fmax": 1e-3 if fmax is None else float(fmax), "max_steps": int(max_steps),
                                     "method": "FIRE (ssefeat.md.protocols.minimise), fixed cell"},
                 analysis="ssefeat.md.inherent_structures")
