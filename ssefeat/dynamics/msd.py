"""Mean squared displacement with time-origin averaging by FFT, per species and per axis, and the collective MSD.

Positions are unwrapped first (image flags, or minimum image between consecutive frames when ``attrs["wrapped"]``
is not 0) and, by default, the drift of the mass-weighted centre of mass of the *whole system* (all atoms, standard
masses; equal weights when masses are unknown) is subtracted from every atom: ``r_i(t) - [R_com(t) - R_com(0)]``.

The MSD at lag ``m`` frames is averaged over all ``T - m`` time origins and over the atoms of a species, computed per
atom and axis with the O(T log T) "S1 - 2 S2" algorithm (prefix sums + zero-padded FFT autocorrelation), chunked
over atoms so that memory stays bounded.
"""
from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import xarray as xr

from .. import box as _box
from ..data import Unwrapper, species_counts, species_indices, validate
from ..errors import ParameterError, SelectionError, SsefeatError, UnwrapError, UnwrapWarning  # noqa: F401
from ..provenance import stamp
from . import _msd_kernels as K

AXES = ["x", "y", "z", "total"]

#: common mobile ions, in the order they are preferred when no species is given
MOBILE_IONS = ("Li", "Na", "K", "Ag", "Cu", "Mg", "Zn", "Ca", "H", "F", "O")

#: default: refuse to unwrap by minimum image when an atom moves more than this fraction of the smallest
#: perpendicular cell width between stored frames (a true step beyond half a width is invisible)
MAX_UNWRAP_STEP_FRACTION = 0.3


def uniform_step(time, needs: str, fix: str, frames=None) -> float:
    """The time between stored frames (ps): the median step of ``time``, every step within 1e-4 of it, else a
    ParameterError naming the first uneven step (between ``frames``, their labels) and what ``needs`` them even."""
    dt = np.diff(np.asarray(time, dtype=np.float64))
    frames = np.arange(dt.size + 1) if frames is None else frames
    dt0 = float(np.median(dt))
    bad = np.abs(dt - dt0) > 1e-4 * dt0
    if bad.any():
        k = int(np.argmax(bad))
        raise ParameterError(f"frames are not evenly spaced in time: {dt0:.6g} ps typically but {dt[k]:.6g} ps "
                             f"between frames {int(frames[k])} and {int(frames[k + 1])}; {needs}.", fix=fix)
    return dt0


def timestep_of(ds: xr.Dataset, timestep_ps: float | None = None) -> float:
    """The time between stored frames in ps, checked to be uniform and consistent with ``attrs['timestep_ps']``."""
    validate(ds)
    if ds.sizes["frame"] < 2:
        raise ParameterError(f"the trajectory has {ds.sizes['frame']} frame; a displacement needs at least 2.",
                             fix="read more frames (check start/stop/stride).")
    if timestep_ps is not None:
        if not timestep_ps > 0:
            raise ParameterError(f"timestep_ps={timestep_ps} must be positive.",
                                 fix="give the time between frames in ps")
        return float(timestep_ps)
    if ds.attrs.get("time_is_frame_index", 0):
        raise ParameterError("the trajectory has no time information (time is the frame index).",
                             fix="give timestep_ps=... (time between stored frames in ps) or read the file with "
                                 "its timestep.")
    dt0 = uniform_step(ds["time"].values, "time-origin averaging needs a uniform timestep",
                       fix="drop duplicated or missing frames (e.g. restart overlaps), or take a uniform subset "
                           "with ds.isel(frame=slice(None, None, k)).", frames=ds["frame"].values)
    attr = ds.attrs.get("timestep_ps")
    if attr is not None and abs(float(attr) - dt0) > 1e-4 * dt0:
        raise ParameterError(
            f"inconsistent timestep: attrs['timestep_ps'] = {float(attr):.6g} ps but the time coordinate steps by "
            f"{dt0:.6g} ps.", fix="correct the time coordinate or the timestep_ps attribute (fs vs ps?).")
    return float(attr) if attr is not None else dt0


