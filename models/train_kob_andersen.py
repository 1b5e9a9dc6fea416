"""Train the shipped softness model of Kob-Andersen A particles (models/kob_andersen_A_phop.json + card).

    python models/train_kob_andersen.py --cache /tmp/ka   # keep / reuse the generated runs, labels and features
    python models/train_kob_andersen.py --replica-only T r /tmp/ka   # one run (MD, labels, quenches), for parallel use

Cost: 20 runs of N = 1000 (~1.7 ms of CPU per MD step: ~16 min per T = 0.5 run, ~6 min per T = 0.6 run) and one
FIRE quench per feature frame (~1.5 s of CPU each; ~3500 quenches): about 3.5 h of CPU, 1 h 45 min wall with two
--replica-only runs at a time on a 2-core machine.

Pipeline (reduced LJ units: sigma_AA, epsilon_AA, tau = sigma sqrt(m / epsilon)):

1. MD with ssefeat's engine: Kob-Andersen 80:20, N = 1000, rho = 1.2, dt = 0.005 tau; REPLICAS[T] independent
   runs per temperature (own random start and seed). Random start, FIRE minimisation, Langevin equilibration
   (damping 1 tau), then Nose-Hoover NVT production with a frame every 0.1 tau. Equilibration and production
   lengths are checked against the alpha relaxation time tau_alpha measured on each production run
   (self-intermediate scattering function of A at q = 7.25 / sigma, F_s(q, tau_alpha) = 1/e) and against aging
   (tau_alpha of the first and second halves of production).
2. Labels: p_hop (Candelier 2010) of the A particles with t_R = T_R_TAU at every stored frame, reduced to the
   feature frames by ssefeat.softness.labels_at_frames (the largest p_hop of the interval each stands for).
3. Features: every FEATURE_STRIDE[T]-th frame is quenched to its inherent structure (ssefeat.md.inherent_structures,
   FIRE to FIRE_FMAX), then radial structure functions of A centres, A and B neighbours, mu = 0.1 ... 3.0 sigma,
   L = 0.1 sigma, hard cutoff 3.5 sigma (kob_andersen_radial()). The thermal frames' features are kept for comparison.
4. Training at T_TRAIN on all its runs: rearranging p_hop > R_CUT sigma^2, non-rearranging p_hop < NR_CUT sigma^2
   at every stored frame within +-tau_alpha(T_TRAIN) / 2 (QUIET_TAU = None); balanced classes; 10 frame blocks, 3 held out (seeded); C by grouped
   CV. Also whole runs held out (train_softness(groups=run)) and every run held out once. Permuted-label controls
   (labels shuffled within the training set) give the chance level.
5. P_R(S) at every temperature (probability of p_hop > R_CUT within the next t_R), and the fit
   ln P_R = Sigma(S) - DeltaE(S) / T (fit_softness_arrhenius, k_B = 1).

Steps 2-4 are the library's protocol (ssefeat.softness.protocol: train_on_runs, train_with_holdouts,
transfer_metrics); this script holds the recipe, the MD and its cache, the diagnostics and the model card.

Determinism: on one machine the same seed gives the same files (MD on one numba thread: NUMBA_NUM_THREADS=1 is set here before
numba loads; other thread counts or CPUs change round-off and so the chaotic trajectory).
"""
from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
MODEL_NAME = "kob_andersen_A_phop"

# ---- the recipe (all reduced LJ units) -------------------------------------------------------------------------
N_ATOMS = 1000
DENSITY = 1.2
DT = 0.005
DUMP_TAU = 0.1                  # time between stored frames
TEMPERATURES = (0.5, 0.55, 0.6, 0.7, 0.8)  # P_R(S) and its Arrhenius fit; the model is trained at T_TRAIN
T_TRAIN = 0.5
EQUILIBRATE_TAU = {0.5: 2000.0, 0.55: 500.0, 0.6: 300.0, 0.7: 150.0, 0.8: 100.0}
REPLICAS = {0.5: 6, 0.55: 4, 0.6: 6, 0.7: 1, 0.8: 1}  # independent runs (own random start and seed) per T
PRODUCTION_TAU = {0.5: 800.0, 0.55: 200.0, 0.6: 100.0, 0.7: 60.0, 0.8: 60.0}
T_R_TAU = 2.0                   # p_hop window t_R
R_CUT = 0.2                     # sigma^2: rearranging
NR_CUT = 0.05                   # sigma^2: non-rearranging ...
QUIET_TAU = None                # ... at every stored frame within +- this time; None: tau_alpha(T_TRAIN) / 2, from
                                # the mean tau_alpha of the T_TRAIN runs (the rule at every temperature)
PREVIOUS_T_TRAIN = 0.6          # the second generation (T = 0.6, quiet +-7.5 tau), what the explore_*.py scripts read
PREVIOUS_QUIET_TAU = 7.5
PREVIOUS_FRAME_BLOCKS, PREVIOUS_BY_RUN = 0.787, 0.766  # its held-out balanced accuracies (card, second generation)
FEATURE_STRIDE = {0.5: 20, 0.55: 20, 0.6: 10, 0.7: 20, 0.8: 20}  # features every 1 tau at T_TRAIN, else 2 tau
INHERENT = True                 # features of the inherent structures (FIRE-quenched feature frames)
FIRE_FMAX = 1e-3                # epsilon / sigma: quench convergence
Q_ALPHA = 7.25                  # 1/sigma, first peak of S_AA(q)
SEED = 2015


def parameter_set():
    """The features of the model: the radial part of ``kob_andersen()`` (A centres, A and B neighbours)."""
    from ssefeat.features.parameters import kob_andersen_radial

    return kob_andersen_radial()


# ---- MD --------------------------------------------------------------------------------------------------------
class _Frames:
    """A minimal in-memory writer for Simulation.run: keeps positions (never wrapped) and times."""

    def __init__(self):
        self.positions, self.time = [], []

    def write(self, sim):
        self.positions.append(sim.positions.astype(np.float64).copy())
        self.time.append(float(sim.time))


