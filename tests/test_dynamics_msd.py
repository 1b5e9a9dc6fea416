"""MSD by FFT: exactness against the direct O(T^2) average, unwrapping, centre-of-mass drift, collective MSD."""
import numpy as np
import pytest

import ssefeat
from ssefeat.dynamics import _msd_kernels as K
from ssefeat.dynamics.msd import UnwrapError, collective_msd, mean_squared_displacement
from ssefeat.errors import ParameterError, SelectionError
from conftest import walkers

L = 12.0


def test_fft_equals_direct_per_atom_and_axis():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(257, 5, 3)), axis=0) + 100.0  # odd length, offset positions
    fft = K.msd_fft_atoms(x)
    direct = K.msd_direct(x)
    assert np.abs(fft - direct).max() < 1e-10 * max(1.0, direct.max())
    assert np.abs(fft - direct).max() < 1e-9


def test_api_msd_equals_direct_average_per_species_and_axis():
    ds = walkers()
    msd = mean_squared_displacement(ds, remove_com=False)
    assert msd.dims == ("lag", "species", "axis")
    assert list(msd.axis.values) == ["x", "y", "z", "total"]
    assert msd.attrs["units"] == "angstrom^2"
    np.testing.assert_allclose(msd.lag.values[:3], [0.0, 0.05, 0.1])
    pos = ds.positions.values
    for sp, sl in (("Li", slice(0, 6)), ("S", slice(6, 10))):
        direct = K.msd_direct(pos[:, sl]).mean(axis=1)
        got = msd.sel(species=sp)
        np.testing.assert_allclose(got.sel(axis=["x", "y", "z"]).values, direct, atol=1e-10)
        np.testing.assert_allclose(got.sel(axis="total").values, direct.sum(axis=1), atol=1e-10)
    assert int(msd.n_atoms.sel(species="Li")) == 6


def test_com_removal_makes_uniform_drift_vanish():
    rng = np.random.default_rng(2)
    n_frames, n = 100, 8
    lattice = rng.uniform(0, L, (n, 3))
    v = np.array([0.3, -0.2, 0.1])  # Å/ps, the whole crystal drifts
    t = np.arange(n_frames) * 0.1
    pos = lattice[None] + t[:, None, None] * v
    ds = ssefeat.make_trajectory(pos, ["Li"] * 4 + ["S"] * 4, cell=np.eye(3) * L, timestep_ps=0.1, wrapped=False)
    with_com = mean_squared_displacement(ds)
    without = mean_squared_displacement(ds, remove_com=False)
    assert np.abs(with_com.values).max() < 1e-20
    np.testing.assert_allclose(without.sel(species="Li", axis="total").values, (v @ v) * with_com.lag.values ** 2,
                               rtol=1e-9, atol=1e-12)
    assert "mass-weighted" in with_com.attrs["parameters"]