def resolve_species(ds: xr.Dataset, species: str | Sequence[str] | None, mobile_default: bool = False) -> list[str]:
    """Requested species as a list, checked against the trajectory.

    ``None`` means every species, or with ``mobile_default`` the first common mobile ion present (Li, Na, ...).
    """
    present = list(species_counts(ds))  # in order of first appearance
    if species is None:
        if not mobile_default:
            return present
        for ion in MOBILE_IONS:
            if ion in present:
                return [ion]
        raise SelectionError(f"no mobile species in the trajectory: it has {present} and none is a known mobile "
                             f"ion ({', '.join(MOBILE_IONS)}).",
                             fix="name the diffusing species explicitly (species='A' / --species A).")
    wanted = [species] if isinstance(species, str) else list(species)
    species_indices(ds, wanted, "mobile species")  # raises SelectionError naming the species present
    return wanted


def com_weights(ds: xr.Dataset) -> tuple[np.ndarray, str]:
    """Weights of the system's centre of mass: the atomic masses (amu), or equal weights when they are unknown;
    with their description."""
    mass = ds["mass"].values.astype(np.float64) if "mass" in ds.coords else None
    if mass is None or not np.all(np.isfinite(mass)) or mass.sum() <= 0:
        return np.ones(int(ds.sizes["atom"])), "equal (no masses in the trajectory)"
    return mass, "atomic masses (amu)"


def _needs_unwrap(ds: xr.Dataset) -> bool:
    """Whether positions must be unwrapped: a cell and wrapped (or unknown) positions, or image flags; raises
    NoCellError (the schema's message) when they would need it without a cell."""
    wrapped = int(ds.attrs.get("wrapped", -1))
    if "cell" not in ds and (wrapped == 1 or "images" in ds):
        validate(ds, require_cell=True)
    return "cell" in ds and (wrapped != 0 or "images" in ds)


def _check_unwrap_step(max_step: float, fraction: float, width: float) -> None:
    if max_step > fraction * width:
        raise UnwrapError(
            f"cannot unwrap safely: an atom moved {max_step:.2f} Å between consecutive frames, more than "
            f"{fraction:g} of the smallest cell width ({width:.2f} Å); steps beyond half a width "
            "would be invisible to the minimum-image rule and the MSD would be wrong.",
            fix="store frames more often, or give unwrapped positions / image flags (LAMMPS dump with ix iy "
                "iz, attrs wrapped=0); to accept the risk raise max_unwrap_step.")


def select_with_system_com(chunks: Iterable[xr.Dataset], species: str | Sequence[str],
                           max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION, chunk_atoms: int = 512) -> xr.Dataset:
    """The atoms of ``species`` of a trajectory given as consecutive frame chunks, plus the whole system's centre
    of mass ``system_com (frame, xyz)`` in Å, computed in the same single pass.

    The centre of mass is mass-weighted (equal weights without masses) over the unwrapped positions of *all*
    atoms, exactly as :class:`PreparedPositions` computes it (unwrapping carried across chunk borders by one
    :class:`~ssefeat.data.Unwrapper`; the same :class:`UnwrapError` when an atom steps too far between frames).
    :class:`PreparedPositions` subtracts the drift of ``system_com`` when the Dataset has it, so the MSD, D,
    conductivity, non-Gaussian parameter and region dynamics of the selection equal those computed on the whole
    trajectory (to round-off), while only the selected atoms are held: memory is frames x selected atoms plus one
    chunk of all atoms. Positions of the selection are kept as read (wrapped, with their image flags if any).
    """
    wanted = [species] if isinstance(species, str) else list(species)
    unw = Unwrapper(warn_fraction=max_unwrap_step)
    parts, coms = [], []
    width = np.inf
    mass = sel = None
    for ds in chunks:
        validate(ds)
        if mass is None:
            mass, weights = com_weights(ds)
            do_unwrap = _needs_unwrap(ds)
            sel = species_indices(ds, wanted, "mobile species")
        if do_unwrap:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnwrapWarning)
                pos = unw(ds)["positions"].values
            if "images" not in ds:
                width = min(width, float(_box.perpendicular_widths(
                    np.asarray(ds["cell"].values, dtype=np.float64)).min()))
        else:
            pos = ds["positions"].values
        com = np.zeros((ds.sizes["frame"], 3))
        for s in range(0, mass.size, chunk_atoms):  # the atom chunks and order of PreparedPositions
            com += np.einsum("fai,a->fi", np.asarray(pos[:, s:s + chunk_atoms], dtype=np.float64),
                             mass[s:s + chunk_atoms])
        coms.append(com / mass.sum())
        parts.append(ds.isel(atom=sel))
        del pos
    if mass is None:
        raise ParameterError("the trajectory has no frames.", fix="check the file and start/stop/stride.")
    if do_unwrap and np.isfinite(width):
        _check_unwrap_step(unw.max_step, max_unwrap_step, width)
    out = parts[0] if len(parts) == 1 else xr.concat(parts, "frame", data_vars="minimal", coords="minimal",
                                                     compat="override", join="override")
    del parts
    out["system_com"] = (("frame", "xyz"), np.concatenate(coms), {
        "units": "angstrom", "weights": weights, "n_atoms": int(mass.size),
        "long_name": "centre of mass of the whole system (all atoms, unwrapped)"})
    return out


