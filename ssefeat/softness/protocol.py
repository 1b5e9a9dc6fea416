"""The softness protocol of the shipped Kob-Andersen model, for anyone's independent runs (after Cubuk et al. 2015,
Schoenholz et al. 2016): per run, tau_alpha from F_s(q, t) of the labelled species, p_hop reduced to every
``stride``-th frame (the largest p_hop of the interval each stands for) and its largest value within the next t_R,
structure functions of the inherent structures of those frames; rearranging p_hop > ``r_cut``, non-rearranging
p_hop < ``nr_cut`` at every stored frame within +-quiet_tau = tau_alpha / 2 (mean over the runs: a quiet particle
stays caged for ~tau_alpha); balanced classes; held out: frame blocks (seeded, a gap block each side), whole runs
and every run once, with permuted-label controls. ``models/train_kob_andersen.py`` runs it on its KA runs.
"""
from __future__ import annotations

import json

import numpy as np

from ..errors import ParameterError
from .labels import future_max, labels_at_frames
from .model import SoftnessModel, train_softness
from .training_set import combine_runs, select_training_set

Q_ALPHA_KA = 7.25  # 1/sigma, first peak of S_AA(q) of Kob-Andersen


def alpha_relaxation_time(positions: np.ndarray, frame_time: float, q: float = Q_ALPHA_KA,
                          origin_stride: int = 5) -> dict:
    """tau_alpha, F_s(q, tau_alpha) = 1/e (log-linear interpolation), on the whole run and on each half (aging).

    ``positions`` (frame, atom, xyz), unwrapped; isotropic F_s(q, t) = < sin(q r) / (q r) > over atoms and time
    origins (every ``origin_stride`` frames); ``frame_time`` the time between frames.
    """
    def one(pos):
        n = pos.shape[0]
        lags = np.unique(np.round(np.geomspace(1, max(2, n - 1), 40)).astype(int))
        lags = lags[lags < n]
        fs = np.empty(len(lags))
        for k, lag in enumerate(lags):
            d = pos[np.arange(0, n - lag, origin_stride) + lag] - pos[np.arange(0, n - lag, origin_stride)]
            fs[k] = float(np.mean(np.sinc(q * np.sqrt(np.einsum("fai,fai->fa", d, d)) / np.pi)))
        below = np.flatnonzero(fs < 1.0 / np.e)
        if not below.size:
            return float("nan"), lags, fs
        k = int(below[0])
        if k == 0:
            return float(lags[0] * frame_time), lags, fs
        t0, t1 = np.log(lags[k - 1] * frame_time), np.log(lags[k] * frame_time)
        y0, y1 = fs[k - 1], fs[k]
        return float(np.exp(t0 + (y0 - 1 / np.e) * (t1 - t0) / (y0 - y1))), lags, fs

    tau, lags, fs = one(positions)
    half = positions.shape[0] // 2
    pick = np.unique(np.searchsorted(lags, [1, 10, 30, 100, 300, 1000]).clip(0, len(lags) - 1))
    return {"tau_alpha": tau, "tau_alpha_first_half": one(positions[:half])[0],
            "tau_alpha_second_half": one(positions[half:])[0], "q": q,
            "F_s": {f"{lags[k] * frame_time:.4g}": round(float(fs[k]), 4) for k in pick}}


def labels_and_features(ds, parameters, *, t_R: float, stride: int, species=None, system: str | None = None,
                        forcefield=None, fmax: float = 1e-3, inherent: bool = True, thermal_too: bool = False,
                        n_threads: int | None = 1):
    """p_hop labels and structure functions on every ``stride``-th frame of one run.

    Returns ``(phop, future_max, features)`` on the feature frames (and the thermal frames' features as a 4th item
    when ``thermal_too``): p_hop of ``species`` reduced by :func:`labels_at_frames`; its largest value over
    [t, t + t_R] (NaN where that leaves the labelled frames); ``parameters`` structure functions of the inherent
    structures (``ssefeat.md.inherent_structures`` with ``system`` or ``forcefield``, FIRE to ``fmax``) when
    ``inherent``, else of the thermal frames.
    """
    from ..dynamics.phop import phop
    from ..features.structure_functions import structure_functions
    from ..md.inherent import inherent_structures

    ph = phop(ds, t_R=t_R, species=species)["phop"]
    h = int(ph.attrs.get("half_window_frames", 0)) or int(round(0.5 * t_R / float(ds.attrs["timestep_ps"])))
    pos = np.arange(0, ds.sizes["frame"], stride)
    future = future_max(ph, 2 * h).isel(frame=pos)
    lab = labels_at_frames(ph, ds["frame"].values[pos])
    thermal = ds.isel(frame=pos)
    src = inherent_structures(thermal, system=system, forcefield=forcefield, fmax=fmax) if inherent else thermal
    feats = structure_functions(src, parameters, n_threads=n_threads)
    if inherent:
        feats.attrs["inherent"] = json.dumps({
            "fmax": fmax, "mean_fire_steps": float(src["inherent_steps"].mean()),
            "all_converged": bool(src["inherent_converged"].all()),
            "mean_thermal_energy_per_atom": float(src["thermal_energy"].mean()) / ds.sizes["atom"],
            "mean_inherent_energy_per_atom": float(src["inherent_energy"].mean()) / ds.sizes["atom"]})
    if thermal_too:
        return lab, future, feats, (structure_functions(thermal, parameters, n_threads=n_threads) if inherent
                                    else feats)
    return lab, future, feats


