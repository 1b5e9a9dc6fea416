"""The scripts in examples/ run end to end with --small (tiny generated data) and write what they promise."""
from __future__ import annotations

import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> (files it writes under --out, a regular expression its output must match)
EXPECTED = {
    "softness_on_lammps.py": (["run.lammpstrj", "softness_model.json", "softness.nc", "softness.png"],
                              r"held-out balanced accuracy"),
    "softness_and_anion_clusters.py": (["links.csv", "softness_by_environment.csv", "softness_links.png"],
                                       r"mean softness by nearest cluster"),
    "feature_table.py": (["features.parquet", "features_with_target.parquet"], r"sklearn Pipeline"),
    "glass_ceramic_disorder.py": (["disorder.nc", "region_dynamics.nc", "disorder.png", "region_msd.png"],
                                  r"regions: c+[ig]*g+"),
    "arrhenius_conductivity.py": (["transport.nc", "summary.csv", "arrhenius.png"], r"Arrhenius D: E_a ="),
    "thesis_glass_study.py": (["study_report.md", "study.json", "study.nc", "softness_by_glass.png"],
                              r"comparison with the thesis"),
}
SLOW = {"thesis_glass_study.py"}  # builds and runs two glasses (about a minute even with --small)


def scripts():
    return sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_every_example_is_covered_and_documented():
    assert scripts() == sorted(EXPECTED)
    for name in scripts():
        source = (EXAMPLES / name).read_text()
        doc = ast.get_docstring(ast.parse(source))
        assert doc and len(doc.splitlines()) > 3, f"{name} needs a docstring saying what it shows"
        assert "--small" in source and "__main__" in source


def run_in_process(name: str, out: Path, capsys) -> str:
    """Run an example as ``python examples/NAME.py --small --out OUT`` would, in this process (shared imports keep
    the whole file fast); returns its printed output."""
    argv, path = sys.argv, list(sys.path)
    sys.argv = [str(EXAMPLES / name), "--small", "--out", str(out)]
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        sys.argv, sys.path[:] = argv, path
        import matplotlib.pyplot as plt

        plt.close("all")
    return capsys.readouterr().out


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in sorted(EXPECTED)])
def test_example_runs_small(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    stdout = run_in_process(name, out, capsys)
    files, pattern = EXPECTED[name]
    for f in files:
        assert (out / f).exists() and (out / f).stat().st_size > 0, f"{name} did not write {f}"
    assert re.search(pattern, stdout), stdout
    if name == "arrhenius_conductivity.py":
        summary = pd.read_csv(out / "summary.csv")
        assert len(summary) == 3 and (summary["D_cm2_s"].diff().dropna() > 0).all()  # D grows with T
        e_a = float(re.search(r"Arrhenius D: E_a = ([0-9.]+)", stdout).group(1))
        assert 0.1 < e_a < 0.35  # site barriers 0.25 eV +- shifts
    if name == "softness_and_anion_clusters.py":
        links = pd.read_csv(out / "links.csv")
        assert {"fraction_PS4", "cn_Li-S"} <= set(links["descriptor"])
    if name == "feature_table.py":
        table = pd.read_parquet(out / "features_with_target.parquet")
        assert {"frame", "atom", "hops_soon", "voronoi_volume"} <= set(table.columns)
    if name == "softness_on_lammps.py":
        from ssefeat.softness import SoftnessModel

        assert SoftnessModel.load(out / "softness_model.json").n_features_in_ > 10


def test_command_line_with_small_from_environment(tmp_path):
    """``SSEFEAT_EXAMPLE_SMALL=1 python examples/arrhenius_conductivity.py`` (no flag) runs small, exit code 0."""
    env = dict(os.environ, MPLBACKEND="Agg", SSEFEAT_EXAMPLE_SMALL="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(EXAMPLES / "arrhenius_conductivity.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "arrhenius_conductivity_output" / "arrhenius.png").exists()
    assert len(pd.read_csv(tmp_path / "arrhenius_conductivity_output" / "summary.csv")) == 3  # the small set of T
