"""Partial Li-S radial distribution functions by anion type, for soft and hard Li (thesis Fig. 5-8a).

g_t(r) of the pairs (Li, S atom of an anion of type t): over the chosen frames, the number of such S atoms in the
shell [r, r + dr) around soft (S > 0) or hard (S < 0) Li, divided by the number of those Li, the number density of
type-t S atoms in that frame and the shell volume 4/3 pi ((r + dr)^3 - r^3). Anion types per S atom come from
:func:`~ssefeat.features.clusters.find_clusters` (``cluster_type``).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError

__all__ = ["soft_hard_rdf"]


def soft_hard_rdf(ds: xr.Dataset, softness: xr.DataArray, types=("PS4", "P2S7", "P2S6"), *, r_max: float = 6.0,
                  dr: float = 0.05, max_frames: int = 20, mobile: str = "Li", anion: str = "S") -> xr.Dataset:
    """``g (group, cluster_type, r)`` with group "soft" / "hard", r the shell centres (Å), and ``n_centres``
    (group) the Li-frame samples behind each curve (up to ``max_frames`` evenly spaced softness frames)."""
    from ..data import cell_array
    from ..features.clusters import find_clusters
    from ..neighbors import neighbor_pairs

    if r_max <= 0 or dr <= 0 or dr >= r_max:
        raise ParameterError(f"need 0 < dr < r_max, got dr={dr}, r_max={r_max}.",
                             fix="give 0 < dr < r_max in Å, e.g. dr=0.05, r_max=8.")
    frames = softness["frame"].values
    pick = frames[np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int))]
    sub = ds.sel(frame=pick)
    ctype = np.asarray(find_clusters(sub)["cluster_type"].values).astype(str)
    sp = np.asarray(sub["species"].values).astype(str)
    li = np.flatnonzero(sp == mobile)
    cells = cell_array(sub)
    edges = np.arange(0.0, r_max + 0.5 * dr, dr)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    S = softness.sel(frame=pick, atom=sub["atom"].values[li]).transpose("frame", "atom").values
    hist = np.zeros((2, len(types), len(edges) - 1))
    norm = np.zeros((2, len(types)))
    n_centres = np.zeros(2, dtype=np.int64)
    for f in range(len(pick)):
        pos, vol = sub["positions"].values[f], abs(np.linalg.det(cells[f]))
        groups = (S[f] > 0, S[f] < 0)
        n_centres += [int(mask.sum()) for mask in groups]
        for k, t in enumerate(types):
            anions = np.flatnonzero((sp == anion) & (ctype[f] == t))
            if not anions.size:
                continue
            nb = neighbor_pairs(pos, cells[f], r_max, query=li, points=anions)
            for g, mask in enumerate(groups):
                keep = mask[nb.i]
                hist[g, k] += np.histogram(nb.distances[keep], bins=edges)[0]
                norm[g, k] += mask.sum() * anions.size / vol
    with np.errstate(invalid="ignore", divide="ignore"):
        g_r = hist / (norm[:, :, None] * shell[None, None, :])
    return xr.Dataset({"g": (("group", "cluster_type", "r"), g_r, {"units": "1"}),
                       "n_centres": ("group", n_centres)},
                      coords={"group": ["soft", "hard"], "cluster_type": list(types),
                              "r": ("r", 0.5 * (edges[1:] + edges[:-1]), {"units": "angstrom"})},
                      attrs={"frames": pick.tolist(), "dr_angstrom": dr})
