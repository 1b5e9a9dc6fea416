"""Training-set selection for softness: feature identity, rearranging / non-rearranging samples, frame blocks and
frame groups (independent runs) for held-out splits, and the lazy gathering of the chosen feature rows.

Samples (atom i, frame t) whose label exceeds ``r_cut`` are "rearranging"; samples whose label stays below ``nr_cut``
over a window of frames around t are "non-rearranging"; the classes are balanced by subsampling; train / test are
split by *blocks of frames* or by *groups* (runs), never random rows: neighbouring frames share structure.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from ..errors import ParameterError, SchemaError
from .labels import check_labels, frame_ranges


def feature_signature(features: xr.DataArray) -> list[dict]:
    """The identity of each feature column: its name and every coordinate on the ``feature`` dim.

    Two feature arrays with equal signatures were made with the same parameter set, in the same order.
    """
    if "feature" not in features.dims:
        raise SchemaError(f"features have dims {features.dims}; expected a 'feature' dim.",
                          fix="compute them with ssefeat.features (features (frame, atom, feature)).")
    coords = [name for name, c in features.coords.items() if c.dims == ("feature",)]
    values = {name: np.asarray(features.coords[name].values) for name in coords}  # once: coords may be lazy
    rows = []
    for k in range(features.sizes["feature"]):
        row = {}
        for name in sorted(coords):
            value = values[name][k]
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


def _align(features: xr.DataArray, labels: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    check_labels(labels)
    for dim in ("frame", "atom"):
        common = np.intersect1d(features[dim].values, labels[dim].values)
        if common.size == 0:
            raise SchemaError(f"features and labels share no {dim}: features have {dim}s "
                              f"{features[dim].values[:5].tolist()}..., labels {labels[dim].values[:5].tolist()}...",
                              fix="compute both on the same trajectory, frames and atoms.")
    features, labels = xr.align(features, labels.transpose("frame", "atom"), join="inner")
    return features, labels


def _class_masks(labels: xr.DataArray, a: int, b: int, r_cut: float, nr_cut: float, window: int, same_group):
    """(rearranging, non-rearranging) masks (frame, atom) of frames [a, b) of (frame, atom) ``labels``, reading
    ``window`` frames of labels on each side for the quiet windows (``same_group``: per frame of [a, b), whether
    its window stays within one group; None without groups)."""
    lo, hi = max(0, a - window), min(labels.sizes["frame"], b + window)
    lab = np.asarray(labels.isel(frame=slice(lo, hi)).values, dtype=np.float64)
    rearr = lab[a - lo:b - lo] > r_cut
    quiet = np.where(np.isfinite(lab), lab < nr_cut, False)
    if window > 0:
        # quiet over [t - window, t + window]: a sliding AND along frames; frames whose window leaves the
        # trajectory cannot be certified quiet (the read frames reach the trajectory's ends there, so the
        # filter's constant 0 outside them stands for the same frames as over the whole trajectory)
        quiet = minimum_filter1d(quiet.astype(np.int8), size=2 * window + 1, axis=0, mode="constant",
                                 cval=0).astype(bool)
    quiet = quiet[a - lo:b - lo]
    if same_group is not None:
        quiet &= np.asarray(same_group)[:, None]
    return rearr, quiet


def _feature_rows(features: xr.DataArray, fr: np.ndarray, at: np.ndarray, chunk_frames: int | None = None
                  ) -> np.ndarray:
    """The float64 feature rows (frame fr[k], atom at[k]) of a (frame, atom, feature) array, checking that every
    value is finite; read ``chunk_frames`` frames at a time (None: the array's own frame chunks, see
    :func:`frame_ranges`), so only one chunk and the chosen rows are held."""
    X = np.empty((fr.size, features.sizes["feature"]))
    for a, b in frame_ranges(features, chunk_frames):
        block = np.asarray(features.isel(frame=slice(a, b)).values, dtype=np.float64)
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
                        groups=None, chunk_frames: int | None = None) -> TrainingSet:
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
    chunk_frames : int, optional
        Read labels and features this many frames at a time (default: their own frame chunks when lazy, e.g. stage
        stores, else whole): memory follows the chunk and the number of chosen samples, and the samples are the
        same at any chunk size (the labels are read twice: to count each class, then to take the chosen samples).
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
            raise SchemaError("features have no species coordinate to select on.",
                              fix="pass features with a species coordinate (as structure_functions returns) or "
                                  "species=None.")
        keep = np.isin(features["species"].values, wanted)
        if not keep.any():
            raise ParameterError(f"no feature rows of species {wanted}.",
                                 fix=f"features have species {sorted(set(features['species'].values.tolist()))}.")
        features, labels = features.isel(atom=np.flatnonzero(keep)), labels.isel(atom=np.flatnonzero(keep))
    features = features.transpose("frame", "atom", "feature")
    n_frames = labels.sizes["frame"]
    same_group = None
    if window > 0 and group_code is not None:
        # a quiet window must not reach into another group (another run)
        lo = minimum_filter1d(group_code, size=2 * window + 1, mode="nearest")
        hi = maximum_filter1d(group_code, size=2 * window + 1, mode="nearest")
        same_group = lo == hi
    ranges = frame_ranges(labels, chunk_frames)

    def masks():  # (first frame, rearranging, non-rearranging) of each frame range of the labels
        for a, b in ranges:
            yield (a, *_class_masks(labels, a, b, r_cut, nr_cut, window,
                                    None if same_group is None else same_group[a:b]))

    counts = np.array([(int(r.sum()), int(q.sum())) for _, r, q in masks()], dtype=np.int64).reshape(-1, 2)
    n_r_all, n_n_all = (int(c) for c in counts.sum(axis=0))
    if n_r_all < 2 or n_n_all < 2:
        raise ParameterError(
            f"too few samples to train: {n_r_all} rearranging (label > {r_cut}) and {n_n_all} non-rearranging "
            f"(label < {nr_cut} over +-{window} frames).",
            fix="lower r_cut / raise nr_cut, shorten the window, or use a longer trajectory at higher temperature.")
    rng = np.random.default_rng(seed)
    n_r, n_n = n_r_all, n_n_all
    if balance:
        n_r = n_n = min(n_r, n_n)
    if max_per_class is not None:
        n_r, n_n = min(n_r, max_per_class), min(n_n, max_per_class)
    # the picks index the samples of each class in (frame, atom) order over the whole trajectory, as np.nonzero
    # of the whole mask would number them; each range's samples come from its own masks (a second pass)
    pick_r = np.sort(rng.choice(n_r_all, n_r, replace=False))
    pick_n = np.sort(rng.choice(n_n_all, n_n, replace=False))
    offsets = np.concatenate([np.zeros((1, 2), dtype=np.int64), np.cumsum(counts, axis=0)])
    parts_r, parts_n = [], []
    for k, (a, rearr, quiet) in enumerate(masks()):
        for mask, pick, col, parts in ((rearr, pick_r, 0, parts_r), (quiet, pick_n, 1, parts_n)):
            lo_k, hi_k = np.searchsorted(pick, offsets[k:k + 2, col])
            fr_k, at_k = np.nonzero(mask)
            here = pick[lo_k:hi_k] - offsets[k, col]
            parts.append(np.stack([fr_k[here] + a, at_k[here]]))
    fr_r, at_r = np.concatenate(parts_r, axis=1) if parts_r else np.zeros((2, 0), np.int64)
    fr_n, at_n = np.concatenate(parts_n, axis=1) if parts_n else np.zeros((2, 0), np.int64)
    fr = np.concatenate([fr_r, fr_n])
    at = np.concatenate([at_r, at_n])
    y = np.concatenate([np.ones(n_r, np.int64), np.zeros(n_n, np.int64)])
    X = _feature_rows(features, fr, at, chunk_frames)
    block = np.minimum((fr * n_blocks) // max(n_frames, 1), n_blocks - 1)
    info = {"r_cut": r_cut, "nr_cut": nr_cut, "window_frames": window, "species": species, "balance": balance,
            "n_blocks": n_blocks, "seed": seed, "n_rearranging_available": n_r_all,
            "n_nonrearranging_available": n_n_all, "max_per_class": max_per_class, "label_name": str(labels.name),
            "label_units": labels.attrs.get("units", "")}
    if group_names is not None:
        info["groups"] = [str(g) for g in group_names]
    return TrainingSet(X=X, y=y, frame=features.frame.values[fr], atom=features.atom.values[at],
                       block=block, feature_names=feature_names(features), signature=feature_signature(features),
                       info=info, group=None if group_code is None else group_code[fr],
                       group_names=None if group_names is None else [str(g) for g in group_names])

