"""Where the sites are: a structure file (via ASE), an array of fractional coordinates, and the checks on them.

Sites are kept in *fractional* coordinates of the trajectory's cell, so that in an NPT run they follow the cell
frame by frame (site k of frame f sits at ``fractional[k] @ cell[f]``). Each site carries a label (its site type:
the CIF ``_atom_site_label`` of its Wyckoff orbit, the element symbol for formats without labels, or the label
given with an array); rates, transition matrices and residence times are reported per label.
The density route (sites at the maxima of the time-averaged density) is :func:`ssefeat.sites.density.find_sites`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from ..box import check_cutoff, lattice_parameters, perpendicular_widths
from ..errors import CellError, CorruptFileError, MissingFileError, ParameterError, SelectionError


@dataclass(frozen=True)
class Sites:
    """Sites in fractional coordinates of the trajectory's cell.

    Attributes
    ----------
    fractional : (n_sites, 3) float64, fractional coordinates (wrapped into [0, 1))
    labels : (n_sites,) str, the site type of each site
    source : str, where the sites came from (file name, "array", "density")
    species : str or None, the species the sites are for (element of the structure's sites)
    reference_cell : (3, 3) Å or None, the cell of the structure (after the supercell) the sites were read from
    """

    fractional: np.ndarray
    labels: np.ndarray
    source: str = "array"
    species: str | None = None
    reference_cell: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_sites(self) -> int:
        return int(self.fractional.shape[0])

    @property
    def types(self) -> list[str]:
        """Site types (labels) in order of first appearance."""
        return list(dict.fromkeys(self.labels.tolist()))

    def type_index(self) -> np.ndarray:
        """Index of each site's type in :attr:`types`, (n_sites,) int64."""
        lookup = {t: k for k, t in enumerate(self.types)}
        return np.array([lookup[v] for v in self.labels.tolist()], dtype=np.int64)

    def to_dataset(self) -> xr.Dataset:
        """The sites as an ``xarray.Dataset`` on a ``site`` dimension (fractional coordinates and labels)."""
        return xr.Dataset({"site_fractional": (("site", "xyz"), self.fractional, {"units": "1"}),
                           "site_label": ("site", self.labels.astype(str))},
                          coords={"site": np.arange(self.n_sites), "xyz": ["x", "y", "z"]},
                          attrs={"site_source": self.source, "site_species": self.species or ""})


def sites_from_fractional(fractional, labels=None, source: str = "array", species: str | None = None) -> Sites:
    """Sites from an (n_sites, 3) array of fractional coordinates of the trajectory's cell; ``labels`` one per site
    (default: every site labelled "site")."""
    frac = np.asarray(fractional, dtype=np.float64)
    if frac.ndim != 2 or frac.shape[1] != 3 or frac.shape[0] == 0:
        raise ParameterError(f"sites must be an (n_sites, 3) array of fractional coordinates, got shape {frac.shape}.",
                             fix="give one row (a, b, c) in fractions of the cell vectors per site.")
    if not np.isfinite(frac).all():
        raise ParameterError("site coordinates contain NaN or infinite values.", fix="give finite coordinates.")
    if labels is None:
        labels = np.full(frac.shape[0], "site")
    labels = np.asarray(labels).astype(str)
    if labels.shape != (frac.shape[0],):
        raise ParameterError(f"{labels.size} site labels for {frac.shape[0]} sites.", fix="give one label per site.")
    return Sites(frac - np.floor(frac), labels, source, species)


def _cif_labels(atoms) -> np.ndarray | None:
    """The CIF ``_atom_site_label`` of every atom of a symmetry-expanded ASE structure, or None."""
    names = atoms.info.get("_atom_site_label")
    kinds = atoms.arrays.get("spacegroup_kinds")
    if names is None or kinds is None or len(names) <= int(np.max(kinds, initial=0)):
        return None
    return np.asarray(names).astype(str)[np.asarray(kinds)]


def read_structure(path, supercell=(1, 1, 1)):
    """Read a structure with ASE (any format ASE reads; CIF labels kept) and repeat it ``supercell`` times.

    Returns (atoms, labels) with one label per atom (CIF site label, else the element symbol).
    """
    import ase.io

    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"structure file {path} does not exist.", fix="give the path of a CIF, POSCAR, ...")
    sc = tuple(int(v) for v in np.ravel(supercell))
    if len(sc) != 3 or min(sc) < 1 or not np.allclose(np.ravel(supercell), sc):
        raise ParameterError(f"supercell must be three positive integers, got {supercell}.",
                             fix="give the repetitions along a, b, c, e.g. 2 2 1.")
    kwargs = {"store_tags": True} if path.suffix.lower() == ".cif" else {}
    try:
        atoms = ase.io.read(str(path), **kwargs)
    except Exception as err:  # ASE raises many kinds; the message names the file and the reason
        raise CorruptFileError(f"ASE cannot read the structure {path}: {err}",
                               fix="give a structure file ASE reads (CIF, POSCAR, extxyz, ...).") from err
    if not atoms.cell.rank == 3:
        raise CellError(f"the structure {path} has no 3D cell.", fix="give a periodic structure with a full cell.")
    labels = _cif_labels(atoms)
    if labels is None:
        labels = np.asarray(atoms.get_chemical_symbols()).astype(str)
    # ASE's repeat copies the whole atom list once per translation, so the labels tile the same way
    return atoms.repeat(sc), np.tile(labels, int(np.prod(sc)))


