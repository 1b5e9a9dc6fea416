"""Atomic output: write to a temporary name beside the target, rename when complete.

A failure (exception, Ctrl-C, SIGTERM in the CLI) never leaves a half-written result and never clobbers an existing
good one. Works for single files and for directory outputs such as zarr stores. The temporary name carries the
writer's process id (``.out.zarr.tmp-<pid>-<random>``), so leftovers of a killed process (SIGKILL, power loss) are
recognised and removed by the next writer of the same output (:func:`remove_stale`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from pathlib import Path

from ..errors import OutputError


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(folder, pattern: str = "*", any_process: bool = False) -> list[Path]:
    """Remove the temporary outputs in ``folder`` (``.<pattern>.tmp-<pid>-*`` and ``.old-<pid>-*``) whose writing
    process no longer runs on this machine (every one with ``any_process``: the caller holds the folder's lock);
    returns what was removed."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for kind in ("tmp", "old"):
        for path in folder.glob(f".{pattern}.{kind}-*"):
            pid = path.name.rsplit(f".{kind}-", 1)[1].split("-", 1)[0]
            if any_process or (pid.isdigit() and not process_alive(int(pid))):
                _remove(path)
                removed.append(path)
    return removed


def check_folder(parent: Path) -> None:
    """Refuse an output folder that is missing, is a file, or cannot be written, before any work."""
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"the output folder {parent} is a file, not a folder.", fix="choose another output path.")
    if not parent.exists():
        blocker = next((p for p in parent.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise OutputError(f"the output folder {parent} cannot exist: {blocker} is a file.",
                              fix="choose an output path inside a folder.")
        raise OutputError(f"the output folder {parent} does not exist.", fix=f"create it first: mkdir -p {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"you may not write in the output folder {parent} (permission denied).",
                          fix="choose a folder you own, or ask for write permission.")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_output(path, overwrite: bool = True):
    """Context manager yielding a temporary path; on success it replaces ``path``.

    Parameters
    ----------
    path : str or Path
        The final output (file or directory).
    overwrite : bool
        If False and ``path`` exists, raise :class:`~ssefeat.errors.OutputError` before doing any work.

    Example
    -------
    >>> with atomic_output("out.nc") as tmp:      # doctest: +SKIP
    ...     ds.to_netcdf(tmp)
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise OutputError(f"{target} already exists.", fix="choose another output name or pass overwrite=True "
                                                            "(--overwrite on the command line).")
    parent = target.parent if str(target.parent) else Path(".")
    check_folder(parent)
    remove_stale(parent, target.name)  # leftovers of a killed earlier writer of this output
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = parent / f".{target.name}.tmp-{tag}{target.suffix}"
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"nothing was written for {target}.")
        if tmp.is_dir():
            # A directory cannot be renamed over another atomically: move the old one aside first.
            backup = parent / f".{target.name}.old-{tag}"
            if target.exists():
                os.replace(target, backup)
            os.replace(tmp, target)
            _remove(backup)
        else:
            os.replace(tmp, target)
    except OSError as err:
        _remove(tmp)
        if isinstance(err, OutputError):
            raise
        raise OutputError(f"cannot write {target}: {type(err).__name__}: {err.strerror or err}",
                          fix="check that the output folder exists, is a folder and is writable, and that the disk "
                              "has room; or choose another output path.") from err
    except BaseException:
        _remove(tmp)
        for _ in range(20):  # writer threads (zarr / dask) may still finish a chunk after an interrupt
            if not (tmp.exists() or tmp.is_symlink()):
                break
            time.sleep(0.1)
            _remove(tmp)
        raise
