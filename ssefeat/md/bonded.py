"""Harmonic bonds and angles (Terms of the MD engine, cutoff 0).

Conventions are those of LAMMPS ``bond_style harmonic`` / ``angle_style harmonic`` (the 1/2 is inside K):

- bond (i, j): ``E = K (r - r0)^2``, K in eV/Å^2, r0 in Å;
- angle (i, j, k) with j the vertex: ``E = K (theta - theta0)^2``, K in eV/rad^2, theta0 given in degrees.

Separations are minimum-image vectors, so a bonded partner must be nearer than half a cell width. Bond energy is split
half/half between the two atoms, angle energy in thirds. Virial ``W_ab = sum_atoms r_a F_b`` written with relative
vectors (translation invariant), the same convention as the pair terms.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._cell_kernels import minimum_image_vector
from ..errors import ParameterError


@njit(cache=True)
def _mic(d, cell, inv):
    out = np.empty(3)
    out[0], out[1], out[2] = minimum_image_vector(d[0], d[1], d[2], cell, inv)
    return out


@njit(cache=True)
def _bond_kernel(pos, cell, inv, bonds, k, r0):
    n = pos.shape[0]
    energy = np.zeros(n)
    forces = np.zeros((n, 3))
    virial = np.zeros((3, 3))
    for b in range(bonds.shape[0]):
        i = bonds[b, 0]
        j = bonds[b, 1]
        d = _mic(pos[i] - pos[j], cell, inv)
        r = math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        dr = r - r0[b]
        e = k[b] * dr * dr
        energy[i] += 0.5 * e
        energy[j] += 0.5 * e
        fr = -2.0 * k[b] * dr / r if r > 0.0 else 0.0
        for a in range(3):
            f = fr * d[a]
            forces[i, a] += f
            forces[j, a] -= f
            for c in range(3):
                virial[c, a] += d[c] * f
    return energy, forces, virial


@njit(cache=True)
def _angle_kernel(pos, cell, inv, angles, k, theta0):
    n = pos.shape[0]
    energy = np.zeros(n)
    forces = np.zeros((n, 3))
    virial = np.zeros((3, 3))
    third = 1.0 / 3.0
    for m in range(angles.shape[0]):
        i = angles[m, 0]
        j = angles[m, 1]
        l = angles[m, 2]
        a = _mic(pos[i] - pos[j], cell, inv)
        b = _mic(pos[l] - pos[j], cell, inv)
        ra = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
        rb = math.sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2])
        c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (ra * rb)
        if c > 1.0:
            c = 1.0
        if c < -1.0:
            c = -1.0
        theta = math.acos(c)
        s = math.sqrt(1.0 - c * c)
        if s < 1e-8:
            s = 1e-8
        dtheta = theta - theta0[m]
        e = k[m] * dtheta * dtheta
        energy[i] += third * e
        energy[j] += third * e
        energy[l] += third * e
        # F = -dE/dtheta * dtheta/dc * dc/dx, dtheta/dc = -1/sin(theta)
        pref = 2.0 * k[m] * dtheta / s
        fi = np.empty(3)
        fl = np.empty(3)
        for x in range(3):
            fi[x] = pref * (b[x] / (ra * rb) - c * a[x] / (ra * ra))
            fl[x] = pref * (a[x] / (ra * rb) - c * b[x] / (rb * rb))
        for x in range(3):
            forces[i, x] += fi[x]
            forces[l, x] += fl[x]
            forces[j, x] -= fi[x] + fl[x]
            for y in range(3):
                virial[y, x] += a[y] * fi[x] + b[y] * fl[x]
    return energy, forces, virial


def _check_indices(idx: np.ndarray, n_atoms: int | None, what: str) -> None:
    if idx.size and (idx.min() < 0 or (n_atoms is not None and idx.max() >= n_atoms)):
        raise ParameterError(f"{what} list refers to atom indices outside 0..{n_atoms - 1 if n_atoms else '?'}.",
                             fix=f"build the {what} list from the same atom order as the positions.")


def _per_item(value, count: int, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(count, float(arr))
    if arr.shape != (count,):
        raise ParameterError(f"{name} has {arr.size} values for {count} items.",
                             fix=f"give one {name} per item or a scalar.")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values.", fix=f"give {name} as finite numbers only.")
    return arr


class HarmonicBonds:
    """Harmonic bonds ``E = K (r - r0)^2``.

    Parameters
    ----------
    bonds : (B, 2) int
        Atom index pairs.
    k : float or (B,), eV/Å^2
    r0 : float or (B,), Å
    n_atoms : int, optional
        For index checking.
    """

    name = "bonds"
    cutoff = 0.0

    def __init__(self, bonds, k, r0, n_atoms: int | None = None):
        self.bonds = np.ascontiguousarray(np.asarray(bonds, dtype=np.int64).reshape(-1, 2))
        _check_indices(self.bonds, n_atoms, "bond")
        self.k = _per_item(k, len(self.bonds), "k")
        self.r0 = _per_item(r0, len(self.bonds), "r0")

    def compute(self, positions, cell, nlist=None):
        """Per-atom energy (N,) eV, forces (N, 3) eV/Å, virial (3, 3) eV. ``nlist`` is ignored."""
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        cell = np.ascontiguousarray(cell, dtype=np.float64)
        _check_indices(self.bonds, pos.shape[0], "bond")
        return _bond_kernel(pos, cell, np.linalg.inv(cell), self.bonds, self.k, self.r0)

    def lengths(self, positions, cell) -> np.ndarray:
        """Current bond lengths (B,) in Å."""
        from ..box import minimum_image

        pos = np.asarray(positions, dtype=np.float64)
        d = minimum_image(pos[self.bonds[:, 0]] - pos[self.bonds[:, 1]], cell)
        return np.linalg.norm(d, axis=1)

    def parameters(self) -> dict:
        return {"kind": "harmonic_bonds", "n": len(self.bonds), "convention": "E = K (r - r0)^2"}


class HarmonicAngles:
    """Harmonic angles ``E = K (theta - theta0)^2`` with the vertex in the middle of each triple.

    Parameters
    ----------
    angles : (M, 3) int
        (i, j, k) with j the vertex.
    k : float or (M,), eV/rad^2
    theta0_deg : float or (M,), degrees
    n_atoms : int, optional
    """

    name = "angles"
    cutoff = 0.0

    def __init__(self, angles, k, theta0_deg, n_atoms: int | None = None):
        self.angles = np.ascontiguousarray(np.asarray(angles, dtype=np.int64).reshape(-1, 3))
        _check_indices(self.angles, n_atoms, "angle")
        self.k = _per_item(k, len(self.angles), "k")
        self.theta0_deg = _per_item(theta0_deg, len(self.angles), "theta0_deg")
        self.theta0 = np.radians(self.theta0_deg)

    def compute(self, positions, cell, nlist=None):
        """Per-atom energy (N,) eV, forces (N, 3) eV/Å, virial (3, 3) eV. ``nlist`` is ignored."""
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        cell = np.ascontiguousarray(cell, dtype=np.float64)
        _check_indices(self.angles, pos.shape[0], "angle")
        return _angle_kernel(pos, cell, np.linalg.inv(cell), self.angles, self.k, self.theta0)

    def parameters(self) -> dict:
        return {"kind": "harmonic_angles", "n": len(self.angles), "convention": "E = K (theta - theta0)^2"}


@njit(cache=True)
def _tether_kernel(pos, cell, inv, atoms, anchors, k, n):
    energy = np.zeros(n)
    forces = np.zeros((n, 3))
    virial = np.zeros((3, 3))
    for m in range(atoms.shape[0]):
        i = atoms[m]
        d = _mic(pos[i] - anchors[m], cell, inv)
        e = k * (d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
        energy[i] += e
        for a in range(3):
            f = -2.0 * k * d[a]
            forces[i, a] += f
            for c in range(3):
                virial[c, a] += d[c] * f
    return energy, forces, virial


class HarmonicTether:
    """Springs ``E = K |r_i - r_i^0|^2`` (minimum image) holding chosen atoms near anchor points.

    Used to keep a crystal slab in place while the rest of the box melts and quenches. K in eV/Å^2. The anchors are
    fixed in space, so the term breaks translation invariance; its virial ``sum (r_i - r_i^0)_a F_i,b`` is reported
    for completeness but runs with tethers should not use a barostat.
    """

    name = "tether"
    cutoff = 0.0

    def __init__(self, atoms, anchors, k: float):
        self.atoms = np.ascontiguousarray(np.asarray(atoms, dtype=np.int64).reshape(-1))
        self.anchors = np.ascontiguousarray(np.asarray(anchors, dtype=np.float64).reshape(-1, 3))
        if len(self.anchors) != len(self.atoms):
            raise ParameterError(f"{len(self.anchors)} anchors for {len(self.atoms)} tethered atoms.",
                                 fix="give one anchor position (x, y, z in Å) per tethered atom.")
        if not (np.isfinite(k) and k >= 0):
            raise ParameterError(f"the tether constant must be >= 0 eV/Å^2, got {k}.",
                                 fix="give the tether constant k as a finite number >= 0 in eV/Å^2.")
        self.k = float(k)

    def compute(self, positions, cell, nlist=None):
        pos = np.ascontiguousarray(positions, dtype=np.float64)
        cell = np.ascontiguousarray(cell, dtype=np.float64)
        _check_indices(self.atoms, pos.shape[0], "tether")
        return _tether_kernel(pos, cell, np.linalg.inv(cell), self.atoms, self.anchors, self.k, pos.shape[0])

    def parameters(self) -> dict:
        return {"kind": "harmonic_tether", "n": len(self.atoms), "k": self.k}
