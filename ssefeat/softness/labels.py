"""Label post-processing for softness: rearrangement labels (p_hop, D2min, ...) at full time resolution turned into
what training and P_R(S) use: the largest label over the next frames, and labels reduced to sparser feature frames."""
from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ParameterError, SchemaError
from ..provenance import stamp
from .probability import chunked_quantiles


def check_labels(labels: xr.DataArray) -> None:
    """Raise SchemaError unless ``labels`` have (frame, atom) dims."""
    if not {"frame", "atom"} <= set(labels.dims):
        raise SchemaError(f"labels have dims {labels.dims}; expected (frame, atom).",
                          fix="compute labels with ssefeat.dynamics (d2min, phop, cumulative_d2min).")


def future_max(labels: xr.DataArray, horizon: int) -> xr.DataArray:
    """Largest label over frames [t, t + horizon] at every frame t ("rearranges within the next horizon frames").

    NaN where that window holds a NaN label or runs past the last frame. Same dims and coords as ``labels``
    (frame, atom); named ``<name>_future_max``.
    """
    check_labels(labels)
    if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 0:
        raise ParameterError(f"horizon must be a whole number of frames >= 0, got {horizon!r}.",
                             fix="give the horizon in frames, e.g. 2 * the p_hop half window.")
    labels = labels.transpose("frame", "atom")
    vals = np.asarray(labels.values, dtype=np.float64)
    horizon = int(horizon)
    out = np.full_like(vals, np.nan)
    if vals.shape[0] > horizon:  # max propagates NaN: a window with an unknown label stays unknown
        out[: vals.shape[0] - horizon] = sliding_window_view(vals, horizon + 1, axis=0).max(axis=-1)
    return labels.copy(data=out).rename(f"{labels.name or 'label'}_future_max")


