"""Matplotlib figures of ssefeat results, one module per area, all in one house style (:mod:`.style`).

Every function takes an xarray result (and optionally an ``ax``) and returns the matplotlib Figure; axes carry
labels with units. Use :func:`ssefeat.plots.style.save` to write a figure atomically.
"""
