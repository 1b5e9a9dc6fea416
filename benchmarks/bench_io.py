"""Benchmark of ssefeat.io: reading overhead against the underlying libraries, and memory of chunked reads.

    python benchmarks/bench_io.py                    # read overhead (dcd, xtc, trr via mdtraj; extxyz via ASE)
    python benchmarks/bench_io.py --big              # also: chunked iteration over a > 1 GB file, peak memory
    python benchmarks/bench_io.py --atoms 3000 --frames 300 --repeat 5 --big --big-gb 1.2

Overhead = time(ssefeat.io.read) / time(library alone) - 1 on the same file (best of --repeat runs), target < 20 %.
"xdatcar" and "lammpstrj" rows compare ssefeat's own readers with ASE's (negative overhead: ssefeat faster).
Rows "dcd" etc. include parsing the pdb topology (both sides); "dcd+top" pass an already parsed mdtraj Topology,
so they time the trajectory read and ssefeat's conversion alone.
The big-file part writes a > 1 GB dcd and a > 1 GB zarr store in a temporary folder (deleted afterwards), then
iterates over them with ssefeat.io.iter_chunks in a fresh subprocess and reports its peak resident memory
(VmHWM) and the tracemalloc peak of Python and numpy allocations (target < 500 MB).
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_system(n_atoms: int, n_frames: int, seed: int = 0):
    """A Li3PS4-like random system: species (Li:P:S = 3:1:4), triclinic cell (Å), positions (n_frames, n_atoms, 3)."""
    rng = np.random.default_rng(seed)
    n_unit = n_atoms // 8
    species = np.array((["Li"] * 3 + ["P"] + ["S"] * 4) * n_unit)
    n = species.size
    edge = (n / 0.05) ** (1 / 3)  # about 0.05 atoms / Å^3
    cell = np.array([[edge, 0, 0], [0.1 * edge, edge, 0], [0.05 * edge, 0.08 * edge, edge]])
    frac = rng.random((n, 3)) + np.cumsum(rng.normal(scale=0.002, size=(n_frames, n, 3)), axis=0)
    return species, cell, (frac % 1.0) @ cell


def best_of(funcs, repeat: int) -> list[float]:
    """Best time of each function, runs interleaved so that load from other processes hits all alike."""
    times = [[] for _ in funcs]
    for _ in range(repeat):
        for t, func in zip(times, funcs):
            t0 = time.perf_counter()
            func()
            t.append(time.perf_counter() - t0)
    return [min(t) for t in times]


def bench_read(n_atoms: int, n_frames: int, repeat: int, folder: Path) -> list[dict]:
    import ase.io
    import mdtraj as md

    import ssefeat
    import ssefeat.io as sio
    from ssefeat.io.export import to_ase
    from ssefeat.io.mdtraj_formats import topology_from_species

    species, cell, pos = make_system(n_atoms, n_frames)
    ds = ssefeat.make_trajectory(pos, species, cell, timestep_ps=0.01)
    top = topology_from_species(species)
    traj = md.Trajectory((pos / 10).astype(np.float32), top, time=ds.time.values,
                         unitcell_lengths=None, unitcell_angles=None)
    traj.unitcell_vectors = np.repeat(cell[None] / 10, n_frames, 0)
    traj[0].save_pdb(str(folder / "top.pdb"))
    for ext in ("dcd", "xtc", "trr"):
        traj.save(str(folder / f"t.{ext}"))
    ase.io.write(folder / "t.extxyz", to_ase(ds.drop_vars("mass")), format="extxyz")
    ase.io.write(folder / "t.xdatcar", to_ase(ds.drop_vars("mass")), format="vasp-xdatcar")
    sio.export(ds, folder / "t.lammpstrj")

    rows = []
    cases = [(ext, lambda e=ext: md.load(str(folder / f"t.{e}"), top=str(folder / "top.pdb")),
              lambda e=ext: sio.read(folder / f"t.{e}", topology=folder / "top.pdb")) for ext in ("dcd", "xtc", "trr")]
    top_obj = md.load_topology(str(folder / "top.pdb"))  # topology parsed once: only the trajectory read counts
    cases += [(f"{ext}+top", lambda e=ext: md.load(str(folder / f"t.{e}"), top=top_obj),
               lambda e=ext: sio.read(folder / f"t.{e}", topology=top_obj)) for ext in ("dcd", "xtc", "trr")]
    cases.append(("extxyz", lambda: ase.io.read(folder / "t.extxyz", index=":", format="extxyz"),
                  lambda: sio.read(folder / "t.extxyz")))
    # ssefeat's own XDATCAR reader (count lines checked) against ASE's; LAMMPS dump against ASE's text-dump reader
    cases.append(("xdatcar", lambda: ase.io.read(folder / "t.xdatcar", index=":", format="vasp-xdatcar"),
                  lambda: sio.read(folder / "t.xdatcar")))
    cases.append(("lammpstrj", lambda: ase.io.read(folder / "t.lammpstrj", index=":", format="lammps-dump-text"),
                  lambda: sio.read(folder / "t.lammpstrj")))
    for name, lib, ours in cases:
        ours()  # warm caches and imports
        t_lib, t_ours = best_of([lib, ours], repeat)
        rows.append({"format": name, "library_s": t_lib, "ssefeat_s": t_ours, "overhead": t_ours / t_lib - 1,
                     "size_MB": (folder / f"t.{name.split('+')[0]}").stat().st_size / 1e6})
    return rows


_CHILD = r"""
import json, sys, time, tracemalloc


