"""House style for ssefeat figures and an atomic ``save``."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; a user's interactive backend set earlier still wins
import matplotlib.pyplot as plt  # noqa: E402

from ..io.atomic import atomic_output  # noqa: E402

#: colours per anion / region / species, reused across figures so that a colour means one thing everywhere
PALETTE = {
    "PS4": "#1b9e77", "P2S7": "#d95f02", "P2S6": "#7570b3", "other": "#999999",
    "crystal": "#1f78b4", "interface": "#b2df8a", "glass": "#e31a1c",
    "Li": "#6a3d9a", "P": "#ff7f00", "S": "#b8a200", "A": "#1f78b4", "B": "#e31a1c",
}

RC = {
    "figure.figsize": (4.8, 3.6), "figure.dpi": 110, "savefig.dpi": 200, "font.size": 10,
    "axes.labelsize": 10, "axes.titlesize": 10, "legend.fontsize": 8, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 1.5,
}


def new_figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure and axes in the house style."""
    with plt.rc_context(RC):
        fig, ax = plt.subplots(nrows, ncols, **kwargs)
    return fig, ax


def colour(name: str, index: int = 0) -> str:
    """The house colour of a named thing, or the index-th colour of the default cycle."""
    return PALETTE.get(name, plt.rcParams["axes.prop_cycle"].by_key()["color"][index % 10])


def save(fig, path, close: bool = True) -> None:
    """Write a figure atomically (the format comes from the extension: .png, .pdf, .svg)."""
    from pathlib import Path

    suffix = Path(path).suffix.lstrip(".") or "png"
    with plt.rc_context(RC), atomic_output(path) as tmp:
        fig.savefig(tmp, format=suffix, bbox_inches="tight")
    if close:
        plt.close(fig)
