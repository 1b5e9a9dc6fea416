"""Li-site polyhedra: nearest-anion tetrahedra and octahedra, their volume and continuous symmetry measure (CSM).

For every centre ion (default Li) in every frame:

- the k nearest anions (default S) under minimum image, k = 4 (tetrahedron, ``T``) and k = 6 (octahedron, ``O``),
  searched within ``r_max``; the vertices are made whole as centre + minimum-image vectors, so a site that straddles
  the periodic boundary is intact;
- ``volume_T`` / ``volume_O``: the convex-hull volume of those vertices in Å^3 (exact for 4 points, |det|/6; for 6
  points a numba facet enumeration, with scipy ``ConvexHull`` for degenerate sets with coplanar facet points);
- ``csm_T`` / ``csm_O``: the CSM against the ideal tetrahedron / octahedron (pymatgen ChemEnv's T:4 / O:6).
  Convention (pymatgen's): ``100 * min sum_i |P_i - s R Q_i|^2 / sum_i |P_i|^2`` over vertex permutations, rotations
  R and scales s applied to the real points Q, normalised by the ideal points P. With ``include_centre=True``
  (default) the centre ion is an extra point matched to the centre of the ideal polyhedron and both sets are
  centred on their centroid including it: the value ChemEnv reports as ``csm``. With ``include_centre=False`` only
  the vertices are used, centred on their centroid (ChemEnv's ``csm_wocs_ctwocc``; SCIENCE.md's formula). 0 = ideal,
  100 = maximal distortion; the value does not depend on orientation or size;
- ``valid_T`` / ``valid_O``: False when fewer than k anions lie within ``r_max``; volume and CSM are then NaN;
- ``site``: ``"T"`` or ``"O"``, whichever CSM is lower (a heuristic site label; "" when neither is valid);
- ``neighbors`` / ``neighbor_distances (frame, atom, rank)``: the atom ids (-1 missing) and distances (NaN) of
  the 6 nearest anions;
- ``volume_per_anion (frame)``: cell volume / number of anions, Å^3 (the seed's "volume per S").
"""
from __future__ import annotations

from typing import Sequence

import numba
import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, species_indices, validate
from ..errors import ParameterError
from ..neighbors import frame_pairs
from ..provenance import stamp
from ._csm import csm as _csm

__all__ = ["li_polyhedra", "hull_volume", "SHAPES"]

#: shape label -> (pymatgen symbol, number of vertices)
SHAPES = {"T": ("T:4", 4), "O": ("O:6", 6)}


@numba.njit(cache=True, parallel=True)
def _hull_volume_kernel(points):
    """Convex-hull volume of each small point set (n, k, 3) by facet enumeration.

    A triangle (a, b, c) is a facet when every other point lies on one side of its plane; the volume is the sum of
    the tetrahedra (centroid, facet). Returns (volume, degenerate) where degenerate marks sets with a fourth point
    in a facet plane (facets would be counted twice) or without extent; those are recomputed by the caller.
    """
    n, k = points.shape[0], points.shape[1]
    vol = np.zeros(n)
    degenerate = np.zeros(n, dtype=np.bool_)
    for t in numba.prange(n):
        c = np.zeros(3)
        for i in range(k):
            for a in range(3):
                c[a] += points[t, i, a] / k
        scale = 0.0
        for i in range(k):
            d = 0.0
            for a in range(3):
                d += (points[t, i, a] - c[a]) ** 2
            scale = max(scale, np.sqrt(d))
        if not (scale > 0.0):
            degenerate[t] = True
            continue
        tol = 1e-9 * scale
        v = 0.0
        for i in range(k):
            for j in range(i + 1, k):
                for m in range(j + 1, k):
                    e1 = points[t, j] - points[t, i]
                    e2 = points[t, m] - points[t, i]
                    nx = e1[1] * e2[2] - e1[2] * e2[1]
                    ny = e1[2] * e2[0] - e1[0] * e2[2]
                    nz = e1[0] * e2[1] - e1[1] * e2[0]
                    nn = np.sqrt(nx * nx + ny * ny + nz * nz)
                    if nn <= tol * scale:
                        continue
                    pos = False
                    neg = False
                    zero = False
                    for o in range(k):
                        if o == i or o == j or o == m:
                            continue
                        d = ((points[t, o, 0] - points[t, i, 0]) * nx + (points[t, o, 1] - points[t, i, 1]) * ny
                             + (points[t, o, 2] - points[t, i, 2]) * nz) / nn
                        if d > tol:
                            pos = True
                        elif d < -tol:
                            neg = True
                        else:
                            zero = True
                    if pos and neg:
                        continue
                    if zero:
                        degenerate[t] = True
                    v += abs((points[t, i, 0] - c[0]) * nx + (points[t, i, 1] - c[1]) * ny
                             + (points[t, i, 2] - c[2]) * nz) / 6.0
        vol[t] = v
    return vol, degenerate


