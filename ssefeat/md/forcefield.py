"""Force fields of the MD engine: the contract every interaction term follows, and :class:`ForceField`.

The term contract
=================
A *term* is one interaction type (shifted-force LJ, Buckingham, DSF Coulomb, harmonic bonds, ...). Any object
with the attributes and methods below is a term (duck typing; :class:`Term` is the ``typing.Protocol``)::

    class Term:
        name: str                 # short label used in parameter dumps, e.g. "lj", "buckingham", "bonds"
        cutoff: float             # interaction range in length units; 0.0 for bonded terms (no pair list needed)

        def bind(self, species, charges, masses) -> None:          # OPTIONAL, called once per system
            '''species (N,) str, charges (N,) float64 or None, masses (N,) float64.
            Map species to internal type indices, check every needed parameter exists and raise
            ssefeat.errors.ParameterError naming the species pair (and how to fix it) when one is missing.'''

        def compute(self, positions, cell, nlist) -> (energy_per_atom, forces, virial):
            '''positions (N, 3) float64 (NOT necessarily wrapped into the cell), cell (3, 3) float64 rows = cell
            vectors, nlist = ssefeat.md.neighbors.VerletList (see below).
            Returns energy_per_atom (N,) float64, forces (N, 3) float64, virial (3, 3) float64.'''

        def parameters(self) -> dict:                               # OPTIONAL, JSON-serialisable
            '''everything needed to rebuild the term; stored in the trajectory attrs.'''

        supports_energy_flag: bool = True                          # OPTIONAL: then compute() also takes
                                                                   # energy=False: forces only, energies and
                                                                   # virial may be returned as zeros

The neighbour list handed to ``compute`` (:class:`ssefeat.md.neighbors.VerletList`) exposes

- ``pairs``: (P, 2) int64 *half* list, ``i < j``, every pair whose minimum-image distance was below
  ``max cutoff of all terms + skin`` when the list was built; it stays valid (a superset of the pairs within any
  term's cutoff) until the next rebuild, which the force field triggers automatically. (Refinement: when *every*
  term with a cutoff also has ``pair_cutoffs() -> {(species_a, species_b): cutoff}``, a pair of species a, b is
  listed within ``max over terms of its cutoff for (a, b) + skin`` only; terms without that method keep the
  global radius for everyone.)
- ``offsets``: (N + 1,) int64, pairs are sorted by i and the pairs of atom i are ``pairs[offsets[i]:offsets[i+1]]``;
- ``cutoff`` (the list radius = max cutoff + skin), ``skin``, ``n_builds``;
- ``full()`` -> ``(offsets, neighbors)``: the full list in CSR form (both directions), made on demand;
- a fast path for pair kernels that want to skip the minimum-image arithmetic (used by the LJ term): ``order``,
  ``owner_offsets``, ``neighbors``, ``codes``, ``images`` (see :class:`~ssefeat.md.neighbors.VerletList`).

Conventions (all terms must follow them, so that terms can be summed):

- Kernels compute the minimum-image separation themselves from ``positions`` and ``cell`` (fractional rounding,
  see :func:`ssefeat.md.neighbors.minimum_image_vector`) and skip pairs beyond their own cutoff. The force field
  guarantees every cutoff is below half the smallest perpendicular width of the cell, so the minimum image is
  unique.
- ``r_ij = r_i - r_j`` (minimum image), ``f_ij`` = force on i due to j (``f_ji = -f_ij``).
- Pair energy is split half/half onto the two atoms: ``energy_per_atom[i] += u/2``, ``energy_per_atom[j] += u/2``.
  Many-body / bonded terms split their energy equally over the atoms involved.
- Virial ``W_ab = sum_pairs r_ij,a f_ij,b`` (for many-body terms: ``sum_atoms r_i,a f_i,b`` written with
  minimum-image relative vectors, i.e. the derivative of the energy w.r.t. homogeneous strain:
  ``W = -(dE/d eps)`` with ``r -> (1 + eps) r``). The pressure tensor is ``P = (sum_i m_i v_i v_i^T + W) / V``.
- Units are those of the simulation (``"metal"``: Å, eV, amu, eV/Å; ``"lj"``: sigma, epsilon, m); a term does not
  convert units. ``ForceField.units`` says which system the parameters are written in.
- Kernels are numba ``@njit(cache=True, parallel=True, fastmath=False)`` on plain arrays, no Python loop over
  atoms or pairs. Terms must be deterministic (same input, same output, bit for bit, on the same thread count is
  not required; to round-off is).

:class:`ForceField` sums the terms, owns the :class:`~ssefeat.md.neighbors.VerletList` (radius = largest term
cutoff + ``skin``) and rebuilds it when needed, and checks the cutoffs against the cell.
"""
from __future__ import annotations

