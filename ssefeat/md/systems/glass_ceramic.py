"""Glass-ceramic: a crystalline Li3PS4-like slab in contact with LiPS glass along one axis.

The crystal is a *simplified ordered* Li3PS4 (documented stand-in for beta/gamma-Li3PS4): PS4 tetrahedra on an fcc
lattice (S4 axes along z) with Li in all tetrahedral and octahedral holes (the BiF3 / Li3Bi arrangement, 4 Li3PS4
per cubic cell of a = 8.62 Å, density 1.87 g/cm^3), relaxed with the force field at fixed lattice parameter. The
glass (default: the same Li3PS4 chemistry, PS4 + Li; any anion mix can be asked) is packed at low density in its own
slab, compressed along the stacking axis (anions rigid), stacked on the crystal, then melted and quenched while the
crystal atoms are held by harmonic tethers to their lattice sites. The tethers are then removed and the whole box is
equilibrated at ``temperature`` (NVT: the cross-section is fixed by the crystal).

``sim.info`` records ``crystal_atoms`` (indices of the atoms built as crystal), ``region`` (per atom "crystal" /
"glass"), ``axis`` (0/1/2), the slab bounds ``crystal_range`` = [0, h_c] and ``glass_range`` = [h_c, L] (Å along
the axis, in the cell frame, origin at the cell origin), ``interfaces`` = [h_c, 0] (Å, crystal -> glass and glass
-> crystal going up the axis) and ``crystal_sites`` (the lattice positions the crystal was built on).

Where the interfaces are: the crystal is ``crystal_cells`` whole cubic cells, PS4 planes at a/4 + k a/2, each
owning a/4 on either side, so its own slab is [0, h_c] (its S span [a/4 - 1.2, h_c - a/4 + 1.2] Å; the Li plane
at h_c is its top face). The glass holds the atoms of ``glass_density`` in the whole remaining slab [h_c, L]: it is
packed with a ``gap`` of empty space on either side only to avoid overlaps, and the melt closes the gaps. (Earlier
versions recorded the interfaces midway in those gaps, at h_c + gap / 2 and L - gap / 2, 0.75 Å into the glass on
either side. After the melt-quench the crystal-tagged atoms fall to half the atoms at 17.12 / -0.12 Å for P + S and
17.86 / 0.37 Å for all atoms, h_c = 17.24 Å, averaged over 10 ps at 600 K, seed 0.) ``glass_packed_range`` is the
region the glass anions were packed into. The same geometry is in ``sim.system_kwargs``
(hence in ``attrs["parameters"]`` of every trajectory the engine writes) and, as netCDF-ready attrs, in
``sim.attrs`` (pass ``attrs=sim.attrs`` to the trajectory writer).
"""
from __future__ import annotations

import json

import numpy as np

from ...errors import ParameterError
from ..bonded import HarmonicTether
from ..cell_integrators import _AXES
from ..simulation import Simulation
from . import SystemSpec, register_system
from ._building import (ANION_KINDS, anion_template, build_topology, density_g_cm3, li3ps4_bif3_cell,
                        load_parameters, make_forcefield, mass_of, pack)
from .lips_glass import _ANION_LI, _anion_list, lips_forcefield

__all__ = ["glass_ceramic", "crystal_slab"]


def crystal_slab(n_cells=(2, 2, 2), a: float = 8.62, params: str = "lips"):
    """Positions (Å), anion kinds and number of Li of the ordered Li3PS4 supercell (anions first, then Li)."""
    p = load_parameters(params)
    kinds, anion_pos, li_pos, cell = li3ps4_bif3_cell(a, p)
    n = np.asarray(n_cells, dtype=int)
    shifts = np.array([[i, j, k] for i in range(n[0]) for j in range(n[1]) for k in range(n[2])], dtype=float) * a
    anions = np.concatenate([anion_pos + s for s in shifts])
    lis = np.concatenate([li_pos + s for s in shifts])
    return np.vstack([anions, lis]), kinds * len(shifts), len(lis), np.diag(n * a).astype(float)


