"""The ``ssefeat`` command line: a thin shell over the Python API.

Each area registers its commands in its own module (``ssefeat/cli/<area>_commands.py``) on the :data:`main` group
(:mod:`ssefeat.cli.group`). ssefeat errors are printed as one clear message (no traceback) with a non-zero exit code.
"""
from __future__ import annotations

from .group import main  # noqa: F401

# Command modules register themselves on `main` when imported.
from . import io_commands, md_commands, features_commands, labels_commands  # noqa: E402,F401
from . import transport_commands, softness_commands, disorder_commands, pipeline_commands  # noqa: E402,F401
from . import environment_commands, sites_commands, study_commands  # noqa: E402,F401