def hull_volume(points: np.ndarray) -> np.ndarray:
    """Convex-hull volume (Å^3) of point sets (n, k, 3) (or one set (k, 3)); NaN for sets containing NaN.

    k = 4 uses |det|/6; larger k a numba facet enumeration, falling back to ``scipy.spatial.ConvexHull`` for
    degenerate sets (coplanar facet points); flat sets have volume 0.
    """
    from scipy.spatial import ConvexHull, QhullError

    pts = np.asarray(points, dtype=np.float64)
    single = pts.ndim == 2
    if single:
        pts = pts[None]
    bad = ~np.isfinite(pts).all(axis=(1, 2))
    out = np.full(len(pts), np.nan)
    good = np.flatnonzero(~bad)
    if pts.shape[1] == 4:
        e = pts[good, 1:] - pts[good, :1]
        out[good] = np.abs(np.linalg.det(e)) / 6.0
    elif len(good):
        vol, deg = _hull_volume_kernel(np.ascontiguousarray(pts[good]))
        out[good] = vol
        for idx in good[deg]:  # rare: exactly coplanar facet points (ideal shapes, lattices)
            try:
                out[idx] = ConvexHull(pts[idx]).volume
            except QhullError:
                out[idx] = 0.0
    return float(out[0]) if single else out