def hwm_mb():
    # VmHWM: peak resident memory of this process image (ru_maxrss would include the parent's, inherited at exec)
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM")) / 1024


import numpy as np
import ssefeat.io as sio
path, fmt, chunk, n_atoms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
kw = {"topology": ["Li"] * n_atoms} if fmt == "dcd" else {}
base = hwm_mb()
tracemalloc.start()
t0 = time.perf_counter()
frames, checksum = 0, 0.0
for ds in sio.iter_chunks(path, chunk, **kw):
    frames += ds.sizes["frame"]
    checksum += float(ds.positions.values[:, 0, 0].sum())
elapsed = time.perf_counter() - t0
_, peak_py = tracemalloc.get_traced_memory()
print(json.dumps({"frames": frames, "seconds": elapsed, "peak_rss_MB": hwm_mb(), "rss_after_imports_MB": base,
                  "tracemalloc_peak_MB": peak_py / 2**20}))
"""


def bench_big(gb: float, n_atoms: int, chunk: int, folder: Path, formats: list[str]):
    """Yield one result row per format (the file of each is deleted before the next is made)."""
    import mdtraj as md

    import ssefeat
    import ssefeat.io as sio

    rng = np.random.default_rng(1)
    cell = np.eye(3) * 60.0
    for fmt in formats:
        if fmt in ("dcd", "zarr"):
            frame_bytes = n_atoms * 3 * 4  # float32 (zarr compresses random floats only a little)
        else:  # text: measure one frame
            sample = ssefeat.make_trajectory(rng.random((1, n_atoms, 3)) * 60.0, ["Li"] * n_atoms, cell)
            sio.export(sample, folder / f"sample.{fmt}")
            frame_bytes = (folder / f"sample.{fmt}").stat().st_size
            (folder / f"sample.{fmt}").unlink()
        n_frames = int(np.ceil(gb * 1e9 / frame_bytes))
        path = folder / f"big.{fmt}"
        t0 = time.perf_counter()
        block = 500
        if fmt == "dcd":
            with md.formats.DCDTrajectoryFile(str(path), "w") as f:
                for i in range(0, n_frames, block):
                    k = min(block, n_frames - i)
                    f.write(rng.random((k, n_atoms, 3), dtype=np.float32) * 600.0,
                            cell_lengths=np.full((k, 3), 60.0), cell_angles=np.full((k, 3), 90.0))
        else:
            def chunks():
                for i in range(0, n_frames, block):
                    k = min(block, n_frames - i)
                    yield ssefeat.make_trajectory(rng.random((k, n_atoms, 3), dtype=np.float32) * 60.0,
                                                  ["Li"] * n_atoms, cell, frame=np.arange(i, i + k),
                                                  time=np.arange(i, i + k) * 0.01, timestep_ps=0.01)
            sio.write(chunks(), path)
        size = sum(p.stat().st_size for p in path.rglob("*")) if path.is_dir() else path.stat().st_size
        t_write = time.perf_counter() - t0
        out = subprocess.run([sys.executable, "-c", _CHILD, str(path), fmt, str(chunk), str(n_atoms)],
                             capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res.update({"format": fmt, "size_GB": size / 1e9, "write_s": t_write, "expected_frames": n_frames})
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        yield res


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--atoms", type=int, default=3000)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="also run the > 1 GB chunked-iteration test")
    parser.add_argument("--big-gb", type=float, default=1.25)
    parser.add_argument("--big-atoms", type=int, default=10000)
    parser.add_argument("--chunk", type=int, default=200, help="frames per chunk for the big-file test")
    parser.add_argument("--big-formats", default="dcd,zarr")
    parser.add_argument("--tmp", default=None, help="folder for temporary files (default: system temp)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the temporary folder is removed

    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="ssefeat-bench-") as tmp:
        folder = Path(tmp)
        print(f"read overhead: {args.atoms} atoms x {args.frames} frames, best of {args.repeat}")
        print(f"{'format':8s} {'MB':>7s} {'library s':>10s} {'ssefeat s':>10s} {'overhead':>9s}")
        rows = bench_read(args.atoms, args.frames, args.repeat, folder)
        for r in rows:
            flag = "ok" if r["overhead"] < 0.2 else "ABOVE 20 %"
            print(f"{r['format']:8s} {r['size_MB']:7.1f} {r['library_s']:10.4f} {r['ssefeat_s']:10.4f} "
                  f"{100 * r['overhead']:8.1f}%  {flag}", flush=True)
        if args.big:
            print(f"\nchunked iteration over > {args.big_gb} GB ({args.big_atoms} atoms, {args.chunk} frames/chunk)")
            for r in bench_big(args.big_gb, args.big_atoms, args.chunk, folder, args.big_formats.split(",")):
                flag = "ok" if r["peak_rss_MB"] < 500 else "ABOVE 500 MB"
                print(f"{r['format']:5s} {r['size_GB']:.2f} GB, {r['frames']} frames (expected "
                      f"{r['expected_frames']}) in {r['seconds']:.1f} s (written in {r['write_s']:.1f} s): "
                      f"peak RSS {r['peak_rss_MB']:.0f} MB (after imports {r['rss_after_imports_MB']:.0f} MB), "
                      f"tracemalloc peak {r['tracemalloc_peak_MB']:.0f} MB  {flag}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
