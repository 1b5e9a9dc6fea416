"""The softness CLI: train, apply, correlate on files; errors as one message with exit code 2."""
import json

import numpy as np
import xarray as xr
from click.testing import CliRunner

from ssefeat.cli import main
from test_softness import synthetic


def write_inputs(tmp_path):
    feats, labels, _ = synthetic()
    feats.to_dataset(name="features").to_netcdf(tmp_path / "features.nc")
    labels.to_dataset(name="phop").to_netcdf(tmp_path / "labels.nc")
    return feats, labels


def test_train_apply_correlate_round_trip(tmp_path):
    feats, _ = write_inputs(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["softness", "train", str(tmp_path / "features.nc"), str(tmp_path / "labels.nc"),
                               "-o", str(tmp_path / "model.json"), "--r-cut", "3", "--nr-cut", "1", "--C", "1",
                               "--plot", str(tmp_path / "figs")])
    assert res.exit_code == 0, res.output
    assert "balanced" in res.output and (tmp_path / "figs" / "softness_weights.png").exists()
    res = runner.invoke(main, ["softness", "apply", str(tmp_path / "model.json"), str(tmp_path / "features.nc"),
                               "-o", str(tmp_path / "S.nc"), "--table", str(tmp_path / "S.parquet")])
    assert res.exit_code == 0, res.output
    S = xr.load_dataset(tmp_path / "S.nc")["softness"]
    assert S.shape == feats.shape[:2]
    # descriptors: the first feature column itself must correlate with S in the direction of its weight
    xr.Dataset({"g0": feats.isel(feature=0, drop=True)}).to_netcdf(tmp_path / "desc.nc")
    res = runner.invoke(main, ["correlate", str(tmp_path / "S.nc"), str(tmp_path / "desc.nc"), "--n-boot", "50",
                               "-o", str(tmp_path / "links.nc")])
    assert res.exit_code == 0, res.output
    r = float(xr.load_dataset(tmp_path / "links.nc")["r"].sel(descriptor="g0"))
    w0 = json.loads((tmp_path / "model.json").read_text())["model"]["coef"][0]
    assert np.sign(r) == np.sign(w0)


def test_errors_are_one_message_and_exit_2(tmp_path):
    write_inputs(tmp_path)
    runner = CliRunner()
    res = runner.invoke(main, ["softness", "apply", str(tmp_path / "missing.json"), str(tmp_path / "features.nc"),
                               "-o", str(tmp_path / "S.nc")])
    assert res.exit_code == 2 and "does not exist" in res.output and "Traceback" not in res.output
    res = runner.invoke(main, ["softness", "train", str(tmp_path / "features.nc"), str(tmp_path / "labels.nc"),
                               "-o", str(tmp_path / "m.json"), "--r-cut", "1e9", "--nr-cut", "1"])
    assert res.exit_code == 2 and "too few samples" in res.output
    assert not (tmp_path / "m.json").exists()
