"""Li2S-P2S5 (LiPS) glass made by melt-quench with the rigid-ion thiophosphate model (``params/lips.json``).

The glass holds Li+ and intact PS4(3-), P2S7(4-) and P2S6(4-) anions in chosen numbers. The default unit
2 PS4 : 5 P2S7 : 1 P2S6 (+ 30 Li, 93 atoms) is the composition LiP(0.467)S(1.633) of the thesis' LiPS glasses
(LiP(x)S(y), x = 0.465, y = 1.605-1.651; seeds/003 ch. 5.1), i.e. close to 70Li2S-30P2S5; ``n_atoms`` picks how many
units. Protocol (physical units, all in the returned ``sim.info["history"]``):

1. random packing of the rigid anions (random orientations) and Li at ``pack_density`` (g/cm^3), no overlaps;
2. FIRE minimisation; compression to ``density`` by isotropic box scaling (anion centres scaled, anions rigid)
   with short Langevin runs at ``melt_temperature`` between steps;
3. melt: NPT (Langevin + stochastic cell rescaling, P = ``pressure``) at ``melt_temperature`` for ``melt_ps``;
4. quench: NPT ramp to ``temperature`` at ``quench_rate`` K/ps;
5. anneal: NPT at ``temperature`` for ``anneal_ps``; the cell is then set to the mean volume of the second half of
   the anneal and the glass is equilibrated at ``temperature`` (NVT Langevin) for ``equilibrate_ps``.

The returned :class:`~ssefeat.md.simulation.Simulation` is ready for production (step and time reset to 0);
``sim.info`` holds the anion counts, density (g/cm^3) and the protocol summaries; ``sim.attrs`` the same as
netCDF-ready attrs (``TrajectoryWriter(path, sim, attrs=sim.attrs)``).
"""
from __future__ import annotations

import json
import math

import numpy as np

from ...errors import ParameterError
from ..simulation import Simulation
from . import SystemSpec, register_system
from .lips_composition import CompositionError, formula_counts, formula_of
from ._building import (ANION_KINDS, build_topology, cubic_cell_for_density, density_g_cm3, load_parameters,
                        make_forcefield, pack)

__all__ = ["lips_glass", "lips_forcefield", "anion_counts", "DEFAULT_UNIT", "SIZES"]

#: Anions per composition unit (with 30 Li: 93 atoms).
DEFAULT_UNIT = {"PS4": 2, "P2S7": 5, "P2S6": 1}
#: Named sizes (number of default units): small 279 atoms, medium 558, large 1116, xlarge 2976.
SIZES = {"small": 3, "medium": 6, "large": 12, "xlarge": 32}
_ANION_ATOMS = {"PS4": 5, "P2S7": 9, "P2S6": 8}
_ANION_LI = {"PS4": 3, "P2S7": 4, "P2S6": 4}


def anion_counts(n_atoms=None, composition: dict | None = None, counts: dict | None = None) -> dict:
    """Number of each anion: ``counts`` as given, else ``composition`` (anion ratio, default 2:5:1 of
    PS4:P2S7:P2S6) times the number of units closest to ``n_atoms`` (an int or a name in :data:`SIZES`)."""
    if counts is not None:
        out = {k: int(counts.get(k, 0)) for k in ANION_KINDS}
        unknown = set(counts) - set(ANION_KINDS)
        if unknown:
            raise ParameterError(f"unknown anion(s) {sorted(unknown)}.", fix=f"use {ANION_KINDS}.")
    else:
        comp = dict(DEFAULT_UNIT if composition is None else composition)
        unknown = set(comp) - set(ANION_KINDS)
        if unknown:
            raise ParameterError(f"unknown anion(s) {sorted(unknown)} in composition.", fix=f"use {ANION_KINDS}.")
        per_unit = sum(v * (_ANION_ATOMS[k] + _ANION_LI[k]) for k, v in comp.items())
        if per_unit <= 0:
            raise ParameterError("the composition has no anions.",
                                 fix="give a composition with at least one anion count > 0.")
        if n_atoms is None:
            n_atoms = "medium"
        if isinstance(n_atoms, str):
            if n_atoms not in SIZES:
                raise ParameterError(f"unknown size {n_atoms!r}.", fix=f"use one of {sorted(SIZES)} or a number.")
            units = SIZES[n_atoms]
        else:
            units = max(1, int(round(float(n_atoms) / per_unit)))
        exact = {k: float(comp.get(k, 0)) * units for k in ANION_KINDS}
        out = {k: int(round(v)) for k, v in exact.items()}
        if any(abs(v - out[k]) > 1e-6 for k, v in exact.items()):
            raise CompositionError(f"the composition {comp} times {units} units is not whole anions ({exact}).",
                                   fix="give the ratio in whole numbers, exact counts (counts=), or formula=(x, y).")
    if any(v < 0 for v in out.values()) or sum(out.values()) == 0:
        raise ParameterError(f"anion counts must be >= 0 and not all zero, got {out}.",
                             fix="give anion counts >= 0 with at least one > 0.")
    return out


