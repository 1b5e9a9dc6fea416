"""Small synthetic trajectories for the examples (seconds to make, no MD needed).

These stand in for your own trajectories: every example has a block "1. a trajectory" that you replace with
``ssefeat.io.read(...)``. The models are simple but have the physics the examples look for:

- :func:`lips_hopping`: a Li-P-S "glass": rigid PS4 / P2S7 / P2S6 anions (vibrating) on a jittered grid, and Li
  hopping between interstitial sites (Poisson hops, rate nu exp(-E_site / k_B T)). The site energy depends on the
  local structure (number of S within 3 Å) and on the nearest anion type (P2S6 sites shallower, P2S7 deeper), so
  structure predicts hopping (softness) and anion environments correlate with it; D(T) is Arrhenius.
- :func:`glass_ceramic_slab`: a rock-salt Li-S crystal slab next to an equally dense random ("glass") slab; Li
  diffuse in the glass and only vibrate in the crystal.

Positions are unwrapped (``wrapped=False``), Å and ps.
"""
from __future__ import annotations

import numpy as np

import ssefeat

KB_EV = 8.617333262e-5  # eV/K
PS = 2.05  # P-S bond, Å
TET = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3.0)
MASS = {"P": 30.974, "S": 32.06, "Li": 6.94}
# site-energy shift (eV) of a Li site by the type of its nearest anion: P2S6 shallow, P2S7 deep
TYPE_SHIFT = {"PS4": 0.0, "P2S7": 0.05, "P2S6": -0.07}


def _rotation(rng) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array([[a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
                     [2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)],
                     [2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d]])


def anion(kind: str, rng) -> tuple[list[str], np.ndarray]:
    """Atoms of one anion centred at the origin: PS4, P2S6 (P-P 2.2 Å) or P2S7 (corner-sharing, P-S-P ~ 125°)."""
    if kind == "PS4":
        sp, xyz = ["P"] + ["S"] * 4, np.vstack([np.zeros(3), PS * TET])
    elif kind == "P2S6":
        ang = np.radians(109.47)
        xyz, sp = [np.zeros(3), np.array([0, 0, 2.2])], ["P", "P"]
        for k in range(6):
            phi = 2 * np.pi * k / 3 + (np.pi / 3 if k >= 3 else 0)
            d = np.array([np.sin(ang) * np.cos(phi), np.sin(ang) * np.sin(phi), np.cos(ang) * (1 if k < 3 else -1)])
            xyz.append((np.array([0, 0, 2.2]) if k >= 3 else np.zeros(3)) + PS * d)
            sp.append("S")
        xyz = np.array(xyz)
    elif kind == "P2S7":
        # bridging S at the origin, P at +-PS along directions 125° apart; three terminal S on each P
        half = np.radians(125.0) / 2
        u1 = np.array([np.sin(half), 0, np.cos(half)])
        u2 = np.array([-np.sin(half), 0, np.cos(half)])
        xyz, sp = [np.zeros(3)], ["S"]
        for u in (u1, u2):
            p = PS * u
            # the tetrahedron of P with one vertex pointing back to the bridging S
            a = -u
            b = np.cross(a, [0.0, 1.0, 0.0])
            b /= np.linalg.norm(b)
            c = np.cross(a, b)
            sp.append("P")
            xyz.append(p)
            for k in range(3):
                phi = 2 * np.pi * k / 3
                d = np.cos(np.radians(109.47)) * a + np.sin(np.radians(109.47)) * (np.cos(phi) * b + np.sin(phi) * c)
                sp.append("S")
                xyz.append(p + PS * d)
        xyz = np.array(xyz)
    else:
        raise ValueError(kind)
    m = np.array([MASS[s] for s in sp])
    return sp, xyz - (m[:, None] * xyz).sum(0) / m.sum()


def _min_image(d, length):
    return d - length * np.round(d / length)


