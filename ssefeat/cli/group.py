"""The ``ssefeat`` command group: turns ssefeat errors into one clear message (no traceback) and exit code 2."""
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
