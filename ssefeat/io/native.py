"""ssefeat's own trajectory files: netCDF-4 (``.nc``) and zarr (``.zarr`` directory).

They hold the trajectory Dataset as it is: every variable, coordinate and attribute, so reading a written file
gives an identical Dataset (``xarray.testing.assert_identical``). Writing validates first and goes through
:func:`~ssefeat.io.atomic.atomic_output`: a failed write leaves no partial file and keeps an old one.
Reading is lazy: only the selected frames and atoms are loaded, chunk by chunk for :func:`iter_chunks`.
Booleans in attrs are stored as 0 / 1 (netCDF has no booleans); times are never decoded to datetimes.
"""
from __future__ import annotations

from pathlib import Path

import xarray as xr

from ..data import validate
from ..errors import CorruptFileError, OutputError, SchemaError, param
from .atomic import atomic_output
from .attrs import safe_attrs
from .formats import ReadOptions, atom_indices, cell_per_frame, errors_named

_OPEN = dict(decode_times=False, decode_timedelta=False)


def _storable(ds: xr.Dataset) -> xr.Dataset:
    """A copy with netCDF/zarr-safe attrs (:func:`.stage_files.safe_attrs`, None left out)."""
    out = ds.copy(deep=False)
    for obj in [out, *out.variables.values()]:
        obj.attrs = safe_attrs(obj.attrs, drop_none=True)
        obj.encoding = {}
    return out


def write_netcdf(ds: xr.Dataset, path, overwrite: bool = True) -> Path:
    """Write a trajectory to netCDF-4 (Å, ps as in the Dataset) atomically; returns the path."""
    validate(ds)
    data = _storable(ds)
    with atomic_output(path, overwrite=overwrite) as tmp:
        try:
            data.to_netcdf(tmp, engine="netcdf4", format="NETCDF4")
        except (OSError, RuntimeError, ValueError, TypeError) as err:
            raise OutputError(f"could not write {path}: {type(err).__name__}: {err}",
                              fix="check free disk space and write permission of the folder.") from err
    return Path(path)


def append_zarr(ds: xr.Dataset, path, first: bool) -> None:
    """Write ``ds`` as a new zarr store (``first``), or append its variables along ``frame`` to the store."""
    if first:
        ds.to_zarr(path, mode="w", consolidated=True, zarr_format=2)
    else:
        ds.drop_vars([v for v in ds.variables if "frame" not in ds[v].dims]).to_zarr(
            path, append_dim="frame", consolidated=True, zarr_format=2)


def write_zarr(data, path, overwrite: bool = True) -> Path:
    """Write a trajectory (a Dataset, or an iterable of chunk Datasets appended along ``frame``) to a zarr store
    (a directory) atomically; returns the path."""
    chunks = [data] if isinstance(data, xr.Dataset) else data
    with atomic_output(path, overwrite=overwrite) as tmp:
        first = True
        for ds in chunks:
            validate(ds)
            try:
                append_zarr(_storable(ds), tmp, first)
            except (OSError, RuntimeError, ValueError, TypeError) as err:
                raise OutputError(f"could not write {path}: {type(err).__name__}: {err}",
                                  fix="check free disk space and write permission of the folder; appended chunks "
                                      "must have the same atoms.") from err
            first = False
    return Path(path)


def open_lazy(path, fmt: str) -> xr.Dataset:
    """The file as a lazy Dataset (nothing loaded yet); raises CorruptFileError naming the file."""
    with errors_named(path, fmt):
        if fmt == "zarr":
            if not (Path(path) / ".zmetadata").exists() and not (Path(path) / "zarr.json").exists() and \
                    not (Path(path) / ".zgroup").exists():
                raise CorruptFileError(f"{path} is not a zarr store (no zarr metadata in it).",
                                       fix="give the .zarr directory written by ssefeat.io.write.")
            ds = xr.open_zarr(path, consolidated=None, chunks=None, **_OPEN)
        else:
            ds = xr.open_dataset(path, engine="netcdf4", **_OPEN)
    if "positions" not in ds:
        ds.close()
        raise SchemaError(f"{path} has no 'positions' variable: it is not an ssefeat trajectory.",
                          fix=f"write trajectories with ssefeat.io.write, or give {param('format', 'NAME')} for "
                              "other files.")
    return ds


def _finish(ds: xr.Dataset, path, fmt: str, opts: ReadOptions) -> xr.Dataset:
    with errors_named(path, fmt):
        ds = ds.load()
    if ds["species"].dtype == object:
        ds = ds.assign_coords(species=("atom", ds["species"].values.astype(str), ds["species"].attrs))
    for name in ("xyz", "cell_vector"):
        if name in ds.coords and ds[name].dtype == object:
            ds = ds.assign_coords({name: ds[name].values.astype(str)})
    ds.attrs = dict(ds.attrs)  # never change the lazy parent's attrs
    if opts.step != 1 and opts.timestep_ps is None and "timestep_ps" in ds.attrs:
        ds.attrs["timestep_ps"] = float(ds.attrs["timestep_ps"]) * opts.step
    if opts.timestep_ps is not None:
        ds = ds.assign_coords(time=("frame", ds["frame"].values * float(opts.timestep_ps), ds["time"].attrs))
        ds.attrs["timestep_ps"] = float(opts.timestep_ps) * opts.step
        ds.attrs.pop("time_is_frame_index", None)
    if opts.cell is not None:
        ds = ds.assign_coords(cell_vector=["a", "b", "c"])
        ds["cell"] = (("frame", "cell_vector", "xyz"), cell_per_frame(opts.cell, ds.sizes["frame"]),
                      {"units": "angstrom"})
    with errors_named(path, fmt):
        return validate(ds)


def iter_chunks(path, fmt: str, opts: ReadOptions, frames_per_chunk: int | None = None):
    """Datasets of up to ``frames_per_chunk`` selected frames, loaded one chunk at a time."""
    lazy = open_lazy(path, fmt)
    try:
        frames = opts.frames_in(lazy.sizes["frame"])
        sel = atom_indices(lazy["species"].values, opts.atoms, path)
        if sel is not None:
            lazy = lazy.isel(atom=sel)
        if frames.size == 0:
            yield _finish(lazy.isel(frame=frames), path, fmt, opts)
            return
        step = frames_per_chunk or frames.size
        for i in range(0, frames.size, step):
            part = frames[i:i + step]
            # a slice keeps the read contiguous (fast); fancy indices only when striding
            idx = slice(int(part[0]), int(part[-1]) + 1, opts.step) if part.size else part
            with errors_named(path, fmt):
                chunk = lazy.isel(frame=idx)
            yield _finish(chunk, path, fmt, opts)
    finally:
        lazy.close()