class PreparedPositions:
    """Unwrapped, drift-corrected float64 positions of any subset of atoms, produced chunk by chunk.

    When ``ds`` has a ``system_com (frame, xyz)`` variable (a selection made by :func:`select_with_system_com`),
    its drift is the one subtracted: that of the whole system the atoms were selected from.

    Parameters
    ----------
    ds : trajectory Dataset
    remove_com : bool
        Subtract the drift of the whole system's mass-weighted centre of mass (equal weights if no masses).
    max_unwrap_step : float
        Refuse (:class:`UnwrapError`) minimum-image unwrapping when an atom's step between consecutive frames
        exceeds this fraction of the smallest perpendicular cell width.
    timestep_ps : float, optional
        Override the trajectory's timestep.
    """

    def __init__(self, ds: xr.Dataset, remove_com: bool = True, max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION,
                 timestep_ps: float | None = None, chunk_atoms: int = 512):
        self.ds = ds
        self.dt = timestep_of(ds, timestep_ps)
        self.n_frames = int(ds.sizes["frame"])
        self.n_atoms = int(ds.sizes["atom"])
        self.max_unwrap_step = float(max_unwrap_step)
        self.chunk_atoms = int(chunk_atoms)
        self._unwrap = _needs_unwrap(ds)
        self.unwrap_method = ("none (positions already unwrapped)" if not self._unwrap else
                              "image flags" if "images" in ds else "minimum image between consecutive frames")
        self.max_step = 0.0
        self.remove_com = bool(remove_com)
        self.com_weights = "none"
        self._drift = None
        if self.remove_com:
            if "system_com" in ds:  # a selection of atoms that carries its whole system's centre of mass
                com = np.asarray(ds["system_com"].values, dtype=np.float64)
                self.com_weights = str(ds["system_com"].attrs.get("weights", "unknown"))
            else:
                mass, self.com_weights = com_weights(ds)
                com = np.zeros((self.n_frames, 3))
                for idx in self._chunks(np.arange(self.n_atoms)):
                    com += np.einsum("fai,a->fi", self._unwrapped(idx), mass[idx])
                com /= mass.sum()
            self._drift = com - com[:1]

    def _chunks(self, idx: np.ndarray) -> Iterable[np.ndarray]:
        for s in range(0, idx.size, self.chunk_atoms):
            yield idx[s:s + self.chunk_atoms]

    def _unwrapped(self, idx: np.ndarray) -> np.ndarray:
        sub = self.ds.isel(atom=idx)
        if not self._unwrap:
            return np.asarray(sub["positions"].values, dtype=np.float64)
        unw = Unwrapper(warn_fraction=self.max_unwrap_step)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnwrapWarning)
            out = unw(sub)
        if "images" not in self.ds:
            width = float(_box.perpendicular_widths(np.asarray(self.ds["cell"].values, dtype=np.float64)).min())
            self.max_step = max(self.max_step, unw.max_step)
            _check_unwrap_step(unw.max_step, self.max_unwrap_step, width)
        return np.asarray(out["positions"].values, dtype=np.float64)

    def positions(self, idx: np.ndarray) -> np.ndarray:
        """Unwrapped (and drift-corrected) positions (T, len(idx), 3) in Å, float64."""
        x = self._unwrapped(np.asarray(idx))
        if self._drift is not None:
            x = x - self._drift[:, None, :]
        return x

    def chunks(self, idx: np.ndarray) -> Iterable[np.ndarray]:
        """Positions of ``idx`` in atom chunks."""
        for c in self._chunks(np.asarray(idx)):
            yield self.positions(c)

    def info(self) -> dict:
        return {"unwrap": self.unwrap_method, "remove_com": self.remove_com,
                "com": ("mass-weighted centre of mass of the whole system, weights " + self.com_weights)
                if self.remove_com else "not removed",
                "max_unwrap_step_fraction": self.max_unwrap_step, "timestep_ps": self.dt}


