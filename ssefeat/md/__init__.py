"""A compact numba MD engine that makes realistic solid-electrolyte trajectories (the embedded default data source)."""
