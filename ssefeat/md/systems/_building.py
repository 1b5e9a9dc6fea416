"""Building blocks of the electrolyte systems: parameter sets, rigid anion templates, random packing, crystals.

Everything here is plain numpy on small arrays (building happens once per system). Atom order of a built system:
anions first (each anion's atoms contiguous, P before S), then Li, so the topology is reproducible from the list of
anion kinds alone (what the system registry stores to rebuild a force field on restart).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from ...errors import ParameterError
from ...units import AMU_PER_ANGSTROM3_TO_G_PER_CM3
from ..bonded import HarmonicAngles, HarmonicBonds
from ..forcefield import ForceField
from ..pair_ionic import IonicPair, exclusions_from_topology, pair_key

ANION_KINDS = ("PS4", "P2S7", "P2S6")
ANION_CHARGE = {"PS4": -3.0, "P2S7": -4.0, "P2S6": -4.0}


# ------------------------------------------------------------------------------------------------ parameter sets
def load_parameters(name: str = "lips") -> dict:
    """A parameter set from ``ssefeat/md/params/<name>.json`` (or a path to a JSON file), checked.

    Raises ParameterError for an unknown set or one that lacks a required section.
    """
    if os.path.sep in name or name.endswith(".json"):
        path = name
        try:
            with open(path) as fh:
                data = json.load(fh)
        except FileNotFoundError as err:
            raise ParameterError(f"parameter file {path} does not exist.",
                                 fix="check the path, or use a built-in parameter set name.") from err
    else:
        try:
            text = resources.files("ssefeat.md").joinpath("params", f"{name}.json").read_text()
        except (FileNotFoundError, OSError) as err:
            known = sorted(p.name[:-5] for p in resources.files("ssefeat.md").joinpath("params").iterdir()
                           if p.name.endswith(".json"))
            raise ParameterError(f"unknown parameter set {name!r}; known: {known}.",
                                 fix="pick a listed set or pass the path of a JSON file.") from err
        data = json.loads(text)
    for key in ("buckingham", "coulomb", "charges"):
        if key not in data:
            raise ParameterError(f"parameter set {name!r} has no {key!r} section.",
                                 fix="give the parameter set buckingham, coulomb and charges sections (see the "
                                     "built-in sets).")
    return data


def ionic_term(params: dict, excluded=None, cutoff: float | None = None, buck_cutoff: float | None = None,
               alpha: float | None = None) -> IonicPair:
    """The Buckingham + DSF term of a parameter set (cutoffs and alpha may be overridden, e.g. for small boxes)."""
    coul = params["coulomb"]
    buck = params["buckingham"]
    rc = float(coul["cutoff"] if cutoff is None else cutoff)
    brc = float(buck.get("cutoff", rc) if buck_cutoff is None else buck_cutoff)
    return IonicPair(buck["pairs"], cutoff=rc, buck_cutoff=min(brc, rc),
                     alpha=float(coul["alpha"] if alpha is None else alpha),
                     shift=buck.get("shift", "force"), excluded=excluded,
                     exclusion_coulomb=coul.get("exclusion_coulomb", "full"))


# ------------------------------------------------------------------------------------------------ geometry helpers
def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation matrix (from a random unit quaternion)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _rotation_about(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def _align(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation matrix R with R @ u parallel to v."""
    u = u / np.linalg.norm(u)
    v = v / np.linalg.norm(v)
    c = float(u @ v)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis)
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(u, [1.0, 0, 0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(u, [0, 1.0, 0])
        return _rotation_about(perp, math.pi)
    return _rotation_about(axis, math.atan2(s, c))


TETRA = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float) / math.sqrt(3)


# ------------------------------------------------------------------------------------------------ anion templates
@dataclass
class Template:
    """A rigid anion: species, site labels (for charges), Cartesian positions centred on the centroid (Å), and
    its bonds / angles with type labels (keys of the parameter set's ``bonds`` / ``angles``)."""

    kind: str
    species: list
    sites: list
    positions: np.ndarray
    bonds: list = field(default_factory=list)  # (i, j, type)
    angles: list = field(default_factory=list)  # (i, j, k, type), j the vertex

    @property
    def n_atoms(self) -> int:
        return len(self.species)


def _tetra_angles(centre: int, ligands: list, label: str) -> list:
    return [(a, centre, b, label) for k, a in enumerate(ligands) for b in ligands[k + 1:]]


def bond_length(params: dict, kind: str) -> float:
    """The bond length (Å) a structure is built with: the parameter set's ``length`` (the crystal value its r0 is
    calibrated to give in the condensed phase), or r0 where no length is given."""
    bond = params["bonds"][kind]
    return float(bond.get("length", bond["r0"]))


def anion_template(kind: str, params: dict) -> Template:
    """Ideal geometry of PS4 (3-), P2S7 (4-, corner-sharing, bridging S) or P2S6 (4-, P-P bonded, staggered).

    Bond lengths are the parameter set's condensed-phase lengths (:func:`bond_length`), angles its theta0.
    """
    angles = params["angles"]
    if kind == "PS4":
        r = bond_length(params, "P-S")
        pos = np.vstack([[0.0, 0.0, 0.0], r * TETRA])
        return Template("PS4", ["P", "S", "S", "S", "S"], ["P", "S", "S", "S", "S"], pos,
                        [(0, k, "P-S") for k in range(1, 5)], _tetra_angles(0, [1, 2, 3, 4], "S-P-S"))
    if kind == "P2S7":
        rb, rt = bond_length(params, "P-Sb"), bond_length(params, "P-S")
        theta = math.radians(angles["P-Sb-P"]["theta0"])
        # bridging S at the origin, the two P in the xz plane symmetric about z
        p1 = rb * np.array([math.sin(theta / 2), 0.0, -math.cos(theta / 2)])
        p2 = rb * np.array([-math.sin(theta / 2), 0.0, -math.cos(theta / 2)])
        best = None
        for phi in np.linspace(0, 2 * math.pi / 3, 25, endpoint=False):
            s_all = []
            for p, sign in ((p1, 1.0), (p2, -1.0)):
                rot = _align(TETRA[0], -p)  # one tetrahedron vertex points from P to the bridging S
                spin = _rotation_about(-p, sign * phi)
                s_all.append(p + (spin @ rot @ (rt * TETRA[1:]).T).T)
            dmin = np.min(np.linalg.norm(s_all[0][:, None, :] - s_all[1][None, :, :], axis=-1))
            if best is None or dmin > best[0]:
                best = (dmin, s_all)
        s1, s2 = best[1]
        pos = np.vstack([p1, p2, [0.0, 0.0, 0.0], s1, s2])
        species = ["P", "P", "S"] + ["S"] * 6
        sites = ["P", "P", "Sb"] + ["St"] * 6
        bnd = [(0, 2, "P-Sb"), (1, 2, "P-Sb")] + [(0, k, "P-S") for k in (3, 4, 5)] + [(1, k, "P-S") for k in (6, 7, 8)]
        ang = (_tetra_angles(0, [3, 4, 5], "S-P-S") + _tetra_angles(1, [6, 7, 8], "S-P-S")
               + [(2, 0, k, "Sb-P-S") for k in (3, 4, 5)] + [(2, 1, k, "Sb-P-S") for k in (6, 7, 8)]
               + [(0, 2, 1, "P-Sb-P")])
        return Template("P2S7", species, sites, pos - pos.mean(axis=0), bnd, ang)
    if kind == "P2S6":
        rpp, rt = bond_length(params, "P-P"), bond_length(params, "P-S")
        phi = math.radians(angles["S-P-P"]["theta0"])
        p1 = np.array([0.0, 0.0, rpp / 2])
        p2 = -p1
        s = []
        for p, up, offset in ((p1, 1.0, 0.0), (p2, -1.0, math.pi / 3)):  # staggered
            for m in range(3):
                az = offset + 2 * math.pi * m / 3
                # angle phi between P->S and P->P' (which points along -up z)
                d = np.array([math.sin(math.pi - phi) * math.cos(az), math.sin(math.pi - phi) * math.sin(az),
                              up * math.cos(math.pi - phi)])
                s.append(p + rt * d)
        pos = np.vstack([p1, p2, s])
        species = ["P", "P"] + ["S"] * 6
        bnd = [(0, 1, "P-P")] + [(0, k, "P-S") for k in (2, 3, 4)] + [(1, k, "P-S") for k in (5, 6, 7)]
        ang = (_tetra_angles(0, [2, 3, 4], "S-P-S(P2S6)") + _tetra_angles(1, [5, 6, 7], "S-P-S(P2S6)")
               + [(1, 0, k, "S-P-P") for k in (2, 3, 4)] + [(0, 1, k, "S-P-P") for k in (5, 6, 7)])
        return Template("P2S6", species, species[:], pos, bnd, ang)
    raise ParameterError(f"unknown anion {kind!r}.", fix=f"use one of {ANION_KINDS}.")


def template_charges(template: Template, params: dict) -> np.ndarray:
    """Partial charges (e) of a template's atoms from the parameter set; they sum to the anion's formal charge."""
    table = params["charges"].get(template.kind)
    if table is None:
        raise ParameterError(f"the parameter set has no charges for {template.kind}.",
                             fix=f"add a charges.{template.kind} table to the parameter set.")
    try:
        q = np.array([float(table[s]) for s in template.sites])
    except KeyError as err:
        raise ParameterError(f"the parameter set has no charge for site {err} of {template.kind}.",
                             fix=f"add the charge of site {err} to charges.{template.kind} in the parameter "
                                 f"set.") from err
    if abs(q.sum() - ANION_CHARGE[template.kind]) > 1e-6:
        raise ParameterError(f"charges of {template.kind} sum to {q.sum():.6g}, not {ANION_CHARGE[template.kind]}.",
                             fix="make the site charges of each anion add up to its formal charge.")
    return q


# ------------------------------------------------------------------------------------------------ topology
@dataclass
class Topology:
    """Atoms, charges, bonds and angles of a built system (indices into the atom list)."""

    species: np.ndarray
    charges: np.ndarray
    molecule: np.ndarray  # anion index per atom, -1 for Li
    bonds: np.ndarray
    bond_types: list
    angles: np.ndarray
    angle_types: list
    anions: list  # kinds in atom order

    @property
    def n_atoms(self) -> int:
        return len(self.species)


def build_topology(anions: list, n_li: int, params: dict) -> tuple[Topology, list]:
    """Topology of ``anions`` (list of kinds, in order) followed by ``n_li`` Li; also the templates used."""
    species, charges, molecule, bonds, btypes, angles, atypes, temps = [], [], [], [], [], [], [], []
    cache = {}
    for m, kind in enumerate(anions):
        if kind not in cache:
            t = anion_template(kind, params)
            cache[kind] = (t, template_charges(t, params))
        t, q = cache[kind]
        base = len(species)
        species += t.species
        charges += list(q)
        molecule += [m] * t.n_atoms
        for i, j, typ in t.bonds:
            bonds.append((base + i, base + j))
            btypes.append(typ)
        for i, j, k, typ in t.angles:
            angles.append((base + i, base + j, base + k))
            atypes.append(typ)
        temps.append(t)
    q_li = float(params["charges"]["Li"])
    species += ["Li"] * n_li
    charges += [q_li] * n_li
    molecule += [-1] * n_li
    topo = Topology(np.array(species), np.array(charges, dtype=float), np.array(molecule, dtype=np.int64),
                    np.array(bonds, dtype=np.int64).reshape(-1, 2), btypes,
                    np.array(angles, dtype=np.int64).reshape(-1, 3), atypes, list(anions))
    return topo, temps


def bonded_terms(topo: Topology, params: dict) -> list:
    """HarmonicBonds and HarmonicAngles of a topology from the parameter set (ParameterError on a missing type)."""
    terms = []
    for kind, term, items, types, rest in (("bond", HarmonicBonds, topo.bonds, topo.bond_types, "r0"),
                                           ("angle", HarmonicAngles, topo.angles, topo.angle_types, "theta0")):
        if len(items):
            try:
                k = [params[kind + "s"][t]["k"] for t in types]
                x0 = [params[kind + "s"][t][rest] for t in types]
            except KeyError as err:
                raise ParameterError(f"the parameter set has no {kind} type {err}.",
                                     fix=f"add the {kind} type {err} to the parameter set.") from err
            terms.append(term(items, k, x0, n_atoms=topo.n_atoms))
    return terms


def make_forcefield(topo: Topology, params: dict, cutoff: float | None = None, buck_cutoff: float | None = None,
                    skin: float = 1.0, extra_terms: list | None = None, name: str = "lips") -> ForceField:
    """ForceField = ionic pair term (with the topology's exclusions) + bonds + angles (+ extra terms)."""
    excl = exclusions_from_topology(topo.n_atoms, topo.bonds, topo.angles)
    terms = [ionic_term(params, excluded=excl, cutoff=cutoff, buck_cutoff=buck_cutoff)] + bonded_terms(topo, params)
    terms += list(extra_terms or [])
    return ForceField(terms, skin=skin, units="metal", name=name)


# ------------------------------------------------------------------------------------------------ packing
def _min_image_dist2(points: np.ndarray, x: np.ndarray, cell: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Squared minimum-image distances between each row of ``x`` (k, 3) and all ``points`` (n, 3): (k, n)."""
    d = x[:, None, :] - points[None, :, :]
    s = d @ inv
    s -= np.floor(s + 0.5)
    d = s @ cell
    return np.einsum("kni,kni->kn", d, d)


def pack(topo: Topology, templates: list, cell: np.ndarray, rng: np.random.Generator, *,
         anion_distance: float = 3.0, li_distance: float = 2.1, max_tries: int = 2000,
         fixed_positions: np.ndarray | None = None, region=None) -> np.ndarray:
    """Random positions for ``topo`` in ``cell``: rigid anions at random positions and orientations, then Li.

    No atom of a new anion comes closer than ``anion_distance`` (Å) to an atom already placed; Li keep
    ``li_distance`` from everything. ``fixed_positions`` (M, 3) are atoms already there (e.g. a crystal) that
    also count as obstacles; ``region(frac) -> bool`` restricts the centres (fractional coordinates) to a part of
    the cell. Raises ParameterError when an object cannot be placed (the density is too high).
    """
    cell = np.asarray(cell, dtype=float)
    inv = np.linalg.inv(cell)
    placed = [] if fixed_positions is None else [np.asarray(fixed_positions, dtype=float)]
    out = np.zeros((topo.n_atoms, 3))
    base = 0

    def draw_centre():
        for _ in range(1000):
            f = rng.random(3)
            if region is None or region(f):
                return f @ cell
        raise ParameterError("the packing region is empty.",
                             fix="use a region that contains part of the cell, or no region.")

    def try_place(coords, dist):
        allp = np.concatenate(placed) if placed else np.zeros((0, 3))
        for _ in range(max_tries):
            x = draw_centre() + coords @ random_rotation(rng).T
            if len(allp) == 0 or _min_image_dist2(allp, x, cell, inv).min() >= dist * dist:
                return x
        return None

    for t in templates:
        x = try_place(t.positions, anion_distance)
        if x is None:
            raise ParameterError(f"could not place anion {base} ({t.kind}) without overlap after {max_tries} tries.",
                                 fix="pack at a lower density (the system builders compress afterwards) or use "
                                     "fewer atoms.")
        out[base:base + t.n_atoms] = x
        placed.append(x)
        base += t.n_atoms
    for k in range(base, topo.n_atoms):
        x = try_place(np.zeros((1, 3)), li_distance)
        if x is None:
            raise ParameterError(f"could not place Li atom {k} without overlap after {max_tries} tries.",
                                 fix="pack at a lower density or use fewer atoms.")
        out[k] = x[0]
        placed.append(x)
    return out


def mass_of(species) -> float:
    """Total mass (amu) of a list of element symbols."""
    from ase.data import atomic_masses, atomic_numbers

    return float(sum(atomic_masses[atomic_numbers[s]] for s in species))


def cubic_cell_for_density(species, density_g_cm3: float) -> np.ndarray:
    """Cubic cell (Å) holding ``species`` at the given mass density."""
    volume = mass_of(species) * AMU_PER_ANGSTROM3_TO_G_PER_CM3 / density_g_cm3
    return np.eye(3) * volume ** (1 / 3)


def density_g_cm3(species, cell) -> float:
    return mass_of(species) * AMU_PER_ANGSTROM3_TO_G_PER_CM3 / abs(np.linalg.det(cell))


# ------------------------------------------------------------------------------------------------ crystals
#: fractional positions in a cubic cell: the fcc sites and the eight tetrahedral holes between them
_FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
_TET = np.array([[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)])


def antifluorite(n_cells=(2, 2, 2), a: float = 5.70, cation: str = "Li", anion: str = "S"):
    """Antifluorite A2X (Li2S): X on fcc sites, A in all tetrahedral holes. Returns positions, species, cell, site
    ids (one per atom; Li sites are the eight (1/4,1/4,1/4)-type holes)."""
    n = np.asarray(n_cells, dtype=int)
    shifts = np.array([[i, j, k] for i in range(n[0]) for j in range(n[1]) for k in range(n[2])], dtype=float)
    s_frac = (_FCC[None, :, :] + shifts[:, None, :]).reshape(-1, 3) / n
    li_frac = (_TET[None, :, :] + shifts[:, None, :]).reshape(-1, 3) / n
    cell = np.diag(n * a).astype(float)
    pos = np.vstack([s_frac, li_frac]) @ cell
    species = [anion] * len(s_frac) + [cation] * len(li_frac)
    return pos, species, cell


def li3ps4_bif3_cell(a: float, params: dict):
    """Conventional cell of a simplified ordered Li3PS4: PS4 on fcc sites (S4 axes along z), Li in all 8
    tetrahedral and 4 octahedral holes (the BiF3 / Li3Bi arrangement; 4 formula units, 32 atoms).

    Each tetrahedral Li then has four S of four different PS4 at ~2.4 Å (a = 8.6 Å). It is a documented stand-in for
    beta/gamma-Li3PS4 (same chemistry, PS4 isolated, Li tetrahedrally coordinated), relaxed by the force field.
    Returns (anion kinds, anion atom positions (20, 3), Li positions (12, 3), cell).
    """
    r = bond_length(params, "P-S")
    s = r * math.sqrt(2.0 / 3.0)
    h = r / math.sqrt(3.0)
    verts = np.array([[s, 0, h], [-s, 0, h], [0, s, -h], [0, -s, -h]])
    anion_pos = []
    for c in _FCC * a:
        anion_pos.append(c)
        anion_pos.extend(c + verts)
    octa = np.array([[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]) * a
    return ["PS4"] * 4, np.array(anion_pos), np.vstack([_TET * a, octa]), np.eye(3) * a


# ------------------------------------------------------------------------------------------------ LAMMPS export
def lammps_inputs(positions, cell, topo: Topology, params: dict, cutoff: float | None = None,
                  buck_cutoff: float | None = None) -> tuple[str, list]:
    """The same model for LAMMPS: a ``read_data`` file text (atom_style full) and the force-field commands.

    Uses ``pair_style born/coul/dsf`` (Born-Mayer-Huggins with sigma = D = 0 is Buckingham),
    ``bond_style harmonic``, ``angle_style harmonic`` and ``special_bonds lj/coul 0 0 1``. Differences from this
    package's default term, all small and documented in :class:`~ssefeat.md.pair_ionic.IonicPair`: LAMMPS shifts the
    Buckingham energy only (``pair_modify shift yes``), keeps ``-erf(a r)/r`` for excluded pairs, adds a slightly
    different constant self energy and evaluates erfc with a 1e-7 polynomial. LAMMPS therefore matches
    ``IonicPair(shift="energy", exclusion_coulomb="bare", self_convention="lammps")`` to ~1e-7; use the export for
    throughput comparisons or as a starting point, not as the identical model.
    The cell must be a LAMMPS cell (a along x, b in the xy plane): lower-triangular rows.
    """
    from ase.data import atomic_masses, atomic_numbers

    cell = np.asarray(cell, dtype=float)
    if abs(cell[0, 1]) > 1e-12 or abs(cell[0, 2]) > 1e-12 or abs(cell[1, 2]) > 1e-12:
        raise ParameterError("LAMMPS needs a lower-triangular cell (a along x, b in the xy plane).",
                             fix="rotate the system first (ase.Atoms.set_cell with a LAMMPS-style cell).")
    types = sorted(set(topo.species.tolist()))
    tid = {s: k + 1 for k, s in enumerate(types)}
    btypes = sorted(set(topo.bond_types))
    atypes = sorted(set(topo.angle_types))
    lines = ["ssefeat lips model", "", f"{topo.n_atoms} atoms", f"{len(topo.bonds)} bonds",
             f"{len(topo.angles)} angles",
             f"{len(types)} atom types", f"{max(1, len(btypes))} bond types", f"{max(1, len(atypes))} angle types", "",
             f"0 {float(cell[0, 0])!r} xlo xhi", f"0 {float(cell[1, 1])!r} ylo yhi", f"0 {float(cell[2, 2])!r} zlo zhi",
             f"{float(cell[1, 0])!r} {float(cell[2, 0])!r} {float(cell[2, 1])!r} xy xz yz", "", "Masses", ""]
    lines += [f"{tid[s]} {atomic_masses[atomic_numbers[s]]}" for s in types]
    lines += ["", "Atoms # full", ""]
    inv = np.linalg.inv(cell)
    frac = np.asarray(positions, dtype=float) @ inv
    image = np.floor(frac).astype(int)
    wrapped = (frac - image) @ cell
    for k in range(topo.n_atoms):
        x = wrapped[k]
        lines.append(f"{k + 1} {topo.molecule[k] + 1 if topo.molecule[k] >= 0 else 0} {tid[topo.species[k]]} "
                     f"{float(topo.charges[k])!r} {float(x[0])!r} {float(x[1])!r} {float(x[2])!r} "
                     f"{image[k, 0]} {image[k, 1]} {image[k, 2]}")
    if len(topo.bonds):
        lines += ["", "Bonds", ""]
        lines += [f"{k + 1} {btypes.index(t) + 1} {b[0] + 1} {b[1] + 1}"
                  for k, (b, t) in enumerate(zip(topo.bonds, topo.bond_types))]
    if len(topo.angles):
        lines += ["", "Angles", ""]
        lines += [f"{k + 1} {atypes.index(t) + 1} {a[0] + 1} {a[1] + 1} {a[2] + 1}"
                  for k, (a, t) in enumerate(zip(topo.angles, topo.angle_types))]
    coul = params["coulomb"]
    rc = float(coul["cutoff"] if cutoff is None else cutoff)
    brc = min(float(params["buckingham"].get("cutoff", rc) if buck_cutoff is None else buck_cutoff), rc)
    cmds = [f"pair_style born/coul/dsf {coul['alpha']} {brc} {rc}", "pair_modify shift yes",
            "bond_style harmonic" if btypes else "bond_style zero",
            "angle_style harmonic" if atypes else "angle_style zero", "special_bonds lj/coul 0.0 0.0 1.0"]
    pairs = {pair_key(*k.split("-")): v for k, v in params["buckingham"]["pairs"].items()}
    for a in types:
        for b in types:
            if tid[a] <= tid[b]:
                A, rho, C = pairs[pair_key(a, b)]
                cmds.append(f"pair_coeff {tid[a]} {tid[b]} {float(A)!r} {float(rho)!r} 0.0 {float(C)!r} 0.0")
    cmds += [f"bond_coeff {k + 1} {float(params['bonds'][t]['k'])!r} {float(params['bonds'][t]['r0'])!r}"
             for k, t in enumerate(btypes)]
    cmds += [f"angle_coeff {k + 1} {float(params['angles'][t]['k'])!r} {float(params['angles'][t]['theta0'])!r}"
             for k, t in enumerate(atypes)]
    if not btypes:
        cmds.append("bond_coeff *")
    if not atypes:
        cmds.append("angle_coeff *")
    return "\n".join(lines) + "\n", cmds


from ..lammps import import_lammps  # noqa: E402,F401  (re-exported for the tests and benchmarks)
