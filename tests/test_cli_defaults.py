"""One table of defaults (ssefeat.defaults) for the command line and the pipeline, CLI messages that name CLI
options, and progress that reads well in a log."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from ssefeat import defaults as D
from ssefeat.cli import main
from ssefeat.config import DEFAULTS
from ssefeat.dynamics.labels import LABEL_KINDS
from ssefeat.errors import ParameterError, param
from ssefeat.progress import LineProgress, progress_bar
from ssefeat.softness import label_cuts

from test_cli_softness import write_inputs


def option(command: str, name: str):
    cmd = main
    for part in command.split():
        cmd = cmd.commands[part]
    (found,) = [p for p in cmd.params if p.name == name]
    return found.default


def test_cli_and_pipeline_share_their_defaults():
    pairs = [
        (option("labels", "kind"), DEFAULTS["labels"]["kind"], D.LABEL_KIND),
        (option("labels", "t_R_frames"), DEFAULTS["labels"]["t_R_frames"], LABEL_KINDS["p_hop"].defaults["t_R_frames"]),
        (option("labels", "lag"), DEFAULTS["labels"]["lag_frames"], LABEL_KINDS["d2min"].defaults["lag_frames"]),
        (option("labels", "window"), DEFAULTS["labels"]["window_frames"],
         LABEL_KINDS["d_cum"].defaults["window_frames"]),
        (option("softness train", "window"), DEFAULTS["softness"]["window"], D.SOFTNESS_WINDOW),
        (option("softness train", "test_fraction"), DEFAULTS["softness"]["test_fraction"], D.TEST_FRACTION),
        (option("correlate", "n_boot"), DEFAULTS["correlate"]["n_boot"], D.N_BOOT),
        (option("disorder", "axis"), DEFAULTS["disorder"]["axis"], D.DISORDER_AXIS),
        (option("disorder", "sigma"), DEFAULTS["disorder"]["sigma"], D.SIGMA),
        (option("clusters", "r_env"), DEFAULTS["features"]["r_env"], D.R_ENV),
        (option("clusters", "framework"), ",".join(DEFAULTS["species"]["framework"]), ",".join(D.FRAMEWORK)),
    ]
    for cli, pipeline, table in pairs:
        assert cli == pipeline == table
    for command in ("info", "convert", "features", "labels"):
        assert option(command, "chunk") == DEFAULTS["execution"]["chunk_frames"] == D.CHUNK_FRAMES
    assert DEFAULTS["disorder"]["species"] == D.DISORDER_SPECIES == "framework"


def test_softness_train_takes_the_pipelines_quantile_cuts(tmp_path):
    """Without --r-cut / --nr-cut the cuts are the pipeline's quantiles of the labels."""
    _, labels = write_inputs(tmp_path)
    res = CliRunner().invoke(main, ["softness", "train", str(tmp_path / "features.nc"), str(tmp_path / "labels.nc"),
                                    "-o", str(tmp_path / "m.json"), "--C", "1"])
    assert res.exit_code == 0, res.output
    v = labels.values[np.isfinite(labels.values)]
    r, nr = np.quantile(v, D.R_QUANTILE), np.quantile(v, D.NR_QUANTILE)
    assert f"rearranging above {r:.4g}, quiet below {nr:.4g} (from quantiles of the labels)" in res.output
    assert label_cuts(labels) == (pytest.approx(r), pytest.approx(nr))
    model = json.loads((tmp_path / "m.json").read_text())["model"]
    assert model["provenance"]["r_cut"] == pytest.approx(r) and model["provenance"]["nr_cut"] == pytest.approx(nr)
    res = CliRunner().invoke(main, ["softness", "train", str(tmp_path / "features.nc"), str(tmp_path / "labels.nc"),
                                    "-o", str(tmp_path / "m2.json"), "--r-quantile", "0.4", "--nr-quantile", "0.6"])
    assert res.exit_code == 2 and "is not below r_cut" in res.output and "--nr-cut" in res.output


def test_one_message_two_spellings():
    err = ParameterError(f"cannot read it as {param('format', 'xdatcar')}", fix=f"pass {param('timestep_ps', 0.1)}")
    assert str(err) == "cannot read it as format='xdatcar'\nFix: pass timestep_ps=0.1"
    assert (err.cli_what, err.cli_fix) == ("cannot read it as --format xdatcar", "pass --timestep 0.1")


def test_progress_in_a_log_is_a_few_plain_lines():
    log = io.StringIO()
    bar = progress_bar(total=1000, desc="features 0", unit="frame", stream=log)
    assert isinstance(bar, LineProgress)
    with bar:
        for _ in range(100):
            bar.update(10)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and len(lines) == 10
    assert lines[0].startswith("[ssefeat] features 0: 100/1000 frames (10 %)") and lines[-1].endswith("done")


def test_md_phases_are_named_in_the_progress(tmp_path, capsys):
    from ssefeat.md import simulate

    simulate("kob_andersen", tmp_path / "ka.nc", steps=20, dump_every=10, n_atoms=256, equilibrate_steps=20,
             progress=True)
    err = capsys.readouterr().err
    assert "[ssefeat] MD equilibrate" in err and "[ssefeat] MD production" in err and "\r" not in err
