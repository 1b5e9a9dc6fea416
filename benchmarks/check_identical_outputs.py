"""Are the pipeline's outputs unchanged by a refactoring? Run the same jobs with two versions of ssefeat and compare.

    python benchmarks/check_identical_outputs.py --before 89893e0            # checks out that commit beside this one
    python benchmarks/check_identical_outputs.py --before-dir OLD --after-dir NEW   # two existing output folders

Jobs: ``ssefeat demo --quick`` (MD-generated glass, every stage) and ``ssefeat run`` on a user trajectory file
(the read-a-file path, zarr stage trajectory, D2min labels). Every stage file (netCDF or zarr), ``results.nc`` (a
DataTree), every table and the model JSON must be identical (xarray ``identical``: values, dims, coordinates and
attributes), provenance aside: creation timestamps, absolute paths, run timings. Exit code 1 names what differs.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import xarray as xr

#: Attributes that are provenance (when and where), not results; the model's training time (and the checksum of
#: the model file that includes it) also inside JSON-text attributes.
PROVENANCE = {"created", "model", "trained", "sha256"}
_TRAINED = re.compile(r'"trained": "[^"]*"')
HERE = Path(__file__).resolve().parents[1]


def _strip(ds: xr.Dataset, root: Path) -> xr.Dataset:
    ds = ds.copy()
    for obj in [ds, *ds.variables.values()]:
        for key in list(obj.attrs):
            value = obj.attrs[key]
            if key in PROVENANCE:
                del obj.attrs[key]
            elif isinstance(value, str):
                obj.attrs[key] = _TRAINED.sub('"trained": ""', value.replace(str(root), "<out>"))
    return ds


def _open(path: Path) -> dict[str, xr.Dataset]:
    if path.suffix == ".zarr":
        return {"/": xr.open_zarr(path, decode_times=False, decode_timedelta=False).load()}
    if path.name == "results.nc" or path.name == "transport.nc":
        tree = xr.open_datatree(path, decode_times=False, decode_timedelta=False)
        return {node.path: node.to_dataset().load() for node in tree.subtree}
    return {"/": xr.load_dataset(path, decode_times=False, decode_timedelta=False)}


def compare_folders(before: Path, after: Path) -> list[str]:
    """Differences between two results folders of the same job (empty when identical, provenance aside)."""
    before, after = before.resolve(), after.resolve()  # the paths written inside the outputs are real paths
    problems = []
    names = sorted({str(p.relative_to(before)) for p in before.rglob("*") if _is_result(p)}
                   | {str(p.relative_to(after)) for p in after.rglob("*") if _is_result(p)})
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            problems.append(f"{name}: only in {'before' if a.exists() else 'after'}")
            continue
        if a.suffix in (".nc", ".zarr"):
            ta, tb = _open(a), _open(b)
            if ta.keys() != tb.keys():
                problems.append(f"{name}: groups {sorted(ta)} vs {sorted(tb)}")
                continue
            for group in ta:
                da, db = _strip(ta[group], before), _strip(tb[group], after)
                if not da.identical(db):
                    problems.append(f"{name}{group if group != '/' else ''}: not identical\n"
                                    + _explain(da, db))
        elif a.suffix == ".parquet":
            try:
                pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)
            except AssertionError as err:
                problems.append(f"{name}: {str(err)[:300]}")
        elif a.suffix == ".json":
            ja, jb = (_json_without_provenance(json.loads(p.read_text()), r) for p, r in ((a, before), (b, after)))
            if ja != jb:
                problems.append(f"{name}: JSON differs")
    return problems


def _json_without_provenance(obj, root: Path):
    if isinstance(obj, dict):
        return {k: _json_without_provenance(v, root) for k, v in obj.items() if k not in PROVENANCE}
    if isinstance(obj, list):
        return [_json_without_provenance(v, root) for v in obj]
    return obj.replace(str(root), "<out>") if isinstance(obj, str) else obj


def _is_result(path: Path) -> bool:
    if any(part.startswith(".") for part in path.parts[-3:]):
        return False  # partial stores, hidden files
    if path.suffix == ".zarr":
        return True
    if any(p.suffix == ".zarr" for p in path.parents):
        return False
    return path.suffix in (".nc", ".parquet") or (path.suffix == ".json"
                                                  and path.name not in ("config.json", "timings.json"))


def _explain(a: xr.Dataset, b: xr.Dataset) -> str:
    lines = []
    for name in sorted(set(a.variables) | set(b.variables)):
        if name not in a.variables or name not in b.variables:
            lines.append(f"    {name}: only in {'before' if name in a.variables else 'after'}")
        elif not a[name].variable.identical(b[name].variable):
            lines.append(f"    {name}: values or attrs differ")
    keys = sorted(k for k in set(a.attrs) | set(b.attrs)
                  if not xr.Variable((), 0, {k: a.attrs.get(k)}).identical(xr.Variable((), 0, {k: b.attrs.get(k)})))
    if keys:
        lines.append(f"    attrs differ: {keys}")
    return "\n".join(lines) or "    (coordinates or dims differ)"


JOB_SCRIPT = r"""
import sys
from pathlib import Path
import ssefeat
from ssefeat.md import simulate
out = Path(sys.argv[1])
traj = out / "input.nc"
if not traj.exists():
    simulate("lips_glass", traj, temperature=900.0, steps=3000, dump_every=50, seed=3, n_atoms="small",
             progress=False)