def simulate(temperature: float, n_atoms: int = N_ATOMS, equilibrate_tau: float = 300.0,
             production_tau: float = 100.0, dump_tau: float = DUMP_TAU, dt: float = DT, seed: int = SEED,
             cache: Path | None = None, progress: bool = False, replica: int = 0):
    """Equilibrated KA production trajectory at ``temperature`` as a ssefeat trajectory Dataset (unwrapped)."""
    import ssefeat
    from ssefeat.md.protocols import make_thermostat
    from ssefeat.md.systems.kob_andersen import kob_andersen

    key = (f"ka_N{n_atoms}_T{temperature:g}_eq{equilibrate_tau:g}_prod{production_tau:g}_dump{dump_tau:g}"
           f"_dt{dt:g}_seed{seed}" + (f"_r{replica}" if replica else "") + ".npz")
    if cache is not None and (Path(cache) / key).exists():
        with np.load(Path(cache) / key, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        info = json.loads(str(data["info"]))
    else:
        t0 = time.time()
        tseed = seed + int(round(1000 * temperature)) + 7919 * replica
        sim = kob_andersen(n_atoms=n_atoms, temperature=temperature, density=DENSITY, seed=tseed, dt=dt,
                           equilibrate_steps=int(round(equilibrate_tau / dt)), thermostat="langevin",
                           damping=1.0, progress=progress)
        t_eq = time.time() - t0
        dump_every = int(round(dump_tau / dt))
        frames = _Frames()
        frames.write(sim)
        integ = make_thermostat("nose-hoover", temperature, dt)
        sim.run(int(round(production_tau / dt)), integ, dump_every=dump_every, writer=frames, progress=progress)
        info = {"replica": replica, "n_atoms": n_atoms, "temperature": temperature, "density": DENSITY, "dt": dt,
                "seed": tseed,
                "equilibrate_tau": equilibrate_tau, "equilibration": "random start, FIRE, Langevin damping 1 tau",
                "production_tau": production_tau, "production": "Nose-Hoover chain, damping 100 dt",
                "dump_tau": dump_tau, "mean_temperature_last": float(sim.temperature),
                "wall_s_equilibrate": t_eq, "wall_s_total": time.time() - t0}
        data = {"positions": np.asarray(frames.positions), "time": np.asarray(frames.time),
                "cell": sim.cell.copy(), "species": sim.species.astype("U"), "info": np.array(json.dumps(info))}
        if cache is not None:
            Path(cache).mkdir(parents=True, exist_ok=True)
            tmp = Path(cache) / (key + ".tmp.npz")
            np.savez(tmp, **data)
            tmp.rename(Path(cache) / key)
    ds = ssefeat.make_trajectory(data["positions"], data["species"], cell=data["cell"],
                                 time=data["time"] - data["time"][0], wrapped=False, source="ssefeat.md kob_andersen",
                                 attrs={"units": "lj", "temperature": temperature})
    return ds, info


# ---- labels, features (the protocol is ssefeat.softness.protocol) ------------------------------------------------
def labels_and_features(ds, stride: int = FEATURE_STRIDE[T_TRAIN], inherent: bool = INHERENT, thermal_too=False):
    """ssefeat.softness.labels_and_features with this recipe (p_hop of A, t_R, kob_andersen_radial, FIRE_FMAX)."""
    from ssefeat.softness import labels_and_features as lf

    return lf(ds, parameter_set(), t_R=T_R_TAU, stride=stride, species="A", system="kob_andersen", fmax=FIRE_FMAX,
              inherent=inherent, thermal_too=thermal_too)


def replica_data(T: float, replica: int, seed: int = SEED, cache: Path | None = None, progress: bool = False):
    """One independent run at T: (run info, p_hop and its forward max at the feature frames, features of the
    inherent structures, features of the thermal frames); cached when asked."""
    import xarray as xr

    ds, info = simulate(T, equilibrate_tau=EQUILIBRATE_TAU[T], production_tau=PRODUCTION_TAU[T], seed=seed,
                        cache=cache, progress=progress, replica=replica)
    key = (f"ka_lf_T{T:g}_r{replica}_seed{seed}_tR{T_R_TAU:g}_stride{FEATURE_STRIDE[T]}_"
           f"{'is' + format(FIRE_FMAX, 'g') if INHERENT else 'thermal'}_{parameter_set().fingerprint}")
    parts = ("labels", "features", "features_thermal")
    files = [Path(cache) / f"{key}.{part}.nc" for part in parts] if cache is not None else None
    if files is not None and all(f.exists() for f in files):
        labels = xr.open_dataset(files[0]).load()
        info = json.loads(labels.attrs["info"])
        feats = []
        for f in files[1:]:
            a = xr.open_dataarray(f).load()
            a.attrs = json.loads(a.attrs.pop("feature_attrs"))
            feats.append(a)
        return info, labels["phop"], labels["phop_future_max"], feats[0], feats[1]
    from ssefeat.softness import alpha_relaxation_time

    A = np.flatnonzero(ds["species"].values == "A")
    info["relaxation"] = alpha_relaxation_time(ds["positions"].values[:, A], DUMP_TAU, Q_ALPHA)
    t0 = time.time()
    ph, fut, feats, feats_th = labels_and_features(ds, stride=FEATURE_STRIDE[T], thermal_too=True)
    info["wall_s_labels_features"] = time.time() - t0
    if "inherent" in feats.attrs:
        info["inherent"] = json.loads(feats.attrs["inherent"])
    if files is not None:
        keep = ("frame", "atom", "time", "species")
        labels = xr.Dataset({"phop": ph.drop_vars([c for c in ph.coords if c not in keep]),
                             "phop_future_max": fut.drop_vars([c for c in fut.coords if c not in keep])})
        labels["phop"].attrs = {k: v for k, v in ph.attrs.items() if isinstance(v, (str, int, float))}
        labels.attrs["info"] = json.dumps(info)
        objs = [labels]
        for a in (feats, feats_th):
            f = a.copy()
            f.attrs = {"feature_attrs": json.dumps({k: v for k, v in a.attrs.items() if isinstance(v, str)})}
            objs.append(f)
        for obj, path in zip(objs, files):
            tmp = path.with_suffix(".tmp")
            obj.to_netcdf(tmp)
            tmp.rename(path)
    return info, ph, fut, feats, feats_th


# ---- training and evaluation: ssefeat.softness.train_on_runs / train_with_holdouts ---------------------------
def p_r_curve(softness, future_max, s_range, bins: int = 16, min_count: int = 100, r_cut: float = R_CUT):
    from ssefeat.softness import rearrangement_probability

    return rearrangement_probability(softness, future_max, r_cut=r_cut, horizon=0, bins=bins, s_range=s_range,
                                     min_count=min_count)


# ---- the card ---------------------------------------------------------------------------------------------------
def _fmt(x, nd=3):
    return "nan" if x is None or not np.isfinite(x) else f"{x:.{nd}f}"


NO_DOMAIN_NOTE = (
    "**No training domain.** This file was written before model files stored their training domain (per-feature "
    "ranges and the covariance of the standardised training features), and it has not been regenerated (about "
    "3.5 h of MD and quenches). So `SoftnessModel.load` warns (DomainWarning: no training domain), and `apply` "
    "returns softness without an `in_domain` flag: a sample far outside the training data (another temperature, "
    "density or system, thermal instead of inherent-structure features) gets a softness without any warning, and "
    "the pipeline cannot leave such samples out of P_R(S), histograms and links. Check the inputs against the "
    "training conditions below yourself, or regenerate the model to add the domain.")


def domain_note(model) -> str:
    """What the card says about the model's training domain (issue 14: in_domain)."""
    if not hasattr(model, "domain_"):
        return NO_DOMAIN_NOTE
    return ("The file stores its training domain (per-feature ranges and the covariance of the standardised "
            "training features): `apply` adds a per-sample `in_domain` flag (Mahalanobis distance in standardised "
            f"units within {model.domain_['threshold']:.3g}, twice the 99th percentile of the training samples' "
            "distances) and warns with the count of samples outside it.")


def write_card(path: Path, model, summary: dict) -> None:
    from ssefeat.io.atomic import atomic_output

    m = summary["metrics_test"]
    cm = m["confusion_matrix"]
    ctrl = summary["permuted_control"]
    lines = [
        f"# Model card: `{MODEL_NAME}.json`",
        "",
        "Softness of the A particles of the Kob-Andersen 80:20 binary Lennard-Jones liquid (reduced units), a",
        "linear hyperplane on radial structure functions trained with p_hop rearrangement labels",
        "(Cubuk et al., PRL 114, 108001 (2015); Schoenholz et al., Nat. Phys. 12, 469 (2016)).",
        "The structure functions are computed on the *inherent structures* of the feature frames (each frame",
        "FIRE-quenched to its local energy minimum, `ssefeat.md.inherent_structures`), the labels on the thermal",
        "trajectory.",
        "Regenerate: `python models/train_kob_andersen.py --cache DIR` (seeded, deterministic on one numba thread). "
        f"Last generation: MD {summary['md_wall_s'] / 60:.0f} min wall summed over the runs, quenches + labels + "
        f"features {summary['lf_wall_s'] / 60:.0f} min wall summed over the runs (2-core machine, two runs at a "
        "time on one numba thread each: ~1.7 ms per MD step for N = 1000, i.e. ~16 min per T = 0.5 run and ~6 min "
        "per T = 0.6 run, and ~1.5 s per quench), training and analysis "
        f"{summary['wall_s_total'] / 60:.1f} min wall.",
        "",
        "## Use",
        "```python",
        "from ssefeat.softness import SoftnessModel",
        "from ssefeat.features.parameters import kob_andersen_radial",
        "from ssefeat.features.structure_functions import structure_functions",
        "from ssefeat.md import inherent_structures",
        f"model = SoftnessModel.load('models/{MODEL_NAME}.json')",
        "# ds: a KA trajectory in sigma units, species A/B",
        f"quenched = inherent_structures(ds, system='kob_andersen', fmax={FIRE_FMAX:g})",
        "S = model.apply(structure_functions(quenched, kob_andersen_radial()))",
        "```",
        "Apply it to inherent structures, as trained: on thermal configurations the feature distributions are wider "
        "and S is shifted.",
        "The model checks the feature signature (names and every parameter coordinate) and refuses other features.",
        domain_note(model),
        "",
        "## Status against the issue-6 target",
        status_line(summary),
        "",
        "## How it was trained",
        f"- System: Kob-Andersen 80:20, N = {summary['n_atoms']} (800 A + 200 B), number density {DENSITY}, "
        f"{REPLICAS[T_TRAIN]} independent runs at T = {T_TRAIN} for training (own random start and seed), "
        "more at other temperatures for P_R(S) and its Arrhenius fit, "
        "shifted-force LJ cut at 2.5 sigma_ab (ssefeat.md), dt = 0.005 tau, m = 1.",
        "- Per temperature: random start, FIRE minimisation, Langevin equilibration (damping 1 tau), then "
        f"Nose-Hoover NVT production, a frame every {DUMP_TAU} tau.",
        "",
        "| T | replica (seed) | equilibration (tau) | production (tau) | tau_alpha (tau) | tau_alpha 1st / 2nd half "
        "| equil. / tau_alpha |",
        "|---|---|---|---|---|---|---|",
    ]
    for T, reps in summary["runs"].items():
        for r in reps:
            rel = r["relaxation"]
            lines.append(f"| {T} | {r.get('replica', 0)} ({r['seed']}) | {r['equilibrate_tau']:g} | "
                         f"{r['production_tau']:g} | {_fmt(rel['tau_alpha'], 1)} | "
                         f"{_fmt(rel['tau_alpha_first_half'], 1)} / {_fmt(rel['tau_alpha_second_half'], 1)} | "
                         f"{r['equilibrate_tau'] / rel['tau_alpha']:.0f} |")
    lines += [
        "",
        f"tau_alpha: F_s(q = {Q_ALPHA} / sigma, tau_alpha) = 1/e for the A particles, measured on the production "
        "run. Equal first-half and second-half values (no aging) and equilibration >= 10 tau_alpha are the checks "
        "that the runs are equilibrated supercooled liquids (literature tau_alpha at T = 0.6 is of order 20-40 tau, "
        "depending on the thermostat/cutoff convention). Each half is only a few tau_alpha long, so the half values "
        "scatter; " + _aging_note(summary["runs"])
        + _energy_note(summary.get("energy_halves") or {}, summary["runs"][str(T_TRAIN)]),
        "",
        f"- Labels: p_hop of the A particles (Candelier et al. 2010), t_R = {T_R_TAU} tau (windows A, B of "
        f"{T_R_TAU / 2} tau). Rearranging: p_hop > {R_CUT} sigma^2; non-rearranging: p_hop < {NR_CUT} sigma^2 at "
        f"every stored frame within +-{summary['quiet_tau']:.1f} tau. Why these: {summary['threshold_reason']}",
        f"- Features: radial structure functions G(i; mu, Y) of A centres, Y in (A, B), mu = 0.1, 0.2, ..., "
        f"3.0 sigma, L = 0.1 sigma, hard cutoff 3.5 sigma: `kob_andersen_radial()`, "
        f"{model.n_features_in_} features, parameter fingerprint `{summary['fingerprint']}`, computed on the "
        f"inherent structure of a frame every {FEATURE_STRIDE[T_TRAIN] * DUMP_TAU:g} tau at T = {T_TRAIN} (every "
        f"{max(FEATURE_STRIDE.values()) * DUMP_TAU:g} tau at the other "
        f"temperatures): FIRE at fixed cell to a largest force below {FIRE_FMAX:g} epsilon/sigma "
        f"({summary['inherent_note']}). Each feature frame gets the largest p_hop of the stored frames it stands "
        "for (`ssefeat.softness.labels_at_frames`), so a rearrangement between feature frames is never missed; "
        f"the quiet window is +-{summary['window_frames']} feature frames, i.e. every stored frame within "
        f"+-{(summary['window_frames'] + 0.5) * FEATURE_STRIDE[T_TRAIN] * DUMP_TAU:g} tau.",
        f"- Training at T = {T_TRAIN}: balanced classes ({summary['n_rearranging_available']} rearranging and "
        f"{summary['n_nonrearranging_available']} non-rearranging samples available); the runs are concatenated "
        "(a quiet window never spans two runs); 10 contiguous frame blocks, 3 held out (seeded), 1 block on each "
        "side of a test block dropped from training; standardised features, logistic regression, C chosen by "
        "5-fold CV grouped by frame block.",
        f"- Samples: {summary['n_train']} train, {summary['n_test']} held-out test. C = {model.C_:g}.",
        "",
        f"## Metrics (held-out frame blocks, T = {T_TRAIN})",
        f"- accuracy {_fmt(m['accuracy'])}, **balanced accuracy {_fmt(m['balanced_accuracy'])}**",
        f"- P(S > 0 | rearranging) = {_fmt(m['p_soft_given_rearranging'])}; P(S > 0) over the test samples "
        f"(balanced) = {_fmt(m['p_soft'])}; P(S > 0) over all A particles and frames = {_fmt(summary['p_soft_all'])}",
        f"- confusion matrix [[TN, FP], [FN, TP]] = {cm}",
        f"- training-set balanced accuracy {_fmt(summary['metrics_train']['balanced_accuracy'])}",
        f"- permuted-label control (same samples, training labels shuffled, mean of {ctrl['n_shuffles']} shuffles): "
        f"balanced accuracy {_fmt(ctrl['balanced_accuracy'])} (chance 0.5; each: "
        f"{', '.join(_fmt(x) for x in ctrl['balanced_accuracy_each'])})",
    ]
    br = summary.get("by_run") or {}
    if br:
        bc = br["permuted_control"]
        lines.append(f"- **held-out independent runs** (train_softness(groups=run): runs {', '.join(br['test_runs'])} "
                     f"held out, seeded, trained on the other runs, C = {br['C']:g} by 5-fold CV grouped by run): "
                     f"**balanced accuracy {_fmt(br['balanced_accuracy'])}**, P(S>0|R) "
                     f"{_fmt(br['p_soft_given_rearranging'])}, confusion {br['confusion_matrix']} "
                     f"(n = {br['n_samples']} test, {br['n_train']} train); permuted-label control "
                     f"{_fmt(bc['balanced_accuracy'])} (mean of {bc['n_shuffles']}: "
                     f"{', '.join(_fmt(x) for x in bc['balanced_accuracy_each'])})")
    lo = summary.get("leave_one_run_out") or {}
    if lo:
        each = lo["balanced_accuracy_each"]
        lines.append(f"- every run held out once (trained on the other runs, C = {lo['C']:g}): pooled balanced "
                     f"accuracy {_fmt(lo['balanced_accuracy'])}, P(S>0|R) {_fmt(lo['p_soft_given_rearranging'])}, "
                     f"confusion {lo['confusion_matrix']}; per run "
                     f"{', '.join(f'{k} {_fmt(v)}' for k, v in each.items())} (min {_fmt(min(each.values()))}, "
                     f"max {_fmt(max(each.values()))})")
    th = summary.get("thermal_features") or {}
    if th:
        lines.append(f"- comparison, the same recipe on the features of the thermal (not quenched) feature frames: "
                     f"held-out frame blocks {_fmt(th['balanced_accuracy'])}, held-out runs {_fmt(th['by_run'])}, "
                     f"every run held out once {_fmt(th['leave_one_run_out'])}; P_R over {_fmt(th['decades'], 2)} "
                     "decades")
    for q, v in (summary.get("quiet_check") or {}).items():
        lines.append(f"- diagnostic, not a model choice: the same recipe at T = {T_TRAIN} with a quiet window of +-{q} tau "
                     f"(instead of +-{summary['quiet_tau']:.1f} tau; {v['n_nonrearranging_available']} non-rearranging "
                     f"samples available): held-out frame blocks {_fmt(v['frame_blocks'])}, held-out runs "
                     f"{_fmt(v['by_run'])}, every run held out once {_fmt(v['leave_one_run_out'])}")
    for T, t in summary.get("transfer", {}).items():
        lines.append(f"- applied unchanged to the independent runs at T = {T} (all balanced labelled samples, quiet "
                     f"window +-{t['quiet_tau']:.1f} tau = tau_alpha(T) / 2, n = {t['n_samples']}): balanced accuracy "
                     f"{_fmt(t['balanced_accuracy'])}, P(S>0|R) {_fmt(t['p_soft_given_rearranging'])}")
    lines += ["", f"## P_R(S): probability that an A particle with softness S has p_hop > {R_CUT} sigma^2 within "
                  f"the next t_R = {T_R_TAU} tau",
              f"Bins with >= {summary['min_count']} samples; Wilson 68 % intervals in the model file metrics.", ""]
    header = "| S | " + " | ".join(f"P_R (T={T})" for T in summary["p_r"]) + " |"
    lines += [header, "|---|" + "---|" * len(summary["p_r"])]
    S = next(iter(summary["p_r"].values()))["S"]
    for k, s in enumerate(S):
        row = [f"{s:+.2f}"] + [("-" if v["P_R"][k] is None else f"{v['P_R'][k]:.2e}") for v in summary["p_r"].values()]
        lines.append("| " + " | ".join(row) + " |")
    lines += [""]
    for T, v in summary["p_r"].items():
        lines.append(f"- T = {T}: P_R spans {_fmt(v['decades'], 2)} decades over the observed S range (0.5-99.5 "
                     f"percentiles of S at T = {T_TRAIN}); strictly rising bin to bin: {v['monotone']}; rising "
                     f"within the 68 % intervals: {v['monotone_within_errors']}; Spearman rank correlation "
                     f"{_fmt(v['spearman'], 3)}.")
    if summary.get("arrhenius"):
        a = summary["arrhenius"]
        lines += ["", "Arrhenius fit ln P_R(S) = Sigma(S) - DeltaE(S) / T (k_B = 1, temperatures "
                      f"{list(summary['p_r'])}):", "", "| S | Sigma | DeltaE (epsilon) |", "|---|---|---|"]
        for s, sg, de, sge, dee in zip(a["S"], a["Sigma"], a["DeltaE"], a["Sigma_err"], a["DeltaE_err"]):
            if sg is not None:
                lines.append(f"| {s:+.2f} | {sg:.2f} +- {sge:.2f} | {de:.2f} +- {dee:.2f} |")
        lines += ["", a["comment"]]
    lines += ["", *PROTOCOL_THIRD_GENERATION.split("\n"), "", *SECOND_GENERATION_SECTION.split("\n"),
              "", *T_R_SELECTION_SECTION.split("\n")]
    lines += ["", "## Limitations", *[f"- {x}" for x in summary["limitations"]], ""]
    with atomic_output(path) as tmp:
        Path(tmp).write_text("\n".join(lines))


def _aging_note(runs: dict) -> str:
    """Per temperature: the spread of tau_alpha over runs and the runs whose halves differ by more than 1.5x."""
    out = []
    for T, reps in runs.items():
        taus = [r["relaxation"]["tau_alpha"] for r in reps]
        ratio = [r["relaxation"]["tau_alpha_second_half"] / r["relaxation"]["tau_alpha_first_half"] for r in reps]
        slow = [str(r.get("replica", 0)) for r, q in zip(reps, ratio) if q > 1.5]
        fast = [str(r.get("replica", 0)) for r, q in zip(reps, ratio) if q < 1 / 1.5]
        text = f"T = {T}: tau_alpha {min(taus):.1f}-{max(taus):.1f} tau over {len(reps)} run(s)"
        if slow:
            text += f", run(s) {', '.join(slow)} slower in the second half by more than 1.5x (aging not excluded)"
        if fast:
            text += f", run(s) {', '.join(fast)} faster in the second half by more than 1.5x"
        short = [str(r.get("replica", 0)) for r in reps
                 if r["equilibrate_tau"] < 10 * r["relaxation"]["tau_alpha"]]
        if short:
            text += (f", run(s) {', '.join(short)} equilibrated for less than 10 of their own tau_alpha (not certified "
                     "equilibrated)")
        out.append(text)
    return "; ".join(out) + "."


def _energy_note(energies: dict, runs: list) -> str:
    """The potential energy of each training run's halves, and the runs that look aged (slower and lower in energy
    in the second half)."""
    if not energies:
        return ""
    parts = [f"run {r} {e['first_half']:.3f} / {e['second_half']:.3f}" for r, e in energies.items()]
    se = max(e["std_error"] for e in energies.values())
    aged = [str(r) for (r, e), run in zip(energies.items(), runs)
            if run["relaxation"]["tau_alpha_second_half"] > 1.5 * run["relaxation"]["tau_alpha_first_half"]
            and e["second_half"] < e["first_half"] - 2 * e["std_error"]]
    return (f" Potential energy per atom at T = {T_TRAIN}, first / second half (a frame every 10 tau; standard error "
            f"~{se:.3f} taking frames as independent): {', '.join(parts)} epsilon. Aging would make the second half "
            "both slower (by > 1.5x) and lower in energy (by > 2 standard errors): "
            + (f"run(s) {', '.join(aged)} show both." if aged else "no run shows both."))


def _gain_note(summary) -> str:
    """Where the gain over the second generation comes from, from the quiet-window diagnostic."""
    prev = (summary.get("quiet_check") or {}).get(str(PREVIOUS_QUIET_TAU))  # summary keys are strings (_clean)
    text = (f"The second generation, trained the same way at T = {PREVIOUS_T_TRAIN}, reached "
            f"{PREVIOUS_FRAME_BLOCKS:.3f} on held-out frame blocks and {PREVIOUS_BY_RUN:.3f} on held-out runs.")
    if prev:
        total = summary["metrics_test"]["balanced_accuracy"] - PREVIOUS_FRAME_BLOCKS
        from_t = prev["frame_blocks"] - PREVIOUS_FRAME_BLOCKS
        share = "most" if from_t > 0.5 * total else "less than half"
        text += (f" With the second generation's quiet window (+-{PREVIOUS_QUIET_TAU} tau) this T = {T_TRAIN} recipe "
                 f"reaches {prev['frame_blocks']:.3f} / {prev['by_run']:.3f} (frame blocks / runs): {share} of the "
                 f"gain on frame blocks ({from_t:+.3f} of {total:+.3f}) comes from the lower temperature, where "
                 "local structure says more about who rearranges, the rest from the longer quiet window "
                 f"(tau_alpha / 2 at T = {T_TRAIN}).")
    return text


def status_line(summary) -> str:
    ba = summary["metrics_test"]["balanced_accuracy"]
    br = (summary.get("by_run") or {}).get("balanced_accuracy", float("nan"))
    lo = (summary.get("leave_one_run_out") or {}).get("balanced_accuracy", float("nan"))
    pr = summary["p_r"][str(T_TRAIN)]
    acc_ok, pr_ok = ba >= 0.8 and br >= 0.8, pr["decades"] >= 2.0 and pr["monotone_within_errors"]
    verdict = (("**Target met** on both counts, on the held-out frame blocks and on the held-out independent runs "
                "alike. " + _gain_note(summary)) if acc_ok and pr_ok else
               "**Target NOT met** at the training temperature: " + "; ".join(x for x in (
                   None if acc_ok else "balanced accuracy below 0.80",
                   None if pr["decades"] >= 2.0 else "P_R(S) spans fewer than 2 decades",
                   None if pr["monotone_within_errors"] else "P_R(S) is not rising within its 68 % intervals")
                   if x) + (" (the P_R(S) part is met)." if pr_ok else "."))
    if not acc_ok:
        m, tr, th = summary["metrics_test"], summary["metrics_train"], summary.get("thermal_features") or {}
        se = np.sqrt(ba * (1 - ba) / m["n_samples"])
        verdict += (f" Where it stands: {ba:.3f} on held-out frame blocks is {0.8 - ba:.3f} short of 0.80 (binomial "
                    f"standard error {se:.3f}, n = {m['n_samples']}). The training-set balanced accuracy "
                    f"({tr['balanced_accuracy']:.3f}) is barely above the held-out values, so the linear model on "
                    "radial structure functions is limited by what these features carry, not by the amount of "
                    "training data (more runs of the same kind would not close the gap). Inherent-structure features "
                    f"gain {ba - th.get('balanced_accuracy', np.nan):+.3f} over thermal-configuration features on "
                    f"held-out frame blocks and {br - (th.get('by_run') or np.nan):+.3f} on held-out runs: less than "
                    "expected from the literature.")
        for T, t in sorted(summary.get("transfer", {}).items()):
            if float(T) < T_TRAIN:
                se_t = np.sqrt(t["balanced_accuracy"] * (1 - t["balanced_accuracy"]) / t["n_samples"])
                verdict += (f" The same hyperplane, applied unchanged to the independent runs at T = {T} (quiet window "
                            f"tau_alpha(T) / 2 = {t['quiet_tau']:.1f} tau, the script's convention for every other "
                            f"temperature), reaches {t['balanced_accuracy']:.3f} (standard error {se_t:.3f}, "
                            f"n = {t['n_samples']}), {(t['balanced_accuracy'] - 0.8) / se_t:+.1f} standard errors from "
                            "the 0.80 line, on a secondary (transfer) metric")
                if t.get("median_window"):
                    mw = t["median_window"]
                    verdict += (f"; the mean tau_alpha behind that window is pulled up by one slow run, and with the "
                                f"window from the median tau_alpha (+-{mw['quiet_tau']:.1f} tau) it is "
                                f"{mw['balanced_accuracy']:.3f} (n = {mw['n_samples']})")
                reps = summary["runs"].get(T, [])
                aging = [r for r in reps if r["relaxation"]["tau_alpha_second_half"]
                         > 1.5 * r["relaxation"]["tau_alpha_first_half"]]
                verdict += (f"; {len(aging)} of the {len(reps)} runs at T = {T} relax more slowly in their second "
                            "half (aging not excluded), so this number is less certain than the T = "
                            f"{T_TRAIN} ones." if aging else ".")
        verdict += " " + summary.get("status_note", "")
    return (f"Target: held-out balanced accuracy >= 0.80 and P_R(S) rising over >= 2 decades at T <= 0.6. This model "
            f"(T = {T_TRAIN}): balanced accuracy {ba:.3f} on held-out frame blocks, {br:.3f} on held-out independent "
            f"runs ({lo:.3f} pooled over every run held out once); P_R(S) over {pr['decades']:.2f} decades, rising "
            f"within its 68 % intervals: {pr['monotone_within_errors']} (Spearman {pr['spearman']:.3f}). {verdict}")


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_clean(v) for v in (x.tolist() if isinstance(x, np.ndarray) else x)]
    if isinstance(x, (np.floating, float)):
        return None if not np.isfinite(x) else round(float(x), 6)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def energy_halves(T: float, replica: int, seed: int, cache: Path | None, every_tau: float = 10.0) -> dict:
    """Mean potential energy per atom (epsilon) of the first and second half of a production run, from a frame
    every ``every_tau`` (aging would show as a drift down together with slower second-half dynamics)."""
    from ssefeat.md import inherent_structures

    ds, _ = simulate(T, equilibrate_tau=EQUILIBRATE_TAU[T], production_tau=PRODUCTION_TAU[T], seed=seed, cache=cache,
                     replica=replica)
    sub = ds.isel(frame=slice(0, None, max(1, int(round(every_tau / DUMP_TAU)))))
    e = inherent_structures(sub, system="kob_andersen", max_steps=1, require_converged=False)["thermal_energy"]
    e = e.values / ds.sizes["atom"]
    half = len(e) // 2
    return {"first_half": float(e[:half].mean()), "second_half": float(e[half:].mean()),
            "std_error": float(e.std(ddof=1) / np.sqrt(half))}


