"""A lock on a results folder: one ``ssefeat run`` writes into a folder at a time.

The lock is a file ``<folder>/.ssefeat.lock`` created exclusively, holding the owner's process id, host and start
time. A second run on the same folder is refused with a message naming the owner. A lock whose process no longer
runs on this host (a run killed with SIGKILL) is stale: it is removed, said so, and the new run goes on.
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from ..errors import OutputError
from ..io.atomic import process_alive

LOCK_NAME = ".ssefeat.lock"


class FolderLock:
    """``with FolderLock(folder, say=print):`` holds the lock of ``folder`` (which must exist) for the block."""

    def __init__(self, folder, say=None):
        self.path = Path(folder) / LOCK_NAME
        self.say = say or (lambda msg: None)
        self.held = False

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    owner = json.loads(self.path.read_text())
                except (OSError, ValueError):
                    owner = {}
                pid, host = owner.get("pid"), owner.get("host")
                if isinstance(pid, int) and host == me["host"] and not process_alive(pid):
                    self.path.unlink(missing_ok=True)
                    self.say(f"removed the stale lock of an earlier run (process {pid}, started {owner.get('started')}"
                             ", no longer running)")
                    continue
                who = (f"process {pid} on {host}, started {owner.get('started')}" if pid else "an unreadable lock")
                raise OutputError(f"another ssefeat run is writing to {self.path.parent} ({who}).",
                                  fix=f"wait for it to finish or give this run another folder (-o); if that run is "
                                      f"gone (e.g. on another machine), delete {self.path}.") from None
            with os.fdopen(fd, "w") as f:
                json.dump(me, f)
            self.held = True
            return
        raise OutputError(f"could not take the lock {self.path}.", fix=f"delete {self.path} and run again.")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
