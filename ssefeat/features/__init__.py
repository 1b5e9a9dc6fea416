"""Per-atom structure features: structure functions, descriptors, anion clusters and environments, Li-site polyhedra."""
