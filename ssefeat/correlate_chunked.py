"""Softness links of a study read frame chunk by frame chunk (:func:`study_links`, the pipeline's correlate stage):
memory follows the chunk, not the trajectory length.

One pass over the runs' softness and feature stores, ``chunk_frames`` frames at a time, keeps only what the
results need: per ion and per descriptor the sufficient statistics of Pearson r (count, sums of x, y, x^2, y^2, xy;
x and y shifted by their first chunk's means so that the sums do not cancel), per ion and per nearest-cluster type
the sum and count of softness, per descriptor column its finite count and range, and the LASSO samples. Pearson r
and its bootstrap over whole ions come from the per-ion sums, exactly as :func:`ssefeat.correlate.pearson` does
from the raw samples (same draws, same r to round-off); the softness by cluster type from the per-ion sums, as
:func:`ssefeat.correlate.softness_by_category`.

LASSO (:func:`ssefeat.correlate.lasso_links` on the kept samples) uses every sample when the runs hold at most
``lasso_max_samples`` (frame, atom) samples, and the same fit as the whole-array path then; above it, a seeded
random fraction ``lasso_max_samples / n`` of each frame's samples (the draw depends on the run, the frame and the
seed only, never on the chunk size), so that its memory is bounded too.
"""
from __future__ import annotations

import json

import dask
import numpy as np
import xarray as xr

from .correlate import _category_table, _lasso_fit, _links_table, _pearson_row, _resample_r
from .errors import SchemaError
from .softness import in_domain_softness

LASSO_MAX_SAMPLES = 200_000  # (frame, atom) samples; above it LASSO fits a seeded random subsample of this size
_NO_CATEGORY = ("", "nan", "None")


def _columns(f: xr.Dataset) -> tuple[list[str], list[str]]:
    """The numeric (frame, atom) variables of a feature store, and its descriptor columns (feature-array entries
    that are not structure functions), in the order the links list them."""
    variables = [str(v) for v in f.data_vars if set(f[v].dims) == {"frame", "atom"}
                 and np.issubdtype(f[v].dtype, np.number)]
    kinds = f["features"]["kind"].values.astype(str)
    columns = [str(n) for n, kind in zip(f["features"]["feature"].values, kinds) if kind not in ("radial", "angular")]
    return variables, columns


def _positions(index: np.ndarray, wanted: np.ndarray):
    """Where the sorted values ``wanted`` sit in ``index``: ``slice(None)`` when they are all of it in order (then
    chunks read the store as slices), else integer positions."""
    if index.size == wanted.size and np.array_equal(index, wanted):
        return slice(None)
    order = np.argsort(index, kind="stable")
    return order[np.searchsorted(index, wanted, sorter=order)]


def _part(where, a: int, b: int):
    """Positions ``a:b`` of a :func:`_positions` result."""
    return slice(a, b) if isinstance(where, slice) else where[a:b]


class _Runs:
    """The runs' (frame, atom) samples shared by softness and features, read chunk by chunk. Ions: atom k of run r
    has id ``offset[r] + rank of k``; frames keep their index (one run) or are numbered over the runs."""

    def __init__(self, features, softness):
        if len(features) != len(softness) or not features:
            raise SchemaError(f"{len(features)} feature stores for {len(softness)} softness stores.",
                              fix="pass one feature store per softness store.")
        self.features, self.softness = list(features), list(softness)
        self.variables, self.columns = _columns(self.features[0])
        for f in self.features[1:]:
            if _columns(f) != (self.variables, self.columns):
                raise SchemaError("the runs' feature stores have different descriptor columns.",
                                  fix="compute every run's features with the same configuration.")
        self.names = self.variables + self.columns
        self.frames, self.atoms, self.where = [], [], []
        for f, s in zip(self.features, self.softness):
            frames = np.intersect1d(s["frame"].values, f["frame"].values)
            atoms = np.intersect1d(s["atom"].values, f["atom"].values)
            self.frames.append(frames)
            self.atoms.append(atoms)
            self.where.append([(_positions(d["frame"].values, frames), _positions(d["atom"].values, atoms))
                               for d in (s, f)])
        if sum(fr.size * at.size for fr, at in zip(self.frames, self.atoms)) == 0:
            raise SchemaError("the target and the descriptors share no (frame, atom) sample.",
                              fix="compute them on the same trajectory, frames and atoms.")
        self.ion_offset = np.concatenate([[0], np.cumsum([a.size for a in self.atoms])])
        self.frame_offset = np.concatenate([[0], np.cumsum([f.size for f in self.frames])])
        self.n_ions = int(self.ion_offset[-1])
        self.n_samples = sum(fr.size * at.size for fr, at in zip(self.frames, self.atoms))

    def chunks(self, chunk_frames: int, category: str | None):
        """Yield (run, frame positions, frame ids, ion ids, softness (frame, atom), descriptors (frame, atom,
        name), category labels (frame, atom) or None) for each chunk of ``chunk_frames`` frames."""
        with dask.config.set(scheduler="synchronous"):  # one store block in memory at a time (a third less peak)
            yield from self._chunks(chunk_frames, category)

    def _chunks(self, chunk_frames: int, category: str | None):
        for k, (f, s) in enumerate(zip(self.features, self.softness)):
            atoms = self.atoms[k]
            ions = self.ion_offset[k] + np.arange(atoms.size)
            (s_frames, s_atoms), (f_frames, f_atoms) = self.where[k]
            for a in range(0, self.frames[k].size, max(1, int(chunk_frames))):
                frames = self.frames[k][a:a + int(chunk_frames)]
                b = a + frames.size
                s_at = {"frame": _part(s_frames, a, b), "atom": s_atoms}
                at = {"frame": _part(f_frames, a, b), "atom": f_atoms}
                y = np.asarray(in_domain_softness(s.isel(s_at)).transpose("frame", "atom").values, dtype=np.float64)
                X = np.empty(y.shape + (len(self.names),))
                for j, v in enumerate(self.variables):
                    X[..., j] = f[v].isel(at).transpose("frame", "atom").values
                if self.columns:
                    X[..., len(self.variables):] = f["features"].isel(at).sel(feature=self.columns).transpose(
                        "frame", "atom", "feature").values
                labels = None if category is None else np.asarray(
                    f[category].isel(at).transpose("frame", "atom").values).astype(str)
                positions = np.arange(a, a + frames.size)
                ids = frames if len(self.frames) == 1 else self.frame_offset[k] + positions
                yield k, positions, ids, ions, y, X, labels


