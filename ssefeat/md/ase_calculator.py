"""The MD engine's force fields as an ASE calculator, so users can relax structures or run NEB with ASE.

>>> from ssefeat.md.systems.vacancy_crystal import vacancy_crystal           # doctest: +SKIP
>>> from ssefeat.md.ase_calculator import to_ase
>>> from ase.optimize import LBFGS
>>> atoms = to_ase(vacancy_crystal(3, n_vacancies=1, temperature=0))          # Atoms with the calculator attached
>>> LBFGS(atoms).run(fmax=0.01)

Properties: ``energy`` / ``free_energy`` (eV), ``energies`` (per atom, eV), ``forces`` (eV/Å) and ``stress``
(eV/Å^3, ASE's Voigt order xx yy zz yz xz xy and sign: ``stress = -W / V`` with W the virial, so a compressed cell
has negative stress and pressure ``-trace(stress)/3``; no kinetic part). Charges come from ``charges=`` or else from
``atoms.get_initial_charges()``. Each NEB image should get its own calculator (:meth:`ForceFieldCalculator.copy`).
"""
from __future__ import annotations

import copy as _copy

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from ..errors import ParameterError
from .forcefield import ForceField

__all__ = ["ForceFieldCalculator", "to_ase"]


class ForceFieldCalculator(Calculator):
    """ASE calculator around a :class:`~ssefeat.md.forcefield.ForceField` (units ``"metal"``: Å, eV).

    Parameters
    ----------
    forcefield : ForceField
        Its terms are bound to the atoms at the first calculation (and again if species or charges change).
    charges : (N,) e, optional
        Per-atom charges; default ``atoms.get_initial_charges()``.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, forcefield: ForceField, charges=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(forcefield, ForceField):
            raise ParameterError("forcefield must be a ssefeat.md.forcefield.ForceField.",
                                 fix="build one with ssefeat.md.forcefield.ForceField(...) or take sim.forcefield.")
        if forcefield.units != "metal":
            raise ParameterError(f"ASE works in Å and eV; this force field is in units={forcefield.units!r}.",
                                 fix="use a force field written in 'metal' units.")
        self.forcefield = forcefield
        self.fixed_charges = None if charges is None else np.asarray(charges, dtype=np.float64)
        self._bound = None

    def copy(self) -> "ForceFieldCalculator":
        """An independent calculator (own force-field copy and neighbour list), e.g. for another NEB image."""
        ff = _copy.deepcopy(self.forcefield)
        ff.nlist = None
        return ForceFieldCalculator(ff, charges=self.fixed_charges)

    def _bind(self, atoms) -> None:
        species = tuple(atoms.get_chemical_symbols())
        charges = self.fixed_charges if self.fixed_charges is not None else atoms.get_initial_charges()
        if len(charges) != len(species):
            raise ParameterError(f"{len(charges)} charges for {len(species)} atoms.", fix="give one charge per atom.")
        key = (species, tuple(np.round(charges, 12)))
        if key != self._bound:
            self.forcefield.bind(np.array(species), np.asarray(charges, dtype=np.float64), atoms.get_masses())
            self._bound = key

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        if not np.all(atoms.pbc):
            raise ParameterError("the ssefeat force fields are periodic: the Atoms need pbc=True and a cell.",
                                 fix="atoms.pbc = True; atoms.set_cell(...) (a box larger than twice the cutoff).")
        cell = np.array(atoms.cell[:], dtype=np.float64)
        self._bind(atoms)
        energy, forces, virial = self.forcefield.compute(atoms.get_positions(), cell)
        volume = abs(np.linalg.det(cell))
        sigma = -0.5 * (virial + virial.T) / volume
        self.results = {"energy": float(energy.sum()), "free_energy": float(energy.sum()),
                        "energies": np.array(energy), "forces": np.array(forces),
                        "stress": np.array([sigma[0, 0], sigma[1, 1], sigma[2, 2], sigma[1, 2], sigma[0, 2],
                                            sigma[0, 1]])}


def to_ase(sim):
    """``ase.Atoms`` of a :class:`~ssefeat.md.simulation.Simulation` (positions, cell, masses, charges, velocities)
    with a :class:`ForceFieldCalculator` on a copy of its force field attached."""
    from ase import Atoms

    from ..units import TIME_UNIT_PS

    atoms = Atoms(symbols=list(sim.species), positions=sim.positions, cell=sim.cell, pbc=True,
                  masses=sim.masses, charges=sim.charges)
    # ASE velocities are in Å / (ASE time unit) = Å / (sqrt(amu Å^2 / eV)), the engine's internal unit
    atoms.set_velocities(sim.velocities_user() * TIME_UNIT_PS)
    ff = _copy.deepcopy(sim.forcefield)
    ff.nlist = None
    atoms.calc = ForceFieldCalculator(ff, charges=sim.charges)
    return atoms