def li_polyhedra(ds: xr.Dataset, centre: str = "Li", ligand: str | Sequence[str] = "S",
                 shapes: Sequence[str] = ("T", "O"), r_max: float | None = None,
                 include_centre: bool = True, neighbors=None) -> xr.Dataset:
    """Volume and CSM of the nearest-anion tetrahedron and octahedron of every centre ion (module docstring).

    Parameters
    ----------
    ds : trajectory Dataset (periodic)
    centre : species of the centre ions (default ``"Li"``)
    ligand : anion species forming the polyhedra (default ``"S"``; several allowed, e.g. ``("S", "Cl")``)
    shapes : any of ``"T"`` (4 nearest, tetrahedron) and ``"O"`` (6 nearest, octahedron)
    r_max : search radius in Å for the nearest anions (default 6 Å, or just below half the smallest cell width
        when that is smaller); a centre with fewer anions within it gets NaN and ``valid_* = False``.
    include_centre : pymatgen's default CSM (centre ion included) or the vertices-only CSM; see module docstring.
    neighbors : one :class:`~ssefeat.neighbors.FrameNeighbors` per frame to take the pairs from (optional)

    Returns
    -------
    Dataset (frame, atom[, rank]) over the centre ions.
    """
    validate(ds, require_cell=True, periodic="the polyhedra analysis")
    shapes = [str(s).upper()[0] for s in shapes]
    for s in shapes:
        if s not in SHAPES:
            raise ParameterError(f"unknown polyhedron shape {s!r}.", fix="use 'T' (tetrahedron) and/or 'O' "
                                                                         "(octahedron).")
    if not shapes:
        raise ParameterError("no polyhedron shape asked for.", fix="use shapes=('T', 'O').")
    ligands = [ligand] if isinstance(ligand, str) else list(ligand)
    sp = np.asarray(ds["species"].values).astype(str)
    cen = species_indices(sp, centre, "atoms of centre species")
    lig = species_indices(sp, ligands, "atoms of ligand species")
    cells = cell_array(ds)
    half = 0.5 * float(_box.perpendicular_widths(cells).min())
    if r_max is None:
        r_max = min(6.0, half * 0.999)
    r_max = float(r_max)
    atom_ids = np.asarray(ds["atom"].values)
    kmax = max(SHAPES[s][1] for s in shapes)
    n_frames, n_cen = ds.sizes["frame"], len(cen)
    positions = np.asarray(ds["positions"].values, dtype=np.float64)

    verts = np.full((n_frames, n_cen, kmax, 3), np.nan)
    dist = np.full((n_frames, n_cen, kmax), np.nan)
    nbr = np.full((n_frames, n_cen, kmax), -1, dtype=np.int64)
    found = np.zeros((n_frames, n_cen), dtype=np.int64)
    for f in range(n_frames):
        pairs = frame_pairs(neighbors, f, positions[f], cells[f], r_max, query=cen, points=lig)
        order = np.lexsort((pairs.j, pairs.distances, pairs.i))
        i, j, d, vec = pairs.i[order], pairs.j[order], pairs.distances[order], pairs.vectors[order]
        counts = np.bincount(i, minlength=n_cen)
        start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(len(i)) - start[i]
        keep = rank < kmax
        i, j, d, vec, rank = i[keep], j[keep], d[keep], vec[keep], rank[keep]
        verts[f, i, rank] = positions[f, cen[i]] + vec
        dist[f, i, rank] = d
        nbr[f, i, rank] = atom_ids[lig[j]]
        found[f] = np.minimum(counts, kmax)

    centre_pos = positions[:, cen]
    data = {}
    for s in shapes:
        symbol, k = SHAPES[s]
        valid = found >= k
        v = verts[:, :, :k].reshape(-1, k, 3)
        ok = valid.reshape(-1)
        vol = np.full(n_frames * n_cen, np.nan)
        cs = np.full(n_frames * n_cen, np.nan)
        if ok.any():
            vol[ok] = hull_volume(v[ok])
            cs[ok] = _csm(v[ok], symbol, centre=centre_pos.reshape(-1, 3)[ok], include_centre=include_centre)
        data[f"volume_{s}"] = (("frame", "atom"), vol.reshape(n_frames, n_cen),
                               {"units": "angstrom^3", "description": f"convex-hull volume of the {k} nearest "
                                                                      f"{'/'.join(ligands)}"})
        data[f"csm_{s}"] = (("frame", "atom"), cs.reshape(n_frames, n_cen),
                            {"units": "1", "description": f"continuous symmetry measure vs {symbol} "
                                                          f"({'centre included' if include_centre else 'vertices only'}"
                                                          ", pymatgen convention)"})
        data[f"valid_{s}"] = (("frame", "atom"), valid)
    if len(shapes) == 2:
        ct, co = data["csm_T"][1], data["csm_O"][1]
        site = np.where(np.isnan(co) | (ct <= co), "T", "O")
        site = np.where(np.isnan(ct) & np.isnan(co), "", site)
        site = np.where(np.isnan(ct) & ~np.isnan(co), "O", site)
        data["site"] = (("frame", "atom"), site.astype("<U1"),
                        {"description": "T or O, whichever CSM is lower (heuristic)"})
    data["neighbors"] = (("frame", "atom", "rank"), nbr, {"description": "atom ids of the nearest anions, -1 "
                                                                         "when fewer within r_max"})
    data["neighbor_distances"] = (("frame", "atom", "rank"), dist, {"units": "angstrom"})
    data["vertices"] = (("frame", "atom", "rank", "xyz"), verts,
                        {"units": "angstrom", "description": "whole vertex positions (centre + minimum image)"})
    data["volume_per_anion"] = (("frame",), np.abs(_box.cell_volume(cells)) / max(len(lig), 1),
                                {"units": "angstrom^3", "description": "cell volume / number of anions"})
    coords = {"frame": ds["frame"].values, "atom": atom_ids[cen], "rank": np.arange(kmax), "xyz": ["x", "y", "z"],
              "time": ("frame", ds["time"].values, {"units": "ps"}), "species": ("atom", sp[cen])}
    out = xr.Dataset(data, coords=coords)
    params = {"centre": centre, "ligand": ligands, "shapes": shapes, "r_max": r_max,
              "include_centre": bool(include_centre), "csm_convention": "pymatgen ChemEnv symmetry_measure "
              "(scale on real points, normalised by ideal points)"}
    return stamp(out, parameters=params, units="angstrom^3", analysis="ssefeat.features.li_polyhedra")
