"""Reference periodic Voronoi volumes: scipy's Qhull on the atoms and their periodic images (ssefeat's former
implementation, kept as an independent check of :mod:`ssefeat.features.voronoi` and as the timing peer in
benchmarks/bench_voronoi.py)."""
import numpy as np
from scipy.spatial import Voronoi

from ssefeat import box as _box

MAX_VORONOI_BUFFER = 2.0


def qhull_voronoi_volumes(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Voronoi cell volume (Å^3) of every atom of one periodic configuration, in float64.

    scipy's Qhull tessellates the atoms and their periodic images within a buffer around the cell; the volume of
    a cell is the sum over its faces of (face area x half the distance to the neighbour) / 3 (faces come from
    Qhull's ordered ridge polygons, so everything is vectorised). The buffer grows until every cell is closed and
    the volumes fill the cell exactly.
    """
    positions = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    n = len(positions)
    s = _box.to_fractional(positions, cell) % 1.0
    s[s >= 1.0] = 0.0
    volume = abs(float(_box.cell_volume(cell)))
    widths = _box.perpendicular_widths(cell)
    spacing = (volume / max(n, 1)) ** (1.0 / 3.0)
    buffer = min(MAX_VORONOI_BUFFER, 3.0 * spacing / float(widths.min()))
    reach = 0
    while True:
        if int(np.ceil(buffer)) > reach:  # periodic images up to `reach` cells away
            reach = int(np.ceil(buffer))
            r = np.arange(-reach, reach + 1)
            shifts = np.stack(np.meshgrid(r, r, r, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float64)
            images = (s[None] + shifts[:, None]).reshape(-1, 3)
            owner = np.tile(np.arange(n), len(shifts))
            home = np.repeat(np.all(shifts == 0, axis=1), n)
        keep = np.all((images > -buffer) & (images < 1.0 + buffer), axis=1)
        pts = images[keep] @ cell
        vor = Voronoi(pts)
        ridges = vor.ridge_vertices
        lens = np.fromiter((len(r) for r in ridges), dtype=np.int64, count=len(ridges))
        flat = np.fromiter((v for r in ridges for v in r), dtype=np.int64, count=int(lens.sum()))
        rid = np.repeat(np.arange(len(ridges)), lens)
        start = np.concatenate([[0], np.cumsum(lens)[:-1]])
        nxt = np.arange(flat.size) + 1
        nxt[start + lens - 1] = start
        local_home = np.flatnonzero(home[keep])
        is_home = np.zeros(len(pts), dtype=bool)
        is_home[local_home] = True
        rp = vor.ridge_points
        touches_home = is_home[rp[:, 0]] | is_home[rp[:, 1]]
        open_ridge = np.zeros(len(ridges), dtype=bool)
        np.logical_or.at(open_ridge, rid, flat < 0)
        if not np.any(open_ridge & touches_home):
            verts = vor.vertices[np.maximum(flat, 0)]
            centre = np.zeros((len(ridges), 3))
            np.add.at(centre, rid, verts)
            centre /= np.maximum(lens, 1)[:, None]
            a = verts - centre[rid]
            b = vor.vertices[np.maximum(flat[nxt], 0)] - centre[rid]
            area_vec = np.zeros((len(ridges), 3))
            np.add.at(area_vec, rid, 0.5 * np.cross(a, b))
            pyramid = np.linalg.norm(area_vec, axis=1) * 0.5 * np.linalg.norm(pts[rp[:, 1]] - pts[rp[:, 0]], axis=1) / 3
            pyramid[open_ridge] = 0.0
            vol = np.zeros(len(pts))
            np.add.at(vol, rp[:, 0], pyramid)
            np.add.at(vol, rp[:, 1], pyramid)
            out = np.zeros(n)
            out[owner[keep][local_home]] = vol[local_home]
            if abs(out.sum() - volume) <= 1e-8 * volume:
                return out
        if buffer >= MAX_VORONOI_BUFFER:
            raise RuntimeError(f"the periodic Voronoi tessellation of {n} atoms did not fill the cell.")
        buffer = min(MAX_VORONOI_BUFFER, 2.0 * buffer)
