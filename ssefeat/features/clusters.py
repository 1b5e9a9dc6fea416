"""Anion clusters: connected components of a bond graph over framework species, labelled and tracked over frames.

A *cluster* is a connected component of the graph whose nodes are the framework atoms (default P and S) and whose
edges are bonds shorter than a pair-specific cutoff (default P-S 2.6 Å, P-P 2.6 Å; pairs not listed, such as S-S,
never bond). Bonds are found with :func:`ssefeat.neighbors.neighbor_pairs` under the minimum-image convention, so a
cluster that straddles the periodic boundary is one cluster, and periodic images never merge clusters (cutoffs must
be below half the smallest cell width). Every framework atom belongs to exactly one cluster; an atom with no bond is
a cluster of its own (a free S2- anion has formula ``"S"``).

Labels
    ``formula``: element counts in a fixed element order (default the order of ``species``, so ``"PS4"``,
    ``"P2S7"``, ``"P2S6"``, ``"B12H12"`` with ``species=("B", "H")``, ``"CB11H12"`` with ``("C", "B", "H")``);
    a count of 1 is not written.
    ``topology``: the bond count of every bonded species pair (pairs and pair order follow the element order),
    e.g. ``"P-P:1,P-S:6"`` for the ethane-like P2S6
    (P-P bond), ``"P-S:8"`` for the corner-sharing P2S7 (one bridging S with two P) and for an edge-sharing P2S6;
    the empty string for a single atom. Formula + topology tell apart every P2Sx anion met in thiophosphates.
    ``cluster_type``: the formula, or ``"formula[topology]"`` with ``topology_in_type=True``.

Whole clusters and centre of mass
    Members are made whole by walking the bond graph (breadth first, from the member of lowest index) and adding
    the float64 minimum-image bond vectors, so a cluster of any extent comes out whole as long as it does not
    percolate through the periodic cell. The whole cluster is then shifted by a lattice vector so that its centre
    of mass lies in the cell ([0, 1) in fractional coordinates); ``whole_positions`` and ``com`` are these
    coordinates. Masses come from the ``mass`` coordinate (unweighted geometric centre when there is none). A
    cluster whose bonds cannot all be reproduced by one whole copy (an infinite, percolating network) is flagged
    ``percolating`` and gets a NaN centre of mass.

Identity over frames
    Cluster ids are global integers that follow clusters through time. Frame f's clusters are matched to frame f-1's
    by member overlap: the pairs (old id, new cluster) are taken greedily by decreasing number of shared atoms
    (ties: lower old id, then lower new label), each old id and each new cluster used at most once; an unmatched
    new cluster gets a fresh id. So ids are unchanged while the bond graph does not change; when two clusters merge
    (PS4 + PS4 -> P2S7) the merged cluster keeps the id of the part sharing most atoms (ties: lower id) and the other
    id retires; when a cluster splits, the largest piece keeps the id. A :class:`ClusterFinder` carries the last
    frame's ids from one chunk to the next, so chunked runs give the same ids as one run.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numba
import numpy as np
import xarray as xr
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .. import box as _box
from ..data import cell_array, species_indices, validate
from ..errors import ParameterError
from ..neighbors import check_cutoff, neighbor_pairs
from ..provenance import stamp

DEFAULT_SPECIES = ("P", "S")
# P-P bonds (2.2-2.3 Å at rest) stretch past 2.4 Å in hot glasses; non-bonded P-P pairs stay beyond 3 Å.
DEFAULT_CUTOFFS = {("P", "S"): 2.6, ("P", "P"): 2.6}

__all__ = ["ClusterFinder", "find_clusters", "cluster_counts", "cluster_members", "DEFAULT_CUTOFFS",
           "DEFAULT_SPECIES"]


def _normalise_cutoffs(cutoffs: Mapping | None, species: Sequence[str]) -> dict[tuple[str, str], float]:
    """{(a, b): r} with a, b sorted, for pairs of framework species with a positive cutoff."""
    raw = DEFAULT_CUTOFFS if cutoffs is None else cutoffs
    out: dict[tuple[str, str], float] = {}
    for key, value in raw.items():
        parts = key.replace(" ", "").split("-") if isinstance(key, str) else list(key)
        if len(parts) != 2:
            raise ParameterError(f"bond cutoff key {key!r} is not a species pair.",
                                 fix='write pairs as "P-S" or ("P", "S").')
        a, b = sorted(str(p) for p in parts)
        if value is None or value == 0 or value is False:
            continue
        value = float(value)
        if not np.isfinite(value) or value < 0:
            raise ParameterError(f"bond cutoff {a}-{b} must be a positive number of Å, got {value}.",
                                 fix=f"give the {a}-{b} bond cutoff as a finite length >= 0 in Å, e.g. the "
                                     f"first minimum of g(r).")
        if a in species and b in species:
            out[(a, b)] = value
    return out


@numba.njit(cache=True)
def _make_whole(pos, offsets, nbr, vec, labels, n_comp, tol):
    """Breadth-first walk of each component from its lowest-index member, adding minimum-image bond vectors.

    Returns whole positions (n, 3) and a per-component flag that is True when some bond vector is not reproduced
    by the whole copy (the component percolates through the periodic cell).
    """
    n = pos.shape[0]
    whole = np.empty_like(pos)
    visited = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    for s in range(n):
        if visited[s]:
            continue
        visited[s] = True
        whole[s] = pos[s]
        head = 0
        tail = 1
        queue[0] = s
        while head < tail:
            i = queue[head]
            head += 1
            for p in range(offsets[i], offsets[i + 1]):
                j = nbr[p]
                if not visited[j]:
                    visited[j] = True
                    for k in range(3):
                        whole[j, k] = whole[i, k] + vec[p, k]
                    queue[tail] = j
                    tail += 1
    bad = np.zeros(n_comp, dtype=np.bool_)
    for i in range(n):
        for p in range(offsets[i], offsets[i + 1]):
            j = nbr[p]
            d = 0.0
            for k in range(3):
                e = whole[j, k] - whole[i, k] - vec[p, k]
                d += e * e
            if d > tol * tol:
                bad[labels[i]] = True
    return whole, bad


def _match(prev_ids: np.ndarray, labels: np.ndarray, n_new: int) -> np.ndarray:
    """Old id for each new component (or -1), by greedy maximum member overlap (see module docstring)."""
    old_u, old_inv = np.unique(prev_ids, return_inverse=True)
    key = old_inv.astype(np.int64) * n_new + labels
    keys, counts = np.unique(key, return_counts=True)
    old_k = keys // n_new
    new_k = keys % n_new
    result = np.full(n_new, -1, dtype=np.int64)
    # fast path: one-to-one overlaps (the bond graph did not change)
    if len(keys) == n_new and len(np.unique(old_k)) == len(keys) and len(np.unique(new_k)) == n_new:
        result[new_k] = old_u[old_k]
        return result
    order = np.lexsort((new_k, old_u[old_k], -counts))
    used_old = np.zeros(len(old_u), dtype=bool)
    for idx in order:  # loop over overlapping (old, new) cluster pairs; only when the graph changed
        o, c = old_k[idx], new_k[idx]
        if used_old[o] or result[c] >= 0:
            continue
        used_old[o] = True
        result[c] = old_u[o]
    return result


class ClusterFinder:
    """Find, label and track anion clusters frame by frame (configure once, ``compute(chunk)`` per chunk).

    Parameters
    ----------
    species : sequence of str
        Framework species forming the bond graph (default ``("P", "S")``). Its order is the element order of the
        formulas unless ``element_order`` is given.
    cutoffs : mapping, optional
        Bond cutoffs in Å per species pair, keys ``("P", "S")`` or ``"P-S"`` (symmetric). Default
        ``{P-S: 2.6, P-P: 2.6}``; pairs not listed (S-S) do not bond.
    element_order : sequence of str, optional
        Order of elements in formulas (e.g. ``("C", "B", "H")`` for CB11H12).
    topology_in_type : bool
        Make ``cluster_type`` ``"formula[topology]"`` instead of the formula.
    track : bool
        Keep ids across frames and chunks by member overlap (default). With False every frame numbers its clusters
        0.. in order of their lowest member index.
    """

    def __init__(self, species: Sequence[str] = DEFAULT_SPECIES, cutoffs: Mapping | None = None,
                 element_order: Sequence[str] | None = None, topology_in_type: bool = False, track: bool = True):
        self.species = tuple(str(s) for s in species)
        if len(self.species) == 0:
            raise ParameterError("no framework species given.", fix='pass species=("P", "S") or similar.')
        self.cutoffs = _normalise_cutoffs(cutoffs, self.species)
        if not self.cutoffs:
            raise ParameterError(f"no bond cutoff applies to the framework species {list(self.species)}.",
                                 fix='give cutoffs={"P-S": 2.6, ...} for pairs of these species.')
        order = list(element_order) if element_order is not None else list(self.species)
        order += [s for s in self.species if s not in order]
        self.element_order = tuple(order)
        self.topology_in_type = bool(topology_in_type)
        self.track = bool(track)
        self.last_ids_ = None   # global cluster id of each framework atom in the last frame seen
        self.next_id_ = 0

    def parameters(self) -> dict:
        return {"species": list(self.species), "cutoffs": {f"{a}-{b}": r for (a, b), r in self.cutoffs.items()},
                "element_order": list(self.element_order), "topology_in_type": self.topology_in_type,
                "track": self.track}

    def reset(self) -> None:
        """Forget the tracked ids (start a new trajectory)."""
        self.last_ids_ = None
        self.next_id_ = 0

    # ------------------------------------------------------------------------------------------------------
    def compute(self, ds: xr.Dataset) -> xr.Dataset:
        """Clusters of every frame of ``ds`` (a chunk); see the module docstring for the variables' meaning.

        Returns a Dataset with
        ``cluster_id (frame, atom)`` int (-1 for non-framework atoms), ``cluster_type (frame, atom)`` str ("" for
        non-framework atoms), ``whole_positions (frame, atom, xyz)`` Å (NaN for non-framework atoms), and per
        cluster id ``present``, ``formula``, ``topology``, ``type``, ``n_members``, ``percolating``
        ``(frame, cluster)`` and ``com (frame, cluster, xyz)`` Å (NaN where absent or percolating).
        """
        validate(ds, require_cell=True, periodic="the cluster analysis")
        cells = cell_array(ds)
        species = np.asarray(ds["species"].values).astype(str)
        fw = species_indices(species, self.species, "atoms of framework species")
        sp_index = np.array([self.element_order.index(s) for s in species[fw]], dtype=np.int64)
        n_el = len(self.element_order)
        n_frames, n_atoms = ds.sizes["frame"], ds.sizes["atom"]
        rmax = max(self.cutoffs.values())
        for (a, b), r in self.cutoffs.items():
            check_cutoff(r, cells, what=f"bond cutoff {a}-{b}", frames=ds["frame"].values)
        table = np.full((n_el, n_el), -1.0)
        for (a, b), r in self.cutoffs.items():
            ia, ib = self.element_order.index(a), self.element_order.index(b)
            table[ia, ib] = table[ib, ia] = r
        pair_code = np.arange(n_el * n_el).reshape(n_el, n_el)
        pair_code = np.minimum(pair_code, pair_code.T)
        mass = (np.asarray(ds["mass"].values, dtype=np.float64)[fw] if "mass" in ds.coords
                else np.ones(len(fw)))

        positions = np.asarray(ds["positions"].values, dtype=np.float64)
        ids_frames, comp_of_atom, whole_all, frame_tables = [], [], [], []
        n_fw = len(fw)
        for f in range(n_frames):
            pos = positions[f, fw]
            cell = cells[f]
            pairs = neighbor_pairs(positions[f], cell, rmax, query=fw, points=fw)
            si, sj = sp_index[pairs.i], sp_index[pairs.j]
            keep = pairs.distances < table[si, sj]
            bi, bj, bvec = pairs.i[keep], pairs.j[keep], pairs.vectors[keep]
            graph = coo_matrix((np.ones(len(bi)), (bi, bj)), shape=(n_fw, n_fw)).tocsr()
            n_comp, labels = connected_components(graph, directed=False)
            labels = labels.astype(np.int64)
            offsets = np.concatenate([[0], np.cumsum(np.bincount(bi, minlength=n_fw))]).astype(np.int64)
            whole, perc = _make_whole(pos, offsets, bj.astype(np.int64), np.ascontiguousarray(bvec), labels,
                                      n_comp, 1e-6)
            # centre of mass of each whole component, then shift the component so the centre is in the cell
            msum = np.bincount(labels, weights=mass, minlength=n_comp)
            com = np.stack([np.bincount(labels, weights=mass * whole[:, k], minlength=n_comp) for k in range(3)],
                           axis=1) / msum[:, None]
            frac = _box.to_fractional(com, cell)
            shift = -np.floor(frac) @ cell
            com = com + shift
            whole = whole + shift[labels]
            com[perc] = np.nan
            # labels: formula from element counts, topology from bond counts per species pair
            el_counts = np.bincount(labels * n_el + sp_index, minlength=n_comp * n_el).reshape(n_comp, n_el)
            upper = bi < bj
            codes = pair_code[sp_index[bi[upper]], sp_index[bj[upper]]]
            bond_counts = np.bincount(labels[bi[upper]] * n_el * n_el + codes,
                                      minlength=n_comp * n_el * n_el).reshape(n_comp, n_el * n_el)
            sig = np.concatenate([el_counts, bond_counts], axis=1)
            usig, sig_inv = np.unique(sig, axis=0, return_inverse=True)
            sig_inv = sig_inv.reshape(-1)
            formulas, topologies = [], []
            for row in usig:  # loop over distinct cluster kinds (a handful)
                formulas.append("".join(el if n == 1 else f"{el}{int(n)}"
                                        for n, el in zip(row[:n_el], self.element_order) if n > 0))
                topologies.append(",".join(f"{self.element_order[a]}-{self.element_order[b]}:{int(nb)}"
                                           for a in range(n_el) for b in range(a, n_el)
                                           if (nb := row[n_el + a * n_el + b])))
            formulas = np.array(formulas, dtype=object)[sig_inv]
            topologies = np.array(topologies, dtype=object)[sig_inv]
            # identity
            if self.track:  # matched ids where the last frame had the cluster, fresh ones elsewhere
                known = self.last_ids_ is not None and len(self.last_ids_) == n_fw
                comp_ids = _match(self.last_ids_, labels, n_comp) if known else np.full(n_comp, -1, dtype=np.int64)
                fresh = comp_ids < 0
                comp_ids[fresh] = self.next_id_ + np.arange(int(fresh.sum()))
                self.next_id_ += int(fresh.sum())
                self.last_ids_ = comp_ids[labels]
            else:
                comp_ids = np.arange(n_comp)
            ids_frames.append(comp_ids)
            comp_of_atom.append(labels)
            whole_all.append(whole)
            frame_tables.append((com, formulas, topologies, np.bincount(labels, minlength=n_comp), perc))

        all_ids = np.unique(np.concatenate(ids_frames)) if ids_frames else np.zeros(0, np.int64)
        n_cl = len(all_ids)
        cluster_id = np.full((n_frames, n_atoms), -1, dtype=np.int64)
        whole_positions = np.full((n_frames, n_atoms, 3), np.nan)
        present = np.zeros((n_frames, n_cl), dtype=bool)
        com_out = np.full((n_frames, n_cl, 3), np.nan)
        n_members = np.zeros((n_frames, n_cl), dtype=np.int64)
        percolating = np.zeros((n_frames, n_cl), dtype=bool)
        formula_out = np.full((n_frames, n_cl), "", dtype=object)
        topo_out = np.full((n_frames, n_cl), "", dtype=object)
        for f in range(n_frames):
            comp_ids, labels = ids_frames[f], comp_of_atom[f]
            com, formulas, topologies, counts, perc = frame_tables[f]
            col = np.searchsorted(all_ids, comp_ids)
            cluster_id[f, fw] = comp_ids[labels]
            whole_positions[f, fw] = whole_all[f]
            present[f, col] = True
            com_out[f, col] = com
            n_members[f, col] = counts
            percolating[f, col] = perc
            formula_out[f, col] = formulas
            topo_out[f, col] = topologies
        type_out = (np.where(present, formula_out + "[" + topo_out + "]", "").astype(object) if self.topology_in_type
                    else formula_out.copy())
        type_len = max([1] + [len(s) for s in np.unique(type_out.astype(str))])
        atom_type = np.full((n_frames, n_atoms), "", dtype=f"<U{type_len}")
        for f in range(n_frames):
            col = np.searchsorted(all_ids, cluster_id[f, fw])
            atom_type[f, fw] = type_out[f, col].astype(str)

        coords = {"frame": ds["frame"].values, "atom": ds["atom"].values, "xyz": ["x", "y", "z"],
                  "cluster": all_ids, "time": ("frame", ds["time"].values, {"units": "ps"}),
                  "species": ("atom", np.asarray(ds["species"].values).astype(str))}
        out = xr.Dataset(
            {
                "cluster_id": (("frame", "atom"), cluster_id,
                               {"description": "global cluster id of each atom; -1 for non-framework atoms"}),
                "cluster_type": (("frame", "atom"), atom_type,
                                 {"description": "type (formula) of the atom's cluster; '' for non-framework"}),
                "whole_positions": (("frame", "atom", "xyz"), whole_positions,
                                    {"units": "angstrom",
                                     "description": "framework atoms with each cluster made whole, its centre of "
                                                    "mass in the cell; NaN for other atoms"}),
                "present": (("frame", "cluster"), present),
                "formula": (("frame", "cluster"), formula_out.astype(str)),
                "topology": (("frame", "cluster"), topo_out.astype(str)),
                "type": (("frame", "cluster"), type_out.astype(str)),
                "n_members": (("frame", "cluster"), n_members),
                "percolating": (("frame", "cluster"), percolating),
                "com": (("frame", "cluster", "xyz"), com_out,
                        {"units": "angstrom", "description": "centre of mass of the whole cluster, wrapped into "
                                                             "the cell; NaN where absent or percolating"}),
            },
            coords=coords,
        )
        return stamp(out, parameters=self.parameters(), units="angstrom", analysis="ssefeat.features.find_clusters")


def find_clusters(ds: xr.Dataset, species: Sequence[str] = DEFAULT_SPECIES, cutoffs: Mapping | None = None,
                  element_order: Sequence[str] | None = None, topology_in_type: bool = False,
                  track: bool = True) -> xr.Dataset:
    """Anion clusters of every frame of a trajectory (see :class:`ClusterFinder` and the module docstring).

    For chunked runs create one :class:`ClusterFinder` and call ``compute`` on each chunk in order, so that ids
    carry over chunk boundaries.
    """
    return ClusterFinder(species, cutoffs, element_order, topology_in_type, track).compute(ds)


def cluster_counts(clusters: xr.Dataset, types: Iterable[str] | None = None) -> xr.DataArray:
    """Number of clusters of each type in every frame, DataArray (frame, cluster_type)."""
    typ = np.asarray(clusters["type"].values).astype(str)
    present = np.asarray(clusters["present"].values)
    if types is None:
        types = sorted(set(typ[present].tolist()))
    types = list(types)
    counts = np.stack([((typ == t) & present).sum(axis=1) for t in types], axis=1) if types else \
        np.zeros((clusters.sizes["frame"], 0), dtype=np.int64)
    out = xr.DataArray(counts, dims=("frame", "cluster_type"),
                       coords={"frame": clusters["frame"].values, "cluster_type": types}, name="cluster_counts")
    return stamp(out, parameters={"types": types}, units="1", analysis="ssefeat.features.cluster_counts")


def cluster_members(clusters: xr.Dataset, cluster: int, frame: int | None = None) -> np.ndarray:
    """Global atom indices (the ``atom`` coordinate) of the members of cluster ``cluster`` in ``frame``
    (a value of the ``frame`` coordinate; default the first frame)."""
    sel = clusters["cluster_id"].isel(frame=0) if frame is None else clusters["cluster_id"].sel(frame=frame)
    mask = np.asarray(sel.values) == int(cluster)
    return np.asarray(clusters["atom"].values)[mask]