def full_resolution_phop_stats(T: float, seed: int, cache: Path | None) -> dict:
    """Distribution of p_hop of A at every stored frame of the runs at T (what the thresholds were fixed from)."""
    from ssefeat.dynamics.phop import phop

    vals = []
    for r in range(REPLICAS[T]):
        ds, _ = simulate(T, equilibrate_tau=EQUILIBRATE_TAU[T], production_tau=PRODUCTION_TAU[T], seed=seed,
                         cache=cache, replica=r)
        v = phop(ds, t_R=T_R_TAU, species="A")["phop"].values
        vals.append(v[np.isfinite(v)])
    v = np.concatenate(vals)
    return {"q50": float(np.median(v)), "q90": float(np.quantile(v, 0.9)), "q99": float(np.quantile(v, 0.99)),
            "pct_r": float(100 * (v <= R_CUT).mean()), "fraction_above_r_cut": float((v > R_CUT).mean())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=None, help="directory to keep / reuse generated trajectories")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write the model and its card")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--temperatures", type=float, nargs="+", default=list(TEMPERATURES))
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    from ssefeat.softness import (combine_runs, fit_softness_arrhenius, p_r_trend, quiet_tau_at, train_on_runs,
                                  train_with_holdouts, transfer_metrics)

    cuts = {"r_cut": R_CUT, "nr_cut": NR_CUT, "species": "A", "seed": args.seed}
    t_start = time.time()
    runs, data, prepared = {}, {}, {}
    for T in args.temperatures:
        parts = [replica_data(T, r, seed=args.seed, cache=args.cache, progress=args.progress)
                 for r in range(REPLICAS[T])]
        runs[T] = [p[0] for p in parts]
        for p in parts:
            print(f"T={T} replica {p[0].get('replica', 0)}: {p[0]['relaxation']}", flush=True)
        prepared[T] = [{"phop": p[1], "future_max": p[2], "features": p[3],
                        "tau_alpha": p[0]["relaxation"]["tau_alpha"]} for p in parts]
        feats, ph, _ = combine_runs([p[3] for p in parts], [p[1] for p in parts])  # frame labels as train_on_runs
        data[T] = {"phop": ph, "features": feats, "future_max": combine_runs([p[3] for p in parts],
                                                                             [p[2] for p in parts])[1],
                   "features_thermal": combine_runs([p[4] for p in parts], [p[1] for p in parts])[0]}

    phop_stats = full_resolution_phop_stats(T_TRAIN, args.seed, args.cache)
    model, report = train_on_runs(prepared[T_TRAIN], r_cut=R_CUT, nr_cut=NR_CUT, t_R=T_R_TAU,
                                  stride=FEATURE_STRIDE[T_TRAIN], species="A", quiet_tau=QUIET_TAU, seed=args.seed)
    feats, ph, fut, feats_th, quiet_train = (report["features"], report["phop"], report["future_max"],
                                             data[T_TRAIN]["features_thermal"], report["quiet_tau"])
    groups = report["groups"]
    print("test", report["test"], "control", report["permuted_control"], flush=True)
    print("by run", report.get("by_run"), "\nleave one run out", report.get("leave_one_run_out"), flush=True)
    # the same recipe on the features of the thermal (not quenched) configurations, for comparison
    m_th, rep_th = train_with_holdouts(feats_th, ph, quiet_tau=quiet_train, groups=groups, n_shuffles=2,
                                       **cuts)
    thermal = {"balanced_accuracy": rep_th["test"]["balanced_accuracy"], "C": m_th.C_,
               "by_run": rep_th.get("by_run", {}).get("balanced_accuracy"),
               "leave_one_run_out": rep_th.get("leave_one_run_out", {}).get("balanced_accuracy")}
    print("thermal-configuration features", thermal, flush=True)
    # diagnostic, not a model choice: how much of the accuracy comes from the length of the quiet window
    quiet_check = {}
    for q in sorted({PREVIOUS_QUIET_TAU, round(0.5 * quiet_train, 1)}):
        m_q, rep_q = train_with_holdouts(feats, ph, quiet_tau=q, groups=groups, n_shuffles=1, **cuts)
        quiet_check[q] = {"frame_blocks": rep_q["test"]["balanced_accuracy"],
                          "by_run": rep_q["by_run"]["balanced_accuracy"],
                          "leave_one_run_out": rep_q["leave_one_run_out"]["balanced_accuracy"],
                          "n_nonrearranging_available": m_q.provenance_["n_nonrearranging_available"]}
    print("quiet-window sensitivity", quiet_check, flush=True)
    energies = {r: energy_halves(T_TRAIN, r, args.seed, args.cache) for r in range(REPLICAS[T_TRAIN])}
    # other temperatures: the same convention (quiet for ~tau_alpha / 2), with that temperature's tau_alpha
    transfer = {}
    for T in args.temperatures:
        if T != T_TRAIN:
            quiet = quiet_tau_at([r["relaxation"]["tau_alpha"] for r in runs[T]])
            tau = 2 * quiet
            transfer[T] = transfer_metrics(model, data[T]["features"], data[T]["phop"], quiet_tau=quiet, **cuts)
            transfer[T]["quiet_tau"] = quiet
            tau_med = float(np.nanmedian([r["relaxation"]["tau_alpha"] for r in runs[T]]))
            if len(runs[T]) > 2 and abs(tau_med - tau) > 0.1 * tau:  # one slow or fast run dominates the mean
                med = transfer_metrics(model, data[T]["features"], data[T]["phop"], quiet_tau=0.5 * tau_med, **cuts)
                transfer[T]["median_window"] = {"quiet_tau": 0.5 * tau_med, "n_samples": med["n_samples"],
                                                "balanced_accuracy": med["balanced_accuracy"]}
    S_train = model.apply(feats)
    lo, hi = np.nanpercentile(S_train.values, [0.5, 99.5])
    min_count = 100
    p_r, p_r_ds = {}, {}
    for T in args.temperatures:
        S = S_train if T == T_TRAIN else model.apply(data[T]["features"])
        pr = p_r_curve(S, data[T]["future_max"], s_range=(float(lo), float(hi)), min_count=min_count)
        p_r_ds[T] = pr
        p_r[T] = {"S": pr["S"].values, "P_R": pr["P_R"].values, "P_R_low": pr["P_R_low"].values,
                  "P_R_high": pr["P_R_high"].values, "count": pr["count"].values, **p_r_trend(pr)}
    pr_th = p_r_curve(m_th.apply(feats_th), fut, s_range=tuple(np.nanpercentile(m_th.apply(feats_th).values,
                                                                                [0.5, 99.5])), min_count=min_count)
    thermal["decades"] = p_r_trend(pr_th)["decades"]
    arr = None
    if len(args.temperatures) >= 2:
        fit = fit_softness_arrhenius(p_r_ds, boltzmann=1.0)
        de = fit["DeltaE"].values
        ok = np.isfinite(de)
        trend = np.polyfit(fit["S"].values[ok], de[ok], 1)[0] if ok.sum() >= 2 else np.nan
        arr = {k: fit[k].values for k in ("Sigma", "DeltaE", "Sigma_err", "DeltaE_err")}
        arr["S"] = fit["S"].values
        arr["comment"] = (f"DeltaE(S) changes by {trend:+.2f} epsilon per unit S (linear fit over the bins); "
                          "Schoenholz et al. (2016) also find DeltaE falling with S.")
    fp = parameter_set().fingerprint
    limitations = [
        f"Trained on {REPLICAS[T_TRAIN]} independent 1000-atom runs at T = {T_TRAIN} ({REPLICAS[T_TRAIN]} x "
        f"{PRODUCTION_TAU[T_TRAIN]:g} tau); at the other temperatures the T = {T_TRAIN} hyperplane is applied "
        "unchanged (P_R(S), transfer metrics).",
        "Held-out frame blocks come from the same trajectories as training blocks; structure is correlated over "
        "~tau_alpha, so they are not fully independent (one 10 % block gap on each side is dropped). The held-out "
        "independent runs are the strict check.",
        "Only radial structure functions (A and B neighbours, to 3.0 sigma); no angular terms.",
        "Features need inherent structures: one FIRE quench per frame (~1.5 s of CPU for N = 1000).",
        "Newtonian (Nose-Hoover) dynamics at density 1.2 with shifted-force LJ: apply to other KA variants "
        "(truncated-shifted energy, other densities, N) only after checking the feature distributions.",
        "Softness is in standardised feature units of this training set; S values are comparable only for models "
        "sharing this file.",
    ]
    inh = [r["inherent"] for reps in runs.values() for r in reps if r.get("inherent")]
    inherent_note = (f"on average {np.mean([i['mean_fire_steps'] for i in inh]):.0f} FIRE steps per frame, all "
                     f"converged: {all(i['all_converged'] for i in inh)}; at T = {T_TRAIN} the potential energy falls "
                     f"from {np.mean([r['inherent']['mean_thermal_energy_per_atom'] for r in runs[T_TRAIN]]):.3f} "
                     f"to {np.mean([r['inherent']['mean_inherent_energy_per_atom'] for r in runs[T_TRAIN]]):.3f} "
                     "epsilon per atom") if inh else "no quench information"
    summary = {
        "n_atoms": N_ATOMS, "runs": runs, "fingerprint": fp, "metrics_test": report["test"],
        "metrics_train": report["train"], "permuted_control": report["permuted_control"],
        "n_train": model.provenance_["n_train"], "n_test": model.provenance_["n_test"],
        "n_rearranging_available": model.provenance_["n_rearranging_available"],
        "n_nonrearranging_available": model.provenance_["n_nonrearranging_available"],
        "p_soft_all": float(np.nanmean(S_train.values > 0)), "transfer": transfer, "p_r": p_r,
        "by_run": report.get("by_run", {}), "leave_one_run_out": report.get("leave_one_run_out", {}),
        "thermal_features": thermal, "window_frames": report["window_frames"], "inherent_note": inherent_note,
        "status_note": STATUS_NOTE,
        "arrhenius": arr, "min_count": min_count, "limitations": limitations,
        "threshold_reason": THRESHOLD_REASON.format(T=T_TRAIN, quiet=quiet_train, tau=2 * quiet_train, **phop_stats),
        "phop_stats": phop_stats, "quiet_tau": quiet_train, "quiet_check": quiet_check, "energy_halves": energies,
    }
    summary = _clean(summary)
    model.metrics_.update({"permuted_control": summary["permuted_control"], "transfer": summary["transfer"],
                           "run_holdout": summary["by_run"], "leave_one_run_out": summary["leave_one_run_out"],
                           "thermal_features_comparison": summary["thermal_features"],
                           "p_soft_all_frames": summary["p_soft_all"], "P_R": summary["p_r"],
                           "arrhenius": summary["arrhenius"]})
    model.provenance_.update({"system": "kob_andersen", "n_atoms": N_ATOMS, "density": DENSITY,
                              "temperature_train": T_TRAIN, "runs": summary["runs"], "t_R_tau": T_R_TAU,
                              "quiet_tau": quiet_train, "feature_stride_frames": FEATURE_STRIDE[T_TRAIN],
                              "features_of": "inherent structures (FIRE, fmax %g)" % FIRE_FMAX if INHERENT
                              else "thermal configurations",
                              "feature_parameter_fingerprint": fp, "feature_parameter_set": parameter_set().to_dict(),
                              "script": "models/train_kob_andersen.py", "seed": args.seed})
    model.provenance_.pop("trained", None)  # keep the file byte-identical between runs of the same seed
    model.provenance_.pop("feature_parameters", None)  # the full set is in feature_parameter_set
    args.out.mkdir(parents=True, exist_ok=True)
    summary["wall_s_total"] = time.time() - t_start
    summary["md_wall_s"] = float(sum(r.get("wall_s_total", 0.0) for reps in runs.values() for r in reps))
    summary["lf_wall_s"] = float(sum(r.get("wall_s_labels_features", 0.0) for reps in runs.values() for r in reps))
    model.save(args.out / f"{MODEL_NAME}.json")
    write_card(args.out / f"{MODEL_NAME}.md", model, summary)
    print(json.dumps({"test": summary["metrics_test"], "control": summary["permuted_control"],
                      "by_run": summary["by_run"], "leave_one_run_out": summary["leave_one_run_out"],
                      "thermal": summary["thermal_features"],
                      "transfer": summary["transfer"], "decades": {T: v["decades"] for T, v in p_r.items()},
                      "monotone": {T: v["monotone"] for T, v in p_r.items()},
                      "monotone_within_errors": {T: v["monotone_within_errors"] for T, v in p_r.items()},
                      "wall_s": summary["wall_s_total"]}, indent=1))
    return model, summary


