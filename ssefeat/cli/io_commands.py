from . import main  # noqa: F401  (the IO helper fills this module: info, convert)