def _squeeze(sim, topo, glass_mask, ax: int, base: float, factor: float) -> None:
    """Scale the stacking-axis length of the glass part by ``factor`` above ``base`` (anions move rigidly)."""
    pos = sim.positions
    new = pos.copy()
    length = sim.cell[ax, ax]
    mol = topo.molecule
    for m in np.unique(mol[glass_mask & (mol >= 0)]):
        idx = np.flatnonzero(mol == m)
        d = pos[idx, ax] - pos[idx[0], ax]
        d -= length * np.floor(d / length + 0.5)
        centre = pos[idx[0], ax] + d.mean()
        new[idx, ax] = base + (centre - base) * factor + d - d.mean()
    li = glass_mask & (mol < 0)
    new[li, ax] = base + (pos[li, ax] - base) * factor
    sim.positions = new
    sim.cell = sim.cell.copy()
    sim.cell[ax, ax] = base + (length - base) * factor
    sim.compute_forces()


def glass_ceramic(n_cells=(2, 2), crystal_cells: int = 2, glass_cells: int = 2, temperature: float = 600.0,
                  seed: int | None = 0, *, axis="z", glass_composition: dict | None = None, a: float = 8.62,
                  glass_density: float = 1.80, pack_density: float = 0.7, params: str = "lips", gap: float = 1.5,
                  tether_k: float = 5.0,
                  melt_temperature: float = 1500.0, melt_ps: float = 5.0, quench_rate: float = 100.0,
                  equilibrate_ps: float = 3.0, dt: float = 0.001, skin: float = 1.0, progress: bool = False,
                  n_atoms=None) -> Simulation:
    """A crystal | glass sandwich (periodic: two interfaces) at ``temperature`` K.

    Parameters
    ----------
    n_cells : (2,) ints, crystal cells across the interface plane (default 2 x 2, 17.2 Å).
    crystal_cells, glass_cells : slab thicknesses in cubic cells (8.62 Å) along ``axis``.
    axis : "x", "y" or "z", the stacking axis.
    glass_composition : anion ratio of the glass (default {"PS4": 1}: Li3PS4 glass, the crystal's chemistry).
    glass_density : g/cm^3 of the glass slab; pack_density : g/cm^3 of its random packing before the squeeze.
    tether_k : eV/Å^2 of the crystal tethers during melt and quench.
    melt_temperature, melt_ps, quench_rate (K/ps), equilibrate_ps : the protocol of the glass part.
    n_atoms : optional; when given, ``glass_cells = crystal_cells`` and ``n_cells`` are chosen to come near it.
    """
    from ..integrators import Langevin
    from ..protocols import minimise

    ax = _AXES.get(axis)
    if ax is None:
        raise ParameterError(f"axis must be x, y or z, got {axis!r}.", fix="use axis='x', 'y' or 'z'.")
    if n_atoms is not None:
        per_cell = 32
        total_cells = max(8, int(round(float(n_atoms) / per_cell)))
        side = max(2, int(round((total_cells / 4) ** 0.5)))
        n_cells = (side, side)
        crystal_cells = glass_cells = max(1, int(round(total_cells / (2 * side * side))))
    lateral = np.broadcast_to(np.asarray(n_cells, dtype=int), (2,))
    if np.any(lateral < 2) or crystal_cells < 1 or glass_cells < 1:
        raise ParameterError("need at least 2 x 2 cells across and 1 cell of crystal and of glass.",
                             fix="use n_cells >= 2 across and crystal_cells >= 1, glass_cells >= 1.")
    p = load_parameters(params)
    comp = {"PS4": 1} if glass_composition is None else dict(glass_composition)
    if set(comp) - set(ANION_KINDS):
        raise ParameterError(f"unknown anion(s) in glass_composition: {sorted(set(comp) - set(ANION_KINDS))}.",
                             fix=f"use anions from {sorted(ANION_KINDS)} in glass_composition.")
    rng = np.random.default_rng(seed)

    # crystal, built with the stacking axis as z and permuted at the end
    cr_pos, cr_anions, cr_li, cr_cell = crystal_slab((lateral[0], lateral[1], crystal_cells), a, params)
    cr_pos[:, 2] += 0.25 * a  # PS4 planes at a/4 + k a/2: the slab's S span [a/4 - 1.2, h_c - a/4 + 1.2] Å
    h_c = crystal_cells * a
    # glass: how many anions fit the slab at glass_density
    h_g = glass_cells * a
    area = lateral[0] * lateral[1] * a * a
    unit_species = []
    for k, v in comp.items():
        unit_species += anion_template(k, p).species * v + ["Li"] * (_ANION_LI[k] * v)
    unit_mass = mass_of(unit_species)
    from ...units import AMU_PER_ANGSTROM3_TO_G_PER_CM3

    n_units = max(1, int(round(glass_density * area * h_g / (unit_mass * AMU_PER_ANGSTROM3_TO_G_PER_CM3))))
    g_counts = {k: comp.get(k, 0) * n_units for k in ANION_KINDS}
    g_anions = _anion_list(g_counts)
    g_li = sum(_ANION_LI[k] * v for k, v in g_counts.items())

    anions = cr_anions + g_anions
    topo, temps = build_topology(anions, cr_li + g_li, p)
    n_cr_anion_atoms = 5 * len(cr_anions)
    n_g_anion_atoms = topo.n_atoms - n_cr_anion_atoms - cr_li - g_li
    # atom order: crystal anions, glass anions, crystal Li, glass Li
    idx_cr = np.r_[0:n_cr_anion_atoms, n_cr_anion_atoms + n_g_anion_atoms:n_cr_anion_atoms + n_g_anion_atoms + cr_li]
    idx_g = np.setdiff1d(np.arange(topo.n_atoms), idx_cr)

    # the glass is packed at pack_density in a tall slab on top of the crystal, then squeezed along z in stages
    # (anion centres and Li scaled, anions rigid, crystal tethered) with short hot Langevin runs in between
    h_pack = h_g * glass_density / pack_density
    cell = np.diag([lateral[0] * a, lateral[1] * a, h_c + h_pack + 2 * gap])
    length = h_c + h_g  # final box length along the stacking axis
    lo = (h_c + gap + 2.3) / cell[2, 2]
    hi = (h_c + gap + h_pack - 2.3) / cell[2, 2]
    g_topo, g_temps = build_topology(g_anions, g_li, p)
    g_pos = pack(g_topo, g_temps, cell, rng, fixed_positions=cr_pos, region=lambda f: lo <= f[2] <= hi)
    pos = np.zeros((topo.n_atoms, 3))
    pos[idx_cr] = cr_pos
    pos[idx_g] = g_pos
    # permute so that the stacking axis is ``ax``
    perm = {2: [0, 1, 2], 0: [2, 0, 1], 1: [1, 2, 0]}[ax]
    pos = pos[:, perm]
    cell = np.diag(np.diag(cell)[perm])

    from ...box import perpendicular_widths

    half = 0.5 * float(perpendicular_widths(cell).min())
    rc = min(float(p["coulomb"]["cutoff"]), float(np.floor((half - skin - 0.1) * 2) / 2))
    if rc < 6.0:
        raise ParameterError("the glass-ceramic box is too thin for the ionic model.", fix="use more cells.")
    brc = min(float(p["buckingham"].get("cutoff", rc)), rc)
    tether = HarmonicTether(idx_cr, pos[idx_cr], tether_k)
    ff_hold = make_forcefield(topo, p, cutoff=rc, buck_cutoff=brc, skin=skin, extra_terms=[tether],
                              name=f"lips:{params}+tether")
    sim = Simulation(pos, cell, topo.species, ff_hold, charges=topo.charges, seed=seed, min_distance=0.0)
    history = [minimise(sim, fmax=0.1, max_steps=300)]
    sim.set_velocities(melt_temperature)
    hot = Langevin(melt_temperature, dt, damping=0.05)
    n_stage = 10
    factor = ((length - h_c - gap) / (sim.cell[ax, ax] - h_c - gap)) ** (1.0 / n_stage)
    glass_mask = np.zeros(topo.n_atoms, bool)
    glass_mask[idx_g] = True
    for _ in range(n_stage):
        _squeeze(sim, topo, glass_mask, ax, h_c + gap, factor)
        sim.run(max(1, int(round(0.1 / dt))), hot, progress=False)
    history.append({"protocol": "squeeze glass slab (crystal tethered)", "stages": n_stage,
                    "glass_density": glass_density, "temperature": melt_temperature})
    # the crystal is tethered, so a Langevin thermostat keeps it cold enough; the glass melts
    n_melt = max(1, int(round(melt_ps / dt)))
    sim.run(n_melt, Langevin(melt_temperature, dt, damping=0.1), progress=progress, phase="melt")
    history.append({"protocol": "melt (crystal tethered)", "temperature": melt_temperature, "ps": melt_ps,
                    "tether_k": tether_k})
    quench_ps = abs(melt_temperature - temperature) / quench_rate
    n_q = max(1, int(round(quench_ps / dt)))
    sim.run(n_q, Langevin(melt_temperature, dt, damping=0.1, temperature_end=temperature), progress=progress,
            phase="quench")
    history.append({"protocol": "quench (crystal tethered)", "t_start": melt_temperature, "t_end": temperature,
                    "rate_K_per_ps": quench_rate})
    # release the crystal
    kwargs = {"anions": anions, "n_li": cr_li + g_li, "params": params, "cutoff": rc, "buck_cutoff": brc,
              "skin": skin}
    ff = lips_forcefield(**kwargs)
    free = Simulation(sim.positions, sim.cell, topo.species, ff, charges=topo.charges,
                      velocities=sim.velocities_user(), seed=seed, system="glass_ceramic", system_kwargs=kwargs,
                      min_distance=0.0)
    if equilibrate_ps > 0:
        n = max(1, int(round(equilibrate_ps / dt)))
        free.run(n, Langevin(temperature, dt, damping=0.5), progress=progress, phase="equilibrate")
        history.append({"protocol": "equilibrate (free)", "temperature": temperature, "ps": equilibrate_ps})
    free.step = 0
    free.time = 0.0
    region = np.array(["glass"] * topo.n_atoms, dtype=object)
    region[idx_cr] = "crystal"
    length = float(free.cell[ax, ax])
    free.info = {"system": "glass_ceramic", "axis": ax, "crystal_atoms": idx_cr, "glass_atoms": idx_g,
                 "crystal_sites": tether.anchors.copy(),
                 "region": region.astype(str), "crystal_range": [0.0, h_c], "glass_range": [h_c, length],
                 "glass_packed_range": [h_c + gap, length - gap],
                 "interfaces": [h_c, 0.0], "box_length": length,
                 "lattice_parameter_A": a,
                 "crystal": "simplified ordered Li3PS4 (PS4 on fcc, Li in all tet + oct holes)",
                 "glass_anion_counts": g_counts, "glass_density_g_cm3": glass_density,
                 "density_g_cm3": density_g_cm3(topo.species, free.cell), "temperature_K": temperature,
                 "history": history, "molecule": topo.molecule}
    axis_name = "xyz"[ax]
    geometry = {"axis": ax, "crystal_atoms": [int(i) for i in idx_cr], "crystal_range": [0.0, float(h_c)],
                "glass_range": [float(h_c), float(length)],
                "interfaces": [float(x) for x in free.info["interfaces"]]}
    # in system_kwargs it is stored in every trajectory's attrs["parameters"] (and ignored by the force field)
    free.system_kwargs.update(geometry)
    free.attrs = {"system": "glass_ceramic", "interface_axis": axis_name,
                  "interfaces_angstrom": json.dumps(geometry["interfaces"]),
                  "crystal_range_angstrom": json.dumps(geometry["crystal_range"]),
                  "glass_range_angstrom": json.dumps(geometry["glass_range"]),
                  "crystal_atoms": json.dumps(geometry["crystal_atoms"]),
                  "crystal": free.info["crystal"]}
    return free


def _build(temperature=None, seed=0, n_atoms=None, progress=False, **kw):
    return glass_ceramic(temperature=600.0 if temperature is None else temperature, seed=seed, n_atoms=n_atoms,
                         progress=progress, **kw)


register_system(SystemSpec(name="glass_ceramic", build=_build, forcefield=lips_forcefield, units="metal",
                           species=("Li", "P", "S"), default_dt=0.001, default_temperature=600.0, default_n_atoms=512,
                           description="crystalline Li3PS4-like slab | LiPS glass, interfaces along z"))