THRESHOLD_REASON = (
    "at T = {T} the A-particle p_hop (t_R = 2 tau, every stored frame of every run) has median {q50:.3f} and 90th "
    "percentile {q90:.3f} sigma^2 (cage rattling, the size of the MSD plateau); p_hop = 0.2 sigma^2 is its "
    "{pct_r:.2f}th percentile and means window-mean positions ~0.45 sigma apart (about half a neighbour distance): "
    "a cage escape, the threshold of Candelier / Schoenholz-style work; 0.05 sigma^2 bounds ordinary rattling. "
    "t_R = 2 tau: each half window (1 tau) is longer than the rattling time (the MSD reaches its plateau within "
    "~1 tau) and t_R stays below tau_alpha at every temperature used. Quiet window +-{quiet:.1f} tau = "
    "tau_alpha / 2 (mean tau_alpha of the T = {T} runs {tau:.1f} tau): a non-rearranging particle stays in its cage "
    "for ~tau_alpha, the convention of the softness literature. "
    "History of these choices: r_cut, nr_cut and t_R were fixed from the T = 0.6 p_hop distribution before any "
    "training (first generation, thermal features at T = 0.6); there the quiet window was +-5 tau (~tau_alpha / 3) "
    "without label binning, which gave held-out balanced accuracies of 0.70-0.74 on single-run tests, and the window "
    "(+-7.5 tau at T = 0.6, i.e. ~tau_alpha / 2) and the binning were changed after seeing those numbers. The second "
    "generation (inherent structures, 6 runs at T = 0.6) carried every label and training setting over unchanged; "
    "this third generation carries them over to T = 0.5 with the quiet window given by the tau_alpha / 2 rule, by the "
    "protocol below, fixed before any T = 0.5 data existed.")

