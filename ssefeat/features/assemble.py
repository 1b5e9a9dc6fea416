"""Per-atom feature assembly: structure functions, descriptors, further feature makers, cluster environments and
Li-site polyhedra of one trajectory (chunk), as ``ssefeat features``, ``StructureFeaturizer`` and the pipeline use
them."""
from __future__ import annotations

from typing import Callable, Sequence

import xarray as xr

from .descriptors import concat_features
from .descriptors import descriptors as make_descriptors
from .structure_functions import MIN_DISTANCE, structure_functions


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
    """
    parts = [structure_functions(ds, params, centre=centre, min_distance=min_distance, n_threads=n_threads)]
    centre = centre or params.centre
    if descriptors is not None:
        parts.append(make_descriptors(ds, centre=centre, **descriptors))
    parts += [maker(ds, centre) for maker in makers]
    features = parts[0] if len(parts) == 1 and not concat else concat_features(parts)
    if environment is None:
        return features
    from .environment import cluster_environment
    from .polyhedra import li_polyhedra

    out = features.to_dataset(name="features")
    env = cluster_environment(ds, mobile=centre, anion=environment["anion"], r_env=environment["r_env"],
                              species=tuple(environment["framework"]), cluster_types=environment["cluster_types"])
    for t in env["cluster_type"].values:  # one (frame, atom) variable per cluster type
        out[f"fraction_{t}"] = env["fraction"].sel(cluster_type=t, drop=True)
    for var in ("n_anions", "nearest_cluster_type", "nearest_cluster_distance"):
        out[var] = env[var]
    poly = li_polyhedra(ds, centre=centre, ligand=environment["anion"])
    for var in ("volume_T", "csm_T", "volume_O", "csm_O", "site"):
        out[var] = poly[var]
    return out
