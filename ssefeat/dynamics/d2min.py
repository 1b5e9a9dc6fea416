"""Non-affine displacement D2min (Falk & Langer 1998) and its cumulative sum D_cum.

For an atom i with neighbours j within r_c in the reference frame t0,

    d0_j = r_j(t0) - r_i(t0)                          (minimum image at t0)
    d_j  = d0_j + (u_j - u_i) + n_j @ (h(t) - h(t0))  (u: unwrapped displacement t0 -> t = t0 + lag)
    X = sum_j d_j d0_j^T,  Y = sum_j d0_j d0_j^T,  F = X Y^-1,
    D2min = sum_j |d_j - F d0_j|^2                    (normalize="sum", the default; OVITO's convention)
    D2min = (1 / N_i) sum_j |d_j - F d0_j|^2          (normalize="mean"; LAMMPS / RSoft convention)

``n_j`` is the integer image vector of the pair at t0 and ``h`` the cell (rows are vectors): the neighbour keeps its
periodic image, and that image moves with the cell when the box deforms, so an affine deformation of the whole box
(positions and cell) gives D2min = 0 to round-off. For a fixed cell the last term vanishes. Atoms crossing the
boundary between t0 and t are handled by unwrapping (image flags when the file has them, else minimum image between
consecutive frames; a step too long to unwrap safely is an error).

Atoms with fewer than 3 neighbours, or whose Y is singular (det Y <= rcond * (tr Y / 3)^3, e.g. coplanar
neighbours), get D2min = NaN and ``valid = False``.

Units: D2min in Å^2 (both conventions), strains dimensionless, lags in frames.
"""
from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..data import Unwrapper, cell_array, species_indices, validate
from ..errors import ParameterError, UnwrapWarning, param
from ..neighbors import check_cutoff
from ..provenance import parameters_of, stamp
from ._d2min_arrays import single_thread_blas, d2min_arrays, d2min_frames, strain_from_F  # noqa: F401 (API)

__all__ = ["nonaffine_displacement", "nonaffine_displacement_series", "cumulative_d2min",
           "iter_nonaffine_displacement", "iter_cumulative_d2min"]

_NORMALIZE = ("sum", "mean")
_RC = ["x", "y", "z"]


# --- shared helpers of the label modules (also used by phop, hops, bond_switching) -------------------
def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, (bool, np.bool_)) or not float(value).is_integer():
        raise ParameterError(f"{name} must be a whole number of frames, got {value!r}.",
                             fix=f"give {name} in frames (an integer >= {minimum}).")
    value = int(value)
    if value < minimum:
        raise ParameterError(f"{name} must be at least {minimum} frame(s), got {value}.",
                             fix=f"use {name} >= {minimum}.")
    return value


def _check_lag(lag, n_frames: int, name: str = "lag") -> int:
    lag = _check_int(lag, name)
    if lag >= n_frames:
        fix = (f"use a {name} of at most {n_frames - 1} frame{'s' if n_frames > 2 else ''}, or a longer trajectory."
               if n_frames > 1 else "read at least two frames (check the file and start / stop / stride).")
        raise ParameterError(f"{name} {lag} frames is longer than the trajectory ({n_frames} frame"
                             f"{'s' if n_frames != 1 else ''}).", fix=fix)
    return lag


