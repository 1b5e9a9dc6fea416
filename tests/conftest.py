"""Shared test settings (headless matplotlib) and the synthetic trajectories the test files build.

Test files import the builders with ``from conftest import ...`` (pytest puts this folder on sys.path).
Lengths in Å, times in ps. ``seed`` is an int or a numpy Generator (pass a Generator to go on drawing from a
stream the caller already uses: the builders then draw exactly what the former per-file copies drew).
"""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402

import ssefeat  # noqa: E402
from ssefeat.box import minimum_image, wrap_positions  # noqa: E402

TRICLINIC = np.array([[9.0, 0.0, 0.0], [2.1, 8.6, 0.0], [1.4, -1.7, 9.3]])  # half width ~4.2 Å
LAMMPS_CELL = np.array([[10.0, 0.0, 0.0], [2.0, 11.0, 0.0], [1.0, 1.5, 9.0]])  # triclinic, lower triangle
RICH_SPECIES = ["Li", "Li", "Li", "P", "S", "S", "S", "S"]


# --- Dataset from positions --------------------------------------------------------------------------------------
def trajectory(positions, cell, species="A", wrapped=None, **kw):
    """Trajectory of positions (frames, atoms, 3) or (atoms, 3) in a cell (3, 3) or per frame (frames, 3, 3).

    species: one name for every atom or one per atom. wrapped=True wraps every frame into its cell first;
    None leaves the flag unknown. Other keywords (timestep_ps, time, atom, ...) go to ssefeat.make_trajectory.
    """
    pos = np.asarray(positions)
    if wrapped:
        cell = np.asarray(cell)
        pos = (wrap_positions(pos, cell)[0] if cell.ndim == 2 else
               np.stack([wrap_positions(p, c)[0] for p, c in zip(pos, cell)]))
    if species is None or isinstance(species, str):
        species = [species or "A"] * pos.shape[-2]
    return ssefeat.make_trajectory(pos, species, cell=cell, wrapped=wrapped, **kw)


def rich_trajectory(n_frames=6, cell=LAMMPS_CELL, seed=0, wrapped=True):
    """Eight atoms (RICH_SPECIES) at random positions in the cell with every optional variable: velocities, forces,
    energies (random numbers), charges, temperature 600 K; 0.02 ps between frames. wrapped: the flag only."""
    rng = np.random.default_rng(seed)
    n = len(RICH_SPECIES)
    pos = rng.random((n_frames, n, 3)) @ cell
    return ssefeat.make_trajectory(
        pos, RICH_SPECIES, cell, timestep_ps=0.02, velocities=rng.normal(size=(n_frames, n, 3)),
        forces=rng.normal(size=(n_frames, n, 3)), energy=rng.normal(size=n_frames),
        potential_energy=rng.normal(size=(n_frames, n)), charge=[1, 1, 1, 5, -2, -2, -2, -2.0],
        wrapped=wrapped, temperature_K=600.0)


# --- random walks and vibrations ---------------------------------------------------------------------------------
def random_walk(n_frames, n_atoms, step, cell, seed=0, bias=None, rest_first=False):
    """Unwrapped positions (frames, atoms, 3): uniform random starts in the cell, then Gaussian steps (sigma `step`
    Å per axis and frame, plus `bias` Å per frame). rest_first: frame 0 is the start, else already one step on."""
    rng = np.random.default_rng(seed)
    start = rng.random((n_atoms, 3)) @ np.asarray(cell)
    steps = rng.normal(0.0, step, (n_frames - rest_first, n_atoms, 3))
    path = np.cumsum(steps if bias is None else steps + np.asarray(bias), axis=0)
    return start + (np.concatenate([np.zeros_like(path[:1]), path]) if rest_first else path)


def jittered(positions, n_frames, sigma, seed=0):
    """n_frames copies of positions (atoms, 3) with independent Gaussian noise of sigma Å on every coordinate."""
    rng = np.random.default_rng(seed)
    return np.stack([positions + rng.normal(0.0, sigma, positions.shape) for _ in range(n_frames)])


def vibrating(n_frames, n_atoms, cell, sigma=0.05, seed=0):
    """Atoms at uniform random sites in the cell, vibrating (Gaussian, sigma Å) independently in every frame."""
    rng = np.random.default_rng(seed)
    return jittered(rng.random((n_atoms, 3)) @ np.asarray(cell), n_frames, sigma, rng)


def walkers(n_frames=200, n_li=6, n_s=4, step=0.3, box=12.0, dt=0.05, seed=0, drift=None, wrapped=False,
            species=("Li", "S"), temperature_K=None):
    """Li random walkers (step: sigma Å per axis and frame) among S vibrating (0.05 Å) in a cubic box (Å), frames
    dt ps apart, everything drifting by `drift` Å/ps. Unwrapped, or wrapped (without image flags)."""
    rng = np.random.default_rng(seed)
    cell = np.eye(3) * box
    pos = np.concatenate([random_walk(n_frames, n_li, step, cell, rng), vibrating(n_frames, n_s, cell, 0.05, rng)],
                         axis=1)
    if drift is not None:
        pos = pos + np.arange(n_frames)[:, None, None] * dt * np.asarray(drift)
    ds = ssefeat.make_trajectory(pos, [species[0]] * n_li + [species[1]] * n_s, cell=cell, timestep_ps=dt,
                                 wrapped=False, temperature_K=temperature_K)
    return ssefeat.wrap(ds).drop_vars("images") if wrapped else ds


