"""Bond switching categories on hand-built shells."""
import numpy as np
import pytest
import xarray as xr

import ssefeat
from ssefeat.dynamics.bond_switching import CATEGORIES, bond_switching, iter_bond_switching
from ssefeat.errors import ParameterError, SelectionError
from conftest import random_walk, trajectory

L = 20.0


def _case():
    """Five B centres with hand-placed O shells; frame 1 changes them in known ways (cutoff 1.8 Å)."""
    B = np.array([[5, 5, 5], [15, 5, 5], [5, 15, 5], [15, 15, 15], [0.3, 10, 10]], float)
    O0 = [  # frame 0
        [6.4, 5, 5], [3.6, 5, 5], [5, 6.4, 5],            # B0: CN 3
        [16.4, 5, 5], [13.6, 5, 5], [15, 6.4, 5],         # B1: CN 3
        [6.4, 15, 5], [3.6, 15, 5], [5, 17.5, 5],         # B2: CN 2 (+ one O at 2.5 Å)
        [16.4, 15, 15], [13.6, 15, 15], [15, 15, 17.6],   # B3: CN 2 (+ one O at 2.6 Å)
        [19.5, 10, 10], [1.5, 10, 10], [0.3, 11.4, 10],   # B4: CN 3 across the periodic boundary
    ]
    O1 = [list(o) for o in O0]
    O1[0][0] += 0.1                    # B0 jiggles: unchanged
    O1[5] = [15, 7.5, 5]               # B1 loses an O: decreased
    O1[8] = [5, 16.2, 5]               # B2 gains an O: increased
    O1[9] = [17.2, 15, 15]             # B3: one O leaves ...
    O1[11] = [15, 15, 16.3]            # ... another arrives: swapped
    O1[12] = [19.4, 10, 10]            # B4 jiggles across the boundary: unchanged
    pos = np.array([np.vstack([B, O0]), np.vstack([B, O1])])
    pos = ssefeat.box.wrap_positions(pos, np.eye(3) * L)[0]
    species = ["B"] * 5 + ["O"] * 15
    return ssefeat.make_trajectory(pos, species, cell=np.eye(3) * L, timestep_ps=1.0, wrapped=True)


def test_categories_on_hand_built_cases():
    res = bond_switching(_case(), 0, "B", "O", 1.8)
    code = res["category_code"].values
    assert list(code[0]) == [0, 0, 0, 0, 0]
    assert [CATEGORIES[c] for c in code[1]] == ["unchanged", "decreased", "increased", "swapped", "unchanged"]
    assert list(res["cn_reference"].values) == [3, 3, 2, 2, 3]
    assert list(res["cn"].values[1]) == [3, 2, 3, 2, 3]
    assert list(res["n_broken"].values[1]) == [0, 1, 0, 1, 0]
    assert list(res["n_formed"].values[1]) == [0, 0, 1, 1, 0]
    assert list(res["counts"].sel(frame=1).values) == [2, 1, 1, 1]
    assert list(res["counts"].sel(frame=0).values) == [5, 0, 0, 0]
    assert list(res["atom"].values) == [0, 1, 2, 3, 4]
    # relative to frame 1 the changes are mirrored
    back = bond_switching(_case(), 1, "B", "O", 1.8)
    assert [CATEGORIES[c] for c in back["category_code"].values[0]] == \
        ["unchanged", "increased", "decreased", "swapped", "unchanged"]


def _walkers(n_frames=23, seed=0):
    """30 Li and 60 S random walkers in a 14 Å box (wrapped): shells change in every way over time."""
    cell = np.eye(3) * 14.0
    pos = random_walk(n_frames, 90, 0.35, cell, seed)
    return trajectory(pos, cell, ["Li"] * 30 + ["S"] * 60, wrapped=True, timestep_ps=0.5)


