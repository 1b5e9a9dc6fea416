"""Throughput of the ionic model (Buckingham + DSF Coulomb + bonded thiophosphate anions): ssefeat vs LAMMPS.

    python benchmarks/bench_md_ionic.py [--units 32] [--steps 300] [--threads 2]

Builds a LiPS glass configuration of ``units`` x 93 atoms (32 -> 2976 atoms) with a short melt, then times NVE
(1 fs) with ssefeat's engine and with LAMMPS on the same configuration and the same model (``pair_style
born/coul/dsf``, ``bond_style harmonic``, ``angle_style harmonic``, Verlet skin 1 Å, same cutoffs) on the same
number of threads (LAMMPS: OPENMP package when built with it, else one thread for both). Prints atom-steps/s of
both and their ratio.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numba  # noqa: E402
import numpy as np  # noqa: E402

from ssefeat.md.integrators import NVE  # noqa: E402
from ssefeat.md.systems._building import build_topology, import_lammps, lammps_inputs, load_parameters  # noqa: E402
from ssefeat.md.systems.lips_glass import lips_glass  # noqa: E402


def build(units: int, seed: int = 0):
    counts = {"PS4": 2 * units, "P2S7": 5 * units, "P2S6": units}
    return lips_glass(counts=counts, temperature=600.0, seed=seed, melt_ps=0.3, quench_rate=5000.0, anneal_ps=0.1,
                      equilibrate_ps=0.2, compress_ps=0.05)


def time_ssefeat(sim, steps: int) -> float:
    sim = sim.copy()
    integ = NVE(0.001)
    sim.run(20, integ, progress=False)  # compile and warm up
    t0 = time.perf_counter()
    sim.run(steps, integ, progress=False, check_every=100)
    return sim.n_atoms * steps / (time.perf_counter() - t0)


def time_lammps(sim, steps: int, threads: int):
    lammps = import_lammps()
    if lammps is None:
        return None, "LAMMPS not importable"
    kw = sim.system_kwargs
    p = load_parameters(kw["params"])
    topo, _ = build_topology(kw["anions"], kw["n_li"], p)
    data, cmds = lammps_inputs(sim.positions, sim.cell, topo, p, cutoff=kw["cutoff"], buck_cutoff=kw["buck_cutoff"])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "data.lips")
        with open(path, "w") as fh:
            fh.write(data)
        lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        try:
            omp = threads > 1 and lmp.has_package("OPENMP")
            pre = [f"package omp {threads}", "suffix omp"] if omp else []
            lmp.commands_list(pre + ["units metal", "atom_style full", "boundary p p p", f"read_data {path}"] + cmds + [
                f"neighbor {kw['skin']} bin", "neigh_modify delay 0 every 1 check yes", "timestep 0.001",
                "velocity all create 600 1 mom yes", "fix 1 all nve", "thermo 1000", "run 20"])
            t0 = time.perf_counter()
            lmp.command(f"run {steps}")
            rate = sim.n_atoms * steps / (time.perf_counter() - t0)
        finally:
            lmp.close()
    return rate, f"{threads if omp else 1} thread(s){' (OPENMP)' if omp else ''}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=32)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    args = ap.parse_args()
    t0 = time.perf_counter()
    sim = build(args.units)
    print(f"built {sim.n_atoms} atoms in {time.perf_counter() - t0:.1f} s "
          f"(density {sim.info['density_g_cm3']:.3f} g/cm^3, cutoff {sim.system_kwargs['cutoff']} Å)")
    lmp_rate, how = time_lammps(sim, args.steps, args.threads)
    threads = args.threads
    if lmp_rate is not None and "OPENMP" not in how:
        threads = 1
    numba.set_num_threads(threads)
    rate = time_ssefeat(sim, args.steps)
    print(f"ssefeat: {rate:,.0f} atom-steps/s on {threads} numba thread(s)")
    if lmp_rate is None:
        print(f"LAMMPS: skipped ({how})")
        return
    print(f"LAMMPS : {lmp_rate:,.0f} atom-steps/s on {how}")
    print(f"ratio ssefeat / LAMMPS = {rate / lmp_rate:.2f}")


if __name__ == "__main__":
    main()
