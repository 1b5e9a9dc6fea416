"""Antifluorite Li2S with Li vacancies: a simple crystalline Li conductor for site-hopping analyses.

S2- on fcc sites, Li+ in the tetrahedral holes (a = 5.70 Å), rigid-ion model ``params/li2s.json`` (Buckingham +
DSF Coulomb, formal charges). ``n_vacancies`` Li are removed at random (seeded); the missing charge is compensated
by a uniform shift of all S charges (-2 + n_vacancies / n_S), so the cell stays neutral and every remaining ion
keeps its identity. ``sim.info`` lists the Li sites (all 8 n_cells^3 tetrahedral holes), which of them were emptied,
and the lattice parameter, so hops between sites can be counted.
"""
from __future__ import annotations

import json

import numpy as np

from ...errors import ParameterError
from ..forcefield import ForceField
from ..simulation import Simulation
from . import SystemSpec, register_system
from ._building import antifluorite, ionic_term, load_parameters

__all__ = ["vacancy_crystal", "vacancy_forcefield"]


def vacancy_forcefield(params: str = "li2s", cutoff: float | None = None, skin: float = 1.0, **_ignored) -> ForceField:
    """Buckingham + DSF force field of the Li2S model (charges come with the Simulation)."""
    p = load_parameters(params)
    return ForceField([ionic_term(p, cutoff=cutoff)], skin=skin, units="metal", name=f"li2s:{params}")


def vacancy_crystal(n_cells: int | tuple = 3, n_vacancies: int = 2, temperature: float = 600.0, seed: int | None = 0,
                    *, a: float = 5.70, params: str = "li2s", dt: float = 0.001, equilibrate_ps: float = 2.0,
                    skin: float = 1.0, minimise: bool = True, progress: bool = False, n_atoms=None) -> Simulation:
    """Li2S antifluorite supercell (``n_cells``^3 conventional cells, 12 atoms each) with ``n_vacancies`` Li removed.

    Parameters
    ----------
    n_cells : int or (3,) ints; default 3 (108 S, 216 Li sites).
    n_vacancies : number of Li vacancies (0 <= n < number of Li).
    temperature : K; seed : vacancy choice, velocities, thermostat.
    a : lattice parameter Å (5.70, experiment; the model's static zero-pressure value).
    params : parameter set (default "li2s"). dt : ps. equilibrate_ps : Langevin equilibration at ``temperature``.
    n_atoms : optional target size; when given, ``n_cells`` is chosen as round((n_atoms / 12)^(1/3)).
    """
    from ..integrators import Langevin
    from ..protocols import minimise as _minimise

    if n_atoms is not None:
        n_cells = max(3, int(round((float(n_atoms) / 12.0) ** (1.0 / 3.0))))
    cells = np.broadcast_to(np.asarray(n_cells, dtype=int), (3,)).copy()
    if np.any(cells < 1):
        raise ParameterError(f"n_cells must be positive, got {n_cells}.",
                             fix="give n_cells >= 1 (one number or three).")
    if temperature < 0:
        raise ParameterError(f"temperature must be >= 0 K, got {temperature}.", fix="give temperature >= 0 K.")
    p = load_parameters(params)
    pos, species, cell = antifluorite(cells, a)
    species = np.array(species)
    li_sites = pos[species == "Li"].copy()
    n_li_sites = len(li_sites)
    n_vacancies = int(n_vacancies)
    if not (0 <= n_vacancies < n_li_sites):
        raise ParameterError(f"n_vacancies must be between 0 and {n_li_sites - 1}, got {n_vacancies}.",
                             fix=f"give 0 <= n_vacancies < {n_li_sites}, or a larger n_cells.")
    rng = np.random.default_rng(seed)
    vac = np.sort(rng.choice(n_li_sites, size=n_vacancies, replace=False)) if n_vacancies else np.zeros(0, int)
    keep_li = np.setdiff1d(np.arange(n_li_sites), vac)
    n_s = int((species == "S").sum())
    s_pos = pos[species == "S"]
    positions = np.vstack([s_pos, li_sites[keep_li]])
    species = np.array(["S"] * n_s + ["Li"] * len(keep_li))
    q_li = float(p["charges"]["Li"])
    q_s = float(p["charges"]["S"]) + n_vacancies * q_li / n_s
    charges = np.where(species == "Li", q_li, q_s)
    from ...box import perpendicular_widths

    half_width = 0.5 * perpendicular_widths(cell).min() - skin - 0.2
    rc = min(float(p["coulomb"]["cutoff"]), float(np.floor(half_width * 2) / 2))
    if rc < 6.0:
        raise ParameterError("the supercell is too small for the Li2S model.", fix="use n_cells >= 3.")
    ff = vacancy_forcefield(params, cutoff=rc, skin=skin)
    kwargs = {"params": params, "cutoff": rc, "skin": skin}
    sim = Simulation(positions, cell, species, ff, charges=charges, seed=seed, system="vacancy_crystal",
                     system_kwargs=kwargs)
    history = []
    if minimise:
        history.append(_minimise(sim, fmax=0.01, max_steps=500))
    if temperature > 0:
        sim.set_velocities(temperature)
        if equilibrate_ps > 0:
            n = max(1, int(round(equilibrate_ps / dt)))
            sim.run(n, Langevin(temperature, dt, damping=0.2), progress=progress, phase="equilibrate")
            history.append({"protocol": "equilibrate", "integrator": "langevin", "temperature": temperature,
                            "ps": equilibrate_ps})
    sim.step = 0
    sim.time = 0.0
    sim.info = {"system": "vacancy_crystal", "lattice_parameter_A": a, "n_cells": cells.tolist(),
                "li_sites": li_sites, "vacancy_sites": vac, "occupied_sites": keep_li,
                "n_vacancies": n_vacancies, "s_charge": q_s, "temperature_K": temperature, "history": history}
    sim.system_kwargs.update({"vacancy_sites": [int(v) for v in vac], "lattice_parameter": a,
                              "n_cells": cells.tolist()})
    sim.attrs = {"system": "vacancy_crystal", "lattice_parameter_angstrom": a, "n_vacancies": n_vacancies,
                 "li_sites_angstrom": json.dumps(np.round(li_sites, 6).tolist()),
                 "vacancy_sites": json.dumps([int(v) for v in vac])}
    return sim


def _build(temperature=None, seed=0, n_atoms=None, progress=False, **kw):
    if n_atoms is not None and "n_cells" not in kw:
        kw["n_atoms"] = n_atoms
    return vacancy_crystal(temperature=600.0 if temperature is None else temperature, seed=seed, progress=progress,
                           **kw)


register_system(SystemSpec(name="vacancy_crystal", build=_build, forcefield=vacancy_forcefield, units="metal",
                           species=("Li", "S"), default_dt=0.001, default_temperature=600.0, default_n_atoms=322,
                           description="antifluorite Li2S (a = 5.70 Å) with Li vacancies, rigid ions + DSF"))
