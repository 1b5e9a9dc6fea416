"""Units and physical constants.

Inside ssefeat: length Å, time ps, energy eV, temperature K, charge e, mass amu.
Reported transport: D in cm^2/s (and Å^2/ps), conductivity in S/cm, activation energies in eV.
The MD engine integrates in "metal-like" units (Å, eV, amu), whose natural time unit is
``TIME_UNIT_PS`` = sqrt(amu Å^2 / eV) ≈ 0.01018 ps.
"""
from __future__ import annotations

import math

BOLTZMANN_EV = 8.617333262e-5  #: k_B in eV/K
ELEMENTARY_CHARGE_C = 1.602176634e-19  #: e in C
AMU_KG = 1.66053906660e-27  #: atomic mass unit in kg
COULOMB_EV_ANGSTROM = 14.399645478425668  #: e^2 / (4 pi eps0) in eV·Å

#: sqrt(amu * Å^2 / eV) in ps
TIME_UNIT_PS = math.sqrt(AMU_KG * 1e-20 / ELEMENTARY_CHARGE_C) * 1e12

NM_TO_ANGSTROM = 10.0
ANGSTROM2_PER_PS_TO_CM2_PER_S = 1e-4  #: 1 Å^2/ps = 1e-16 cm^2 / 1e-12 s
AMU_PER_ANGSTROM3_TO_G_PER_CM3 = AMU_KG * 1e3 / 1e-24  #: 1.66054 g/cm^3
