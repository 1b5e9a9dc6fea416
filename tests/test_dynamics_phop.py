"""p_hop (Candelier et al. 2010) and hop events: exact small cases, brute force, unwrapping, errors."""
import numpy as np
import pytest

from ssefeat.dynamics.hops import hop_events, hop_events_chunked, hop_table
from ssefeat.dynamics.phop import iter_phop, phop
from ssefeat.errors import ParameterError, SelectionError
from conftest import trajectory, vibrating

L = 20.0
CELL = np.eye(3) * L


def _traj(pos, species="Li", wrapped=True, **kw):
    """Li (or `species`) in the 20 Å box, 0.1 ps apart unless time= (ps) is given."""
    return trajectory(pos, CELL, species, wrapped, **(kw or {"timestep_ps": 0.1}))


def _phop_brute(x, h):
    """The definition, window by window (x: (T, 3) unwrapped positions of one atom)."""
    T = len(x)
    out = np.full(T, np.nan)
    for t in range(h, T - h):
        A, B = x[t - h:t + 1], x[t:t + h + 1]
        ma, mb = A.mean(0), B.mean(0)
        out[t] = np.sqrt(((A - mb) ** 2).sum(1).mean() * ((B - ma) ** 2).sum(1).mean())
    return out


def test_atom_at_rest_has_zero_phop():
    pos = np.repeat(np.array([[[3.3, 7.1, 19.9], [10.0, 10.0, 10.0]]]), 30, axis=0)
    res = phop(_traj(pos), t_R=1.0)  # h = 5 frames
    v = res["phop"].values
    assert np.all(v[5:25] == 0.0)
    assert np.isnan(v[:5]).all() and np.isnan(v[25:]).all()
    assert res["valid"].values[5:25].all() and not res["valid"].values[:5].any()
    assert res["phop"].attrs["half_window_frames"] == 5 and res["phop"].attrs["units"] == "angstrom^2"
    assert phop(_traj(pos), t_R=1.0, trim=True).sizes["frame"] == 20


def test_single_jump_matches_hand_computed_value():
    a, tj, h = 1.8, 10, 2
    x = np.zeros((21, 1, 3)) + 5.0
    x[tj:, 0, 0] += a
    res = phop(_traj(x), t_R_frames=2 * h)
    v = res["phop"].values[:, 0]
    # at t = tj: A = {0, 0, a} (mean a/3, var 2a^2/9), B = {a, a, a}; |<r>_A - <r>_B|^2 = 4a^2/9
    # <(r - <r>_B)^2>_A = 2a^2/9 + 4a^2/9 = 2a^2/3 ; <(r - <r>_A)^2>_B = 0 + 4a^2/9
    np.testing.assert_allclose(v[tj], np.sqrt(2 * a**2 / 3 * 4 * a**2 / 9), rtol=1e-12)
    np.testing.assert_allclose(v, _phop_brute(x[:, 0], h), rtol=1e-10, atol=1e-12, equal_nan=True)
    assert v[tj - h - 1] < 1e-12 and v[tj + h + 1] < 1e-12  # windows on one side of the jump: 0 to round-off
    np.testing.assert_allclose(res["window_displacement"].values[tj, 0], 2 * a / 3)


def test_random_walk_matches_brute_force_and_unwrapping():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(scale=0.4, size=(80, 6, 3)), axis=0) + rng.random((1, 6, 3)) * L
    wrapped = phop(_traj(x, wrapped=True), t_R_frames=8)
    plain = phop(_traj(x, wrapped=False), t_R_frames=8)
    np.testing.assert_allclose(wrapped["phop"].values, plain["phop"].values, rtol=1e-9, equal_nan=True)
    for a in range(6):
        np.testing.assert_allclose(plain["phop"].values[:, a], _phop_brute(x[:, a], 4), rtol=1e-9, atol=1e-10,
                                   equal_nan=True)


