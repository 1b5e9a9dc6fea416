"""The periodic simulation cell: volume, fractional coordinates, minimum image, wrapping, freud boxes.

Convention: a cell is a (3, 3) array whose *rows* are the cell vectors a, b, c (Å), so a Cartesian position is
``r = s @ cell`` for fractional coordinates ``s``. Arrays may carry leading frame dimensions: ``(..., 3, 3)``.
Minimum image is taken by rounding fractional differences (the convention of LAMMPS, freud and OVITO); in very
skewed triclinic cells this is exact only for separations shorter than half the shortest perpendicular width,
which is why the MD engine and the analyses refuse cutoffs above that (:func:`check_cutoff`, the one check).
"""
from __future__ import annotations

import math

import numpy as np

from .errors import ParameterError


def cell_volume(cell: np.ndarray) -> np.ndarray:
    """Signed volume det(cell) in Å^3 (positive for a right-handed cell); works on (..., 3, 3)."""
    return np.linalg.det(np.asarray(cell, dtype=np.float64))


#: stacks of at most this many cells take the one-cell path cell by cell (the same values; 7 us per cell against
#: 40 us for the whole-array path's fancy indexing)
_FEW_CELLS = 4


def perpendicular_widths(cell: np.ndarray) -> np.ndarray:
    """Distances (Å) between opposite faces of the cell, shape (..., 3).

    A cutoff r_c is safe for minimum-image analyses when ``r_c < min(widths) / 2``.
    """
    cell = np.asarray(cell, dtype=np.float64)
    if cell.ndim == 3 and len(cell) <= _FEW_CELLS:  # a frame pair's cells (D2min, unwrapping): one by one is faster
        return np.array([perpendicular_widths(c) for c in cell]).reshape(cell.shape[:-1])
    vol = np.abs(cell_volume(cell))
    if cell.shape == (3, 3):  # one cell, on every analysis call's path: the same products on Python floats (~5x)
        (a0, a1, a2), (b0, b1, b2), (c0, c1, c2) = cell.tolist()
        v = float(vol)
        return np.array([v / math.sqrt(x * x + y * y + z * z) for x, y, z in (
            (b1 * c2 - b2 * c1, b2 * c0 - b0 * c2, b0 * c1 - b1 * c0),
            (c1 * a2 - c2 * a1, c2 * a0 - c0 * a2, c0 * a1 - c1 * a0),
            (a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0))])
    # |b x c|, |c x a|, |a x b| written out (np.cross's axis handling costs ~0.1 ms per call, this is on every
    # analysis call's path); same products and order as np.cross
    u, v = cell[..., [1, 2, 0], :], cell[..., [2, 0, 1], :]
    cross = (u[..., [1, 2, 0]] * v[..., [2, 0, 1]] - u[..., [2, 0, 1]] * v[..., [1, 2, 0]])
    return vol[..., None] / np.sqrt((cross * cross).sum(axis=-1))


def check_cutoff(cutoff: float, cells: np.ndarray, what: str = "cutoff", units: str = "Å", frames=None,
                 hint: str | None = None) -> float:
    """Raise ParameterError unless 0 < cutoff < half the smallest perpendicular width of every cell; return it.

    cells (3, 3) or (F, 3, 3); ``frames`` labels those F frames in the message; ``hint`` tells how to set the cutoff.
    """
    u = f" {units}" if units else ""
    c = float(cutoff) if np.ndim(cutoff) == 0 else float("nan")
    if not math.isfinite(c) or c <= 0:
        raise ParameterError(f"{what} must be a positive length, got {cutoff}.",
                             fix=f"give the {what} as a positive length" + (f" in {units}." if units else "."))
    half = 0.5 * perpendicular_widths(np.asarray(cells, dtype=np.float64).reshape(-1, 3, 3)).min(axis=-1)
    if c >= half.min():
        k = int(np.flatnonzero(c >= half)[0])
        where = "" if frames is None else f" in frame {np.asarray(frames)[k]}"
        raise ParameterError(
            f"{what} = {c:.4g}{u} is not below half the smallest cell width ({half[k]:.4g}{u}{where}): an atom "
            "would see its own periodic image and minimum image would be ambiguous.",
            fix=f"make the {what} smaller than {half.min():.4g}{u}" + (f" ({hint})" if hint else "")
                + ", or use a larger cell (more atoms or a replicated cell).")
    return c