def _anion_list(counts: dict) -> list:
    # largest anions first: random packing places the hard ones while there is room
    return ["P2S7"] * counts["P2S7"] + ["P2S6"] * counts["P2S6"] + ["PS4"] * counts["PS4"]


def _cutoffs(cell: np.ndarray, params: dict, skin: float, cutoff: float | None):
    """DSF / Buckingham cutoffs that fit the box (R <= 10 Å, below half the smallest width minus the skin)."""
    from ...box import perpendicular_widths

    half = 0.5 * float(perpendicular_widths(cell).min())
    rc = float(params["coulomb"]["cutoff"]) if cutoff is None else float(cutoff)
    rc = min(rc, math.floor((half - skin - 0.4) * 2) / 2)
    if rc < 6.0:
        raise ParameterError(f"the box (half width {half:.3g} Å) is too small for the ionic model (cutoff >= 6 Å).",
                             fix="use more atoms (n_atoms >= 200).")
    brc = min(float(params["buckingham"].get("cutoff", rc)), rc)
    return rc, brc


def lips_forcefield(anions=None, n_li: int = 0, params: str = "lips", cutoff: float = 10.0,
                    buck_cutoff: float | None = None, skin: float = 1.0, **_ignored):
    """The force field of a LiPS system from its stored topology (anion kinds in atom order, number of Li)."""
    p = load_parameters(params)
    topo, _ = build_topology(list(anions or []), int(n_li), p)
    return make_forcefield(topo, p, cutoff=cutoff, buck_cutoff=buck_cutoff, skin=skin, name=f"lips:{params}")


def _molecule_scale(sim, topo, factor: float) -> None:
    """Scale the cell by ``factor``; anions move rigidly with their first atom's image-consistent centre."""
    pos = sim.positions
    inv = np.linalg.inv(sim.cell)
    mol = topo.molecule
    new = pos * factor
    for m in np.unique(mol[mol >= 0]):
        idx = np.flatnonzero(mol == m)
        ref = pos[idx[0]]
        d = pos[idx] - ref
        s = d @ inv
        d = (s - np.floor(s + 0.5)) @ sim.cell
        centre = ref + d.mean(axis=0)
        new[idx] = centre * factor + d - d.mean(axis=0)
    sim.positions = new
    sim.cell = sim.cell * factor
    sim.compute_forces()