# --- configurations with a minimum separation --------------------------------------------------------------------
def separated_positions(n, cell, min_sep, seed=0):
    """n uniform random positions (Å) in the cell, no two closer than min_sep Å (minimum image), by rejection."""
    rng = np.random.default_rng(seed)
    pos = np.empty((0, 3))
    while len(pos) < n:
        x = rng.random(3) @ cell
        if (np.linalg.norm(minimum_image(x - pos, cell), axis=1) > min_sep).all():
            pos = np.vstack([pos, x])
    return pos


def random_config(n=36, cell=TRICLINIC, seed=0, min_sep=0.8, species=("Li", "S", "P"), p=(0.5, 0.35, 0.15)):
    """Separated positions (Å) and species drawn with probabilities p; the first three atoms are Li, S, P."""
    rng = np.random.default_rng(seed)
    pos = separated_positions(n, cell, min_sep, rng)
    spec = rng.choice(list(species), size=n, p=list(p))
    spec[:3] = ["Li", "S", "P"]
    return pos, spec


# --- anion clusters (Li-P-S) -------------------------------------------------------------------------------------
PS = 2.05  # P-S bond length of the templates, Å
TET = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3.0)
MASSES = {"P": 30.973762, "S": 32.06, "Li": 6.94}


def _align(a, b):
    """Rotation matrix taking unit vector a onto unit vector b."""
    rot, _ = Rotation.align_vectors([b], [a])
    return rot.as_matrix()


def template_ps4():
    return ["P", "S", "S", "S", "S"], np.vstack([np.zeros(3), PS * TET])


def template_p2s7():
    """Two PS4 sharing one corner S (P-S-P angle 110°)."""
    t1 = PS * TET                      # vertex 0 is the bridging S
    u1 = TET[0]
    # P2 = S_b + PS * u2, u2 at 110° from -u1
    ang = np.radians(110.0)
    perp = np.cross(u1, [0.3, 0.5, 0.8]); perp /= np.linalg.norm(perp)
    u2 = np.cos(np.pi - ang) * u1 + np.sin(np.pi - ang) * perp
    p2 = t1[0] + PS * u2
    # P2's tetrahedron has one vertex pointing back to the bridging S
    rot = _align(TET[0], -u2)
    best, best_d = None, -1
    for phi in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        spin = Rotation.from_rotvec(-u2 * phi).as_matrix()
        t2 = p2 + PS * (TET @ (spin @ rot).T)
        d = min(np.linalg.norm(t1[1:, None] - t2[None, 1:], axis=-1).min(),
                np.linalg.norm(t2[1:] - 0.0, axis=-1).min(), np.linalg.norm(t1[1:] - p2, axis=-1).min())
        if d > best_d:
            best, best_d = t2, d
    xyz = np.vstack([[0, 0, 0], t1, p2, best[1:]])
    return ["P", "S", "S", "S", "S", "P", "S", "S", "S"], xyz


def template_p2s6():
    """Ethane-like P2S6 with a P-P bond of 2.2 Å, staggered."""
    z = np.array([0, 0, 1.0])
    ang = np.radians(109.47)
    out = [np.zeros(3), 2.2 * z]
    sp = ["P", "P"]
    for k in range(3):
        phi = 2 * np.pi * k / 3
        d = np.array([np.sin(ang) * np.cos(phi), np.sin(ang) * np.sin(phi), np.cos(ang)])
        out.append(PS * d)
        sp.append("S")
    for k in range(3):
        phi = 2 * np.pi * k / 3 + np.pi / 3
        d = np.array([np.sin(ang) * np.cos(phi), np.sin(ang) * np.sin(phi), -np.cos(ang)])
        out.append(2.2 * z + PS * d)
        sp.append("S")
    return sp, np.array(out)


TEMPLATES = {"PS4": template_ps4, "P2S7": template_p2s7, "P2S6": template_p2s6}


def anion(kind):
    """Species and positions (Å) of the template of kind PS4, P2S7 or P2S6, centre of mass at the origin."""
    sp, xyz = TEMPLATES[kind]()
    m = np.array([MASSES[s] for s in sp])
    return sp, xyz - (m[:, None] * xyz).sum(0) / m.sum()


