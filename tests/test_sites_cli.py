"""``ssefeat sites``: a structure-site run end to end (DataTree, figures) and refused input (one error line, exit 2,
the old output kept)."""
import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import ssefeat
from ssefeat import io as sio
from ssefeat.cli import main
from ssefeat.sites import sites_from_structure

from test_sites import CIF, site_hopping_walk


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])  # output holds stdout and stderr


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory):
    sites = sites_from_structure(CIF["li3ps4"], species="Li", supercell=(1, 1, 2))
    pos = site_hopping_walk(sites.fractional, sites.reference_cell, 16, 400, seed=2)
    ds = ssefeat.make_trajectory(pos, ["Li"] * 16, cell=sites.reference_cell, timestep_ps=0.1, temperature_K=600.0,
                                 wrapped=False)
    path = tmp_path_factory.mktemp("sites") / "walk.nc"
    sio.write(ds, path)
    return path


def test_sites_command_writes_tree_and_figures(walk_file, tmp_path):
    out, figs = tmp_path / "sites.nc", tmp_path / "figs"
    res = run("sites", walk_file, "--structure", CIF["li3ps4"], "--supercell", 1, 1, 2, "--species", "Li",
              "--radius", 1.2, "--collective-window", 0.5, "-o", out, "--plot", figs)
    assert res.exit_code == 0, res.output
    tree = xr.open_datatree(out)
    n = tree["jumps"].sizes["jump"]
    assert n > 50 and f"{n} jumps" in res.output
    assert int(tree["rates"]["n_jumps"].sum()) == n
    assert "f = " in res.output and np.isfinite(float(tree["correlation"]["f"]))
    assert tree["occupancy"]["site_index"].shape == (400, 16)
    assert {p.name for p in figs.iterdir()} == {"site_rate_matrix.png", "site_residence_times.png",
                                                "site_occupancy.png"}


def test_sites_command_refuses_bad_input(walk_file, tmp_path):
    out = tmp_path / "sites.nc"
    out.write_text("old result")
    for args, words in [(("--radius", 1.5), "largest radius that does not overlap is 1.433"),
                        (("--radius", 0.0), "positive length"),
                        (("--radius", 1.0, "--species", "Na"), "not in the structure"),
                        (("--radius", 1.0, "--supercell", 1, 1, 1), "does not match the trajectory")]:
        extra = [] if "--supercell" in args else ["--supercell", 1, 1, 2]
        res = run("sites", walk_file, "--structure", CIF["li3ps4"], *extra, *args, "-o", out)
        assert res.exit_code == 2, res.output
        assert res.output.count("ssefeat error:") == 1 and words in res.output and "Traceback" not in res.output
    assert out.read_text() == "old result"
    res = run("sites", walk_file, "--radius", 1.0, "-o", out)
    assert res.exit_code == 2 and "--structure FILE or with --find-sites" in res.output