@pytest.mark.parametrize("reference", [0, 9, 22])
@pytest.mark.parametrize("chunk", [1, 4, 7, 23, 50])
def test_chunked_switching_equals_one_shot(chunk, reference):
    ds = _walkers()
    want = bond_switching(ds, reference, "Li", "S", 3.0)
    counts = want["counts"].values.sum(axis=0)
    assert np.all(counts[1:] > 0)  # every kind of change occurs: the comparison is not trivial
    chunks = (ds.isel(frame=slice(s, s + chunk)) for s in range(0, 23, chunk))
    parts = list(iter_bond_switching(chunks, reference, "Li", "S", 3.0))
    assert len(parts) == -(-23 // chunk)
    assert [int(p["frame"].values[0]) for p in parts] == list(range(0, 23, chunk))
    got = xr.concat(parts, dim="frame", data_vars="minimal", coords="minimal", compat="override")
    xr.testing.assert_equal(got, want)
    assert all(p.attrs["analysis"] == "bond_switching" for p in parts)


def test_chunked_switching_errors():
    ds = _walkers(6)
    with pytest.raises(ParameterError, match="outside the trajectory"):
        list(iter_bond_switching((ds.isel(frame=slice(s, s + 2)) for s in range(0, 6, 2)), 6, "Li", "S", 3.0))
    with pytest.raises(ParameterError, match="no trajectory chunks"):
        list(iter_bond_switching(iter([]), 0, "Li", "S", 3.0))
    with pytest.raises(SelectionError, match="no atoms of"):
        list(iter_bond_switching([ds], 0, "Na", "S", 3.0))
    other = ds.isel(atom=slice(0, 80))
    with pytest.raises(ParameterError, match="different atoms"):
        list(iter_bond_switching([ds, other], 0, "Li", "S", 3.0))


def test_switching_errors():
    ds = _case()
    with pytest.raises(SelectionError, match="no atoms of"):
        bond_switching(ds, 0, "Li", "O", 1.8)
    with pytest.raises(ParameterError, match="half the smallest cell width"):
        bond_switching(ds, 0, "B", "O", 10.5)
    with pytest.raises(ParameterError, match="outside the trajectory"):
        bond_switching(ds, 4, "B", "O", 1.8)


def test_cli_labels_switching(tmp_path):
    import xarray as xr
    from click.testing import CliRunner

    from ssefeat.cli import main
    from ssefeat.io import write

    write(_case(), tmp_path / "traj.nc")
    res = CliRunner().invoke(main, ["labels", str(tmp_path / "traj.nc"), "--kind", "switching", "--species", "B",
                                    "--neighbor-species", "O", "--cutoff", "1.8", "-o", str(tmp_path / "sw.nc"),
                                    "-q"])
    assert res.exit_code == 0, res.output
    got = xr.open_dataset(tmp_path / "sw.nc")
    assert list(got["category_code"].values[1]) == [0, 1, 2, 3, 0]
    assert list(got["counts"].values[1]) == [2, 1, 1, 1]
    # read 4 frames at a time, reference in the third chunk: the same as the one-shot function
    write(_walkers(), tmp_path / "walk.nc")
    res = CliRunner().invoke(main, ["labels", str(tmp_path / "walk.nc"), "--kind", "switching", "--species", "Li",
                                    "--neighbor-species", "S", "--cutoff", "3.0", "--reference", "9", "--chunk", "4",
                                    "-o", str(tmp_path / "walk_sw.nc"), "-q"])
    assert res.exit_code == 0, res.output
    want = bond_switching(_walkers(), 9, "Li", "S", 3.0)
    with xr.open_dataset(tmp_path / "walk_sw.nc") as chunked:
        for name in ("category_code", "cn", "n_broken", "n_formed", "counts", "cn_reference"):
            np.testing.assert_array_equal(chunked[name].values, want[name].values)


def test_switching_figure(tmp_path):
    from ssefeat.plots.labels import switching_fractions
    from ssefeat.plots.style import save

    save(switching_fractions(bond_switching(_case(), 0, "B", "O", 1.8)), tmp_path / "sw.png")
    assert (tmp_path / "sw.png").stat().st_size > 0
