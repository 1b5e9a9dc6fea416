"""The ``ssefeat`` command group: every failure becomes one ``ssefeat error:`` message with a fix (no traceback);
the reading options the commands share, spelt once (:func:`read_options`).

ssefeat errors, unusable command lines and operating-system errors (permissions, full disk) exit with code 2;
anything else is a bug in ssefeat, reported as such with exit code 1 (``SSEFEAT_TRACEBACK=1`` shows the traceback).
SIGTERM is turned into an interrupt, so unfinished outputs are removed as on Ctrl-C.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

import click

from .. import __version__
from .. import defaults as D
from ..errors import SsefeatError


def _fail(what: str, fix: str | None, code: int = 2):
    click.secho(f"ssefeat error: {what}", fg="red", err=True)
    if fix:
        click.echo(f"  fix: {fix}", err=True)
    sys.exit(code)


def _terminate(signum, frame):  # a polite kill: unwind like Ctrl-C so temporary outputs are removed
    raise KeyboardInterrupt


class _Group(click.Group):
    """A click group that turns every failure into a one-line message and an exit code."""

    def invoke(self, ctx):
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
        try:
            return super().invoke(ctx)
        except SsefeatError as err:
            _fail(err.cli_what, err.cli_fix or f"see `{_command(ctx)} --help` for what each option takes.",
                  err.exit_code)
        except click.exceptions.Exit:
            raise
        except click.UsageError as err:
            _fail(err.format_message(), f"see `{_command(ctx)} --help`.")
        except KeyboardInterrupt:
            click.echo("interrupted; finished outputs are kept, unfinished ones were not written.", err=True)
            sys.exit(130)
        except OSError as err:  # permissions, a full disk, a path through a file: the user's environment
            where = f" ({err.filename})" if getattr(err, "filename", None) else ""
            _fail(f"the operating system refused a file operation{where}: {err.strerror or err}.",
                  "check that the paths exist, are folders where a folder is expected, and that you may write there "
                  "(and that the disk is not full).")
        except Exception as err:  # noqa: BLE001 - a bug, not bad input: say so without a traceback
            if os.environ.get("SSEFEAT_TRACEBACK"):
                raise
            _fail(f"internal error ({type(err).__name__}: {err}); this is a bug in ssefeat, not your input.",
                  "please report it with the command line; SSEFEAT_TRACEBACK=1 shows the traceback.", code=1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


def _command(ctx) -> str:
    return " ".join(["ssefeat"] + ([ctx.invoked_subcommand] if ctx.invoked_subcommand else []))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssefeat")
def main():
    """ssefeat: trajectories of solid-state electrolytes in, machine-learning insight out."""


#: the options that say how a trajectory is read, one spelling and help text for every command
READ_OPTIONS = {
    "topology": click.option("--topology", default=None, type=click.Path(), help="topology (pdb/gro/h5, ...) for "
                             "formats without atom names (xtc, trr, dcd, AMBER .nc)"),
    "type_map": click.option("--type-map", default=None,
                             help='LAMMPS types (or extxyz labels) to elements, e.g. "1=Li,2=P,3=S" or "A=Li,B=S"'),
    "format": click.option("--format", "fmt", default=None,
                           help="input format when neither the name nor the content tells it (xdatcar, extxyz, ...)"),
    "timestep": click.option("--timestep", "timestep_ps", type=float, default=None,
                             help="time between consecutive frames of the file in ps; with step numbers in the file "
                                  "(LAMMPS TIMESTEP, XDATCAR, extxyz step) the true times, gaps kept"),
    "chunk": click.option("--chunk", type=int, default=D.CHUNK_FRAMES, show_default=True,
                          help="frames per chunk (bounds memory)"),
    "start": click.option("--start", type=int, default=None, help="first frame (0-based)"),
    "stop": click.option("--stop", type=int, default=None, help="stop before this frame"),
    "stride": click.option("--stride", type=int, default=None, help="take every n-th frame"),
    "overwrite": click.option("--overwrite/--no-overwrite", default=True, show_default=True),
    "quiet": click.option("-q", "--quiet", is_flag=True, help="no progress bar"),
}


def read_options(*names):
    """One decorator adding the :data:`READ_OPTIONS` named, in this order."""
    def decorate(func):
        for name in reversed(names):
            func = READ_OPTIONS[name](func)
        return func
    return decorate