def _check_max_lag(max_lag, n_frames, dt):
    if max_lag is None:
        return n_frames - 1
    m = int(round(float(max_lag) / dt))
    if m < 1:
        raise ParameterError(f"max_lag={max_lag} ps is shorter than one frame ({dt:g} ps).",
                             fix="use a longer max_lag.")
    if m > n_frames - 1:
        raise ParameterError(f"max_lag={max_lag} ps is longer than the trajectory ({(n_frames - 1) * dt:g} ps).",
                             fix=f"use max_lag <= {(n_frames - 1) * dt:g} ps.")
    return m


def msd_sums(prep: PreparedPositions, idx: np.ndarray, window: tuple[int, int] | None, n_blocks: int,
             workers: int | None):
    """One FFT pass over atom chunks: summed per-axis MSD (T, 3); with a window also per-atom slopes (n, 3)
    and per-block summed MSD over the window (n_blocks, W, 3)."""
    t = prep.n_frames
    total = np.zeros((t, 3))
    slopes, blocks = [], None
    if window is not None:
        i0, i1 = window
        w = K.ols_slope_weights(np.arange(i0, i1 + 1) * prep.dt)
        lb = t // n_blocks if n_blocks >= 2 else 0
        if n_blocks >= 2:
            blocks = np.zeros((n_blocks, i1 - i0 + 1, 3))
    n_chunk = K.atoms_per_chunk(t)
    for c in range(0, idx.size, n_chunk):
        x = prep.positions(idx[c:c + n_chunk])
        m = K.msd_fft_atoms(x, workers)
        total += m.sum(axis=1)
        if window is not None:
            slopes.append(np.einsum("k,kai->ai", w, m[i0:i1 + 1]))
            for b in range(n_blocks if blocks is not None else 0):
                mb = K.msd_fft_atoms(x[b * lb:(b + 1) * lb], workers)
                blocks[b] += mb[i0:i1 + 1].sum(axis=1)
    return total, (np.concatenate(slopes) if window is not None else None), blocks


def _lag_coords(n_lags: int, dt: float) -> dict:
    frames = np.arange(n_lags)
    return {"lag": ("lag", frames * dt, {"units": "ps", "long_name": "lag time"}),
            "lag_frames": ("lag", frames)}


def mean_squared_displacement(ds: xr.Dataset, species: str | Sequence[str] | None = None, *, per_axis: bool = True,
                              remove_com: bool = True, max_lag: float | None = None,
                              max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION, timestep_ps: float | None = None,
                              workers: int | None = None) -> xr.DataArray:
    """Time-origin averaged MSD per species (and per axis) by FFT.

    Parameters
    ----------
    ds : trajectory Dataset (wrapped or not; see module docstring for unwrapping and drift removal)
    species : str or list, optional
        Species to report (default: every species).
    per_axis : bool
        Return ``msd (lag, species, axis)`` with axis x, y, z, total (total = x + y + z); else ``msd (lag, species)``.
    remove_com : bool
        Subtract the drift of the whole system's mass-weighted centre of mass.
    max_lag : float, optional
        Largest lag to keep, ps (default: the whole trajectory; long lags have few origins and are noisy).
    workers : int, optional
        Threads for scipy.fft.

    Returns
    -------
    xarray.DataArray ``msd`` in Å^2 with coords ``lag`` (ps), ``lag_frames``, ``species``, ``n_atoms (species)``.
    """
    names = resolve_species(ds, species)
    prep = PreparedPositions(ds, remove_com=remove_com, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps)
    n_lags = _check_max_lag(max_lag, prep.n_frames, prep.dt) + 1
    out = np.zeros((n_lags, len(names), 4))
    counts = []
    for s, name in enumerate(names):
        idx = species_indices(ds, name)
        total = msd_sums(prep, idx, None, 0, workers)[0]
        out[:, s, :3] = total[:n_lags] / idx.size
        counts.append(idx.size)
    out[..., 3] = out[..., :3].sum(axis=-1)
    coords = _lag_coords(n_lags, prep.dt)
    coords.update({"species": ("species", names), "n_atoms": ("species", np.asarray(counts))})
    if per_axis:
        coords["axis"] = ("axis", AXES)
        da = xr.DataArray(out, dims=("lag", "species", "axis"), coords=coords, name="msd")
    else:
        da = xr.DataArray(out[..., 3], dims=("lag", "species"), coords=coords, name="msd")
    params = dict(species=names, per_axis=per_axis, max_lag_ps=max_lag, method="FFT (S1 - 2 S2), all time origins",
                  **prep.info())
    da.attrs["long_name"] = "mean squared displacement"
    return stamp(da, parameters=params, units="angstrom^2", analysis="ssefeat.dynamics.msd.mean_squared_displacement")


