"""CLI: ``ssefeat softness train|apply`` and ``ssefeat correlate``."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import xarray as xr

from .. import defaults as D
from ..errors import MissingFileError, ParameterError, SchemaError
from .group import main


def open_result(path) -> xr.Dataset:
    """Open an ssefeat result file (netCDF file or zarr folder)."""
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path} does not exist.", fix="check the path.")
    return xr.open_zarr(path).load() if path.is_dir() or path.suffix == ".zarr" else xr.load_dataset(path)


#: the per-atom variable of ssefeat's label and softness files (beside helpers such as valid, n_neighbors)
KNOWN_VARIABLES = ("phop", "d2min", "d_cum", "softness")


def _per_atom_variable(ds: xr.Dataset, name: str | None, what: str) -> xr.DataArray:
    if name:
        if name not in ds:
            raise SchemaError(f"the {what} file has no variable {name!r}; it has {list(ds.data_vars)}.",
                              fix=f"pick one with --{what}-var.")
        return ds[name]
    candidates = [n for n, v in ds.data_vars.items() if set(v.dims) >= {"frame", "atom"} and v.ndim == 2]
    known = [n for n in candidates if n in KNOWN_VARIABLES]
    if len(candidates) > 1 and len(known) == 1:  # an ssefeat result: the label beside its helper variables
        candidates = known
    if len(candidates) != 1:
        raise SchemaError(f"cannot tell which variable of the {what} file to use: {candidates or list(ds.data_vars)}.",
                          fix=f"name it with --{what}-var.")
    return ds[candidates[0]]


def _is_descriptor(name: str, v: xr.DataArray) -> bool:
    """Numeric per-atom values; ids, counts of ranks and validity / presence flags are not descriptors."""
    if not np.issubdtype(v.dtype, np.number) or v.dtype == np.int8 or np.issubdtype(v.dtype, np.bool_):
        return False
    return not (name.endswith("_id") or name.startswith(("valid", "has_")) or "_has_" in name
                or name.split("_")[-1] == "valid")


def descriptor_variables(ds: xr.Dataset) -> dict:
    """Per-atom (frame, atom) descriptors of a result file, one variable each.

    Feature arrays (frame, atom, feature) give one variable per feature; other (frame, atom, label) arrays with a
    labelled third dim (e.g. ``env_fraction`` over ``cluster_type``) give ``<name>_<label>`` per label.
    """
    out = {}
    for name, v in ds.data_vars.items():
        if not {"frame", "atom"} <= set(v.dims) or not _is_descriptor(str(name), v):
            continue
        if v.ndim == 2:
            out[str(name)] = v
        elif v.ndim == 3:
            (extra,) = [d for d in v.dims if d not in ("frame", "atom")]
            if extra not in v.coords or not v[extra].dtype.kind in "UO":  # ranks / xyz: not named descriptors
                continue
            for k, label in enumerate(v[extra].values):
                key = str(label) if extra == "feature" else f"{name}_{label}"
                out[key] = v.isel({extra: k}, drop=True).transpose("frame", "atom")
    return out


def _features(ds: xr.Dataset) -> xr.DataArray:
    if "features" not in ds:
        raise SchemaError(f"the features file has no 'features' variable (it has {list(ds.data_vars)}).",
                          fix="make it with `ssefeat features TRAJ -o features.nc`.")
    return ds["features"]


@main.group()
def softness():
    """Train a softness model, or apply one to features."""


@softness.command("train")
@click.argument("features_file", type=click.Path())
@click.argument("labels_file", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="model file to write (.json)")
@click.option("--label-var", default=None, help="variable of LABELS_FILE to use (default: the only per-atom one)")
@click.option("--r-cut", type=float, default=None,
              help="label above which a sample is rearranging (default: the --r-quantile of the labels)")
@click.option("--nr-cut", type=float, default=None,
              help="label below which (over the window) it is not (default: the --nr-quantile of the labels)")
@click.option("--r-quantile", type=float, default=None,
              help=f"r_cut as this quantile of the labels [default {D.R_QUANTILE} when no --r-cut]")
@click.option("--nr-quantile", type=float, default=None,
              help=f"nr_cut as this quantile of the labels [default {D.NR_QUANTILE} when no --nr-cut]")
@click.option("--window", type=int, default=D.SOFTNESS_WINDOW, show_default=True,
              help="quiet window half-width, frames")
@click.option("--species", default=None, help="centre species to train on (e.g. Li)")
@click.option("--classifier", type=click.Choice(["logistic", "svm"]), default=D.CLASSIFIER, show_default=True)
@click.option("--C", "C", type=float, default=None, help="regularisation; default: cross-validated")
@click.option("--test-fraction", type=float, default=D.TEST_FRACTION, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--plot", type=click.Path(), default=None, help="folder for figures (weights)")
@click.option("--overwrite/--no-overwrite", default=True, show_default=True)
@click.option("--run", "runs", multiple=True, nargs=2, type=click.Path(),
              help="FEATURES LABELS of another independent run (repeat): whole runs are then held out")
@click.option("--test-run", "test_runs", multiple=True,
              help="run to hold out (run0 = the positional files, run1 = the first --run, ...); default: a seeded "
                   "test fraction of the runs")
def softness_train(features_file, labels_file, output, label_var, r_cut, nr_cut, r_quantile, nr_quantile, window,
                   species, classifier, C, test_fraction, seed, plot, overwrite, runs, test_runs):
    """Train a softness hyperplane from FEATURES_FILE and rearrangement LABELS_FILE (and more runs with --run).

    The label cuts are given (--r-cut, --nr-cut) or taken as quantiles of the labels of every run (--r-quantile,
    --nr-quantile; the defaults of `ssefeat run`)."""
    from ..softness import combine_runs, label_cuts, train_softness
    from ..pipeline.report import accuracy_interval
    from ..softness.labels import check_cut_options

    check_cut_options(r_cut, nr_cut, r_quantile, nr_quantile)  # before reading any file
    quantiles = r_cut is None or nr_cut is None
    if not 0 < test_fraction < 1:
        raise ParameterError(f"--test-fraction {test_fraction} is not a fraction strictly between 0 and 1.",
                             fix=f"e.g. --test-fraction {D.TEST_FRACTION}.")
    pairs = [(features_file, labels_file), *runs]
    feats = [_features(open_result(f)) for f, _ in pairs]
    labels = [_per_atom_variable(open_result(lab), label_var, "label") for _, lab in pairs]
    groups = None
    if len(pairs) > 1:
        feats, labels, groups = combine_runs(feats, labels)
        unknown = sorted(set(test_runs) - set(groups.values.tolist()))
        if unknown:
            raise ParameterError(f"--test-run {', '.join(unknown)}: there are runs run0..run{len(pairs) - 1}.",
                                 fix="name a run: run0 is the positional pair, run1 the first --run, ...")
    elif test_runs:
        raise ParameterError("--test-run needs several runs.", fix="give the other runs with --run FEATURES LABELS.")
    r_cut, nr_cut = label_cuts(labels, r_cut, nr_cut, r_quantile, nr_quantile, species=species)
    if len(pairs) == 1:
        feats, labels = feats[0], labels[0]
    model, report = train_softness(feats, labels, r_cut=r_cut, nr_cut=nr_cut, window=window, species=species,
                                   classifier=classifier, C=C, test_fraction=test_fraction, seed=seed,
                                   groups=groups, test_groups=list(test_runs) or None)
    model.save(output, overwrite=overwrite)
    t = report["test"]
    held_out = (f"held-out runs {', '.join(model.provenance_['test_groups'])}" if groups is not None
                else "held-out frames")
    click.echo(f"label cuts: rearranging above {r_cut:.4g}, quiet below {nr_cut:.4g}"
               + (" (from quantiles of the labels)" if quantiles else ""))
    click.echo(f"trained on {model.provenance_['n_train']} samples, C = {model.C_:g}; {held_out}: "
               f"accuracy {t['accuracy']:.3f}, balanced {t['balanced_accuracy']:.3f}, "
               f"P(S>0|R) {t['p_soft_given_rearranging']:.3f}, P(S>0) {t['p_soft']:.3f}")
    click.echo(f"balanced accuracy: {accuracy_interval(t)}")
    click.echo(f"model written to {output}")
    if plot:
        from ..plots import softness as sp
        from ..plots.style import save

        Path(plot).mkdir(parents=True, exist_ok=True)
        save(sp.weights(model.weights()), Path(plot) / "softness_weights.png")


@softness.command("apply")
@click.argument("model_file", type=click.Path())
@click.argument("features_file", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="softness file to write (.nc)")
@click.option("--table", type=click.Path(), default=None, help="also write a flat table (.parquet or .csv)")
@click.option("--plot", type=click.Path(), default=None, help="folder for figures (softness histogram)")
def softness_apply(model_file, features_file, output, table, plot):
    """Softness of every atom of every frame of FEATURES_FILE with MODEL_FILE."""
    from ..io.atomic import atomic_output
    from ..softness import SoftnessModel

    model = SoftnessModel.load(model_file)
    S = model.apply(_features(open_result(features_file)))
    with atomic_output(output) as tmp:
        S.to_dataset().to_netcdf(tmp)
    if table:
        df = S.to_dataframe().reset_index()
        with atomic_output(table) as tmp:
            df.to_parquet(tmp) if str(table).endswith(".parquet") else df.to_csv(tmp, index=False)
    finite = np.isfinite(S.values)
    click.echo(f"softness of {int(finite.sum())} atom-frames: mean {np.nanmean(S.values):.3f}, "
               f"P(S>0) {np.mean(S.values[finite] > 0):.3f}; written to {output}")
    if plot:
        from ..plots import softness as sp
        from ..plots.style import save

        Path(plot).mkdir(parents=True, exist_ok=True)
        by = S["species"] if "species" in S.coords else None
        save(sp.softness_histogram(S, by=by), Path(plot) / "softness_histogram.png")


@main.command("correlate")
@click.argument("softness_file", type=click.Path())
@click.argument("descriptor_files", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(), default=None, help="links file to write (.nc)")
@click.option("--n-boot", type=int, default=D.N_BOOT, show_default=True, help="bootstrap resamples (over ions)")
@click.option("--lasso/--no-lasso", default=False, show_default=True, help="also fit LASSO softness ~ descriptors")
@click.option("--plot", type=click.Path(), default=None, help="folder for figures (correlation bars)")
@click.option("--seed", type=int, default=0, show_default=True)
def correlate_cmd(softness_file, descriptor_files, output, n_boot, lasso, plot, seed):
    """Pearson r (bootstrap CI) between softness and every per-atom descriptor in DESCRIPTOR_FILES."""
    from ..correlate import lasso_links, softness_links
    from ..io.atomic import atomic_output

    S = _per_atom_variable(open_result(softness_file), None, "softness")
    desc = xr.Dataset()
    for f in descriptor_files:
        desc.update(descriptor_variables(open_result(f)))
    links = softness_links(S, desc, n_boot=n_boot, seed=seed)
    for d in links["descriptor"].values:
        row = links.sel(descriptor=d)
        click.echo(f"{d:>32s}  r = {float(row.r):+.3f}  [{float(row.ci_low):+.3f}, {float(row.ci_high):+.3f}]  "
                   f"p = {float(row.p_value):.2g} (bootstrap over ions)  {int(row.n_groups)} ions, "
                   f"{int(row.n)} samples")
    out = links
    if lasso:
        las = lasso_links(S, desc, seed=seed)
        out = xr.merge([links, las.rename({"coefficient": "lasso_coefficient"})[["lasso_coefficient"]]])
        out.attrs.update({f"lasso_{k}": v for k, v in las.attrs.items() if k in (
            "alpha", "r2_test", "r2_train", "r2_test_ci", "r2_test_ci_unit", "r2_test_ci_note", "n_test",
            "n_test_ions", "n_test_frames")})
        lo, hi = las.attrs["r2_test_ci"]
        ci = (f"95 % CI [{lo:.3f}, {hi:.3f}] over held-out ions" if np.isfinite(lo)
              else f"no interval: {las.attrs['r2_test_ci_note']}")
        click.echo(f"LASSO: alpha = {las.attrs['alpha']:.3g}, held-out R^2 = {las.attrs['r2_test']:.3f} ({ci}; "
                   f"{las.attrs['n_test_ions']} ions, {las.attrs['n_test']} samples, "
                   f"{las.attrs['n_test_frames']} frames)")
    if output:
        with atomic_output(output) as tmp:
            out.to_netcdf(tmp)
    if plot:
        from ..plots import softness as sp
        from ..plots.style import save

        Path(plot).mkdir(parents=True, exist_ok=True)
        save(sp.correlation_bars(links), Path(plot) / "softness_correlations.png")
