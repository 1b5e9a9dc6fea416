"""Energy barriers of single Li hops: FIRE-relaxed end points and a climbing-image NEB (ASE), plus a drag scan.

:func:`neb_barrier` moves one atom (``index``) from where it is to ``target`` (Å; the end of an observed hop, or an
empty Li site): both ends are relaxed with FIRE, the band between them starts from ASE's IDPP path (minimum image)
and is relaxed by ASE's NEB with a climbing image. The barrier is reported both ways (eV): forward
E_max - E_initial and backward E_max - E_final. Forces and energies come from the calculator on ``atoms`` (ssefeat's
:class:`~ssefeat.md.ase_calculator.ForceFieldCalculator` from :func:`~ssefeat.md.ase_calculator.to_ase`) or from
any ASE calculator passed as ``calculator`` (e.g. a machine-learned potential). When the two ends relax into the
same site (the moved atom slides back: its two relaxed positions closer than ``same_minimum_tol``) there is
no hop and no barrier to report: :class:`SameMinimumError`. A band that does not reach ``fmax`` in ``steps`` is
returned with ``converged=False``: its numbers are not a barrier (the glass study leaves such bands out).

:func:`drag_scan` is the independent check: the atom is held at points along the straight line between the two
relaxed end positions (ASE ``FixedPlane``: free only in the plane normal to the hop), every other atom relaxed; its
highest energy bounds the barrier from above and equals it when the path crosses the saddle on that line.
"""
from __future__ import annotations

import numpy as np

from ..box import minimum_image
from ..errors import ParameterError, SimulationError

__all__ = ["neb_barrier", "drag_scan", "relax", "SameMinimumError"]


class SameMinimumError(SimulationError):
    """Both ends of a hop relaxed into the same energy minimum: no barrier between them."""


def _as_atoms(atoms):
    """ase.Atoms (a copy) from Atoms or a ssefeat Simulation, with its calculator."""
    from ase import Atoms

    if isinstance(atoms, Atoms):
        out = atoms.copy()
        out.calc = atoms.calc
        return out
    if hasattr(atoms, "forcefield") and hasattr(atoms, "positions"):
        from ..md.ase_calculator import to_ase

        return to_ase(atoms)
    raise ParameterError(f"atoms must be ase.Atoms or a ssefeat Simulation, got {type(atoms).__name__}.",
                         fix="pass ase.Atoms or a ssefeat.md Simulation.")


