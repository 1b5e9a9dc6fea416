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
from .stage import Stage, frame_chunks


class Training:
    """The label thresholds of the study and its one model, trained (or loaded) when a stage first needs it."""

    def __init__(self, pipe, features, labels):
        self.pipe, self.features, self.sc = pipe, features, pipe.config["softness"]
        self.model_path = pipe.out / "softness_model.json"
        self.label0 = label_array(labels[0]).load()  # (frame, atom): quantiles and training samples
        from ..softness import label_cuts

        sc = self.sc  # a given cut replaces its quantile
        self.r_cut, self.nr_cut = label_cuts(self.label0, sc["r_cut"], sc["nr_cut"],
                                             None if sc["r_cut"] is not None else sc["r_quantile"],
                                             None if sc["nr_cut"] is not None else sc["nr_quantile"])
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


def _apply(model, F: xr.DataArray, start: int, stop: int) -> xr.Dataset:
    """Softness (and ``in_domain`` when the model knows its training domain) of frames [start, stop), on the
    model's own columns of ``F``."""
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    if names and len(names) < F.sizes["feature"] and set(names) <= set(F["feature"].values.astype(str)):
        F = F.sel(feature=names)
    S = model.apply(F.isel(frame=slice(start, stop)).load(), warn=False)  # counted once, in finalize
    return S.reset_coords("in_domain") if "in_domain" in S.coords else S.to_dataset(name="softness")


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
                "metrics": json.dumps(t.model.metrics_, default=str), **super().store_attrs()}

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
