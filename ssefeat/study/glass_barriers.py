"""NEB barriers of soft and hard Li in a glass, and the test of their difference (thesis Fig. 5-11).

One frame of a run is quenched to its inherent structure (FIRE). Li with S > 0 (soft) and S < 0 (hard) at that
frame are sampled at random (seeded). Each gets a target: the nearest *empty Li site*, i.e. the nearest position that
some Li occupied in the run's frames (every ``site_stride``-th) with no Li within ``r_empty`` Å of it now, at least
``min_hop`` and at most ``max_hop`` Å away. :func:`~ssefeat.study.barriers.neb_barrier` then gives the forward
barrier; a target whose two ends relax into one site (the Li ends within 0.75 min_hop of where it started) is
skipped (counted) and the next nearest empty site is tried (up to ``tries``). Soft and hard barriers are
compared with a two-sided Mann-Whitney U test (each Li one sample).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError, SimulationError
from .barriers import SameMinimumError, neb_barrier, relax

__all__ = ["glass_atoms", "empty_sites", "soft_hard_barriers", "hop_barriers", "compare_barriers", "difference_text",
           "barriers_by_glass", "barrier_groups", "study_barriers"]

#: the fields of a :func:`~ssefeat.study.barriers.neb_barrier` result kept in a band's record
_BAND = ("barrier_forward", "barrier_backward", "hop_length", "converged", "saddle_inside")
_SAME_MINIMUM = "ends relax into one minimum"
_OVERLAP = "an end relaxed into an overlap with another atom"


def glass_atoms(ds: xr.Dataset, frame: int, system_kwargs: dict | None = None, calculator=None):
    """ase.Atoms of frame position ``frame`` of a trajectory with a calculator: ``calculator`` if given, else the
    ssefeat force field of a built LiPS glass (``system_kwargs`` of its run)."""
    from ase import Atoms

    from ..data import cell_array

    cell = cell_array(ds)[frame]
    charges = ds["charge"].values if "charge" in ds.coords else None
    atoms = Atoms(symbols=[str(s) for s in ds["species"].values], positions=ds["positions"].values[frame],
                  cell=cell, pbc=True, charges=charges)
    if calculator is None:
        if not system_kwargs:
            raise ParameterError("no calculator for this trajectory: it was not made by the study's MD engine.",
                                 fix="pass calculator=... (any ASE calculator, e.g. your machine-learned potential).")
        from ..md.ase_calculator import ForceFieldCalculator
        from ..md.systems.lips_glass import lips_forcefield

        calculator = ForceFieldCalculator(lips_forcefield(**system_kwargs), charges=charges)
    atoms.calc = calculator
    return atoms


def empty_sites(li_now: np.ndarray, li_history: np.ndarray, cell: np.ndarray, r_empty: float = 1.6) -> np.ndarray:
    """Positions of ``li_history`` (Å, any earlier Li positions) with no Li of ``li_now`` within ``r_empty`` Å,
    thinned so that no two kept sites are closer than ``r_empty``."""
    from ..neighbors import neighbor_pairs

    pos = np.vstack([li_now, li_history])
    n = len(li_now)
    nb = neighbor_pairs(pos, cell, r_empty, query=np.arange(n, len(pos)), points=np.arange(n), r_min=-1.0)
    occupied = np.zeros(len(li_history), bool)
    occupied[nb.i] = True
    free = li_history[~occupied]
    if not len(free):
        return free
    nb = neighbor_pairs(free, cell, r_empty)
    keep = np.ones(len(free), bool)
    for i, j in zip(nb.i, nb.j):  # greedy thinning over the (short) list of close pairs of candidate sites
        if keep[i] and keep[j] and j > i:
            keep[j] = False
    return free[keep]


def soft_hard_barriers(ds: xr.Dataset, softness: xr.DataArray, *, n_soft: int = 5, n_hard: int = 5,
                       frame: int | None = None, system_kwargs: dict | None = None, calculator=None,
                       species: str = "Li", r_empty: float = 1.6, min_hop: float = 2.0, max_hop: float = 5.0,
                       site_stride: int = 5, tries: int = 3, seed: int = 0, quench_fmax: float = 0.05,
                       **neb) -> dict:
    """Barriers (eV) of ``n_soft`` soft and ``n_hard`` hard ions of one run (module docstring).

    ``softness``: (frame, atom) over the ions; ``frame``: a frame label of it (default its last); ``neb``: keyword
    arguments of :func:`~ssefeat.study.barriers.neb_barrier`. Returns ``soft`` / ``hard`` lists of records (atom,
    S, barrier_forward, barrier_backward, hop_length, converged), ``skipped`` (targets in the same minimum, or no
    empty site in range) and ``frame``.
    """
    from ..box import minimum_image

    tol = neb.pop("same_minimum_tol", 0.75 * min_hop)
    frames = softness["frame"].values
    frame = int(frames[-1]) if frame is None else int(frame)
    if frame not in frames.tolist():
        raise ParameterError(f"frame {frame} has no softness.", fix="pick one of the softness frames.")
    pos_f = int(np.flatnonzero(ds["frame"].values == frame)[0])
    atoms = glass_atoms(ds, pos_f, system_kwargs, calculator)
    quench = relax(atoms, fmax=quench_fmax, steps=3000)
    if not quench["converged"]:
        raise ParameterError(f"the frame did not quench to fmax {quench_fmax} eV/Å.", fix="raise quench_fmax.")
    sp = np.asarray(ds["species"].values).astype(str)
    li = np.flatnonzero(sp == species)
    cell = np.array(atoms.cell[:])
    history = ds["positions"].values[::max(1, int(site_stride))][:, li].reshape(-1, 3)
    sites = empty_sites(atoms.positions[li], history, cell, r_empty)
    S = softness.sel(frame=frame)
    s_of = dict(zip(S["atom"].values.tolist(), S.values.tolist()))
    rng = np.random.default_rng(seed)
    out = {"soft": [], "hard": [], "skipped": [], "frame": frame, "n_sites": int(len(sites)),
           "quench": quench}
    for kind, n_want, sign in (("soft", n_soft, 1.0), ("hard", n_hard, -1.0)):
        pool = [a for a in li.tolist() if np.isfinite(s_of.get(a, np.nan)) and sign * s_of[a] > 0]
        for a in rng.permutation(pool).tolist():
            if len(out[kind]) >= n_want:
                break
            d = np.linalg.norm(minimum_image(sites - atoms.positions[a], cell), axis=1)
            order = [k for k in np.argsort(d) if min_hop <= d[k] <= max_hop][:tries]
            if not order:
                out["skipped"].append({"atom": a, "kind": kind, "why": "no empty site in range"})
                continue
            for k in order:
                try:
                    r = neb_barrier(atoms, a, sites[k], relax_fmax=quench_fmax, same_minimum_tol=tol, **neb)
                except SameMinimumError:
                    out["skipped"].append({"atom": a, "kind": kind, "why": _SAME_MINIMUM})
                    continue
                except SimulationError:  # an end relaxed onto another atom: this target fails, not the study
                    out["skipped"].append({"atom": a, "kind": kind, "why": _OVERLAP})
                    continue
                out[kind].append({"atom": a, "S": float(s_of[a]), **{f: r[f] for f in _BAND}})
                break
    return out


def hop_barriers(ds: xr.Dataset, softness: xr.DataArray, *, n_soft: int = 5, n_hard: int = 5,
                 system_kwargs: dict | None = None, calculator=None, species: str = "Li", t_R_frames: int = 10,
                 threshold: float = 1.5, min_hop: float = 1.5, seed: int = 0, quench_fmax: float = 0.05,
                 **neb) -> dict:
    """Barriers of *observed* hops: hop events of ``species`` (:func:`~ssefeat.dynamics.hops.hop_events`, window
    displacement above ``threshold`` Å over ``t_R_frames``); for each event the frame h = t_R / 2 frames before it
    is quenched, and the ion is sent from its quenched position to that position plus the event's hop vector.
    Soft / hard by S at that frame (events whose start frame has no S are not used). Same records as
    :func:`soft_hard_barriers`, plus ``event_frame``."""
    from ..dynamics.hops import hop_events

    tol = neb.pop("same_minimum_tol", 0.75 * min_hop)
    ev = hop_events(ds, t_R_frames=int(t_R_frames), threshold=float(threshold), species=species,
                    method="displacement")
    h = int(t_R_frames) // 2
    frames = ds["frame"].values.tolist()
    s_frames = set(softness["frame"].values.tolist())
    rng = np.random.default_rng(seed)
    out = {"soft": [], "hard": [], "skipped": [], "n_events": int(ev.sizes["event"])}
    order = rng.permutation(ev.sizes["event"])
    for e in order.tolist():
        f_event = int(ev["event_frame"].values[e])
        k = frames.index(f_event) - h
        if k < 0 or frames[k] not in s_frames:
            continue
        atom = int(ev["event_atom"].values[e])
        s = float(softness.sel(frame=frames[k], atom=atom))
        kind = "soft" if s > 0 else "hard" if s < 0 else None
        if kind is None or not np.isfinite(s) or len(out[kind]) >= (n_soft if kind == "soft" else n_hard):
            continue
        atoms = glass_atoms(ds, k, system_kwargs, calculator)
        relax(atoms, fmax=quench_fmax, steps=3000)
        a = int(np.flatnonzero(ds["atom"].values == atom)[0])
        target = atoms.positions[a] + ev["hop_vector"].values[e]
        try:
            r = neb_barrier(atoms, a, target, relax_fmax=quench_fmax, same_minimum_tol=tol, **neb)
        except SameMinimumError:
            out["skipped"].append({"atom": atom, "kind": kind, "why": _SAME_MINIMUM})
            continue
        except SimulationError:
            out["skipped"].append({"atom": atom, "kind": kind, "why": _OVERLAP})
            continue
        out[kind].append({"atom": atom, "S": s, "event_frame": f_event, **{f: r[f] for f in _BAND}})
        if len(out["soft"]) >= n_soft and len(out["hard"]) >= n_hard:
            break
    return out


def compare_barriers(soft, hard) -> dict:
    """Soft vs hard barriers (eV): medians, means with standard errors, n, the two-sided Mann-Whitney U p-value
    (NaN with fewer than 2 per group) and ``min_p``, the smallest two-sided p the exact test can give at these n,
    2 / C(n_soft + n_hard, n_soft) (above 0.05 no difference can be significant: n too small)."""
    from math import comb

    from scipy.stats import mannwhitneyu

    s, h = np.asarray(soft, float), np.asarray(hard, float)

    def stats(v):
        return {"n": int(v.size), "median": float(np.median(v)) if v.size else np.nan,
                "mean": float(v.mean()) if v.size else np.nan,
                "se": float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else np.nan}

    testable = s.size >= 2 and h.size >= 2
    p = float(mannwhitneyu(s, h, alternative="two-sided").pvalue) if testable else np.nan
    min_p = min(1.0, 2.0 / comb(s.size + h.size, s.size)) if testable else np.nan
    return {"soft": stats(s), "hard": stats(h), "p_mannwhitney": p, "min_p": min_p}


def difference_text(c: dict) -> str:
    """The soft-hard test of a :func:`compare_barriers` result in words: the p-value, or why there is none."""
    s, h = c["soft"]["n"], c["hard"]["n"]
    if not np.isfinite(c.get("p_mannwhitney", np.nan)):
        return f"n too small for a test (soft {s}, hard {h}; 2 each needed)"
    text = f"Mann-Whitney p = {c['p_mannwhitney']:.2g}"
    min_p = c.get("min_p", np.nan)
    if np.isfinite(min_p) and min_p > 0.05:
        text += f" (n too small for p < 0.05: smallest possible p {min_p:.2g})"
    return text


def barriers_by_glass(bar: dict, default_glass: str = "", glasses=()) -> dict:
    """Per glass (records' ``glass``, else ``default_glass``): :func:`compare_barriers` of its converged soft and hard
    bands, plus its ``n_unconverged`` and ``n_skipped`` targets; ``glasses`` first (also those without a record),
    then the others in the order they first appear."""
    glass_of = [r.get("glass", default_glass) for k in ("soft", "hard", "skipped") for r in bar.get(k, [])]
    out = {}
    for g in dict.fromkeys([*glasses, *glass_of]):
        rows = {k: [r for r in bar.get(k, []) if r.get("glass", default_glass) == g] for k in ("soft", "hard")}
        c = compare_barriers(*([r["barrier_forward"] for r in rows[k] if r["converged"]] for k in ("soft", "hard")))
        out[g] = {**c, "n_unconverged": sum(not r["converged"] for k in rows for r in rows[k]),
                  "n_skipped": sum(r.get("glass", default_glass) == g for r in bar.get("skipped", []))}
    return out


def barrier_groups(bar: dict, default_glass: str = "") -> dict:
    """Per barrier glass, and ``"all glasses"`` when there are several: its soft / hard test
    (:func:`barriers_by_glass`) with its quenched frame or hop events; stored with the study (``by_glass``), or
    made from its records (a study written before the glasses were recorded has one glass, ``default_glass``)."""
    glasses = bar.get("glasses") or [default_glass]
    by = bar.get("by_glass") or barriers_by_glass(bar, default_glass, glasses)
    if len(glasses) == 1:
        return {glasses[0]: {**{k: bar[k] for k in ("frame", "n_events") if k in bar}, **by[glasses[0]]}}
    return {**by, "all glasses": {**bar["comparison"], "n_unconverged": bar.get("n_unconverged", 0),
                                  "n_skipped": len(bar.get("skipped", []))}}


def study_barriers(data: dict, softness: dict, system_kwargs: dict, glasses, *, targets: str = "empty_sites",
                   calculator=None, seed: int = 0, say=lambda msg: None, **opts) -> dict:
    """NEB barriers of soft and hard Li in each of ``glasses`` (``data`` / ``softness`` / ``system_kwargs`` per glass:
    the run at the softness temperature), by :func:`soft_hard_barriers` (``targets="empty_sites"``) or
    :func:`hop_barriers` (``"hops"``). Every record and skipped target carries its ``glass``; ``by_glass`` holds each
    glass's test (:func:`barriers_by_glass`) and its quenched frame or hop events, ``comparison`` the test of all
    glasses' bands pooled."""
    if targets not in ("empty_sites", "hops"):
        raise ParameterError(f"barriers.targets must be 'empty_sites' or 'hops', got {targets!r}.",
                             fix="use barriers.targets = 'empty_sites' or 'hops'.")
    find = hop_barriers if targets == "hops" else soft_hard_barriers
    out = {"soft": [], "hard": [], "skipped": [], "targets": targets, "glasses": list(glasses)}
    where = {}
    for g in glasses:
        say(f"NEB barriers of soft and hard Li in {g}")
        b = find(data[g], softness[g], system_kwargs=system_kwargs[g], calculator=calculator, seed=seed, **opts)
        for k in ("soft", "hard", "skipped"):
            out[k] += [{"glass": g, **r} for r in b[k]]
        where[g] = {k: b[k] for k in ("frame", "n_events", "n_sites") if k in b}
    if len(out["glasses"]) == 1:  # the one glass's frame / events, as a single-glass study always had
        out.update(where[out["glasses"][0]])
    out["by_glass"] = {g: {**c, **where[g]} for g, c in barriers_by_glass(out, glasses=out["glasses"]).items()}
    out["comparison"] = compare_barriers(*([r["barrier_forward"] for r in out[k] if r["converged"]]
                                           for k in ("soft", "hard")))
    out["n_unconverged"] = sum(not r["converged"] for r in out["soft"] + out["hard"])
    return out