def _unwrapped_positions(ds: xr.Dataset, unwrap_limit: float = 0.25, checked: bool = False,
                         frames: slice = slice(None)) -> np.ndarray:
    """Unwrapped float64 positions (n_frames, n_atoms, 3) or a ParameterError when unwrapping is unsafe.

    ``unwrap_limit`` is the largest step between stored frames allowed, as a fraction of the smallest cell width
    (a step near half a width cannot be told from its periodic image). ``checked``: the caller has validated
    ``ds`` (periodic, with a cell); only the finiteness of the positions is checked here. ``frames``: unwrap only
    these frames (a slice of positions).
    """
    if checked:
        if not np.isfinite(ds.variables["positions"].values[frames]).all():
            validate(ds.isel(frame=frames))  # raises NonFiniteError naming the first bad frame and atom
    else:
        validate(ds, require_cell=True, periodic="D2min")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnwrapWarning)
            return Unwrapper(warn_fraction=unwrap_limit).positions(ds, frames)
    except UnwrapWarning as warning:
        raise ParameterError(
            f"the trajectory cannot be unwrapped safely: {warning}",
            fix="store frames more often, read a format with image flags or unwrapped coordinates, or raise "
                f"unwrap_limit (now {unwrap_limit} of the cell width) if the large steps are genuine.") from None


def _check_cutoff_all(cutoff, cells: np.ndarray) -> float:
    if cutoff is None:
        raise ParameterError("a cutoff (Å) is required.", fix="pass cutoff=..., e.g. the first minimum of g(r).")
    return check_cutoff(cutoff, cells)


def _check_normalize(normalize: str) -> str:
    if normalize not in _NORMALIZE:
        raise ParameterError(f"normalize must be 'sum' or 'mean', got {normalize!r}.",
                             fix="'sum' (OVITO, the default) or 'mean' (LAMMPS / RSoft: divided by the neighbour "
                                 "count).")
    return normalize


def _concat_frames(parts):
    return parts[0] if len(parts) == 1 else xr.concat(parts, dim="frame", data_vars="minimal", coords="minimal",
                                                      compat="override", combine_attrs="override")


def _stream(chunks, compute, before: int, after: int):
    """Run a windowed label chunk by chunk with overlap; yield results over consecutive, disjoint frame ranges.

    ``compute(block, lo, hi)`` returns the result for positions ``lo:hi`` of ``block`` (a trajectory Dataset);
    a frame's value may need ``before`` frames before it and ``after`` frames after it. Frames are carried over
    between chunks so that every value is computed with its full windows; only the last ``after`` frames of the
    trajectory (and the first ``before``) lack them, exactly as in the one-shot functions. Each block is unwrapped
    on its own, which is exact because labels depend only on displacements inside their windows.
    """
    block = None
    b0 = emitted = 0  # global positions of the block's first frame and of the next frame to emit
    for chunk in chunks:
        block = chunk if block is None else _concat_frames([block, chunk])
        n = block.sizes["frame"]
        lo, hi = emitted - b0, n - after
        if hi > lo and n >= before + after + 1:
            yield compute(block, lo, hi)
            emitted = b0 + hi
            start = max(0, emitted - before - after - b0)  # keep enough context for the next block and the end
            block = block.isel(frame=slice(start, None))
            b0 += start
    if block is None:
        raise ParameterError("no trajectory chunks were given.", fix="check the file and start/stop/stride.")
    if block.sizes["frame"] > emitted - b0:
        yield compute(block, emitted - b0, block.sizes["frame"])


def _restamp(result, **changes):
    params = parameters_of(result)
    params.pop("references", None)
    params.update(changes)
    return stamp(result, parameters=params)


def _all_atoms_dataset(ds: xr.Dataset, coords: dict, data: dict) -> xr.Dataset:
    """``xr.Dataset(data, coords=coords)`` for per-atom results on every atom of ``ds`` (``coords["atom"]`` its atom
    labels, every other entry scalar or on ``atom``), reusing the atom index of ``ds`` and skipping the
    constructor's merge and alignment (0.3 ms of a 2 ms D2min of 10^3 atoms) with xarray's own direct path (the
    one its ``Coordinates`` uses); the same Dataset (a test checks ``identical`` against the constructor)."""
    variables = {"atom": ds.variables["atom"].copy(deep=False)}  # the index variable, its data shared
    for name, value in {**coords, **data}.items():
        if name != "atom":
            variables[name] = xr.Variable(*value) if isinstance(value, tuple) else xr.Variable((), value)
    return xr.Dataset._construct_direct(variables, set(coords), {"atom": ds.sizes["atom"]}, None,
                                        {"atom": ds.xindexes["atom"]})


