"""D2min against OVITO's AtomicStrainModifier ("Nonaffine Squared Displacement", sum convention).

OVITO settings that match ssefeat's definition: neighbours within ``cutoff`` in the reference configuration
(an explicit StaticSource reference, ``use_frame_offset=False``), ``affine_mapping=Off`` (displacements from plain
Cartesian differences), ``minimum_image_convention=True`` (wrapped current positions are followed across the
boundary). ssefeat reads the same two frames as a wrapped trajectory and uses ``normalize="sum"``.
"""
import numpy as np
import pytest

import ssefeat
from ssefeat.dynamics.d2min import nonaffine_displacement

ovito = pytest.importorskip("ovito")


def _data_collection(pos, cell):
    from ovito.data import DataCollection

    dc = DataCollection()
    matrix = np.zeros((3, 4))
    matrix[:, :3] = np.asarray(cell).T  # OVITO stores cell vectors as columns, origin in column 4
    dc.create_cell(matrix, pbc=(True, True, True))
    particles = dc.create_particles(count=len(pos))
    particles.create_property("Position", data=np.asarray(pos, dtype=np.float64))
    return dc


def ovito_atomic_strain(r0, cell0, r1, cell1, cutoff):
    from ovito.modifiers import AtomicStrainModifier
    from ovito.pipeline import Pipeline, ReferenceConfigurationModifier, StaticSource

    pipeline = Pipeline(source=StaticSource(data=_data_collection(r1, cell1)))
    modifier = AtomicStrainModifier(cutoff=cutoff, output_nonaffine_squared_displacements=True,
                                    affine_mapping=ReferenceConfigurationModifier.AffineMapping.Off,
                                    use_frame_offset=False, minimum_image_convention=True,
                                    select_invalid_particles=True)
    modifier.reference = StaticSource(data=_data_collection(r0, cell0))
    pipeline.modifiers.append(modifier)
    data = pipeline.compute()
    return (np.asarray(data.particles["Nonaffine Squared Displacement"]),
            np.asarray(data.particles["Shear Strain"]), np.asarray(data.particles["Selection"]) != 0)


@pytest.mark.parametrize("tilt,scale", [(0.0, 0.2), (0.15, 0.35)])
def test_d2min_matches_ovito_atomic_strain(tilt, scale):
    rng = np.random.default_rng(11)
    L = 13.0
    cell = np.array([[L, 0, 0], [tilt * L, L, 0], [0, -0.5 * tilt * L, L]])
    r0 = rng.random((400, 3)) @ cell
    r1 = r0 + rng.normal(scale=scale, size=r0.shape)
    w0, _ = ssefeat.box.wrap_positions(r0, cell)
    w1, _ = ssefeat.box.wrap_positions(r1, cell)
    ds = ssefeat.make_trajectory(np.stack([w0, w1]), ["Li"] * 400, cell=cell, timestep_ps=0.1, wrapped=True)
    cutoff = 3.3
    ours = nonaffine_displacement(ds, 0, 1, cutoff, normalize="sum", strain=True)
    d2, shear, invalid = ovito_atomic_strain(w0, cell, w1, cell, cutoff)
    valid = ours["valid"].values
    np.testing.assert_array_equal(valid, ~invalid)
    assert valid.sum() > 350
    np.testing.assert_allclose(ours["d2min"].values[valid], d2[valid], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ours["shear_strain"].values[valid], shear[valid], rtol=1e-6, atol=1e-9)
