"""One table of defaults shared by the command line and the pipeline (``ssefeat run``).

The CLI options and the ``[section] key`` of a configuration take their default from here, so ``ssefeat labels``
and ``ssefeat run`` compute the same label with the same window unless the user says otherwise. Lengths in Å,
times in ps, windows in frames.
"""
from __future__ import annotations

#: frames per chunk: reading, features, labels and every per-frame pipeline stage (bounds memory)
CHUNK_FRAMES = 50

# --- rearrangement labels --------------------------------------------------------------------------------------
LABEL_KIND = "p_hop"            # p_hop needs no cutoff; d2min / d_cum need a neighbour cutoff
T_R_FRAMES = 10                 # p_hop window t_R in frames (when no t_R in ps is given)
LAG_FRAMES = 10                 # d2min lag t0 -> t0 + lag; d_cum interval dt
DCUM_WINDOW_FRAMES = 20         # d_cum: summed over this window (a multiple of the lag)
NORMALIZE = "sum"               # d2min / d_cum: sum over neighbours (OVITO) or "mean" (LAMMPS / RSoft)
ALIGN = "forward"               # d_cum at t covers [t, t + window) or is "centre"d on t

# --- softness --------------------------------------------------------------------------------------------------
R_QUANTILE = 0.95               # rearranging: label above this quantile of the labels (when no r_cut is given)
NR_QUANTILE = 0.5               # not rearranging: below this quantile over the whole window
SOFTNESS_WINDOW = 2             # frames either side that must stay quiet for a non-rearranging sample
CLASSIFIER = "logistic"
TEST_FRACTION = 0.25            # held-out fraction of frame blocks (or of runs)
MAX_PER_CLASS = 100_000         # training samples per class at most (seeded picks): bounds the training matrix

# --- links, disorder -------------------------------------------------------------------------------------------
N_BOOT = 1000                   # bootstrap resamples (over ions) of the softness-descriptor links
FRAMEWORK = ("P", "S")          # species.framework: the anion lattice of Li thiophosphates
DISORDER_SPECIES = "framework"  # atoms whose density makes F(z): "framework", "all" or a list of species
DISORDER_AXIS = "z"
SLAB_WIDTH = 2.0                # Å
GRID_SPACING = 0.25             # Å
SIGMA = 0.5                     # Å, Gaussian width of the density
R_ENV = 5.0                     # Å, cluster-environment radius
