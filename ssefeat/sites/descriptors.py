"""Structure of every site: CSM and volume of its anion polyhedron (the seed's C-V-D descriptors), per site and type.

The site centres (fractional coordinates in each frame's cell) are put among the anions of the trajectory and
:func:`ssefeat.features.polyhedra.li_polyhedra` measures the tetrahedron (4 nearest anions) and octahedron
(6 nearest) around each: convex-hull volume (Å^3) and Pinsky-Avnir CSM as pymatgen ChemEnv (0 = ideal). Values are
averaged over ``n_frames`` frames spread over the run (thermal motion of the anions), with the standard error over
those frames, then over the sites of each type (mean and standard deviation over sites). A site with fewer anions
than the shape needs within li_polyhedra's r_max (6 Å or just below half the cell width) gets NaN for that shape.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import xarray as xr

from ..data import cell_array, make_trajectory, species_indices
from ..errors import ParameterError
from ..features.polyhedra import li_polyhedra
from ..provenance import stamp
from .sources import as_sites

SITE = "site_centre"


def site_descriptors(ds: xr.Dataset, sites, ligand: str | Sequence[str] = "S", *, n_frames: int = 10,
                     shapes: Sequence[str] = ("T", "O")) -> xr.Dataset:
    """CSM and polyhedron volume of every site and site type (module docstring).

    Returns ``volume_T``, ``csm_T``, ``volume_O``, ``csm_O`` (site) with ``*_err`` (standard error over frames),
    the per-type means ``type_volume_T`` ... (site_type) with ``type_*_sd`` (standard deviation over the sites),
    and the ``site_label`` of each site.
    """
    sites = as_sites(sites)
    ligands = [ligand] if isinstance(ligand, str) else list(ligand)
    lig = species_indices(ds, ligands, what="ligand atoms")
    if int(n_frames) < 1:
        raise ParameterError(f"n_frames={n_frames} must be >= 1.", fix="give n_frames >= 1.")
    frames = np.unique(np.linspace(0, ds.sizes["frame"] - 1, min(int(n_frames), ds.sizes["frame"])).astype(int))
    cells = cell_array(ds)[frames]
    centres = np.einsum("sj,fjk->fsk", sites.fractional, cells)
    anions = np.asarray(ds["positions"].values[frames][:, lig], dtype=np.float64)
    species = [SITE] * sites.n_sites + np.asarray(ds["species"].values)[lig].astype(str).tolist()
    pseudo = make_trajectory(np.concatenate([centres, anions], axis=1), species, cell=cells,
                             time=np.asarray(ds["time"].values)[frames])
    poly = li_polyhedra(pseudo, centre=SITE, ligand=ligands, shapes=shapes)
    types = sites.types
    tix = sites.type_index()
    data = {"site_label": ("site", sites.labels.astype(str))}
    for s in [str(v).upper()[0] for v in shapes]:
        for q, units in (("volume", "angstrom^3"), ("csm", "1")):
            # NaN (too few anions within r_max) stays NaN: all-NaN means are expected, not warned about
            v = poly[f"{q}_{s}"].values  # (frame, site)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(v, axis=0)
                err = (np.nanstd(v, axis=0, ddof=1) / np.sqrt(len(frames)) if len(frames) > 1
                       else np.full(mean.shape, np.nan))
                by_type = [np.nanmean(mean[tix == t]) for t in range(len(types))]
                sd_type = [np.nanstd(mean[tix == t]) for t in range(len(types))]
            data[f"{q}_{s}"] = ("site", mean, {"units": units})
            data[f"{q}_{s}_err"] = ("site", err, {"units": units, "method": f"std/sqrt({len(frames)} frames)"})
            data[f"type_{q}_{s}"] = ("site_type", by_type, {"units": units})
            data[f"type_{q}_{s}_sd"] = ("site_type", sd_type, {"units": units,
                                                              "method": "std over the sites of the type"})
    out = xr.Dataset(data, coords={"site": np.arange(sites.n_sites), "site_type": types})
    return stamp(out, parameters=dict(ligand=ligands, frames=frames.tolist(), shapes=list(shapes)), units="",
                 analysis="ssefeat.sites.descriptors.site_descriptors")
