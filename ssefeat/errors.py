"""The ssefeat exception hierarchy.

Every error raised on bad input is an :class:`SsefeatError`. Its message says *what* is wrong, *where*
(file, variable, atom or frame) and *how to fix it*. The CLI prints these as one line and exits non-zero.
Subclasses also derive from the matching built-in (``ValueError``, ``FileNotFoundError``, ...) so that
generic ``except ValueError`` code keeps working.
"""
from __future__ import annotations

import re

_PARAM = re.compile(r"\[\[([A-Za-z_]\w*)(?:=(.*?))?\]\]")

#: parameters whose command-line option is not ``--`` + the name with dashes
CLI_OPTIONS = {"timestep_ps": "--timestep", "t_R": "--tR", "t_R_frames": "--tR-frames", "params": "--params",
               "fmt": "--format", "species_column": "--lammps-types", "atoms": "--select"}


def param(name: str, value=None) -> str:
    """A parameter named in an error message: shown as ``name='value'`` by the Python API and as the option
    ``--name value`` by the command line (one message, translated at the CLI boundary)."""
    return f"[[{name}]]" if value is None else f"[[{name}={value}]]"


def render(text: str | None, cli: bool = False) -> str | None:
    """``text`` with its :func:`param` marks written for the Python API (``cli=False``) or the command line."""
    if text is None:
        return None

    def one(m):
        name, value = m.group(1), m.group(2)
        if cli:
            option = CLI_OPTIONS.get(name, "--" + name.replace("_", "-"))
            return option if value is None else f"{option} {value}"
        if value is None:
            return name
        try:
            float(value)
            return f"{name}={value}"
        except ValueError:
            return f"{name}={value!r}"
    return _PARAM.sub(one, text)


class SsefeatError(Exception):
    """Base class of every error ssefeat raises on purpose.

    Parameters
    ----------
    what : str
        What is wrong.
    fix : str, optional
        How the user can fix it; appended as "Fix: ...".
    """

    exit_code = 2

    def __init__(self, what: str, fix: str | None = None):
        self.what, self.fix = render(what), render(fix)
        self.cli_what, self.cli_fix = render(what, cli=True), render(fix, cli=True)  # options named as on the CLI
        message = self.what if not self.fix else f"{self.what}\nFix: {self.fix}"
        super().__init__(message)


# --- files and formats -------------------------------------------------------------------------
class FileError(SsefeatError):
    """A problem with a file on disk."""


class MissingFileError(FileError, FileNotFoundError):
    """The named file does not exist."""


class UnknownFormatError(FileError, ValueError):
    """The format cannot be deduced from the extension or is not supported."""


class CorruptFileError(FileError, ValueError):
    """The file exists but cannot be parsed (truncated, corrupt, wrong format)."""


class TopologyMismatchError(FileError, ValueError):
    """A topology and a trajectory disagree (e.g. on the number of atoms)."""


class OutputError(FileError, OSError):
    """An output could not be written (or would overwrite something it should not)."""


# --- data ----------------------------------------------------------------------------------------
class SchemaError(SsefeatError, ValueError):
    """A trajectory Dataset does not follow the ssefeat schema."""


class NonFiniteError(SchemaError):
    """NaN or infinite values where finite numbers are required."""


class CellError(SchemaError):
    """A simulation cell is missing, degenerate (zero or negative volume) or unusable."""


class NoCellError(CellError):
    """A periodic analysis was asked of a trajectory that has no cell."""


class TimeOrderError(SchemaError):
    """Frame times do not strictly increase."""


class SelectionError(SsefeatError, ValueError):
    """An atom selection matches no atom, or names something that does not exist."""


class ParameterError(SsefeatError, ValueError):
    """An analysis parameter is invalid (out of range, inconsistent with the data, ...)."""


class UnwrapError(SchemaError):
    """Positions cannot be unwrapped safely (frames stored too far apart for the minimum-image rule)."""


class UnwrapWarning(UserWarning):
    """Unwrapping by minimum image may be ambiguous: an atom moved close to half a box in one frame."""


# --- models and simulation ---------------------------------------------------------------------
class ModelFileError(SsefeatError, ValueError):
    """A model file is invalid, tampered with, from a newer format, or does not match the features."""


class DomainWarning(UserWarning):
    """Softness outside the model's training domain (an extrapolation), or a model file that cannot tell."""


class FewerFoldsWarning(UserWarning):
    """Cross-validation ran with fewer folds than asked: the data hold too few samples of a class or too few groups
    (the folds used are recorded in the model, ``cv_folds_``)."""


class SimulationError(SsefeatError, RuntimeError):
    """An MD run went wrong (energy blow-up, overlapping atoms, missing parameters)."""


class ConfigError(SsefeatError, ValueError):
    """A pipeline configuration is invalid."""