@pytest.mark.parametrize("chunk", [1, 4, 25, 100])
def test_chunked_phop_equals_one_shot(chunk):
    import xarray as xr

    rng = np.random.default_rng(5)
    x = np.cumsum(rng.normal(scale=0.3, size=(50, 4, 3)), axis=0) + rng.random((1, 4, 3)) * L
    ds = _traj(x)
    parts = iter_phop((ds.isel(frame=slice(s, s + chunk)) for s in range(0, 50, chunk)), t_R=1.2)
    got = xr.concat(list(parts), "frame")
    want = phop(ds, t_R=1.2)
    assert list(got["frame"].values) == list(range(50))
    np.testing.assert_allclose(got["phop"].values, want["phop"].values, rtol=1e-8, atol=1e-12, equal_nan=True)
    with pytest.raises(ParameterError, match="too few frames"):
        list(iter_phop((ds.isel(frame=slice(s, s + chunk)) for s in range(0, 50, chunk)), t_R=6.0))


def test_phop_errors():
    x = np.zeros((10, 2, 3)) + 4.0
    ds = _traj(x, species=["Li", "S"])
    with pytest.raises(ParameterError, match="too few frames"):
        phop(ds, t_R=1.0)  # 11 frames needed
    with pytest.raises(ParameterError, match="shorter than two frames"):
        phop(ds, t_R=0.05)
    with pytest.raises(SelectionError, match="no atoms of species"):
        phop(ds, t_R=0.4, species="Na")
    with pytest.raises(ParameterError, match="exactly one"):
        phop(ds)
    uneven = _traj(x, time=np.r_[np.arange(9) * 0.1, 2.0])
    with pytest.raises(ParameterError, match="not evenly spaced"):
        phop(uneven, t_R=0.4)
    jumpy = x.copy()
    jumpy[5:, 0, 0] += 8.0  # 0.4 of the box in one stored step
    with pytest.raises(ParameterError, match="cannot be unwrapped safely"):
        phop(_traj(jumpy), t_R=0.4)


def test_hop_events_positions_lengths_and_rates():
    rng = np.random.default_rng(7)
    T = 100
    x = np.repeat(rng.random((1, 3, 3)) * L, T, axis=0) + rng.normal(scale=0.05, size=(T, 3, 3))
    x[40:, 0] += [2.6, 0, 0]
    x[70:, 0] += [0, 2.6, 0]  # atom 0 hops twice
    x[20:, 2] += [0, 0, -3.0]  # atom 2 hops once, atom 1 rattles
    ds = _traj(x, species=["Li", "Li", "S"])
    for method, threshold in (("phop", 0.5), ("displacement", 1.2)):
        ev = hop_events(ds, t_R=1.0, threshold=threshold, method=method)
        table = hop_table(ev)
        assert list(table["atom"]) == [0, 0, 2]
        assert all(abs(f - g) <= 1 for f, g in zip(table["frame"], [39, 69, 19]))
        np.testing.assert_allclose(table["hop_length"], [2.6, 2.6, 3.0], atol=0.1)
        np.testing.assert_allclose(ev["hop_vector"].values[2], [0, 0, -3.0], atol=0.1)
        span = (T - 1 - 10) * 0.1
        np.testing.assert_allclose(ev["rate"].values, [2 / span, 0, 1 / span])
        assert ev["rate"].attrs["units"] == "1/ps"
    li = hop_events(ds, t_R=1.0, threshold=0.5, species="Li")
    assert list(li["atom"].values) == [0, 1] and list(li["event_atom"].values) == [0, 0]
    with pytest.raises(ParameterError, match="threshold"):
        hop_events(ds, t_R=1.0, threshold=-1)


def _hopping(T=150, n=12, seed=11):
    """Li ions vibrating on sites and hopping 2.6 Å at random times (some across the boundary), and S at rest."""
    rng = np.random.default_rng(seed)
    x = vibrating(T, n + 2, CELL, 0.05, rng)
    for i in range(n):
        for t in rng.choice([20, 45, 70, 95, 120], size=rng.integers(0, 4), replace=False):  # 2.5 t_R apart
            x[t:, i, rng.integers(3)] += 2.6 * rng.choice([-1, 1])
    return _traj(x, species=["Li"] * n + ["S"] * 2)


