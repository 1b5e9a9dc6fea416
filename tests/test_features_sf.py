"""Structure functions: brute-force reference, invariances, dscribe ACSF, parameter sets, bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat import box
from ssefeat.errors import ModelFileError, ParameterError, SchemaError
from ssefeat.features.parameters import ParameterSet, kob_andersen, li_sulfide, resolve
from ssefeat.features.structure_functions import compute_frame, structure_functions
from conftest import TRICLINIC, random_config, trajectory

CELL = TRICLINIC


def small_params(cutoff_function="hard", rc=3.9):
    return ParameterSet(centre="Li", radial_species=("Li", "S"), mu=np.arange(0.5, 4.0, 0.25), width=(0.15, 0.4),
                        angular_species=(("Li", "Li"), ("Li", "S"), ("S", "S")), xi=(1.5, 3.0),
                        lambdas=(-1.0, 0.5, 1.0), zeta=(1.0, 1.5, 4.0), radial_cutoff=rc, angular_cutoff=rc - 0.4,
                        cutoff_function=cutoff_function)


def brute_force(pos, cell, spec, params, stats=None):
    """O(N^3) reference: explicit loops over all pairs and triplets, minimum image everywhere."""
    smooth = params.cutoff_function == "cosine"

    def fc(r, rc):
        if r >= rc:
            return 0.0
        return 0.5 * (math.cos(math.pi * r / rc) + 1) if smooth else 1.0

    centres = [i for i in range(len(pos)) if spec[i] == params.centre]
    out = np.zeros((len(centres), params.n_features))
    n_mu, n_l = len(params.mu), len(params.width)
    n_ang = len(params.xi) * len(params.lambdas) * len(params.zeta)
    for row, i in enumerate(centres):
        for j in range(len(pos)):
            if j == i or spec[j] not in params.radial_species:
                continue
            r = np.linalg.norm(box.minimum_image(pos[j] - pos[i], cell))
            if r >= params.radial_cutoff:
                continue
            for m, mu in enumerate(params.mu):
                for l, L in enumerate(params.width):
                    col = (params.radial_species.index(spec[j]) * n_mu + m) * n_l + l
                    out[row, col] += math.exp(-(r - mu) ** 2 / (2 * L * L)) * fc(r, params.radial_cutoff)
        rc = params.angular_cutoff
        for j in range(len(pos)):
            for k in range(j + 1, len(pos)):  # unordered pairs of distinct atoms
                if i in (j, k):
                    continue
                blocks = [b for b, (y, z) in enumerate(params.angular_species)
                          if (spec[j] == y and spec[k] == z) or (spec[j] == z and spec[k] == y)]
                if not blocks:
                    continue
                vij = box.minimum_image(pos[j] - pos[i], cell)
                vik = box.minimum_image(pos[k] - pos[i], cell)
                rij, rik = np.linalg.norm(vij), np.linalg.norm(vik)
                if rij >= rc or rik >= rc:
                    continue
                vjk = vik - vij  # the triangle of the two neighbour images (as dscribe's extended cell)
                if stats is not None and not np.allclose(vjk, box.minimum_image(vjk, cell)):
                    stats["imaged"] = stats.get("imaged", 0) + 1
                rjk = np.linalg.norm(vjk)
                w = fc(rij, rc) * fc(rik, rc) * (fc(rjk, rc) if smooth else 1.0)
                cos = vij @ vik / (rij * rik)
                col = params.n_radial + blocks[0] * n_ang
                for xi in params.xi:
                    for lam in params.lambdas:
                        for zeta in params.zeta:
                            out[row, col] += (w * math.exp(-(rij ** 2 + rik ** 2 + rjk ** 2) / xi ** 2)
                                              * (1 + lam * cos) ** zeta)
                            col += 1
    return out


@pytest.mark.parametrize("cutoff_function", ["hard", "cosine"])
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_brute_force_triclinic(cutoff_function, seed):
    pos, spec = random_config(seed=seed)
    params = small_params(cutoff_function)
    got = compute_frame(pos, CELL, spec, params)
    ref = brute_force(pos, CELL, spec, params)
    assert got.shape == ref.shape == ((spec == "Li").sum(), params.n_features)
    assert np.abs(ref).max() > 0.5 and (ref[:, params.n_radial:] != 0).any()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def test_rjk_is_the_triangle_side_not_a_minimum_image():
    """With r_c close to half the cell width, some r_ik - r_ij are longer than half a width: r_jk must stay the
    side of the triangle (j, i, k), not the minimum image of another periodic copy of k."""
    pos, spec = random_config(seed=3)
    params = small_params("hard", rc=4.15)
    params = params.replace(angular_cutoff=4.15)
    got = compute_frame(pos, CELL, spec, params)
    stats = {}
    np.testing.assert_allclose(got, brute_force(pos, CELL, spec, params, stats), rtol=1e-10, atol=1e-10)
    assert stats.get("imaged", 0) > 0  # some r_ik - r_ij differ from their minimum image


@pytest.mark.parametrize("cutoff_function", ["hard", "cosine"])
def test_replicated_cell_gives_the_same_features(cutoff_function):
    """The local environment is the same in a 2x2x2 supercell, so the features must be too (r_c > width / 4)."""
    pos, spec = random_config(seed=3)
    params = small_params(cutoff_function, rc=4.15).replace(angular_cutoff=4.15)
    shifts = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)]) @ CELL
    big = (pos[None] + shifts[:, None]).reshape(-1, 3)
    got = compute_frame(pos, CELL, spec, params)
    ref = compute_frame(big, 2 * CELL, np.tile(spec, 8), params)[:len(got)]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def _rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_invariances():
    pos, spec = random_config(seed=5)
    params = small_params("cosine")
    ref = compute_frame(pos, CELL, spec, params)
    # translation (and wrapping back into the cell)
    shifted, _ = box.wrap_positions(pos + np.array([3.3, -7.1, 11.9]), CELL)
    np.testing.assert_allclose(compute_frame(shifted, CELL, spec, params), ref, rtol=1e-10, atol=1e-12)
    # rotation of positions and cell together
    rot = _rotation(7)
    np.testing.assert_allclose(compute_frame(pos @ rot.T, CELL @ rot.T, spec, params), ref, rtol=1e-10, atol=1e-12)
    # re-wrapping: move atoms by whole lattice vectors
    images = np.random.default_rng(2).integers(-2, 3, size=pos.shape)
    np.testing.assert_allclose(compute_frame(pos + images @ CELL, CELL, spec, params), ref, rtol=1e-10, atol=1e-12)
    # permutation of atoms: rows follow the atoms (compare through the atom coordinate)
    perm = np.random.default_rng(4).permutation(len(pos))
    ds = trajectory(pos, CELL, spec)
    dsp = trajectory(pos[perm], CELL, spec[perm], atom=perm)
    a = structure_functions(ds, params)
    b = structure_functions(dsp, params).sortby("atom")
    np.testing.assert_allclose(b.values, a.values, rtol=1e-10, atol=1e-12)
    assert (b.atom.values == a.atom.values).all()


def test_dscribe_acsf_agreement():
    """Mapping to dscribe 2.1 ACSF (cosine cutoff r_c):

    G2 = sum_j exp(-eta (r_ij - Rs)^2) fc(r_ij)            ->  eta = 1 / (2 L^2), Rs = mu: G2 == G(mu, L)
    G4 = sum_{j, k<j} 2 (0.5 (1 + lambda cos))^zeta exp(-eta (r_ij^2 + r_ik^2 + r_jk^2)) fc fc fc
       = 2^(1 - zeta) sum_{unordered pairs} ...            ->  eta = 1 / xi^2:  G4 == 2^(1 - zeta) Psi
    dscribe's r_jk is |r_ik - r_ij| (images of the extended cell), as ours.
    """
    from ase import Atoms
    from dscribe.descriptors import ACSF

    cell = CELL * 1.9
    rc = 3.6
    assert rc < 0.25 * box.perpendicular_widths(cell).min()
    pos, spec = random_config(n=150, cell=cell, seed=11, min_sep=1.2)
    params = ParameterSet(centre="Li", radial_species=("Li", "P", "S"), mu=(1.0, 2.0, 2.5, 3.2), width=(0.3, 0.6),
                          angular_species=(("Li", "Li"), ("Li", "P"), ("Li", "S"), ("P", "P"), ("P", "S"),
                                           ("S", "S")),
                          xi=(2.0, 3.5), lambdas=(-1.0, 1.0), zeta=(1.0, 2.0, 3.5), radial_cutoff=rc,
                          cutoff_function="cosine")
    ours = compute_frame(pos, cell, spec, params)

    g2 = [[1 / (2 * L * L), mu] for mu in params.mu for L in params.width]
    g4 = [[1 / xi ** 2, zeta, lam] for xi in params.xi for lam in params.lambdas for zeta in params.zeta]
    acsf = ACSF(r_cut=rc, g2_params=g2, g4_params=g4, species=["Li", "P", "S"], periodic=True)
    atoms = Atoms(symbols=list(spec), positions=pos, cell=cell, pbc=True)
    centres = np.flatnonzero(spec == "Li")
    theirs = acsf.create(atoms, centers=centres)
    # dscribe layout: species sorted by Z (Li, P, S): [G1, G2...] each; then pairs (a >= b) at a(a+1)/2 + b
    order = ["Li", "P", "S"]
    n2, n4 = len(g2), len(g4)
    rad = np.concatenate([theirs[:, order.index(y) * (1 + n2) + 1: order.index(y) * (1 + n2) + 1 + n2]
                          for y in params.radial_species], axis=1)
    zeta = np.array([g[1] for g in g4])
    ang = []
    for y, z in params.angular_species:
        a, b = sorted((order.index(y), order.index(z)), reverse=True)
        start = 3 * (1 + n2) + (a * (a + 1) // 2 + b) * n4
        ang.append(theirs[:, start:start + n4] * 2.0 ** (zeta - 1))  # undo dscribe's 2^(1 - zeta)
    ang = np.concatenate(ang, axis=1)
    assert np.abs(ang).max() > 1e-3
    np.testing.assert_allclose(ours[:, :params.n_radial], rad, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours[:, params.n_radial:], ang, rtol=1e-9, atol=1e-10)


def test_xarray_layout_chunks_and_no_neighbours():
    pos, spec = random_config(n=20, seed=8)
    rng = np.random.default_rng(0)
    frames = np.stack([pos + rng.normal(scale=0.05, size=pos.shape) for _ in range(5)])
    # one Li atom with no neighbour at all: give it a cell corner far from everyone in a frame
    ds = trajectory(frames, CELL, spec, time=np.arange(5) * 0.5)
    params = small_params()
    X = structure_functions(ds, params)
    assert X.dims == ("frame", "atom", "feature")
    assert X.sizes["atom"] == (spec == "Li").sum() and X.sizes["feature"] == params.n_features
    assert (X.species == "Li").all() and list(X.time.values) == [0, 0.5, 1.0, 1.5, 2.0]
    assert np.isfinite(X.values).all()
    assert X.attrs["parameter_fingerprint"] == params.fingerprint and X.attrs["units"] == "1"
    # chunk by chunk gives the same frames and values
    parts = xr.concat([structure_functions(ds.isel(frame=slice(0, 2)), params),
                       structure_functions(ds.isel(frame=slice(2, 5)), params)], dim="frame")
    np.testing.assert_array_equal(parts.values, X.values)
    assert list(parts.frame.values) == list(X.frame.values)
    one = structure_functions(ds, params, frames=3)
    np.testing.assert_array_equal(one.values[0], X.values[3])
    # float32 positions and a changing (NPT) cell: each frame uses its own cell
    scale = np.linspace(1.0, 1.06, 5)
    cells = CELL[None] * scale[:, None, None]
    npt = trajectory((frames * scale[:, None, None]).astype(np.float32), cells, spec)
    Y = structure_functions(npt, params)
    for f in range(5):
        ref = compute_frame(npt.positions.values[f].astype(np.float64), cells[f], spec, params)
        np.testing.assert_array_equal(Y.values[f], ref)
    assert not np.allclose(Y.values[0], Y.values[4])
    # features are self-describing: the parameter set is rebuilt from the coordinates
    assert ParameterSet.from_feature_coords(X) == params
    with pytest.raises(ParameterError, match="complete parameter grid"):
        ParameterSet.from_feature_coords(X.isel(feature=slice(1, None)))


def test_isolated_atom_gets_zeros():
    cell = np.eye(3) * 20.0
    pos = np.array([[1.0, 1, 1], [2.5, 1, 1], [4.0, 1.0, 1.0], [11.0, 11.0, 11.0]])
    spec = np.array(["Li", "Li", "S", "Li"])
    params = small_params("cosine")
    out = compute_frame(pos, cell, spec, params)
    assert (out[2] == 0).all() and out[0].any() and np.isfinite(out).all()


def test_bad_input():
    pos, spec = random_config(n=20, seed=9)
    ds = trajectory(pos, CELL, spec)
    with pytest.raises(ParameterError, match=r"species \['Na'\] that are not in the trajectory"):
        structure_functions(ds, small_params().replace(radial_species=("Li", "Na")))
    with pytest.raises(ParameterError, match="not in the trajectory"):
        structure_functions(ds, small_params(), centre="Na")
    with pytest.raises(ParameterError, match="not below half the smallest cell width"):
        structure_functions(ds, small_params(rc=4.5))
    bad = pos.copy()
    bad[5] = bad[0] + 0.01
    with pytest.raises(SchemaError, match="atoms (100 and 105|105 and 100) overlap in frame 0: distance 0.0173"):
        structure_functions(trajectory(bad, CELL, spec, atom=np.arange(100, 120)), small_params())
    bad[5] = bad[0]  # coincident atoms are reported too
    with pytest.raises(SchemaError, match="overlap"):
        structure_functions(trajectory(bad, CELL, spec), small_params())
    with pytest.raises(ParameterError, match="lambda must lie"):
        small_params().replace(lambdas=(2.0,))
    with pytest.raises(ParameterError, match="no feature"):
        ParameterSet(centre="Li")
    with pytest.raises(ssefeat.errors.NoCellError):
        structure_functions(ssefeat.make_trajectory(pos, spec), small_params())


def test_parameter_sets_json_and_fingerprint(tmp_path):
    for p in (li_sulfide(), kob_andersen(), small_params("cosine")):
        again = ParameterSet.from_json(p.to_json())
        assert again == p and again.fingerprint == p.fingerprint
        assert len(p.feature_names()) == len(set(p.feature_names())) == p.n_features
    p = li_sulfide()
    assert p.n_radial == 102 and p.n_angular == 16 and p.mu[0] == 1.5 and p.mu[-1] == 6.5
    assert kob_andersen().n_features == 84
    thesis = li_sulfide(neighbours=("Li",))  # Li softness from Li-Li structure only
    assert thesis.neighbour_species == ("Li",) and thesis.n_features == 51 + 8
    path = tmp_path / "params.json"
    p.to_json(path)
    assert ParameterSet.from_json(path) == p == resolve(str(path)) == resolve("li_sulfide")
    assert p.replace(name="other").fingerprint == p.fingerprint  # the label does not change features
    assert p.replace(width=(0.2,)).fingerprint != p.fingerprint
    assert p.replace(angular_species=(("S", "Li"), ("Li", "Li"))).angular_species == (("Li", "S"), ("Li", "Li"))
    data = json.loads(path.read_text())
    data["width"] = [0.3]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="fingerprint"):
        ParameterSet.from_json(path)
    with pytest.raises(ParameterError, match="unknown structure-function parameters"):
        ParameterSet.from_dict({"centre": "Li", "bogus": 1})
