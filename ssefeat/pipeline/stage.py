"""One Stage mechanism: a stage declares what its file depends on and how it is stored; :func:`run_stage` does the
rest for every stage: hash, up-to-date check, resume of a partial store, timing, atomic writing, and serial or dask
execution of frame chunks. Storage (``Stage.storage``): ``"dataset"`` / ``"tree"`` (``compute()`` returns a
Dataset / DataTree, saved whole to netCDF); ``"regions"`` (a zarr store created up front and written by frame
regions, ``chunk_task()(start, stop)`` computes one, resumable chunk by chunk); ``"append"`` (a zarr store appended
in frame order from ``parts()``); ``"trajectory"`` (``compute(path, key)`` writes the stamped file itself).
"""
from __future__ import annotations

import time
from pathlib import Path

import xarray as xr

from .. import __version__
from ..config import section_hash
from ..io.chunked_store import ChunkedStore, open_store, stage_hash_of, write_region
from ..io.stage_files import save_dataset, save_tree


class Stage:
    """One step of the job, for one run (``k``) or for all runs (``k = None``).

    A subclass declares, as class keywords: ``label`` (the file stem and message), ``sections`` (the configuration
    sections its hash depends on; per-run stages add ``extra=k``), ``inputs`` (the results of earlier stages it
    takes, as keywords), ``storage`` (see the module docstring), ``distributed`` (region chunks may run on the dask
    cluster) and ``timer`` (its key in the timings, default its name).
    """

    label = ""
    sections: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    storage = "dataset"
    distributed = True
    timer: str | None = None

    def __init_subclass__(cls, **declared):
        super().__init_subclass__()
        for key, value in declared.items():
            setattr(cls, key, value)

    def __init__(self, pipe, k: int | None = None, **inputs):
        if set(inputs) != set(self.inputs):
            raise TypeError(f"the {self.label} stage takes {self.inputs}, got {tuple(inputs)}")
        self.pipe, self.config, self.k = pipe, pipe.config, k
        self.__dict__.update(inputs)

    @property
    def name(self) -> str:
        return self.label if self.k is None else f"{self.label} {self.k}"

    @property
    def suffix(self) -> str:
        return ".zarr" if self.storage in ("regions", "append") else ".nc"

    @property
    def path(self) -> Path:
        stem = self.label if self.k is None else f"{self.label}_{self.k}"
        return self.pipe.stage_dir / f"{stem}{self.suffix}"

    def key(self) -> str:
        return section_hash(self.config, *self.sections, extra=self.k)

    @property
    def chunk_frames(self) -> int:
        return int(self.config["execution"]["chunk_frames"])

    def store_attrs(self) -> dict:
        return {"ssefeat_version": __version__}

    def prepare(self) -> None:
        """Settle what every region chunk needs before the store is shaped (e.g. the cluster types)."""

    def finalize(self, store: ChunkedStore) -> None:
        """Add summaries over the finished chunks to a region store (before it gets its final name)."""


def frame_chunks(n_frames: int, size: int) -> list[tuple[int, int]]:
    size = max(1, int(size))
    return [(a, min(a + size, n_frames)) for a in range(0, n_frames, size)]


def _finished(stage: Stage, path: Path, key: str):
    """The stage's finished output if it was made with these settings, else None."""
    if path.suffix == ".zarr":
        if stage_hash_of(path) != key:
            return None
        return path if stage.storage == "trajectory" else open_store(path)
    if not path.exists():
        return None
    try:
        if stage.storage == "tree":
            found = xr.open_datatree(path)
            return found.load() if found.attrs.get("stage_hash") == key else None
        if stage.storage == "trajectory":
            with xr.open_dataset(path) as ds:
                return path if ds.attrs.get("stage_hash") == key else None
        found = xr.load_dataset(path)
    except Exception:  # noqa: BLE001 - an unreadable old output is simply recomputed
        return None
    return found if found.attrs.get("stage_hash") == key else None


def run_stage(pipe, stage: Stage):
    """The stage's result: its up-to-date file, or computed, written atomically and timed."""
    path, key, timer = stage.path, stage.key(), stage.timer or stage.name
    found = _finished(stage, path, key)
    if found is not None:
        pipe.say(f"{stage.name}: up to date ({path.name}), skipped")
        pipe.record_timing(timer, key, computed=False)
        return found
    t0 = time.perf_counter()
    result = _WRITERS[stage.storage](pipe, stage, path, key)
    pipe.timings[timer] = pipe.timings.get(timer, 0.0) + time.perf_counter() - t0
    pipe.record_timing(timer, key, computed=True)
    return result


def _write_whole(pipe, stage, path, key):
    pipe.say(f"{stage.name}: computing")
    result = stage.compute()
    result.attrs["stage_hash"] = key
    if stage.storage == "tree":
        save_tree(result, path)
        return xr.open_datatree(path).load()
    result.attrs["ssefeat_version"] = __version__
    save_dataset(result, path)
    return xr.load_dataset(path)


def _write_regions(pipe, stage, path, key):
    stage.prepare()
    frames = stage.frames()
    chunks = frame_chunks(frames.sizes["frame"], stage.chunk_frames)
    store = ChunkedStore(path, key)
    todo = store.pending(chunks)
    if len(todo) == len(chunks):
        pipe.say(f"{stage.name}: computing ({len(chunks)} chunks)")
        store.create(stage.probe(), frames, chunks, stage.store_attrs())  # the probe shapes the store
    else:
        pipe.say(f"{stage.name}: resuming ({len(chunks) - len(todo)} of {len(chunks)} chunks already written)")
    map_chunks(pipe, stage.chunk_task(), todo, str(store.partial), stage.distributed, stage.name)
    stage.finalize(store)
    store.finish(chunks)
    return open_store(path)


def _write_appended(pipe, stage, path, key):
    pipe.say(f"{stage.name}: computing {stage.what}")
    store = ChunkedStore(path, key)
    for i, part in enumerate(stage.parts()):
        store.append(part, first=i == 0, chunk_frames=stage.chunk_frames, attrs=stage.store_attrs())
    store.finish()
    return open_store(path)


_WRITERS = {"dataset": _write_whole, "tree": _write_whole, "regions": _write_regions, "append": _write_appended,
            "trajectory": lambda pipe, stage, path, key: stage.compute(path, key)}


def write_chunk(task, start: int, stop: int, store: str) -> int:
    """Compute frames [start, stop) with ``task(start, stop)`` and write them into their region of a partial stage
    store (run by the serial loop or by a dask worker); returns the number of frames written."""
    write_region(store, task(start, stop), start, stop)
    return stop - start


def map_chunks(pipe, task, chunks: list[tuple[int, int]], store: str, distributed: bool, desc: str) -> None:
    """Run :func:`write_chunk` for every chunk, serially or on the dask cluster; the chunk is written where it is
    computed, so only frame counts come back."""
    from ..progress import progress_bar

    client = pipe.client() if distributed else None
    bar = progress_bar(total=sum(b - a for a, b in chunks), desc=desc, unit="frame", disable=not pipe.progress)
    try:
        if client is None:
            for a, b in chunks:
                bar.update(write_chunk(task, a, b, store))
            return
        n = len(chunks)
        futures = client.map(write_chunk, [task] * n, [a for a, _ in chunks], [b for _, b in chunks], [store] * n,
                             pure=False)
        try:
            for fut in futures:  # in frame order; a chunk's error is raised here
                bar.update(fut.result())
        finally:
            client.cancel(futures)
    finally:
        bar.close()