def _lag_ps(ds: xr.Dataset, lag: int):
    ts = ds.attrs.get("timestep_ps")
    return None if ts is None else float(ts) * lag


# --- public API -----------------------------------------------------------------------------------
def nonaffine_displacement(ds: xr.Dataset, reference: int, lag: int, cutoff: float, species=None,
                           normalize: str = "sum", strain: bool = False, *, neighbor_species=None,
                           rcond: float = 1e-10, unwrap_limit: float = 0.25) -> xr.Dataset:
    """D2min of every atom between frame ``reference`` (t0) and ``reference + lag``.

    Parameters
    ----------
    ds : trajectory Dataset (with a cell; wrapped or unwrapped)
    reference : int, position (0-based) of the reference frame t0 in ``ds``
    lag : int, frames between t0 and the deformed configuration
    cutoff : float, Å; neighbours are the atoms within it at t0 (must be below half the smallest cell width)
    species : str or list, optional; atoms whose D2min is returned (default all)
    normalize : "sum" (default, OVITO) or "mean" (divided by the neighbour count, LAMMPS / RSoft)
    strain : bool; also return the deformation gradient F, the Green-Lagrangian strain E = (F^T F - I)/2, the von
        Mises shear strain and the volumetric strain tr(E)/3 (OVITO's definitions)
    neighbor_species : str or list, optional; only atoms of these species count as neighbours (default all)
    rcond : float; Y is treated as singular when det Y <= rcond * (tr Y / 3)^3
    unwrap_limit : float; the largest step between stored frames, as a fraction of the cell width, that unwrapping
        accepts (larger steps raise ParameterError)

    Returns
    -------
    xarray.Dataset on ``atom`` with ``d2min`` (Å^2, NaN when invalid), ``valid`` (bool), ``n_neighbors``, and
    with ``strain=True`` ``deformation_gradient`` / ``strain_tensor`` (atom, row, col), ``shear_strain``,
    ``volumetric_strain``. Scalar coords ``frame`` / ``time`` are those of t0.
    """
    # the two frames used are checked when unwrapped
    validate(ds, require_cell=True, check_finite=False, periodic="D2min")
    n_frames = ds.sizes["frame"]
    lag = _check_lag(lag, n_frames)
    reference = _check_int(reference, "reference", minimum=0)
    if reference + lag >= n_frames:
        raise ParameterError(
            f"reference frame {reference} + lag {lag} is longer than the trajectory ({n_frames} frames).",
            fix=f"use reference + lag below {n_frames} (reference <= {n_frames - 1 - lag}).")
    normalize = _check_normalize(normalize)
    cells = cell_array(ds)
    cutoff = _check_cutoff_all(cutoff, cells[[reference, reference + lag]])
    centres = species_indices(ds, species, "atoms of species")
    points = species_indices(ds, neighbor_species, "atoms of neighbor_species")
    with single_thread_blas(ds.sizes["atom"]):
        pos = _unwrapped_positions(ds, unwrap_limit, True, slice(reference, reference + lag + 1))
        d2, F, valid, nn = (a[0] for a in d2min_frames(pos, cells[reference:reference + lag + 1], [0], lag, cutoff,
                                                       centres, points, rcond))
    if normalize == "mean":
        d2 = d2 / np.where(nn > 0, nn, 1)
    var = ds.variables
    coords = {"atom": var["atom"].values[centres], "species": ("atom", var["species"].values[centres]),
              "frame": int(var["frame"].values[reference]), "time": float(var["time"].values[reference])}
    data = {"d2min": ("atom", d2, {"units": "angstrom^2", "normalize": normalize,
                                   "long_name": "non-affine squared displacement D2min"}),
            "valid": ("atom", valid, {"description": ">= 3 neighbours and a non-singular Y"}),
            "n_neighbors": ("atom", nn.astype(np.int32), {"units": "1"})}
    if strain:
        E, shear, vol = strain_from_F(F)
        coords.update(row=_RC, col=_RC)
        data.update(
            deformation_gradient=(("atom", "row", "col"), F, {"units": "1", "description": "d = F d0"}),
            strain_tensor=(("atom", "row", "col"), E, {"units": "1",
                                                       "description": "Green-Lagrangian (F^T F - I) / 2"}),
            shear_strain=("atom", shear, {"units": "1", "description": "von Mises shear strain invariant"}),
            volumetric_strain=("atom", vol, {"units": "1", "description": "tr(E) / 3"}))
    frame = coords["frame"]
    if not strain and len(centres) == ds.sizes["atom"] and "atom" in ds.xindexes:
        out = _all_atoms_dataset(ds, coords, data)
    else:
        out = xr.Dataset(data, coords=coords)  # one construction (assigning variables one by one re-aligns each time)
    params = dict(reference=reference, reference_frame=frame, lag=lag,
                  lag_ps=_lag_ps(ds, lag), cutoff=cutoff, species=species, neighbor_species=neighbor_species,
                  normalize=normalize, strain=strain, rcond=rcond, unwrap_limit=unwrap_limit)
    return stamp(out, parameters=params, units="angstrom^2", analysis="nonaffine_displacement")


