"""Periodic neighbour pairs: freud finds the candidates, float64 minimum image gives exact separations.

freud works in single precision, so pairs are searched with a slightly padded radius and the exact separation
vectors are recomputed in float64 with :func:`ssefeat.box.minimum_image` before the final cutoff test.
Every analysis that needs "neighbours of i within r_c" goes through :func:`neighbor_pairs`, so the
conventions (r_ij = r_j - r_i, pairs sorted by i then j, self-pairs excluded) are the same everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import box as _box
from .errors import ParameterError


@dataclass(frozen=True)
class NeighborPairs:
    """Directed pairs (i -> j) within a cutoff, sorted by i then j.

    Attributes
    ----------
    i, j : int64 arrays (n_pairs,)
        Indices into the query points and the neighbour points respectively.
    vectors : float64 array (n_pairs, 3)
        Minimum-image separation r_j - r_i in Å.
    distances : float64 array (n_pairs,)
        |vectors| in Å.
    n_query : int
        Number of query points (so that per-i counts include atoms with no neighbours).
    cutoff : float
        The cutoff used, Å.
    """

    i: np.ndarray
    j: np.ndarray
    vectors: np.ndarray
    distances: np.ndarray
    n_query: int
    cutoff: float

    @property
    def counts(self) -> np.ndarray:
        """Number of neighbours of each query point, (n_query,)."""
        return np.bincount(self.i, minlength=self.n_query)

    @property
    def offsets(self) -> np.ndarray:
        """CSR offsets, (n_query + 1,): neighbours of i are pairs offsets[i]:offsets[i+1]."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)


def check_cutoff(cutoff: float, cell: np.ndarray, what: str = "cutoff") -> None:
    """Raise ParameterError unless 0 < cutoff < half the smallest perpendicular width of the cell."""
    if not np.isfinite(cutoff) or cutoff <= 0:
        raise ParameterError(f"{what} must be a positive number of Å, got {cutoff}.")
    half = 0.5 * float(_box.perpendicular_widths(cell).min())
    if cutoff >= half:
        raise ParameterError(
            f"{what} = {cutoff:.3g} Å is not below half the smallest cell width ({half:.3g} Å): an atom would "
            "see its own periodic image and minimum image would be ambiguous.",
            fix=f"use a {what} below {half:.3g} Å, or replicate the cell (a larger simulation box).")


def neighbor_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float, query: np.ndarray | None = None,
                   points: np.ndarray | None = None, r_min: float = 0.0) -> NeighborPairs:
    """All directed pairs (i, j) with r_min < |r_j - r_i| < cutoff under periodic minimum image.

    Parameters
    ----------
    positions : (N, 3) Å
    cell : (3, 3) Å, rows are cell vectors (triclinic allowed)
    cutoff : float, Å; must be below half the smallest cell width
    query : int array, optional
        Atom indices acting as centres i (default all). Returned ``i`` indexes into this array.
    points : int array, optional
        Atom indices acting as neighbours j (default all). Returned ``j`` indexes into this array.
        An atom that is both a query and a point is never its own neighbour.
    r_min : float
        Exclude pairs at or below this distance (Å).
    """
    import freud

    positions = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    check_cutoff(cutoff, cell)
    n = positions.shape[0]
    query = np.arange(n) if query is None else np.asarray(query, dtype=np.int64)
    points = np.arange(n) if points is None else np.asarray(points, dtype=np.int64)
    empty = NeighborPairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0),
                          len(query), float(cutoff))
    if len(query) == 0 or len(points) == 0:
        return empty
    fbox, fpos = _box.to_freud(cell, positions)
    padded = min(cutoff * (1 + 1e-5) + 1e-4, 0.5 * float(_box.perpendicular_widths(cell).min()) * 0.99999)
    nq = freud.locality.AABBQuery(fbox, fpos[points])
    nlist = nq.query(fpos[query], {"r_max": padded, "exclude_ii": False}).toNeighborList()
    qi = np.asarray(nlist.query_point_indices, dtype=np.int64)
    pj = np.asarray(nlist.point_indices, dtype=np.int64)
    keep = query[qi] != points[pj]
    qi, pj = qi[keep], pj[keep]
    vec = _box.minimum_image(positions[points[pj]] - positions[query[qi]], cell)
    dist = np.sqrt(np.einsum("ij,ij->i", vec, vec))
    keep = (dist < cutoff) & (dist > r_min)
    qi, pj, vec, dist = qi[keep], pj[keep], vec[keep], dist[keep]
    if not len(qi):
        return empty
    key = qi * len(points) + pj
    if np.any(np.diff(key) <= 0):  # freud usually returns pairs sorted by (i, j) already; sort only if not
        order = np.argsort(key, kind="stable")
        qi, pj, vec, dist = qi[order], pj[order], vec[order], dist[order]
    return NeighborPairs(qi, pj, vec, dist, len(query), float(cutoff))
