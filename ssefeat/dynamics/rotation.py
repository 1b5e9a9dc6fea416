"""Anion reorientation: orientation vectors, angular autocorrelation (P1, P2), decorrelation times, deflection angles.

After seed 000 (Li2B12H12): r(t) is the unit vector from a cluster's centre of mass to one of its vertex atoms and

    xi(t)  = < u(t0 + t) . u(t0) >                     (first Legendre polynomial, P1)
    P2(t)  = < P2(u(t0 + t) . u(t0)) >,  P2(x) = (3 x^2 - 1) / 2

averaged over clusters, vertices and all time origins t0 (every frame is an origin; the average at lag t uses the
n_frames - t available pairs). Both are 1 at t = 0, stay 1 for a rigid cluster that does not rotate, and decay to 0
for random orientations; for isotropic rotational diffusion with constant D_r they are exp(-2 D_r t) and
exp(-6 D_r t). They are computed with FFTs over the time axis (O(F log F) per vector).

Orientation vectors use the cluster membership of one reference frame (default the first): in every frame the
members are made whole by minimum image relative to the first member (valid while a cluster is smaller than half
the cell, always true for molecular anions), the centre of mass is mass weighted (unweighted without masses), and
the vertex atoms are, by default, the members of the last framework species of the element order (S of PS4 / P2S7
/ P2S6, H of B12H12 / CB11H12). The trajectory need not be unwrapped.

Decorrelation times (both reported, in ps):
- ``tau_integral``: the integral of the correlation function from 0 to its first zero crossing (trapezoids; up to
  the last lag when it never crosses zero, then flagged ``tau_integral_converged = False``);
- ``tau_1e``: the first lag where the function falls below 1/e (linear interpolation); NaN when it never does.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import cell_array, validate
from ..errors import ParameterError, SelectionError
from ..provenance import parameters_of, stamp
from .msd import uniform_step

_trapezoid = getattr(np, "trapezoid", None) or np.trapz

__all__ = ["anion_orientations", "orientation_autocorrelation", "deflection_angles", "decorrelation_times"]


def _timestep(time: np.ndarray, what: str) -> float:
    if len(time) < 2:
        raise ParameterError(f"{what} needs at least 2 frames, got {len(time)}.",
                             fix="use a trajectory with more frames.")
    uniform_step(time, f"{what} needs evenly spaced frames",
                 fix="select an evenly spaced subset of frames (ds.isel(frame=slice(None, None, stride))).")
    return float(np.float64(time[1]) - np.float64(time[0]))


def anion_orientations(ds: xr.Dataset, clusters: xr.Dataset | None = None,
                       cluster_type: str | Sequence[str] | None = None, vertex_species: str | None = None,
                       reference_frame: int = 0, species: Sequence[str] | None = None,
                       cutoffs: Mapping | None = None) -> xr.DataArray:
    """Unit vectors from each cluster's centre of mass to its vertex atoms, every frame.

    Parameters
    ----------
    ds : trajectory Dataset (periodic; wrapped or not)
    clusters : result of :func:`ssefeat.features.clusters.find_clusters` (only the reference frame is used);
        computed from ``ds`` at the reference frame with ``species`` / ``cutoffs`` when omitted.
    cluster_type : type(s) to keep (e.g. ``"PS4"``); default every cluster with at least one vertex atom besides
        its first member.
    vertex_species : species of the vertex atoms (default: last species of the clusters' element order).
    reference_frame : position (0-based) of the frame whose cluster membership is used.

    Returns
    -------
    DataArray ``orientation (frame, cluster, vertex, xyz)``, unit vectors (NaN in padding where a cluster has fewer
    vertices), with coordinates ``vertex_atom (cluster, vertex)`` (-1 padding), ``cluster_type (cluster)``, ``time``.
    """
    from ..features.clusters import DEFAULT_SPECIES, find_clusters

    validate(ds, require_cell=True)
    n_frames = ds.sizes["frame"]
    if not -n_frames <= reference_frame < n_frames:
        raise ParameterError(f"reference_frame {reference_frame} is outside the {n_frames} frames.",
                             fix=f"use a frame position from 0 to {n_frames - 1}.")
    ref = ds.isel(frame=[reference_frame])
    if clusters is None:
        clusters = find_clusters(ref, species=species or DEFAULT_SPECIES, cutoffs=cutoffs)
    if not np.array_equal(clusters["atom"].values, ds["atom"].values):
        raise ParameterError("the clusters were computed on other atoms than this trajectory.",
                             fix="pass clusters = find_clusters(ds) of the same atoms.")
    ref_frame_value = ref["frame"].values[0]
    if ref_frame_value in clusters["frame"].values:
        cl = clusters.sel(frame=ref_frame_value)
    elif clusters.sizes["frame"] == 1:
        cl = clusters.isel(frame=0)
    else:
        raise ParameterError(f"the clusters have no frame {ref_frame_value} (the reference frame).",
                             fix="compute clusters on the reference frame or pass clusters=None.")
    order = parameters_of(clusters).get("element_order") or list(species or DEFAULT_SPECIES)
    vertex_species = vertex_species or order[-1]
    sp = np.asarray(ds["species"].values).astype(str)
    if vertex_species not in set(sp.tolist()):
        raise SelectionError(f"vertex species {vertex_species!r} not in the trajectory.",
                             fix="choose the species of the cluster's outer atoms, e.g. 'S' or 'H'.")

    cid = np.asarray(cl["cluster_id"].values)
    ctype_atom = np.asarray(cl["cluster_type"].values).astype(str)
    fw = np.flatnonzero(cid >= 0)
    if cluster_type is not None:
        wanted = [cluster_type] if isinstance(cluster_type, str) else list(cluster_type)
        fw = fw[np.isin(ctype_atom[fw], wanted)]
        if len(fw) == 0:
            have = sorted(set(ctype_atom[cid >= 0].tolist()))
            raise SelectionError(f"no cluster of type {wanted} in the reference frame; types present: {have}.",
                                 fix="choose one of the types present.")
    # members grouped by cluster, padded: (C, M); first member (lowest index) is the root
    order_fw = np.lexsort((fw, cid[fw]))
    fw = fw[order_fw]
    ids, start, counts = np.unique(cid[fw], return_index=True, return_counts=True)
    is_vertex = sp[fw] == vertex_species
    n_vert = np.bincount(np.searchsorted(ids, cid[fw]), weights=is_vertex, minlength=len(ids)).astype(int)
    keep_c = (counts >= 2) & (n_vert >= 1)
    if not keep_c.any():
        raise SelectionError(f"no cluster with {vertex_species} vertex atoms and at least 2 members.",
                             fix="check cluster_type and vertex_species.")
    mmax = counts.max()
    members = np.full((len(ids), mmax), -1, dtype=np.int64)
    slot = np.arange(len(fw)) - start[np.searchsorted(ids, cid[fw])]
    members[np.searchsorted(ids, cid[fw]), slot] = fw
    members, ids, n_vert = members[keep_c], ids[keep_c], n_vert[keep_c]
    vmax = n_vert.max()
    vert_slot = np.full((len(ids), vmax), -1, dtype=np.int64)   # index into the member axis
    is_v = (members >= 0) & (sp[np.maximum(members, 0)] == vertex_species)
    vrank = np.cumsum(is_v, axis=1) - 1
    ci, mi = np.nonzero(is_v)
    vert_slot[ci, vrank[ci, mi]] = mi

    mass = np.asarray(ds["mass"].values, dtype=np.float64) if "mass" in ds.coords else np.ones(len(sp))
    w = np.where(members >= 0, mass[np.maximum(members, 0)], 0.0)                       # (C, M)
    cells = cell_array(ds)
    pos = np.asarray(ds["positions"].values, dtype=np.float64)
    safe = np.maximum(members, 0)
    out = np.full((n_frames, len(ids), vmax, 3), np.nan)
    for f in range(n_frames):  # per frame, vectorised over clusters and members
        p = pos[f][safe]                                                                   # (C, M, 3)
        rel = _box.minimum_image(p - p[:, :1], cells[f])
        com = (w[..., None] * rel).sum(1) / w.sum(1)[:, None]
        vs = np.maximum(vert_slot, 0)
        vec = np.take_along_axis(rel, vs[..., None], axis=1) - com[:, None, :]
        norm = np.linalg.norm(vec, axis=-1, keepdims=True)
        u = vec / norm
        u[vert_slot < 0] = np.nan
        out[f] = u
    vertex_atom = np.where(vert_slot >= 0, np.take_along_axis(members, np.maximum(vert_slot, 0), axis=1), -1)
    atom_ids = np.asarray(ds["atom"].values)
    vertex_atom = np.where(vertex_atom >= 0, atom_ids[np.maximum(vertex_atom, 0)], -1)
    ctypes = ctype_atom[members[:, 0]]
    da = xr.DataArray(
        out, dims=("frame", "cluster", "vertex", "xyz"), name="orientation",
        coords={"frame": ds["frame"].values, "time": ("frame", ds["time"].values, {"units": "ps"}),
                "cluster": ids, "vertex": np.arange(vmax), "xyz": ["x", "y", "z"],
                "vertex_atom": (("cluster", "vertex"), vertex_atom), "cluster_type": ("cluster", ctypes)},
        attrs={"description": "unit vectors from the cluster centre of mass to its vertex atoms"})
    params = {"cluster_type": cluster_type, "vertex_species": vertex_species,
              "reference_frame": int(ref_frame_value), "clusters": parameters_of(clusters)}
    return stamp(da, parameters=params, units="1", analysis="ssefeat.dynamics.anion_orientations")


def _flat_vectors(u: xr.DataArray) -> np.ndarray:
    """(F, V, 3) valid vectors from an orientation DataArray (frame, ..., xyz)."""
    if "frame" not in u.dims or "xyz" not in u.dims:
        raise ParameterError(f"orientations have dims {u.dims}; expected (frame, ..., xyz).",
                             fix="pass the result of anion_orientations.")
    other = [d for d in u.dims if d not in ("frame", "xyz")]
    arr = np.asarray(u.transpose("frame", *other, "xyz").values, dtype=np.float64)
    arr = arr.reshape(arr.shape[0], -1, 3)
    valid = np.isfinite(arr).all(axis=(0, 2))
    if not valid.any():
        raise ParameterError("no orientation vector is finite in every frame.",
                             fix="check the cluster selection (anion_orientations).")
    return arr[:, valid]


def _acf_sum(x: np.ndarray, max_lag: int) -> np.ndarray:
    """sum over origins t0 and over axis 1.. of x(t0) x(t0 + lag), lags 0..max_lag; x (F, ...)."""
    n = x.shape[0]
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    fx = np.fft.rfft(x, n=nfft, axis=0)
    acf = np.fft.irfft(fx * np.conj(fx), n=nfft, axis=0)[: max_lag + 1]
    return acf.reshape(max_lag + 1, -1).sum(axis=1)


def decorrelation_times(values: np.ndarray, lag_time: np.ndarray) -> tuple[float, float, bool]:
    """(tau_integral, tau_1e, converged) of a correlation function; see the module docstring."""
    values = np.asarray(values, dtype=np.float64)
    t = np.asarray(lag_time, dtype=np.float64)
    below0 = np.flatnonzero(values <= 0)
    if len(below0):
        k = below0[0]
        # integrate up to the interpolated zero crossing
        t0 = t[k - 1] + (t[k] - t[k - 1]) * values[k - 1] / (values[k - 1] - values[k])
        tau_int = _trapezoid(values[:k], t[:k]) + 0.5 * values[k - 1] * (t0 - t[k - 1])
        converged = True
    else:
        tau_int = _trapezoid(values, t)
        converged = False
    below = np.flatnonzero(values < 1 / np.e)
    if len(below):
        k = below[0]
        tau_1e = t[k - 1] + (t[k] - t[k - 1]) * (values[k - 1] - 1 / np.e) / (values[k - 1] - values[k])
    else:
        tau_1e = np.nan
    return float(tau_int), float(tau_1e), bool(converged)


def orientation_autocorrelation(u: xr.DataArray, max_lag: int | None = None) -> xr.Dataset:
    """Angular autocorrelation xi(t) (P1) and <P2(u(t0+t).u(t0))> of orientation vectors, and decorrelation times.

    Parameters
    ----------
    u : orientations (frame, ..., xyz), e.g. from :func:`anion_orientations`; frames evenly spaced in time.
    max_lag : largest lag in frames (default n_frames - 1).

    Returns
    -------
    Dataset over ``lag`` (ps; coordinate ``lag_frames``) with ``xi`` and ``p2``, ``n_origins (lag)``, and scalar
    ``tau_integral_p1``, ``tau_1e_p1``, ``tau_integral_p2``, ``tau_1e_p2`` (ps) with ``*_converged`` flags.
    """
    arr = _flat_vectors(u)
    n_frames, n_vec = arr.shape[:2]
    dt = _timestep(u["time"].values if "time" in u.coords else np.arange(n_frames, dtype=float),
                   "orientation_autocorrelation")
    max_lag = n_frames - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n_frames:
        raise ParameterError(f"max_lag {max_lag} is not below the number of frames ({n_frames}).",
                             fix=f"use a max_lag from 0 to {n_frames - 1}.")
    n_orig = n_frames - np.arange(max_lag + 1)
    p1 = _acf_sum(arr, max_lag) / (n_orig * n_vec)
    # (u.u')^2 = sum_ab u_a u_b u'_a u'_b: autocorrelation of the 6 independent products, off-diagonals twice
    a_idx, b_idx = np.triu_indices(3)
    prod = arr[..., a_idx] * arr[..., b_idx] * np.where(a_idx == b_idx, 1.0, np.sqrt(2.0))
    x2 = _acf_sum(prod, max_lag) / (n_orig * n_vec)
    p2 = 1.5 * x2 - 0.5
    lag_time = np.arange(max_lag + 1) * dt
    out = xr.Dataset(
        {"xi": ("lag", p1, {"units": "1", "description": "<u(t0+t).u(t0)>, first Legendre"}),
         "p2": ("lag", p2, {"units": "1", "description": "<P2(u(t0+t).u(t0))>, second Legendre"}),
         "n_origins": ("lag", n_orig)},
        coords={"lag": ("lag", lag_time, {"units": "ps"}), "lag_frames": ("lag", np.arange(max_lag + 1))})
    for name, values in (("p1", p1), ("p2", p2)):
        ti, te, conv = decorrelation_times(values, lag_time)
        out[f"tau_integral_{name}"] = ((), ti, {"units": "ps", "description": "integral to the first zero"})
        out[f"tau_1e_{name}"] = ((), te, {"units": "ps", "description": "first crossing of 1/e"})
        out[f"tau_integral_{name}_converged"] = ((), conv)
    out.attrs["n_vectors"] = int(n_vec)
    params = {"max_lag": max_lag, "timestep_ps": dt, "orientations": parameters_of(u)}
    return stamp(out, parameters=params, units="1", analysis="ssefeat.dynamics.orientation_autocorrelation")


def deflection_angles(u: xr.DataArray, lag: int = 1, bins: int | np.ndarray = 90) -> xr.Dataset:
    """Distribution of the angle (degrees) between u(t0) and u(t0 + lag) over origins, clusters and vertices.

    Also reports the largest angle reached from the first frame, per cluster (``max_deflection``; seed 000's
    "maximum deflection angle"). ``lag`` is in frames; the lag in ps is stored as ``lag_ps``.

    Returns Dataset with ``density (angle)`` in 1/degree (integrates to 1 over 0-180°), ``mean_angle`` and
    ``max_deflection (cluster)`` in degrees (when u has a cluster dim).
    """
    arr = _flat_vectors(u)
    n_frames = arr.shape[0]
    if not 1 <= int(lag) < n_frames:
        raise ParameterError(f"lag {lag} must be between 1 and the number of frames - 1 ({n_frames - 1}).",
                             fix="choose a shorter lag.")
    lag = int(lag)
    dots = np.clip(np.einsum("tvk,tvk->tv", arr[lag:], arr[:-lag]), -1.0, 1.0)
    angles = np.degrees(np.arccos(dots)).ravel()
    edges = np.linspace(0.0, 180.0, bins + 1) if np.isscalar(bins) else np.asarray(bins, dtype=float)
    density, edges = np.histogram(angles, bins=edges, density=True)
    centres = 0.5 * (edges[1:] + edges[:-1])
    times = u["time"].values if "time" in u.coords else np.arange(n_frames, dtype=float)
    dt = float(times[1] - times[0]) if n_frames > 1 else 0.0
    out = xr.Dataset({"density": ("angle", density, {"units": "1/degree"}),
                      "mean_angle": ((), float(angles.mean()), {"units": "degree"})},
                     coords={"angle": ("angle", centres, {"units": "degree"}),
                             "angle_edges": ("angle_edge", edges, {"units": "degree"})})
    if "cluster" in u.dims:
        full = np.asarray(u.transpose("frame", "cluster", ..., "xyz").values, dtype=np.float64)
        dot0 = np.clip(np.einsum("tc...k,c...k->tc...", full, full[0]), -1.0, 1.0)
        ang0 = np.degrees(np.arccos(dot0))
        ang0 = ang0.reshape(n_frames, full.shape[1], -1)
        out["max_deflection"] = ("cluster", np.nanmax(np.nanmax(ang0, axis=2), axis=0), {"units": "degree"})
        out = out.assign_coords(cluster=u["cluster"].values)
    out.attrs["lag_frames"] = lag
    out.attrs["lag_ps"] = lag * dt
    return stamp(out, parameters={"lag": lag, "bins": np.asarray(edges).tolist()}, units="1/degree",
                 analysis="ssefeat.dynamics.deflection_angles")
