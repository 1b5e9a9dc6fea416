"""Label post-processing for softness: rearrangement labels (p_hop, D2min, ...) at full time resolution turned into
what training and P_R(S) use: the largest label over the next frames, and labels reduced to sparser feature frames."""
from __future__ import annotations

import numpy as np
import xarray as xr
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ParameterError, SchemaError
from ..provenance import stamp


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

