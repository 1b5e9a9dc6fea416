"""A scikit-learn transformer that turns trajectory frames into per-atom feature rows.

>>> from sklearn.pipeline import make_pipeline                                   # doctest: +SKIP
>>> from sklearn.linear_model import LogisticRegression
>>> model = make_pipeline(StructureFeaturizer("li_sulfide"), StandardScaler(), LogisticRegression())
>>> model.fit(ds, y)            # y: one label per (frame, Li atom), frame-major

Input ``X`` (to ``fit`` and ``transform``) is one of

- a trajectory ``xarray.Dataset`` (:mod:`ssefeat.data`, with a cell), any number of frames;
- an ``ase.Atoms`` (periodic) or a list of them (one frame each; every one must have the same atoms).

Output: a float64 array with one row per (frame, centre atom), frame-major, centre atoms (the atoms of the centre
species) in trajectory order, and one column per feature (:meth:`get_feature_names_out`). Use
:meth:`StructureFeaturizer.to_dataarray` for the self-describing ``(frame, atom, feature)`` array instead.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..errors import ParameterError, SchemaError
from .parameters import resolve


def as_trajectory(X) -> xr.Dataset:
    """The trajectory Dataset behind a transformer input (Dataset, ase.Atoms or a list of ase.Atoms)."""
    if isinstance(X, xr.Dataset):
        return X
    from ase import Atoms  # a dependency of ssefeat

    if isinstance(X, Atoms):
        X = [X]
    if isinstance(X, (list, tuple)) and X and all(isinstance(a, Atoms) for a in X):
        from ..data import make_trajectory

        symbols = X[0].get_chemical_symbols()
        if any(a.get_chemical_symbols() != symbols for a in X):
            raise SchemaError("the ase.Atoms frames do not all have the same atoms in the same order.",
                              fix="give frames of one system, or transform them one at a time.")
        if not all(np.all(a.pbc) for a in X):
            raise SchemaError("structure features need periodic ase.Atoms (pbc=True on all three axes).",
                              fix="set atoms.pbc = True and give the cell.")
        pos = np.stack([a.get_positions() for a in X])
        cell = np.stack([np.asarray(a.get_cell()) for a in X])
        return make_trajectory(pos, symbols, cell=cell, source="ase.Atoms")
    raise SchemaError(f"StructureFeaturizer takes a trajectory Dataset or ase.Atoms, got {type(X).__name__}.",
                      fix="read the trajectory with ssefeat.io.read(path), or pass ase.Atoms frames.")


class StructureFeaturizer(TransformerMixin, BaseEstimator):
    """Structure functions (and optional descriptors) as a scikit-learn transformer.

    Parameters
    ----------
    params : ParameterSet, dict, JSON path or system name
        Structure-function parameters (:mod:`ssefeat.features.parameters`); default ``"li_sulfide"``.
    centre : str, optional
        Override the parameters' centre species.
    descriptors : None, "auto" or dict
        Add per-atom descriptors (:func:`ssefeat.features.descriptors.descriptors`): ``"auto"`` uses the defaults
        of the parameters' system (``li_sulfide`` / ``kob_andersen``); a dict gives its keyword arguments.
    min_distance : float
        Overlap threshold (length unit).
    n_threads : int, optional
        numba threads.

    Attributes (after fit)
    ----------------------
    parameter_set_ : ParameterSet; feature_names_out_ : array of str; n_features_out_ : int
    """

    def __init__(self, params="li_sulfide", centre=None, descriptors=None, min_distance=0.1, n_threads=None):
        self.params = params
        self.centre = centre
        self.descriptors = descriptors
        self.min_distance = min_distance
        self.n_threads = n_threads

    def _parameter_set(self):
        p = resolve(self.params)
        return p.replace(centre=str(self.centre)) if self.centre is not None else p

    def _descriptor_kwargs(self, p):
        if self.descriptors is None or self.descriptors is False:
            return None
        if self.descriptors == "auto" or self.descriptors is True:
            from .descriptors import DEFAULTS

            if p.name not in DEFAULTS:
                raise ParameterError(f"no descriptor defaults for parameter set {p.name!r}.",
                                     fix="pass descriptors={...} with the keyword arguments of descriptors().")
            return {"system": p.name}
        if isinstance(self.descriptors, dict):
            return dict(self.descriptors)
        raise ParameterError(f"descriptors must be None, 'auto' or a dict, got {self.descriptors!r}.",
                             fix="use descriptors=None (none), 'auto' (the defaults) or a dict of descriptor "
                                 "keyword arguments.")

    def to_dataarray(self, X, parameter_set=None) -> xr.DataArray:
        """The features of ``X`` as a ``(frame, atom, feature)`` DataArray (no fitting needed)."""
        from .assemble import assemble_features

        p = parameter_set or self._parameter_set()
        return assemble_features(as_trajectory(X), p, descriptors=self._descriptor_kwargs(p),
                                 min_distance=self.min_distance, n_threads=self.n_threads)

    def fit(self, X, y=None):
        """Resolve the parameters and learn the feature names (from the first frame of ``X``)."""
        p = self._parameter_set()
        ds = as_trajectory(X)
        first = self.to_dataarray(ds.isel(frame=[0]), p)
        self.parameter_set_ = p
        self.feature_names_out_ = np.asarray(first["feature"].values).astype(object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def transform(self, X) -> np.ndarray:
        """Feature rows of ``X``: (n_frames * n_centre_atoms, n_features), frame-major."""
        check_is_fitted(self, "parameter_set_")
        da = self.to_dataarray(X, self.parameter_set_)
        names = np.asarray(da["feature"].values).astype(object)
        if len(names) != self.n_features_out_ or np.any(names != self.feature_names_out_):
            raise SchemaError("the features of this input differ from those seen in fit (e.g. potential energy "
                              "present in one and not the other).", fix="fit and transform comparable trajectories.")
        return np.asarray(da.values).reshape(-1, da.sizes["feature"])

    def get_feature_names_out(self, input_features=None):
        """Feature names (e.g. ``G_Li-S_mu2.4_L0.1``), in column order."""
        check_is_fitted(self, "parameter_set_")
        return self.feature_names_out_.copy()