def nonaffine_displacement_series(ds: xr.Dataset, lag: int, cutoff: float, species=None, normalize: str = "sum",
                                  strain: bool = False, *, neighbor_species=None, references=None,
                                  trim: bool = False, rcond: float = 1e-10, unwrap_limit: float = 0.25,
                                  progress: bool = False) -> xr.Dataset:
    """D2min over every reference frame t0 with the same ``lag``: ``d2min (frame, atom)``.

    The value at frame t0 is D2min between t0 and t0 + lag (neighbours at t0). Frames whose t0 + lag lies past
    the end are NaN (``valid = False``) and are dropped with ``trim=True``; to run chunk by chunk, give each chunk
    ``lag`` frames of overlap and keep its first ``len(chunk) - lag`` frames (or pass ``references``).

    Parameters
    ----------
    ds, lag, cutoff, species, normalize, neighbor_species, rcond, unwrap_limit : as :func:`nonaffine_displacement`
    strain : bool; also ``shear_strain`` and ``volumetric_strain`` (frame, atom)
    references : int array, optional; positions of the t0 frames to compute (default all)
    trim : bool; drop the frames with no t0 + lag
    progress : bool; show a tqdm progress bar

    Returns
    -------
    xarray.Dataset with ``d2min`` (frame, atom) Å^2, ``valid``, ``n_neighbors`` (and strains).
    """
    validate(ds, require_cell=True, check_finite=False, periodic="D2min")  # finiteness: when unwrapped
    return _series(ds, lag, cutoff, species, normalize, strain, neighbor_species, references, trim, rcond,
                   unwrap_limit, progress)


