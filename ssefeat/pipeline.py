"""The end-to-end job: trajectory -> features -> labels -> softness -> links -> transport -> disorder -> report.

``Pipeline(config).run()`` is what ``ssefeat run CONFIG`` and ``ssefeat demo`` execute. Each stage writes one
file under ``<output>/stages/`` (atomically, stamped with a hash of the settings it depends on); a stage whose file
exists with the same hash is not recomputed, so a crashed or interrupted run resumes where it stopped and gives the
same result as an uninterrupted one.

Per-frame stages (features with cluster environments and polyhedra, labels, softness) are zarr stores written
frame chunk by frame chunk (:mod:`ssefeat.stages`): each chunk goes into its own region of a store created up
front with the full shape, and the store gets its final name only when every chunk is in, so memory is bounded
by the chunk size, not the trajectory length, and an interrupted features stage resumes at the first missing
chunk. The features chunks run serially or on a dask.distributed cluster (``execution.workers`` for a local
cluster, ``execution.scheduler`` for an existing one whose workers see the output folder); either way the same
function computes a chunk and writes it (a worker writes its own region, nothing is gathered), so the stores are
identical to the last bit. Later stages read the stores lazily, chunk by chunk. Transport and the region dynamics
of the disorder stage hold only the mobile atoms over all frames plus the whole system's centre of mass, streamed
from every atom in one pass over frame chunks; the disorder profile reads only its own frames.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import xarray as xr

from . import __version__
from .config import check_config, load_config, section_hash
from .errors import ParameterError
from .io.atomic import atomic_output
from .stages import ChunkedStore, open_store, stage_hash_of, write_region

log = logging.getLogger("ssefeat.pipeline")


# ------------------------------------------------------------------------------------------------ helpers
def _clean_attrs(obj):
    """netCDF attributes hold only strings and numbers: convert the rest (bool, None, dict, list of str)."""
    def fix(attrs):
        for k, v in list(attrs.items()):
            if isinstance(v, bool) or isinstance(v, np.bool_):
                attrs[k] = int(v)
            elif v is None:
                attrs[k] = ""
            elif isinstance(v, (dict, tuple, list)) and not (isinstance(v, (list, tuple)) and v and
                                                             all(isinstance(x, (int, float)) for x in v)):
                attrs[k] = json.dumps(v, default=str)
    fix(obj.attrs)
    for var in obj.variables.values():
        fix(var.attrs)
    return obj


def _to_dataset(result, name: str) -> xr.Dataset:
    return result if isinstance(result, xr.Dataset) else result.to_dataset(name=name)


def save_dataset(ds: xr.Dataset, path) -> Path:
    """Write a result Dataset to netCDF atomically (object/bool attrs made netCDF-safe)."""
    ds = _clean_attrs(ds.copy())
    for name, var in ds.variables.items():
        if var.dtype == bool:
            ds[name] = var.astype(np.int8)
    with atomic_output(path) as tmp:
        ds.to_netcdf(tmp)
    return Path(path)


def _frame_chunks(n_frames: int, size: int) -> list[tuple[int, int]]:
    size = max(1, int(size))
    return [(a, min(a + size, n_frames)) for a in range(0, n_frames, size)]


# ------------------------------------------------------------------------------------------------ chunk work
def features_chunk(trajectory_path: str, start: int, stop: int, config: dict) -> xr.Dataset:
    """Per-atom features and environments of frames [start, stop) of a stage trajectory file.

    A plain function of its arguments so that dask workers can run it; returns a Dataset with ``features``
    (frame, atom, feature) and, when enabled, cluster-environment and polyhedra variables (frame, atom).
    """
    from .features.descriptors import concat_features, descriptors
    from .features.parameters import resolve
    from .features.structure_functions import structure_functions
    from .io import read

    ds = read(trajectory_path, start=start, stop=stop)
    fc = config["features"]
    mobile = config["species"]["mobile"]
    name = fc["parameters"]
    params = resolve(params=name, system=None) if Path(str(name)).suffix == ".json" else resolve(system=name)
    parts = [structure_functions(ds, params, centre=mobile)]
    if fc["descriptors"]:
        parts.append(descriptors(ds, centre=mobile, system=name if Path(str(name)).suffix != ".json" else None))
    out = concat_features(parts).to_dataset(name="features")
    if fc["environment"]:
        from .features.environment import cluster_environment
        from .features.polyhedra import li_polyhedra

        sp = config["species"]
        env = cluster_environment(ds, mobile=mobile, anion=sp["anion"], r_env=fc["r_env"],
                                  species=tuple(sp["framework"]), cluster_types=fc["cluster_types"])
        for t in env["cluster_type"].values:  # one (frame, atom) variable per cluster type
            out[f"fraction_{t}"] = env["fraction"].sel(cluster_type=t, drop=True)
        for var in ("n_anions", "nearest_cluster_type", "nearest_cluster_distance"):
            out[var] = env[var]
        poly = li_polyhedra(ds, centre=mobile, ligand=sp["anion"])
        for var in ("volume_T", "csm_T", "volume_O", "csm_O", "site"):
            out[var] = poly[var]
    return out


def features_chunk_to_store(trajectory_path: str, start: int, stop: int, config: dict, store: str) -> int:
    """Compute the features of frames [start, stop) and write them into their region of a partial stage store
    (run by the serial loop or by a dask worker); returns the number of frames written."""
    write_region(store, features_chunk(trajectory_path, start, stop, config), start, stop)
    return stop - start


def open_trajectory(path) -> xr.Dataset:
    """A stage trajectory (netCDF or zarr), lazily."""
    opener = xr.open_zarr if Path(path).suffix == ".zarr" else xr.open_dataset
    return opener(path, decode_times=False, decode_timedelta=False)


def frame_coords(trajectory_path) -> xr.Dataset:
    """The ``frame`` and ``time`` coordinates of a stage trajectory file (nothing else is read)."""
    with open_trajectory(trajectory_path) as ds:
        return xr.Dataset(coords={"frame": ds["frame"].values,
                                  "time": ("frame", ds["time"].values, dict(ds["time"].attrs))})


def read_frames(trajectory_path, frames) -> xr.Dataset:
    """The given frame positions of a stage trajectory file, every atom (only those frames are read)."""
    from .io import read

    parts = [read(trajectory_path, start=int(f), stop=int(f) + 1) for f in frames]
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, "frame", data_vars="minimal", coords="minimal", compat="override", join="override")


LABEL_VARIABLES = {"p_hop": "phop", "d2min": "d2min", "d_cum": "d_cum"}


def iter_labels(chunks, labels_config: dict, species):
    """The configured rearrangement label over trajectory chunks (windows carried across chunks): yields
    consecutive, disjoint frame ranges that together equal the one-shot label of the whole trajectory."""
    lc = labels_config
    kind = lc["kind"]
    if kind == "p_hop":
        from .dynamics.phop import iter_phop

        return iter_phop(chunks, t_R=lc["t_R_ps"], t_R_frames=None if lc["t_R_ps"] else lc["t_R_frames"],
                         species=species)
    from .dynamics.d2min import iter_cumulative_d2min, iter_nonaffine_displacement

    common = dict(neighbor_species=lc["neighbor_species"])
    if kind == "d2min":
        return iter_nonaffine_displacement(chunks, int(lc["lag_frames"]), float(lc["cutoff"]), species,
                                           lc["normalize"], **common)
    if kind == "d_cum":
        return iter_cumulative_d2min(chunks, int(lc["lag_frames"]), int(lc["window_frames"]), float(lc["cutoff"]),
                                     species, lc["normalize"], align=lc["align"], **common)
    raise ParameterError(f"labels.kind {kind!r} is unknown.", fix="use one of " + ", ".join(LABEL_VARIABLES))


def cluster_types_of(trajectory_path: str, config: dict) -> list[str]:
    """The anion cluster types of a trajectory's first frame (fixes the environment columns for every chunk)."""
    from .features.clusters import cluster_counts, find_clusters
    from .io import read

    ds = read(trajectory_path, stop=1)
    counts = cluster_counts(find_clusters(ds, species=tuple(config["species"]["framework"])))
    return [str(t) for t in counts["cluster_type"].values]