def lips_hopping(n_frames: int = 200, grid: int = 3, spacing: float = 8.0, temperature: float = 600.0,
                 timestep_ps: float = 0.1, li_fraction: float = 0.6, fractions=(0.5, 0.25, 0.25),
                 barrier: float = 0.25, attempt_per_ps: float = 12.0, vibration: float = 0.15, seed: int = 0,
                 structure_seed: int | None = None):
    """A synthetic Li-P-S trajectory with environment-dependent Li hopping (see the module docstring).

    ``grid**3`` anion slots ``spacing`` Å apart (cubic box of ``grid * spacing`` Å); anion types drawn with
    ``fractions`` (PS4, P2S7, P2S6); Li on ``li_fraction`` of the interstitial sites. Li hop to a free site within
    4.6 Å with rate ``attempt_per_ps * exp(-E_site / k_B T)``, E_site = ``barrier`` + 0.04 eV per S within 3 Å
    above the mean + a shift by nearest anion type. ``structure_seed`` fixes the framework (same structure at every
    temperature); ``seed`` the dynamics. Returns the (unwrapped) trajectory Dataset.
    """
    rs = np.random.default_rng(seed if structure_seed is None else structure_seed)
    rng = np.random.default_rng(seed)
    L = grid * spacing
    kinds = rs.choice(["PS4", "P2S7", "P2S6"], size=grid ** 3, p=np.asarray(fractions) / np.sum(fractions))
    slots = np.array([[i, j, k] for i in range(grid) for j in range(grid) for k in range(grid)], float)
    species, pos, owner = [], [], []
    for n, kind in enumerate(kinds):
        sp, xyz = anion(str(kind), rs)
        xyz = xyz @ _rotation(rs).T + (slots[n] + 0.5 + rs.uniform(-0.04, 0.04, 3)) * spacing
        species += sp
        pos.append(xyz)
        owner += [n] * len(sp)
    fw = np.vstack(pos)
    fw_species = np.array(species)
    owner = np.array(owner)
    # interstitial sites: points far enough from the framework, greedily thinned to >= 2.9 Å apart
    n_c = int(np.ceil(L / 1.0))
    cand = (np.stack(np.meshgrid(*[np.arange(n_c)] * 3, indexing="ij"), -1).reshape(-1, 3) + 0.5) * (L / n_c)
    cand = cand + rs.uniform(-0.3, 0.3, cand.shape)
    d_fw = np.full(len(cand), np.inf)
    for k in range(0, len(fw)):
        d = np.linalg.norm(_min_image(cand - fw[k], L), axis=1)
        d_fw = np.minimum(d_fw, d - (0.6 if fw_species[k] == "P" else 0.0))
    cand = cand[d_fw > 2.35]
    cand = cand[rs.permutation(len(cand))]
    sites = []
    for c in cand:
        if not sites or np.linalg.norm(_min_image(np.array(sites) - c, L), axis=1).min() > 2.9:
            sites.append(c)
    sites = np.array(sites)
    # site energies from the structure around each site
    s_atoms = fw[fw_species == "S"]
    dist_s = np.linalg.norm(_min_image(sites[:, None] - s_atoms[None], L), axis=-1)
    n_s = (dist_s < 3.0).sum(axis=1)
    dist_fw = np.linalg.norm(_min_image(sites[:, None] - fw[None], L), axis=-1)
    nearest_kind = kinds[owner[np.argmin(dist_fw, axis=1)]]
    energy = barrier + 0.04 * (n_s - n_s.mean()) + np.array([TYPE_SHIFT[str(k)] for k in nearest_kind])
    rate = attempt_per_ps * np.exp(-energy / (KB_EV * temperature))
    p_hop = 1.0 - np.exp(-rate * timestep_ps)
    # neighbouring sites (hop destinations) and their minimum-image vectors
    vec = _min_image(sites[None] - sites[:, None], L)
    near = (np.linalg.norm(vec, axis=-1) < 4.6) & ~np.eye(len(sites), dtype=bool)
    n_li = max(2, int(li_fraction * len(sites)))
    occ = rs.choice(len(sites), n_li, replace=False)
    taken = np.zeros(len(sites), bool)
    taken[occ] = True
    centre = sites[occ].copy()  # unwrapped site positions of every Li
    li = np.empty((n_frames, n_li, 3))
    for f in range(n_frames):
        hops = np.flatnonzero(rng.random(n_li) < p_hop[occ])
        for i in rng.permutation(hops):
            free = np.flatnonzero(near[occ[i]] & ~taken)
            if len(free):
                j = rng.choice(free)
                centre[i] += vec[occ[i], j]
                taken[occ[i]], taken[j] = False, True
                occ[i] = j
        li[f] = centre + rng.normal(0, vibration, centre.shape)
    frames_fw = fw[None] + rng.normal(0, 0.05, (n_frames,) + fw.shape)
    positions = np.concatenate([li, frames_fw], axis=1)
    names = np.array(["Li"] * n_li + list(fw_species))
    order = np.argsort([{"Li": 0, "P": 1, "S": 2}[s] for s in names], kind="stable")  # Li, P, S (types 1, 2, 3)
    positions, names = positions[:, order], names[order].tolist()
    return ssefeat.make_trajectory(positions, names, cell=np.eye(3) * L, timestep_ps=timestep_ps, wrapped=False,
                                   temperature_K=float(temperature), source="examples/_synthetic.py lips_hopping")


