"""Site-resolved hopping (SCIENCE.md section 11, GEMDAT's conventions).

Sites from a structure file (:func:`sites_from_structure`), an array of fractional coordinates
(:func:`sites_from_fractional`) or the density (:func:`find_sites`); which site each ion occupies
(:func:`site_occupancy`); jumps between sites (:func:`site_jumps`); rates per site-pair type, the transition matrix
and residence times (:mod:`.rates`); the jump diffusivity and the correlation factor (:func:`correlation_factor`);
collective jumps (:func:`collective_jumps`); activation energies per jump type (:func:`jump_arrhenius`); CSM and
volume of each site's anion polyhedron (:func:`site_descriptors`); one run's whole site analysis
(:func:`analyse_run`); a per-ion quantity (softness, environment) of ions about to leave their site against those
that stay (:func:`leaving_contrast`, several at once with :func:`leaving_contrasts`, the cluster environment of a
features Dataset by :func:`environment_quantities`); a LASSO from site descriptors to E_a per jump type pooled over
materials (:func:`barrier_lasso`, C-V-D model).
"""
from .analyse import analyse_run
from .arrhenius import jump_arrhenius
from .barrier_model import barrier_lasso, jump_type_table
from .collective import collective_jumps
from .correlation import correlation_factor, jump_diffusivity
from .density import find_sites
from .descriptors import site_descriptors
from .jumps import site_jumps
from .leaving import environment_quantities, leaving_contrast, leaving_contrasts
from .occupancy import site_occupancy, site_states
from .rates import jump_rates, residence_times, transition_matrix
from .sources import Sites, sites_from_fractional, sites_from_structure

__all__ = ["Sites", "sites_from_fractional", "sites_from_structure", "find_sites", "site_occupancy", "site_states",
           "site_jumps", "jump_rates", "transition_matrix", "residence_times", "jump_diffusivity",
           "correlation_factor", "collective_jumps", "jump_arrhenius", "site_descriptors", "leaving_contrast",
           "leaving_contrasts", "environment_quantities", "jump_type_table", "barrier_lasso", "analyse_run"]