def sites_from_structure(path, species: str | None = None, labels=None, supercell=(1, 1, 1)) -> Sites:
    """Sites from the atoms of a structure file: those of element ``species`` and/or with CIF site labels in
    ``labels`` (at least one of the two). The structure's cell after ``supercell`` is kept to be checked against the
    trajectory's (:func:`check_cells`); sites are mapped onto the trajectory by fractional coordinates."""
    atoms, all_labels = read_structure(path, supercell)
    symbols = np.asarray(atoms.get_chemical_symbols()).astype(str)
    if species is None and labels is None:
        raise ParameterError("say which atoms of the structure are sites: give species (e.g. 'Li') or site labels.",
                             fix=f"the structure has elements {sorted(set(symbols))} and labels "
                                 f"{sorted(set(all_labels.tolist()))}.")
    mask = np.ones(len(atoms), dtype=bool)
    if species is not None:
        if species not in set(symbols.tolist()):
            raise SelectionError(f"species {species!r} is not in the structure {path}, which has "
                                 f"{sorted(set(symbols.tolist()))}.",
                                 fix="name an element of the structure (case-sensitive) or give site labels.")
        mask &= symbols == species
    if labels is not None:
        wanted = [labels] if isinstance(labels, str) else [str(v) for v in labels]
        missing = sorted(set(wanted) - set(all_labels[mask].tolist()))
        if missing:
            raise SelectionError(f"site labels {missing} are not among the sites of {path}"
                                 + (f" of species {species}" if species else "") +
                                 f", which have {sorted(set(all_labels[mask].tolist()))}.",
                                 fix="use labels listed (as in the CIF's _atom_site_label).")
        mask &= np.isin(all_labels, wanted)
    frac = atoms.get_scaled_positions(wrap=True)[mask]
    out = sites_from_fractional(frac, all_labels[mask], source=Path(path).name, species=species)
    return Sites(out.fractional, out.labels, out.source, out.species, np.asarray(atoms.cell.array, dtype=np.float64))


def as_sites(sites, species: str | None = None) -> Sites:
    """A :class:`Sites` from a Sites, an (n_sites, 3) fractional array, or a structure file path (sites of
    ``species``)."""
    if isinstance(sites, Sites):
        return sites
    if isinstance(sites, (str, Path)):
        return sites_from_structure(sites, species=species)
    return sites_from_fractional(sites, species=species)


