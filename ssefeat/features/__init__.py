"""Per-atom structure features: structure functions, descriptors, anion clusters and environments, Li-site polyhedra.

Conventions (see each function's docstring):

- structure functions: radial G(i; mu, L, Y) and angular Psi(i; xi, lambda, zeta, Y, Z) over *unordered* neighbour
  pairs (dscribe's G4 = 2^(1-zeta) Psi with eta = 1/xi^2); feature parameters are coordinates on the ``feature``
  dim (kind, centre, species_j, species_k, mu, L, xi, lambda, zeta, cutoff, cutoff_function); atoms with no
  neighbours get 0, never NaN;
- clusters: connected components of a bond graph with pair cutoffs (P-S 2.6 Å, P-P 2.6 Å), labelled by formula
  and bond topology, whole across the periodic boundary, ids tracked across frames;
- CSM: Pinsky-Avnir as in pymatgen ChemEnv (scale on the real points, normalised by the ideal ones; the centre
  atom included by default, ``include_centre=False`` for the vertices-only form).
"""
from .clusters import ClusterFinder, cluster_counts, cluster_members, find_clusters
from .descriptors import (concat_features, coordination_numbers, descriptors, local_density, potential_energy,
                          steinhardt, voronoi_volume)
from .environment import cluster_environment
from .parameters import ParameterSet, kob_andersen, li_li, li_sulfide
from .polyhedra import hull_volume, li_polyhedra
from .structure_functions import structure_functions
from .table import read_table, to_dataframe, write_table
from .transformer import StructureFeaturizer

__all__ = ["structure_functions", "ParameterSet", "li_sulfide", "li_li", "kob_andersen", "descriptors",
           "concat_features",
           "coordination_numbers", "voronoi_volume", "steinhardt", "local_density", "potential_energy",
           "find_clusters", "ClusterFinder", "cluster_counts", "cluster_members", "cluster_environment",
           "li_polyhedra", "hull_volume", "StructureFeaturizer", "write_table", "read_table", "to_dataframe"]