def quiet_tau_at(tau_alphas) -> float:
    """The quiet time at one temperature: half the mean tau_alpha of its runs (a non-rearranging particle stays
    caged for ~tau_alpha; the convention of the softness literature)."""
    return 0.5 * float(np.nanmean(tau_alphas))


def quiet_window(step: float, quiet_tau: float) -> int:
    """Feature frames on each side whose intervals (each stands for +-step/2) cover +-quiet_tau."""
    return max(0, int(np.ceil(quiet_tau / step - 0.5 - 1e-9)))


def permuted_control(ts, train_mask, test_mask, C: float, seed: int, n_shuffles: int = 10) -> dict:
    """Chance level: the same fit on the training labels shuffled ``n_shuffles`` times, tested on the real test
    labels (one shuffle can land a hyperplane that happens to align with the real one: the mean is stable)."""
    rng = np.random.default_rng(seed + 1)
    controls = []
    for _ in range(n_shuffles):
        y_perm = ts.y.copy()
        y_perm[train_mask] = rng.permutation(ts.y[train_mask])
        controls.append(SoftnessModel(C=C).fit(ts.X[train_mask], y_perm[train_mask])
                        .metrics(ts.X[test_mask], ts.y[test_mask]))
    each = [c["balanced_accuracy"] for c in controls]
    return dict(controls[0], balanced_accuracy=float(np.mean(each)), balanced_accuracy_each=each,
                n_shuffles=n_shuffles)


def train_with_holdouts(features, labels, *, quiet_tau: float, r_cut: float, nr_cut: float, species=None,
                        seed: int = 0, n_blocks: int = 10, test_fraction: float = 0.3, gap_blocks: int = 1,
                        groups=None, n_shuffles: int = 10):
    """:func:`train_softness` with the quiet window +-``quiet_tau`` (labels already at the feature frames).

    Held out: ``test_fraction`` of ``n_blocks`` frame blocks (``gap_blocks`` on each side dropped from training);
    with ``groups`` (the run of each frame) also whole runs (``report["by_run"]``, C by CV over runs) and every run
    once (``report["leave_one_run_out"]``, with the frame-block model's C). Returns the frame-block model, report.
    """
    window = quiet_window(float(np.median(np.diff(features["time"].values))), quiet_tau)
    kw = dict(r_cut=r_cut, nr_cut=nr_cut, window=window, species=species, n_blocks=n_blocks,
              test_fraction=test_fraction, seed=seed)
    model, report = train_softness(features, labels, gap_blocks=gap_blocks, **kw)
    ts = report["training_set"]
    train_mask, test_mask = ts.split(test_fraction=test_fraction, seed=seed, gap_blocks=gap_blocks)
    report["permuted_control"] = permuted_control(ts, train_mask, test_mask, model.C_, seed, n_shuffles)
    report["window_frames"] = window
    if groups is not None and len(np.unique(np.asarray(groups))) >= 2:
        m_run, rep_run = train_softness(features, labels, groups=groups, **kw)
        tsg = rep_run["training_set"]
        tr, te = tsg.split(test_fraction=test_fraction, seed=seed)
        report["by_run"] = dict(rep_run["test"], C=m_run.C_, test_runs=m_run.provenance_["test_groups"],
                                n_train=int(tr.sum()), train_balanced_accuracy=rep_run["train"]["balanced_accuracy"],
                                permuted_control=permuted_control(tsg, tr, te, m_run.C_, seed, n_shuffles))
        per_run, cm = {}, np.zeros((2, 2), dtype=np.int64)
        for g, name in enumerate(tsg.group_names):
            test = tsg.group == g
            if not test.any() or len(np.unique(tsg.y[test])) < 2:
                continue
            m = SoftnessModel(C=model.C_).fit(tsg.X[~test], tsg.y[~test]).metrics(tsg.X[test], tsg.y[test])
            per_run[name] = m["balanced_accuracy"]
            cm += np.asarray(m["confusion_matrix"])
        tn, fp, fn, tp = cm.ravel()
        report["leave_one_run_out"] = {"balanced_accuracy_each": per_run, "confusion_matrix": cm.tolist(),
                                       "balanced_accuracy": float(0.5 * (tp / max(tp + fn, 1) + tn / max(tn + fp, 1))),
                                       "p_soft_given_rearranging": float(tp / max(tp + fn, 1)), "C": model.C_}
    return model, report


