"""The hop indicator p_hop (Candelier, Dauchot & Biroli 2010).

With the half window h = t_R / 2 and, at frame t, the windows A = [t - h, t] and B = [t, t + h] (both ends
included: h + 1 frames each, frame t in both), on unwrapped positions:

    p_hop(i, t) = sqrt( <(r_i - <r_i>_B)^2>_A  *  <(r_i - <r_i>_A)^2>_B )      (Å^2)

p_hop is ~ the vibrational mean square amplitude while an atom rattles in a cage and peaks when it moves between
two sites (the windows then straddle two different mean positions). The window-mean displacement
|<r_i>_B - <r_i>_A| (Å) is returned too: it is the site-to-site distance at a hop.

p_hop is defined for frames h <= t < n_frames - h; other frames are NaN (``valid = False``) and dropped with
``trim=True``. The window sums use per-atom prefix sums (O(n_frames) per atom, numba, parallel over atoms).
"""
from __future__ import annotations

import itertools

import numpy as np
import xarray as xr

from ..data import species_indices, validate
from ..errors import ParameterError
from ..provenance import stamp
from . import _label_kernels as _k
from .d2min import _check_int, _restamp, _stream, _unwrapped_positions
from .msd import uniform_step

__all__ = ["phop", "half_window_frames", "iter_phop"]


def _frame_spacing(ds: xr.Dataset) -> float:
    """The uniform time between stored frames (ps); ParameterError when frames are not evenly spaced."""
    if ds.sizes["frame"] < 2:
        return float(ds.attrs.get("timestep_ps", 1.0))
    return uniform_step(ds["time"].values, "a time window cannot be converted to frames", frames=ds["frame"].values,
                        fix="select an evenly spaced part of the trajectory, or give the window in frames "
                            "(t_R_frames=...).")


def analysed_positions(sub: xr.Dataset, unwrap_limit: float) -> np.ndarray:
    """Unwrapped positions (frames, atoms, 3) Å: unwrapped when ``sub`` has a cell and is not marked unwrapped."""
    if "cell" in sub and sub.attrs.get("wrapped", -1) != 0:
        return _unwrapped_positions(sub, unwrap_limit)
    return np.asarray(sub["positions"].values, dtype=np.float64)


def half_window_frames(ds: xr.Dataset, t_R: float | None = None, t_R_frames: int | None = None) -> int:
    """Half window h = t_R / 2 in frames, from ``t_R`` (ps) or ``t_R_frames``; checked against the trajectory."""
    n_frames = ds.sizes["frame"]
    if (t_R is None) == (t_R_frames is None):
        raise ParameterError("give exactly one of t_R (ps) and t_R_frames (frames).",
                             fix="e.g. phop(ds, t_R=2.0) or phop(ds, t_R_frames=20).")
    if t_R is not None:
        if not np.isfinite(t_R) or t_R <= 0:
            raise ParameterError(f"t_R must be a positive time in ps, got {t_R}.",
                                 fix="give t_R > 0 in ps (e.g. a few vibration periods), or t_R_frames in "
                                     "frames instead.")
        step = _frame_spacing(ds)
        h = int(round(0.5 * float(t_R) / step))
        if h < 1:
            raise ParameterError(f"t_R = {t_R} ps is shorter than two frames ({2 * step:.6g} ps).",
                                 fix=f"use t_R >= {2 * step:.6g} ps.")
    else:
        t_R_frames = _check_int(t_R_frames, "t_R_frames", minimum=2)
        h = t_R_frames // 2
    if 2 * h + 1 > n_frames:
        raise ParameterError(
            f"too few frames for the p_hop window: t_R = {2 * h} frames needs {2 * h + 1} frames, the trajectory "
            f"has {n_frames}.", fix=(f"use t_R of at most {2 * ((n_frames - 1) // 2)} frames, or a longer trajectory."
                                     if n_frames >= 3 else "read at least 3 frames (check start / stop / stride)."))
    return h


