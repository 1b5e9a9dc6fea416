"""Ionic pair term: Buckingham + damped shifted force (DSF) Coulomb, with intramolecular exclusions.

For every non-excluded pair (i, j) at distance r (minimum image):

- Buckingham ``phi(r) = A exp(-r / rho) - C / r^6`` for r < ``buck_cutoff`` (Å, eV), shifted at the cutoff:
  ``shift="force"`` (default, smooth): ``phi(r) - phi(rc) - (r - rc) phi'(rc)``; ``shift="energy"``:
  ``phi(r) - phi(rc)`` (force truncated, the convention of LAMMPS ``pair_modify shift yes``); ``"none"``.
- Coulomb by the damped shifted force method of Fennell & Gezelter, J. Chem. Phys. 124, 234104 (2006), eq. 19:
  ``k q_i q_j [erfc(a r)/r - erfc(a R)/R + (erfc(a R)/R^2 + 2a/sqrt(pi) exp(-a^2 R^2)/R)(r - R)]`` for r < R,
  with damping ``alpha`` = a (1/Å, default 0.2) and cutoff R = ``cutoff`` (Å, default 10), k = e^2/(4 pi eps0)
  = 14.3996 eV Å. Both energy and force go to zero at R. The DSF self term
  ``-(erfc(a R)/(2R) + a/sqrt(pi)) k q_i^2`` is added to each atom's energy (a constant for fixed charges; it makes
  the total comparable with Ewald sums and with LAMMPS ``coul/dsf``, which adds the same term).

Excluded pairs (bonded partners: 1-2 and 1-3 neighbours inside an anion, built from the bond and angle lists with
:func:`exclusions_from_topology`) get no Buckingham and no Coulomb (``exclusion_coulomb="full"``, default). With
``"bare"`` only the bare Coulomb ``k q_i q_j / r`` is removed from them, which is what LAMMPS ``born/coul/dsf`` does
with ``special_bonds lj/coul 0 0 1`` (used to compare with LAMMPS).

The term follows the engine's Term contract: ``cutoff`` and
``compute(positions, cell, nlist) -> (energy_per_atom (N,), forces (N,3), virial (3,3))`` where ``nlist.pairs`` is a
(P, 2) half list (i < j) of candidate pairs; the kernel takes minimum-image vectors itself and skips pairs beyond its
cutoffs. Pair energies are split half/half; virial ``W_ab = sum_pairs r_ij,a f_ij,b`` with r_ij = r_i - r_j and
f_ij the force on i from j (positive trace = repulsive).
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numba
import numpy as np
from numba import njit, prange

from .._cell_kernels import minimum_image_vector
from ..box import minimum_image
from ..errors import ParameterError, SimulationError
from ..units import COULOMB_EV_ANGSTROM

_SHIFTS = ("force", "energy", "none")
#: Non-excluded atoms closer than this (Å) are reported as overlapping.
OVERLAP_DISTANCE = 0.5


def pair_key(a: str, b: str) -> str:
    """Canonical name of a species pair, e.g. ``pair_key("S", "Li") == "Li-S"``."""
    return "-".join(sorted((str(a), str(b))))


def exclusions_from_topology(n_atoms: int, bonds=None, angles=None, extra=None) -> np.ndarray:
    """Sorted unique excluded pairs (E, 2) int64 with i < j: bonded pairs, the two ends of every angle, and
    ``extra``."""
    parts = []
    if bonds is not None and len(bonds):
        parts.append(np.asarray(bonds, dtype=np.int64).reshape(-1, 2))
    if angles is not None and len(angles):
        ang = np.asarray(angles, dtype=np.int64).reshape(-1, 3)
        parts.append(ang[:, [0, 1]])
        parts.append(ang[:, [1, 2]])
        parts.append(ang[:, [0, 2]])
    if extra is not None and len(extra):
        parts.append(np.asarray(extra, dtype=np.int64).reshape(-1, 2))
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts)
    if pairs.min() < 0 or pairs.max() >= n_atoms:
        raise ParameterError(f"topology refers to atom indices outside 0..{n_atoms - 1}.",
                             fix="build bonds / angles from the same atom list as the positions.")
    pairs = np.sort(pairs, axis=1)
    if np.any(pairs[:, 0] == pairs[:, 1]):
        raise ParameterError("topology pairs an atom with itself.", fix="check the bond / angle lists.")
    return np.unique(pairs, axis=0)


def _exclusion_csr(n_atoms: int, excluded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both directions of every excluded pair as CSR (ptr (N+1,), idx)."""
    if len(excluded) == 0:
        return np.zeros(n_atoms + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a = np.concatenate([excluded[:, 0], excluded[:, 1]])
    b = np.concatenate([excluded[:, 1], excluded[:, 0]])
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    ptr = np.zeros(n_atoms + 1, dtype=np.int64)
    np.add.at(ptr, a + 1, 1)
    return np.cumsum(ptr), b.astype(np.int64)


@njit(cache=True)
def _buck(a, rho, c, r):
    """Buckingham energy and -dphi/dr at r."""
    ex = a * math.exp(-r / rho) if a != 0.0 else 0.0
    r6 = r * r * r * r * r * r
    e = ex - c / r6
    f = ex / rho - 6.0 * c / (r6 * r)
    return e, f


@njit(cache=True)
def _ionic_range(pos, cell, inv, pairs, start, stop, types, q, A, RHO, C, ESHIFT, FSHIFT, buck_rc2, coul_rc, alpha,
                 ke, excl_ptr, excl_idx, excl_bare, overlap2, energy, forces, virial):
    """Accumulate pairs[start:stop] into energy (N,), forces (N, 3), virial (3, 3); returns an overlapping pair or
    -1."""
    bad = -1
    coul_rc2 = coul_rc * coul_rc
    buck_rc = math.sqrt(buck_rc2)
    erfc_rc = math.erfc(alpha * coul_rc)
    two_a_sqpi = 2.0 * alpha / math.sqrt(math.pi)
    # shifted-force constants of the DSF potential
    e_sh = erfc_rc / coul_rc
    f_sh = erfc_rc / coul_rc2 + two_a_sqpi * math.exp(-alpha * alpha * coul_rc2) / coul_rc
    w00 = w01 = w02 = w10 = w11 = w12 = w20 = w21 = w22 = 0.0
    for p in range(start, stop):
        i = pairs[p, 0]
        j = pairs[p, 1]
        d0, d1, d2 = minimum_image_vector(pos[i, 0] - pos[j, 0], pos[i, 1] - pos[j, 1], pos[i, 2] - pos[j, 2], cell,
                                          inv)
        r2 = d0 * d0 + d1 * d1 + d2 * d2
        if r2 >= coul_rc2 and r2 >= buck_rc2:
            continue
        excluded = False
        for k in range(excl_ptr[i], excl_ptr[i + 1]):
            if excl_idx[k] == j:
                excluded = True
                break
        qq = q[i] * q[j]
        if excluded:
            # bonded partners: no Buckingham; Coulomb either dropped (full) or only its bare 1/r part removed
            if not excl_bare or qq == 0.0 or r2 >= coul_rc2:
                continue
            r = math.sqrt(r2)
            erf_r = math.erf(alpha * r)
            e_pair = ke * qq * (-erf_r / r - e_sh + f_sh * (r - coul_rc))
            fmag = ke * qq * (two_a_sqpi * math.exp(-alpha * alpha * r2) / r - erf_r / r2 - f_sh)
        else:
            if r2 < overlap2:
                bad = p
                continue
            r = math.sqrt(r2)
            e_pair = 0.0
            fmag = 0.0  # -dE/dr
            if r2 < buck_rc2:
                ti = types[i]
                tj = types[j]
                a = A[ti, tj]
                c = C[ti, tj]
                if a != 0.0 or c != 0.0:
                    e, f = _buck(a, RHO[ti, tj], c, r)
                    e_pair += e - ESHIFT[ti, tj] - (r - buck_rc) * FSHIFT[ti, tj]
                    fmag += f + FSHIFT[ti, tj]
            if qq != 0.0 and r2 < coul_rc2:
                erfc_r = math.erfc(alpha * r)
                e_pair += ke * qq * (erfc_r / r - e_sh + f_sh * (r - coul_rc))
                fmag += ke * qq * (erfc_r / r2 + two_a_sqpi * math.exp(-alpha * alpha * r2) / r - f_sh)
        half = 0.5 * e_pair
        energy[i] += half
        energy[j] += half
        fr = fmag / r
        f0 = fr * d0
        f1 = fr * d1
        f2 = fr * d2
        forces[i, 0] += f0
        forces[i, 1] += f1
        forces[i, 2] += f2
        forces[j, 0] -= f0
        forces[j, 1] -= f1
        forces[j, 2] -= f2
        w00 += d0 * f0
        w01 += d0 * f1
        w02 += d0 * f2
        w10 += d1 * f0
        w11 += d1 * f1
        w12 += d1 * f2
        w20 += d2 * f0
        w21 += d2 * f1
        w22 += d2 * f2
    virial[0, 0] += w00
    virial[0, 1] += w01
    virial[0, 2] += w02
    virial[1, 0] += w10
    virial[1, 1] += w11
    virial[1, 2] += w12
    virial[2, 0] += w20
    virial[2, 1] += w21
    virial[2, 2] += w22
    return bad


@njit(parallel=True, cache=True)
def _ionic_parallel(pos, cell, inv, pairs, types, q, A, RHO, C, ESHIFT, FSHIFT, buck_rc2, coul_rc, alpha, ke,
                    excl_ptr, excl_idx, excl_bare, overlap2, nthreads):
    n = pos.shape[0]
    npair = pairs.shape[0]
    e_buf = np.zeros((nthreads, n))
    f_buf = np.zeros((nthreads, n, 3))
    w_buf = np.zeros((nthreads, 3, 3))
    bad = np.full(nthreads, -1, dtype=np.int64)
    chunk = (npair + nthreads - 1) // nthreads
    for t in prange(nthreads):
        start = t * chunk
        stop = min(npair, start + chunk)
        bad[t] = _ionic_range(pos, cell, inv, pairs, start, stop, types, q, A, RHO, C, ESHIFT, FSHIFT, buck_rc2,
                              coul_rc, alpha, ke, excl_ptr, excl_idx, excl_bare, overlap2, e_buf[t], f_buf[t],
                              w_buf[t])
    energy = np.zeros(n)
    forces = np.zeros((n, 3))
    virial = np.zeros((3, 3))
    for t in range(nthreads):
        energy += e_buf[t]
        forces += f_buf[t]
        virial += w_buf[t]
    return energy, forces, virial, bad.max()


#: Pair lists shorter than this are computed on one thread: a parallel region costs more than it saves for small
#: systems (and much more on an oversubscribed machine with OpenMP's spinning barriers).
PARALLEL_MIN_PAIRS = 150_000


class IonicPair:
    """Buckingham + DSF Coulomb pair term over typed, charged atoms (a Term of the MD engine).

    Parameters
    ----------
    buckingham : mapping ``"X-Y" -> (A eV, rho Å, C eV Å^6)``
        One entry per species pair present (use ``(0, 1, 0)`` for Coulomb only); keys in any order ("S-Li" = "Li-S").
    cutoff : float, Å
        DSF Coulomb cutoff R (default 10).
    alpha : float, 1/Å
        DSF damping (default 0.2, as recommended by Fennell & Gezelter for R of 10-12 Å).
    buck_cutoff : float, Å, optional
        Buckingham cutoff (default = ``cutoff``).
    shift : {"force", "energy", "none"}
        How the Buckingham term is shifted at its cutoff.
    excluded : (E, 2) int array, optional
        Bonded pairs (see :func:`exclusions_from_topology`): no Buckingham between them.
    exclusion_coulomb : {"full", "bare"}
        What exclusion means for the Coulomb term. ``"full"`` (default): excluded pairs get no Coulomb at all (DSF
        has no reciprocal-space part, so nothing else is to be corrected). ``"bare"``: only the bare
        ``k q_i q_j / r`` is removed, so an excluded pair keeps ``k q_i q_j [-erf(a r)/r - erfc(a R)/R + F_c (r - R)]``
        (the Ewald-style convention, and what LAMMPS ``coul/dsf`` / ``born/coul/dsf`` do with ``special_bonds`` 0;
        it pulls like charges of one molecule together, so use it only to compare with LAMMPS).
    include_self : bool
        Add the constant DSF self energy to each atom (default True).
    self_convention : {"fennell-gezelter", "lammps"}
        ``"fennell-gezelter"`` (default): ``-(erfc(a R)/(2R) + a/sqrt(pi)) k q_i^2`` as in the paper.
        ``"lammps"``: the term LAMMPS ``coul/dsf`` adds, which also holds half the force-shift constant,
        ``-(erfc(a R)/(2R) + F_c R / 2 + a/sqrt(pi)) k q_i^2``
        with ``F_c = erfc(a R)/R^2 + 2a/sqrt(pi) exp(-a^2R^2)/R``.
        Forces do not depend on it.
    species, charges : optional
        Bind the term to a system at once (otherwise the engine calls :meth:`bind`).
    """

    name = "ionic"

    def __init__(self, buckingham: Mapping[str, Sequence[float]], *, cutoff: float = 10.0, alpha: float = 0.2,
                 buck_cutoff: float | None = None, shift: str = "force", excluded=None,
                 exclusion_coulomb: str = "full", include_self: bool = True,
                 self_convention: str = "fennell-gezelter", species: Sequence[str] | None = None, charges=None):
        if not (np.isfinite(cutoff) and cutoff > 0):
            raise ParameterError(f"cutoff must be a positive number of Å, got {cutoff}.",
                                 fix="give cutoff as a finite length > 0 in Å, e.g. cutoff=10.0.")
        buck_cutoff = float(cutoff if buck_cutoff is None else buck_cutoff)
        if not (np.isfinite(buck_cutoff) and buck_cutoff > 0):
            raise ParameterError(f"buck_cutoff must be a positive number of Å, got {buck_cutoff}.",
                                 fix="give buck_cutoff as a finite length > 0 in Å, or None to use cutoff.")
        if not (np.isfinite(alpha) and alpha >= 0):
            raise ParameterError(f"alpha must be >= 0 (1/Å), got {alpha}.",
                                 fix="give alpha as a finite damping >= 0 in 1/Å (0 = undamped), e.g. alpha=0.2.")
        if shift not in _SHIFTS:
            raise ParameterError(f"shift must be one of {_SHIFTS}, got {shift!r}.", fix=f"use shift one of {_SHIFTS}.")
        if exclusion_coulomb not in ("bare", "full"):
            raise ParameterError(f"exclusion_coulomb must be 'bare' or 'full', got {exclusion_coulomb!r}.",
                                 fix="use exclusion_coulomb='bare' or 'full'.")
        if self_convention not in ("fennell-gezelter", "lammps"):
            raise ParameterError(f"self_convention must be 'fennell-gezelter' or 'lammps', got {self_convention!r}.",
                                 fix="use self_convention='fennell-gezelter' or 'lammps'.")
        self.table = {}
        for k, v in buckingham.items():
            names = k.split("-") if isinstance(k, str) else list(k)
            if len(names) != 2 or len(tuple(v)) != 3:
                raise ParameterError(f"Buckingham entry {k!r}: {v!r} is not 'X-Y': (A, rho, C).",
                                     fix='write e.g. {"Li-S": [A_eV, rho_A, C_eVA6]}.')
            a, rho, c = (float(x) for x in v)
            if not all(np.isfinite([a, rho, c])) or (a != 0 and rho <= 0):
                raise ParameterError(f"Buckingham parameters for {k} must be finite with rho > 0, got {v!r}.",
                                     fix=f"give {k} as (A eV, rho Å > 0, C eV Å^6), all finite.")
            self.table[pair_key(*names)] = (a, rho if rho > 0 else 1.0, c)
        self.coulomb_cutoff = float(cutoff)
        self.buck_cutoff = buck_cutoff
        self.cutoff = max(self.coulomb_cutoff, buck_cutoff)
        self.alpha = float(alpha)
        self.shift = shift
        self.exclusion_coulomb = exclusion_coulomb
        self.include_self = bool(include_self)
        self.self_convention = self_convention
        self._excluded_input = None if excluded is None else np.asarray(excluded, dtype=np.int64).reshape(-1, 2)
        self.types = None
        if species is not None:
            self.bind(species, charges)

    def bind(self, species, charges, masses=None) -> None:
        """Map species to types, check parameters and charges, build the exclusion lists for these N atoms."""
        species = [str(s) for s in species]
        n = len(species)
        if charges is None:
            raise ParameterError("the ionic term needs per-atom charges.",
                                 fix="pass charges=... (e) to the Simulation.")
        charges = np.asarray(charges, dtype=np.float64).reshape(-1)
        if charges.shape != (n,):
            raise ParameterError(f"charges has {charges.size} values for {n} atoms.", fix="give one charge per atom.")
        if not np.all(np.isfinite(charges)):
            raise ParameterError("charges contain NaN or infinite values.", fix="give finite charges in e.")
        type_names = sorted(set(species))
        index = {s: k for k, s in enumerate(type_names)}
        nt = len(type_names)
        known = {x for key in self.table for x in key.split("-")}
        unknown = [s for s in type_names if s not in known]
        if unknown:
            raise ParameterError(f"unknown species {', '.join(unknown)}: the ionic parameter set only knows "
                                 f"{', '.join(sorted(known))}.",
                                 fix="use a parameter set that covers every species, or add their Buckingham pairs.")
        A = np.zeros((nt, nt))
        RHO = np.ones((nt, nt))
        C = np.zeros((nt, nt))
        missing = []
        for a in range(nt):
            for b in range(a, nt):
                key = pair_key(type_names[a], type_names[b])
                if key not in self.table:
                    missing.append(key)
                    continue
                A[a, b], RHO[a, b], C[a, b] = self.table[key]
                A[b, a], RHO[b, a], C[b, a] = self.table[key]
        if missing:
            raise ParameterError(f"no Buckingham parameters for species pair(s) {', '.join(missing)}.",
                                 fix="add them to the parameter set (use [0, 1, 0] for a Coulomb-only pair).")
        ESH = np.zeros((nt, nt))
        FSH = np.zeros((nt, nt))
        for a in range(nt):
            for b in range(nt):
                if A[a, b] == 0 and C[a, b] == 0:
                    continue
                e, f = _buck.py_func(A[a, b], RHO[a, b], C[a, b], self.buck_cutoff)
                if self.shift in ("force", "energy"):
                    ESH[a, b] = e
                if self.shift == "force":
                    FSH[a, b] = -f  # phi'(rc)
        self.type_names = type_names
        self.types = np.array([index[s] for s in species], dtype=np.int64)
        self.species = species
        self.charges = charges
        self.A, self.RHO, self.C, self._eshift, self._fshift = A, RHO, C, ESH, FSH
        self.excluded = (np.zeros((0, 2), np.int64) if self._excluded_input is None
                         else exclusions_from_topology(n, extra=self._excluded_input))
        self._excl_ptr, self._excl_idx = _exclusion_csr(n, self.excluded)
        if self.include_self:
            rc, a = self.coulomb_cutoff, self.alpha
            per_q2 = math.erfc(a * rc) / (2 * rc) + a / math.sqrt(math.pi)
            if self.self_convention == "lammps":
                fc = math.erfc(a * rc) / rc ** 2 + 2 * a / math.sqrt(math.pi) * math.exp(-(a * rc) ** 2) / rc
                per_q2 += 0.5 * fc * rc
            self.self_energy = -per_q2 * COULOMB_EV_ANGSTROM * charges ** 2
        else:
            self.self_energy = np.zeros(n)

    @property
    def n_atoms(self) -> int:
        return 0 if self.types is None else len(self.types)

    def compute(self, positions, cell, nlist):
        """Per-atom energy (N,) eV, forces (N, 3) eV/Å and virial (3, 3) eV of the configuration."""
        if self.types is None:
            raise ParameterError("the ionic term is not bound to a system.",
                                 fix="call term.bind(species, charges) or use it inside a ForceField/Simulation.")
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        if pos.shape != (self.n_atoms, 3):
            raise ParameterError(f"positions have shape {pos.shape}; this term was built for {self.n_atoms} atoms.",
                                 fix=f"pass positions of shape ({self.n_atoms}, 3), or build a new term for "
                                     f"this system.")
        cell = np.ascontiguousarray(cell, dtype=np.float64)
        pairs = np.ascontiguousarray(nlist.pairs, dtype=np.int64).reshape(-1, 2)
        nthreads = numba.get_num_threads()
        args = (pos, cell, np.linalg.inv(cell), pairs, self.types, self.charges, self.A, self.RHO, self.C,
                self._eshift, self._fshift, self.buck_cutoff ** 2, self.coulomb_cutoff, self.alpha,
                COULOMB_EV_ANGSTROM, self._excl_ptr, self._excl_idx, self.exclusion_coulomb == "bare",
                OVERLAP_DISTANCE ** 2)
        if nthreads > 1 and len(pairs) >= PARALLEL_MIN_PAIRS:
            energy, forces, virial, bad = _ionic_parallel(*args, nthreads)
        else:
            n = len(pos)
            energy, forces, virial = np.zeros(n), np.zeros((n, 3)), np.zeros((3, 3))
            bad = _ionic_range(*args[:4], 0, len(pairs), *args[4:], energy, forces, virial)
        if bad >= 0:
            i, j = (int(x) for x in pairs[bad])
            r = float(np.linalg.norm(minimum_image(pos[i] - pos[j], cell)))
            raise SimulationError(
                f"atoms {i} ({self.species[i]}) and {j} ({self.species[j]}) overlap: {r:.3f} Å apart "
                f"(below {OVERLAP_DISTANCE} Å).",
                fix="start from a configuration without overlapping atoms (pack at lower density, minimise first) "
                    "or use a smaller time step.")
        energy += self.self_energy
        return energy, forces, virial

    def parameters(self) -> dict:
        """The term's parameters as plain data (for provenance)."""
        return {"kind": "ionic_pair", "coulomb": "DSF (Fennell & Gezelter 2006)", "alpha": self.alpha,
                "cutoff": self.coulomb_cutoff, "buck_cutoff": self.buck_cutoff, "shift": self.shift,
                "exclusion_coulomb": self.exclusion_coulomb, "self_convention": self.self_convention,
                "include_self": self.include_self, "buckingham": {k: list(v) for k, v in self.table.items()}}