class _PearsonSums:
    """Per descriptor and per ion the sufficient statistics of Pearson r, with each descriptor's range."""

    def __init__(self, n_names: int, n_ions: int):
        self.sums = np.zeros((n_names, n_ions, 6))
        self.shift = np.full((n_names, 2), np.nan)
        self.range = np.tile([np.inf, -np.inf, np.inf, -np.inf], (n_names, 1))  # x min, x max, y min, y max

    def add(self, y: np.ndarray, X: np.ndarray, ions: np.ndarray) -> None:
        n_ions = self.sums.shape[1]
        inverse = np.broadcast_to(ions, y.shape).ravel()
        y = y.ravel()
        for k in range(X.shape[-1]):
            x = X[..., k].ravel()
            ok = np.isfinite(x) & np.isfinite(y)
            if not ok.any():
                continue
            xk, yk = x[ok], y[ok]
            if np.isnan(self.shift[k, 0]):
                self.shift[k] = xk.mean(), yk.mean()
            self.range[k] = np.minimum(self.range[k], [xk.min(), -xk.max(), yk.min(), -yk.max()])
            xs, ys = xk - self.shift[k, 0], yk - self.shift[k, 1]
            self.sums[k] += np.stack([np.bincount(inverse[ok], weights=w, minlength=n_ions)
                                      for w in (np.ones_like(xs), xs, ys, xs * xs, ys * ys, xs * ys)], axis=1)

    def row(self, k: int, n_boot: int, confidence: float, seed: int) -> dict:
        """The :func:`ssefeat.correlate.pearson` row of descriptor ``k``, its bootstrap over whole ions."""
        sums = self.sums[k][self.sums[k][:, 0] > 0]
        n, n_groups = int(round(sums[:, 0].sum())), int(sums.shape[0])
        xmin, xmax, ymin, ymax = self.range[k] * [1, -1, 1, -1]
        if n < 3 or xmin == xmax or ymin == ymax:
            return {"r": np.nan, "p_value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": n,
                    "n_groups": n_groups}
        _, sx, sy, sxx, syy, sxy = sums.sum(axis=0)
        r = (sxy - sx * sy / n) / np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
        draws = np.random.default_rng(seed).integers(0, n_groups, size=(n_boot, n_groups))
        return _pearson_row(float(np.clip(r, -1.0, 1.0)), _resample_r(sums, draws), confidence, n, n_groups)


def _lasso_keep(p: float, run: int, positions: np.ndarray, n_atoms: int, seed: int) -> np.ndarray:
    """(frame, atom) mask of the samples LASSO keeps: all when p = 1, else each with probability p, drawn from a
    generator seeded by (seed, run, frame position): the same samples whatever the chunk size."""
    if p >= 1.0:
        return np.ones((positions.size, n_atoms), dtype=bool)
    return np.stack([np.random.default_rng([seed, run, int(t)]).random(n_atoms) < p for t in positions])


