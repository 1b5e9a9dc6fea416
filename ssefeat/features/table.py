"""Flat feature tables for ML studies: one row per (frame, atom), columns ``frame, atom, species, time`` and one
column per feature (its readable unique name, e.g. ``G_Li-S_mu2.4_L0.1``, ``q6``, ``voronoi_volume``).

Parquet files keep the description of every feature (the ``feature`` coordinates: kind, mu, L, xi, ...) and the
structure-function parameter set in the file's key-value metadata (key ``ssefeat``), so
:func:`table_to_features` rebuilds the self-describing DataArray. CSV keeps only the values.
Files are written atomically (temporary file + rename), in one go (:func:`write_table`) or chunk by chunk
(:class:`TableWriter`).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import CorruptFileError, MissingFileError, SchemaError, UnknownFormatError
from ..io.atomic import atomic_output
from ..io.native import append_zarr
from .parameters import FEATURE_COORDS

INDEX_COLUMNS = ("frame", "atom", "species", "time")
_META_KEY = b"ssefeat"
_KEEP_ATTRS = ("parameter_set", "parameter_fingerprint", "length_unit", "units", "ssefeat_version", "analysis")


def table_format(path) -> str:
    """``"parquet"`` or ``"csv"`` from the file name (.parquet / .pq, .csv / .csv.gz)."""
    name = str(path).lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.xz")):
        return "csv"
    raise UnknownFormatError(f"cannot tell the table format of {path}.",
                             fix="name the table *.parquet (keeps the feature descriptions) or *.csv.")


def _compression(path):
    return {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}.get(Path(path).suffix.lower())


def to_dataframe(features: xr.DataArray) -> pd.DataFrame:
    """A (frame, atom, feature) array as a wide table: one row per (frame, atom), frame-major."""
    if features.dims != ("frame", "atom", "feature"):
        try:
            features = features.transpose("frame", "atom", "feature")
        except ValueError:
            raise SchemaError(f"expected dims (frame, atom, feature), got {features.dims}.",
                              fix="pass a DataArray with dims (frame, atom, feature), as "
                                  "structure_functions(...) returns.") from None
    names = [str(n) for n in features["feature"].values]
    clash = sorted(set(names) & set(INDEX_COLUMNS))
    if clash:
        raise SchemaError(f"feature names {clash} clash with the table's index columns {list(INDEX_COLUMNS)}.",
                          fix=f"rename those features (they must not be one of {list(INDEX_COLUMNS)}).")
    nf, na = features.sizes["frame"], features.sizes["atom"]
    df = _index_columns(features)
    values = pd.DataFrame(np.asarray(features.values).reshape(nf * na, -1), columns=names)
    df = pd.concat([df, values], axis=1)
    df.attrs["ssefeat"] = _metadata(features)
    return df


def _index_columns(da: xr.DataArray) -> pd.DataFrame:
    """frame, atom (and species, time when known) of a (frame, atom, ...) array, one row per (frame, atom)."""
    nf, na = da.sizes["frame"], da.sizes["atom"]
    cols = {"frame": np.repeat(da["frame"].values, na), "atom": np.tile(da["atom"].values, nf)}
    if "species" in da.coords:
        cols["species"] = np.tile(np.asarray(da["species"].values).astype(str), nf)
    if "time" in da.coords:
        cols["time"] = np.repeat(np.asarray(da["time"].values, dtype=np.float64), na)
    return pd.DataFrame(cols)


def _metadata(features: xr.DataArray) -> dict:
    coords = {k: np.asarray(features[k].values).tolist() for k in ["feature", *FEATURE_COORDS]
              if k in features.coords}
    for k, v in coords.items():  # NaN is not JSON
        coords[k] = [None if isinstance(x, float) and np.isnan(x) else x for x in v]
    return {"feature_coords": coords, "attrs": {k: features.attrs[k] for k in _KEEP_ATTRS if k in features.attrs}}


def _arrow_table(df: pd.DataFrame, meta: dict | None):
    import pyarrow as pa

    # pandas deep-copies df.attrs on every column access (seconds per chunk for a wide table with the metadata in
    # attrs): convert an attrs-free view and put the attrs into pandas' schema metadata as pyarrow does
    plain = df.copy(deep=False)
    plain.attrs = {}
    table = pa.Table.from_pandas(plain, preserve_index=False)
    merged = dict(table.schema.metadata or {})
    if df.attrs and b"pandas" in merged:
        pandas_meta = json.loads(merged[b"pandas"])
        pandas_meta["attributes"] = df.attrs
        merged[b"pandas"] = json.dumps(pandas_meta).encode()
    if meta:
        merged[_META_KEY] = json.dumps(meta).encode()
    return table.replace_schema_metadata(merged)


def write_table(features, path, overwrite: bool = True) -> Path:
    """Write a feature array (or a table from :func:`to_dataframe`) to parquet or CSV, atomically."""
    fmt = table_format(path)
    df = to_dataframe(features) if isinstance(features, xr.DataArray) else features
    with atomic_output(path, overwrite=overwrite) as tmp:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(df, df.attrs.get("ssefeat")), tmp)
        else:
            df.to_csv(tmp, index=False, compression=_compression(path))
    return Path(path)


class TableWriter:
    """Write a table chunk by chunk (bounded memory); the file appears only when the writer closes cleanly.

    >>> with TableWriter("features.parquet") as w:      # doctest: +SKIP
    ...     for chunk in iter_chunks(path):
    ...         w.write(structure_functions(chunk, params))
    """

    def __init__(self, path, overwrite: bool = True):
        self.path = Path(path)
        self.format = table_format(path)
        self.overwrite = overwrite
        self._ctx = None
        self._tmp = None
        self._writer = None
        self._columns = None
        self.rows = 0

    def __enter__(self):
        self._ctx = atomic_output(self.path, overwrite=self.overwrite)
        self._tmp = self._ctx.__enter__()
        return self

    def write(self, features) -> None:
        df = to_dataframe(features) if isinstance(features, xr.DataArray) else features
        if self._columns is None:
            self._columns = list(df.columns)
        elif list(df.columns) != self._columns:
            raise SchemaError("a chunk has different columns from the first chunk of the table.",
                              fix="compute every chunk with the same parameters and centre species.")
        if self.format == "parquet":
            import pyarrow.parquet as pq

            table = _arrow_table(df, df.attrs.get("ssefeat"))
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._tmp, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
        else:
            df.to_csv(self._tmp, index=False, mode="a", header=self.rows == 0,
                      compression=_compression(self.path))
        self.rows += len(df)

    def __exit__(self, exc_type, exc, tb):
        if self._writer is not None:
            self._writer.close()
        return self._ctx.__exit__(exc_type, exc, tb)


def read_table(path) -> pd.DataFrame:
    """Read a feature table; for parquet, ``df.attrs["ssefeat"]`` holds the feature descriptions."""
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"feature table {path} does not exist.",
                               fix="check the path, or write the table first with write_table(features, path).")
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            df = table.to_pandas()
            raw = (table.schema.metadata or {}).get(_META_KEY)
            df.attrs = {"ssefeat": json.loads(raw)} if raw else {}
        else:
            df = pd.read_csv(path, dtype={"species": str})
    except (OSError, ValueError) as err:
        raise CorruptFileError(f"cannot read the feature table {path}: {err}",
                               fix="check the file is complete and has a .parquet or .csv extension matching "
                                   "its content.") from None
    missing = [c for c in ("frame", "atom") if c not in df.columns]
    if missing:
        raise CorruptFileError(f"{path} has no {missing} column(s): it is not an ssefeat feature table.",
                               fix="pass a table written by ssefeat (write_table / ssefeat features), with "
                                   "frame and atom columns.")
    return df


def table_to_features(df: pd.DataFrame) -> xr.DataArray:
    """Rebuild the ``(frame, atom, feature)`` DataArray from a table (rows of every atom in every frame).

    Feature coordinates and attrs come from the parquet metadata when present (else only ``feature`` names).
    """
    frames = pd.unique(df["frame"])
    atoms = pd.unique(df["atom"])
    if len(df) != len(frames) * len(atoms):
        raise SchemaError(f"the table has {len(df)} rows, not one per (frame, atom) "
                          f"({len(frames)} x {len(atoms)}).", fix="use a table written by ssefeat, not filtered.")
    df = df.sort_values(["frame", "atom"], kind="stable")
    names = [c for c in df.columns if c not in INDEX_COLUMNS]
    values = df[names].to_numpy(dtype=np.float64).reshape(len(frames), len(atoms), len(names))
    f_sorted, a_sorted = np.sort(frames), np.sort(atoms)
    first = df[df["frame"] == f_sorted[0]]
    coords = {"frame": f_sorted, "atom": a_sorted, "feature": names}
    if "species" in df.columns:
        coords["species"] = ("atom", first["species"].astype(str).to_numpy())
    if "time" in df.columns:
        coords["time"] = ("frame", df.groupby("frame", sort=True)["time"].first().to_numpy(), {"units": "ps"})
    meta = df.attrs.get("ssefeat") or {}
    fc = meta.get("feature_coords", {})
    if fc and list(fc.get("feature", [])) == names:
        for k, fill in FEATURE_COORDS.items():
            if k in fc:
                vals = fc[k]
                if isinstance(fill, float):
                    coords[k] = ("feature", np.array([np.nan if v is None else v for v in vals], dtype=np.float64))
                else:
                    coords[k] = ("feature", np.array(vals, dtype=str))
    da = xr.DataArray(values, dims=("frame", "atom", "feature"), coords=coords, name="features")
    da.attrs.update(meta.get("attrs", {}))
    return da


def write_feature_chunks(chunks, featurize, output, table=None, overwrite: bool = True, progress=None) -> dict:
    """Compute features chunk by chunk and write them (bounded memory), atomically.

    Parameters
    ----------
    chunks : iterable of trajectory Datasets (e.g. :func:`ssefeat.io.iter_chunks`)
    featurize : callable Dataset -> DataArray (frame, atom, feature)
    output : path of the feature file: ``.nc`` (netCDF, variable ``features``) or ``.zarr``
    table : optional path of a flat table (.parquet / .csv), see :class:`TableWriter`
    progress : optional tqdm-like object with ``update(n_frames)``

    Returns ``{"frames": n, "atoms": n, "features": n}``. Nothing is left behind on failure.
    """
    import contextlib
    import shutil
    import uuid

    output = Path(output)
    is_zarr = output.suffix.lower() == ".zarr"
    if not is_zarr and output.suffix.lower() not in (".nc", ".nc4", ".netcdf"):
        raise UnknownFormatError(f"cannot tell the format of the feature file {output}.",
                                 fix="name it *.nc (netCDF) or *.zarr.")
    info = {"frames": 0, "atoms": 0, "features": 0}
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_output(output, overwrite=overwrite))
        writer = stack.enter_context(TableWriter(table, overwrite=overwrite)) if table else None
        parts_dir = None
        if not is_zarr:
            parts_dir = output.parent / f".{output.name}.parts-{uuid.uuid4().hex[:8]}"
            parts_dir.mkdir()
            stack.callback(shutil.rmtree, parts_dir, True)
        parts = []
        first = None
        for chunk in chunks:
            da = featurize(chunk)
            if first is None:
                first = da
            elif not (np.array_equal(da["feature"].values, first["feature"].values)
                      and np.array_equal(da["atom"].values, first["atom"].values)):
                raise SchemaError("a trajectory chunk gave different features or atoms from the first chunk.")
            part = da.to_dataset(name="features")
            part.attrs = dict(da.attrs)
            if is_zarr:
                append_zarr(part, tmp, first=info["frames"] == 0)
            else:
                path = parts_dir / f"part-{len(parts):06d}.nc"
                part.to_netcdf(path, engine="netcdf4")
                parts.append(path)
            if writer is not None:
                writer.write(da)
            info["frames"] += da.sizes["frame"]
            info["atoms"], info["features"] = da.sizes["atom"], da.sizes["feature"]
            if progress is not None:
                progress.update(da.sizes["frame"])
        if first is None:
            raise SchemaError("no trajectory frame was selected, nothing to compute.",
                              fix="check the file and --start/--stop/--stride.")
        if not is_zarr:
            if len(parts) == 1:
                shutil.move(str(parts[0]), str(tmp))
            else:
                combined = xr.open_mfdataset(parts, combine="nested", concat_dim="frame", data_vars="minimal",
                                             coords="minimal", compat="override", engine="netcdf4",
                                             combine_attrs="override")
                try:
                    combined.to_netcdf(tmp, engine="netcdf4")
                finally:
                    combined.close()
    return info


def per_atom_columns(ds: xr.Dataset, skip=("features",)) -> dict:
    """Every per-atom variable of a stage Dataset as flat columns {name: (frame, atom) DataArray}: (frame, atom)
    variables as they are, (frame, atom, X) ones as ``<name>_<x>`` per label (or index) of X."""
    out = {}
    for name, v in ds.data_vars.items():
        if name in skip or not {"frame", "atom"} <= set(v.dims) or v.ndim > 3:
            continue
        if v.ndim == 2:
            out[str(name)] = v.transpose("frame", "atom")
            continue
        (extra,) = [d for d in v.dims if d not in ("frame", "atom")]
        labels = v[extra].values if extra in v.coords else range(v.sizes[extra])
        for k, label in enumerate(labels):
            out[f"{name}_{label}"] = v.isel({extra: k}, drop=True).transpose("frame", "atom")
    return out


def stage_table(ds: xr.Dataset, parameters: dict | None = None) -> pd.DataFrame:
    """One table of a per-atom stage (features, labels): index columns, the ``features`` columns when present and
    every other per-atom variable (:func:`per_atom_columns`); ``attrs["ssefeat"]`` keeps the feature descriptions,
    each extra column's attributes (units, ...) and ``parameters`` (the settings that made the stage)."""
    columns = per_atom_columns(ds)
    if "features" in ds:
        df = to_dataframe(ds["features"])
    elif columns:
        df = _index_columns(next(iter(columns.values())))
    else:
        raise SchemaError("the stage has no per-atom (frame, atom) variable to tabulate.",
                          fix="pass a stage Dataset holding at least one (frame, atom) variable (features, "
                              "labels, softness).")
    meta = dict(df.attrs.get("ssefeat") or {})
    clash = sorted(set(columns) & set(df.columns))
    if clash:
        raise SchemaError(f"per-atom variables {clash} clash with the table's columns.",
                          fix=f"rename or drop the variables {clash} before tabulating.")
    extra = pd.DataFrame({name: np.asarray(v.values).reshape(-1) for name, v in columns.items()}, index=df.index)
    df = pd.concat([df, extra], axis=1)
    meta["columns"] = {name: {k: (str(a) if not isinstance(a, (int, float, str, bool)) else a)
                              for k, a in v.attrs.items()} for name, v in columns.items()}
    meta["parameters"] = parameters or {}
    df.attrs["ssefeat"] = meta
    return df