def phop(ds: xr.Dataset, t_R: float | None = None, species=None, *, t_R_frames: int | None = None,
         trim: bool = False, unwrap_limit: float = 0.25) -> xr.Dataset:
    """p_hop (frame, atom) of Candelier et al. 2010.

    Parameters
    ----------
    ds : trajectory Dataset (wrapped or unwrapped; with a cell when wrapped)
    t_R : float, ps; the full window (A and B each cover t_R / 2, rounded to whole frames)
    species : str or list, optional; atoms to analyse (default all)
    t_R_frames : int, optional; the full window in frames instead of t_R
    trim : bool; drop the frames where a window does not fit (default: keep them as NaN)
    unwrap_limit : float; see :func:`ssefeat.dynamics.d2min.nonaffine_displacement`

    Returns
    -------
    xarray.Dataset with ``phop`` (frame, atom) Å^2, ``window_displacement`` (frame, atom) Å = |<r>_B - <r>_A|,
    ``valid`` (frame, atom); attrs of ``phop`` give the half window in frames and t_R in ps.
    """
    validate(ds)
    h = half_window_frames(ds, t_R, t_R_frames)
    atoms = species_indices(ds, species)
    sub = ds.isel(atom=atoms)
    pos = analysed_positions(sub, unwrap_limit)
    n_frames, n_atoms = pos.shape[:2]
    out_p = np.full((n_frames, n_atoms), np.nan)
    out_d = np.full((n_frames, n_atoms), np.nan)
    _k.phop_kernel(np.ascontiguousarray(pos), h, out_p, out_d)
    valid = np.zeros(n_frames, dtype=bool)
    valid[h:n_frames - h] = True
    keep = np.flatnonzero(valid) if trim else np.arange(n_frames)
    sel = sub.isel(frame=keep)
    step = ds.attrs.get("timestep_ps")
    t_R_ps = None if (step is None or ds.attrs.get("time_is_frame_index")) else 2 * h * float(step)
    out = xr.Dataset(coords={"frame": sel["frame"].values, "time": ("frame", sel["time"].values, {"units": "ps"}),
                             "atom": sel["atom"].values, "species": ("atom", sel["species"].values)})
    window = {"half_window_frames": h, "t_R_frames": 2 * h}
    out["phop"] = (("frame", "atom"), out_p[keep], {"units": "angstrom^2", "long_name": "p_hop", **window})
    out["window_displacement"] = (("frame", "atom"), out_d[keep], {
        "units": "angstrom", "long_name": "|<r>_B - <r>_A|", **window})
    out["valid"] = (("frame", "atom"), np.repeat(valid[keep, None], n_atoms, axis=1))
    params = dict(t_R=t_R, t_R_frames=2 * h, half_window_frames=h, t_R_ps=t_R_ps, species=species, trim=trim,
                  unwrap_limit=unwrap_limit, windows="A = [t - h, t], B = [t, t + h], ends included")
    return stamp(out, parameters=params, units="angstrom^2", analysis="phop")


def iter_phop(chunks, t_R: float | None = None, species=None, *, t_R_frames: int | None = None,
              unwrap_limit: float = 0.25):
    """:func:`phop` over trajectory chunks (e.g. ``ssefeat.io.iter_chunks``), carrying t_R frames of overlap.

    Yields results over consecutive, disjoint frame ranges that together equal ``phop(whole trajectory)``; the
    frame spacing is taken from the first chunk.
    """
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        raise ParameterError("no trajectory chunks were given.", fix="check the file and start/stop/stride.")
    if t_R_frames is None:
        if t_R is None:
            raise ParameterError("give exactly one of t_R (ps) and t_R_frames (frames).",
                                 fix="pass t_R=... (ps) or t_R_frames=... (frames), not both and not neither.")
        step = _frame_spacing(first)
        t_R_frames = 2 * int(round(0.5 * float(t_R) / step))
        if t_R_frames < 2:
            raise ParameterError(f"t_R = {t_R} ps is shorter than two frames ({2 * step:.6g} ps).",
                                 fix=f"use t_R >= {2 * step:.6g} ps.")
    h = _check_int(t_R_frames, "t_R_frames", minimum=2) // 2

    def compute(block, lo, hi):
        res = phop(block, species=species, t_R_frames=2 * h, unwrap_limit=unwrap_limit).isel(frame=slice(lo, hi))
        return _restamp(res, t_R=t_R, chunked=True)

    yield from _stream(itertools.chain([first], chunks), compute, h, h)