def _series(ds, lag, cutoff, species, normalize, strain, neighbor_species, references, trim, rcond, unwrap_limit,
            progress):
    """:func:`nonaffine_displacement_series` of a validated ``ds``."""
    n_frames = ds.sizes["frame"]
    lag = _check_lag(lag, n_frames)
    normalize = _check_normalize(normalize)
    cells = cell_array(ds)
    cutoff = _check_cutoff_all(cutoff, cells)
    centres = species_indices(ds, species, "atoms of species")
    points = species_indices(ds, neighbor_species, "atoms of neighbor_species")
    if references is None:
        refs = np.arange(n_frames - lag if trim else n_frames)
    else:
        refs = np.atleast_1d(np.asarray(references, dtype=np.int64))
        bad = refs[(refs < 0) | (refs >= n_frames)]
        if bad.size:
            raise ParameterError(f"reference frame {int(bad[0])} is outside the trajectory (0..{n_frames - 1}).",
                                 fix="give reference positions inside the trajectory.")
        if trim:
            refs = refs[refs + lag < n_frames]
    if refs.size == 0:
        raise ParameterError(f"no reference frame t0 has t0 + lag ({lag}) inside the trajectory "
                             f"({n_frames} frames).", fix="use a shorter lag or more frames.")
    nc = len(centres)
    d2 = np.full((refs.size, nc), np.nan)
    valid = np.zeros((refs.size, nc), dtype=bool)
    nn = np.zeros((refs.size, nc), dtype=np.int32)
    shear = np.full((refs.size, nc), np.nan) if strain else None
    vol = np.full((refs.size, nc), np.nan) if strain else None
    inside = np.flatnonzero(refs + lag < n_frames)
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(total=inside.size, desc="D2min", unit="frame")
    with single_thread_blas():
        pos = _unwrapped_positions(ds, unwrap_limit, checked=True)
        dk, Fk, vk, nk = d2min_frames(pos, cells, refs[inside], lag, cutoff, centres, points, rcond, bar)
    if bar is not None:
        bar.close()
    d2[inside] = dk / np.where(nk > 0, nk, 1) if normalize == "mean" else dk
    valid[inside], nn[inside] = vk, nk
    if strain:
        _, shear[inside], vol[inside] = strain_from_F(Fk)
    sel = ds.isel(frame=refs, atom=centres)
    out = xr.Dataset(coords={"frame": sel["frame"].values, "time": ("frame", sel["time"].values, {"units": "ps"}),
                             "atom": sel["atom"].values, "species": ("atom", sel["species"].values)})
    out["d2min"] = (("frame", "atom"), d2, {"units": "angstrom^2", "normalize": normalize,
                                            "long_name": "non-affine squared displacement D2min",
                                            "alignment": "value at t0 covers [t0, t0 + lag]"})
    out["valid"] = (("frame", "atom"), valid, {"description": ">= 3 neighbours, non-singular Y, t0 + lag inside"})
    out["n_neighbors"] = (("frame", "atom"), nn, {"units": "1"})
    if strain:
        out["shear_strain"] = (("frame", "atom"), shear, {"units": "1"})
        out["volumetric_strain"] = (("frame", "atom"), vol, {"units": "1"})
    params = dict(lag=lag, lag_ps=_lag_ps(ds, lag), cutoff=cutoff, species=species,
                  neighbor_species=neighbor_species, normalize=normalize, strain=strain, trim=trim, rcond=rcond,
                  unwrap_limit=unwrap_limit, references=None if references is None else refs)
    return stamp(out, parameters=params, units="angstrom^2", analysis="nonaffine_displacement_series")


