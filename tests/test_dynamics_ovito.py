"""D2min against OVITO's AtomicStrainModifier ("Nonaffine Squared Displacement", sum convention).

OVITO settings that match ssefeat's definition: neighbours within ``cutoff`` in the reference configuration
(an explicit StaticSource reference, ``use_frame_offset=False``), ``affine_mapping=Off`` (displacements from plain
Cartesian differences), ``minimum_image_convention=True`` (wrapped current positions are followed across the
boundary). ssefeat reads the same two frames as a wrapped trajectory and uses ``normalize="sum"``.
"""
import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ssefeat
from ssefeat.dynamics.d2min import nonaffine_displacement

if importlib.util.find_spec("ovito") is None:
    pytest.skip("ovito is not installed (it is in the test extra)", allow_module_level=True)

# OVITO ships its own TBB (and Qt) libraries; freud ships another TBB. Loading both into one process can crash
# it later (seen as a segfault in freud's Voronoi), so OVITO runs in a child process of its own.
_OVITO_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from ovito.data import DataCollection
    from ovito.modifiers import AtomicStrainModifier
    from ovito.pipeline import Pipeline, ReferenceConfigurationModifier, StaticSource

    def collection(pos, cell):
        dc = DataCollection()
        matrix = np.zeros((3, 4))
        matrix[:, :3] = np.asarray(cell).T  # OVITO stores cell vectors as columns, origin in column 4
        dc.create_cell(matrix, pbc=(True, True, True))
        particles = dc.create_particles(count=len(pos))
        particles.create_property("Position", data=np.asarray(pos, dtype=np.float64))
        return dc

    a = np.load(sys.argv[1])
    pipeline = Pipeline(source=StaticSource(data=collection(a["r1"], a["cell1"])))
    modifier = AtomicStrainModifier(cutoff=float(a["cutoff"]), output_nonaffine_squared_displacements=True,
                                    affine_mapping=ReferenceConfigurationModifier.AffineMapping.Off,
                                    use_frame_offset=False, minimum_image_convention=True,
                                    select_invalid_particles=True)
    modifier.reference = StaticSource(data=collection(a["r0"], a["cell0"]))
    pipeline.modifiers.append(modifier)
    data = pipeline.compute()
    np.savez(sys.argv[2], d2=np.asarray(data.particles["Nonaffine Squared Displacement"]),
             shear=np.asarray(data.particles["Shear Strain"]),
             invalid=np.asarray(data.particles["Selection"]) != 0)
""")


def ovito_atomic_strain(r0, cell0, r1, cell1, cutoff, tmp_path):
    """OVITO's AtomicStrainModifier on one frame pair, run in a child process: (D2min sum, shear, invalid)."""
    inp, out = tmp_path / "ovito_in.npz", tmp_path / "ovito_out.npz"
    np.savez(inp, r0=r0, cell0=cell0, r1=r1, cell1=cell1, cutoff=cutoff)
    subprocess.run([sys.executable, "-c", _OVITO_SCRIPT, str(inp), str(out)], check=True, timeout=300)
    res = np.load(out)
    return res["d2"], res["shear"], res["invalid"]


@pytest.mark.parametrize("tilt,scale,cutoff,deform", [(0.0, 0.2, 3.3, False), (0.15, 0.35, 3.3, False),
                                                      (0.0, 0.2, 1.8, False), (0.1, 0.2, 3.3, True)])
def test_d2min_matches_ovito_atomic_strain(tilt, scale, cutoff, deform, tmp_path):
    """cutoff 1.8 Å leaves ~20 % of the atoms with < 3 neighbours: the validity flags must agree too.
    deform: the cell is sheared and stretched by a few % between the frames (positions follow, plus noise)."""
    rng = np.random.default_rng(11)
    L = 13.0
    cell = np.array([[L, 0, 0], [tilt * L, L, 0], [0, -0.5 * tilt * L, L]])
    r0 = rng.random((400, 3)) @ cell
    A = np.array([[1.02, 0.05, 0], [0, 0.99, 0.01], [0, 0, 1.01]]) if deform else np.eye(3)
    cell1 = cell @ A.T
    r1 = r0 @ A.T + rng.normal(scale=scale, size=r0.shape)
    w0, _ = ssefeat.box.wrap_positions(r0, cell)
    w1, _ = ssefeat.box.wrap_positions(r1, cell1)
    ds = ssefeat.make_trajectory(np.stack([w0, w1]), ["Li"] * 400, cell=np.stack([cell, cell1]), timestep_ps=0.1,
                                 wrapped=True)
    ours = nonaffine_displacement(ds, 0, 1, cutoff, normalize="sum", strain=True)
    d2, shear, invalid = ovito_atomic_strain(w0, cell, w1, cell1, cutoff, tmp_path)
    valid = ours["valid"].values
    np.testing.assert_array_equal(valid, ~invalid)
    assert valid.sum() > 250 and (cutoff > 3 or (~valid).sum() > 20)
    np.testing.assert_allclose(ours["d2min"].values[valid], d2[valid], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours["shear_strain"].values[valid], shear[valid], rtol=1e-6, atol=1e-9)