STATUS_NOTE = (
    "Two exploratory checks run after these results (models/explore_kob_andersen_features.py and "
    "models/explore_kob_andersen_t055.py; neither changes this model) found no route past 0.80 within this design: "
    "neither the angular terms of kob_andersen() nor radial shells out to 4.5 sigma raise the held-out balanced "
    "accuracy at T = 0.6 (thermal-configuration features, same runs and splits), and a model trained the same way "
    "at T = 0.55 on runs 0-1 does no better on the fresh runs 2-3 than this T = 0.6 model. Untested here, each a "
    "recipe change to be judged on fresh runs: much more data at T <= 0.55 with longer equilibration (tau_alpha "
    "of N = 1000 runs varies several-fold there), larger systems, nonlinear classifiers. Other label windows "
    "were tried once, in a pre-registered selection (t_R = 4 and 8 tau did worse than 2 tau; section below).")


SECOND_GENERATION_SECTION = """## Second generation (T = 0.6), replaced by this one: its numbers, for the record
Trained the same way at T = 0.6 on 6 runs of 100 tau (tau_alpha 12.2-16.8 tau; equilibration 300 tau, 18-25 \
tau_alpha), features of inherent structures every 1 tau, quiet window +-7.5 tau (1178 train / 1142 test samples, \
C = 10).
- Held-out frame blocks: balanced accuracy 0.787 (training set 0.807; permuted control 0.506); held-out runs \
(run3, run5) 0.766 (control 0.509); every run held out once 0.777 (per run 0.736-0.796).
- Thermal-configuration features instead of inherent structures: 0.774 / 0.773 / 0.781.
- P_R(S) at T = 0.6 over 2.09 decades, strictly rising, Spearman 1.000.
- Applied unchanged at T = 0.55: 0.806 (quiet window from the mean tau_alpha) or 0.799 (median); at T = 0.7: 0.684; \
at T = 0.8: 0.599.
- Exploratory checks on its T = 0.6 runs (`explore_kob_andersen_features.py`, `explore_kob_andersen_t055.py`; \
sections of its card, unchanged): angular terms gave 0.773-0.780 and radial shells to 4.5 sigma 0.758-0.779 \
(thermal-configuration features); a model trained at T = 0.55 on 2 runs of 200 tau scored 0.776 on 2 fresh runs. \
The pre-registered p_hop window choice is the next section."""