"""


def run_jobs(source: Path, out: Path) -> None:
    """Run the two jobs with the ssefeat found in ``source`` (a checkout), outputs under ``out``.

    Paths in the configurations are relative to ``out`` (the jobs run there), because stage hashes include them."""
    env = {**os.environ, "PYTHONPATH": str(source), "MPLBACKEND": "Agg"}
    out.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-c", "import sys; from ssefeat.cli import main; sys.exit(main())"]
    subprocess.run(cli + ["demo", "--quick", "-o", "demo"], env=env, check=True, cwd=out)
    subprocess.run([sys.executable, "-c", JOB_SCRIPT, str(out)], env=env, check=True, cwd=out)
    config = {"trajectory": {"files": ["input.nc"], "temperatures": [900.0]},
              "labels": {"kind": "d2min", "lag_frames": 4, "cutoff": 4.0},
              "softness": {"window": 1, "horizon": 4},
              "correlate": {"n_boot": 50},
              "disorder": {"enabled": True, "frames": 3},
              "execution": {"chunk_frames": 16},
              "output": {"folder": "run", "figures": False}}
    (out / "run.json").write_text(json.dumps(config))
    subprocess.run(cli + ["run", "run.json"], env=env, check=True, cwd=out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="a commit of this repository to compare with the working tree")
    ap.add_argument("--before-dir", type=Path, help="outputs of the earlier version (made by this script)")
    ap.add_argument("--after-dir", type=Path, help="outputs of this version (made by this script when absent)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ssefeat-identical-"))
    before = args.before_dir
    if before is None:
        if not args.before:
            ap.error("give --before COMMIT or --before-dir FOLDER")
        tree = work / "before-src"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), args.before], check=True)
        try:
            before = work / "before"
            run_jobs(tree, before)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)], check=False)
    after = args.after_dir or work / "after"
    if not (after / "run").exists():
        run_jobs(HERE, after)
    problems = []
    for job in ("demo", "run"):
        problems += [f"{job}/{p}" for p in compare_folders(before / job, after / job)]
    n = sum(1 for job in ("demo", "run") for p in (before / job).rglob("*") if _is_result(p))
    if problems:
        print(f"{len(problems)} of {n} outputs differ:\n" + "\n".join(problems))
        return 1
    print(f"identical: {n} outputs of 'ssefeat demo --quick' and 'ssefeat run' (provenance timestamps and paths "
          f"aside)\n  before: {before}\n  after:  {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
