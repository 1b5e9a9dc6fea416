"""Stage 4: the softness hyperplane, trained on the first run (or loaded), applied to every run chunk by chunk
into a zarr store with P_R(S) of the run."""
from __future__ import annotations

import functools
import json

import numpy as np
import xarray as xr

from ..config import section_hash
from ..io.chunked_store import ChunkedStore
from .labels import label_array
from ..softness.labels import frame_ranges
from .stage import Stage, frame_chunks


#: The model provenance entries a softness store repeats: the training set's size and where it was drawn from.
TRAINING_KEYS = ("n_train", "n_test", "n_rearranging_available", "n_nonrearranging_available", "max_per_class")


class Training:
    """The label thresholds of the study and its one model, trained (or loaded) when a stage first needs it."""

    def __init__(self, pipe, features, labels):
        self.pipe, self.features, self.sc = pipe, features, pipe.config["softness"]
        self.model_path = pipe.out / "softness_model.json"
        # (frame, atom), lazy: its quantiles and the training samples are read frame chunk by frame chunk (the
        # labels store's chunks), so memory follows the chunk and the number of chosen samples
        self.label0 = label_array(labels[0])
        from ..softness import label_cuts

        sc = self.sc  # a given cut replaces its quantile
        self.r_cut, self.nr_cut = label_cuts(self.label0, sc["r_cut"], sc["nr_cut"],
                                             None if sc["r_cut"] is not None else sc["r_quantile"],
                                             None if sc["nr_cut"] is not None else sc["nr_quantile"],
                                             chunk_frames=int(pipe.config["execution"]["chunk_frames"]))
        self._model = None

    @property
    def model(self):
        from ..softness import SoftnessModel, train_softness

        if self._model is None:
            sc = self.sc
            if sc["model"]:
                self._model = SoftnessModel.load(sc["model"])
                self.pipe.softness_report = {"test": self._model.metrics_.get("test", {})}
            else:
                self._model, self.pipe.softness_report = train_softness(
                    model_columns(self.features[0]["features"], sc["inputs"]), self.label0,
                    r_cut=self.r_cut, nr_cut=self.nr_cut,
                    window=int(sc["window"]), classifier=sc["classifier"], C=sc["C"],
                    test_fraction=sc["test_fraction"], seed=int(self.pipe.config["trajectory"]["seed"]),
                    max_per_class=sc["max_per_class"],
                    progress=bool(self.pipe.progress))
                self._model.save(self.model_path)
        return self._model


def model_columns(F: xr.DataArray, inputs: str = "all") -> xr.DataArray:
    """The columns of a (frame, atom, feature) array a model is trained on: all, or the structure functions only
    (``kind`` radial / angular)."""
    if inputs == "all":
        return F
    keep = np.isin(F["kind"].values.astype(str), ["radial", "angular"])
    return F.isel(feature=np.flatnonzero(keep))


#: rows (atom-frames) the model is applied to at once within a frame chunk: its temporaries (standardised features,
#: the domain distance's product) then take ~17 MB each at 66 features, whatever the chunk. A multiple of 4: the rows
#: of every block are grouped as in one call over the whole chunk, so the BLAS sums, hence the softness, are the same
#: to the bit (tests/test_softness_memory.py); the last block takes the rest (between 1 and 2 blocks).
APPLY_ROWS = 1 << 15