def to_fractional(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Fractional coordinates ``s = r @ inv(cell)``; positions (..., N, 3), cell (..., 3, 3)."""
    return np.asarray(positions, dtype=np.float64) @ np.linalg.inv(np.asarray(cell, dtype=np.float64))


def to_cartesian(fractional: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Cartesian positions ``r = s @ cell`` (Å)."""
    return np.asarray(fractional, dtype=np.float64) @ np.asarray(cell, dtype=np.float64)


def minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Shortest periodic image of separation vectors (..., 3) in the cell (3, 3) or (..., 3, 3) broadcastable."""
    cell = np.asarray(cell, dtype=np.float64)
    vectors = np.asarray(vectors, dtype=np.float64)
    if cell.ndim == 2:
        # einsum, not @: BLAS threads on (N, 3) x (3, 3) products cost more than they save
        s = np.einsum("...i,ij->...j", vectors, np.linalg.inv(cell))
        s -= np.round(s)
        return np.einsum("...i,ij->...j", s, cell)
    s = vectors @ np.linalg.inv(cell)  # per-frame cells: matmul broadcasting (..., N, 3) @ (..., 3, 3)
    s -= np.round(s)
    return s @ cell


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Wrap positions into the cell [0, 1) in fractional coordinates.

    Returns the wrapped positions (Å) and the integer image flags such that
    ``unwrapped = wrapped + images @ cell``.
    """
    s = to_fractional(positions, cell)
    images = np.floor(s)
    wrapped = to_cartesian(s - images, cell)
    return wrapped, images.astype(np.int64)


def lattice_parameters(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (a, b, c) in Å and angles (alpha, beta, gamma) in degrees of one cell (3, 3)."""
    cell = np.asarray(cell, dtype=np.float64)
    lengths = np.linalg.norm(cell, axis=-1)
    a, b, c = cell
    def angle(u, v):
        return np.degrees(np.arccos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))
    return lengths, np.array([angle(b, c), angle(a, c), angle(a, b)])


def upper_triangular_form(cell: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """freud / HOOMD box parameters (Lx, Ly, Lz, xy, xz, yz) of a cell, computed in float64.

    The box is the same lattice rotated so that a is along x and b in the xy plane.
    """
    cell = np.asarray(cell, dtype=np.float64)
    v0, v1, v2 = cell[0], cell[1], cell[2]
    lx = np.sqrt(v0 @ v0)
    a2x = v0 @ v1 / lx
    ly = np.sqrt(v1 @ v1 - a2x * a2x)
    xy = a2x / ly
    cross = np.cross(v0, v1)
    lz = v2 @ cross / np.sqrt(cross @ cross)
    a3x = v0 @ v2 / lx
    xz = a3x / lz
    yz = (v1 @ v2 - a2x * a3x) / (ly * lz)
    return float(lx), float(ly), float(lz), float(xy), float(xz), float(yz)


def to_freud(cell: np.ndarray, positions: np.ndarray):
    """A ``freud.box.Box`` and the positions expressed in it (float32, centred box as freud expects).

    freud works in single precision; use it to *find* neighbours and recompute exact float64 separations with
    :func:`minimum_image` where precision matters.
    """
    import freud

    lx, ly, lz, xy, xz, yz = upper_triangular_form(cell)
    box = freud.box.Box(Lx=lx, Ly=ly, Lz=lz, xy=xy, xz=xz, yz=yz)
    s = to_fractional(positions, cell)
    s = s - np.floor(s) - 0.5
    freud_cell = np.array([[lx, 0.0, 0.0], [xy * ly, ly, 0.0], [xz * lz, yz * lz, lz]])
    return box, (s @ freud_cell).astype(np.float32)