def transfer_metrics(model, features, labels, *, quiet_tau: float, r_cut: float, nr_cut: float, species=None,
                     seed: int = 0) -> dict:
    """Metrics of a trained model on every balanced labelled sample of other (independent) runs."""
    step = float(np.median(np.diff(features["time"].values)))
    ts = select_training_set(features, labels, r_cut, nr_cut, window=quiet_window(step, quiet_tau), species=species,
                             seed=seed)
    return model.metrics(ts.X, ts.y)


def train_on_runs(runs, parameters=None, *, r_cut: float, nr_cut: float, t_R: float, stride: int, species=None,
                  quiet_tau: float | None = None, q: float = Q_ALPHA_KA, system: str | None = None, forcefield=None,
                  fmax: float = 1e-3, inherent: bool = True, names=None, seed: int = 0, **holdouts):
    """Train a softness model on independent runs with the Kob-Andersen protocol (module docstring).

    ``runs``: trajectory Datasets or files (``ssefeat.io.read``), or per-run dicts ``phop``, ``future_max``,
    ``features`` (:func:`labels_and_features`) and ``tau_alpha``. ``parameters``: the structure-function set;
    ``species``: the labelled centres; ``q``: the wave number of F_s; ``system`` / ``forcefield``: the potential of
    the quenches; ``quiet_tau`` defaults to tau_alpha / 2; ``holdouts``: see :func:`train_with_holdouts`. Returns the
    model (frame blocks held out) and a report: every held-out metric, ``quiet_tau``, ``tau_alpha`` per run, the
    combined ``features``, ``phop``, ``future_max`` (P_R(S): ``rearrangement_probability(model.apply(features),
    future_max, r_cut, horizon=0)``) and ``groups``.
    """
    from ..data import unwrap
    from ..io import read

    prepared = []
    for run in runs:
        if not isinstance(run, dict):
            ds = read(run) if not hasattr(run, "data_vars") else run
            ds = unwrap(ds) if ds.attrs.get("wrapped", False) else ds
            if parameters is None:
                raise ParameterError("runs given as trajectories need parameters.", fix="e.g. kob_andersen_radial().")
            sel = ds["species"].values == species if species is not None else slice(None)
            rel = alpha_relaxation_time(ds["positions"].values[:, sel], float(ds.attrs["timestep_ps"]), q)
            ph, fut, feats = labels_and_features(ds, parameters, t_R=t_R, stride=stride, species=species,
                                                 system=system, forcefield=forcefield, fmax=fmax, inherent=inherent)
            run = {"phop": ph, "future_max": fut, "features": feats, "tau_alpha": rel["tau_alpha"]}
        prepared.append(run)
    feats, ph, groups = combine_runs([r["features"] for r in prepared], [r["phop"] for r in prepared], names)
    fut = combine_runs([r["features"] for r in prepared], [r["future_max"] for r in prepared], names)[1]
    taus = [r["tau_alpha"] for r in prepared]
    quiet_tau = quiet_tau_at(taus) if quiet_tau is None else quiet_tau
    model, report = train_with_holdouts(feats, ph, quiet_tau=quiet_tau, r_cut=r_cut, nr_cut=nr_cut, species=species,
                                        seed=seed, groups=groups, **holdouts)
    report.update(quiet_tau=quiet_tau, tau_alpha=taus, features=feats, phop=ph, future_max=fut, groups=groups)
    return model, report
