"""The rearrangement label kinds: one registry for ``ssefeat labels --kind`` and the pipeline's ``labels.kind``.

Each :class:`LabelKind` names its one-shot function, its chunked form (windows carried across trajectory chunks),
the (frame, atom) variable it makes and its parameters with their defaults (the ``[labels]`` keys of a pipeline
configuration). Kinds with ``from_config`` are the ones the pipeline computes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import defaults as D
from ..errors import ParameterError
from .bond_switching import bond_switching, iter_bond_switching
from .d2min import cumulative_d2min, iter_cumulative_d2min, iter_nonaffine_displacement, nonaffine_displacement_series
from .hops import hop_events, hop_events_chunked
from .phop import iter_phop, phop


@dataclass(frozen=True)
class LabelKind:
    name: str
    description: str
    function: Callable
    iterate: Callable | None  # chunks -> disjoint frame ranges (hops: a reader of chunks, two passes)
    variable: str | None  # the (frame, atom) label variable; None: not per frame
    defaults: dict = field(default_factory=dict)
    #: (labels config, species) -> (args, kwargs) of ``iterate``; None: not a pipeline label
    from_config: Callable | None = None


def _phop_args(lc, species):
    return (), dict(t_R=lc["t_R_ps"], t_R_frames=None if lc["t_R_ps"] else lc["t_R_frames"], species=species)


def _d2min_args(lc, species):
    return ((int(lc["lag_frames"]), float(lc["cutoff"]), species, lc["normalize"]),
            dict(neighbor_species=lc["neighbor_species"]))


def _dcum_args(lc, species):
    return ((int(lc["lag_frames"]), int(lc["window_frames"]), float(lc["cutoff"]), species, lc["normalize"]),
            dict(align=lc["align"], neighbor_species=lc["neighbor_species"]))


_D2MIN = {"lag_frames": D.LAG_FRAMES, "cutoff": None, "neighbor_species": None, "normalize": D.NORMALIZE}
LABEL_KINDS = {k.name: k for k in (
    LabelKind("p_hop", "hop indicator p_hop (Candelier 2010)", phop, iter_phop, "phop",
              {"t_R_ps": None, "t_R_frames": D.T_R_FRAMES}, _phop_args),
    LabelKind("d2min", "non-affine displacement D2min over lag_frames", nonaffine_displacement_series,
              iter_nonaffine_displacement, "d2min", _D2MIN, _d2min_args),
    LabelKind("d_cum", "cumulative D2min over window_frames in steps of lag_frames", cumulative_d2min,
              iter_cumulative_d2min, "d_cum", {**_D2MIN, "window_frames": D.DCUM_WINDOW_FRAMES, "align": D.ALIGN},
              _dcum_args),
    LabelKind("hops", "hop events from p_hop peaks", hop_events, hop_events_chunked, None,
              {"t_R_ps": None, "threshold": None}),
    LabelKind("switching", "bond switching relative to a reference frame", bond_switching, iter_bond_switching,
              "n_broken", {"reference": 0, "cutoff": None, "neighbor_species": None}),
)}
#: the kinds the pipeline computes, and their (frame, atom) variables
PIPELINE_KINDS = {name: k for name, k in LABEL_KINDS.items() if k.from_config is not None}


def iter_labels(chunks, labels_config: dict, species):
    """The configured label (``labels_config["kind"]``) over trajectory chunks (windows carried across chunks):
    yields consecutive, disjoint frame ranges that together equal the one-shot label of the whole trajectory."""
    kind = PIPELINE_KINDS.get(labels_config["kind"])
    if kind is None:
        raise ParameterError(f"labels.kind {labels_config['kind']!r} is unknown.",
                             fix="use one of " + ", ".join(PIPELINE_KINDS))
    args, kwargs = kind.from_config(labels_config, species)
    return kind.iterate(chunks, *args, **kwargs)
