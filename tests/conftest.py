"""Shared test settings: headless matplotlib, and the tests folder importable for shared builders."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
