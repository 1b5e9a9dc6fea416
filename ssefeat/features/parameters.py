"""Structure-function parameter sets: data objects that say exactly which features a table holds.

A :class:`ParameterSet` is a frozen dataclass of grids (centre species, neighbour species, mu, L, xi, lambda,
zeta, cutoffs). It round-trips through JSON, has a stable :attr:`~ParameterSet.fingerprint`, and expands into
one row per feature (:meth:`~ParameterSet.feature_coords`) that is stored as coordinates on the ``feature`` dim
of every result, so a feature table describes itself and a saved model can check it was given the same features
(:meth:`ParameterSet.from_feature_coords`).

Feature order (also the kernel layout): radial features first, ``for Y in radial_species, for mu, for L``; then
angular features, ``for (Y, Z) in angular_species, for xi, for lambda, for zeta``.

Every feature (structure functions and the descriptors of :mod:`ssefeat.features.descriptors`) carries the same
coordinates, :data:`FEATURE_COORDS`, with a neutral fill value where a parameter does not apply, so feature
arrays of different kinds concatenate along ``feature`` without losing their description.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..errors import MissingFileError, ModelFileError, ParameterError

#: Coordinates on the ``feature`` dim of every feature array, with the fill value used where they do not apply.
FEATURE_COORDS: dict[str, Any] = {
    "kind": "",              # "radial", "angular", "coordination", "voronoi_volume", "steinhardt", ...
    "centre": "",            # species of the centre atoms ("" = any)
    "species_j": "",         # neighbour species Y
    "species_k": "",         # second neighbour species Z (angular)
    "mu": math.nan,          # radial shell centre, length unit
    "L": math.nan,           # radial shell width, length unit
    "xi": math.nan,          # angular Gaussian width, length unit
    "lambda": math.nan,      # angular sign, +1 or -1
    "zeta": math.nan,        # angular exponent
    "l": math.nan,           # Steinhardt order
    "cutoff": math.nan,      # cutoff radius, length unit
    "cutoff_function": "",   # "hard" or "cosine"
    "feature_units": "",     # units of the feature values
}

CUTOFF_FUNCTIONS = ("hard", "cosine")
LENGTH_UNITS = ("angstrom", "sigma")
_FORMAT_VERSION = 1


def _fmt(x: float) -> str:
    return f"{float(x):.6g}"


def _floats(values, name: str) -> tuple[float, ...]:
    if values is None:
        return ()
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if not np.isfinite(arr).all():
        raise ParameterError(f"{name} contains NaN or infinite values: {arr.tolist()}.",
                             fix=f"give {name} as finite numbers only.")
    if len(np.unique(arr)) != len(arr):
        raise ParameterError(f"{name} contains repeated values: {arr.tolist()}.",
                             fix=f"give each {name} value once.")
    return tuple(float(v) for v in arr)


def _species(values, name: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    out = tuple(str(v) for v in values)
    if len(set(out)) != len(out):
        raise ParameterError(f"{name} lists a species twice: {list(out)}.", fix=f"list each species of {name} once.")
    if any(not s for s in out):
        raise ParameterError(f"{name} contains an empty species label.",
                             fix=f"use non-empty species labels in {name}, as in the trajectory's species.")
    return out


def _pairs(values) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    out = []
    for pair in values:
        if isinstance(pair, str):
            pair = pair.split("-") if "-" in pair else (pair, pair)
        pair = tuple(str(s) for s in pair)
        if len(pair) != 2 or not all(pair):
            raise ParameterError(f"angular_species entry {pair!r} is not a pair of species (Y, Z).",
                                 fix="give pairs such as ('Li', 'Li') or ('Li', 'S').")
        canon = tuple(sorted(pair))  # Psi(Y, Z) == Psi(Z, Y): keep one canonical order
        if canon in out:
            raise ParameterError(f"angular_species lists the pair {canon} twice (pairs are unordered).",
                                 fix="list each unordered pair of angular_species once.")
        out.append(canon)
    return tuple(out)


@dataclass(frozen=True)
class ParameterSet:
    """Which structure functions to compute (Cubuk et al. 2015; Behler 2011).

    For a centre atom i of species ``centre`` and neighbours j, k within the cutoffs (minimum image):

    - radial ``G(i; mu, L, Y) = sum_{j in Y} exp(-(r_ij - mu)^2 / (2 L^2)) fc(r_ij)``
      for every Y in ``radial_species``, mu in ``mu``, L in ``width``;
    - angular ``Psi(i; xi, lambda, zeta, Y, Z) = sum_{unordered pairs {j, k}, j in Y, k in Z}
      exp(-(r_ij^2 + r_ik^2 + r_jk^2) / xi^2) (1 + lambda cos theta_jik)^zeta fc(r_ij) fc(r_ik) fc_jk``
      for every (Y, Z) in ``angular_species``, xi, lambda, zeta. Each unordered pair of distinct atoms counts once
      (codes that sum over ordered pairs get twice this value); for Y != Z every (j in Y, k in Z) counts once.
      theta_jik is the angle at i between r_ij and r_ik; r_jk = |r_ik - r_ij|, the side of the triangle of the two
      neighbour images (as dscribe's extended cell), never the minimum image of another copy of k, so that the
      features of an environment do not depend on the cell size.

    Distances r_ij are minimum-image separations (triclinic cells included); cutoffs must stay below half the
    smallest perpendicular cell width. A centre atom with no neighbour in range gets 0 for every feature.

    ``cutoff_function="hard"``: fc = 1 below the cutoff and fc_jk = 1 (only r_ij, r_ik are limited: j and k are the
    centre's neighbours). ``"cosine"`` (Behler, dscribe): fc(r) = 0.5 (cos(pi r / r_c) + 1) for r < r_c and
    fc_jk = fc(r_jk), as in dscribe's G2 / G4.

    Attributes
    ----------
    centre : str
        Species of the centre atoms (features are computed for these atoms only).
    radial_species, mu, width :
        Neighbour species Y, shell centres mu and widths L (length unit) of the radial functions.
    angular_species, xi, lambdas, zeta :
        Unordered neighbour species pairs (Y, Z), Gaussian widths xi (length unit), lambda (in [-1, 1], normally
        +1 / -1) and exponents zeta (> 0) of the angular functions.
    radial_cutoff, angular_cutoff : float
        Cutoffs r_c (length unit); ``angular_cutoff=None`` uses ``radial_cutoff``.
    cutoff_function : "hard" or "cosine"
    length_unit : "angstrom" or "sigma" (reduced Lennard-Jones units; the numbers are used as given)
    name : str
        A label (``"li_sulfide"``, ...); not part of the fingerprint.
    """

    centre: str = "Li"
    radial_species: tuple[str, ...] = ()
    mu: tuple[float, ...] = ()
    width: tuple[float, ...] = ()
    angular_species: tuple[tuple[str, str], ...] = ()
    xi: tuple[float, ...] = ()
    lambdas: tuple[float, ...] = ()
    zeta: tuple[float, ...] = ()
    radial_cutoff: float = 7.0
    angular_cutoff: float | None = None
    cutoff_function: str = "hard"
    length_unit: str = "angstrom"
    name: str = "custom"

    def __post_init__(self):
        set_ = object.__setattr__
        if not isinstance(self.centre, str) or not self.centre:
            raise ParameterError(f"centre must be a species label, got {self.centre!r}.",
                                 fix="set centre to the species label of the centre atoms, e.g. centre='Li'.")
        set_(self, "radial_species", _species(self.radial_species, "radial_species"))
        set_(self, "mu", _floats(self.mu, "mu"))
        set_(self, "width", _floats(self.width, "width"))
        set_(self, "angular_species", _pairs(self.angular_species))
        set_(self, "xi", _floats(self.xi, "xi"))
        set_(self, "lambdas", _floats(self.lambdas, "lambdas"))
        set_(self, "zeta", _floats(self.zeta, "zeta"))
        set_(self, "radial_cutoff", float(self.radial_cutoff))
        set_(self, "angular_cutoff", float(self.radial_cutoff if self.angular_cutoff is None
                                           else self.angular_cutoff))
        set_(self, "name", str(self.name))
        if self.cutoff_function not in CUTOFF_FUNCTIONS:
            raise ParameterError(f"cutoff_function must be one of {CUTOFF_FUNCTIONS}, got {self.cutoff_function!r}.",
                                 fix=f"use cutoff_function one of {CUTOFF_FUNCTIONS}.")
        if self.length_unit not in LENGTH_UNITS:
            raise ParameterError(f"length_unit must be one of {LENGTH_UNITS}, got {self.length_unit!r}.",
                                 fix=f"use length_unit one of {LENGTH_UNITS}.")
        for nm in ("radial_cutoff", "angular_cutoff"):
            v = getattr(self, nm)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"{nm} must be a positive length, got {v}.",
                                     fix=f"give {nm} as a finite length > 0 in the length unit.")
        if self.radial_species and not (self.mu and self.width):
            raise ParameterError("radial_species are given but mu or width (L) is empty.",
                                 fix="give a mu grid and at least one width, or no radial_species.")
        if any(w <= 0 for w in self.width):
            raise ParameterError(f"radial widths L must be positive, got {list(self.width)}.",
                                 fix="give every radial width (width, L) > 0 in the length unit.")
        if self.angular_species and not (self.xi and self.lambdas and self.zeta):
            raise ParameterError("angular_species are given but xi, lambdas or zeta is empty.",
                                 fix="give at least one xi, lambda and zeta, or no angular_species.")
        if any(x <= 0 for x in self.xi):
            raise ParameterError(f"angular widths xi must be positive, got {list(self.xi)}.",
                                 fix="give every angular width xi > 0 in the length unit.")
        if any(abs(v) > 1 for v in self.lambdas):
            raise ParameterError(f"lambda must lie in [-1, 1] so that 1 + lambda cos(theta) >= 0, got "
                                 f"{list(self.lambdas)}.", fix="use lambdas=(-1, 1).")
        if any(z <= 0 for z in self.zeta):
            raise ParameterError(f"zeta must be positive, got {list(self.zeta)}.",
                                 fix="give every zeta > 0, e.g. zeta=(1, 2, 4).")
        if self.n_features == 0:
            raise ParameterError("the parameter set defines no feature.",
                                 fix="give radial_species with mu and width, and/or angular_species with xi, "
                                     "lambdas and zeta.")
        names = self.feature_names()
        if len(set(names)) != len(names):
            raise ParameterError("two features get the same name (grid values closer than 6 significant digits).",
                                 fix="use distinct mu / L / xi / zeta values.")

    # --- sizes ------------------------------------------------------------------------------------
    @property
    def n_radial(self) -> int:
        return len(self.radial_species) * len(self.mu) * len(self.width)

    @property
    def n_angular(self) -> int:
        return len(self.angular_species) * len(self.xi) * len(self.lambdas) * len(self.zeta)

    @property
    def n_features(self) -> int:
        return self.n_radial + self.n_angular

    @property
    def cutoff(self) -> float:
        """The largest cutoff (what the neighbour search needs)."""
        return max(self.radial_cutoff if self.n_radial else 0.0, self.angular_cutoff if self.n_angular else 0.0)

    @property
    def neighbour_species(self) -> tuple[str, ...]:
        """Every species used as a neighbour, in order of first mention."""
        return tuple(dict.fromkeys(list(self.radial_species) + [s for p in self.angular_species for s in p]))

    @property
    def species(self) -> tuple[str, ...]:
        """Centre and neighbour species."""
        return tuple(dict.fromkeys((self.centre,) + self.neighbour_species))

    @property
    def units(self) -> str:
        return self.length_unit  # "angstrom" or "sigma" (checked in __post_init__)

    # --- features ---------------------------------------------------------------------------------
    def _rows(self) -> list[dict]:
        rows = []
        c, fcut = self.centre, self.cutoff_function
        for y in self.radial_species:
            for m in self.mu:
                for w in self.width:
                    rows.append(dict(FEATURE_COORDS, kind="radial", centre=c, species_j=y, mu=m, L=w,
                                     cutoff=self.radial_cutoff, cutoff_function=fcut, feature_units="1",
                                     name=f"G_{c}-{y}_mu{_fmt(m)}_L{_fmt(w)}"))
        for y, z in self.angular_species:
            for x in self.xi:
                for lam in self.lambdas:
                    for zt in self.zeta:
                        rows.append(dict(FEATURE_COORDS, kind="angular", centre=c, species_j=y, species_k=z,
                                         xi=x, zeta=zt, cutoff=self.angular_cutoff, cutoff_function=fcut,
                                         feature_units="1",
                                         name=f"Psi_{c}-{y}-{z}_xi{_fmt(x)}_lam{lam:+.6g}_zeta{_fmt(zt)}",
                                         **{"lambda": lam}))
        return rows

    def feature_names(self) -> list[str]:
        """Readable unique names, e.g. ``G_Li-S_mu2.4_L0.1`` and ``Psi_Li-Li-Li_xi3_lam+1_zeta2``."""
        return [r["name"] for r in self._rows()]

    def feature_coords(self) -> dict[str, tuple]:
        """Coordinates for the ``feature`` dim: ``{"feature": names, "kind": ..., "mu": ..., ...}``."""
        return rows_to_coords(self._rows())

    # --- serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["angular_species"] = [list(p) for p in self.angular_species]
        for k in ("radial_species", "mu", "width", "xi", "lambdas", "zeta"):
            d[k] = list(d[k])
        d["format_version"] = _FORMAT_VERSION
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "ParameterSet":
        data = dict(data)
        version = data.pop("format_version", _FORMAT_VERSION)
        data.pop("fingerprint", None)
        if int(version) > _FORMAT_VERSION:
            raise ModelFileError(f"the parameter set has format version {version}; this ssefeat reads up to "
                                 f"{_FORMAT_VERSION}.", fix="upgrade ssefeat.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"unknown structure-function parameters {unknown}.",
                                 fix=f"use only {sorted(known)}.")
        return cls(**data)

    def to_json(self, path=None, indent: int | None = 2) -> str:
        """The parameter set as JSON (with its fingerprint); written atomically to ``path`` when given."""
        d = self.to_dict()
        d["fingerprint"] = self.fingerprint
        text = json.dumps(d, indent=indent, sort_keys=True)
        if path is not None:
            from ..io.atomic import atomic_output

            with atomic_output(path) as tmp:
                Path(tmp).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, text_or_path) -> "ParameterSet":
        """Read a parameter set from a JSON string or file."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            p = Path(text)
            if not p.exists():
                raise MissingFileError(f"parameter file {p} does not exist.",
                                       fix="check the path, or pass the parameters as a JSON string or a "
                                           "built-in set name.")
            text = p.read_text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ParameterError(f"the structure-function parameters are not valid JSON: {err}.",
                                 fix="give a path to a JSON file, a valid JSON object, or a built-in parameter "
                                     "set name.") from None
        stored = data.get("fingerprint")
        out = cls.from_dict(data)
        if stored is not None and stored != out.fingerprint:
            raise ModelFileError(f"the parameter file's fingerprint {stored} does not match its content "
                                 f"({out.fingerprint}); it was edited by hand or is corrupt.",
                                 fix="remove the 'fingerprint' entry if the edit was intended.")
        return out

    @property
    def fingerprint(self) -> str:
        """A stable 16-hex-digit hash of everything that changes the feature values (not ``name``)."""
        d = self.to_dict()
        d.pop("name")
        d.pop("format_version")
        canon = json.dumps(d, sort_keys=True, separators=(",", ":"), default=repr)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]

    def replace(self, **changes) -> "ParameterSet":
        """A copy with some fields changed (e.g. ``params.replace(centre="Na")``)."""
        return dataclasses.replace(self, **changes)

    # --- from a feature array ---------------------------------------------------------------------
    @classmethod
    def from_feature_coords(cls, features) -> "ParameterSet":
        """Rebuild the parameter set from the ``feature`` coordinates of a feature DataArray / Dataset.

        Only radial and angular features are used (descriptors beside them are ignored). Raises
        :class:`~ssefeat.errors.ParameterError` when the structure functions are not a complete grid in the
        canonical order (e.g. a subset of features was selected), since no parameter set reproduces them.
        """
        if "kind" not in features.coords:
            raise ParameterError("the array has no 'kind' coordinate on 'feature': it was not made by ssefeat "
                                 "structure_functions (or its coordinates were dropped).",
                                 fix="pass the unmodified output of structure_functions(...), or give the "
                                     "parameters explicitly.")
        kind = np.asarray(features["kind"].values).astype(str)
        sf = np.flatnonzero((kind == "radial") | (kind == "angular"))
        if not len(sf):
            raise ParameterError("the array holds no structure functions (no 'radial' or 'angular' feature).",
                                 fix="pass the output of structure_functions(...) (select its radial / angular "
                                     "features).")

        def col(name):
            return np.asarray(features[name].values)[sf]

        k = kind[sf]
        rad, ang = k == "radial", k == "angular"
        centres = np.unique(col("centre").astype(str))
        if len(centres) != 1:
            raise ParameterError(f"the structure functions mix centre species {centres.tolist()}.",
                                 fix="select one centre species (features.sel(...)) before reading the parameters.")
        fcuts = np.unique(col("cutoff_function").astype(str))
        if len(fcuts) != 1:
            raise ParameterError(f"the structure functions mix cutoff functions {fcuts.tolist()}.",
                                 fix="select the features of one cutoff function before reading the parameters.")

        def uniq(values):
            return list(dict.fromkeys(values.tolist()))

        cut = col("cutoff").astype(float)
        stored = {}
        raw = features.attrs.get("parameter_set")
        if raw:
            try:
                stored = json.loads(raw)
            except json.JSONDecodeError:
                stored = {}
        out = cls(
            centre=str(centres[0]),
            radial_species=uniq(col("species_j").astype(str)[rad]),
            mu=uniq(col("mu").astype(float)[rad]),
            width=uniq(col("L").astype(float)[rad]),
            angular_species=list(dict.fromkeys(zip(col("species_j").astype(str)[ang].tolist(),
                                                   col("species_k").astype(str)[ang].tolist()))),
            xi=uniq(col("xi").astype(float)[ang]),
            lambdas=uniq(col("lambda").astype(float)[ang]),
            zeta=uniq(col("zeta").astype(float)[ang]),
            radial_cutoff=float(cut[rad][0]) if rad.any() else float(cut[ang][0]),
            angular_cutoff=float(cut[ang][0]) if ang.any() else None,
            cutoff_function=str(fcuts[0]),
            length_unit=stored.get("length_unit", "angstrom"),
            name=stored.get("name", "custom"),
        )
        expected = out.feature_coords()
        ok = len(expected["feature"][1]) == len(sf)
        if ok:
            for name, (_, values) in expected.items():
                got = col(name)
                if np.asarray(values).dtype.kind == "f":
                    ok &= np.allclose(got.astype(float), values, rtol=1e-12, atol=0, equal_nan=True)
                else:
                    ok &= bool(np.all(got.astype(str) == np.asarray(values).astype(str)))
        if not ok:
            raise ParameterError("the structure-function features are not a complete parameter grid in ssefeat "
                                 "order (a subset was selected or they were reordered).",
                                 fix="keep all structure-function features of the table, in their order.")
        return out


def rows_to_coords(rows: Iterable[dict]) -> dict[str, tuple]:
    """Turn feature rows (dicts with ``name`` and :data:`FEATURE_COORDS` keys) into ``feature`` coordinates."""
    rows = list(rows)
    coords: dict[str, tuple] = {"feature": ("feature", np.array([r["name"] for r in rows], dtype=str))}
    for key, fill in FEATURE_COORDS.items():
        values = [r.get(key, fill) for r in rows]
        dtype = np.float64 if isinstance(fill, float) else str
        coords[key] = ("feature", np.array(values, dtype=dtype))
    return coords


def li_sulfide(centre: str = "Li", neighbours=("Li", "S"), cutoff_function: str = "hard") -> ParameterSet:
    """Defaults for Li thiophosphates (Li2S-P2S5 glasses and glass-ceramics), Å.

    Centre Li; radial functions of each neighbour species (default Li and S) with mu = 1.5, 1.6, ..., 6.5 Å and
    L = 0.1 Å, cutoff 7 Å; angular functions of the pairs (first neighbour species, Y) for Y in ``neighbours``
    (Li-Li and Li-S) with xi = 3, 4 Å, lambda = +-1, zeta = 1, 2, cutoff 4.5 Å (first shells).
    102 radial + 16 angular features. The thesis computed Li softness from Li-Li structure only:
    ``li_sulfide(neighbours=("Li",))`` (51 + 8 features).
    """
    neighbours = _species(neighbours, "neighbours")
    return ParameterSet(centre=centre, radial_species=neighbours, mu=np.round(np.arange(1.5, 6.501, 0.1), 10),
                        width=(0.1,), angular_species=tuple((neighbours[0], y) for y in neighbours),
                        xi=(3.0, 4.0), lambdas=(-1.0, 1.0), zeta=(1.0, 2.0), radial_cutoff=7.0, angular_cutoff=4.5,
                        cutoff_function=cutoff_function, length_unit="angstrom", name="li_sulfide")


def kob_andersen(centre: str = "A", neighbours=("A", "B"), cutoff_function: str = "hard") -> ParameterSet:
    """Defaults for the Kob-Andersen binary Lennard-Jones glass, reduced units (sigma_AA = 1).

    Centre A; radial functions of each neighbour species (default A and B) with mu = 0.1, 0.2, ..., 3.0 sigma and
    L = 0.1 sigma, cutoff 3.5 sigma; angular functions of every pair of neighbour species (A-A, A-B, B-B) with
    xi = 1.5, 2.0, lambda = +-1, zeta = 1, 2, cutoff 2.5 sigma. 60 radial + 24 angular features.
    """
    neighbours = _species(neighbours, "neighbours")
    pairs = tuple((a, b) for i, a in enumerate(neighbours) for b in neighbours[i:])
    return ParameterSet(centre=centre, radial_species=neighbours, mu=np.round(np.arange(0.1, 3.001, 0.1), 10),
                        width=(0.1,), angular_species=pairs, xi=(1.5, 2.0),
                        lambdas=(-1.0, 1.0), zeta=(1.0, 2.0), radial_cutoff=3.5, angular_cutoff=2.5,
                        cutoff_function=cutoff_function, length_unit="sigma", name="kob_andersen")


def kob_andersen_radial(centre: str = "A", neighbours=("A", "B"), cutoff_function: str = "hard") -> ParameterSet:
    """The radial part of :func:`kob_andersen`: mu = 0.1, 0.2, ..., 3.0 sigma, L = 0.1 sigma, cutoff 3.5 sigma,
    one set per neighbour species (default A and B: 60 features). The feature set of the shipped Kob-Andersen
    softness model (``models/kob_andersen_A_phop.json``), after Cubuk et al. (2015) / Schoenholz et al. (2016).
    """
    return kob_andersen(centre=centre, neighbours=neighbours, cutoff_function=cutoff_function).replace(
        angular_species=(), xi=(), lambdas=(), zeta=(), angular_cutoff=None, name="kob_andersen_radial")


def li_li(centre: str = "Li", cutoff_function: str = "hard") -> ParameterSet:
    """Li softness from the surrounding Li atoms only, as the thesis computed it (seeds/003 ch. 5.1.3): the
    :func:`li_sulfide` grids with Li neighbours only, radial mu = 1.5-6.5 Å (L = 0.1 Å, cutoff 7 Å) and angular
    Li-Li-Li xi = 3, 4 Å, lambda = +-1, zeta = 1, 2 (cutoff 4.5 Å): 51 + 8 features. P and S never enter."""
    return li_sulfide(centre=centre, neighbours=("Li",), cutoff_function=cutoff_function).replace(name="li_li")


SYSTEMS = {"li_sulfide": li_sulfide, "li_li": li_li, "kob_andersen": kob_andersen,
           "kob_andersen_radial": kob_andersen_radial}


def resolve(params=None, system: str | None = None) -> ParameterSet:
    """A ParameterSet from a ParameterSet, a dict, a JSON string / file path, or a system name."""
    if isinstance(params, ParameterSet):
        return params
    if isinstance(params, dict):
        return ParameterSet.from_dict(params)
    if isinstance(params, (str, Path)):
        return SYSTEMS[str(params)]() if str(params) in SYSTEMS else ParameterSet.from_json(params)
    if params is None:
        system = system or "li_sulfide"
        if system not in SYSTEMS:
            raise ParameterError(f"unknown system {system!r}.", fix=f"use one of {sorted(SYSTEMS)} or give params.")
        return SYSTEMS[system]()
    raise ParameterError(f"cannot make structure-function parameters from {type(params).__name__}.",
                         fix="pass a ParameterSet, a dict, a JSON file or a system name.")
