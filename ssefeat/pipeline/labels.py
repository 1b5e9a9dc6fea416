"""Stage 3: rearrangement labels of the mobile species (``labels.kind``, :mod:`ssefeat.dynamics.labels`), read
and computed chunk by chunk with the label's time window carried across chunks, appended to a zarr store."""
from __future__ import annotations

import xarray as xr

from ..dynamics.labels import PIPELINE_KINDS, iter_labels
from ..errors import ParameterError
from .stage import Stage


class LabelsStage(Stage, label="labels", inputs=("traj",), sections=("trajectory", "species", "labels"),
                  storage="append"):

    @property
    def what(self) -> str:
        return self.config["labels"]["kind"]

    def parts(self):
        from ..io import iter_chunks

        return iter_labels(iter_chunks(self.traj, self.chunk_frames), self.config["labels"],
                           self.config["species"]["mobile"])

    def store_attrs(self) -> dict:
        kind = self.config["labels"]["kind"]
        return {"label_kind": kind, "label_variable": PIPELINE_KINDS[kind].variable, **super().store_attrs()}


def label_array(labels: xr.Dataset) -> xr.DataArray:
    """The (frame, atom) label variable of a labels stage store."""
    if labels.attrs.get("label_variable") in labels:
        return labels[labels.attrs["label_variable"]]
    names = [n for n, v in labels.data_vars.items() if set(v.dims) == {"frame", "atom"}]
    if not names:
        raise ParameterError("the label stage produced no (frame, atom) variable.")
    return labels[names[0]]
