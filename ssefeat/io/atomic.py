"""Atomic output: write to a temporary name beside the target, rename when complete.

A failure (exception, Ctrl-C) never leaves a half-written result and never clobbers an existing good one.
Works for single files and for directory outputs such as zarr stores.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

from ..errors import OutputError


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
    if not parent.exists():
        raise OutputError(f"the output folder {parent} does not exist.", fix=f"create it first: mkdir -p {parent}")
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: {parent} is not a writable folder.",
                          fix="choose an output path in a folder you can write to (or fix its permissions).")
    tmp = parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}{target.suffix}"
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"nothing was written for {target}.")
        if tmp.is_dir():
            # A directory cannot be renamed over another atomically: move the old one aside first.
            backup = parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
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
        raise