def _apply(model, F: xr.DataArray, start: int, stop: int) -> xr.Dataset:
    """Softness (and ``in_domain`` when the model knows its training domain) of frames [start, stop), on the
    model's own columns of ``F``, read and applied :data:`APPLY_ROWS` rows at a time."""
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    if names and len(names) < F.sizes["feature"] and set(names) <= set(F["feature"].values.astype(str)):
        F = F.sel(feature=names)
    F = F.isel(frame=slice(start, stop)).transpose("frame", "atom", "feature")
    n_frames, n_atoms = F.sizes["frame"], F.sizes["atom"]
    n = n_frames * n_atoms
    if n < 2 * APPLY_ROWS:
        S = model.apply(F.load(), warn=False)  # counted once, in finalize
        return S.reset_coords("in_domain") if "in_domain" in S.coords else S.to_dataset(name="softness")
    edges = [*range(0, (n // APPLY_ROWS) * APPLY_ROWS - APPLY_ROWS + 1, APPLY_ROWS), n]
    soft, inside = np.empty(n), None
    feature_coords = {k: v.load() for k, v in F.coords.items() if v.dims == ("feature",)}
    buf, buf_start, k = np.empty((0, F.sizes["feature"])), 0, 0  # rows read, not yet applied; next block
    for f0, f1 in frame_ranges(F):  # the store's chunks (each read once) within the frame chunk
        X = np.asarray(F.isel(frame=slice(f0, f1)).values).reshape(-1, F.sizes["feature"])
        buf = np.concatenate([buf, X]) if len(buf) else X
        del X
        while k < len(edges) - 1 and edges[k + 1] <= buf_start + len(buf):
            a, b = edges[k], edges[k + 1]
            part = model.apply(xr.DataArray(buf[None, a - buf_start:b - buf_start], dims=F.dims,
                                            coords=feature_coords), warn=False)
            soft[a:b] = part.values[0]
            if "in_domain" in part.coords:
                inside = np.empty(n, dtype=bool) if inside is None else inside
                inside[a:b] = part["in_domain"].values[0]
            k += 1
        buf, buf_start = buf[edges[k] - buf_start:].copy(), edges[k]  # the rest only, not the read chunk
    coords = {k: v for k, v in F.coords.items() if "feature" not in v.dims}
    out = xr.Dataset({"softness": (("frame", "atom"), soft.reshape(n_frames, n_atoms), part.attrs)}, coords=coords)
    if inside is not None:
        out["in_domain"] = (("frame", "atom"), inside.reshape(n_frames, n_atoms))
    return out


class SoftnessStage(Stage, label="softness", inputs=("features", "labels", "training"),
                    sections=("trajectory", "species", "features", "labels", "softness"), storage="regions",
                    distributed=False):  # the model and the lazy feature store stay in this process

    def key(self) -> str:  # one hash for the study's model, the run appended
        return section_hash(self.config, *self.sections) + str(self.k)

    def frames(self) -> xr.Dataset:
        return self.features[["time"]]

    def probe(self) -> xr.Dataset:
        return _apply(self.training.model, self.features["features"], 0, 1)

    def store_attrs(self) -> dict:
        t = self.training
        return {"r_cut": t.r_cut, "nr_cut": t.nr_cut, "model": str(t.model_path),
                "model_features": json.dumps([str(n) for n in getattr(t.model, "feature_names_in_", [])]),
                "metrics": json.dumps(t.model.metrics_, default=str),
                "training_samples": json.dumps({k: getattr(t.model, "provenance_", {}).get(k) for k in TRAINING_KEYS}),
                **super().store_attrs()}

    def chunk_task(self):
        return functools.partial(_apply, self.training.model, self.features["features"])

    def finalize(self, store: ChunkedStore) -> None:
        """P_R(S) from the (frame, atom) softness within the model's training domain and the labels of the run,
        read frame chunk by frame chunk (the s range: the 0.5 % and 99.5 % quantiles of the finite softness)."""
        from ..softness import chunked_quantiles, in_domain_softness, out_of_domain, rearrangement_probability_chunked

        written = store.open_partial()
        chunks = frame_chunks(written.sizes["frame"], self.chunk_frames)
        n_out = sum(out_of_domain(written.isel(frame=slice(a, b)))[0] for a, b in chunks)
        if n_out:
            self.pipe.say(f"{self.name}: {n_out} samples lie outside the softness model's training domain "
                          "(in_domain = 0): left out of P_R(S), the links and the report's figures")
        S = in_domain_softness(written)  # lazy
        la = label_array(self.labels)
        horizon = min(int(self.config["softness"]["horizon"]), max(0, la.sizes["frame"] - 2))
        s_range = chunked_quantiles(lambda: (S.isel(frame=slice(a, b)).values for a, b in chunks), (0.005, 0.995))
        store.add(rearrangement_probability_chunked(S, la, r_cut=self.training.r_cut, horizon=horizon, bins=12,
                                                    s_range=tuple(s_range), chunk_frames=self.chunk_frames))
