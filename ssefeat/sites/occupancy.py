"""Which site each ion occupies, frame by frame, and the occupancy of every site and site type over time.

An ion occupies a site when it is within ``radius`` (Å) of it, by minimum image in the frame's own cell (triclinic
and NPT cells included: sites follow the cell through their fractional coordinates); -1 means outside every site.
Sites that overlap at the radius are refused (:func:`ssefeat.sites.sources.check_radius`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..box import perpendicular_widths
from ..data import cell_array, require_periodic, species_indices
from ..provenance import stamp
from . import _kernels as K
from .sources import Sites, as_sites, check_cells, check_radius

FRAMES_PER_CHUNK = 2000


@dataclass(frozen=True)
class SiteStates:
    """The site of every (frame, ion): ``states (n_frames, n_ions)`` int32 (-1 outside every site), with the sites,
    the ions' atom positions in the trajectory (``atoms``), the cells and the radius they were assigned with."""

    states: np.ndarray
    sites: Sites
    atoms: np.ndarray
    cells: np.ndarray
    radius: float
    species: str


def site_states(ds: xr.Dataset, sites, species: str = "Li", radius: float = 1.0,
                frames_per_chunk: int = FRAMES_PER_CHUNK, check_cell: bool = True) -> SiteStates:
    """Assign every (frame, ion of ``species``) to a site (see module docstring); checks the input first.

    ``sites``: a :class:`Sites`, an (n_sites, 3) fractional array, or a structure file (sites of ``species``).
    ``check_cell``: refuse a structure whose cell does not match the trajectory's (after its supercell).
    """
    require_periodic(ds, "site occupancy (sites are matched by minimum image)")
    idx = species_indices(ds, species, what="mobile ions")
    sites = as_sites(sites, species=species)
    cells = cell_array(ds)
    if check_cell:
        check_cells(sites, cells)
    r = check_radius(sites, cells, radius)
    nb, order, starts = K.site_grid(sites.fractional, perpendicular_widths(cells).min(axis=0), r)
    n_frames = ds.sizes["frame"]
    states = np.empty((n_frames, idx.size), dtype=np.int32)
    step = max(1, int(frames_per_chunk))
    for f0 in range(0, n_frames, step):
        sl = slice(f0, min(f0 + step, n_frames))
        pos = np.ascontiguousarray(ds["positions"].isel(frame=sl).values[:, idx], dtype=np.float64)
        K.assign_sites(pos, np.ascontiguousarray(cells[sl]), np.ascontiguousarray(sites.fractional), r, nb, order,
                       starts, states[sl])
    return SiteStates(states, sites, idx, cells, r, str(species))


def occupancy_dataset(ds: xr.Dataset, st: SiteStates) -> xr.Dataset:
    """The occupancy Dataset of :func:`site_occupancy` from assigned site states."""
    sites = st.sites
    n_frames, n_ions = st.states.shape
    s = st.states.astype(np.int64)
    onsite = s >= 0
    # ions on each site per frame: bincount of (frame, site) pairs
    flat = (np.arange(n_frames)[:, None] * sites.n_sites + s)[onsite]
    occ = np.bincount(flat, minlength=n_frames * sites.n_sites).reshape(n_frames, sites.n_sites)
    tix = sites.type_index()
    n_types = len(sites.types)
    type_occ = occ @ (tix[:, None] == np.arange(n_types)).astype(np.int64)  # ions on sites of each type
    n_per_type = np.bincount(tix, minlength=n_types)
    return xr.Dataset(
        {"site_index": (("frame", "atom"), st.states,
                        {"long_name": "site occupied by the ion (-1: outside every site)"}),
         "occupancy": (("frame", "site"), occ.astype(np.int32), {"units": "ions", "long_name": "ions on the site"}),
         "occupancy_mean": ("site", occ.mean(axis=0), {"units": "1", "long_name": "time-averaged ions on the site"}),
         "type_occupancy": (("frame", "site_type"), type_occ, {"units": "ions",
                                                               "long_name": "ions on sites of the type"}),
         "type_occupancy_mean": ("site_type", type_occ.mean(axis=0) / n_per_type,
                                 {"units": "1", "long_name": "time-averaged fraction of the type's sites occupied"}),
         "sites_per_type": ("site_type", n_per_type),
         "fraction_outside": ("frame", 1.0 - onsite.mean(axis=1),
                              {"units": "1", "long_name": "fraction of the ions outside every site"}),
         "site_fractional": (("site", "xyz"), sites.fractional, {"units": "1"})},
        coords={"frame": ds["frame"].values if "frame" in ds.coords else np.arange(n_frames),
                "time": ("frame", ds["time"].values, {"units": "ps"}),
                "atom": ds["atom"].values[st.atoms] if "atom" in ds.coords else st.atoms,
                "xyz": ["x", "y", "z"], "site": np.arange(sites.n_sites),
                "site_label": ("site", sites.labels.astype(str)),
                "site_type": ("site_type", np.asarray(sites.types, dtype=str))})


def site_parameters(st: SiteStates, **extra) -> dict:
    return dict(species=st.species, radius_angstrom=st.radius, n_sites=st.sites.n_sites, n_ions=int(st.atoms.size),
                site_source=st.sites.source, site_types=st.sites.types,
                rule="an ion occupies the nearest site within the radius (minimum image in the frame's cell); "
                     "-1 outside every site", **extra)


def site_occupancy(ds: xr.Dataset, sites, species: str = "Li", radius: float = 1.0, *,
                   check_cell: bool = True, states: SiteStates | None = None) -> xr.Dataset:
    """For each frame and ion of ``species``, the site it occupies (-1 outside every site), and the occupancy of
    every site and site type over time.

    Parameters
    ----------
    ds : trajectory Dataset with a cell
    sites : :class:`Sites`, (n_sites, 3) fractional coordinates of the trajectory's cell, or a structure file
    species : the mobile species
    radius : site radius in Å (> 0; sites must not overlap at it)
    states : site states already assigned by :func:`site_states` (then sites, species and radius are its own)

    Returns
    -------
    xarray.Dataset with ``site_index (frame, atom)``, ``occupancy (frame, site)`` ions,
    ``occupancy_mean (site)``, ``type_occupancy (frame, site_type)`` ions, ``type_occupancy_mean (site_type)``
    (fraction of the type's sites occupied), ``sites_per_type``, ``fraction_outside (frame)``, ``site_fractional``.
    """
    st = states if states is not None else site_states(ds, sites, species, radius, check_cell=check_cell)
    out = occupancy_dataset(ds, st)
    return stamp(out, parameters=site_parameters(st), units="ions",
                 analysis="ssefeat.sites.occupancy.site_occupancy")
