"""Dynamics: rearrangement labels and transport.

Labels: D2min (Falk-Langer; ``normalize="sum"`` as OVITO by default, ``"mean"`` as LAMMPS / RSoft), D_cum, p_hop
(Candelier 2010), bond switching, hop events. Transport: MSD by FFT with centre-of-mass drift removed, D with
honest uncertainties, Nernst-Einstein conductivity (Haven ratio from the charge MSD on request), Arrhenius fits,
non-Gaussian parameter, self and distinct van Hove, MSD and D per crystal / interface / glass region, anion
rotation (P1 / P2 autocorrelation, deflection angles).
"""
from .arrhenius import arrhenius_fit, transport_study
from .bond_switching import bond_switching
from .conductivity import conductivity, nernst_einstein
from .d2min import cumulative_d2min, nonaffine_displacement, nonaffine_displacement_series
from .diffusion import diffusion_coefficient
from .hops import hop_events, hop_table
from .msd import collective_msd, mean_squared_displacement
from .ngp import non_gaussian_parameter
from .phop import phop
from .region_dynamics import region_dynamics, region_msd
from .rotation import anion_orientations, deflection_angles, orientation_autocorrelation
from .vanhove import van_hove_distinct, van_hove_self

__all__ = ["nonaffine_displacement", "nonaffine_displacement_series", "cumulative_d2min", "phop", "bond_switching",
           "hop_events", "hop_table", "mean_squared_displacement", "collective_msd", "diffusion_coefficient",
           "conductivity", "nernst_einstein", "arrhenius_fit", "transport_study", "non_gaussian_parameter",
           "van_hove_self", "van_hove_distinct", "region_msd", "region_dynamics", "anion_orientations",
           "orientation_autocorrelation",
           "deflection_angles"]
