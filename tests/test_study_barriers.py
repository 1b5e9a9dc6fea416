"""NEB barriers (ssefeat.study.barriers): a Li hop into a vacancy of Li2S, symmetric and equal to a drag scan."""
from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes

from ssefeat.box import minimum_image
from ssefeat.errors import ParameterError
from ssefeat.md.ase_calculator import to_ase
from ssefeat.md.systems.vacancy_crystal import vacancy_crystal
from ssefeat.study.barriers import SameMinimumError, drag_scan, neb_barrier


@pytest.fixture(scope="module")
def hop():
    """Li2S (3x3x3 cells, one vacancy, minimised): the Li nearest the vacancy, and the vacancy site."""
    sim = vacancy_crystal(3, n_vacancies=1, temperature=0, seed=0)
    vac = sim.info["li_sites"][sim.info["vacancy_sites"][0]]
    li = np.flatnonzero(sim.species == "Li")
    i = int(li[np.argmin(np.linalg.norm(minimum_image(sim.positions[li] - vac, sim.cell), axis=1))])
    return to_ase(sim), i, vac


class Plain(Calculator):
    """A user's calculator without copy(): NEB images share it."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": self.inner.get_potential_energy(self.atoms),
                        "forces": self.inner.get_forces(self.atoms)}


def test_vacancy_hop_barrier_is_symmetric_and_equals_the_drag_scan(hop):
    atoms, i, vac = hop
    neb = neb_barrier(atoms, i, vac, n_images=5)
    drag = drag_scan(atoms, i, vac, n_points=9)
    print(f"\nLi2S vacancy hop ({neb['hop_length']:.2f} Å): NEB-CI {neb['barrier_forward']:.4f} / "
          f"{neb['barrier_backward']:.4f} eV (forward / backward), drag scan {drag['barrier']:.4f} eV")
    assert neb["converged"] and drag["converged"]
    assert 2.0 < neb["hop_length"] < 2.9  # one Li-Li nearest-neighbour hop (a / 2 = 2.85 Å, relaxed inwards)
    assert neb["barrier_forward"] > 0.05
    assert abs(neb["barrier_forward"] - neb["barrier_backward"]) < 0.005
    assert abs(neb["barrier_forward"] - drag["barrier"]) < 0.02
    assert np.argmax(neb["energies"]) == 3 and neb["saddle_inside"]  # climbing image mid-way: a saddle
    # the same NEB with a user's calculator (no copy(): shared by the images) gives the same barrier
    shared = neb_barrier(atoms, i, vac, calculator=Plain(atoms.calc.copy()), n_images=5)
    assert shared["barrier_forward"] == pytest.approx(neb["barrier_forward"], abs=2e-3)


def test_ends_in_the_same_minimum_and_bad_input_are_refused(hop):
    atoms, i, vac = hop
    with pytest.raises(SameMinimumError, match="same site"):
        neb_barrier(atoms, i, atoms.positions[i] + [0.3, 0.0, 0.0], n_images=3)
    with pytest.raises(ParameterError, match="not an atom"):
        neb_barrier(atoms, len(atoms), vac)
    bare = atoms.copy()
    with pytest.raises(ParameterError, match="no calculator"):
        neb_barrier(bare, i, vac)


def test_observed_hop_target_gives_the_vacancy_barrier(hop):
    """A trajectory in which one Li jumps into the vacancy at frame 8: the hop event's end is the target."""
    import xarray as xr

    from ssefeat.data import make_trajectory
    from ssefeat.study.glass_barriers import hop_barriers

    atoms, i, vac = hop
    pos = np.repeat(atoms.positions[None], 16, axis=0)
    pos[8:, i] = atoms.positions[i] + minimum_image(vac - atoms.positions[i], np.array(atoms.cell[:]))
    ds = make_trajectory(pos, atoms.get_chemical_symbols(), cell=np.array(atoms.cell[:]), timestep_ps=0.1,
                         charge=atoms.get_initial_charges())
    li = np.flatnonzero(np.array(atoms.get_chemical_symbols()) == "Li")
    S = xr.DataArray(np.where(li == i, 1.0, -1.0)[None].repeat(16, 0), dims=("frame", "atom"),
                     coords={"frame": np.arange(16), "atom": li})
    out = hop_barriers(ds, S, n_soft=1, n_hard=0, calculator=atoms.calc.copy(), t_R_frames=6, threshold=1.5,
                       quench_fmax=0.01, n_images=5)
    assert out["n_events"] == 1 and len(out["soft"]) == 1 and out["soft"][0]["atom"] == i
    rec = out["soft"][0]
    direct = neb_barrier(atoms, i, vac, n_images=5)  # the same hop with the vacancy site as the target
    assert rec["converged"] and rec["saddle_inside"] and rec["event_frame"] in (7, 8)
    assert rec["barrier_forward"] == pytest.approx(direct["barrier_forward"], abs=0.005)
    assert rec["barrier_backward"] == pytest.approx(direct["barrier_backward"], abs=0.005)


def test_a_target_on_another_atom_is_skipped_not_fatal(hop):
    """An observed hop whose end lies on an S atom: relaxing that end raises the force field's overlap error;
    the target is listed as skipped with the reason and the study goes on (it crashed a 5-glass study before)."""
    import xarray as xr

    from ssefeat.data import make_trajectory
    from ssefeat.study.glass_barriers import hop_barriers

    atoms, i, _ = hop
    cell = np.array(atoms.cell[:])
    sym = np.array(atoms.get_chemical_symbols())
    s_atoms = np.flatnonzero(sym == "S")
    target = s_atoms[np.argmin(np.linalg.norm(minimum_image(atoms.positions[s_atoms] - atoms.positions[i], cell),
                                              axis=1))]
    pos = np.repeat(atoms.positions[None], 16, axis=0)
    pos[8:, i] = atoms.positions[i] + minimum_image(atoms.positions[target] - atoms.positions[i], cell)
    ds = make_trajectory(pos, sym.tolist(), cell=cell, timestep_ps=0.1, charge=atoms.get_initial_charges())
    li = np.flatnonzero(sym == "Li")
    S = xr.DataArray(np.where(li == i, 1.0, -1.0)[None].repeat(16, 0), dims=("frame", "atom"),
                     coords={"frame": np.arange(16), "atom": li})
    out = hop_barriers(ds, S, n_soft=1, n_hard=0, calculator=atoms.calc.copy(), t_R_frames=6, threshold=1.5,
                       quench_fmax=0.01, n_images=5)
    assert out["n_events"] == 1 and out["soft"] == []
    assert [(s["atom"], s["kind"], s["why"]) for s in out["skipped"]] == [
        (i, "soft", "an end relaxed into an overlap with another atom")]
