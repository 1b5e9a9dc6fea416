"""Progress of long work: a tqdm bar on a terminal, plain lines in logs.

When stderr is not a terminal (a batch job, ``ssefeat run > log 2>&1``, CI), a carriage-return bar would become
one very long line; :func:`progress_bar` then prints a line at every tenth of the work (or every 30 s when the total
is unknown) and one at the end: ``[ssefeat] features 0: 240/480 frames (50 %), 12 s``.
"""
from __future__ import annotations

import sys
import time


class LineProgress:
    """The tqdm subset ssefeat uses (``update``, ``close``, context manager), written as plain lines."""

    def __init__(self, total=None, desc: str = "", unit: str = "it", every_s: float = 30.0, stream=None):
        self.total, self.desc, self.unit, self.every_s = total, desc, unit, every_s
        self.n, self.t0, self._next_tenth, self._last = 0, time.monotonic(), 1, time.monotonic()
        self.stream = stream if stream is not None else sys.stderr
        self.closed = False

    def _line(self, final: bool = False) -> None:
        elapsed = time.monotonic() - self.t0
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        pct = f" ({100 * self.n / self.total:.0f} %)" if self.total else ""
        end = ", done" if final else ""
        print(f"[ssefeat] {self.desc}: {done} {self.unit}s{pct}, {elapsed:.0f} s{end}", file=self.stream, flush=True)
        self._last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += int(n)
        if self.total:
            tenth = int(10 * self.n / self.total)
            if tenth >= self._next_tenth and self.n < self.total:
                self._next_tenth = tenth + 1
                self._line()
        elif time.monotonic() - self._last >= self.every_s:
            self._line()

    def close(self) -> None:
        if not self.closed and self.n:
            self._line(final=True)
        self.closed = True

    def wrap(self, iterable):
        """Yield from ``iterable``, counting one per item, and close at the end."""
        try:
            for item in iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def track(iterable, total=None, desc: str = "", unit: str = "it"):
    """``iterable`` with progress (a tqdm bar on a terminal, lines otherwise)."""
    if _interactive(sys.stderr):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, mininterval=1.0)
    return LineProgress(total=total, desc=desc, unit=unit).wrap(iterable)


def _interactive(stream) -> bool:
    return hasattr(stream, "isatty") and stream.isatty()


def progress_bar(total=None, desc: str = "", unit: str = "it", disable: bool = False, stream=None):
    """A tqdm bar when ``stream`` (default stderr) is a terminal, else :class:`LineProgress`; a silent one when
    ``disable``. ``desc`` names the stage in words (``features 0``, ``MD melt``), never a function."""
    stream = stream if stream is not None else sys.stderr
    if _interactive(stream) or disable:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, unit=unit, leave=False, disable=disable, mininterval=1.0, file=stream)
    return LineProgress(total=total, desc=desc, unit=unit, stream=stream)
