"""Jump diffusivity D_J and the correlation factor f = D_tracer / D_J.

D_J = sum over jumps of |jump vector|^2 / (2 d N t) (d = 3 dimensions, N mobile ions, t the run length): the tracer
diffusion coefficient the jumps would give if successive jumps were uncorrelated. Its error treats ions as the unit
of independence: D_J is the mean over ions of D_J,i = sum of the ion's |jump vector|^2 / (2 d t), error the standard
error of that mean. D_tracer comes from the MSD (:func:`ssefeat.dynamics.diffusion_coefficient`, its window rule
and D_err). f = 1 for uncorrelated hops, about 0.653 for single-vacancy diffusion on a simple cubic lattice.
f_err propagates both relative errors as if independent; they share the ions and are positively correlated, so
this overstates the error somewhat.

The D_tracer fit window is ``window`` (ps) when given, else chosen by the one rule of
:func:`ssefeat.dynamics.regime.choose_window` (diffusive, short, or an *apparent* D over 0.2-0.5 of the run); its
verdict is returned with f. With an apparent D the ratio is **not** a correlation factor (the MSD is not yet
diffusive) and the result says so in ``f``'s long_name and ``attrs["verdict"]`` / ``attrs["window_note"]``.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import species_indices
from ..dynamics.diffusion import diffusion_coefficient
from ..dynamics.msd import PreparedPositions, msd_sums
from ..dynamics.regime import DIFFUSIVE_VERDICTS, choose_window
from ..errors import ParameterError
from ..provenance import stamp
from ..units import ANGSTROM2_PER_PS_TO_CM2_PER_S


def jump_diffusivity(jumps: xr.Dataset, dimensions: int = 3) -> tuple[float, float]:
    """D_J and its standard error over ions, Å^2/ps (module docstring)."""
    if int(dimensions) not in (1, 2, 3):
        raise ParameterError(f"dimensions={dimensions} must be 1, 2 or 3.",
                             fix="use dimensions=1, 2 or 3 (the dimensionality of the diffusion).")
    n_ions, t = int(jumps.attrs["n_ions"]), float(jumps.attrs["duration_ps"])
    if not t > 0 or n_ions < 1:
        raise ParameterError(f"a jump diffusivity needs ions and a run length (N={n_ions}, t={t} ps).",
                             fix="pass jumps of a trajectory with at least one ion and more than one frame.")
    sq = np.bincount(jumps["ion"].values, weights=(jumps["jump_vector"].values ** 2).sum(axis=1), minlength=n_ions)
    d_i = sq / (2.0 * dimensions * t)
    err = d_i.std(ddof=1) / np.sqrt(n_ions) if n_ions > 1 else np.nan
    return float(d_i.mean()), float(err)


def tracer_window(prep: PreparedPositions, ds: xr.Dataset, species: str, window=None, fallback: bool = True):
    """The D_tracer fit window (ps), verdict and note of :func:`ssefeat.dynamics.regime.choose_window` for the
    MSD of ``species`` (``window`` given: used as is)."""
    if window is not None:
        return choose_window(np.zeros(0), np.zeros(0), window)
    idx = species_indices(ds, species, what="mobile ions")
    total = msd_sums(prep, idx, None, 0, None)[0]
    lag = np.arange(prep.n_frames) * prep.dt
    return choose_window(lag, total.sum(axis=1) / idx.size, None, fallback=fallback, label=f"species {species}")


def correlation_factor(ds: xr.Dataset, jumps: xr.Dataset, *, window: tuple[float, float] | None = None,
                       fallback: bool = True, dimensions: int = 3, **diffusion_kwargs) -> xr.Dataset:
    """f = D_tracer / D_J with errors, for the mobile species of ``jumps`` in the trajectory ``ds``.

    ``window`` (start, stop) ps: the D_tracer fit window (e.g. the diffusive range of a short run), else chosen by
    :func:`ssefeat.dynamics.regime.choose_window`; ``fallback=False`` raises instead of fitting an apparent D.
    ``diffusion_kwargs`` go to :func:`ssefeat.dynamics.diffusion_coefficient` (e.g. ``uncertainty``).
    Returns a Dataset of scalars: ``f``, ``f_err``, ``D_tracer``, ``D_tracer_err``, ``D_J``, ``D_J_err`` (Å^2/ps),
    their cm^2/s forms, ``n_jumps``, ``n_ions``; attrs: the fit window (ps), ``verdict`` ("given", "diffusive",
    "short": f is a correlation factor; "apparent": it is not) and ``window_note``.
    """
    species = str(jumps.attrs["species"])
    dj, dj_err = jump_diffusivity(jumps, dimensions)
    if not dj > 0:
        raise ParameterError("no jumps between sites: D_J = 0 and the correlation factor is undefined.",
                             fix="use a longer run, a higher temperature, or check the sites and the radius.")
    prep = PreparedPositions(ds, **{k: diffusion_kwargs.pop(k) for k in ("remove_com", "max_unwrap_step",
                                                                         "timestep_ps") if k in diffusion_kwargs})
    win, verdict, note = tracer_window(prep, ds, species, window, fallback)
    dt = diffusion_coefficient(ds, species, win, prepared=prep, **diffusion_kwargs)
    d, d_err = float(dt["D"][0]), float(dt["D_err"][0])
    f = d / dj
    f_err = abs(f) * float(np.hypot(d_err / d if d else np.inf, dj_err / dj))
    a2ps, cm = {"units": "angstrom^2/ps"}, ANGSTROM2_PER_PS_TO_CM2_PER_S
    diffusive = verdict in DIFFUSIVE_VERDICTS
    name = ("correlation factor D_tracer / D_J" if diffusive else
            "APPARENT ratio D_apparent / D_J: not a correlation factor (the MSD is not diffusive in the fit window)")
    out = xr.Dataset(
        {"f": ((), f, {"units": "1", "long_name": name}),
         "f_err": ((), f_err, {"units": "1", "method": "relative errors of D_tracer and D_J added in quadrature"}),
         "D_tracer": ((), d, {**a2ps, "long_name": "tracer D" if diffusive else "apparent D (not diffusive)"}),
         "D_tracer_err": ((), d_err, a2ps),
         "D_J": ((), dj, {**a2ps, "long_name": "jump diffusivity"}),
         "D_J_err": ((), dj_err, {**a2ps, "method": "standard error over ions"}),
         "D_tracer_cm2_s": ((), d * cm, {"units": "cm^2/s"}), "D_J_cm2_s": ((), dj * cm, {"units": "cm^2/s"}),
         "n_jumps": ((), int(jumps.sizes["jump"])), "n_ions": ((), int(jumps.attrs["n_ions"]))})
    out.attrs.update(species=species, window_start_ps=float(dt["window_start"][0]),
                     window_stop_ps=float(dt["window_stop"][0]), temperature_K=jumps.attrs.get("temperature_K"),
                     verdict=verdict, window_note=note)
    return stamp(out, parameters=dict(dimensions=int(dimensions), species=species, window_ps=None if window is None
                                      else [float(v) for v in window], fallback=bool(fallback),
                                      D_J="sum |jump vector|^2 / (2 d N t)", diffusion=str(diffusion_kwargs)),
                 units="1", analysis="ssefeat.sites.correlation.correlation_factor")


def describe_f(c: xr.Dataset) -> str:
    """One line for a person: f with its error, or the apparent ratio labelled as such, with the window verdict."""
    f = f"{float(c['f']):.3g} ± {float(c['f_err']):.2g}"
    win = f"{c.attrs['window_start_ps']:.3g}-{c.attrs['window_stop_ps']:.3g} ps"
    v = str(c.attrs.get("verdict", ""))
    if v in DIFFUSIVE_VERDICTS:
        return f"f = {f} (D_tracer fit over {win}, {v} window)"
    return (f"apparent ratio D_apparent / D_J = {f}, NOT a correlation factor: no diffusive MSD range, apparent D "
            f"fitted over {win}; give a window in the diffusive range or run longer")
