"""Per-atom feature assembly: structure functions, descriptors, further feature makers, cluster environments and
Li-site polyhedra of one trajectory (chunk), as ``ssefeat features``, ``StructureFeaturizer`` and the pipeline use
them."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, periodic_axes, species_indices, validate
from ..neighbors import FrameNeighbors
from .descriptors import DEFAULTS, concat_features
from .descriptors import descriptors as make_descriptors
from .structure_functions import MIN_DISTANCE, structure_functions


def shared_neighbors(ds: xr.Dataset, centre: str, cutoffs: Sequence[float]) -> list[FrameNeighbors]:
    """One :class:`~ssefeat.neighbors.FrameNeighbors` per frame: the centre atoms against every atom within the
    largest of ``cutoffs`` (capped just below half the smallest cell width; a part asking for more searches its
    own pairs)."""
    validate(ds, require_cell=True)
    cells = cell_array(ds)
    pbc = periodic_axes(ds)  # open directions (a slab) take no minimum image and do not limit the cutoff
    half = 0.5 * float(_box.perpendicular_widths(cells)[..., pbc].min()) if pbc.any() else np.inf
    rmax = min(max(float(c) for c in cutoffs), 0.999 * half)
    centres = species_indices(ds, centre, "atoms of centre species")
    positions = ds["positions"].values
    return [FrameNeighbors(positions[f], cells[f], rmax, query=centres, pbc=pbc) for f in range(len(cells))]


def assemble_features(ds: xr.Dataset, params, *, centre: str | None = None, descriptors: dict | None = None,
                      makers: Sequence[Callable] = (), environment: dict | None = None,
                      min_distance: float = MIN_DISTANCE, n_threads: int | None = None, concat: bool = False):
    """The features of the centre atoms of ``ds``.

    Parameters
    ----------
    params : ParameterSet of the structure functions; ``centre`` overrides its centre species
    descriptors : keyword arguments of :func:`~ssefeat.features.descriptors.descriptors` (e.g. ``{"system":
        "li_sulfide"}``); None: no descriptors
    makers : further ``maker(ds, centre) -> DataArray (frame, atom, feature)``
    environment : keyword arguments ``anion``, ``framework``, ``r_env``, ``cluster_types`` of the cluster
        environment (:func:`~ssefeat.features.environment.cluster_environment`); adds it and the Li-site polyhedra
    concat : join the parts with :func:`concat_features` even when there is one (it drops the parts' attributes)

    Returns the ``features`` DataArray (frame, atom, feature); with ``environment`` a Dataset: ``features``, one
    ``fraction_<type>`` per cluster type, ``n_anions``, ``nearest_cluster_*``, polyhedra volumes, CSM and site.
    The neighbour pairs of each frame are searched once (:func:`shared_neighbors`) and handed to every part.
    """
    centre = centre or params.centre
    system = (descriptors or {}).get("system")
    radii = [params.cutoff, 6.0]  # 6 Å: the polyhedra's default search radius
    if system in DEFAULTS:
        d = DEFAULTS[system]
        radii += [d["steinhardt_cutoff"], d["density_radius"], *d["coordination"].values()]
    if environment is not None:
        radii.append(environment["r_env"])
    present = centre in set(np.asarray(ds["species"].values).astype(str).tolist())
    nb = shared_neighbors(ds, centre, radii) if present else None  # else the parts raise their own errors
    parts = [structure_functions(ds, params, centre=centre, min_distance=min_distance, n_threads=n_threads,
                                 neighbors=nb)]
    if descriptors is not None:
        parts.append(make_descriptors(ds, centre=centre, neighbors=nb, **descriptors))
    parts += [maker(ds, centre) for maker in makers]
    features = parts[0] if len(parts) == 1 and not concat else concat_features(parts)
    if environment is None:
        return features
    from .environment import cluster_environment
    from .polyhedra import li_polyhedra

    out = features.to_dataset(name="features")
    env = cluster_environment(ds, mobile=centre, anion=environment["anion"], r_env=environment["r_env"],
                              species=tuple(environment["framework"]), cluster_types=environment["cluster_types"],
                              neighbors=nb)
    for t in env["cluster_type"].values:  # one (frame, atom) variable per cluster type
        out[f"fraction_{t}"] = env["fraction"].sel(cluster_type=t, drop=True)
    for var in ("n_anions", "nearest_cluster_type", "nearest_cluster_distance"):
        out[var] = env[var]
    poly = li_polyhedra(ds, centre=centre, ligand=environment["anion"], neighbors=nb)
    for var in ("volume_T", "csm_T", "volume_O", "csm_O", "site"):
        out[var] = poly[var]
    return out
