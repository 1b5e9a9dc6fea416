"""Softness: training-set selection, the hyperplane model, its plain-data model files, and P_R(S).

After Cubuk et al., PRL 114, 108001 (2015) and Schoenholz et al., Nat. Phys. 12, 469 (2016):

- *training set*: samples (atom i, frame t) whose rearrangement label (p_hop, D2min, D_cum, ...) exceeds ``r_cut``
  are "rearranging"; samples whose label stays below ``nr_cut`` over a window of frames around t are
  "non-rearranging"; the classes are balanced by subsampling; train / test are split by *blocks of frames*
  (never random rows: neighbouring frames share structure, so random rows leak);
- *model*: standardised features, a linear classifier (logistic regression by default, linear SVM as an option)
  with its regularisation chosen by cross-validation grouped by frame blocks;
- *softness* S = (w . x + b) / |w| in standardised feature units, the signed distance to the hyperplane;
  S > 0 soft (about to rearrange), S < 0 hard;
- *P_R(S)*: the probability that an atom of softness S rearranges within the next t_R, and across temperatures
  the fit ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T).

Model files are JSON (no pickle): feature parameter set, scaler, weights, intercept, provenance and metrics,
protected by a SHA-256 checksum so that an edited or truncated file is refused.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, ClassifierMixin

from . import __version__
from .errors import ModelFileError, ParameterError, SchemaError
from .io.atomic import atomic_output
from .provenance import stamp
from .units import BOLTZMANN_EV

MODEL_FORMAT = "ssefeat-softness-model"
MODEL_FORMAT_VERSION = 1
#: features whose training spread is below this (relative to max(1, |mean|)) are "dead": left out of the fit
#: (weight 0). Structure functions count neighbours, so 1e-3 is a thousandth of a neighbour.
MIN_FEATURE_SCALE = 1e-3


# ------------------------------------------------------------------------------------------------
# feature identity: a model can only be applied to features made with the same parameter set
# ------------------------------------------------------------------------------------------------
def feature_signature(features: xr.DataArray) -> list[dict]:
    """The identity of each feature column: its name and every coordinate on the ``feature`` dim.

    Two feature arrays with equal signatures were made with the same parameter set, in the same order.
    """
    if "feature" not in features.dims:
        raise SchemaError(f"features have dims {features.dims}; expected a 'feature' dim.",
                          fix="compute them with ssefeat.features (features (frame, atom, feature)).")
    coords = [name for name, c in features.coords.items() if c.dims == ("feature",)]
    rows = []
    for k in range(features.sizes["feature"]):
        row = {}
        for name in sorted(coords):
            value = features.coords[name].values[k]
            if isinstance(value, (np.floating, float)):
                value = None if not np.isfinite(value) else round(float(value), 10)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, bytes):
                value = value.decode()
            else:
                value = value if isinstance(value, (int, str)) else str(value)
            row[name] = value
        rows.append(row)
    return rows


def _signature_hash(signature: list[dict]) -> str:
    return hashlib.sha256(json.dumps(signature, sort_keys=True).encode()).hexdigest()[:16]


def feature_names(features: xr.DataArray) -> list[str]:
    """Readable column names: the ``feature`` index values as strings."""
    return [str(v) for v in features["feature"].values]


# ------------------------------------------------------------------------------------------------
# training-set selection
# ------------------------------------------------------------------------------------------------
@dataclass
class TrainingSet:
    """Samples chosen for training, with where they came from.

    ``X`` (n_samples, n_features), ``y`` (1 = rearranging), ``frame`` / ``atom`` their global indices,
    ``block`` the frame block each sample belongs to (for grouped splits), ``group`` the index into
    ``group_names`` of the sample's frame group (e.g. the independent run it comes from), or None without groups.
    """

    X: np.ndarray
    y: np.ndarray
    frame: np.ndarray
    atom: np.ndarray
    block: np.ndarray
    feature_names: list
    signature: list
    info: dict
    group: np.ndarray | None = None
    group_names: list | None = None

    def split(self, test_fraction: float = 0.25, seed: int = 0, gap_blocks: int = 0, test_groups=None):
        """Train / test masks with whole frame blocks in the test set, or whole frame groups when the set has
        groups (``select_training_set(groups=...)``).

        ``gap_blocks`` blocks on each side of a test block are dropped from training, so that samples close in
        time to a test sample never train the model (frame blocks only: separate groups share no time).
        ``test_groups``: the names of the groups to hold out (default: a seeded random ``test_fraction`` of them).
        """
        if self.group is not None:
            return self._split_groups(test_fraction, seed, gap_blocks, test_groups)
        if test_groups is not None:
            raise ParameterError("test_groups was given but the training set has no groups.",
                                 fix="select the training set with groups=... (e.g. the run of each frame).")
        blocks = np.unique(self.block)
        if len(blocks) < 2:
            raise ParameterError("all samples fall in one frame block; a held-out test set needs at least two.",
                                 fix="use more frames or a smaller block size (n_blocks).")
        rng = np.random.default_rng(seed)
        n_test = min(max(1, int(round(test_fraction * len(blocks)))), len(blocks) - 1)
        test_blocks = np.sort(rng.choice(blocks, n_test, replace=False))
        test = np.isin(self.block, test_blocks)
        near = np.zeros_like(test)
        for g in range(1, gap_blocks + 1):
            near |= np.isin(self.block, test_blocks + g) | np.isin(self.block, test_blocks - g)
        train = ~test & ~near
        return train, test

    def _split_groups(self, test_fraction, seed, gap_blocks, test_groups):
        if gap_blocks:
            raise ParameterError(f"gap_blocks={gap_blocks} applies to frame blocks, but this training set is split "
                                 "by frame groups (independent runs share no time, so need no gap).",
                                 fix="use gap_blocks=0 with groups.")
        present = np.unique(self.group)
        if len(present) < 2:
            raise ParameterError(f"all samples fall in one frame group ({self.group_names[int(present[0])]!r}); a "
                                 "held-out test set needs at least two.",
                                 fix="give frames from two or more groups (runs), or split by frame blocks "
                                     "(groups=None).")
        if test_groups is not None:
            wanted = [test_groups] if np.isscalar(test_groups) else list(test_groups)
            names = [str(g) for g in self.group_names]
            missing = [g for g in wanted if str(g) not in names]
            if missing:
                raise ParameterError(f"test_groups {missing} are not among the groups {names}.",
                                     fix="name groups that label some frames.")
            codes = np.array([names.index(str(g)) for g in wanted])
            test = np.isin(self.group, codes)
            if test.all() or not test.any():
                raise ParameterError(f"holding out {wanted} leaves {'no' if test.all() else 'no test'} samples.",
                                     fix="hold out some, not all, of the groups that have samples.")
            return ~test, test
        rng = np.random.default_rng(seed)
        n_test = min(max(1, int(round(test_fraction * len(present)))), len(present) - 1)
        test = np.isin(self.group, rng.choice(present, n_test, replace=False))
        return ~test, test


def _frame_groups(features: xr.DataArray, groups) -> np.ndarray:
    """One group label per frame of ``features`` (in its order) from a frame-indexed DataArray or a sequence."""
    if isinstance(groups, xr.DataArray):
        if groups.dims != ("frame",):
            raise SchemaError(f"groups have dims {groups.dims}; expected ('frame',).",
                              fix="give one group label per frame, e.g. xr.DataArray(run, dims='frame', "
                                  "coords={'frame': frames}).")
        missing = np.setdiff1d(features["frame"].values, groups["frame"].values)
        if missing.size:
            raise SchemaError(f"groups label no group for {missing.size} feature frames (first "
                              f"{missing[:5].tolist()}).",
                              fix="give a group for every frame of the features.")
        return np.asarray(groups.sel(frame=features["frame"].values).values)
    values = np.asarray(groups)
    if values.shape != (features.sizes["frame"],):
        raise SchemaError(f"groups have shape {values.shape}; expected one label per feature frame "
                          f"({features.sizes['frame']},).",
                          fix="give a sequence as long as the features' frame dim, or a DataArray on 'frame'.")
    return values


def future_max(labels: xr.DataArray, horizon: int) -> xr.DataArray:
    """Largest label over frames [t, t + horizon] at every frame t ("rearranges within the next horizon frames").

    NaN where that window holds a NaN label or runs past the last frame. Same dims and coords as ``labels``
    (frame, atom); named ``<name>_future_max``.
    """
    if not {"frame", "atom"} <= set(labels.dims):
        raise SchemaError(f"labels have dims {labels.dims}; expected (frame, atom).",
                          fix="compute labels with ssefeat.dynamics (d2min, phop, cumulative_d2min).")
    if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 0:
        raise ParameterError(f"horizon must be a whole number of frames >= 0, got {horizon!r}.",
                             fix="give the horizon in frames, e.g. 2 * the p_hop half window.")
    from numpy.lib.stride_tricks import sliding_window_view

    labels = labels.transpose("frame", "atom")
    vals = np.asarray(labels.values, dtype=np.float64)
    horizon = int(horizon)
    out = np.full_like(vals, np.nan)
    if vals.shape[0] > horizon:  # max propagates NaN: a window with an unknown label stays unknown
        out[: vals.shape[0] - horizon] = sliding_window_view(vals, horizon + 1, axis=0).max(axis=-1)
    return labels.copy(data=out).rename(f"{labels.name or 'label'}_future_max")


def labels_at_frames(labels: xr.DataArray, frames, reduce: str = "max") -> xr.DataArray:
    """Reduce per-frame labels (frame, atom) at full time resolution to sparser feature frames.

    Each feature frame stands for the label frames nearer to it than to the neighbouring feature frames
    (midpoints go to both); the first and last feature frames stand for as much on their outer side as on
    their inner side. ``reduce="max"`` gives each feature frame the largest label of the interval it stands
    for (a rearrangement between two feature frames is never missed, and "quiet" is checked at every label
    frame); ``"mean"`` and ``"min"`` are offered too. An interval with a NaN label, or reaching frames the
    labels do not have, gives NaN (unknown).

    Parameters
    ----------
    labels : DataArray (frame, atom), e.g. p_hop on every stored frame
    frames : increasing global frame indices of the features, or a features DataArray (its ``frame`` coord)
    reduce : "max", "mean" or "min"

    Returns a DataArray (frame, atom) on ``frames`` with the labels' atom coordinates, units and name.
    """
    reducers = {"max": np.max, "mean": np.mean, "min": np.min}
    if reduce not in reducers:
        raise ParameterError(f"unknown reduce {reduce!r}.", fix=f"use one of {sorted(reducers)}.")
    if not {"frame", "atom"} <= set(labels.dims):
        raise SchemaError(f"labels have dims {labels.dims}; expected (frame, atom).",
                          fix="compute labels with ssefeat.dynamics (d2min, phop, cumulative_d2min).")
    if isinstance(frames, (xr.DataArray, xr.Dataset)):
        frames = frames["frame"].values
    frames = np.asarray(frames).reshape(-1)
    if frames.size == 0 or not np.issubdtype(frames.dtype, np.integer):
        raise ParameterError(f"frames must be a non-empty sequence of integer frame indices, got {frames[:5]!r}.",
                             fix="pass the features' frame coordinate.")
    if np.any(np.diff(frames) <= 0):
        raise ParameterError("frames must be strictly increasing.", fix="sort the feature frames.")
    labels = labels.transpose("frame", "atom")
    lab_frames = labels["frame"].values
    if np.any(np.diff(lab_frames) <= 0):
        raise SchemaError("the labels' frames are not strictly increasing.", fix="sort the labels by frame.")
    outside = ~np.isin(frames, lab_frames)
    if outside.any():
        raise SchemaError(f"{int(outside.sum())} feature frames (first {frames[outside][:5].tolist()}) are not "
                          "frames of the labels.",
                          fix="compute labels and features on the same trajectory; labels need every frame.")
    # the interval of label frames each feature frame stands for, [lo, hi] in global frame indices
    if frames.size > 1:
        gaps = np.diff(frames)
        lo = np.concatenate([[frames[0] - gaps[0] // 2], frames[1:] - gaps // 2])
        hi = np.concatenate([frames[:-1] + gaps // 2, [frames[-1] + gaps[-1] // 2]])
    else:
        lo = hi = frames
    vals = np.asarray(labels.values, dtype=np.float64)
    out = np.full((frames.size, vals.shape[1]), np.nan)
    pos_lo = np.searchsorted(lab_frames, lo)
    pos_hi = np.searchsorted(lab_frames, hi, side="right")
    for k in range(frames.size):
        # complete: every global frame of [lo, hi] is a label frame
        if lo[k] < lab_frames[0] or hi[k] > lab_frames[-1] or pos_hi[k] - pos_lo[k] != hi[k] - lo[k] + 1:
            continue
        block = vals[pos_lo[k]:pos_hi[k]]
        out[k] = np.where(np.isnan(block).any(axis=0), np.nan, reducers[reduce](np.nan_to_num(block), axis=0))
    coords = {k: v for k, v in labels.coords.items() if v.dims == ("atom",)}
    coords["frame"] = frames
    if "time" in labels.coords and labels["time"].dims == ("frame",):
        coords["time"] = ("frame", labels["time"].sel(frame=frames).values)
    res = xr.DataArray(out, dims=("frame", "atom"), coords=coords, name=labels.name,
                       attrs={k: v for k, v in labels.attrs.items() if k == "units"})
    return stamp(res, parameters={"reduce": reduce, "label": str(labels.name)},
                 units=labels.attrs.get("units"), analysis="labels_at_frames")


def _align(features: xr.DataArray, labels: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    if not {"frame", "atom"} <= set(labels.dims):
        raise SchemaError(f"labels have dims {labels.dims}; expected (frame, atom).",
                          fix="compute labels with ssefeat.dynamics (d2min, phop, cumulative_d2min).")
    for dim in ("frame", "atom"):
        common = np.intersect1d(features[dim].values, labels[dim].values)
        if common.size == 0:
            raise SchemaError(f"features and labels share no {dim}: features have {dim}s "
                              f"{features[dim].values[:5].tolist()}..., labels {labels[dim].values[:5].tolist()}...",
                              fix="compute both on the same trajectory, frames and atoms.")
    features, labels = xr.align(features, labels.transpose("frame", "atom"), join="inner")
    return features, labels


def _feature_rows(features: xr.DataArray, fr: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The float64 feature rows (frame fr[k], atom at[k]) of a (frame, atom, feature) array, checking that every
    value is finite; a lazy (dask-backed, e.g. a stage store) array is read one frame chunk at a time, so only
    one chunk and the chosen rows are held."""
    sizes = features.chunksizes.get("frame") if features.chunks is not None else None
    edges = np.cumsum([0, *sizes]) if sizes else np.array([0, features.sizes["frame"]])
    X = np.empty((fr.size, features.sizes["feature"]))
    for a, b in zip(edges[:-1], edges[1:]):
        block = np.asarray(features.isel(frame=slice(int(a), int(b))).values, dtype=np.float64)
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            raise SchemaError(f"features contain NaN or infinite values (first at frame "
                              f"{int(features.frame[a + bad[0]])}, atom {int(features.atom[bad[1]])}, feature "
                              f"{features.feature.values[bad[2]]!s}).",
                              fix="drop those atoms/frames or recompute the features; the model cannot use NaN.")
        here = (fr >= a) & (fr < b)
        X[here] = block[fr[here] - a, at[here]]
    return X


