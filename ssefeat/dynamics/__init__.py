"""Dynamics: rearrangement labels (D2min, D_cum, p_hop, bond switching, hops) and transport (MSD, D, conductivity, Arrhenius, NGP, van Hove, anion rotation)."""
