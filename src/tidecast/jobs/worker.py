"""Job workers: processes that claim queued jobs (training or batch) and run them to the end.

Each worker is its own process (`python -m tidecast.jobs.worker`, or `start_workers` from
the service with the spawn start method), so a model that crashes the interpreter or eats
memory takes down one job, not the API. A worker loops: claim the oldest queued job and run it
by its kind. A training job builds an `AutoForecaster` from its `JobRequest`, fits with a
progress callback that records the stage and candidate on the job (the heartbeat), forecasts,
writes the run folder, and registers the model (PendingManualApproval) and is Completed in one
transaction (`tidecast.jobs.registration`: never a version beside a failed job). A batch
job runs `run_batch` with the model version pinned at submission; the same callback records
the stage and the chunks done out of all, and the job keeps the batch's counts as its result.
Any exception marks a job Failed with a one-line reason; a job that already ended meanwhile
(failed by `recover_orphans` while its worker was unreachable) keeps its end, and the worker
goes on to the next job.

Stopping: the progress callback raises `JobStopped` once a stop was requested. It derives
from BaseException, not Exception, because the backtest deliberately catches every Exception
of a candidate (a failing model must not fail the search) and would otherwise swallow the
stop as "this candidate failed". A heartbeat thread keeps the job alive while a long model fit
emits no events, and notices stop requests in between. A batch emits an event after each
chunk, so it stops between chunks; the chunks it finished stay in its output folder, and the
same batch submitted again with that folder as `output` resumes from them.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tidecast.automl.artifact import read_manifest
from tidecast.data.io import read_table
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.distributed import scale_out
from tidecast.errors import ConfigError
from tidecast.jobs.batch import nothing_forecast, parse_batch_body, run_batch_job
from tidecast.jobs.config import data_root_of, parse_job_body
from tidecast.jobs.features import feature_options
from tidecast.jobs.registration import register_and_complete
from tidecast.jobs.request import JobRequest
from tidecast.jobs.run_files import copy_run, publish_run, run_folder
from tidecast.jobs.stop_flag import StopFlag, finish_on_sigterm
from tidecast.jobs.store import JobStore, one_line
from tidecast.monitor.forecast_log import Origin, log_produced
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.errors import Conflict
from tidecast.registry.orphans import sweep_at_start
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Job
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ForecastSource, JobKind

if TYPE_CHECKING:
    import pandas as pd

    from tidecast.automl.forecaster import AutoForecaster

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10.0
POLL_SECONDS = 1.0
# Progress events arrive many times a second during a backtest; the job row is written when
# the stage, the candidate or a batch's chunks done change, and otherwise at most this often.
PROGRESS_WRITE_SECONDS = 2.0


class JobStopped(BaseException):
    """Raised from the progress callback to abandon a job whose stop was requested."""


class _Tracker:
    """The progress callback: records stage/candidate (a fit's) or chunks done (a batch's),
    heartbeats, raises `JobStopped`."""

    def __init__(self, store: JobStore, job_id: str, heartbeat_seconds: float) -> None:
        self.store = store
        self.job_id = job_id
        self.stop = threading.Event()
        self.chunks: dict[str, int] | None = None  # a batch's latest {"chunks": N, "done": k}
        self._last: tuple[str | None, str | None, int | None] = (None, None, None)
        self._written = 0.0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, args=(heartbeat_seconds,), name=f"heartbeat-{job_id}", daemon=True
        )

    def __enter__(self) -> _Tracker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _beat(self, every: float) -> None:
        while not self._done.wait(every):
            try:
                with self._lock:
                    if self.store.heartbeat(self.job_id):
                        self.stop.set()
            except Exception as exc:  # a database hiccup must not kill the heartbeat
                log.warning("heartbeat of job %s failed: %s", self.job_id, exc)

    def __call__(self, event: dict[str, object]) -> None:
        stage = str(event.get("stage", "")) or None
        raw = event.get("candidate")
        candidate = str(raw) if raw is not None else None
        if stage == "candidate_done":  # still the backtest stage, between two candidates
            stage = "backtest"
        if "chunks" in event:
            self.chunks = {"chunks": _count(event["chunks"]), "done": _count(event.get("done"))}
        # A finished chunk is written at once: it is seconds of work, and the write is where a
        # stop request is noticed, so a batch stops after the chunk in flight.
        key = (stage, candidate, self.chunks["done"] if self.chunks else None)
        now = time.monotonic()
        if key != self._last or now - self._written >= PROGRESS_WRITE_SECONDS:
            with self._lock:
                if self.store.progress(self.job_id, stage, candidate, self.chunks):
                    self.stop.set()
            self._last, self._written = key, now
        if self.stop.is_set():
            raise JobStopped(self.job_id)


def run_job(
    job: Job,
    store: JobStore,
    registry: Registry,
    settings: ServiceSettings,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> Job:
    """Run one claimed job to its end state (Completed, Failed or Stopped) and return it."""
    log.info("job %s (%s, %s): started", job.id, job.name, job.kind.value)
    try:
        # With TIDECAST_DASK_SCHEDULER set, the job's per-series work and batch chunks run there.
        with scale_out(scheduler=settings.dask_scheduler) as client:
            if job.kind is JobKind.BATCH:
                return _run_batch(job, store, registry, settings, heartbeat_seconds, client)
            return _run_training(job, store, registry, settings, heartbeat_seconds)
    except JobStopped:
        log.info("job %s: stopped on request", job.id)
        return _end(store, job.id, store.mark_stopped)
    except Exception as exc:
        reason = one_line(f"{type(exc).__name__}: {exc}")
        log.warning("job %s: failed: %s", job.id, reason)
        return _end(store, job.id, lambda job_id: store.fail(job_id, reason))


def _end(store: JobStore, job_id: str, finish: Callable[[str], Job]) -> Job:
    """`finish(job_id)`, or the job as it is when it ended otherwise meanwhile (a Conflict)."""
    try:
        return finish(job_id)
    except Conflict as exc:
        log.warning("job %s: %s; left as it is", job_id, exc)
        return store.get(job_id)


def _run_training(
    job: Job, store: JobStore, registry: Registry, settings: ServiceSettings, heartbeat_seconds: float
) -> Job:
    # Checked again as it starts: a link planted in the data root while the job was queued
    # must not lead the worker out of it.
    request = parse_job_body(job.config, settings)
    with _Tracker(store, job.id, heartbeat_seconds) as track:
        auto, forecasts, model = _train(job, request, settings, track)
        leaderboard = json.loads(auto.leaderboard().to_json(orient="records"))
        track({"stage": "register"})
        version = register_and_complete(registry, store, job.id, request.model_group, model, leaderboard)
    if settings.forecast_log:
        spec = auto.spec_
        origin = Origin(ForecastSource.TRAINING, "", version.id, spec.freq, tuple(auto.quantiles_), job.id)
        columns = {spec.item_col: ITEM_ID, spec.timestamp_col: TIMESTAMP}
        _log_safely(
            lambda: log_produced(registry.sessions, forecasts, origin, columns, settings.forecast_log_sample)
        )
    log.info("job %s: completed, model version %s", job.id, version.id)
    return store.get(job.id)


def _run_batch(
    job: Job,
    store: JobStore,
    registry: Registry,
    settings: ServiceSettings,
    heartbeat_seconds: float,
    client: Any = None,
) -> Job:
    """Forecast the batch with the version pinned on the job; Failed when no item could be.
    Its locations are checked again as it starts (see `_run_training`)."""
    request = parse_batch_body(job.config, settings, job.id)
    if job.model_version_id is None:
        raise ConfigError("the batch job names no model version")
    with _Tracker(store, job.id, heartbeat_seconds) as track:
        track({"stage": "model"})
        model = registry.model_path(registry.get_by_id(job.model_version_id))
        result = run_batch_job(request, model, track, client, data_root_of(settings))
    reason = nothing_forecast(result)
    if reason is not None:
        log.warning("job %s: failed: %s", job.id, reason)
        return store.fail(job.id, reason, result)
    finished = store.complete_batch(job.id, result, track.chunks)
    _log_safely(lambda: _log_batch(registry, settings, job, model, result))
    log.info(
        "job %s: forecast %d of %d items into %s",
        job.id,
        result["items_forecast"],
        result["items_in"],
        result["output"],
    )
    return finished


def _count(value: object) -> int:
    """A chunk count from a progress event (typed `object`: events are plain dicts)."""
    return int(value) if isinstance(value, int | float | str) else 0


def _train(
    job: Job, request: JobRequest, settings: ServiceSettings, track: _Tracker
) -> tuple[AutoForecaster, pd.DataFrame, Path]:
    """Fit, forecast and write the run folder; the fitted forecaster, its forecasts and the
    folder of the model to register."""
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.data.sql_io import read_sql
    from tidecast.reports.run import MODEL_DIR, write_run

    root = data_root_of(settings)
    data = request.data if request.sql is None else read_sql(request.sql, root=root)
    future = request.future if request.future_sql is None else read_sql(request.future_sql, root=root)
    if request.hierarchy is not None:  # every level fitted; the items' model is the one registered
        from tidecast.hierarchy.output import fit_hierarchy_job

        hierarchy, auto = fit_hierarchy_job(request, data, future, track)
    else:
        options, data, note = feature_options(request, data)
        hierarchy, auto = None, AutoForecaster(**options)
        auto.fit(data, progress=track, future=future)
        if note:
            auto.report_.notes.append(note)
    track({"stage": "forecast"})
    forecasts = auto.predict(future=future)
    track({"stage": "write"})
    folder = run_folder(settings, job.id)
    write_run(auto, forecasts, folder)
    if hierarchy is not None:
        hierarchy(folder / "hierarchy")
    publish_run(settings, folder, job.id)
    if request.output:
        track({"stage": "output"})
        copy_run(folder, request.output, job.name)
    return auto, forecasts, folder / MODEL_DIR


def _log_batch(
    registry: Registry, settings: ServiceSettings, job: Job, model: Path, result: dict[str, Any]
) -> int:
    """Keep a batch's forecasts in the forecast log (sampled by the same setting as the endpoints')."""
    if not settings.forecast_log or job.model_version_id is None:
        return 0
    task = read_manifest(model)["task"]
    origin = Origin(
        ForecastSource.BATCH, "", job.model_version_id, task["frequency"], tuple(task["quantiles"]), job.id
    )
    columns = {task["columns"]["item"]: ITEM_ID, task["columns"]["timestamp"]: TIMESTAMP}
    forecasts = read_table(result["forecasts"])
    return log_produced(registry.sessions, forecasts, origin, columns, settings.forecast_log_sample)


def _log_safely(action: Callable[[], int]) -> None:
    """Logging a produced forecast is best effort: the job has done its work either way."""
    try:
        log.info("forecast log: %d item forecasts kept", action())
    except Exception as exc:
        log.warning(
            "forecast log: the job's forecasts were not kept: %s", one_line(f"{type(exc).__name__}: {exc}")
        )


def run_worker(
    settings: ServiceSettings,
    stop_event: threading.Event | Any | None = None,
    once: bool = False,
    poll_seconds: float = POLL_SECONDS,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> int:
    """Claim and run jobs until `stop_event` is set; with `once`, run at most one job.

    Returns how many jobs this worker ran. Database errors while polling are logged and
    retried (PostgreSQL restarting, SQLite busy), so a worker outlives short outages.
    """
    from tidecast.registry.db import Database

    database = Database.from_url(settings.database_url)
    store = JobStore(database.sessions)
    registry = Registry(database.sessions, ArtifactStore(settings.artifact_url, cache_dir=settings.cache_dir))
    sweep_at_start(registry.sessions, registry.artifacts)  # what a killed worker left unregistered
    stop = stop_event if stop_event is not None else threading.Event()
    pid, host = os.getpid(), socket.gethostname()
    ran = 0
    parent = multiprocessing.parent_process()
    try:
        while not stop.is_set():
            if parent is not None and not parent.is_alive():
                # The service died (even by SIGKILL): an orphaned worker must not keep claiming.
                log.warning("worker %s: the service process is gone; exiting", pid)
                break
            try:
                job = store.claim_next(pid, host)
            except Exception as exc:
                log.warning("worker %s: could not poll the queue: %s", pid, exc)
                job = None
            if job is not None:
                run_job(job, store, registry, settings, heartbeat_seconds)
                ran += 1
            if once:
                break
            if job is None:
                stop.wait(poll_seconds)
    finally:
        database.dispose()
    return ran


# ---- processes -----------------------------------------------------------------------------
def _process_main(settings_json: str, stop_event: Any) -> None:
    settings = ServiceSettings.model_validate_json(settings_json)
    _configure_logging(settings.log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when workers end
    signal.signal(signal.SIGTERM, finish_on_sigterm(stop_event))  # a group's SIGTERM: finish the job
    run_worker(settings, stop_event)


def start_workers(settings: ServiceSettings, count: int | None = None) -> tuple[list[BaseProcess], Any]:
    """Start `count` (default `settings.workers`) worker processes with the spawn method.

    Returns the processes and the `StopFlag` that asks them to finish their current job and exit.
    Spawn, not fork: the API process holds threads, sockets and database connections that a
    forked child must not inherit.
    """
    context = multiprocessing.get_context("spawn")
    stop = StopFlag(context)  # never an Event: see tidecast.jobs.stop_flag
    payload = settings.model_dump_json()
    processes: list[BaseProcess] = []
    for k in range(count if count is not None else settings.workers):
        process = context.Process(
            target=_process_main, args=(payload, stop), name=f"tidecast-worker-{k + 1}", daemon=False
        )
        process.start()
        processes.append(process)
    return processes, stop


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m tidecast.jobs.worker [--once]`: one worker, settings from TIDECAST_*.

    SIGTERM asks the worker to exit after its current job; a second SIGTERM exits at once
    (the job is then failed by `recover_orphans` when the service next starts).
    """
    args = sys.argv[1:] if argv is None else argv
    settings = ServiceSettings()  # every field from TIDECAST_* or .env
    _configure_logging(settings.log_level)
    stop = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    ran = run_worker(settings, stop, once="--once" in args)
    log.info("worker %s: ran %d job(s), exiting", os.getpid(), ran)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