@pytest.mark.parametrize("chunk", [4, 11, 40, 500])
@pytest.mark.parametrize("method,threshold", [("phop", 0.5), ("displacement", 1.2)])
def test_chunked_hop_events_equal_one_shot(chunk, method, threshold):
    ds = _hopping()
    want = hop_events(ds, t_R=1.0, threshold=threshold, species="Li", method=method)
    assert want.sizes["event"] >= 10
    calls = []

    def read_chunks():
        calls.append(1)
        return (ds.isel(frame=slice(s, s + chunk)) for s in range(0, ds.sizes["frame"], chunk))

    got = hop_events_chunked(read_chunks, t_R=1.0, threshold=threshold, species="Li", method=method)
    assert len(calls) == 2
    for name in ("event_atom", "event_frame", "event_time", "n_events", "rate"):
        np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
    np.testing.assert_allclose(got["score"].values, want["score"].values, rtol=1e-12)  # blocks unwrap apart
    np.testing.assert_allclose(got["hop_vector"].values, want["hop_vector"].values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["hop_length"].values, 2.6, atol=0.15)  # the hops are there, whole
    assert got.attrs["analysis"] == "hop_events"


def test_cli_labels_phop_and_hops(tmp_path):
    import pandas as pd
    import xarray as xr
    from click.testing import CliRunner

    from ssefeat.cli import main
    from ssefeat.io import write

    x = np.zeros((40, 2, 3)) + [[3.0, 3.0, 3.0], [10.0, 10.0, 10.0]]
    x[20:, 0, 0] += 2.5
    ds = _traj(x, species=["Li", "S"])
    write(ds, tmp_path / "traj.nc")
    runner = CliRunner()
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "p_hop", "--tR", "1.0", "--species",
                               "Li", "-o", str(tmp_path / "phop.nc")])
    assert res.exit_code == 0, res.output
    got = xr.open_dataset(tmp_path / "phop.nc")
    np.testing.assert_allclose(got["phop"].values, phop(ds, t_R=1.0, species="Li")["phop"].values, equal_nan=True)
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "hops", "--tR", "1.0", "--threshold",
                               "0.5", "-o", str(tmp_path / "hops.csv")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "hops.csv")
    assert list(table["atom"]) == [0] and abs(table["frame"][0] - 19.5) <= 0.5
    # hops read 7 frames at a time (two passes) give the one-shot events
    write(_hopping(), tmp_path / "hopping.nc")
    res = runner.invoke(main, ["labels", str(tmp_path / "hopping.nc"), "--kind", "hops", "--tR", "1.0", "--threshold",
                               "0.5", "--species", "Li", "--chunk", "7", "-o", str(tmp_path / "hopping.csv"), "-q"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "hopping.csv")
    want = hop_table(hop_events(_hopping(), t_R=1.0, threshold=0.5, species="Li"))
    assert len(table) == len(want) >= 10
    np.testing.assert_array_equal(table[["atom", "frame"]].values, want[["atom", "frame"]].values)
    np.testing.assert_allclose(table[["dx", "dy", "dz"]].values, want[["dx", "dy", "dz"]].values, atol=1e-6)
    res = runner.invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "p_hop", "--tR", "10.0",
                               "-o", str(tmp_path / "bad.nc")])
    assert res.exit_code == 2 and "too few frames" in res.output


def test_figures_of_labels(tmp_path):
    from ssefeat.plots.labels import phop_traces
    from ssefeat.plots.style import save

    x = np.zeros((40, 2, 3)) + [[3.0, 3.0, 3.0], [10.0, 10.0, 10.0]]
    x[20:, 0, 0] += 2.5
    ds = _traj(x)
    labels = phop(ds, t_R=1.0)
    events = hop_events(ds, threshold=0.5, labels=labels, species="Li")
    assert events.sizes["event"] == 1
    fig = phop_traces(labels, events=events, threshold=0.5)
    save(fig, tmp_path / "phop.png")
    assert (tmp_path / "phop.png").stat().st_size > 0


def test_cli_label_kinds_are_the_registry():
    """`ssefeat labels --kind` offers exactly the registry's kinds, spelled as the pipeline's labels.kind."""
    from click.testing import CliRunner

    from ssefeat.cli import main
    from ssefeat.cli.labels_commands import KINDS
    from ssefeat.dynamics.labels import LABEL_KINDS, PIPELINE_KINDS

    assert list(KINDS) == list(LABEL_KINDS)
    assert set(PIPELINE_KINDS) <= set(KINDS)
    res = CliRunner().invoke(main, ["labels", "x.nc", "--kind", "phop"])
    assert res.exit_code == 2 and "p_hop" in res.output
