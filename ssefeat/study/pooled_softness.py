"""One softness model for several glasses: features and labels per glass, pooled training, held-out blocks per glass.

The thesis trained one logistic-regression hyperplane on Li-Li structure functions with D_cum labels (seeds/003
ch. 5.1.3). Here every glass contributes its frames at one common temperature: each glass's frames are cut into
``n_blocks`` contiguous blocks; the last block of every glass is held out (a fixed, not random, choice: the held-out
samples are later in time than every training sample of their glass), the rest of all glasses train the one model.
Its held-out balanced accuracy is reported per glass with a 95 % interval that resamples that glass's held-out
ions (the unit of independence: an ion's samples in neighbouring frames repeat it; see
:mod:`ssefeat.softness.accuracy`), none with fewer than 10 ions.

Glasses may hold different atoms; for pooling, each glass's centre atoms are renumbered 0..n-1 and glasses with
fewer centres are padded with NaN labels (never selected), so :func:`~ssefeat.softness.training_set.combine_runs`
can stack them. Softness is then applied to each glass's own features (original atom labels).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ParameterError

__all__ = ["features_and_labels", "train_pooled", "LABELS"]

#: label kinds: D_cum (the thesis' choice) or p_hop
LABELS = ("d_cum", "p_hop")


def features_and_labels(ds: xr.Dataset, parameters="li_li", label: str = "d_cum", species: str = "Li", *,
                        lag_frames: int = 5, window_frames: int = 20, cutoff: float = 5.0, t_R_frames: int = 10,
                        stride: int = 1) -> tuple[xr.DataArray, xr.DataArray]:
    """Structure functions (frame, atom, feature) of ``species`` and their label (frame, atom) of one trajectory.

    ``label="d_cum"``: D2min summed over ``window_frames`` in steps of ``lag_frames`` (neighbours within ``cutoff``
    Å, every species), Å^2; ``"p_hop"``: Candelier's p_hop over ``t_R_frames``, Å^2. Features every ``stride``
    frames among those with a label (the window fits in the run).
    """
    from ..dynamics.d2min import cumulative_d2min
    from ..dynamics.phop import phop
    from ..features.structure_functions import structure_functions

    if label not in LABELS:
        raise ParameterError(f"label must be one of {LABELS}, got {label!r}.", fix=f"use label one of {LABELS}.")
    if label == "d_cum":
        lab = cumulative_d2min(ds, int(lag_frames), int(window_frames), float(cutoff), species=species)["d_cum"]
    else:
        lab = phop(ds, species=species, t_R_frames=int(t_R_frames))["phop"]
    labelled = np.isfinite(lab.values).any(axis=1)  # frames whose label window fits in the run
    frames = np.flatnonzero(labelled)[::max(1, int(stride))]
    if not frames.size:
        raise ParameterError(f"no frame of the run has a finite {label} label.",
                             fix="use longer runs than the label window.")
    F = structure_functions(ds.isel(frame=frames), parameters, centre=species)
    return F, lab.sel(frame=F["frame"].values)


def _renumbered(F: xr.DataArray, lab: xr.DataArray, n_max: int):
    n = F.sizes["atom"]
    new = np.arange(n)
    F = F.drop_vars([c for c in F.coords if "atom" in F[c].dims and c != "atom"]).assign_coords(atom=new)
    lab = lab.drop_vars([c for c in lab.coords if "atom" in lab[c].dims and c != "atom"]).assign_coords(atom=new)
    if n < n_max:
        F = F.reindex(atom=np.arange(n_max), fill_value=0.0)
        lab = lab.reindex(atom=np.arange(n_max))  # NaN: never a training sample
    return F, lab


def train_pooled(features: dict, labels: dict, *, r_quantile: float = 0.95, nr_quantile: float = 0.5,
                 r_cut: float | None = None, nr_cut: float | None = None, window: int = 2, n_blocks: int = 4,
                 C: float | None = None, seed: int = 0) -> tuple[object, dict]:
    """Train one model on ``features`` / ``labels`` ({glass: DataArray}) of several glasses.

    Label cuts: ``r_cut`` / ``nr_cut`` (Å^2), else the ``r_quantile`` / ``nr_quantile`` of the pooled labels.
    Returns the model and a report: ``r_cut``, ``nr_cut``, ``window`` (frames), ``C``, ``accuracy`` {glass:
    balanced accuracy, its 95 % interval, held-out samples and frames}, and the overall held-out metrics ``test``.
    """
    from ..softness import train_softness
    from ..softness.accuracy import balanced_accuracy_interval
    from ..softness.training_set import combine_runs

    glasses = list(features)
    if len(glasses) < 1 or set(glasses) != set(labels):
        raise ParameterError("features and labels must name the same glasses.",
                             fix="pass features and labels dicts keyed by the same glass names.")
    if int(n_blocks) < 2:
        raise ParameterError(f"n_blocks must be >= 2 (one is held out), got {n_blocks}.", fix="give n_blocks >= 2.")
    for g in glasses:
        if features[g].sizes["frame"] < n_blocks:
            raise ParameterError(f"glass {g!r} has {features[g].sizes['frame']} feature frames, fewer than "
                                 f"n_blocks={n_blocks}.", fix="use longer runs or fewer blocks.")
    n_max = max(features[g].sizes["atom"] for g in glasses)
    pairs = [_renumbered(features[g], labels[g], n_max) for g in glasses]
    feats, labs, runs = combine_runs([p[0] for p in pairs], [p[1] for p in pairs], glasses)
    pooled = np.asarray(labs.values, dtype=float)
    finite = pooled[np.isfinite(pooled)]
    if finite.size == 0:
        raise ParameterError("no finite label in any glass.", fix="use longer runs (the label windows must fit).")
    r_cut = float(np.quantile(finite, r_quantile)) if r_cut is None else float(r_cut)
    nr_cut = float(np.quantile(finite, nr_quantile)) if nr_cut is None else float(nr_cut)
    # frame blocks within each glass: group "glass|b<k>", the last block of each glass held out
    block_names = []
    for g in glasses:
        n = int((runs.values == g).sum())
        k = np.minimum((np.arange(n) * n_blocks) // n, n_blocks - 1)
        block_names += [f"{g}|b{b}" for b in k]
    groups = xr.DataArray(np.array(block_names), dims="frame", coords={"frame": feats["frame"].values})
    held_out = [f"{g}|b{n_blocks - 1}" for g in glasses]
    model, rep = train_softness(feats, labs, r_cut=r_cut, nr_cut=nr_cut, window=int(window), C=C, seed=seed,
                                groups=groups, test_groups=held_out)
    ts = rep["training_set"]
    _, test = ts.split(seed=seed, test_groups=held_out)
    names = np.asarray(ts.group_names, dtype=str)
    accuracy = {}
    for g, h in zip(glasses, held_out):
        m = test & (names[ts.group] == h)
        if m.sum() == 0 or len(np.unique(ts.y[m])) < 2:
            accuracy[g] = {"balanced_accuracy": float("nan"), "balanced_accuracy_ci": [float("nan")] * 2,
                           "n_test": int(m.sum()), "n_test_frames": int(np.unique(ts.frame[m]).size),
                           "note": "held-out block lacks one class"}
            continue
        pred = model.predict(ts.X[m])
        met = model.metrics(ts.X[m], ts.y[m])
        ci = balanced_accuracy_interval(ts.y[m], pred, ts.atom[m], seed=seed)  # one glass: ions are atoms
        accuracy[g] = {"balanced_accuracy": float(met["balanced_accuracy"]), **ci, "n_test": int(m.sum()),
                       "n_test_frames": int(np.unique(ts.frame[m]).size),
                       "n_test_ions": int(np.unique(ts.atom[m]).size)}
    return model, {"r_cut": r_cut, "nr_cut": nr_cut, "window": int(window), "C": rep["C"], "accuracy": accuracy,
                   "test": rep["test"],
                   "n_train": int(model.provenance_.get("n_train", 0)), "held_out": held_out}


def apply_softness(model, features: xr.DataArray) -> xr.DataArray:
    """Softness (frame, atom) of one glass, NaN outside the model's training domain."""
    S = model.apply(features, warn=False)
    if "in_domain" in S.coords:
        S = S.where(S["in_domain"].astype(bool)).drop_vars("in_domain")
    return S