import json
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from ..box import check_cutoff
from ..errors import ParameterError
from .neighbors import VerletList

__all__ = ["Term", "ForceField", "ForceResult"]


@runtime_checkable
class Term(Protocol):
    """One interaction type; see the module docstring for the full contract."""

    cutoff: float

    def compute(self, positions: np.ndarray, cell: np.ndarray, nlist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ...


class ForceResult(tuple):
    """``(energy_per_atom (N,), forces (N, 3), virial (3, 3))`` with names."""

    __slots__ = ()

    def __new__(cls, energy_per_atom, forces, virial):
        return super().__new__(cls, (energy_per_atom, forces, virial))

    energy_per_atom = property(lambda self: self[0])
    forces = property(lambda self: self[1])
    virial = property(lambda self: self[2])

    @property
    def energy(self) -> float:
        return float(self[0].sum())


class ForceField:
    """A sum of interaction terms with one shared Verlet neighbour list.

    Parameters
    ----------
    terms : sequence of terms (see the module docstring)
    skin : float
        Verlet skin in length units (sigma for ``units="lj"``, Å for ``"metal"``). The list is rebuilt when
        any atom moved more than skin/2 since the last build (cell deformation included).
    units : "metal" or "lj"
        Unit system the parameters are written in; the :class:`~ssefeat.md.simulation.Simulation` must match.
    name : str
        Label stored in the output attrs.
    """

    def __init__(self, terms: Sequence, skin: float = 0.3, units: str = "metal", name: str = "forcefield"):
        terms = list(terms)
        if not terms:
            raise ParameterError("a ForceField needs at least one term.",
                                 fix="pass terms=[LennardJones(...), ...].")
        for t in terms:
            if not hasattr(t, "compute") or not hasattr(t, "cutoff"):
                raise ParameterError(f"{t!r} is not a force-field term (it needs .cutoff and .compute()).",
                                     fix="see the Term contract in ssefeat.md.forcefield.")
        if units not in ("metal", "lj"):
            raise ParameterError(f"unknown unit system {units!r}.", fix="use units='metal' or units='lj'.")
        if not np.isfinite(skin) or skin < 0:
            raise ParameterError(f"skin must be a non-negative length, got {skin}.",
                                 fix="give skin as a finite length >= 0 (Å in metal units), e.g. skin=1.0.")
        self.terms = terms
        self.skin = float(skin)
        self.units = units
        self.name = name
        self.nlist: VerletList | None = None
        self._bound_n = None
        self._species = None

    @property
    def cutoff(self) -> float:
        """Largest interaction range of the terms (length units)."""
        return max(float(t.cutoff) for t in self.terms)

    def bind(self, species, charges=None, masses=None) -> None:
        """Hand the per-atom data to every term (they check their parameters) and reset the neighbour list."""
        species = np.asarray([str(s) for s in species])
        for t in self.terms:
            if hasattr(t, "bind"):
                t.bind(species, None if charges is None else np.asarray(charges, dtype=np.float64),
                       None if masses is None else np.asarray(masses, dtype=np.float64))
        self._bound_n = len(species)
        self._species = species
        self.nlist = None

    def check_cell(self, cell: np.ndarray) -> None:
        """Raise ParameterError if the largest cutoff is not below half the smallest cell width."""
        if self.cutoff > 0:
            check_cutoff(self.cutoff, cell, what="interaction cutoff", units="")

    def update_neighbors(self, positions: np.ndarray, cell: np.ndarray) -> bool:
        """Build or rebuild the Verlet list when needed; returns True if it was rebuilt."""
        if self.cutoff <= 0:
            if self.nlist is None:
                self.nlist = VerletList.empty(len(positions))
            return False
        if self.nlist is None:
            self.check_cell(cell)
            types, table = self._type_cutoffs(len(positions))
            self.nlist = VerletList(self.cutoff, self.skin, types=types, type_cutoffs=table)
            self.nlist.build(positions, cell)
            return True
        return self.nlist.update(positions, cell)

    def _type_cutoffs(self, n: int):
        """Per-species-pair list cutoffs when every pair term gives them (``pair_cutoffs()``), else (None, None)."""
        pair_terms = [t for t in self.terms if float(t.cutoff) > 0]
        if (self._species is None or len(self._species) != n
                or not all(hasattr(t, "pair_cutoffs") for t in pair_terms)):
            return None, None
        order = list(dict.fromkeys(self._species.tolist()))
        lookup = {s: k for k, s in enumerate(order)}
        table = np.zeros((len(order), len(order)))
        for t in pair_terms:
            cuts = t.pair_cutoffs()
            for a, sa in enumerate(order):
                for b, sb in enumerate(order):
                    rc = cuts.get((sa, sb), cuts.get((sb, sa)))
                    # a term without a value for this pair: fall back to its largest cutoff (always safe)
                    table[a, b] = max(table[a, b], float(t.cutoff) if rc is None else float(rc))
        types = np.fromiter((lookup[s] for s in self._species), dtype=np.int64, count=n)
        return types, table

    def compute(self, positions: np.ndarray, cell: np.ndarray, energy: bool = True) -> ForceResult:
        """Energy per atom (N,), forces (N, 3) and virial (3, 3) of all terms at this configuration.

        ``energy=False`` lets terms that support it skip energies and virial (the MD loop asks for them only on
        steps that check, dump or need the pressure); the returned energies and virial are then incomplete.
        """
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        cell = np.ascontiguousarray(cell, dtype=np.float64)
        if self._bound_n is not None and self._bound_n != len(positions):
            raise ParameterError(f"the force field was bound to {self._bound_n} atoms but got {len(positions)}.",
                                 fix="call forcefield.bind(species, charges, masses) for the new system.")
        self.update_neighbors(positions, cell)

        def term_result(t):
            if not energy and getattr(t, "supports_energy_flag", False):
                return t.compute(positions, cell, self.nlist, energy=False)
            return t.compute(positions, cell, self.nlist)

        if len(self.terms) == 1:
            return ForceResult(*term_result(self.terms[0]))
        n = len(positions)
        epa, forces, virial = np.zeros(n), np.zeros((n, 3)), np.zeros((3, 3))
        for t in self.terms:
            e, f, w = term_result(t)
            epa += e
            forces += f
            virial += w
        return ForceResult(epa, forces, virial)

    def parameters(self) -> dict:
        """JSON-serialisable description of the force field (stored in trajectory attrs)."""
        out = {"name": self.name, "units": self.units, "skin": self.skin, "terms": []}
        for t in self.terms:
            entry = {"name": getattr(t, "name", type(t).__name__), "class": type(t).__name__,
                     "cutoff": float(t.cutoff)}
            if hasattr(t, "parameters"):
                entry["parameters"] = t.parameters()
            out["terms"].append(entry)
        json.dumps(out)  # fail early if a term returns something not serialisable
        return out
