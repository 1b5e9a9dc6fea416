"""Jumps between sites (GEMDAT's convention).

A jump is a change of occupied site between two *different* sites; frames an ion spends outside every site are
ignored, so an ion that leaves site A, wanders, and comes back to A has not jumped, and A -> (outside) -> B is one
jump A -> B. The departure frame is the last frame on the site left, the arrival frame the first frame on the new
site (GEMDAT's ``start time`` and ``stop time``).

``min_residence`` (frames, default 1 = every visit counts, GEMDAT's default) removes rattling between neighbouring
sites: a visit of fewer than ``min_residence`` consecutive frames is treated as time outside every site, so
A -> B (2 frames) -> A is no jump at ``min_residence=3``. This differs from GEMDAT's ``minimal_residence``, which
drops the jump *into* a short visit but keeps the jump out of it (A -> B short -> A counts B -> A there); visits
cut by the start or the end of the run are judged on the frames seen.

The jump vector is the minimum image of the site-to-site separation in the cell of the arrival frame (Å), the
vector GEMDAT's jump diffusivity uses; jumps longer than half the cell are therefore not resolved.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError
from ..provenance import stamp
from . import _kernels as K
from .occupancy import SiteStates, site_parameters, site_states


def frame_weights(time: np.ndarray) -> np.ndarray:
    """Time (ps) each frame stands for: half the intervals on either side, so the weights add up to the run."""
    t = np.asarray(time, dtype=np.float64)
    if t.size < 2:
        return np.zeros(t.size)
    d = np.diff(t)
    return 0.5 * (np.concatenate([[0.0], d]) + np.concatenate([d, [0.0]]))


def jumps_from_states(states: np.ndarray, min_residence: int = 1):
    """Jumps from site states (n_frames, n_ions) int: arrays ion, from_site, to_site, departure, arrival frame
    (row positions), ordered by ion then time."""
    if int(min_residence) < 1:
        raise ParameterError(f"min_residence={min_residence} must be >= 1 frame.",
                             fix="give 1 to count every visit, or the shortest visit (frames) that counts.")
    st = np.ascontiguousarray(np.asarray(states, dtype=np.int32).T)
    counts = K.count_jumps(st, int(min_residence))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(offsets[-1])
    arrays = [np.empty(n, dtype=np.int64) for _ in range(5)]
    K.fill_jumps(st, int(min_residence), offsets, *arrays)
    return tuple(arrays)


def jumps_dataset(ds: xr.Dataset, st: SiteStates, min_residence: int = 1) -> xr.Dataset:
    """The Dataset of :func:`site_jumps` from assigned site states."""
    ion, a, b, dep, arr = jumps_from_states(st.states, min_residence)
    sites = st.sites
    time = np.asarray(ds["time"].values, dtype=np.float64)
    df = sites.fractional[b] - sites.fractional[a]
    df -= np.round(df)
    vec = np.einsum("ji,jik->jk", df, st.cells[arr]) if ion.size else np.zeros((0, 3))
    atoms = ds["atom"].values[st.atoms] if "atom" in ds.coords else st.atoms
    frames = ds["frame"].values if "frame" in ds.coords else np.arange(time.size)
    labels = sites.labels.astype(str)
    tix = sites.type_index()
    n_types = len(sites.types)
    # ion-time on each site type (ps): frames weighted by the time they stand for
    w = frame_weights(time)
    s = st.states.astype(np.int64)
    on = s >= 0
    type_time = np.bincount(tix[s[on]], weights=np.broadcast_to(w[:, None], s.shape)[on], minlength=n_types)
    out = xr.Dataset(
        {"atom": ("jump", np.asarray(atoms)[ion], {"long_name": "atom index in the trajectory"}),
         "ion": ("jump", ion, {"long_name": "position of the ion among the mobile ions"}),
         "from_site": ("jump", a), "to_site": ("jump", b),
         "from_label": ("jump", labels[a]), "to_label": ("jump", labels[b]),
         "departure_frame": ("jump", np.asarray(frames)[dep], {"long_name": "last frame on the site left"}),
         "arrival_frame": ("jump", np.asarray(frames)[arr], {"long_name": "first frame on the new site"}),
         "departure_time": ("jump", time[dep], {"units": "ps"}),
         "arrival_time": ("jump", time[arr], {"units": "ps"}),
         "jump_vector": (("jump", "xyz"), vec, {"units": "angstrom",
                                                "long_name": "minimum-image site-to-site vector (arrival cell)"}),
         "jump_distance": ("jump", np.linalg.norm(vec, axis=-1), {"units": "angstrom"}),
         "site_label": ("site", labels), "site_fractional": (("site", "xyz"), sites.fractional, {"units": "1"}),
         "site_type_of_site": ("site", tix),
         "type_time": ("site_type", type_time, {"units": "ps", "long_name": "ion-time spent on sites of the type"}),
         "sites_per_type": ("site_type", np.bincount(tix, minlength=n_types)),
         "mean_cell": (("cell_vector", "xyz"), st.cells.mean(axis=0), {"units": "angstrom"})},
        coords={"jump": np.arange(ion.size), "site": np.arange(sites.n_sites), "xyz": ["x", "y", "z"],
                "cell_vector": ["a", "b", "c"],
                "site_type": np.asarray(sites.types, dtype=str)})
    out.attrs.update(n_ions=int(st.atoms.size), duration_ps=float(time[-1] - time[0]), n_frames=int(time.size),
                     mean_cell_volume_A3=float(abs(np.linalg.det(st.cells.mean(axis=0)))),
                     temperature_K=float(ds.attrs.get("temperature_K", np.nan)), species=st.species,
                     radius_angstrom=st.radius)
    return out


def site_jumps(ds: xr.Dataset, sites, species: str = "Li", radius: float = 1.0, *, min_residence: int = 1,
               check_cell: bool = True, states: SiteStates | None = None) -> xr.Dataset:
    """Jumps of the ions of ``species`` between sites within ``radius`` (Å), GEMDAT's convention (module docstring).

    Parameters
    ----------
    ds : trajectory Dataset with a cell
    sites : :class:`Sites`, (n_sites, 3) fractional coordinates, or a structure file (sites of ``species``)
    min_residence : frames a visit must last to count (1: every visit)
    states : site states already assigned by :func:`ssefeat.sites.occupancy.site_states` (then ``sites``,
        ``species`` and ``radius`` are those it was made with)

    Returns
    -------
    xarray.Dataset on a ``jump`` dimension: ``atom``, ``ion``, ``from_site``, ``to_site``, ``from_label``,
    ``to_label``, ``departure_frame``, ``arrival_frame``, ``departure_time``, ``arrival_time`` (ps),
    ``jump_vector (jump, xyz)`` and ``jump_distance`` (Å); on ``site``: ``site_label``, ``site_fractional``; on
    ``site_type``: ``type_time`` (ion-time on sites of the type, ps), ``sites_per_type``; ``mean_cell`` Å.
    attrs: ``n_ions``, ``duration_ps``, ``n_frames``, ``mean_cell_volume_A3``, ``temperature_K``.
    """
    st = states if states is not None else site_states(ds, sites, species, radius, check_cell=check_cell)
    out = jumps_dataset(ds, st, min_residence)
    params = site_parameters(st, min_residence_frames=int(min_residence),
                             jump_rule="change between two different sites; time outside every site ignored "
                                       "(GEMDAT); visits shorter than min_residence frames count as outside")
    return stamp(out, parameters=params, units="", analysis="ssefeat.sites.jumps.site_jumps")

