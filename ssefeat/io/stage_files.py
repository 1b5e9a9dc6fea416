"""Whole-file stage outputs: netCDF-safe attributes, atomic saving of Datasets and DataTrees, opening stage
trajectories lazily or a few frames at a time."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .atomic import atomic_output
from .attrs import safe_attrs


def clean_attrs(obj):
    """The attributes of a Dataset and of its variables made netCDF-safe, in place; returns ``obj``."""
    for o in [obj, *obj.variables.values()]:
        o.attrs = safe_attrs(o.attrs)
    return obj


def clean_tree(tree) -> "xr.DataTree":
    """A copy of a DataTree whose attributes are all netCDF-safe."""
    return xr.DataTree.from_dict({node.path: clean_attrs(node.to_dataset().copy()) for node in tree.subtree})


def save_dataset(ds: xr.Dataset, path) -> Path:
    """Write a result Dataset to netCDF atomically (object/bool attrs made netCDF-safe)."""
    ds = clean_attrs(ds.copy())
    for name, var in ds.variables.items():
        if var.dtype == bool:
            ds[name] = var.astype(np.int8)
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp)
    return Path(path)


def save_tree(tree, path) -> Path:
    """Write a DataTree to netCDF atomically (attrs made netCDF-safe)."""
    with atomic_output(path) as tmp:
        clean_tree(tree).to_netcdf(tmp)
    return Path(path)


def open_trajectory(path) -> xr.Dataset:
    """A stage trajectory (netCDF or zarr), lazily."""
    opener = xr.open_zarr if Path(path).suffix == ".zarr" else xr.open_dataset
    return opener(path, decode_times=False, decode_timedelta=False)


def frame_coords(trajectory_path) -> xr.Dataset:
    """The ``frame`` and ``time`` coordinates of a stage trajectory file (nothing else is read)."""
    with open_trajectory(trajectory_path) as ds:
        return xr.Dataset(coords={"frame": ds["frame"].values,
                                  "time": ("frame", ds["time"].values, dict(ds["time"].attrs))})


def read_frames(trajectory_path, frames) -> xr.Dataset:
    """The given frame positions of a stage trajectory file, every atom (only those frames are read)."""
    from . import read

    parts = [read(trajectory_path, start=int(f), stop=int(f) + 1) for f in frames]
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, "frame", data_vars="minimal", coords="minimal", compat="override", join="override")