# Fixed on 2026-12-01, before any T = 0.5 trajectory existed, and committed before its numbers were seen.
PROTOCOL_THIRD_GENERATION = """## Third generation: the protocol, fixed before any T = 0.5 number was seen
Why: at T = 0.6 the training-set balanced accuracy (0.807) sat at the held-out level (0.787), so that model was \
limited by how much these radial features say about rearrangements at T = 0.6, not by the amount of data; richer \
features and other p_hop windows did not help (sections below). Structure-dynamics correlations grow on cooling \
below the onset temperature (Schoenholz et al. 2016; here the T = 0.6 hyperplane scores 0.60 at T = 0.8, 0.68 at \
T = 0.7 and 0.81 at T = 0.55), so the third generation trains deeper in the supercooled regime, at T = 0.5.
- Runs: 6 independent runs at T = 0.5 (N = 1000, own random start and seed), 2000 tau Langevin equilibration, \
800 tau Nose-Hoover production, a frame every 0.1 tau; the other temperatures' runs are those of the second \
generation (same recipe and seeds). Equilibration is checked, not assumed: tau_alpha of every run and of each half \
of it are reported; no run is dropped.
- Unchanged from the second generation: features (`kob_andersen_radial()` of FIRE inherent structures, here every \
2 tau), labels (p_hop, t_R = 2 tau, rearranging > 0.2 sigma^2, non-rearranging < 0.05 sigma^2 at every stored \
frame of the quiet window, `labels_at_frames`), the classifier and every split (10 frame blocks, 3 held out, seeded, \
1 block gap; 2 whole runs held out; every run held out once; permuted-label controls), P_R(S) over the 0.5-99.5 \
percentiles of S at the training temperature.
- The quiet window follows the rule the second generation used at every temperature other than its training one: \
+-tau_alpha(T) / 2 with the mean tau_alpha of the runs at T (at T = 0.6 that rule gives +-7.2 tau; the second \
generation used +-7.5 tau there).
- Decision rule: the T = 0.5 model replaces the shipped T = 0.6 model whatever its numbers, and the card states them; \
the issue-6 target is read on the held-out frame blocks (the issue's "held-out frames") and reported beside the \
held-out runs. Nothing is changed after the numbers are seen; anything that is, is listed here.
- Listed after the numbers were seen (none changes the model): (1) the runs at the other temperatures were \
regenerated on this session's machine with the same recipe and seeds; MD is chaotic and another CPU's round-off \
gives statistically equivalent, not identical, trajectories (T = 0.6: tau_alpha 10.4-15.2 tau, was 12.2-16.8), so \
the transfer and P_R numbers at those temperatures differ a little from the second generation's; (2) two \
diagnostics were added to the script and card: the quiet-window check (the same T = 0.5 recipe with +-7.5 tau and \
+-tau_alpha / 4) and the potential energy of each half of the T = 0.5 runs (to tell aging from fluctuation, since \
4 of the 6 runs relax faster in their second half)."""


