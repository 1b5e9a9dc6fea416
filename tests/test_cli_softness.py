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
    assert "95 % CI [" in res.output and "percentile bootstrap over the" in res.output  # with its unit and n
    res = runner.invoke(main, ["softness", "apply", str(tmp_path / "model.json"), str(tmp_path / "features.nc"),
                               "-o", str(tmp_path / "S.nc"), "--table", str(tmp_path / "S.parquet")])
    assert res.exit_code == 0, res.output
    S = xr.load_dataset(tmp_path / "S.nc")["softness"]
    assert S.shape == feats.shape[:2]
    # descriptors: the first feature column itself must correlate with S in the direction of its weight
    xr.Dataset({"g0": feats.isel(feature=0, drop=True)}).to_netcdf(tmp_path / "desc.nc")
    res = runner.invoke(main, ["correlate", str(tmp_path / "S.nc"), str(tmp_path / "desc.nc"), "--n-boot", "50",
                               "-o", str(tmp_path / "links.nc"), "--lasso"])
    assert res.exit_code == 0, res.output
    lasso = xr.load_dataset(tmp_path / "links.nc").attrs  # the R^2 interval with its unit and n, said and stored
    assert lasso["lasso_r2_test_ci_unit"] == "ion" and lasso["lasso_n_test_ions"] <= feats.sizes["atom"]
    assert (f"{lasso['lasso_n_test_ions']} ions, {lasso['lasso_n_test']} samples, {lasso['lasso_n_test_frames']} "
            "frames") in res.output and ("over held-out ions" in res.output or "too few" in res.output)
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


def test_correlate_uses_environment_fractions_and_skips_ids_and_flags(tmp_path):
    """A cluster file (``ssefeat clusters``) holds env_fraction (frame, atom, cluster_type): one descriptor per
    cluster type. Ids and validity flags are not descriptors."""
    rng = np.random.default_rng(0)
    n_f, n_a = 6, 40
    S = rng.normal(size=(n_f, n_a))
    frac_ps4 = 1 / (1 + np.exp(-2 * S))
    coords = {"frame": np.arange(n_f) + 10, "atom": np.arange(n_a)}
    xr.Dataset({"softness": (("frame", "atom"), S)}, coords=coords).to_netcdf(tmp_path / "S.nc")
    env = xr.Dataset({"env_fraction": (("frame", "atom", "cluster_type"), np.stack([frac_ps4, 1 - frac_ps4], -1)),
                      "env_nearest_cluster_id": (("frame", "atom"), rng.integers(0, 9, size=(n_f, n_a))),
                      "valid_T": (("frame", "atom"), np.ones((n_f, n_a), dtype=np.int8)),
                      "volume_T": (("frame", "atom"), rng.normal(size=(n_f, n_a)))},
                     coords={**coords, "cluster_type": ["PS4", "P2S6"]})
    env.to_netcdf(tmp_path / "cl.nc")
    res = CliRunner().invoke(main, ["correlate", str(tmp_path / "S.nc"), str(tmp_path / "cl.nc"), "--n-boot", "20",
                                    "-o", str(tmp_path / "links.nc")])
    assert res.exit_code == 0, res.output
    links = xr.load_dataset(tmp_path / "links.nc")
    names = set(links["descriptor"].values.tolist())
    assert {"env_fraction_PS4", "env_fraction_P2S6", "volume_T"} <= names
    assert not names & {"env_nearest_cluster_id", "valid_T"}
    assert float(links["r"].sel(descriptor="env_fraction_PS4")) > 0.9
    assert float(links["r"].sel(descriptor="env_fraction_P2S6")) < -0.9


def test_train_picks_the_label_of_an_ssefeat_label_file(tmp_path):
    """A p_hop / D2min file also holds helper variables (valid, window_displacement, n_neighbors): the label
    itself is found without --label-var."""
    feats, labels = write_inputs(tmp_path)
    extra = labels.to_dataset(name="phop")
    extra["window_displacement"] = np.sqrt(labels)
    extra["valid"] = labels > 0
    extra.to_netcdf(tmp_path / "labels2.nc")
    res = CliRunner().invoke(main, ["softness", "train", str(tmp_path / "features.nc"), str(tmp_path / "labels2.nc"),
                                    "-o", str(tmp_path / "model.json"), "--r-cut", "3", "--nr-cut", "1", "--C", "1"])
    assert res.exit_code == 0, res.output


def test_train_on_several_runs_holds_out_whole_runs(tmp_path):
    """Two independent runs whose frames carry the same labels (each starts at its own frame 100): --run adds the
    second, --test-run holds it out whole."""
    feats, labels, _ = synthetic(n_frames=60)
    for r, part in enumerate((slice(0, 30), slice(30, 60))):
        f, lab = feats.isel(frame=part), labels.isel(frame=part)
        f.assign_coords(frame=np.arange(30) + 100).to_dataset(name="features").to_netcdf(tmp_path / f"f{r}.nc")
        lab.assign_coords(frame=np.arange(30) + 100).to_dataset(name="phop").to_netcdf(tmp_path / f"l{r}.nc")
    runner = CliRunner()
    base = ["softness", "train", str(tmp_path / "f0.nc"), str(tmp_path / "l0.nc"), "-o", str(tmp_path / "m.json"),
            "--r-cut", "3", "--nr-cut", "1", "--window", "0", "--C", "1", "--run", str(tmp_path / "f1.nc"),
            str(tmp_path / "l1.nc")]
    res = runner.invoke(main, base + ["--test-run", "run1"])
    assert res.exit_code == 0, res.output
    assert "held-out runs run1" in res.output
    prov = json.loads((tmp_path / "m.json").read_text())["model"]["provenance"]
    assert prov["split"] == "frame groups" and prov["test_groups"] == ["run1"]
    # the held-out samples are exactly the selected samples of run 1, none of them in training
    from ssefeat.softness import combine_runs, select_training_set
    f, lab, groups = combine_runs([xr.load_dataset(tmp_path / f"f{r}.nc")["features"] for r in (0, 1)],
                                  [xr.load_dataset(tmp_path / f"l{r}.nc")["phop"] for r in (0, 1)])
    ts = select_training_set(f, lab, 3.0, 1.0, groups=groups)
    train, test = ts.split(test_groups=["run1"])
    run_of_sample = np.asarray(ts.group_names)[ts.group]
    assert set(run_of_sample[test]) == {"run1"} and set(run_of_sample[train]) == {"run0"}
    assert prov["n_test"] == test.sum() and prov["n_train"] == train.sum()
    res = runner.invoke(main, base + ["--test-run", "run5"])
    assert res.exit_code == 2 and "there are runs run0..run1" in res.output and "Traceback" not in res.output


def test_combine_runs_keeps_values_and_refuses_other_atoms():
    from ssefeat.errors import SchemaError
    from ssefeat.softness import combine_runs

    feats, labels, _ = synthetic(n_frames=20)
    f, lab, groups = combine_runs([feats, feats], [labels, labels], names=["hot", "cold"])
    assert f.sizes["frame"] == 40 and np.unique(f["frame"].values).size == 40
    np.testing.assert_array_equal(f.values[:20], f.values[20:])
    np.testing.assert_array_equal(lab["frame"].values, f["frame"].values)
    assert groups.values.tolist() == ["hot"] * 20 + ["cold"] * 20
    try:
        combine_runs([feats, feats.isel(atom=slice(0, 10))], [labels, labels])
    except SchemaError as err:
        assert "other atoms or features" in str(err)
    else:
        raise AssertionError("runs with other atoms were accepted")
