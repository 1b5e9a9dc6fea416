"""The ``ssefeat`` command line: a thin shell over the Python API.

Each area registers its commands in its own module (``ssefeat/cli/<area>.py``) on the :data:`main` group.
ssefeat errors are printed as one clear message (no traceback) with a non-zero exit code.
"""
from __future__ import annotations

import sys

import click

from .. import __version__
from ..errors import SsefeatError


class _Group(click.Group):
    """A click group that turns ssefeat errors into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SsefeatError as err:
            click.secho(f"ssefeat error: {err.what}", fg="red", err=True)
            if err.fix:
                click.echo(f"  fix: {err.fix}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; finished outputs are kept, unfinished ones were not written.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ssefeat")
def main():
    """ssefeat: trajectories of solid-state electrolytes in, machine-learning insight out."""


# Command modules register themselves on `main` when imported.
from . import io_commands, md_commands, features_commands, labels_commands  # noqa: E402,F401
from . import transport_commands, softness_commands, disorder_commands, pipeline_commands  # noqa: E402,F401
from . import environment_commands  # noqa: E402,F401