T_R_SELECTION_SECTION = """## p_hop window selection at T = 0.6, pre-registered (second session)
Run in a second session, after the second-generation (T = 0.6) model's 0.787 was known; the protocol was fixed before any of its numbers was \
seen, and every number it produced is listed here. Script: `models/explore_kob_andersen_t_r.py --cache DIR` \
(seeded, reads the cached trajectories and inherent-structure features; no MD, no quenches; ~4 min wall). It changed \
nothing in that model.
- Protocol: candidates t_R = 2, 4, 8 tau (half windows 1, 2, 4 tau; all below tau_alpha = 12-17 tau at T = 0.6). \
p_hop of the A particles from the stored frames, reduced to the feature frames with `labels_at_frames(reduce="max")`; \
thresholds per t_R from the pooled full-resolution p_hop of runs 0-3 only, by one rule: r_cut = its 99.87th \
percentile, nr_cut = its 90th percentile; quiet window +-7.5 tau and features (inherent structures, \
`kob_andersen_radial()`) unchanged. Selection on runs 0-3 only: leave-one-run-out (`train_softness(groups=run)`, \
logistic regression, C by CV over frame blocks), highest mean balanced accuracy, ties to the smaller t_R. Untouched \
test: train on every balanced sample of runs 0-3 (C by CV over frame blocks), test on every balanced sample of runs \
4 and 5 (used in no earlier step). Decision rule: regenerate that model with the chosen t_R only if it is not 2 tau \
and beats t_R = 2 tau on runs 4-5.
- Thresholds (runs 0-3): t_R = 2 tau: r_cut 0.202, nr_cut 0.054 sigma^2 (median 0.024); t_R = 4 tau: 0.297, 0.064 \
(median 0.028); t_R = 8 tau: 0.448, 0.086 (median 0.034). The t_R = 2 tau labels at the feature frames equal that \
model's cached labels exactly (all 6 runs).

| t_R (tau) | mean balanced accuracy, runs 0-3 held out in turn | run0 | run1 | run2 | run3 | rearranging (runs 0-3) |
|---|---|---|---|---|---|---|
| 2 | **0.770** | 0.775 | 0.777 | 0.774 | 0.755 | 1190 |
| 4 | 0.745 | 0.770 | 0.713 | 0.767 | 0.730 | 771 |
| 8 | 0.704 | 0.708 | 0.689 | 0.719 | 0.698 | 570 |

- Chosen: t_R = 2 tau, the value of that model. t_R = 4 and 8 tau were, by the protocol, not evaluated on runs 4-5.
- Untouched test, runs 4-5 (t_R = 2 tau, percentile thresholds, trained on runs 0-3, C = 1, n = 2380 train): \
balanced accuracy 0.734 (n = 1302, confusion [[475, 176], [170, 481]], P(S>0|R) 0.739; training set 0.784); \
permuted-label control 0.487 (mean of 10: 0.426, 0.520, 0.520, 0.515, 0.543, 0.420, 0.469, 0.539, 0.459, 0.463). \
For information, the same with that model's thresholds 0.2 / 0.05 sigma^2: 0.734 (n = 1348, C = 10; training set \
0.803), control 0.512 (mean of 10). Runs 4 and 5 are also the two hardest runs of its every-run-once test \
(0.736, 0.767 when trained on the five other runs).
- t_R = 2 tau with the percentile thresholds through this script's splits over all six runs (for comparison with \
the second-generation metrics, which use 0.2 / 0.05 sigma^2): held-out frame blocks 0.766 (n = 1098; training set 0.780, C = 1), \
permuted-label control 0.514 (mean of 10: 0.593, 0.514, 0.566, 0.467, 0.525, 0.517, 0.513, 0.464, 0.531, 0.452); \
held-out runs run3, run5: 0.754 (control 0.505); every run held out once 0.753 (run0 0.773, run1 0.768, run2 0.765, \
run3 0.769, run4 0.705, run5 0.741); P_R(S) over 2.09 decades, strictly rising bin to bin: False, rising within the \
68 % intervals: True, Spearman 0.997.
- Decision (rule fixed in advance): the chosen t_R is 2 tau, so that model was kept unchanged.
- What it shows: longer p_hop windows label worse for these features (each doubling of t_R costs 0.025-0.041 in \
run-held-out balanced accuracy, and the training-set accuracy falls too, from 0.79 to 0.76, so it is not \
only the smaller sample: 1190 -> 570 rearranging samples), so the label window is not the route past 0.80. \
Moving the thresholds from \
0.200 / 0.050 to 0.202 / 0.054 sigma^2 (same t_R, runs and features) moved the frame-block balanced accuracy from \
0.787 to 0.766, about 1.6 binomial standard errors: the frame-block number moves by ~0.02 under a small change of \
the samples, and the run-held-out numbers (0.73-0.78) are the firmer measure of where the model stands."""

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--replica-only":  # helper for parallel runs: --replica-only T r CACHE
        info, *_ = replica_data(float(sys.argv[2]), int(sys.argv[3]), cache=Path(sys.argv[4]))
        print(json.dumps(info))
    else:
        main()
