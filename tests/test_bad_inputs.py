"""A catalogue of bad inputs driven through the command line.

Every case must end with exit code 2 and exactly one ``ssefeat error:`` message followed by a ``fix:``, no traceback,
and leave the working folder exactly as it was: nothing half-written, no good output clobbered (names, sizes and
modification times of every file are compared before and after). ``match`` is a piece of the expected message.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ssefeat
import ssefeat.io as sio
from ssefeat.cli import main
from ssefeat.errors import OutputError
from ssefeat.pipeline.lock import LOCK_NAME, FolderLock

from conftest import rich_trajectory

OK_RUN = ('[trajectory]\nfiles = ["t.nc"]\n[features]\nenabled = false\n[labels]\nenabled = false\n'
          '[softness]\nenabled = false\n[correlate]\nenabled = false\n')


def _toml(extra: str, base: str = '[trajectory]\nfiles = ["t.nc"]\n') -> str:
    return base + extra


#: (id, command line, piece of the message, files to write first {name: text})
CASES = [
    ("info-missing", ["info", "nope.xtc"], "does not exist", {}),
    ("info-unknown-format", ["info", "a.abc"], "a.abc", {"a.abc": "hello\n"}),
    ("info-format-name", ["info", "t.nc", "--format", "nonsense"], "nonsense", {}),
    ("info-empty", ["info", "empty.xyz"], "is empty (0 bytes)", {"empty.xyz": ""}),
    ("convert-empty", ["convert", "empty.xyz", "o.nc"], "is empty (0 bytes)", {"empty.xyz": ""}),
    ("convert-folder-is-file", ["convert", "t.nc", "afile/o.nc"], "is a file", {}),
    ("convert-under-a-file", ["convert", "t.nc", "afile/sub/o.nc"], "afile is a file", {}),
    ("convert-missing-folder", ["convert", "t.nc", "no_dir/o.nc"], "does not exist", {}),
    ("convert-no-overwrite", ["convert", "t.nc", "good.nc", "--no-overwrite"], "already exists", {}),
    ("convert-unknown-output", ["convert", "t.nc", "out.pdb"], "cannot write", {}),
    ("convert-stride-0", ["convert", "t.nc", "o.nc", "--stride", "0"], "stride", {}),
    ("convert-select-none", ["convert", "t.nc", "o.nc", "--select", "Na"], "matches no atom", {}),
    ("convert-bad-cell", ["convert", "t.nc", "o.nc", "--cell", "1,2"], "--cell", {}),
    ("convert-lammps-types-nc", ["convert", "t.nc", "o.nc", "--lammps-types"], "LAMMPS dump outputs only", {}),
    ("labels-no-cutoff", ["labels", "t.nc", "-o", "l.nc", "--kind", "d2min"], "--cutoff", {}),
    ("labels-lag-too-long", ["labels", "t.nc", "-o", "l.nc", "--kind", "d2min", "--cutoff", "3", "--lag", "50"],
     "at most 9 frames", {}),
    ("labels-bad-extension", ["labels", "t.nc", "-o", "l.txt"], ".parquet", {}),
    ("labels-not-a-number", ["labels", "t.nc", "-o", "l.nc", "--lag", "abc"], "--lag", {}),
    ("softness-train-no-features", ["softness", "train", "t.nc", "t.nc", "-o", "m.json", "--r-cut", "1",
                                    "--nr-cut", "0.1"], "no 'features' variable", {}),
    ("softness-train-cut-and-quantile", ["softness", "train", "t.nc", "t.nc", "-o", "m.json", "--r-cut", "1",
                                         "--r-quantile", "0.9"], "not both", {}),
    ("softness-train-quantile-range", ["softness", "train", "t.nc", "t.nc", "-o", "m.json", "--r-quantile", "1.5"],
     "--r-quantile", {}),
    ("softness-apply-missing-model", ["softness", "apply", "nope.json", "t.nc", "-o", "s.nc"], "does not exist", {}),
    ("correlate-missing", ["correlate", "nope.nc", "t.nc"], "does not exist", {}),
    ("simulate-unknown-system", ["simulate", "argon", "-o", "g.nc"], "unknown MD system", {}),
    ("simulate-negative-equilibration", ["simulate", "lips_glass", "--equilibrate-steps", "-5", "-o", "g.nc"],
     "equilibrate_steps", {}),
    ("simulate-no-steps", ["simulate", "kob_andersen", "--steps", "0", "-o", "g.nc"], "--steps", {}),
    ("simulate-output-under-file", ["simulate", "kob_andersen", "-o", "afile/g.nc"], "is a file", {}),
    ("transport-temperatures", ["transport", "t.nc", "t.nc", "--temperature", "1", "--temperature", "2",
                                "--temperature", "3"], "3 --temperature values for 2", {}),
    ("disorder-axis", ["disorder", "t.nc", "--axis", "w", "-o", "d.nc"], "axis", {}),
    ("clusters-negative-r-env", ["clusters", "t.nc", "-o", "c.nc", "--r-env", "-1"], "--r-env", {}),
    ("features-system-and-params", ["features", "t.nc", "-o", "f.nc", "--system", "li_sulfide", "--params",
                                    "p.json"], "not both", {}),
    ("unknown-command", ["frobnicate"], "No such command", {}),
    ("run-missing-config", ["run", "nope.toml"], "does not exist", {}),
    ("run-toml-syntax", ["run", "c.toml"], "cannot parse", {"c.toml": "[trajectory\nfiles = 1\n"}),
    ("study-toml-syntax", ["study", "s.toml"], "cannot parse", {"s.toml": "[study\nys = 1\n"}),
    ("run-unknown-key", ["run", "c.toml"], "unknown key 'trajectory.fils'", {"c.toml": "[trajectory]\nfils = []\n"}),
    ("run-missing-file", ["run", "c.toml"], "does not exist", {"c.toml": '[trajectory]\nfiles = ["x.nc"]\n'}),
    ("run-temperature-text", ["run", "c.toml"], "trajectory.temperatures must be a list of numbers",
     {"c.toml": _toml('temperatures = ["hot"]\n')}),
    ("run-disorder-axis", ["run", "c.toml"], 'disorder.axis must be one of "a", "b", "c"',
     {"c.toml": _toml('[disorder]\nenabled = true\naxis = "w"\n')}),
    ("run-negative-r-env", ["run", "c.toml"], "features.r_env must be a number > 0",
     {"c.toml": _toml("[features]\nr_env = -1.0\n")}),
    ("run-test-fraction", ["run", "c.toml"], "softness.test_fraction must be a number > 0 and < 1",
     {"c.toml": _toml("[softness]\ntest_fraction = 2.0\n")}),
    ("run-chunk-zero", ["run", "c.toml"], "execution.chunk_frames", {"c.toml": _toml("[execution]\nchunk_frames = 0\n")}),
    ("run-flag-text", ["run", "c.toml"], "output.figures must be true or false",
     {"c.toml": _toml('[output]\nfigures = "yes"\n')}),
    ("run-generated-roles", ["run", "c.toml"], "the generated system kob_andersen does not have",
     {"c.toml": '[trajectory]\ngenerate = "kob_andersen"\ntemperatures = [1.0]\n'}),
    ("run-generated-parameters", ["run", "c.toml"], 'features.parameters = "li_sulfide" uses neighbour species',
     {"c.toml": '[trajectory]\ngenerate = "kob_andersen"\ntemperatures = [1.0]\n'
                '[species]\nmobile = "A"\nanion = "B"\nframework = ["B"]\n'}),
    ("run-cutoff-vs-cell", ["run", "c.toml"], "not below half the smallest cell width", {"c.toml": _toml("")}),
    ("run-output-under-file", ["run", "c.toml", "-o", "afile/results"], "afile is a file", {"c.toml": OK_RUN}),
    ("run-locked-folder", ["run", "c.toml", "-o", "locked"], "another ssefeat run is writing to locked",
     {"c.toml": OK_RUN}),
]


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")
            if p.is_file()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_inputs")
    sio.write(rich_trajectory(n_frames=10), d / "t.nc")
    sio.write(rich_trajectory(n_frames=3, seed=1), d / "good.nc")
    rng = np.random.default_rng(0)
    ka = ssefeat.make_trajectory(rng.random((3, 10, 3)) * 5, ["A"] * 8 + ["B"] * 2, cell=np.eye(3) * 5,
                                 timestep_ps=0.1)
    sio.write(ka, d / "ka.nc")
    (d / "afile").write_text("a file, not a folder\n")
    (d / "locked").mkdir()
    (d / "locked" / LOCK_NAME).write_text(f'{{"pid": {os.getpid()}, "host": "{os.uname().nodename}", '
                                          '"started": "now"}')
    return d


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("name,args,match,files", CASES, ids=[c[0] for c in CASES])
def test_bad_input(workdir, monkeypatch, name, args, match, files):
    monkeypatch.chdir(workdir)
    for fname, text in files.items():
        (workdir / fname).write_text(text)
    before = _snapshot(workdir)
    result = CliRunner().invoke(main, args)
    out = result.output
    try:
        assert result.exit_code == 2, out
        assert out.count("ssefeat error:") == 1, out
        assert "  fix: " in out.split("ssefeat error:", 1)[1], out
        assert "Traceback" not in out and not isinstance(result.exception, (KeyError, TypeError)), out
        assert match in out, out
        assert _snapshot(workdir) == before  # nothing written, nothing clobbered, no temporary leftovers
    finally:
        for fname in files:
            (workdir / fname).unlink()


def test_a_second_run_is_refused_and_a_stale_lock_removed(tmp_path):
    """A live owner blocks the folder; the lock of a process that is gone is removed, said so, and taken."""
    said = []
    with FolderLock(tmp_path, say=said.append):
        with pytest.raises(OutputError, match=f"process {os.getpid()}"):
            FolderLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_NAME).exists()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / LOCK_NAME).write_text(f'{{"pid": {gone.pid}, "host": "{os.uname().nodename}", "started": "then"}}')
    with FolderLock(tmp_path, say=said.append):
        assert f'"pid": {os.getpid()}' in (tmp_path / LOCK_NAME).read_text()
    assert said and f"process {gone.pid}" in said[0] and "no longer running" in said[0]


def test_leftovers_of_a_killed_writer_are_removed(tmp_path):
    """A temporary store left by a process that died (SIGKILL) goes when the same output is next written; one of
    a live process stays."""
    from ssefeat.io.atomic import atomic_output

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = tmp_path / f".o.zarr.tmp-{gone.pid}-deadbeef.zarr"
    live = tmp_path / f".o.zarr.tmp-{os.getpid()}-cafecafe.zarr"
    for p in (dead, live):
        (p / "data").mkdir(parents=True)
    with atomic_output(tmp_path / "o.zarr") as tmp:
        Path(tmp).mkdir()
    assert not dead.exists() and live.exists() and (tmp_path / "o.zarr").is_dir()


def test_an_interrupted_zarr_convert_leaves_nothing(tmp_path):
    """SIGTERM during ``ssefeat convert ... .zarr``: no target and no temporary store remain."""
    import signal
    import time

    sio.write(rich_trajectory(n_frames=400), tmp_path / "long.nc")
    code = ("import time, ssefeat.io as sio\n"
            "orig = sio.iter_chunks\n"
            "def slow(*a, **k):\n"
            "    for c in orig(*a, **k):\n"
            "        time.sleep(0.5)\n"
            "        yield c\n"
            "sio.iter_chunks = slow\n"
            "from ssefeat.cli import main\n"
            "main(['convert', 'long.nc', 'out.zarr', '--chunk', '10'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path(ssefeat.__file__).parents[1])})
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.zarr.tmp-*")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert list(tmp_path.glob(".out.zarr.tmp-*")), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.nc"]


def test_a_restarted_run_removes_what_a_killed_run_left(tmp_path, capsys):
    """A run killed with SIGKILL leaves its lock and a temporary trajectory store; the next run removes both (and
    says so) and finishes."""
    from ssefeat.config import load_config
    from ssefeat.pipeline import Pipeline

    sio.write(rich_trajectory(n_frames=10), tmp_path / "t.nc")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    out = tmp_path / "results"
    (out / "stages" / f".trajectory_0.zarr.tmp-{gone.pid}-0badf00d.zarr" / "positions").mkdir(parents=True)
    (out / LOCK_NAME).write_text(f'{{"pid": {gone.pid}, "host": "{os.uname().nodename}", "started": "then"}}')
    cfg = {"trajectory": {"files": [str(tmp_path / "t.nc")]}, "features": {"enabled": False},
           "labels": {"enabled": False}, "softness": {"enabled": False}, "correlate": {"enabled": False},
           "transport": {"enabled": False}, "output": {"folder": str(out), "figures": False}}
    Pipeline(load_config(cfg)).run()
    said = capsys.readouterr().out
    assert f"removed the stale lock of an earlier run (process {gone.pid}" in said
    assert "removed .trajectory_0.zarr.tmp-" in said
    assert sorted(p.name for p in (out / "stages").iterdir() if p.name.startswith(".")) == []
    assert (out / "stages" / "trajectory_0.zarr").is_dir() and not (out / LOCK_NAME).exists()


def test_equilibrate_steps_reach_every_system_builder():
    """``--equilibrate-steps`` (was a TypeError for lips_glass): steps for Kob-Andersen, their duration in ps for
    the systems whose builders take equilibrate_ps; a negative number is refused."""
    import inspect

    from ssefeat.errors import ParameterError as PE
    from ssefeat.md.systems import SYSTEMS, get_system
    from ssefeat.md.systems import glass_ceramic, kob_andersen, lips_glass, vacancy_crystal

    assert get_system("lips_glass").equilibration(5, 0.001) == {"equilibrate_ps": pytest.approx(0.005)}
    assert get_system("kob_andersen").equilibration(5, 0.005) == {"equilibrate_steps": 5}
    assert get_system("vacancy_crystal").equilibration(None, 0.001) == {}
    builders = {"lips_glass": lips_glass.lips_glass, "kob_andersen": kob_andersen.kob_andersen,
                "glass_ceramic": glass_ceramic.glass_ceramic, "vacancy_crystal": vacancy_crystal.vacancy_crystal}
    for name, spec in SYSTEMS.items():
        assert spec.equilibrate in inspect.signature(builders[name]).parameters, name
        assert spec.species, name
    with pytest.raises(PE, match="equilibrate_steps"):
        get_system("lips_glass").equilibration(-5, 0.001)


def test_os_errors_and_bugs_are_one_message(workdir, monkeypatch):
    """An operating-system error is the user's environment (exit 2); any other exception is a bug, said so (exit 1),
    still without a traceback unless SSEFEAT_TRACEBACK is set."""
    import ssefeat.cli.io_commands as ioc

    monkeypatch.chdir(workdir)

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", "t.nc")

    monkeypatch.setattr(ioc, "_summarise", denied)
    res = CliRunner().invoke(main, ["info", "t.nc"])
    assert res.exit_code == 2 and res.output.count("ssefeat error:") == 1 and "(t.nc): Permission denied" in res.output

    def bug(*a, **k):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(ioc, "_summarise", bug)
    res = CliRunner().invoke(main, ["info", "t.nc"])
    assert res.exit_code == 1 and "internal error (TypeError: unsupported operand)" in res.output
    assert "Traceback" not in res.output and "SSEFEAT_TRACEBACK=1" in res.output
    monkeypatch.setenv("SSEFEAT_TRACEBACK", "1")
    res = CliRunner().invoke(main, ["info", "t.nc"])
    assert isinstance(res.exception, TypeError)
