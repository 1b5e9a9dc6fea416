"""Stage stores of the pipeline: zarr stores written frame chunk by frame chunk, complete only at the end.

A per-frame stage (features, labels, softness) never holds its whole output in memory. Its store is built under a
temporary folder beside the final name (``stages/.features_0.zarr.partial/data.zarr``):

- :meth:`ChunkedStore.create` writes the metadata of the full (frame, ...) arrays (shape, dtype, attributes,
  coordinates; zarr chunks = the pipeline's frame chunks) without computing anything;
- :func:`write_region` writes one frame chunk into its own region and then records the chunk as done; it is a
  plain function, so a dask worker that computed the chunk writes it itself (nothing goes back to the client);
- :meth:`ChunkedStore.finish` (only when every chunk is done) consolidates the metadata and renames the store to
  its final name.

A crash or Ctrl-C leaves only the ``.partial`` folder, never a complete-looking stage. A restart with the same
settings (hash) and chunking resumes it: chunks already recorded are not recomputed. Other settings start over.
Stages whose chunks are produced in sequence (windowed labels) use :meth:`ChunkedStore.append` instead.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import xarray as xr

from ..errors import OutputError, SchemaError
from .stage_files import safe_attrs

#: Width of the fixed-length unicode variables of a stage store (cluster types, site labels, ...).
STR_WIDTH = 32
_OPEN = dict(decode_times=False, decode_timedelta=False)


def _fixed_strings(ds: xr.Dataset) -> xr.Dataset:
    """Unicode variables as ``<U{STR_WIDTH}`` (every chunk must match the store's dtype); longer text is refused."""
    for name, var in ds.data_vars.items():  # coordinates are written once, as they are
        if var.dtype.kind == "U":
            if var.dtype.itemsize // 4 > STR_WIDTH:
                raise SchemaError(f"variable {name!r} holds text longer than {STR_WIDTH} characters, which the "
                                  "stage store cannot keep.", fix="shorten the names (cluster types, labels).")
            ds[name] = var.astype(f"<U{STR_WIDTH}")
    return ds


def _region_part(ds: xr.Dataset) -> xr.Dataset:
    """The variables of a chunk that live along ``frame`` (the rest is in the store already)."""
    ds = ds.drop_vars([v for v in ds.variables if "frame" not in ds[v].dims])
    for var in ds.variables.values():
        var.attrs = {}
        var.encoding = {}
    ds.attrs = {}
    return _fixed_strings(ds)


def open_store(path) -> xr.Dataset:
    """A finished stage store, lazily (dask arrays chunked as written: one frame chunk at a time)."""
    return xr.open_zarr(path, consolidated=True, **_OPEN)


def stage_hash_of(path) -> str | None:
    """The ``stage_hash`` attribute of a finished stage store (None when absent or unreadable)."""
    path = Path(path)
    if not (path / ".zmetadata").exists():
        return None
    try:
        return json.loads((path / ".zmetadata").read_text())["metadata"][".zattrs"].get("stage_hash")
    except (OSError, ValueError, KeyError):
        return None


def write_region(store: str, ds: xr.Dataset, start: int, stop: int) -> None:
    """Write the chunk ``ds`` (frames [start, stop) of the stage) into its region of ``store`` and mark it done."""
    data = Path(store) / "data.zarr"
    if ds.sizes["frame"] != stop - start:
        raise SchemaError(f"chunk [{start}, {stop}) has {ds.sizes['frame']} frames.")
    _region_part(ds).to_zarr(data, region={"frame": slice(start, stop)}, consolidated=False)
    marker = Path(store) / "done" / f"{start}-{stop}"
    tmp = marker.with_name(f".{marker.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text("ok")
    os.replace(tmp, marker)  # the marker exists only once the region is on disk


class ChunkedStore:
    """The temporary store of one stage (see the module docstring).

    Parameters
    ----------
    final : path of the finished stage (``stages/features_0.zarr``)
    key : the stage's settings hash; stored in the attributes and in the partial store
    """

    def __init__(self, final, key: str):
        self.final = Path(final)
        self.key = key
        self.partial = self.final.with_name(f".{self.final.name}.partial")
        self.data = self.partial / "data.zarr"

    # --- region mode ------------------------------------------------------------------------
    def pending(self, chunks: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The chunks of a resumable partial store that are not written yet (all of them when it cannot resume)."""
        state = self.partial / "state.json"
        try:
            ok = json.loads(state.read_text()) == {"key": self.key, "chunks": [list(c) for c in chunks]}
        except (OSError, ValueError):
            ok = False
        if not ok or not self.data.exists():
            return list(chunks)
        done = {p.name for p in (self.partial / "done").iterdir()} if (self.partial / "done").exists() else set()
        return [c for c in chunks if f"{c[0]}-{c[1]}" not in done]

    def create(self, probe: xr.Dataset, frames: xr.Dataset, chunks: list[tuple[int, int]], attrs: dict) -> None:
        """Start a new partial store shaped like ``probe`` (one or more frames of the result) over every frame.

        ``frames`` holds the stage's frame coordinates (``frame``, ``time``) for all frames; the data variables
        are lazy zeros, so nothing is computed or written but metadata and coordinates.
        """
        import dask.array as da

        self.discard()
        (self.partial / "done").mkdir(parents=True)
        n = frames.sizes["frame"]
        size = max(b - a for a, b in chunks)
        tmpl = xr.Dataset(coords={k: v for k, v in probe.coords.items() if "frame" not in v.dims})
        # loaded: the frame coordinates of another stage store come chunked as that store was written
        tmpl = tmpl.assign_coords({k: v.load() for k, v in frames.coords.items() if k in ("frame", "time")})
        for name, var in _fixed_strings(probe.copy()).data_vars.items():
            if "frame" in var.dims:
                shape = tuple(n if d == "frame" else probe.sizes[d] for d in var.dims)
                blocks = tuple(size if d == "frame" else probe.sizes[d] for d in var.dims)
                tmpl[name] = (var.dims, da.zeros(shape, chunks=blocks, dtype=var.dtype),
                              safe_attrs(var.attrs, plain=True))
            else:
                tmpl[name] = var.copy(data=var.values)
                tmpl[name].attrs = safe_attrs(var.attrs, plain=True)
        for name in tmpl.coords:
            tmpl[name].attrs = safe_attrs(tmpl[name].attrs, plain=True)
            # frame coordinates chunked like the data (one consistent chunking for lazy readers)
            tmpl[name].encoding = {"chunks": (size,)} if tmpl[name].dims == ("frame",) and name != "frame" else {}
        tmpl.attrs = safe_attrs({**probe.attrs, **attrs, "stage_hash": self.key}, plain=True)
        tmpl.to_zarr(self.data, mode="w", compute=False, consolidated=False, zarr_format=2)
        (self.partial / "state.json").write_text(json.dumps({"key": self.key, "chunks": [list(c) for c in chunks]}))

    def add(self, ds: xr.Dataset) -> None:
        """Add variables without a frame dimension (summaries computed after the chunks) to the partial store."""
        ds = ds.copy()
        for var in ds.variables.values():
            var.attrs = safe_attrs(var.attrs, plain=True)
            var.encoding = {}
        with self.open_partial() as written:
            ds.attrs = dict(written.attrs)  # mode "a" rewrites the store's attributes: keep them
        ds.to_zarr(self.data, mode="a", consolidated=False)

    def open_partial(self) -> xr.Dataset:
        """The partial store as written so far, lazily (for summaries over the finished chunks)."""
        return xr.open_zarr(self.data, consolidated=False, **_OPEN)

    # --- append mode (chunks produced in frame order) ---------------------------------------------
    def append(self, ds: xr.Dataset, first: bool, chunk_frames: int, attrs: dict | None = None) -> None:
        """Write the next frames: ``first`` starts a new partial store (chunked ``chunk_frames`` along frame)."""
        ds = _fixed_strings(ds.copy())
        for var in ds.variables.values():
            var.attrs = safe_attrs(var.attrs, plain=True)
            var.encoding = {}
        if first:
            self.discard()
            self.partial.mkdir(parents=True)
            ds.attrs = safe_attrs({**ds.attrs, **(attrs or {}), "stage_hash": self.key}, plain=True)
            enc = {v: {"chunks": tuple(chunk_frames if d == "frame" else ds.sizes[d] for d in ds[v].dims)}
                   for v in ds.variables if "frame" in ds[v].dims and v != "frame"}
            ds.to_zarr(self.data, mode="w", encoding=enc, consolidated=False, zarr_format=2)
        else:
            with self.open_partial() as written:
                ds.attrs = dict(written.attrs)  # an append rewrites the store's attributes: keep them
            ds.drop_vars([v for v in ds.variables if "frame" not in ds[v].dims]).to_zarr(
                self.data, append_dim="frame", consolidated=False)

    # --- the end ----------------------------------------------------------------------------
    def finish(self, chunks: list[tuple[int, int]] | None = None) -> Path:
        """Consolidate and move the store to its final name (after every chunk, when ``chunks`` is given)."""
        import zarr

        if chunks is not None and self.pending(chunks):
            raise OutputError(f"{self.final.name}: {len(self.pending(chunks))} chunks were not written.",
                              fix="run the stage again (finished chunks are kept).")
        zarr.consolidate_metadata(str(self.data))
        if self.final.exists():  # an outdated stage: move it aside first (a directory cannot be replaced)
            old = self.final.with_name(f".{self.final.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(self.final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(self.data, self.final)
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.final

    def discard(self) -> None:
        if self.partial.exists():
            shutil.rmtree(self.partial)