def check_cells(sites: Sites, cells: np.ndarray, length_rtol: float = 0.05, angle_tol: float = 3.0) -> None:
    """Refuse a structure whose cell (after the supercell) does not match the trajectory's mean cell: lattice
    lengths within ``length_rtol`` (relative) and angles within ``angle_tol`` degrees (rotations allowed)."""
    if sites.reference_cell is None:
        return
    mean = np.asarray(cells, dtype=np.float64).reshape(-1, 3, 3).mean(axis=0)
    (l1, a1), (l2, a2) = lattice_parameters(sites.reference_cell), lattice_parameters(mean)
    if np.all(np.abs(l1 / l2 - 1) <= length_rtol) and np.all(np.abs(a1 - a2) <= angle_tol):
        return

    def fmt(lengths, angles):
        return ("a, b, c = " + ", ".join(f"{v:.3f}" for v in lengths) + " Å; alpha, beta, gamma = "
                + ", ".join(f"{v:.2f}" for v in angles) + " deg")

    ratio = l2 / l1
    raise CellError(f"the cell of the sites' structure {sites.source} ({fmt(l1, a1)}) does not match the "
                    f"trajectory's mean cell ({fmt(l2, a2)}); tolerance {length_rtol:.0%} on lengths, "
                    f"{angle_tol:g} deg on angles.",
                    fix="give the supercell that makes them match (trajectory / structure lengths = "
                        + ", ".join(f"{v:.2f}" for v in ratio) + "), or a structure of the simulated crystal.")


def _stretch_bound(cells: np.ndarray, mean: np.ndarray) -> float:
    """Smallest singular value over frames of inv(mean) @ cell_f: a separation of length d in the mean cell is at
    least d times this long in every frame (fractional images fixed)."""
    m = np.linalg.inv(mean) @ cells
    return float(np.linalg.svd(m, compute_uv=False).min())


def site_distances(sites: Sites, cells: np.ndarray, cutoff: float):
    """Pairs of sites (i < j) closer than ``cutoff`` Å in some frame, and their smallest distance over frames."""
    from ..neighbors import neighbor_pairs

    cells = np.asarray(cells, dtype=np.float64).reshape(-1, 3, 3)
    mean = cells.mean(axis=0)
    half = 0.5 * perpendicular_widths(mean).min()
    reach = min(cutoff / _stretch_bound(cells, mean), np.nextafter(half, 0))
    pairs = neighbor_pairs(sites.fractional @ mean, mean, reach)
    keep = pairs.i < pairs.j
    i, j = pairs.i[keep], pairs.j[keep]
    if i.size == 0:
        return i, j, np.zeros(0)
    ds = sites.fractional[j] - sites.fractional[i]
    ds -= np.round(ds)
    d = np.full(i.size, np.inf)
    for start in range(0, len(cells), 256):  # frames x candidate pairs, bounded; ds is already the rounded image
        v = ds[None] @ cells[start:start + 256]
        d = np.minimum(d, np.linalg.norm(v, axis=-1).min(axis=0))
    close = d < cutoff
    return i[close], j[close], d[close]


def check_radius(sites: Sites, cells: np.ndarray, radius: float) -> float:
    """Refuse radius <= 0, a radius at or above half the cell width, and sites that overlap at ``radius`` (two sites
    closer than 2 radius in some frame); the message gives the largest radius that does not overlap."""
    cells = np.asarray(cells, dtype=np.float64).reshape(-1, 3, 3)
    r = check_cutoff(radius, cells, what="site radius", hint="sites must not see their own periodic images")
    i, j, d = site_distances(sites, cells, 2.0 * r)
    if d.size:
        k = int(np.argmin(d))
        raise ParameterError(
            f"sites overlap at radius {r:g} Å: sites {int(i[k])} ({sites.labels[i[k]]}) and {int(j[k])} "
            f"({sites.labels[j[k]]}) are {d[k]:.4g} Å apart ({d.size} pairs closer than 2 x radius); the largest "
            f"radius that does not overlap is {0.5 * d[k]:.4g} Å.",
            fix=f"use radius <= {0.5 * d[k]:.4g} Å, or drop or merge the close sites.")
    return r