def study_links(features, softness, n_boot: int = 300, lasso: bool = True, chunk_frames: int = 50,
                lasso_max_samples: int = LASSO_MAX_SAMPLES) -> xr.Dataset:
    """Softness links of a study: Pearson r (bootstrap CI) of the softness of every run against the descriptors
    and environment variables of its feature store (runs joined along ``frame``, renumbered to stay unique),
    LASSO over the mostly finite, non-constant columns, and the mean softness by nearest cluster type over all
    runs; intervals resample whole ions (atom k of two runs is two ions); only samples within the softness
    model's training domain count. ``model_input`` marks the descriptors that are columns of the model's own
    features (their links are not independent findings). Read ``chunk_frames`` frames at a time (see the module
    docstring; the results do not depend on it); LASSO on at most about ``lasso_max_samples`` samples.
    """
    runs = _Runs(features, softness)
    category = "nearest_cluster_type" if all("nearest_cluster_type" in f for f in runs.features) else None
    pearson_sums = _PearsonSums(len(runs.names), runs.n_ions)
    finite, spread = np.zeros(len(runs.names)), np.tile([np.inf, -np.inf], (len(runs.names), 1))
    by_category: dict[str, np.ndarray] = {}  # category -> (2, ion): sum of S, samples
    p_keep = min(1.0, lasso_max_samples / runs.n_samples)
    kept = []
    for k, positions, frame_ids, ions, y, X, labels in runs.chunks(chunk_frames, category):
        pearson_sums.add(y, X, ions)
        ok = np.isfinite(X)
        finite += ok.sum(axis=(0, 1))
        with np.errstate(invalid="ignore"):
            spread[:, 0] = np.minimum(spread[:, 0], np.where(ok, X, np.inf).min(axis=(0, 1)))
            spread[:, 1] = np.maximum(spread[:, 1], np.where(ok, X, -np.inf).max(axis=(0, 1)))
        if lasso:
            keep = _lasso_keep(p_keep, k, positions, ions.size, 0) & np.isfinite(y)
            kept.append((y[keep], X[keep], np.broadcast_to(frame_ids[:, None], y.shape)[keep],
                         np.broadcast_to(ions, y.shape)[keep]))
        if category is not None:
            good = np.isfinite(y) & ~np.isin(labels, _NO_CATEGORY)
            inverse = np.broadcast_to(ions, y.shape)
            for cat in np.unique(labels[good]):
                m = good & (labels == cat)
                add = np.stack([np.bincount(inverse[m], y[m], runs.n_ions), np.bincount(inverse[m], None, runs.n_ions)])
                by_category[str(cat)] = by_category.get(str(cat), 0.0) + add
    rows = [pearson_sums.row(k, int(n_boot), 0.95, 0) for k in range(len(runs.names))]
    target = softness[0]["softness"]
    links = _links_table(rows, runs.names, "atom", int(n_boot), 0.95, 0, str(target.name))
    # the softness model was applied to the features array: its columns are the model's own inputs
    recorded = softness[0].attrs.get("model_features")  # the columns the model used, when its store says so
    inputs = set(json.loads(recorded)) if recorded else {str(n) for n in features[0]["features"]["feature"].values}
    links["model_input"] = ("descriptor", np.isin(links["descriptor"].values.astype(str), list(inputs)), {
        "long_name": "a column of the softness model's features: its link is partly the model's own weight"})
    if lasso:
        mostly = (finite / runs.n_samples > 0.95) & (spread[:, 1] > spread[:, 0])
        if not mostly.any():
            raise SchemaError("no descriptor with dims (frame, atom) to correlate with.",
                              fix="pass per-atom descriptors, e.g. cluster_environment(...) or descriptors(...).")
        y, X, frames, ion_ids = (np.concatenate(part) for part in zip(*kept))
        X = X[:, mostly]
        complete = np.isfinite(X).all(axis=1)
        las = _lasso_fit(y[complete], X[complete], [n for n, m in zip(runs.names, mostly) if m], frames[complete],
                         ion_ids[complete], 0.25, 5, 0, "frame", 1000, target.attrs.get("units", "target units"),
                         str(target.name))
        links.attrs.update({"lasso_alpha": las.attrs["alpha"], "lasso_r2_test": las.attrs["r2_test"],
                            **{f"lasso_{k}": las.attrs[k] for k in ("r2_test_ci", "r2_test_ci_unit", "r2_test_ci_note",
                                                                     "n_test", "n_test_ions", "n_test_frames")},
                            "lasso_model_inputs": sum(n in inputs for n in np.array(runs.names)[mostly]),
                            "lasso_columns": int(mostly.sum()), "lasso_sample_fraction": p_keep,
                            "lasso_samples": int(complete.sum())})
        links["lasso_coefficient"] = las["coefficient"]
    if category is not None:
        per_ion = {cat: (v[0][v[1] > 0], v[1][v[1] > 0]) for cat, v in by_category.items()}
        by = _category_table(per_ion, int(n_boot), 0.95, 0, target.attrs.get("units", "1"), category)
        links = xr.merge([links, by.rename({v: f"env_{v}" for v in by.data_vars})], combine_attrs="override")
    return links