def relax(atoms, fmax: float = 0.01, steps: int = 2000) -> dict:
    """FIRE-relax ``atoms`` in place (its constraints kept); energy (eV), steps and convergence."""
    from ase.optimize import FIRE

    opt = FIRE(atoms, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    return {"energy": float(atoms.get_potential_energy()), "steps": int(opt.nsteps), "converged": converged}


def _ends(atoms, index: int, target, calculator, fmax: float, steps: int):
    atoms = _as_atoms(atoms)
    n = len(atoms)
    if isinstance(index, (bool, np.bool_)) or not (0 <= int(index) < n):
        raise ParameterError(f"index {index!r} is not an atom of the {n}-atom structure.",
                             fix=f"give index as an integer in [0, {n - 1}].")
    index = int(index)
    calc = calculator if calculator is not None else atoms.calc
    if calc is None:
        raise ParameterError("no calculator: the Atoms carry none and none was given.",
                             fix="pass calculator=... or use ssefeat.md.ase_calculator.to_ase(sim).")
    if not np.all(atoms.pbc):
        raise ParameterError("the structure must be periodic (pbc=True with a cell).",
                             fix="set atoms.pbc = True and give the structure a cell.")
    cell = np.array(atoms.cell[:])
    target = np.asarray(target, dtype=np.float64).reshape(3)
    start = atoms.positions[index].copy()
    end = start + minimum_image(target - start, cell)  # the shortest periodic image of the target
    shared = not hasattr(calc, "copy") or not callable(getattr(calc, "copy"))
    initial, final = atoms.copy(), atoms.copy()
    final.positions[index] = end
    initial.calc, final.calc = (calc, calc) if shared else (calc.copy(), calc.copy())  # one copy per image
    r0, r1 = relax(initial, fmax, steps), relax(final, fmax, steps)
    for name, r in (("initial", r0), ("final", r1)):
        if not r["converged"]:
            raise SimulationError(f"the {name} end did not relax to fmax {fmax} eV/Å in {steps} FIRE steps.",
                                  fix="raise relax_steps or relax_fmax.")
    return initial, final, calc, shared, index, (r0, r1)


def _check_distinct(initial, final, index: int, tol: float) -> float:
    d = np.linalg.norm(minimum_image(final.positions - initial.positions, np.array(initial.cell[:])), axis=1)
    if d[index] < tol:
        raise SameMinimumError(f"both ends relaxed into the same site: the moved atom ends {d[index]:.3f} Å from "
                               f"its relaxed start (< {tol} Å); the target is not a stable site for it.",
                               fix="pick another target (an observed hop's end or another empty site).")
    return float(d.max())


def neb_barrier(atoms, index: int, target, calculator=None, *, n_images: int = 7, k: float = 0.1,
                climb: bool = True, fmax: float = 0.03, steps: int = 1000, relax_fmax: float = 0.01,
                relax_steps: int = 2000, same_minimum_tol: float = 0.5, idpp: bool = True) -> dict:
    """Climbing-image NEB barrier of atom ``index`` hopping from its position to ``target`` (Å).

    Parameters
    ----------
    atoms : ase.Atoms with a calculator, or a ssefeat Simulation (its force field via ``to_ase``)
    calculator : any ASE calculator to use instead (shared by the images unless it has a ``copy()`` method)
    n_images : intermediate images; k : spring constant eV/Å^2; fmax : NEB force tolerance eV/Å
    idpp : start the band from ASE's image-dependent pair potential path (keeps images from passing through other
        atoms, which a straight line does in a dense glass), else a straight (minimum-image) line
    relax_fmax, relax_steps : FIRE relaxation of the two ends; same_minimum_tol : Å, see :class:`SameMinimumError`

    Returns a dict: ``barrier_forward`` / ``barrier_backward`` (eV), ``energies`` (eV, the images relative to the
    relaxed initial end), ``path`` (Å, the hopping atom's distance from its initial position), ``hop_length``
    (Å), ``converged``, ``steps``, ``e_initial`` / ``e_final`` (eV, absolute), ``max_displacement`` (Å),
    ``saddle_inside`` (the highest image is inside the band: a saddle; else the barrier is the end-point energy
    difference).
    """
    from ase.mep import NEB
    from ase.optimize import FIRE

    if int(n_images) < 1:
        raise ParameterError(f"n_images must be >= 1, got {n_images}.", fix="give n_images >= 1.")
    initial, final, calc, shared, index, (r0, r1) = _ends(atoms, index, target, calculator, relax_fmax, relax_steps)
    max_disp = _check_distinct(initial, final, index, same_minimum_tol)
    images = [initial] + [initial.copy() for _ in range(int(n_images))] + [final]
    for im in images[1:-1]:
        im.calc = calc if shared else calc.copy()
    neb = NEB(images, k=k, climb=climb, method="improvedtangent", allow_shared_calculator=shared)
    neb.interpolate(method="idpp" if idpp else "linear", mic=True)
    opt = FIRE(neb, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    energies = np.array([im.get_potential_energy() for im in images])
    cell = np.array(initial.cell[:])
    path = np.array([np.linalg.norm(minimum_image(im.positions[index] - initial.positions[index], cell))
                     for im in images])
    e_max = float(energies.max())
    return {"barrier_forward": e_max - float(energies[0]), "barrier_backward": e_max - float(energies[-1]),
            "energies": energies - energies[0], "path": path, "hop_length": float(path[-1]),
            "converged": converged, "steps": int(opt.nsteps),
            "saddle_inside": bool(0 < int(np.argmax(energies)) < len(images) - 1), "e_initial": float(energies[0]),
            "e_final": float(energies[-1]), "max_displacement": max_disp, "index": index,
            "relax_steps": (r0["steps"], r1["steps"])}


def drag_scan(atoms, index: int, target, calculator=None, *, n_points: int = 11, fmax: float = 0.01,
              steps: int = 2000, same_minimum_tol: float = 0.5) -> dict:
    """Energy along a drag of atom ``index`` from its relaxed position to the relaxed ``target`` end.

    At each of ``n_points`` fractions t in [0, 1] the atom is placed on the straight line between the relaxed end
    positions and held in the plane normal to it (ASE ``FixedPlane``); all other atoms are FIRE-relaxed from the
    previous point. Returns ``t``, ``energies`` (eV, relative to the relaxed initial end), ``barrier`` (eV, the
    highest), ``converged`` (every point).
    """
    from ase.constraints import FixedPlane

    if int(n_points) < 3:
        raise ParameterError(f"n_points must be >= 3, got {n_points}.", fix="give n_points >= 3.")
    initial, final, calc, shared, index, _ = _ends(atoms, index, target, calculator, fmax, steps)
    _check_distinct(initial, final, index, same_minimum_tol)
    cell = np.array(initial.cell[:])
    a = initial.positions[index].copy()
    hop = minimum_image(final.positions[index] - a, cell)
    work = initial.copy()
    work.calc = calc if shared else calc.copy()
    t = np.linspace(0.0, 1.0, int(n_points))
    energies, ok = [], True
    for ti in t:
        work.set_constraint()
        work.positions[index] = a + ti * hop
        work.set_constraint(FixedPlane(index, hop))
        r = relax(work, fmax, steps)
        ok &= r["converged"]
        energies.append(r["energy"])
    energies = np.array(energies) - float(initial.get_potential_energy())
    return {"t": t, "energies": energies, "barrier": float(energies.max()), "converged": bool(ok),
            "hop_length": float(np.linalg.norm(hop))}
