"""Hop events of mobile ions: detection, hop lengths and rates per ion.

Two detectors share the windows of :func:`ssefeat.dynamics.phop.phop` (A = [t - h, t], B = [t, t + h]):

- ``method="phop"``: peaks of p_hop(i, t) above ``threshold`` (Å^2);
- ``method="displacement"``: peaks of the site-to-site displacement |<r_i>_B - <r_i>_A| above ``threshold`` (Å),
  i.e. the window-averaged position moves by more than a distance.

Peaks come from :func:`scipy.signal.find_peaks` with ``height=threshold`` and ``distance=min_separation`` frames
(default t_R): all atoms are searched in one call on a concatenation of their series separated by padding, so
there is no Python loop over atoms. Each event reports the frame and time of the peak, the peak value, and the hop
vector (Å) and its length: mean position over frames [t + 1, t + h] minus mean over [t - h, t - 1] (the peak frame
is left out, so an abrupt jump next to t counts fully). The rate of an ion is its number of events divided by the
time over which detection was possible (the frames where both windows fit), in events per ps.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import species_indices
from ..errors import ParameterError
from ..provenance import parameters_of, stamp
from .d2min import _check_int, _concat_frames, _stream
from .phop import analysed_positions, iter_phop
from .phop import phop as _phop

__all__ = ["hop_events", "hop_events_chunked", "hop_table"]


def _find_peaks_all(signal: np.ndarray, threshold: float, distance: int):
    """Peaks of every column of ``signal`` (frames, atoms): (frame index, atom column) arrays."""
    from scipy.signal import find_peaks

    n_frames, n_atoms = signal.shape
    pad = distance + 1
    block = n_frames + pad
    flat = np.full((n_atoms, block), -np.inf)
    flat[:, :n_frames] = np.where(np.isfinite(signal), signal, -np.inf).T
    peaks, _ = find_peaks(flat.ravel(), height=threshold, distance=distance)
    return peaks % block, peaks // block


def _check_method(method: str, threshold) -> None:
    if method not in ("phop", "displacement"):
        raise ParameterError(f"method must be 'phop' or 'displacement', got {method!r}.",
                             fix="use method='phop' (threshold on p_hop, Å^2) or method='displacement' "
                                 "(threshold in Å).")
    if threshold is None or not np.isfinite(threshold) or threshold <= 0:
        raise ParameterError(f"threshold must be a positive number, got {threshold!r}.",
                             fix="Å^2 for method='phop' (e.g. a few times the vibrational p_hop), Å for "
                                 "method='displacement' (e.g. half the site-to-site distance).")


def _detect(labels: xr.Dataset, threshold: float, method: str, min_separation):
    """Events (peak frame positions in ``labels``, atom columns), sorted by atom then frame; with h and distance."""
    h = int(labels["phop"].attrs["half_window_frames"])
    distance = 2 * h if min_separation is None else _check_int(min_separation, "min_separation")
    name = "phop" if method == "phop" else "window_displacement"
    signal = np.asarray(labels[name].values, dtype=np.float64)
    frames_pos, cols = _find_peaks_all(signal, float(threshold), distance)
    order = np.lexsort((frames_pos, cols))
    return frames_pos[order], cols[order], signal, h, distance


def _hop_vectors(pos: np.ndarray, tpos: np.ndarray, cols: np.ndarray, h: int) -> np.ndarray:
    """Mean position over frames [t + 1, t + h] minus mean over [t - h, t - 1] (the peak frame is left out, so a
    jump between t and t +- 1 gets its full length); ``pos`` (frames, atoms, 3) unwrapped."""
    if not tpos.size:
        return np.zeros((0, 3))
    offsets = np.arange(1, h + 1)
    return (pos[tpos[:, None] + offsets[None, :], cols[:, None]].mean(axis=1)
            - pos[tpos[:, None] - offsets[None, :], cols[:, None]].mean(axis=1))


def _events_dataset(labels, frames_pos, cols, signal, vec, method, threshold, distance, h, species):
    name = "phop" if method == "phop" else "window_displacement"
    n_atoms = signal.shape[1]
    n_events = np.bincount(cols, minlength=n_atoms)
    valid_frames = np.flatnonzero(labels["valid"].values[:, 0]) if n_atoms else np.zeros(0, int)
    times = labels["time"].values
    span = float(times[valid_frames[-1]] - times[valid_frames[0]]) if valid_frames.size > 1 else np.nan
    out = xr.Dataset(coords={"atom": labels["atom"].values, "species": ("atom", labels["species"].values),
                             "xyz": ["x", "y", "z"]})
    out["event_atom"] = ("event", labels["atom"].values[cols])
    out["event_species"] = ("event", labels["species"].values[cols].astype(str))
    out["event_frame"] = ("event", labels["frame"].values[frames_pos])
    out["event_time"] = ("event", times[frames_pos], {"units": "ps"})
    out["score"] = ("event", signal[frames_pos, cols], {"units": "angstrom^2" if method == "phop" else "angstrom",
                                                         "description": f"peak value of {name}"})
    out["hop_vector"] = (("event", "xyz"), vec, {"units": "angstrom",
                                         "description": "mean r over [t+1, t+h] - mean r over [t-h, t-1]"})
    out["hop_length"] = ("event", np.linalg.norm(vec, axis=1), {"units": "angstrom"})
    out["n_events"] = ("atom", n_events)
    out["rate"] = ("atom", n_events / span if span > 0 else np.full(n_atoms, np.nan),
                   {"units": "1/ps", "description": "events per ps over the frames where detection is possible"})
    out.attrs["observed_time_ps"] = span
    out.attrs["n_frames"] = int(labels.sizes["frame"])
    params = dict(method=method, threshold=threshold, threshold_units="angstrom^2" if method == "phop" else
                  "angstrom", min_separation=distance, half_window_frames=h, species=species,
                  phop_parameters=parameters_of(labels))
    return stamp(out, parameters=params, units="1/ps", analysis="hop_events")


def hop_events(ds: xr.Dataset, t_R: float | None = None, threshold: float | None = None, species=None, *,
               method: str = "phop", min_separation: int | None = None, t_R_frames: int | None = None,
               labels: xr.Dataset | None = None, unwrap_limit: float = 0.25) -> xr.Dataset:
    """Detect hop events and per-ion hop rates.

    Parameters
    ----------
    ds : trajectory Dataset
    t_R : float, ps (or ``t_R_frames``); the p_hop window
    threshold : float; Å^2 for ``method="phop"``, Å for ``method="displacement"``
    species : str or list, optional; ions to analyse (e.g. "Li")
    method : "phop" or "displacement"
    min_separation : int, frames; the smallest distance between two events of one ion (default t_R in frames)
    labels : the result of :func:`~ssefeat.dynamics.phop.phop` on the same trajectory, to reuse it
    unwrap_limit : see :func:`ssefeat.dynamics.d2min.nonaffine_displacement`

    Returns
    -------
    xarray.Dataset with dim ``event`` (``event_atom``, ``event_species``, ``event_frame``, ``event_time`` ps,
    ``score`` (Å^2 or Å), ``hop_vector`` (event, xyz) Å, ``hop_length`` Å) and dim ``atom`` (``n_events``,
    ``rate`` events/ps). :func:`hop_table` turns the events into a pandas DataFrame; :func:`hop_events_chunked`
    gives the same result reading the trajectory chunk by chunk.
    """
    _check_method(method, threshold)
    if labels is None:
        labels = _phop(ds, t_R, species, t_R_frames=t_R_frames, unwrap_limit=unwrap_limit)
    elif species is not None:
        wanted = ds["atom"].values[species_indices(ds, species)]
        labels = labels.isel(atom=np.flatnonzero(np.isin(labels["atom"].values, wanted)))
        if labels.sizes["atom"] == 0:
            raise ParameterError(f"the p_hop labels hold no atom of species {species!r}.",
                                 fix="compute the labels for these atoms, or drop species=.")
    frames_pos, cols, signal, h, distance = _detect(labels, threshold, method, min_separation)
    sub = ds.sel(atom=labels["atom"].values)
    pos = analysed_positions(sub, unwrap_limit)
    # map label frames (possibly trimmed) to positions in ds
    frame_index = {int(f): k for k, f in enumerate(sub["frame"].values)}
    tpos = np.array([frame_index[int(f)] for f in labels["frame"].values[frames_pos]], dtype=np.int64)
    vec = _hop_vectors(pos, tpos, cols, h)
    return _events_dataset(labels, frames_pos, cols, signal, vec, method, threshold, distance, h, species)


def hop_events_chunked(read_chunks, t_R: float | None = None, threshold: float | None = None, species=None, *,
                       method: str = "phop", min_separation: int | None = None, t_R_frames: int | None = None,
                       unwrap_limit: float = 0.25) -> xr.Dataset:
    """:func:`hop_events` reading the trajectory chunk by chunk, in two passes (same result).

    ``read_chunks`` is a callable without arguments that returns a fresh iterator of trajectory chunks (e.g.
    ``lambda: ssefeat.io.iter_chunks(path, 200)``); it is called twice. Pass 1 computes p_hop with
    :func:`~ssefeat.dynamics.phop.iter_phop` and finds the peaks on the whole p_hop series of the analysed atoms
    (peak selection with a minimum separation is not local, so the series is kept: frames x analysed atoms
    floats); pass 2 reads the positions again, t_R frames of overlap carried between chunks, for the hop vectors.
    Positions are never held for more than a chunk.
    """
    _check_method(method, threshold)
    labels = _concat_frames(list(iter_phop(read_chunks(), t_R, species, t_R_frames=t_R_frames,
                                           unwrap_limit=unwrap_limit)))
    frames_pos, cols, signal, h, distance = _detect(labels, threshold, method, min_separation)
    event_frames = labels["frame"].values[frames_pos]
    atoms = labels["atom"].values
    vec = np.zeros((len(cols), 3))

    def compute(block, lo, hi):
        frames = block["frame"].values
        inside = np.flatnonzero(np.isin(event_frames, frames[lo:hi]))
        if inside.size:
            local = {int(f): k for k, f in enumerate(frames)}
            tpos = np.array([local[int(f)] for f in event_frames[inside]], dtype=np.int64)
            pos = analysed_positions(block.sel(atom=atoms), unwrap_limit)
            vec[inside] = _hop_vectors(pos, tpos, cols[inside], h)
        return hi - lo

    for _ in _stream(read_chunks(), compute, h, h):
        pass
    return _events_dataset(labels, frames_pos, cols, signal, vec, method, threshold, distance, h, species)


def hop_table(events: xr.Dataset):
    """The events of :func:`hop_events` as a pandas DataFrame (one row per event)."""
    import pandas as pd

    vec = events["hop_vector"].values
    return pd.DataFrame({"atom": events["event_atom"].values, "species": events["event_species"].values,
                         "frame": events["event_frame"].values, "time_ps": events["event_time"].values,
                         "score": events["score"].values, "hop_length": events["hop_length"].values,
                         "dx": vec[:, 0], "dy": vec[:, 1], "dz": vec[:, 2]})
