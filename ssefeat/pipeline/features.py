"""Stage 2: per-atom features (with cluster environments and polyhedra) of the mobile species, a zarr store
written frame chunk by frame chunk (on the dask workers when there is a cluster)."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import xarray as xr

from ..io.stage_files import frame_coords
from .stage import Stage


def features_chunk(trajectory_path: str, start: int, stop: int, config: dict) -> xr.Dataset:
    """Per-atom features and environments of frames [start, stop) of a stage trajectory file
    (:func:`ssefeat.features.assemble.assemble_features` with the configuration's settings)."""
    from ..features.assemble import assemble_features
    from ..features.parameters import resolve
    from ..io import read

    fc, sp = config["features"], config["species"]
    name = fc["parameters"]
    from_file = Path(str(name)).suffix == ".json"
    params = resolve(params=name, system=None) if from_file else resolve(system=name)
    env = dict(anion=sp["anion"], framework=sp["framework"], r_env=fc["r_env"], cluster_types=fc["cluster_types"])
    out = assemble_features(read(trajectory_path, start=start, stop=stop), params, centre=sp["mobile"],
                            descriptors={"system": None if from_file else name} if fc["descriptors"] else None,
                            environment=env if fc["environment"] else None, concat=True)
    return out if isinstance(out, xr.Dataset) else out.to_dataset(name="features")


def cluster_types_of(trajectory_path: str, config: dict) -> list[str]:
    """The anion cluster types of a trajectory's first frame (fixes the environment columns for every chunk)."""
    from ..features.clusters import cluster_counts, find_clusters
    from ..io import read

    ds = read(trajectory_path, stop=1)
    counts = cluster_counts(find_clusters(ds, species=tuple(config["species"]["framework"])))
    return [str(t) for t in counts["cluster_type"].values]


class FeaturesStage(Stage, label="features", inputs=("traj",), sections=("trajectory", "species", "features"),
                    storage="regions"):

    def prepare(self) -> None:
        self.chunk_config = self.config
        if self.config["features"]["environment"] and not self.config["features"]["cluster_types"]:
            self.chunk_config = json.loads(json.dumps(self.config))
            self.chunk_config["features"]["cluster_types"] = cluster_types_of(str(self.traj), self.chunk_config)

    def frames(self) -> xr.Dataset:
        return frame_coords(self.traj)

    def probe(self) -> xr.Dataset:  # one frame: the variables, dtypes and coordinates
        return features_chunk(str(self.traj), 0, 1, self.chunk_config)

    def chunk_task(self):
        return functools.partial(features_chunk, str(self.traj), config=self.chunk_config)