def labels_at_frames(labels: xr.DataArray, frames, reduce: str = "max") -> xr.DataArray:
    """Reduce per-frame labels (frame, atom) at full time resolution to sparser feature frames.

    Each feature frame stands for the label frames nearer to it than to the neighbouring feature frames
    (midpoints go to both); the first and last feature frames stand for as much on their outer side as on
    their inner side. ``reduce="max"`` gives each feature frame the largest label of the interval it stands
    for (a rearrangement between two feature frames is never missed, and "quiet" is checked at every label
    frame); ``"mean"`` and ``"min"`` are offered too. An interval with a NaN label, or reaching frames the
    labels do not have, gives NaN (unknown).

    Parameters
    ----------
    labels : DataArray (frame, atom), e.g. p_hop on every stored frame
    frames : increasing global frame indices of the features, or a features DataArray (its ``frame`` coord)
    reduce : "max", "mean" or "min"

    Returns a DataArray (frame, atom) on ``frames`` with the labels' atom coordinates, units and name.
    """
    reducers = {"max": np.max, "mean": np.mean, "min": np.min}
    if reduce not in reducers:
        raise ParameterError(f"unknown reduce {reduce!r}.", fix=f"use one of {sorted(reducers)}.")
    check_labels(labels)
    if isinstance(frames, (xr.DataArray, xr.Dataset)):
        frames = frames["frame"].values
    frames = np.asarray(frames).reshape(-1)
    if frames.size == 0 or not np.issubdtype(frames.dtype, np.integer):
        raise ParameterError(f"frames must be a non-empty sequence of integer frame indices, got {frames[:5]!r}.",
                             fix="pass the features' frame coordinate.")
    if np.any(np.diff(frames) <= 0):
        raise ParameterError("frames must be strictly increasing.", fix="sort the feature frames.")
    labels = labels.transpose("frame", "atom")
    lab_frames = labels["frame"].values
    if np.any(np.diff(lab_frames) <= 0):
        raise SchemaError("the labels' frames are not strictly increasing.", fix="sort the labels by frame.")
    outside = ~np.isin(frames, lab_frames)
    if outside.any():
        raise SchemaError(f"{int(outside.sum())} feature frames (first {frames[outside][:5].tolist()}) are not "
                          "frames of the labels.",
                          fix="compute labels and features on the same trajectory; labels need every frame.")
    # the interval of label frames each feature frame stands for, [lo, hi] in global frame indices
    if frames.size > 1:
        gaps = np.diff(frames)
        lo = np.concatenate([[frames[0] - gaps[0] // 2], frames[1:] - gaps // 2])
        hi = np.concatenate([frames[:-1] + gaps // 2, [frames[-1] + gaps[-1] // 2]])
    else:
        lo = hi = frames
    vals = np.asarray(labels.values, dtype=np.float64)
    out = np.full((frames.size, vals.shape[1]), np.nan)
    pos_lo = np.searchsorted(lab_frames, lo)
    pos_hi = np.searchsorted(lab_frames, hi, side="right")
    for k in range(frames.size):
        # complete: every global frame of [lo, hi] is a label frame
        if lo[k] < lab_frames[0] or hi[k] > lab_frames[-1] or pos_hi[k] - pos_lo[k] != hi[k] - lo[k] + 1:
            continue
        block = vals[pos_lo[k]:pos_hi[k]]
        out[k] = np.where(np.isnan(block).any(axis=0), np.nan, reducers[reduce](np.nan_to_num(block), axis=0))
    coords = {k: v for k, v in labels.coords.items() if v.dims == ("atom",)}
    coords["frame"] = frames
    if "time" in labels.coords and labels["time"].dims == ("frame",):
        coords["time"] = ("frame", labels["time"].sel(frame=frames).values)
    res = xr.DataArray(out, dims=("frame", "atom"), coords=coords, name=labels.name,
                       attrs={k: v for k, v in labels.attrs.items() if k == "units"})
    return stamp(res, parameters={"reduce": reduce, "label": str(labels.name)},
                 units=labels.attrs.get("units"), analysis="labels_at_frames")



def check_cut_options(r_cut=None, nr_cut=None, r_quantile=None, nr_quantile=None) -> dict:
    """{"r": cut or None, "nr": ...} and the quantiles to use for the missing cuts; refuses a cut given with its
    quantile and quantiles outside (0, 1) (defaults :data:`ssefeat.defaults.R_QUANTILE` / ``NR_QUANTILE``)."""
    from .. import defaults as D
    from ..errors import param

    out = {}
    for name, cut, q, default in (("r", r_cut, r_quantile, D.R_QUANTILE),
                                  ("nr", nr_cut, nr_quantile, D.NR_QUANTILE)):
        if cut is not None and q is not None:
            raise ParameterError(f"give {param(name + '_cut')} or {param(name + '_quantile')}, not both.",
                                 fix=f"drop {param(name + '_quantile')} to use the cut as given.")
        q = default if q is None and cut is None else q
        if q is not None and (isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1):
            raise ParameterError(f"{param(name + '_quantile', q)} is not a quantile strictly between 0 and 1.",
                                 fix=f"e.g. {param(name + '_quantile', default)}.")
        out[name] = (None if cut is None else float(cut), q)
    return out


def frame_ranges(array: xr.DataArray, chunk_frames: int | None = None) -> list[tuple[int, int]]:
    """Consecutive [start, stop) frame ranges covering ``array``: ``chunk_frames`` frames each, or, when None, its
    own frame chunks (a lazy, dask-backed array, e.g. a stage store) or all its frames at once (in memory)."""
    n = array.sizes["frame"]
    if chunk_frames is not None:
        if isinstance(chunk_frames, bool) or int(chunk_frames) != chunk_frames or chunk_frames < 1:
            raise ParameterError(f"chunk_frames must be a whole number of frames >= 1, got {chunk_frames!r}.",
                                 fix="e.g. chunk_frames=100, or None for the arrays' own chunks.")
        edges = [*range(0, n, int(chunk_frames)), n]
    else:
        sizes = array.chunksizes.get("frame") if array.chunks is not None else None
        edges = np.cumsum([0, *sizes]).tolist() if sizes else [0, n]
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def label_cuts(labels, r_cut=None, nr_cut=None, r_quantile: float | None = None, nr_quantile: float | None = None,
               species=None, chunk_frames: int | None = None) -> tuple[float, float]:
    """The thresholds (r_cut, nr_cut) of a softness training set: given values, or quantiles of the finite labels
    (of ``species`` when the labels carry a species coordinate; one DataArray or a list of runs' DataArrays).

    A cut and its quantile are exclusive; a missing cut takes its quantile (default
    :data:`ssefeat.defaults.R_QUANTILE` / ``NR_QUANTILE``); nr_cut must come out below r_cut. The labels are read
    ``chunk_frames`` frames at a time (default: their own frame chunks when lazy, else whole): the quantiles are
    exact (:func:`~ssefeat.softness.probability.chunked_quantiles`), equal to ``np.quantile`` of all the values.
    """
    from ..errors import param

    options = check_cut_options(r_cut, nr_cut, r_quantile, nr_quantile)
    cuts = {name: cut for name, (cut, _) in options.items() if cut is not None}
    wanted = {name: q for name, (cut, q) in options.items() if cut is None}
    if wanted:
        runs = []
        for la in labels if isinstance(labels, (list, tuple)) else [labels]:
            if species is not None and "species" in la.coords:
                from ..data import species_indices

                la = la.isel(atom=species_indices(la, species))
            runs.append(la)

        def blocks():  # frame chunk by frame chunk: the same values as the whole arrays, in any order
            for la in runs:
                if "frame" not in la.dims:
                    yield la.values
                    continue
                for a, b in frame_ranges(la, chunk_frames):
                    yield la.isel(frame=slice(a, b)).values

        try:
            values = chunked_quantiles(blocks, list(wanted.values()))
        except ParameterError:
            raise ParameterError("the labels hold no finite value to take quantiles of.",
                                 fix="check the labels file (are its windows longer than the trajectory?).") from None
        cuts.update(zip(wanted, values))
    if not cuts["nr"] < cuts["r"]:
        raise ParameterError(f"nr_cut ({cuts['nr']:.4g}) is not below r_cut ({cuts['r']:.4g}): no label separates "
                             "quiet from rearranging samples.",
                             fix=f"choose {param('nr_cut')} below {param('r_cut')} (or a lower "
                                 f"{param('nr_quantile')}).")
    return cuts["r"], cuts["nr"]