def collective_series(prep: PreparedPositions, idx: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """sum_i w_i r_i(t) over the atoms ``idx`` (T, 3), from unwrapped drift-corrected positions."""
    acc = np.zeros((prep.n_frames, 3))
    w = np.ones(idx.size) if weights is None else np.asarray(weights, dtype=np.float64)
    for s in range(0, idx.size, prep.chunk_atoms):
        acc += np.einsum("fai,a->fi", prep.positions(idx[s:s + prep.chunk_atoms]), w[s:s + prep.chunk_atoms])
    return acc


def collective_msd_values(series: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Per-axis time-origin averaged MSD (T, 3) of a collective coordinate (T, 3) by FFT."""
    return K.msd_fft_series(np.ascontiguousarray(series.T), workers).T


def collective_msd(ds: xr.Dataset, species: str | Sequence[str], *, charges: dict | None = None,
                   remove_com: bool = True, max_lag: float | None = None,
                   max_unwrap_step: float = MAX_UNWRAP_STEP_FRACTION, timestep_ps: float | None = None,
                   workers: int | None = None) -> xr.DataArray:
    """Collective ("charge") MSD, time-origin averaged by FFT: ``<|sum_i q_i [r_i(t0+t) - r_i(t0)]|^2> / N``.

    Without ``charges`` every selected atom has weight 1: for one mobile species this is the centre-of-charge MSD
    whose slope / (2 d) is D_sigma, so that the Haven ratio is H_R = D* / D_sigma. With ``charges`` (species ->
    charge in e) the sum is the polarisation displacement (units e^2 Å^2). N is the number of selected atoms.

    Returns ``msd_collective (lag, axis)`` with axis x, y, z, total.
    """
    names = resolve_species(ds, species)
    prep = PreparedPositions(ds, remove_com=remove_com, max_unwrap_step=max_unwrap_step, timestep_ps=timestep_ps)
    n_lags = _check_max_lag(max_lag, prep.n_frames, prep.dt) + 1
    idx = species_indices(ds, names)
    sp = ds["species"].values[idx]
    if charges is not None:
        missing = [s for s in names if s not in charges]
        if missing:
            raise ParameterError(f"no charge for species {missing} in charges={charges}.",
                                 fix="give a charge (e) for every selected species, e.g. {'Li': 1, 'S': -2}.")
    weights = None if charges is None else np.array([float(charges[s]) for s in sp])
    series = collective_series(prep, idx, weights)
    m = collective_msd_values(series, workers)[:n_lags] / idx.size
    out = np.concatenate([m, m.sum(axis=1, keepdims=True)], axis=1)
    coords = _lag_coords(n_lags, prep.dt)
    coords["axis"] = ("axis", AXES)
    da = xr.DataArray(out, dims=("lag", "axis"), coords=coords, name="msd_collective")
    da.attrs["long_name"] = "collective (centre-of-charge) mean squared displacement per atom"
    params = dict(species=names, charges=charges, n_atoms=int(idx.size), max_lag_ps=max_lag,
                  normalisation="divided by the number of selected atoms", **prep.info())
    return stamp(da, parameters=params, units="angstrom^2" if charges is None else "e^2 angstrom^2",
                 analysis="ssefeat.dynamics.msd.collective_msd")