def test_com_removal_is_mass_weighted():
    # a heavy atom at rest and a light one moving: the COM moves by m_light v t / M, and that drift is removed
    n_frames = 50
    t = np.arange(n_frames) * 0.1
    pos = np.zeros((n_frames, 2, 3))
    pos[:, 0] = 5.0
    pos[:, 1, 0] = 1.0 + 2.0 * t
    ds = ssefeat.make_trajectory(pos, ["Li", "S"], cell=np.eye(3) * 20.0, timestep_ps=0.1, wrapped=False)
    m_li, m_s = ds.mass.values
    msd = mean_squared_displacement(ds, per_axis=False)
    frac_li = m_s / (m_li + m_s)  # Li moves by 2 t (1 - m_li / M) relative to the COM
    np.testing.assert_allclose(msd.sel(species="Li").values, (2.0 * frac_li * t) ** 2, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(msd.sel(species="S").values, (2.0 * m_li / (m_li + m_s) * t) ** 2, rtol=1e-10,
                               atol=1e-14)


def test_wrapped_trajectory_is_unwrapped_first():
    ds = walkers(step=0.2)
    ref = mean_squared_displacement(ds, remove_com=False)
    wrapped = ssefeat.wrap(ds).drop_vars("images")  # wrapped=1, no image flags: minimum-image unwrapping
    assert np.abs(wrapped.positions.values - ds.positions.values).max() > 1.0
    got = mean_squared_displacement(wrapped, remove_com=False)
    np.testing.assert_allclose(got.values, ref.values, atol=1e-8)
    assert "minimum image" in got.attrs["parameters"]
    with_images = mean_squared_displacement(ssefeat.wrap(ds), remove_com=False)
    np.testing.assert_allclose(with_images.values, ref.values, atol=1e-8)


def test_wrapped_steps_too_long_to_unwrap_raise():
    ds = walkers(step=2.0)  # ~3.5 Å steps in a 12 Å box
    wrapped = ssefeat.wrap(ds).drop_vars("images")
    with pytest.raises(UnwrapError, match="cannot unwrap safely"):
        mean_squared_displacement(wrapped)


def test_bad_input_messages():
    ds = walkers()
    with pytest.raises(SelectionError, match="no mobile species"):
        mean_squared_displacement(ds, species="Na")
    t = np.arange(ds.sizes["frame"]) * 0.05
    t[50:] += 0.01
    uneven = ds.assign_coords(time=("frame", t))
    with pytest.raises(ParameterError, match="not evenly spaced"):
        mean_squared_displacement(uneven)
    with pytest.raises(ParameterError, match="inconsistent timestep"):
        mean_squared_displacement(ds.assign_attrs(timestep_ps=50.0))
    with pytest.raises(ParameterError, match="at least 2"):
        mean_squared_displacement(ds.isel(frame=[0]))
    with pytest.raises(ParameterError, match="longer than the trajectory"):
        mean_squared_displacement(ds, max_lag=1e3)


def test_collective_msd_equals_direct():
    ds = walkers(n_frames=120)
    got = collective_msd(ds, "Li", remove_com=False)
    summed = ds.positions.values[:, :6].sum(axis=1, keepdims=True)
    direct = K.msd_direct(summed)[:, 0] / 6
    np.testing.assert_allclose(got.sel(axis=["x", "y", "z"]).values, direct, atol=1e-9)
    # one atom: the collective MSD is the tracer MSD
    one = collective_msd(ds.isel(atom=[0, 6]), "Li", remove_com=False)
    tracer = mean_squared_displacement(ds.isel(atom=[0, 6]), "Li", remove_com=False)
    np.testing.assert_allclose(one.values, tracer.sel(species="Li").values, atol=1e-9)


def test_collective_msd_with_charges():
    ds = walkers(n_frames=80)
    got = collective_msd(ds, ["Li", "S"], charges={"Li": 1.0, "S": -2.0}, remove_com=False)
    q = np.array([1.0] * 6 + [-2.0] * 4)
    series = np.einsum("fai,a->fi", ds.positions.values, q)[:, None, :]
    np.testing.assert_allclose(got.sel(axis="total").values, K.msd_direct(series)[:, 0].sum(axis=1) / 10, atol=1e-9)
    assert got.attrs["units"] == "e^2 angstrom^2"


def test_collective_msd_charges_must_cover_every_selected_species():
    ds = ssefeat.make_trajectory(np.random.default_rng(0).normal(size=(6, 4, 3)), ["Li", "Li", "S", "S"],
                                 timestep_ps=1.0)
    with pytest.raises(ParameterError, match="no charge for species"):
        collective_msd(ds, ["Li", "S"], charges={"Li": 1.0})


def _chunks(ds, size):
    return (ds.isel(frame=slice(a, a + size)) for a in range(0, ds.sizes["frame"], size))


@pytest.mark.parametrize("kind", ["wrapped", "images", "float32", "no_masses"])
def test_selection_with_system_com_equals_the_whole_trajectory(kind):
    """The mobile atoms plus the system's centre of mass streamed over frame chunks (unwrapping carried across the
    chunk borders) give the MSD, D, conductivity with Haven ratio and NGP of the whole trajectory."""
    from ssefeat.dynamics import conductivity, non_gaussian_parameter
    from ssefeat.dynamics.msd import select_with_system_com

    ds = walkers(n_frames=120, n_li=6, n_s=30, step=0.6, drift=(0.4, -0.2, 0.1))  # Li cross the box many times
    if kind == "images":
        ds = ssefeat.wrap(ds)
    else:
        ds = ssefeat.wrap(ds).drop_vars("images")  # minimum-image unwrapping between frames
        assert ds.attrs["wrapped"] == 1
    if kind == "float32":
        ds["positions"] = ds["positions"].astype(np.float32)
    if kind == "no_masses":
        ds = ds.drop_vars("mass")
    sub = select_with_system_com(_chunks(ds, 7), "Li")  # 7 does not divide 120: a short last chunk
    assert sub.sizes["atom"] == 6 and set(sub["species"].values) == {"Li"}
    assert sub["system_com"].dims == ("frame", "xyz") and sub["system_com"].attrs["n_atoms"] == 36
    want = mean_squared_displacement(ds, "Li")
    got = mean_squared_displacement(sub, "Li")
    np.testing.assert_allclose(got.values, want.values, rtol=1e-10, atol=1e-12)
    assert got.attrs["parameters"] == want.attrs["parameters"]  # same unwrapping and centre-of-mass weights
    assert not np.allclose(mean_squared_displacement(ds.isel(atom=slice(0, 6)), "Li").values, want.values,
                           rtol=1e-3)  # the drift of the Li alone would differ: the system's COM is what is used
    c1 = conductivity(ds, "Li", (0.5, 2.0), temperature_K=600.0, haven=True)
    c2 = conductivity(sub, "Li", (0.5, 2.0), temperature_K=600.0, haven=True)
    for v in ("D", "D_err", "sigma", "sigma_err", "haven_ratio", "D_sigma", "msd_collective", "number_density"):
        np.testing.assert_allclose(c2[v].values, c1[v].values, rtol=1e-10, atol=1e-14)
    n1, n2 = non_gaussian_parameter(ds, "Li"), non_gaussian_parameter(sub, "Li")
    np.testing.assert_allclose(n2["alpha2"].values, n1["alpha2"].values, rtol=1e-10, atol=1e-12)


def test_selection_with_system_com_refuses_steps_of_any_atom_too_long_to_unwrap():
    from ssefeat.dynamics.msd import select_with_system_com

    ds = walkers(n_frames=40, n_s=4)
    pos = ds["positions"].values.copy()
    pos[20:, 8] += 5.0  # an S atom (not selected) jumps 5 Å = 0.42 of the box between two frames
    ds = ssefeat.wrap(ds.copy(data={"positions": pos, "cell": ds["cell"].values})).drop_vars("images")
    with pytest.raises(UnwrapError, match="cannot unwrap safely"):
        mean_squared_displacement(ds, "Li")
    with pytest.raises(UnwrapError, match="cannot unwrap safely"):
        select_with_system_com(_chunks(ds, 8), "Li")
    with pytest.raises(SelectionError, match="no mobile species"):
        select_with_system_com(_chunks(ds, 8), "Na")