def combine_runs(features: list, labels: list, names: list | None = None
                 ) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Stack independent runs for training: (features, labels, groups) to pass to :func:`train_softness`.

    Each run's features and labels are aligned on their common frames and atoms, then their frame labels are
    shifted by ``r * offset`` (offset: the smallest power of ten above every run's largest frame label) so that runs
    never share a frame. ``groups`` names the run of every frame (``names`` or run0, run1, ...), so that
    ``train_softness(..., groups=groups)`` holds out whole runs and quiet windows never bridge two runs.
    All runs must have the same atoms (labels) and feature names.
    """
    if len(features) != len(labels) or not features:
        raise ParameterError(f"{len(features)} feature arrays for {len(labels)} label arrays.",
                             fix="give one labels array per features array, run by run.")
    names = [f"run{r}" for r in range(len(features))] if names is None else [str(n) for n in names]
    if len(names) != len(features) or len(set(names)) != len(names):
        raise ParameterError(f"run names {names} are not one distinct name per run.", fix="name every run once.")
    pairs = [_align(f, lab) for f, lab in zip(features, labels)]
    first_atoms, first_features = pairs[0][0]["atom"].values, pairs[0][0]["feature"].values
    for name, (f, _) in zip(names, pairs):
        if not (np.array_equal(f["atom"].values, first_atoms) and np.array_equal(f["feature"].values,
                                                                                   first_features)):
            raise SchemaError(f"run {name} has other atoms or features than run {names[0]}.",
                              fix="compute every run's features with the same parameter set on the same system.")
    largest = max(int(np.max(f["frame"].values)) for f, _ in pairs)
    offset = 10 ** len(str(max(largest, 0)))
    feats, labs, groups = [], [], []
    for r, (name, (f, lab)) in enumerate(zip(names, pairs)):
        frames = f["frame"].values + r * offset
        feats.append(f.assign_coords(frame=frames))
        labs.append(lab.assign_coords(frame=frames))
        groups.append(xr.DataArray(np.full(frames.size, name), dims="frame", coords={"frame": frames}))
    return (xr.concat(feats, dim="frame", combine_attrs="override"),
            xr.concat(labs, dim="frame", combine_attrs="override"),
            xr.concat(groups, dim="frame").rename("run"))


def select_training_set(features: xr.DataArray, labels: xr.DataArray, r_cut: float, nr_cut: float,
                        window: int = 0, species: str | list | None = None, balance: bool = True,
                        n_blocks: int = 10, max_per_class: int | None = None, seed: int = 0,
                        groups=None) -> TrainingSet:
    """Choose rearranging and non-rearranging samples from per-atom labels.

    Parameters
    ----------
    features : DataArray (frame, atom, feature)
    labels : DataArray (frame, atom)
        Any rearrangement indicator (p_hop in Å^2, D2min in Å^2, D_cum ...). NaN labels are never selected.
    r_cut : float
        Samples with label > r_cut are rearranging.
    nr_cut : float
        Samples whose label stays below nr_cut for every frame within ``window`` frames of t (both sides) are
        non-rearranging. ``nr_cut <= r_cut``.
    window : int
        Half-width in frames of the quiet window for non-rearranging samples.
    species : str or list, optional
        Keep only centre atoms of these species (uses the ``species`` coordinate).
    balance : bool
        Subsample the larger class to the size of the smaller one.
    n_blocks : int
        Number of contiguous frame blocks used for grouped splits and cross-validation.
    max_per_class : int, optional
        Cap on samples per class (subsampled at random).
    seed : int
    groups : DataArray on ``frame`` or sequence (one label per feature frame), optional
        The group of each frame, e.g. the independent run it comes from: splits and cross-validation then hold
        out whole groups (:meth:`TrainingSet.split`). Quiet windows never reach across a change of group.
    """
    if nr_cut > r_cut:
        raise ParameterError(f"nr_cut ({nr_cut}) is above r_cut ({r_cut}).",
                             fix="choose nr_cut <= r_cut: quiet samples must sit below rearranging ones.")
    frame_group = None
    if groups is not None:
        frame_group = dict(zip(features["frame"].values.tolist(), _frame_groups(features, groups).tolist()))
    features, labels = _align(features, labels)
    group_names, group_code = None, None
    if frame_group is not None:
        group_names, group_code = np.unique(np.asarray([frame_group[f] for f in features["frame"].values.tolist()]),
                                            return_inverse=True)
    if species is not None:
        wanted = [species] if isinstance(species, str) else list(species)
        if "species" not in features.coords:
            raise SchemaError("features have no species coordinate to select on.")
        keep = np.isin(features["species"].values, wanted)
        if not keep.any():
            raise ParameterError(f"no feature rows of species {wanted}.",
                                 fix=f"features have species {sorted(set(features['species'].values.tolist()))}.")
        features, labels = features.isel(atom=np.flatnonzero(keep)), labels.isel(atom=np.flatnonzero(keep))
    features = features.transpose("frame", "atom", "feature")
    lab = np.asarray(labels.values, dtype=np.float64)
    n_frames = lab.shape[0]
    rearr = lab > r_cut
    quiet_now = np.where(np.isfinite(lab), lab < nr_cut, False)
    if window > 0:
        # quiet over [t - window, t + window]: a sliding AND along frames; frames whose window leaves the
        # trajectory cannot be certified quiet.
        from scipy.ndimage import minimum_filter1d

        quiet = minimum_filter1d(quiet_now.astype(np.int8), size=2 * window + 1, axis=0, mode="constant",
                                 cval=0).astype(bool)
    else:
        quiet = quiet_now
    if window > 0 and group_code is not None:
        # a quiet window must not reach into another group (another run)
        from scipy.ndimage import maximum_filter1d, minimum_filter1d

        lo = minimum_filter1d(group_code, size=2 * window + 1, mode="nearest")
        hi = maximum_filter1d(group_code, size=2 * window + 1, mode="nearest")
        quiet &= (lo == hi)[:, None]
    rng = np.random.default_rng(seed)
    fr_r, at_r = np.nonzero(rearr)
    fr_n, at_n = np.nonzero(quiet)
    if len(fr_r) < 2 or len(fr_n) < 2:
        raise ParameterError(
            f"too few samples to train: {len(fr_r)} rearranging (label > {r_cut}) and {len(fr_n)} non-rearranging "
            f"(label < {nr_cut} over +-{window} frames).",
            fix="lower r_cut / raise nr_cut, shorten the window, or use a longer trajectory at higher temperature.")
    n_r, n_n = len(fr_r), len(fr_n)
    if balance:
        n_r = n_n = min(n_r, n_n)
    if max_per_class is not None:
        n_r, n_n = min(n_r, max_per_class), min(n_n, max_per_class)
    pick_r = np.sort(rng.choice(len(fr_r), n_r, replace=False))
    pick_n = np.sort(rng.choice(len(fr_n), n_n, replace=False))
    fr = np.concatenate([fr_r[pick_r], fr_n[pick_n]])
    at = np.concatenate([at_r[pick_r], at_n[pick_n]])
    y = np.concatenate([np.ones(n_r, np.int64), np.zeros(n_n, np.int64)])
    X = _feature_rows(features, fr, at)
    block = np.minimum((fr * n_blocks) // max(n_frames, 1), n_blocks - 1)
    info = {"r_cut": r_cut, "nr_cut": nr_cut, "window_frames": window, "species": species, "balance": balance,
            "n_blocks": n_blocks, "seed": seed, "n_rearranging_available": int(len(fr_r)),
            "n_nonrearranging_available": int(len(fr_n)), "label_name": str(labels.name),
            "label_units": labels.attrs.get("units", "")}
    if group_names is not None:
        info["groups"] = [str(g) for g in group_names]
    return TrainingSet(X=X, y=y, frame=features.frame.values[fr], atom=features.atom.values[at],
                       block=block, feature_names=feature_names(features), signature=feature_signature(features),
                       info=info, group=None if group_code is None else group_code[fr],
                       group_names=None if group_names is None else [str(g) for g in group_names])


# ------------------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------------------
class SoftnessModel(ClassifierMixin, BaseEstimator):
    """Standardise + linear classifier; softness is the signed distance to its hyperplane.

    Parameters
    ----------
    classifier : {"logistic", "svm"}
        Logistic regression (default) or a linear support-vector machine.
    C : float or None
        Inverse regularisation strength; None chooses it by cross-validation over ``Cs``.
    Cs : sequence of float
        Candidates for C.
    cv : int
        Number of cross-validation folds (grouped by frame block when ``groups`` are given to ``fit``).
    max_iter : int
    random_state : int

    Learned attributes: ``mean_``, ``scale_`` (standardisation), ``coef_`` (weights in standardised units),
    ``intercept_``, ``C_`` (the C used), ``cv_scores_`` (balanced accuracy per candidate C),
    ``feature_names_in_``.
    """

    def __init__(self, classifier: str = "logistic", C: float | None = None,
                 Cs=(1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0), cv: int = 5, max_iter: int = 2000,
                 random_state: int = 0):
        self.classifier = classifier
        self.C = C
        self.Cs = Cs
        self.cv = cv
        self.max_iter = max_iter
        self.random_state = random_state

    def _estimator(self, C: float):
        if self.classifier == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=C, max_iter=self.max_iter)
        if self.classifier == "svm":
            from sklearn.svm import LinearSVC

            return LinearSVC(C=C, max_iter=self.max_iter, random_state=self.random_state)
        raise ParameterError(f"unknown classifier {self.classifier!r}.", fix="use 'logistic' or 'svm'.")

    def fit(self, X, y, groups=None, feature_names=None):
        """Fit on samples X (n_samples, n_features) with labels y (1 = rearranging, 0 = not).

        ``groups`` (e.g. frame blocks) make the cross-validation folds hold whole groups.
        """
        from sklearn.metrics import balanced_accuracy_score
        from sklearn.model_selection import GroupKFold, StratifiedKFold

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or len(X) != len(y):
            raise ParameterError(f"X has shape {X.shape} and y {y.shape}; expected (n, n_features) and (n,).")
        if not np.isfinite(X).all():
            raise SchemaError("training features contain NaN or infinite values.",
                              fix="drop or recompute those samples before training.")
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) != 2 or counts.min() < max(2, self.cv if self.C is None else 2):
            raise ParameterError(f"training needs both classes with enough samples; got counts "
                                 f"{dict(zip(classes.tolist(), counts.tolist()))}.",
                                 fix="loosen r_cut / nr_cut or use more frames.")
        self.classes_ = np.array([0, 1])
        self.mean_ = X.mean(axis=0)
        # Features that (almost) never vary in training carry no information, and dividing by their tiny spread
        # would blow up softness wherever they do occur (a radial shell at a Li-Li distance met once in 10^4
        # samples): such "dead" features are left out of the fit (weight 0, scale 1).
        scale = X.std(axis=0)
        active = scale >= MIN_FEATURE_SCALE * np.maximum(1.0, np.abs(self.mean_))
        if not active.any():
            raise ParameterError("every feature is (nearly) constant over the training samples.",
                                 fix="check the features (cutoff, centre species) and the training frames.")
        self.scale_ = np.where(active, scale, 1.0)
        Z = ((X - self.mean_) / self.scale_)[:, active]
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(feature_names if feature_names is not None
                                            else [f"f{k}" for k in range(X.shape[1])], dtype=object)
        if self.C is None:
            if groups is not None and len(np.unique(groups)) >= self.cv:
                splits = list(GroupKFold(n_splits=self.cv).split(Z, y, groups))
            else:
                splits = list(StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(Z, y))
            scores = []
            for C in self.Cs:
                fold = []
                for tr, te in splits:
                    if len(np.unique(y[tr])) < 2 or len(np.unique(y[te])) < 2:
                        continue
                    est = self._estimator(C).fit(Z[tr], y[tr])
                    fold.append(balanced_accuracy_score(y[te], est.predict(Z[te])))
                scores.append(np.mean(fold) if fold else np.nan)
            self.cv_scores_ = np.asarray(scores)
            self.C_ = float(np.asarray(self.Cs)[int(np.nanargmax(self.cv_scores_))])
        else:
            self.cv_scores_ = np.array([])
            self.C_ = float(self.C)
        est = self._estimator(self.C_).fit(Z, y)
        self.coef_ = np.zeros(X.shape[1])
        self.coef_[active] = np.asarray(est.coef_, dtype=np.float64).reshape(-1)
        self.dead_features_ = [str(n) for n in self.feature_names_in_[~active]]
        self.intercept_ = float(np.asarray(est.intercept_).reshape(-1)[0])
        if not np.any(self.coef_):
            raise ParameterError("the fitted hyperplane has zero weights (regularisation too strong or no signal).",
                                 fix="allow a larger C or check that the labels depend on the features.")
        return self

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise ParameterError("this SoftnessModel is not trained.", fix="call fit(...) or SoftnessModel.load(path).")

    def softness(self, X) -> np.ndarray:
        """Signed distance to the hyperplane in standardised feature units, (n_samples,)."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.shape[-1] != self.coef_.size:
            raise SchemaError(f"features have {X.shape[-1]} columns; the model expects {self.coef_.size}.",
                              fix="compute features with the model's parameter set.")
        Z = (X - self.mean_) / self.scale_
        return (Z @ self.coef_ + self.intercept_) / np.linalg.norm(self.coef_)

    decision_function = softness

    def predict(self, X) -> np.ndarray:
        """1 (rearranging) where S > 0, else 0."""
        return (self.softness(X) > 0).astype(np.int64)

    def score(self, X, y, sample_weight=None) -> float:
        """Balanced accuracy."""
        from sklearn.metrics import balanced_accuracy_score

        return float(balanced_accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def metrics(self, X, y) -> dict:
        """Accuracy, balanced accuracy, P(S>0 | rearranging), P(S>0), confusion matrix [[TN, FP], [FN, TP]]."""
        from sklearn.metrics import confusion_matrix

        y = np.asarray(y).astype(np.int64)
        S = self.softness(X)
        pred = (S > 0).astype(np.int64)
        cm = confusion_matrix(y, pred, labels=[0, 1])
        tn, fp, fn, tp = cm.ravel()
        return {"n_samples": int(len(y)), "accuracy": float((pred == y).mean()),
                "balanced_accuracy": float(0.5 * (tp / max(tp + fn, 1) + tn / max(tn + fp, 1))),
                "p_soft_given_rearranging": float(tp / max(tp + fn, 1)), "p_soft": float((S > 0).mean()),
                "confusion_matrix": cm.tolist()}

    def weights(self) -> xr.DataArray:
        """Hyperplane weights by feature name (standardised units, unit norm)."""
        self._check_fitted()
        w = self.coef_ / np.linalg.norm(self.coef_)
        return xr.DataArray(w, dims="feature", coords={"feature": self.feature_names_in_.astype(str)},
                            name="weight", attrs={"units": "1 (standardised feature units, |w| = 1)"})

    # --- files -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The model as plain JSON-able data."""
        self._check_fitted()
        return {"classifier": self.classifier, "C": self.C_, "mean": self.mean_.tolist(),
                "scale": self.scale_.tolist(), "coef": self.coef_.tolist(), "intercept": self.intercept_,
                "feature_names": [str(n) for n in self.feature_names_in_],
                "dead_features": list(getattr(self, "dead_features_", [])),
                "feature_signature": getattr(self, "feature_signature_", None),
                "provenance": getattr(self, "provenance_", {}), "metrics": getattr(self, "metrics_", {})}

    def save(self, path, overwrite: bool = True) -> None:
        """Write the model as JSON (atomically), with a format version and a SHA-256 checksum of its content."""
        content = self.to_dict()
        body = json.dumps(content, sort_keys=True)
        doc = {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "ssefeat_version": __version__,
               "sha256": hashlib.sha256(body.encode()).hexdigest(), "model": content}
        with atomic_output(path, overwrite=overwrite) as tmp:
            Path(tmp).write_text(json.dumps(doc, indent=1, sort_keys=True))

    @classmethod
    def load(cls, path) -> "SoftnessModel":
        """Read a model file written by :meth:`save`; refuse anything malformed, edited or from a newer format."""
        path = Path(path)
        if not path.exists():
            from .errors import MissingFileError

            raise MissingFileError(f"model file {path} does not exist.", fix="check the path (models/ ships "
                                                                              "trained models).")
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ModelFileError(f"{path} is not a JSON model file ({err}).",
                                 fix="use a file written by SoftnessModel.save or `ssefeat softness train`.") from None
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise ModelFileError(f"{path} is not an ssefeat softness model (format {doc.get('format')!r}).",
                                 fix="use a file written by SoftnessModel.save or `ssefeat softness train`.")
        version = doc.get("format_version")
        if not isinstance(version, int) or version > MODEL_FORMAT_VERSION:
            raise ModelFileError(f"{path} has model format version {version}; this ssefeat "
                                 f"({__version__}) reads up to {MODEL_FORMAT_VERSION}.",
                                 fix="upgrade ssefeat (pip install -U ssefeat) or retrain the model.")
        content = doc.get("model")
        body = json.dumps(content, sort_keys=True)
        if hashlib.sha256(body.encode()).hexdigest() != doc.get("sha256"):
            raise ModelFileError(f"{path} failed its checksum: the model content was edited or damaged.",
                                 fix="retrain the model or restore the original file.")
        try:
            model = cls(classifier=content["classifier"], C=content["C"])
            model.C_ = float(content["C"])
            model.mean_ = np.asarray(content["mean"], dtype=np.float64)
            model.scale_ = np.asarray(content["scale"], dtype=np.float64)
            model.coef_ = np.asarray(content["coef"], dtype=np.float64)
            model.intercept_ = float(content["intercept"])
            model.feature_names_in_ = np.asarray(content["feature_names"], dtype=object)
            model.feature_signature_ = content.get("feature_signature")
            model.dead_features_ = list(content.get("dead_features", []))
            model.provenance_ = content.get("provenance", {})
            model.metrics_ = content.get("metrics", {})
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"{path} is missing or has malformed field {err}.",
                                 fix="retrain the model with this version of ssefeat.") from None
        n = model.coef_.size
        if not (model.mean_.size == model.scale_.size == len(model.feature_names_in_) == n) or n == 0:
            raise ModelFileError(f"{path} has inconsistent array sizes (weights {n}, mean {model.mean_.size}, "
                                 f"scale {model.scale_.size}, names {len(model.feature_names_in_)}).",
                                 fix="retrain the model.")
        model.classes_ = np.array([0, 1])
        model.n_features_in_ = n
        return model

    # --- xarray layer ------------------------------------------------------------------------------
    def check_features(self, features: xr.DataArray) -> None:
        """Raise ModelFileError unless ``features`` were made with the model's parameter set."""
        self._check_fitted()
        expected = getattr(self, "feature_signature_", None)
        if expected is None:
            names = feature_names(features)
            if names != [str(n) for n in self.feature_names_in_]:
                raise ModelFileError("the features' names differ from the model's.",
                                     fix="compute features with the parameter set the model was trained on.")
            return
        got = feature_signature(features)
        if got != expected:
            diff = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
            detail = (f"{len(got)} features vs the model's {len(expected)}" if len(got) != len(expected)
                      else f"feature {diff}: {got[diff]} vs the model's {expected[diff]}")
            raise ModelFileError(f"the features were not made with the model's parameter set ({detail}; "
                                 f"signature {_signature_hash(got)} vs {_signature_hash(expected)}).",
                                 fix="recompute features with the parameters stored in the model "
                                     "(its provenance names the parameter set).")

    def apply(self, features: xr.DataArray) -> xr.DataArray:
        """Softness of every atom of every frame: DataArray (frame, atom), chunk friendly."""
        self.check_features(features)
        X = np.asarray(features.transpose("frame", "atom", "feature").values, dtype=np.float64)
        S = self.softness(X.reshape(-1, X.shape[-1])).reshape(X.shape[:2])
        S[~np.isfinite(X).all(axis=-1)] = np.nan
        coords = {k: v for k, v in features.coords.items() if "feature" not in v.dims}
        out = xr.DataArray(S, dims=("frame", "atom"), coords=coords, name="softness")
        return stamp(out, parameters={"model_provenance": getattr(self, "provenance_", {}), "C": self.C_,
                                      "classifier": self.classifier},
                     units="1 (standardised feature units)", analysis="SoftnessModel.apply")


def train_softness(features: xr.DataArray, labels: xr.DataArray, r_cut: float, nr_cut: float, window: int = 0,
                   species=None, classifier: str = "logistic", C: float | None = None, test_fraction: float = 0.25,
                   n_blocks: int = 10, gap_blocks: int = 0, max_per_class: int | None = None,
                   seed: int = 0, groups=None, test_groups=None) -> tuple[SoftnessModel, dict]:
    """Select a training set, train on frame blocks, evaluate on held-out blocks.

    With ``groups`` (one label per feature frame, e.g. the independent run each frame comes from; a DataArray on
    ``frame`` or a sequence) whole groups are held out instead of frame blocks (``test_groups`` names them, else
    a seeded ``test_fraction`` of the groups), and cross-validation folds hold whole groups when there are at
    least ``cv`` training groups (frame blocks otherwise).

    Returns the model (refitted on the training blocks only; metrics are for the held-out blocks) and a
    report dict: held-out metrics, the chosen C, the samples used. The model carries the feature signature
    and provenance, ready for :meth:`SoftnessModel.save`.
    """
    ts = select_training_set(features, labels, r_cut, nr_cut, window=window, species=species,
                             n_blocks=n_blocks, max_per_class=max_per_class, seed=seed, groups=groups)
    train, test = ts.split(test_fraction=test_fraction, seed=seed, gap_blocks=gap_blocks, test_groups=test_groups)
    if len(np.unique(ts.y[test])) < 2 or len(np.unique(ts.y[train])) < 2:
        raise ParameterError("a train or test split lacks one of the classes.",
                             fix="use more frames, more blocks (n_blocks) or looser cuts.")
    model = SoftnessModel(classifier=classifier, C=C, random_state=seed)
    cv_groups = ts.block[train]
    if ts.group is not None and len(np.unique(ts.group[train])) >= model.cv:
        cv_groups = ts.group[train]
    model.fit(ts.X[train], ts.y[train], groups=cv_groups, feature_names=ts.feature_names)
    test_metrics = model.metrics(ts.X[test], ts.y[test])
    train_metrics = model.metrics(ts.X[train], ts.y[train])
    model.feature_signature_ = ts.signature
    model.metrics_ = {"test": test_metrics, "train": train_metrics,
                      "cv_balanced_accuracy": dict(zip(map(str, model.Cs), model.cv_scores_.tolist()))
                      if model.cv_scores_.size else {}}
    model.provenance_ = {**ts.info, "classifier": classifier, "test_fraction": test_fraction,
                         "n_dead_features": len(model.dead_features_),
                         "gap_blocks": gap_blocks, "n_train": int(train.sum()), "n_test": int(test.sum()),
                         "split": "frame groups" if ts.group is not None else "frame blocks",
                         **({"test_groups": sorted({ts.group_names[g] for g in ts.group[test]})}
                            if ts.group is not None else {}),
                         "feature_parameters": features.attrs.get("parameters", ""),
                         "features_source": features.attrs.get("source", ""),
                         "trained": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                         "ssefeat_version": __version__}
    return model, {"test": test_metrics, "train": train_metrics, "C": model.C_, "training_set": ts}


# ------------------------------------------------------------------------------------------------
# P_R(S) and its temperature dependence
# ------------------------------------------------------------------------------------------------
def rearrangement_probability(softness: xr.DataArray, labels: xr.DataArray, r_cut: float, horizon: int,
                              bins=20, s_range: tuple | None = None, min_count: int = 10) -> xr.Dataset:
    """P_R(S): probability that an atom with softness S at frame t rearranges within the next ``horizon`` frames.

    A sample (i, t) "rearranges" if its label exceeds ``r_cut`` at any frame in [t, t + horizon]. Frames whose
    horizon runs past the end of the labels are not used, nor samples whose future holds a NaN label and no
    rearrangement (unknown), nor softness values outside ``s_range``. Uncertainty: Wilson 68 % interval of a binomial.
    Bins with fewer than ``min_count`` samples get NaN.
    """
    softness, labels = xr.align(softness.transpose("frame", "atom"), labels.transpose("frame", "atom"),
                                join="inner")
    S = np.asarray(softness.values, dtype=np.float64)
    lab = np.asarray(labels.values, dtype=np.float64)
    n_frames = lab.shape[0]
    if horizon < 0 or horizon >= n_frames:
        raise ParameterError(f"horizon {horizon} frames does not fit in {n_frames} labelled frames.",
                             fix=f"use a horizon between 0 and {n_frames - 1} frames.")
    from numpy.lib.stride_tricks import sliding_window_view

    known = np.isfinite(lab)
    above = np.where(known, lab > r_cut, False)
    future = sliding_window_view(above, horizon + 1, axis=0).any(axis=-1)  # (n_frames - horizon, atom)
    # a future is known when a rearrangement is seen in it or every label in it is finite (NaN labels, e.g.
    # p_hop where its window does not fit, are unknown, not quiet)
    all_known = sliding_window_view(known, horizon + 1, axis=0).all(axis=-1)
    S_use = S[: n_frames - horizon]
    ok = np.isfinite(S_use) & (future | all_known)
    s, r = S_use[ok], future[ok]
    edges = np.histogram_bin_edges(s, bins=bins, range=s_range)
    inside = (s >= edges[0]) & (s <= edges[-1])  # as np.histogram: values outside s_range are not counted
    s, r = s[inside], r[inside]
    idx = np.clip(np.digitize(s, edges) - 1, 0, len(edges) - 2)
    n = np.bincount(idx, minlength=len(edges) - 1).astype(np.float64)
    k = np.bincount(idx, weights=r.astype(np.float64), minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z = 1.0
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # the interval contains p; clipping removes the round-off of centre - half at p = 0 (and at p = 1)
    lo, hi = np.clip(centre - half, 0.0, p), np.clip(centre + half, p, 1.0)
    small = n < min_count
    p, lo, hi = (np.where(small, np.nan, v) for v in (p, lo, hi))
    mids = 0.5 * (edges[1:] + edges[:-1])
    out = xr.Dataset({"P_R": ("S", p), "P_R_low": ("S", lo), "P_R_high": ("S", hi), "count": ("S", n),
                      "rearranging": ("S", k)},
                     coords={"S": mids, "S_edge_low": ("S", edges[:-1]), "S_edge_high": ("S", edges[1:])})
    out["P_R"].attrs["units"] = "probability within the horizon"
    return stamp(out, parameters={"r_cut": r_cut, "horizon_frames": horizon, "bins": len(mids),
                                  "min_count": min_count}, analysis="rearrangement_probability")


def fit_softness_arrhenius(p_r_by_temperature: dict, boltzmann: float = BOLTZMANN_EV) -> xr.Dataset:
    """Fit ln P_R(S) = Sigma(S) - DeltaE(S) / (k_B T) across temperatures, bin by bin.

    Parameters
    ----------
    p_r_by_temperature : {T: Dataset from rearrangement_probability}
        All on the same S bins (use a common ``s_range`` and ``bins``).
    boltzmann : float
        k_B in the energy unit wanted for DeltaE: eV/K (default) or 1.0 for reduced (LJ) units.

    Returns Sigma(S), DeltaE(S) and their standard errors (weighted least squares with weights from the
    P_R intervals), NaN where fewer than two temperatures have data.
    """
    temps = np.array(sorted(p_r_by_temperature), dtype=np.float64)
    if len(temps) < 2:
        raise ParameterError("the Arrhenius fit of P_R(S) needs at least two temperatures.",
                             fix="compute P_R(S) at two or more temperatures.")
    sets = [p_r_by_temperature[t] for t in temps]
    S = sets[0]["S"].values
    for ds in sets[1:]:
        if ds.sizes["S"] != S.size or not np.allclose(ds["S"].values, S):
            raise ParameterError("P_R(S) at different temperatures use different softness bins.",
                                 fix="call rearrangement_probability with the same bins and s_range everywhere.")
    P = np.stack([ds["P_R"].values for ds in sets])  # (T, S)
    lo = np.stack([ds["P_R_low"].values for ds in sets])
    hi = np.stack([ds["P_R_high"].values for ds in sets])
    x = -1.0 / (boltzmann * temps)
    sigma_out, de_out, sigma_err, de_err = (np.full(S.size, np.nan) for _ in range(4))
    for b in range(S.size):
        ok = np.isfinite(P[:, b]) & (P[:, b] > 0)
        if ok.sum() < 2:
            continue
        y = np.log(P[ok, b])
        err = np.maximum(0.5 * (np.log(np.maximum(hi[ok, b], 1e-300)) - np.log(np.maximum(lo[ok, b], 1e-300))),
                         1e-6)
        A = np.stack([np.ones(ok.sum()), x[ok]], axis=1)
        W = 1.0 / err**2
        cov = np.linalg.pinv(A.T @ (A * W[:, None]))
        coef = cov @ (A.T @ (W * y))
        sigma_out[b], de_out[b] = coef
        sigma_err[b], de_err[b] = np.sqrt(np.diag(cov))
    out = xr.Dataset({"Sigma": ("S", sigma_out), "DeltaE": ("S", de_out), "Sigma_err": ("S", sigma_err),
                      "DeltaE_err": ("S", de_err)}, coords={"S": S})
    out["DeltaE"].attrs["units"] = "eV" if boltzmann == BOLTZMANN_EV else "energy units of k_B T"
    return stamp(out, parameters={"temperatures": temps.tolist(), "boltzmann": boltzmann},
                 analysis="fit_softness_arrhenius")