def lips_glass(n_atoms=None, temperature: float = 600.0, seed: int | None = 0, *, composition: dict | None = None,
               counts: dict | None = None, formula: tuple | None = None, n_li: int | None = None,
               params: str = "lips", density: float = 1.85, pack_density: float = 1.0,
               melt_temperature: float = 1500.0, melt_ps: float = 5.0, quench_rate: float = 100.0,
               anneal_ps: float = 5.0, equilibrate_ps: float = 2.0, pressure: float = 0.0, dt: float = 0.001,
               cutoff: float | None = None, skin: float = 1.0, compress_steps: int = 8,
               compress_ps: float = 0.2, progress: bool = False) -> Simulation:
    """A Li2S-P2S5 glass (or melt, above its glass transition) at ``temperature`` K, made by melt-quench.

    Parameters
    ----------
    n_atoms : int or "small" / "medium" / "large" / "xlarge"
        Approximate size (whole composition units are used); default "medium" (558 atoms).
    temperature : float, K; quench end point, anneal and returned temperature.
    seed : int; packing, velocities and thermostats.
    composition : dict, anion ratio, e.g. ``{"PS4": 2, "P2S7": 5, "P2S6": 1}`` (default); Li makes it neutral.
    counts : dict, exact anion numbers (overrides ``composition`` and ``n_atoms``).
    formula, n_li : (x, y) of LiP(x)S(y) made with exactly ``n_li`` Li (overrides the three above; whole anion counts
        by :func:`~ssefeat.md.systems.lips_composition.formula_counts`, CompositionError if not resolvable).
    params : parameter set name in ``ssefeat/md/params`` (default "lips") or a JSON path.
    density : g/cm^3 reached by box scaling before the melt (the NPT melt / quench then sets the model's own).
    pack_density : g/cm^3 of the random packing.
    melt_temperature : K; melt_ps : ps; quench_rate : K/ps; anneal_ps, equilibrate_ps : ps.
    pressure : eV/Å^3 for the NPT stages (0 = ambient to within 1 bar ~ 6e-7 eV/Å^3).
    dt : ps (default 1 fs). cutoff : DSF cutoff Å (default 10, reduced to fit small boxes). skin : Verlet skin Å.
    """
    from ..cell_integrators import NPT
    from ..integrators import Langevin
    from ..protocols import minimise

    if temperature <= 0 or melt_temperature <= 0 or quench_rate <= 0:
        raise ParameterError("temperatures and the quench rate must be positive.",
                             fix="give temperature, melt_temperature (K) and quench_rate (K/ps) > 0.")
    if not (0 < pack_density <= density):
        raise ParameterError(f"pack_density ({pack_density}) must be positive and at most density ({density}).",
                             fix="give 0 < pack_density <= density (g/cm^3), or leave the default.")
    p = load_parameters(params)
    if formula is not None:
        if n_li is None:
            raise CompositionError("formula=(x, y) needs n_li, the number of Li.", fix="pass n_li=...")
        counts = formula_counts(formula[0], formula[1], n_li)
    elif n_li is not None:
        raise CompositionError("n_li is only used with formula=(x, y).", fix="pass formula= or drop n_li.")
    cnt = anion_counts(n_atoms, composition, counts)
    anions = _anion_list(cnt)
    n_li = sum(_ANION_LI[k] * v for k, v in cnt.items())  # neutral: Li+ balance the anions exactly
    topo, temps = build_topology(anions, n_li, p)
    rng = np.random.default_rng(seed)
    cell = cubic_cell_for_density(topo.species, pack_density)
    pos = pack(topo, temps, cell, rng)
    final_cell = cubic_cell_for_density(topo.species, density)
    rc, brc = _cutoffs(final_cell * 0.97, p, skin, cutoff)  # room for NPT fluctuations
    ff = make_forcefield(topo, p, cutoff=rc, buck_cutoff=brc, skin=skin, name=f"lips:{params}")
    kwargs = {"anions": anions, "n_li": n_li, "params": params, "cutoff": rc, "buck_cutoff": brc, "skin": skin}
    sim = Simulation(pos, cell, topo.species, ff, charges=topo.charges, seed=seed, system="lips_glass",
                     system_kwargs=kwargs)
    history = [minimise(sim, fmax=0.1, max_steps=300)]
    sim.set_velocities(melt_temperature)
    steps = max(1, int(round(compress_ps / dt)))
    factor = (pack_density / density) ** (1.0 / 3.0 / max(1, compress_steps))
    hot = Langevin(melt_temperature, dt, damping=0.05)
    for _ in range(max(1, compress_steps)):
        _molecule_scale(sim, topo, factor)
        sim.run(steps, hot, progress=False)
    history.append({"protocol": "compress", "density": density_g_cm3(topo.species, sim.cell),
                    "stages": compress_steps, "ps_per_stage": compress_ps, "temperature": melt_temperature})

    def npt(t0, t1, ps, name):
        n = max(1, int(round(ps / dt)))
        integ = NPT(t0, pressure, dt, damping=0.1, tau_p=1.0, temperature_end=t1)
        vols = []
        sim.run(n, integ, progress=progress, check_every=10, phase=name,
                callback=lambda s: vols.append(s.volume))
        history.append({"protocol": name, "integrator": integ.name, "t_start": t0, "t_end": t1, "ps": ps,
                        "steps": n, "pressure": pressure,
                        "density": density_g_cm3(topo.species, sim.cell), "temperature": sim.temperature})
        return np.array(vols)

    npt(melt_temperature, melt_temperature, melt_ps, "melt")
    if melt_temperature != temperature:
        npt(melt_temperature, temperature, abs(melt_temperature - temperature) / quench_rate, "quench")
    vols = npt(temperature, temperature, anneal_ps, "anneal")
    if len(vols) >= 2:
        target = float(np.mean(vols[len(vols) // 2:]))
        f = (target / sim.volume) ** (1.0 / 3.0)
        sim.positions = sim.positions * f
        sim.cell = sim.cell * f
        sim.compute_forces()
    if equilibrate_ps > 0:
        n = max(1, int(round(equilibrate_ps / dt)))
        sim.run(n, Langevin(temperature, dt, damping=0.5), progress=progress, phase="equilibrate")
    rho = density_g_cm3(topo.species, sim.cell)
    history.append({"protocol": "equilibrate", "integrator": "langevin", "temperature": temperature,
                    "ps": equilibrate_ps, "density": rho})
    sim.step = 0
    sim.time = 0.0
    x_built, y_built, _ = formula_of(cnt)
    sim.info = {"system": "lips_glass", "anion_counts": cnt, "n_li": n_li, "formula": (x_built, y_built),
                "density_g_cm3": rho,
                "quench_rate_K_per_ps": quench_rate, "melt_temperature_K": melt_temperature,
                "temperature_K": temperature, "parameters": params, "history": history,
                "molecule": topo.molecule}
    sim.attrs = {"system": "lips_glass", "anion_counts": json.dumps(cnt), "formula": f"LiP{x_built:.4f}S{y_built:.4f}",
                 "density_g_cm3": float(rho),
                 "quench_rate_K_per_ps": float(quench_rate), "parameter_set": params}
    return sim


def _build(temperature=None, seed=0, n_atoms=None, progress=False, **kw):
    return lips_glass(n_atoms=n_atoms, temperature=600.0 if temperature is None else temperature, seed=seed,
                      progress=progress, **kw)


register_system(SystemSpec(name="lips_glass", build=_build, forcefield=lips_forcefield, units="metal",
                           species=("Li", "P", "S"), default_dt=0.001, default_temperature=600.0, default_n_atoms=558,
                           description="Li2S-P2S5 glass (Li+, PS4, P2S7, P2S6; Buckingham + DSF Coulomb, bonded "
                                       "anions), melt-quenched"))