# ------------------------------------------------------------------------------------------------ pipeline
class Pipeline:
    """The end-to-end analysis of one or more trajectories (see the module docstring).

    Parameters
    ----------
    config : dict or path
        A configuration (see :mod:`ssefeat.config`); checked completely before any work starts.
    progress : bool
        Print stage progress (and tqdm bars for long work).
    """

    STAGES = ("trajectory", "features", "labels", "softness", "correlate", "transport", "disorder", "report")

    def __init__(self, config, progress: bool = True):
        self.config = load_config(config) if not isinstance(config, dict) or "execution" not in config else config
        check_config(self.config)
        self.out = Path(self.config["output"]["folder"])
        self.stage_dir = self.out / "stages"
        self.progress = progress
        self.timings: dict[str, float] = {}
        self._client = None
        self._cluster = None

    # --- infrastructure -----------------------------------------------------------------------
    def _say(self, msg: str) -> None:
        if self.progress:
            print(f"[ssefeat] {msg}", flush=True)

    def _cached(self, name: str, path: Path, key: str):
        """The stage's finished output if it was made with these settings (said so), else None."""
        found = None
        if path.suffix == ".zarr":  # a chunked stage store: opened lazily
            found = open_store(path) if stage_hash_of(path) == key else None
        elif path.exists():
            try:
                ds = xr.load_dataset(path)
            except Exception:  # noqa: BLE001 - an unreadable old output is simply recomputed
                ds = None
            if ds is not None and ds.attrs.get("stage_hash") == key:
                found = ds
        if found is not None:
            self._say(f"{name}: up to date ({path.name}), skipped")
        return found

    def _stage(self, name: str, path: Path, key: str, compute):
        """Return the cached result of a stage or compute, stamp and write it atomically."""
        cached = self._cached(name, path, key)
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        self._say(f"{name}: computing")
        ds = compute()
        ds.attrs["stage_hash"] = key
        ds.attrs["ssefeat_version"] = __version__
        save_dataset(ds, path)
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return xr.load_dataset(path)

    def client(self):
        """The dask.distributed client, or None for serial execution."""
        ex = self.config["execution"]
        if self._client is None and (ex["workers"] or ex["scheduler"]):
            from dask.distributed import Client, LocalCluster

            # not the default scheduler: lazy stage reads in this process stay local
            if ex["scheduler"]:
                self._client = Client(ex["scheduler"], set_as_default=False)
            else:
                self._cluster = LocalCluster(n_workers=int(ex["workers"]), threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self._client = Client(self._cluster, set_as_default=False)
            self._say(f"dask: {self._client}")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def _map_to_store(self, func, path: str, chunks: list[tuple[int, int]], *args) -> None:
        """Run ``func(path, start, stop, *args)`` for every chunk, serially or on the dask cluster; ``func`` writes
        its chunk into the stage store itself, so only frame counts come back."""
        from tqdm.auto import tqdm

        client = self.client()
        bar = tqdm(total=sum(b - a for a, b in chunks), desc=func.__name__, unit="frame", leave=False,
                   disable=not self.progress)
        try:
            if client is None:
                for a, b in chunks:
                    bar.update(func(path, a, b, *args))
                return
            futures = client.map(func, [path] * len(chunks), [a for a, _ in chunks], [b for _, b in chunks],
                                 *[[x] * len(chunks) for x in args], pure=False)
            try:
                for fut in futures:  # in frame order; a chunk's error is raised here
                    bar.update(fut.result())
            finally:
                client.cancel(futures)
        finally:
            bar.close()

    # --- stages -------------------------------------------------------------------------------
    def trajectories(self) -> list[Path]:
        """Stage 1: the trajectories as ssefeat netCDF files (read from the user's files or generated)."""
        tr = self.config["trajectory"]
        paths = []
        n_runs = len(tr["files"]) or len(tr["temperatures"])
        for k in range(n_runs):
            # the user's files are streamed into a zarr store chunk by chunk; generated runs are written by the MD
            path = self.stage_dir / (f"trajectory_{k}.zarr" if tr["files"] else f"trajectory_{k}.nc")
            key = section_hash(self.config, "trajectory", extra=k)
            if self._cached_trajectory(path, key):
                self._say(f"trajectory {k}: up to date, skipped")
            else:
                t0 = time.perf_counter()
                if tr["files"]:
                    self._say(f"trajectory {k}: reading {tr['files'][k]}")
                    self._read_file(k, path, key)
                else:
                    self._say(f"trajectory {k}: simulating {tr['generate']} at T = {tr['temperatures'][k]}")
                    self._generate(k, path, key)
                self.timings["trajectory"] = self.timings.get("trajectory", 0.0) + time.perf_counter() - t0
            paths.append(path)
        return paths

    def _cached_trajectory(self, path: Path, key: str) -> bool:
        if not path.exists():
            return False
        if path.suffix == ".zarr":
            return stage_hash_of(path) == key
        try:
            with xr.open_dataset(path) as ds:
                return ds.attrs.get("stage_hash") == key
        except Exception:  # noqa: BLE001
            return False

    def _read_file(self, k: int, path: Path, key: str) -> None:
        """The user's file -> a zarr stage trajectory, read and appended chunk by chunk (never whole in memory)."""
        from .io import iter_chunks, write

        tr = self.config["trajectory"]
        chunks = iter_chunks(tr["files"][k], int(self.config["execution"]["chunk_frames"]), format=tr["format"],
                             topology=tr["topology"], type_map=tr["type_map"], start=tr["start"], stop=tr["stop"],
                             stride=tr["stride"], timestep_ps=tr["timestep_ps"])

        def stamped():
            for ds in chunks:
                if tr["temperatures"]:
                    ds.attrs["temperature_K"] = float(tr["temperatures"][k])
                ds.attrs["stage_hash"] = key
                yield _clean_attrs(ds)
        write(stamped(), path)

    def _generate(self, k: int, path: Path, key: str) -> None:
        from .md import simulate

        tr = self.config["trajectory"]
        simulate(tr["generate"], path, temperature=float(tr["temperatures"][k]), steps=int(tr["steps"]),
                 dump_every=int(tr["dump_every"]), seed=int(tr["seed"]) + k, n_atoms=tr["n_atoms"],
                 progress=self.progress, attrs={"stage_hash": key})

    def features(self, k: int, traj: Path) -> xr.Dataset:
        """Stage 2: per-atom features (and cluster environments / polyhedra) of the mobile species.

        A zarr store written chunk by chunk (on the dask workers when there is a cluster); returned lazily."""
        key = section_hash(self.config, "trajectory", "species", "features", extra=k)
        path = self.stage_dir / f"features_{k}.zarr"
        name = f"features {k}"
        cached = self._cached(name, path, key)
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        config = self.config
        if config["features"]["environment"] and not config["features"]["cluster_types"]:
            config = json.loads(json.dumps(config))
            config["features"]["cluster_types"] = cluster_types_of(str(traj), config)
        frames = frame_coords(traj)
        chunks = _frame_chunks(frames.sizes["frame"], self.config["execution"]["chunk_frames"])
        store = ChunkedStore(path, key)
        todo = store.pending(chunks)
        if len(todo) == len(chunks):
            self._say(f"{name}: computing ({len(chunks)} chunks)")
            probe = features_chunk(str(traj), 0, 1, config)  # one frame: the variables, dtypes and coordinates
            store.create(probe, frames, chunks, {"ssefeat_version": __version__})
        else:
            self._say(f"{name}: resuming ({len(chunks) - len(todo)} of {len(chunks)} chunks already written)")
        self._map_to_store(features_chunk_to_store, str(traj), todo, config, str(store.partial))
        store.finish(chunks)
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return open_store(path)

    def labels(self, k: int, traj: Path) -> xr.Dataset:
        """Stage 3: rearrangement labels of the mobile species (``labels.kind``: p_hop, d2min or d_cum).

        Read and computed chunk by chunk with the label's time window carried across chunks, appended to a zarr
        store; returned lazily."""
        from .io import iter_chunks

        lc = self.config["labels"]
        key = section_hash(self.config, "trajectory", "species", "labels", extra=k)
        path = self.stage_dir / f"labels_{k}.zarr"
        name = f"labels {k}"
        cached = self._cached(name, path, key)
        if cached is not None:
            return cached
        t0 = time.perf_counter()
        self._say(f"{name}: computing {lc['kind']}")
        size = int(self.config["execution"]["chunk_frames"])
        store = ChunkedStore(path, key)
        parts = iter_labels(iter_chunks(traj, size), lc, self.config["species"]["mobile"])
        for i, part in enumerate(parts):
            store.append(part, first=i == 0, chunk_frames=size,
                         attrs={"label_kind": lc["kind"], "label_variable": LABEL_VARIABLES[lc["kind"]],
                                "ssefeat_version": __version__})
        store.finish()
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
        return open_store(path)

    def softness(self, features: list[xr.Dataset], labels: list[xr.Dataset]) -> list[xr.Dataset]:
        """Stage 4: train the hyperplane on the first trajectory (or load a model), apply it everywhere, P_R(S)."""
        from .softness import SoftnessModel, rearrangement_probability, train_softness

        sc = self.config["softness"]
        model_path = self.out / "softness_model.json"
        key = section_hash(self.config, "trajectory", "species", "features", "labels", "softness")
        results = []
        label0 = _label_array(labels[0]).load()  # (frame, atom): quantiles and training samples
        r_cut = sc["r_cut"] if sc["r_cut"] is not None else float(np.nanquantile(label0.values, sc["r_quantile"]))
        nr_cut = sc["nr_cut"] if sc["nr_cut"] is not None else float(np.nanquantile(label0.values,
                                                                                   sc["nr_quantile"]))

        def train():
            if sc["model"]:
                model = SoftnessModel.load(sc["model"])
                return model, {"test": model.metrics_.get("test", {})}
            model, report = train_softness(features[0]["features"], label0, r_cut=r_cut, nr_cut=nr_cut,
                                           window=int(sc["window"]), classifier=sc["classifier"], C=sc["C"],
                                           test_fraction=sc["test_fraction"],
                                           seed=int(self.config["trajectory"]["seed"]))
            model.save(model_path)
            return model, report

        model = None
        size = int(self.config["execution"]["chunk_frames"])
        for k, (feat, lab) in enumerate(zip(features, labels)):
            path, name = self.stage_dir / f"softness_{k}.zarr", f"softness {k}"
            cached = self._cached(name, path, key + str(k))
            if cached is not None:
                results.append(cached)
                continue
            t0 = time.perf_counter()
            self._say(f"{name}: computing")
            if model is None:
                model, report = train()
                self.softness_report = report
            # S chunk by chunk into the store, then P_R(S) from the (frame, atom) softness and labels
            F = feat["features"]
            chunks = _frame_chunks(F.sizes["frame"], size)
            store = ChunkedStore(path, key + str(k))
            probe = model.apply(F.isel(frame=slice(0, 1)).load()).to_dataset(name="softness")
            store.create(probe, feat[["time"]], chunks,
                         {"r_cut": r_cut, "nr_cut": nr_cut, "model": str(model_path),
                          "metrics": json.dumps(model.metrics_, default=str), "ssefeat_version": __version__})
            for a, b in chunks:
                write_region(str(store.partial),
                             model.apply(F.isel(frame=slice(a, b)).load()).to_dataset(name="softness"), a, b)
            S = store.open_partial()["softness"].load()
            la = _label_array(lab).load()
            horizon = min(int(sc["horizon"]), max(0, la.sizes["frame"] - 2))
            finite = S.values[np.isfinite(S.values)]
            pr = rearrangement_probability(S, la, r_cut=r_cut, horizon=horizon, bins=12,
                                           s_range=(float(np.quantile(finite, 0.005)),
                                                    float(np.quantile(finite, 0.995))))
            store.add(pr)
            store.finish(chunks)
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - t0
            results.append(open_store(path))
        return results

    def correlate(self, features: list[xr.Dataset], softness: list[xr.Dataset]) -> xr.Dataset:
        """Stage 5: Pearson links (bootstrap CI) from softness to environments and descriptors; LASSO."""
        from .correlate import lasso_links, softness_links

        cc = self.config["correlate"]
        key = section_hash(self.config, "trajectory", "species", "features", "labels", "softness", "correlate")

        def compute():
            S = xr.concat([s["softness"].assign_coords(run=k) for k, s in enumerate(softness)], "frame",
                          coords="minimal", compat="override")
            desc = xr.Dataset()
            for k, f in enumerate(features):
                d = xr.Dataset({v: f[v] for v in f.data_vars if set(f[v].dims) == {"frame", "atom"}
                                and np.issubdtype(f[v].dtype, np.number)})
                kinds = f["features"]["kind"].values.astype(str)
                names = [n for n, kind in zip(f["features"]["feature"].values, kinds)
                         if kind not in ("radial", "angular")]  # descriptors, not structure functions
                if names:  # one pass over the store for all descriptor columns
                    sel = f["features"].sel(feature=names).load()
                    for name in names:
                        d[str(name)] = sel.sel(feature=name, drop=True)
                desc = d if k == 0 else xr.concat([desc, d], "frame", coords="minimal", compat="override")
            S = S.drop_vars([c for c in S.coords if c not in ("frame", "atom")])
            desc = desc.drop_vars([c for c in desc.coords if c not in ("frame", "atom")])
            if len(softness) > 1:  # frames of different runs share indices: make them unique
                offsets = np.concatenate([[0], np.cumsum([s.sizes["frame"] for s in softness])[:-1]])
                new = np.concatenate([np.arange(s.sizes["frame"]) + o for s, o in zip(softness, offsets)])
                S = S.assign_coords(frame=new)
                desc = desc.assign_coords(frame=new)
            links = softness_links(S, desc, n_boot=int(cc["n_boot"]), seed=0)
            if cc["lasso"]:
                mostly_finite = [v for v in desc.data_vars if np.isfinite(desc[v].values).mean() > 0.95
                                 and np.nanstd(desc[v].values) > 0]
                las = lasso_links(S, desc[mostly_finite], seed=0)
                links["lasso_coefficient"] = las["coefficient"]
                links.attrs.update({"lasso_alpha": las.attrs["alpha"], "lasso_r2_test": las.attrs["r2_test"]})
            if "nearest_cluster_type" in features[0]:
                from .correlate import softness_by_environment

                by = softness_by_environment(softness[0]["softness"], features[0]["nearest_cluster_type"])
                links = xr.merge([links, by.rename({v: f"env_{v}" for v in by.data_vars}).rename(
                    {"S": "S_env"})], combine_attrs="override")
            return links
        return self._stage("correlate", self.stage_dir / "correlate.nc", key, compute)

    def _mobile_trajectory(self, traj: Path) -> xr.Dataset:
        """The mobile species' atoms of a stage trajectory with the whole system's centre of mass, read in one
        pass over frame chunks (see :func:`ssefeat.dynamics.msd.select_with_system_com`): what the all-time-origin
        dynamics need, without holding the other atoms."""
        from .dynamics.msd import select_with_system_com
        from .io import iter_chunks

        return select_with_system_com(iter_chunks(traj, int(self.config["execution"]["chunk_frames"])),
                                      self.config["species"]["mobile"])

    def transport(self, trajs: list[Path]):
        """Stage 6: MSD, D, conductivity per run; Arrhenius over temperatures when there are several."""
        from .dynamics.arrhenius import transport_study

        tc = self.config["transport"]
        key = section_hash(self.config, "trajectory", "species", "transport")
        path = self.stage_dir / "transport.nc"
        if path.exists():
            try:
                tree = xr.open_datatree(path)
                if tree.attrs.get("stage_hash") == key:
                    self._say("transport: up to date, skipped")
                    return tree.load()
            except Exception:  # noqa: BLE001
                pass
        self._say("transport: computing")
        t0 = time.perf_counter()
        temps = self.config["trajectory"]["temperatures"] or None
        runs = [self._mobile_trajectory(p) for p in trajs]
        window = tuple(tc["window"]) if tc["window"] else None
        note = "diffusive window detected from the log-log MSD slope" if window is None else "window from the config"
        try:
            tree = transport_study(runs, species=self.config["species"]["mobile"], temperatures=temps,
                                   window=window, haven=tc["haven"], ngp=True)
        except ParameterError as err:
            if window is not None or "no diffusive window" not in str(err):
                raise
            tree, why = None, err.what
            try:  # a diffusive stretch shorter than the default factor 2 in time (short runs): accept 1.5, say so
                tree = transport_study(runs, species=self.config["species"]["mobile"], temperatures=temps,
                                       window=None, haven=tc["haven"], ngp=True, min_span=1.5)
                note = ("diffusive window detected from the log-log MSD slope, but spanning only a factor 1.5-2 "
                        "in time (short runs: D is less certain than its error bar says)")
            except ParameterError:
                pass
        if tree is None:
            # Too short or too cold for a diffusive regime: report an *apparent* D over the later lags, said so.
            t_max = min(float(r["time"].values[-1] - r["time"].values[0]) for r in runs)
            window = (0.2 * t_max, 0.5 * t_max)
            note = (f"NOT DIFFUSIVE: no lag range with a log-log MSD slope near 1 ({why}); D and sigma are "
                    f"apparent values fitted over {window[0]:.3g}-{window[1]:.3g} ps; "
                    "they are not diffusion coefficients. Run longer or hotter.")
            self._say("transport: " + note)
            tree = transport_study(runs, species=self.config["species"]["mobile"], temperatures=temps,
                                   window=window, haven=tc["haven"], ngp=True)
        tree.attrs["window_note"] = note
        tree.attrs["stage_hash"] = key
        with atomic_output(path) as tmp:
            clean_tree(tree).to_netcdf(tmp)
        self.timings["transport"] = time.perf_counter() - t0
        return xr.open_datatree(path).load()

    def disorder(self, k: int, traj: Path) -> xr.Dataset:
        """Stage 7 (optional): F(z) disorder profile, regions and per-region dynamics."""
        from .disorder import disorder_profile
        from .regions import find_regions, label_atoms, region_dynamics

        dc = self.config["disorder"]
        key = section_hash(self.config, "trajectory", "species", "disorder", extra=k)

        def compute():
            n = frame_coords(traj).sizes["frame"]
            frames = np.unique(np.linspace(0, n - 1, min(int(dc["frames"]), n)).astype(int))
            species = dc["species"]  # the atoms whose density makes F(z)
            if species == "framework":
                species = list(self.config["species"]["framework"])
            elif species == "all":
                species = None
            # F(z) needs every atom but only the profile's frames; the region dynamics only the mobile atoms
            prof = disorder_profile(read_frames(traj, frames), axis=dc["axis"], slab_width=dc["slab_width"],
                                    grid_spacing=dc["grid_spacing"], sigma=dc["sigma"], species=species)
            regions = find_regions(prof)
            out = prof.copy()
            for v in regions.data_vars:
                out[f"regions_{v}"] = regions[v]
            out.attrs.update({f"regions_{k}": v for k, v in regions.attrs.items()
                              if k in ("method", "fit_ok", "fit_message", "F_crystal", "F_glass")})
            ds = self._mobile_trajectory(traj)
            labels = label_atoms(ds, regions)
            dyn = region_dynamics(ds, labels, species=self.config["species"]["mobile"])
            dyn = dyn.rename({"region": "region_class"})
            for v in dyn.data_vars:
                out[f"dyn_{v}"] = dyn[v]
            return out
        return self._stage(f"disorder {k}", self.stage_dir / f"disorder_{k}.nc", key, compute)

    # --- the whole job --------------------------------------------------------------------------
    def run(self) -> Path:
        """Run every enabled stage (skipping up-to-date ones) and write the results folder. Returns it."""
        c = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        self.stage_dir.mkdir(exist_ok=True)
        (self.out / "config.json").write_text(json.dumps(c, indent=1, default=str))
        try:
            trajs = self.trajectories()
            feats = [self.features(k, p) for k, p in enumerate(trajs)] if c["features"]["enabled"] else []
            labels = [self.labels(k, p) for k, p in enumerate(trajs)] if c["labels"]["enabled"] else []
            soft = self.softness(feats, labels) if c["softness"]["enabled"] and feats else []
            links = self.correlate(feats, soft) if c["correlate"]["enabled"] and soft else None
            transport = self.transport(trajs) if c["transport"]["enabled"] else None
            disorder = [self.disorder(k, p) for k, p in enumerate(trajs)] if c["disorder"]["enabled"] else []
        finally:
            self.close()
        from .report import write_results

        t0 = time.perf_counter()
        write_results(self, trajs, feats, labels, soft, links, transport, disorder)
        self.timings["report"] = time.perf_counter() - t0
        self._say(f"done: results in {self.out}/ (report.md, results.nc, tables/, figures/)")
        return self.out


def _label_array(labels: xr.Dataset) -> xr.DataArray:
    if labels.attrs.get("label_variable") in labels:
        return labels[labels.attrs["label_variable"]]
    names = [n for n, v in labels.data_vars.items() if set(v.dims) == {"frame", "atom"}]
    if not names:
        raise ParameterError("the label stage produced no (frame, atom) variable.")
    return labels[names[0]]


def clean_tree(tree) -> "xr.DataTree":
    """A copy of a DataTree whose attributes are all netCDF-safe."""
    return xr.DataTree.from_dict({node.path: _clean_attrs(node.to_dataset().copy()) for node in tree.subtree})