def build_system(n_ps4=8, n_p2s7=3, n_p2s6=3, n_li=20, seed=0, box=24.0, cell=None, wrap=True):
    """Randomly rotated anions on a jittered 3x3x3 grid (the slots at 0 straddle the boundary), plus Li.

    Returns (species, positions (N, 3) wrapped, cell, truth) where truth lists (type, atom indices, com) per anion.
    """
    rng = np.random.default_rng(seed)
    if cell is None:
        cell = np.eye(3) * box
    kinds = ["PS4"] * n_ps4 + ["P2S7"] * n_p2s7 + ["P2S6"] * n_p2s6
    slots = np.array([[i, j, k] for i in range(3) for j in range(3) for k in range(3)], float) / 3.0
    rng.shuffle(slots)
    # make sure a few anions sit on the origin corner and on faces so that they straddle the boundary
    slots = np.vstack([[0, 0, 0], [0, 0.5, 0.5], slots[~np.all(slots == 0, axis=1)]])
    species, pos, truth = [], [], []
    for n, kind in enumerate(kinds):
        sp, xyz = anion(kind)
        rot = Rotation.random(random_state=rng.integers(1 << 31)).as_matrix()
        centre = (slots[n] + rng.normal(0, 0.01, 3)) @ cell
        xyz = xyz @ rot.T + centre
        idx = list(range(len(species), len(species) + len(sp)))
        species += sp
        pos.append(xyz)
        truth.append((kind, idx, centre))
    pos = np.vstack(pos)
    # Li away from the framework atoms
    li = []
    while len(li) < n_li:
        trial = rng.random(3) @ cell
        d = minimum_image(pos - trial, cell)
        if np.linalg.norm(d, axis=1).min() > 2.0:
            li.append(trial)
    species += ["Li"] * n_li
    pos = np.vstack([pos] + ([np.array(li)] if li else []))
    if wrap:
        pos, _ = wrap_positions(pos, cell)
    return species, pos, cell, truth


def load_script(name: str, path):
    """Import a file (a models/ script, or a module of an older commit) as module ``name``, registered in
    sys.modules (dataclasses look their module up), without leaking its NUMBA_NUM_THREADS default."""
    import importlib.util
    import sys

    before = os.environ.get("NUMBA_NUM_THREADS")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    finally:
        if before is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = before
    return mod


def check_report(text: str) -> None:
    """A report a reader can trust to be well formed: every markdown table row has as many cells as its header, and
    no number is printed as nan / inf (a missing value must read n/a or say why)."""
    import re

    rows = [line for line in text.splitlines()]
    header = None
    for k, line in enumerate(rows):
        if line.startswith("|") and k + 1 < len(rows) and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rows[k + 1]):
            header = line.count("|")
        elif line.startswith("|") and header is not None and not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            assert line.count("|") == header, f"table row with {line.count('|') - 1} cells, header has " \
                                              f"{header - 1}: {line}"
        elif not line.startswith("|"):
            header = None
    bad = re.findall(r"[^\s|]*\b(?:nan|inf)\b[^\s|]*", text, flags=re.IGNORECASE)
    assert not bad, f"numbers printed as nan / inf in the report: {bad[:5]}"


_NUM = r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def check_transport_numbers(text: str) -> dict:
    """The report's transport numbers as a reader needs them (issue 14): every D and sigma in the per-run table with
    a ± error under a header with units; every E_a as "X ± Y eV" and every extrapolated value with its units and a
    bracketing interval; the "not diffusive" line names exactly the runs the table calls apparent (none: no line);
    every region D with an error and units, or called apparent. Returns {"apparent": [...], "arrhenius": n fits}."""
    import re

    assert "## Transport" in text, "no transport section"
    section = text.split("## Transport", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    d_col = next(i for i, c in enumerate(header) if c.startswith("D ("))
    s_col = next(i for i, c in enumerate(header) if c.startswith("σ ("))
    assert header[d_col] == "D (cm²/s)" and header[s_col] == "σ (S/cm)", header
    apparent = []
    for row in rows[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for col in (d_col, s_col):
            assert re.fullmatch(fr"{_NUM} ± {_NUM}", cells[col]), f"no interval on {header[col]}: {row}"
        apparent += [cells[0]] if "apparent" in cells[-1] else []
    named = re.findall(r"The MSD of (.+?) never reached the diffusive regime", section)
    if apparent:
        assert len(named) == 1 and named[0].split(", ") == apparent, (named, apparent)
    else:
        assert not named, named
    fits = [line for line in section.splitlines() if "E_a" in line]
    for line in fits:
        m = re.search(fr"E_a = ({_NUM}) ± ({_NUM}) eV; at (\d+) K: ({_NUM}) (\S+) \(68 % interval ({_NUM}) to "
                      fr"({_NUM}) (\S+), the fit being in log space\)", line)
        assert m, f"E_a or its extrapolation without units or interval: {line}"
        value, low, high = float(m[4]), float(m[6]), float(m[7])
        assert m[5] == m[8] and m[5] in ("cm^2/s", "S/cm") and low < value < high, line
    for line in text.splitlines():
        if "diffusion by region" in line:
            for part in re.sub(r"\([^()]*\)", "", line).split(": ", 1)[1].split("; "):
                assert (re.search(fr"{_NUM} ± {_NUM} cm²/s", part) or "apparent" in part
                        or "no diffusive window" in part or "n/a" in part), f"region D without an interval: {part}"
    return {"apparent": apparent, "arrhenius": len(fits)}
