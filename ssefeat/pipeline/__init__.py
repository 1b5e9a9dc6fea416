"""The end-to-end job: trajectory -> features -> labels -> softness -> links -> transport -> disorder -> sites ->
study -> report (a ``[study]`` section or ``trajectory.groups`` run the glass study, with or without trajectories
for the per-run stages).

``Pipeline(config).run()`` is what ``ssefeat run CONFIG`` and ``ssefeat demo`` execute. Each stage (a
:class:`~ssefeat.pipeline.stage.Stage`, one module each) writes one file under ``<output>/stages/``, atomically
and stamped with a hash of the configuration sections it depends on; an up-to-date stage is skipped, so an
interrupted run resumes where it stopped and gives the same result. Per-frame stages are zarr stores written frame
chunk by frame chunk (:mod:`ssefeat.io.chunked_store`; memory bounded by the chunk), the features chunks serially
or on a dask.distributed cluster (``execution.workers`` / ``execution.scheduler``) with identical results.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from ..config import check_config, load_config
from ..errors import OutputError
from ..io.atomic import atomic_output, check_folder, remove_stale
from .correlate import CorrelateStage
from .disorder import DisorderStage
from .features import FeaturesStage, cluster_types_of, features_chunk
from .labels import LabelsStage
from .lock import FolderLock
from .report import write_results
from .softness import SoftnessStage, Training
from .stage import run_stage
from .sites import SitesStage
from .study import StudyStage
from .trajectory import TrajectoryStage
from .transport import TransportStage

__all__ = ["Pipeline", "features_chunk", "cluster_types_of"]


class Pipeline:
    """The end-to-end analysis of one or more trajectories. ``config``: a configuration dict or file
    (:mod:`ssefeat.config`), checked completely before any work starts; ``progress``: print stage progress."""

    def __init__(self, config, progress: bool = True):
        self.config = load_config(config) if not isinstance(config, dict) or "execution" not in config else config
        check_config(self.config)
        self.out = Path(self.config["output"]["folder"])
        self.stage_dir = self.out / "stages"
        self.progress = progress
        self.timings: dict[str, float] = {}  # stages computed by this run, s
        self.earlier_timings: dict[str, float] = {}  # up-to-date stages: their time when they were computed, s
        self._client = self._cluster = None

    def record_timing(self, timer: str, key: str, computed: bool) -> None:
        """Keep a computed stage's time in ``stages/timings.json`` (with its hash); for an up-to-date stage, take
        the time it was computed in, so that a resumed run still reports every stage's cost."""
        path = self.stage_dir / "timings.json"
        try:
            recorded = json.loads(path.read_text())
        except (OSError, ValueError):
            recorded = {}
        if not computed:
            entry = recorded.get(timer, {})
            if entry.get("stage_hash") == key:
                self.earlier_timings[timer] = float(entry["seconds"])
            return
        recorded[timer] = {"seconds": self.timings[timer], "stage_hash": key}
        with atomic_output(path) as tmp:
            Path(tmp).write_text(json.dumps(recorded, indent=1))

    def say(self, msg: str) -> None:
        if self.progress:
            print(f"[ssefeat] {msg}", flush=True)

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
            self.say(f"dask: {self._client}")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    # --- the stages, one call each (a crash in one leaves the finished ones for the next run) ------
    def trajectories(self) -> list[Path]:
        tr = self.config["trajectory"]
        return [run_stage(self, TrajectoryStage(self, k)) for k in range(len(tr["files"]) or len(tr["temperatures"]))]

    def features(self, k: int, traj: Path):
        return run_stage(self, FeaturesStage(self, k, traj=traj))

    def labels(self, k: int, traj: Path):
        return run_stage(self, LabelsStage(self, k, traj=traj))

    def softness(self, features: list, labels: list) -> list:
        training = Training(self, features, labels)
        return [run_stage(self, SoftnessStage(self, k, features=f, labels=lab, training=training))
                for k, (f, lab) in enumerate(zip(features, labels))]

    def correlate(self, features: list, softness: list):
        return run_stage(self, CorrelateStage(self, features=features, softness=softness))

    def transport(self, trajs: list[Path]):
        return run_stage(self, TransportStage(self, trajs=trajs))

    def disorder(self, k: int, traj: Path):
        return run_stage(self, DisorderStage(self, k, traj=traj))

    def sites(self, trajs: list[Path], features: list = (), softness: list = ()):
        """Site-resolved hopping; ``features`` (with a cluster environment) and ``softness`` stores, when given,
        add the leaving vs staying contrasts (and enter the stage's hash)."""
        return run_stage(self, SitesStage(self, trajs=trajs, features=list(features), softness=list(softness)))

    def study(self):
        """The glass study of ``[study]`` / ``trajectory.groups`` (a DataTree, :mod:`ssefeat.study.study_tree`)."""
        return run_stage(self, StudyStage(self))

    # --- the whole job ----------------------------------------------------------------------------
    def _make_folder(self) -> None:
        """The results folder, made (with stages/) or refused before any work when it cannot be written."""
        blocker = next((p for p in (self.out, *self.out.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise OutputError(f"cannot make the results folder {self.out}: {blocker} is a file.",
                              fix="give a results folder path inside a folder (-o, or output.folder).")
        try:
            self.stage_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"cannot make the results folder {self.out}: {err.strerror}.",
                              fix="give a results folder you may write (-o, or output.folder).") from None
        check_folder(self.stage_dir)

    def run(self) -> Path:
        """Run every enabled stage (skipping up-to-date ones) and write the results folder. Returns it. The
        folder is locked while the run writes (a second run on it is refused) and the temporary outputs of
        earlier runs that were killed are removed first."""
        self._make_folder()
        with FolderLock(self.out, say=self.say):
            for leftover in remove_stale(self.stage_dir, any_process=True) + remove_stale(self.out, any_process=True):
                self.say(f"removed {leftover.name}, left by an earlier run that was killed")
            return self._run()

    def _run(self) -> Path:
        c = self.config
        (self.out / "config.json").write_text(json.dumps(c, indent=1, default=str))
        runs = bool(c["trajectory"]["files"] or c["trajectory"]["generate"])  # False: a study alone
        on = {s: runs and bool(c[s]["enabled"]) for s in ("features", "labels", "softness", "correlate", "transport",
                                                          "disorder", "sites")}
        try:
            trajs = self.trajectories() if runs else []
            feats = [self.features(k, p) for k, p in enumerate(trajs)] if on["features"] else []
            labels = [self.labels(k, p) for k, p in enumerate(trajs)] if on["labels"] else []
            soft = self.softness(feats, labels) if on["softness"] and feats else []
            links = self.correlate(feats, soft) if on["correlate"] and soft else None
            transport = self.transport(trajs) if on["transport"] else None
            disorder = [self.disorder(k, p) for k, p in enumerate(trajs)] if on["disorder"] else []
            sites = self.sites(trajs, feats if c["features"]["environment"] else [], soft) if on["sites"] else None
            study = self.study() if c["study"] is not None else None
        finally:
            self.close()
        t0 = time.perf_counter()
        write_results(self, trajs, feats, labels, soft, links, transport, disorder, sites=sites, study=study)
        self.timings["report"] = time.perf_counter() - t0
        self.say(f"done: results in {self.out}/ (report.md, results.nc, tables/, figures/)")
        return self.out
