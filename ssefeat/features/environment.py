"""Cluster environment of mobile ions: which anion clusters surround each Li.

For a mobile ion i (default Li) and each cluster type c (from :mod:`ssefeat.features.clusters`):

- ``fraction (frame, atom, cluster_type)``: the fraction of anion atoms (default S) within ``r_env`` of i
  (minimum image; thesis value 5 Å) that belong to clusters of type c. The fractions of one ion sum to 1 whenever
  at least one anion atom is within ``r_env``. **When none is, every fraction is 0** and ``n_anions`` is 0, so
  ``n_anions > 0`` is the validity flag (also given as ``has_anions``).
- ``count (frame, atom, cluster_type)`` and ``n_anions (frame, atom)``: the numbers of those anion atoms.
- ``nearest_cluster_type``, ``nearest_cluster_id`` and ``nearest_cluster_distance (frame, atom)``: the cluster
  that owns the framework atom (any member, P or S) closest to i, and that distance in Å. This is the distance to
  the nearest *member atom*, not to the cluster's centre of mass. It is searched within ``r_env`` first and over
  all framework atoms (minimum image) for ions with nothing that close.

Anion atoms that belong to a cluster of a type missing from ``cluster_types`` count in ``n_anions`` but in no
fraction column; give ``cluster_types`` explicitly for chunked runs so that every chunk has the same columns.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, species_indices, validate
from ..errors import ParameterError
from ..neighbors import frame_pairs
from ..provenance import parameters_of, stamp
from .clusters import DEFAULT_SPECIES, find_clusters

__all__ = ["cluster_environment"]


def _type_codes(types: np.ndarray, cluster_types: Sequence[str]) -> np.ndarray:
    """Column of each atom's cluster type in ``cluster_types`` (-1 when absent), vectorised."""
    names = np.asarray(cluster_types, dtype=str)
    if not len(types) or not names.size:
        return np.full(len(types), -1, dtype=np.int64)
    order = np.argsort(names)
    pos = np.minimum(np.searchsorted(names[order], types), names.size - 1)
    return np.where(names[order][pos] == types, order[pos], -1).astype(np.int64)