def cumulative_d2min(ds: xr.Dataset, dt: int, window: int, cutoff: float, species=None, normalize: str = "sum",
                     *, align: str = "forward", neighbor_species=None, trim: bool = False, rcond: float = 1e-10,
                     unwrap_limit: float = 0.25, progress: bool = False) -> xr.Dataset:
    """Cumulative non-affine displacement D_cum (thesis 5.1.3): D2min summed over consecutive intervals.

    D_cum(t) = sum_{k=0}^{n-1} D2min(t + k dt -> t + (k+1) dt), n = window / dt, each interval with its own
    reference neighbours. ``align="forward"`` (default): the value at t covers [t, t + window);
    ``align="centre"``: it covers [t - window/2, t + window/2) (window // 2 frames before t).
    Frames whose window does not fit in the trajectory are NaN (dropped with ``trim=True``); any invalid interval
    makes D_cum NaN.

    Parameters
    ----------
    dt : int, frames per interval; window : int, frames, a multiple of dt
    cutoff, species, normalize, neighbor_species, rcond, unwrap_limit : as :func:`nonaffine_displacement`

    Returns
    -------
    xarray.Dataset with ``d_cum`` (frame, atom) Å^2 and ``valid``.
    """
    validate(ds, require_cell=True, check_finite=False, periodic="D2min")  # finiteness: when unwrapped
    n_frames = ds.sizes["frame"]
    dt = _check_lag(dt, n_frames, "dt")
    window = _check_lag(window, n_frames, "window")
    if window % dt:
        raise ParameterError(f"window {window} frames is not a multiple of dt {dt} frames (the interval).",
                             fix=f"use a window of n intervals, e.g. {param('window', max(1, window // dt) * dt)}.")
    if align not in ("forward", "centre", "center"):
        raise ParameterError(f"align must be 'forward' or 'centre', got {align!r}.",
                             fix="use align='forward' (window after the frame) or align='centre' (around it).")
    series = _series(ds, dt, cutoff, species, normalize, False, neighbor_species, None, False, rcond, unwrap_limit,
                     progress)
    d = series["d2min"].values
    n_int = window // dt
    n_out = n_frames - window  # forward-aligned frames whose window fits
    dcum = np.full_like(d, np.nan)
    if n_out > 0:
        acc = np.zeros((n_out, d.shape[1]))
        for k in range(n_int):  # window / dt terms, each a whole-array add
            acc += d[k * dt:k * dt + n_out]
        dcum[:n_out] = acc
    if align != "forward":
        shift = window // 2
        dcum = np.concatenate([np.full((shift, d.shape[1]), np.nan), dcum[:n_frames - shift]], axis=0)
    keep = np.arange(n_frames)
    if trim:
        lo = 0 if align == "forward" else window // 2
        keep = keep[lo:lo + max(n_out, 0)]
    out = xr.Dataset(coords=series.isel(frame=keep).coords)
    out["d_cum"] = (("frame", "atom"), dcum[keep], {
        "units": "angstrom^2", "normalize": normalize, "long_name": "cumulative non-affine displacement D_cum",
        "alignment": "[t, t + window)" if align == "forward" else "[t - window/2, t + window/2)"})
    out["valid"] = (("frame", "atom"), np.isfinite(dcum[keep]))
    params = dict(dt=dt, window=window, dt_ps=_lag_ps(ds, dt), window_ps=_lag_ps(ds, window), cutoff=cutoff,
                  species=species, neighbor_species=neighbor_species, normalize=normalize, align=align, trim=trim,
                  rcond=rcond, unwrap_limit=unwrap_limit)
    return stamp(out, parameters=params, units="angstrom^2", analysis="cumulative_d2min")


def iter_nonaffine_displacement(chunks, lag: int, cutoff: float, species=None, normalize: str = "sum",
                                **kwargs):
    """:func:`nonaffine_displacement_series` over trajectory chunks (e.g. ``ssefeat.io.iter_chunks``).

    Yields results over consecutive, disjoint frame ranges that together equal the one-shot series (with
    ``trim=False``); ``lag`` frames are carried from one chunk to the next, so memory stays bounded. Keywords are
    those of :func:`nonaffine_displacement_series` (``references`` and ``trim`` excepted).
    """
    lag = _check_int(lag, "lag")

    def compute(block, lo, hi):
        res = nonaffine_displacement_series(block, lag, cutoff, species, normalize, references=np.arange(lo, hi),
                                            **kwargs)
        return _restamp(res, chunked=True)

    yield from _stream(chunks, compute, 0, lag)


def iter_cumulative_d2min(chunks, dt: int, window: int, cutoff: float, species=None, normalize: str = "sum", *,
                          align: str = "forward", **kwargs):
    """:func:`cumulative_d2min` over trajectory chunks; yields disjoint frame ranges (see
    :func:`iter_nonaffine_displacement`). ``trim`` is not available."""
    window = _check_int(window, "window")
    before = window // 2 if align != "forward" else 0

    def compute(block, lo, hi):
        res = cumulative_d2min(block, dt, window, cutoff, species, normalize, align=align, **kwargs)
        return _restamp(res.isel(frame=slice(lo, hi)), chunked=True)

    yield from _stream(chunks, compute, before, window - before)
