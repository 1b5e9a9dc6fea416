"""The ``ssefeat`` command group: every failure becomes one ``ssefeat error:`` message with a fix (no traceback).

ssefeat errors, unusable command lines and operating-system errors (permissions, full disk) exit with code 2;
anything else is a bug in ssefeat, reported as such with exit code 1 (``SSEFEAT_TRACEBACK=1`` shows the traceback).
SIGTERM is turned into an interrupt, so unfinished outputs are removed as on Ctrl-C.
"""
from __future__ import annotations

import os
import signal
import sys

import click

from .. import __version__
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
        previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
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


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssefeat")
def main():
    """ssefeat: trajectories of solid-state electrolytes in, machine-learning insight out."""