def cluster_environment(ds: xr.Dataset, clusters: xr.Dataset | None = None, mobile: str = "Li",
                        anion: str = "S", r_env: float = 5.0, cluster_types: Sequence[str] | None = None,
                        species: Sequence[str] = DEFAULT_SPECIES, cutoffs: Mapping | None = None,
                        neighbors=None) -> xr.Dataset:
    """Cluster-type fractions of the anion atoms around every mobile ion, and its nearest cluster.

    Parameters
    ----------
    ds : trajectory Dataset (periodic)
    clusters : Dataset from :func:`~ssefeat.features.clusters.find_clusters` on the same frames; computed with
        ``species`` and ``cutoffs`` when omitted.
    mobile : species of the ions described (default ``"Li"``).
    anion : species of the anion atoms counted (default ``"S"``); must be a framework species of ``clusters``.
    r_env : environment radius in Å (default 5, as in the thesis); below half the smallest cell width.
    cluster_types : the cluster types (columns), default the types present in ``clusters``.
    neighbors : one :class:`~ssefeat.neighbors.FrameNeighbors` per frame to take the pairs from (optional)

    Returns
    -------
    Dataset (frame, atom[, cluster_type]) over the mobile ions; see the module docstring.
    """
    validate(ds, require_cell=True, periodic="the cluster environment")
    if clusters is None:
        clusters = find_clusters(ds, species=species, cutoffs=cutoffs)
    if not np.array_equal(clusters["frame"].values, ds["frame"].values) or \
            not np.array_equal(clusters["atom"].values, ds["atom"].values):
        raise ParameterError("the clusters were computed on other frames or atoms than this trajectory.",
                             fix="pass clusters = find_clusters(ds) of the same Dataset (or chunk).")
    sp = np.asarray(ds["species"].values).astype(str)
    species_indices(sp, mobile, "atoms of mobile species")
    species_indices(sp, anion, "atoms of anion species")
    framework = parameters_of(clusters).get("species")
    if framework is not None and anion not in framework:
        raise ParameterError(f"anion species {anion!r} is not a framework species of the clusters {framework}.",
                             fix="find clusters with the anion among their species, e.g. species=('P', 'S').")
    mob = np.flatnonzero(sp == mobile)
    ani = np.flatnonzero(sp == anion)
    cid = np.asarray(clusters["cluster_id"].values)
    fw = np.flatnonzero(cid[0] >= 0)
    ctype = np.asarray(clusters["cluster_type"].values).astype(str)
    if cluster_types is None:
        cluster_types = sorted(set(ctype[:, ani].ravel().tolist()) - {""})
    cluster_types = [str(t) for t in cluster_types]
    n_t = len(cluster_types)
    cells = cell_array(ds)
    positions = np.asarray(ds["positions"].values, dtype=np.float64)
    n_frames, n_mob = ds.sizes["frame"], len(mob)

    count = np.zeros((n_frames, n_mob, n_t), dtype=np.int64)
    n_anions = np.zeros((n_frames, n_mob), dtype=np.int64)
    near_d = np.full((n_frames, n_mob), np.inf)
    near_atom = np.full((n_frames, n_mob), -1, dtype=np.int64)
    for f in range(n_frames):
        cell = cells[f]
        pairs = frame_pairs(neighbors, f, positions[f], cell, r_env, query=mob, points=ani)
        n_anions[f] = np.bincount(pairs.i, minlength=n_mob)
        tcode = _type_codes(ctype[f, ani], cluster_types)
        col = tcode[pairs.j]
        ok = col >= 0
        np.add.at(count[f], (pairs.i[ok], col[ok]), 1)
        # nearest framework atom: within r_env, then brute force for the ions with none that close
        near = frame_pairs(neighbors, f, positions[f], cell, r_env, query=mob, points=fw)
        if len(near.i):
            # per query i, the pair of smallest distance
            order = np.lexsort((near.distances, near.i))
            ii, dd, jj = near.i[order], near.distances[order], near.j[order]
            first = np.concatenate([[True], ii[1:] != ii[:-1]])
            near_d[f, ii[first]] = dd[first]
            near_atom[f, ii[first]] = fw[jj[first]]
        missing = np.flatnonzero(near_atom[f] < 0)
        if len(missing) and len(fw):
            vec = _box.minimum_image(positions[f, fw][None, :, :] - positions[f, mob[missing]][:, None, :], cell)
            d = np.sqrt(np.einsum("abk,abk->ab", vec, vec))
            k = np.argmin(d, axis=1)
            near_d[f, missing] = d[np.arange(len(missing)), k]
            near_atom[f, missing] = fw[k]
    total = n_anions[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(total > 0, count / np.maximum(total, 1), 0.0)
    fidx = np.arange(n_frames)[:, None]
    near_id = np.where(near_atom >= 0, cid[fidx, np.maximum(near_atom, 0)], -1)
    near_type = np.where(near_atom >= 0, ctype[fidx, np.maximum(near_atom, 0)], "")
    near_d[near_atom < 0] = np.nan

    coords = {"frame": ds["frame"].values, "atom": ds["atom"].values[mob], "cluster_type": cluster_types,
              "time": ("frame", ds["time"].values, {"units": "ps"}),
              "species": ("atom", sp[mob])}
    out = xr.Dataset(
        {
            "fraction": (("frame", "atom", "cluster_type"), fraction,
                         {"units": "1", "description": f"fraction of {anion} within r_env in clusters of each "
                                                       "type; all 0 when n_anions == 0"}),
            "count": (("frame", "atom", "cluster_type"), count, {"units": "1"}),
            "n_anions": (("frame", "atom"), n_anions, {"units": "1",
                                                       "description": f"{anion} atoms within r_env"}),
            "has_anions": (("frame", "atom"), n_anions > 0),
            "nearest_cluster_type": (("frame", "atom"), near_type.astype(str)),
            "nearest_cluster_id": (("frame", "atom"), near_id),
            "nearest_cluster_distance": (("frame", "atom"), near_d,
                                         {"units": "angstrom",
                                          "description": "distance to the nearest member atom of any cluster"}),
        },
        coords=coords,
    )
    params = {"mobile": mobile, "anion": anion, "r_env": float(r_env), "cluster_types": cluster_types,
              "clusters": parameters_of(clusters)}
    return stamp(out, parameters=params, units="1", analysis="ssefeat.features.cluster_environment")