def glass_ceramic_slab(n_frames: int = 120, cells: int = 4, a: float = 5.2, timestep_ps: float = 0.5,
                       d_glass: float = 0.02, vibration: float = 0.1, seed: int = 0):
    """Rock-salt Li-S crystal (``cells``^3 unit cells, lattice constant ``a`` Å) in z < W/2 and a random
    Li-S "glass" of the same density in z > W/2, W = 2 * cells * a. Glass Li random-walk with D = ``d_glass`` Å^2/ps
    (per axis), crystal atoms and glass S vibrate. Returns the (unwrapped) trajectory Dataset."""
    rng = np.random.default_rng(seed)
    fcc = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    cell_idx = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    li_c = ((cell_idx + fcc[None]).reshape(-1, 3) + 0.25) * a
    s_c = ((cell_idx + fcc[None] + [0.5, 0, 0]).reshape(-1, 3) + 0.25) * a
    W, H = cells * a, 2 * cells * a
    # glass: random points with a minimum distance, same number of atoms as the crystal, z in (W, 2W)
    n_g = len(li_c) + len(s_c)
    glass = []
    while len(glass) < n_g:
        p = rng.random(3) * [W, W, W - 1.0] + [0, 0, W + 0.5]
        if not glass or np.linalg.norm(_min_image(np.array(glass) - p, np.array([W, W, H])), axis=1).min() > 1.9:
            glass.append(p)
    glass = np.array(glass)
    li_g, s_g = glass[: n_g // 2], glass[n_g // 2:]
    noise = lambda n: rng.normal(0, vibration, (n_frames, n, 3))  # noqa: E731
    walk = li_g[None] + np.cumsum(rng.normal(0, np.sqrt(2 * d_glass * timestep_ps), (n_frames, len(li_g), 3)), 0)
    walk[0] = li_g
    pos = np.concatenate([li_c[None] + noise(len(li_c)), walk, s_c[None] + noise(len(s_c)), s_g[None] +
                          noise(len(s_g))], axis=1)
    names = ["Li"] * (len(li_c) + len(li_g)) + ["S"] * (len(s_c) + len(s_g))
    return ssefeat.make_trajectory(pos, names, cell=np.diag([W, W, H]), timestep_ps=timestep_ps, wrapped=False,
                                   temperature_K=500.0, source="examples/_synthetic.py glass_ceramic_slab")


def small_mode(argv=None) -> bool:
    """True with ``--small`` on the command line or ``SSEFEAT_EXAMPLE_SMALL=1`` in the environment."""
    import os
    import sys

    argv = sys.argv[1:] if argv is None else argv
    return "--small" in argv or os.environ.get("SSEFEAT_EXAMPLE_SMALL", "") not in ("", "0")
