"""The job queue: training and batch forecasting jobs as rows of `jobs`, claimed by workers.

Every state change is one conditional UPDATE (``... WHERE id = :id AND status IN (...)``), so
two processes racing on a job cannot both win: the loser's UPDATE matches no row. That is what
makes `claim_next` exclusive on both backends. On PostgreSQL the oldest queued job is picked
with ``SELECT ... FOR UPDATE SKIP LOCKED``, so concurrent claimers take different jobs instead
of queueing on one row lock; on SQLite (one writer at a time) the pick and the conditional
UPDATE are retried when another worker took the job in between.

States (SageMaker's): Queued -> InProgress -> Completed | Failed; a stop turns Queued into
Stopped at once and InProgress into Stopping, which the worker turns into Stopped at its next
progress event. `recover_orphans` fails jobs whose worker died (a process crash, a SIGKILL,
a reboot), so nothing stays InProgress forever.
"""

from __future__ import annotations

import builtins
import socket
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tidecast.jobs.processes import pid_alive
from tidecast.jobs.request import JobRequest
from tidecast.registry.columns import new_job_id, utcnow
from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.schema import Job
from tidecast.registry.statuses import JobKind, JobStatus

if TYPE_CHECKING:
    from tidecast.jobs.batch import BatchRequest

ACTIVE = (JobStatus.IN_PROGRESS, JobStatus.STOPPING)
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)
DIED = "worker process {pid} died while the job was in progress"
# A worker heartbeats every few seconds (see worker.HEARTBEAT_SECONDS); a job silent this long
# has lost its worker even when the process cannot be checked (another host, a reused pid).
HEARTBEAT_TIMEOUT = timedelta(minutes=2)
MAX_LIST = 1000
_REASON_LENGTH = 4000


class JobStore:
    """Create, list, claim and update jobs; every method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ---- the API's side -----------------------------------------------------------------
    def create(self, request: JobRequest) -> Job:
        """Queue a job for `request`; its name is the request's, or the job id.

        A given name identifies the training job, as SageMaker's AutoMLJobName does: a second
        job of the same name is a Conflict, not a silent duplicate.
        """
        if request.name is not None:
            with self._sessions() as session:
                taken = session.scalar(
                    select(Job.id).where(Job.kind == JobKind.AUTOML, Job.name == request.name).limit(1)
                )
            if taken is not None:
                raise Conflict(
                    f"a training job named {request.name!r} already exists ({taken}); choose another name"
                )
        return self._queue(new_job_id(), request.name, JobKind.AUTOML, request.model_dump(mode="json"))

    def create_batch(self, request: BatchRequest, model_version_id: int, job_id: str) -> Job:
        """Queue a batch forecast with the version `model_version_id` (pinned now, so a later
        deploy does not change what a queued batch forecasts with). `job_id` is the id the
        request's default output folder was named after."""
        config = request.model_dump(mode="json")
        return self._queue(job_id, request.name, JobKind.BATCH, config, model_version_id)

    def _queue(
        self,
        job_id: str,
        name: str | None,
        kind: JobKind,
        config: dict[str, Any],
        version_id: int | None = None,
    ) -> Job:
        job = Job(
            id=job_id,
            name=name or job_id,
            kind=kind,
            status=JobStatus.QUEUED,
            config=config,
            model_version_id=version_id,
            stop_requested=False,
            created_at=utcnow(),
        )
        with self._sessions.begin() as session:
            session.add(job)
        return job

    def get(self, job_id: str) -> Job:
        with self._sessions() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise NotFound("job", job_id)
        return job

    def list(
        self, status: JobStatus | str | None = None, limit: int = 100, kind: JobKind | str | None = None
    ) -> list[Job]:
        """The newest jobs first, optionally of one status and one kind."""
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput("limit", f"must be between 1 and {MAX_LIST}, got {limit}")
        query = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
        if status is not None:
            query = query.where(Job.status == _status(status))
        if kind is not None:
            query = query.where(Job.kind == _kind(kind))
        with self._sessions() as session:
            return list(session.scalars(query))

    def request_stop(self, job_id: str) -> Job:
        """Stop a job: a queued one is Stopped at once, a running one becomes Stopping.

        Stopping a job that is already stopping or stopped is a no-op; stopping a completed or
        failed one is a Conflict (there is nothing left to stop).
        """
        now = utcnow()
        with self._sessions.begin() as session:
            queued = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(status=JobStatus.STOPPED, stop_requested=True, ended_at=now)
            )
            if queued.rowcount == 0:  # type: ignore[attr-defined]
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.IN_PROGRESS)
                    .values(status=JobStatus.STOPPING, stop_requested=True)
                )
            job = session.get(Job, job_id, populate_existing=True)
            if job is None:
                raise NotFound("job", job_id)
            if job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
                raise Conflict(f"job {job_id!r} has already ended ({job.status.value}): nothing to stop")
        return job

    def count_by_status(self) -> dict[str, int]:
        """How many jobs are in each state (states without jobs left out), for /metrics."""
        with self._sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {JobStatus(status).value: int(n) for status, n in rows}

    # ---- the worker's side --------------------------------------------------------------
    def claim_next(self, worker_pid: int, host: str | None = None) -> Job | None:
        """Take the oldest queued job for this worker (InProgress), or None when none is queued."""
        host = host or socket.gethostname()
        for _ in range(100):  # each retry means another worker won a job: the queue got shorter
            with self._sessions.begin() as session:
                pick = (
                    select(Job.id)
                    .where(Job.status == JobStatus.QUEUED)
                    .order_by(Job.created_at, Job.id)
                    .limit(1)
                )
                if session.get_bind().dialect.name == "postgresql":
                    pick = pick.with_for_update(skip_locked=True)
                job_id = session.scalar(pick)
                if job_id is None:
                    return None
                now = utcnow()
                claimed = session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                    .values(
                        status=JobStatus.IN_PROGRESS,
                        worker_pid=worker_pid,
                        worker_host=host,
                        started_at=now,
                        heartbeat_at=now,
                        stage="queued",
                    )
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    job = session.get(Job, job_id, populate_existing=True)
                    assert job is not None
                    return job
        return None

    def progress(
        self,
        job_id: str,
        stage: str | None,
        candidate: str | None = None,
        chunks: dict[str, int] | None = None,
    ) -> bool:
        """Record what the job is doing (and that its worker lives); True when it should stop.

        `chunks` is a batch job's progress, ``{"chunks": N, "done": k}``.

        It should stop when a stop was requested, or when the job is no longer running at all
        (e.g. `recover_orphans` failed it while this worker was unreachable).
        """
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if stage is not None:
            values.update(stage=stage[:64], candidate=candidate[:128] if candidate else None)
        if chunks is not None:
            values["progress"] = dict(chunks)
        with self._sessions.begin() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE)).values(**values))
            row = session.execute(
                select(Job.status, Job.stop_requested).where(Job.id == job_id)
            ).one_or_none()
        if row is None:
            raise NotFound("job", job_id)
        status, stop_requested = row
        return bool(stop_requested) or status not in ACTIVE

    def heartbeat(self, job_id: str) -> bool:
        """Just the heartbeat; True when the job should stop (see `progress`)."""
        return self.progress(job_id, None)

    def complete(
        self,
        job_id: str,
        leaderboard: Sequence[dict[str, Any]],
        model_version_id: int | None,
        session: Session | None = None,
    ) -> Job:
        """A training job's end; with `session`, inside that open transaction (the one that
        registers its model version: `tidecast.jobs.registration`), so both commit or neither."""
        return self._finish(
            job_id,
            JobStatus.COMPLETED,
            session=session,
            leaderboard=list(leaderboard),
            model_version_id=model_version_id,
            stage="done",
            candidate=None,
        )

    def complete_batch(self, job_id: str, result: dict[str, Any], chunks: dict[str, int] | None) -> Job:
        """A batch job's end: its result (counts, timings, output folder) and final progress."""
        values: dict[str, Any] = {"result": result, "stage": "done", "candidate": None}
        if chunks is not None:
            values["progress"] = dict(chunks)
        return self._finish(job_id, JobStatus.COMPLETED, **values)

    def fail(self, job_id: str, reason: str, result: dict[str, Any] | None = None) -> Job:
        """Mark a queued or running job Failed with `reason` (one line, kept short), and the
        `result` of a batch that ran but forecast nothing."""
        extra: dict[str, Any] = {"result": result} if result is not None else {}
        return self._finish(
            job_id,
            JobStatus.FAILED,
            from_states=(JobStatus.QUEUED, *ACTIVE),
            error=one_line(reason),
            **extra,
        )

    def mark_stopped(self, job_id: str, leaderboard: Sequence[dict[str, Any]] | None = None) -> Job:
        """The worker honoured a stop request."""
        return self._finish(job_id, JobStatus.STOPPED, leaderboard=leaderboard, stop_requested=True)

    def _finish(
        self,
        job_id: str,
        status: JobStatus,
        from_states: Iterable[JobStatus] = ACTIVE,
        session: Session | None = None,
        **values: Any,
    ) -> Job:
        if session is None:
            with self._sessions.begin() as own:
                return self._finish(job_id, status, from_states, own, **values)
        done = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(tuple(from_states)))
            .values(status=status, ended_at=utcnow(), heartbeat_at=utcnow(), **values)
        )
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            raise NotFound("job", job_id)
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"job {job_id!r} is {job.status.value}; it cannot become {status.value}")
        return job

    def recover_orphans(
        self,
        reason: str = DIED,
        heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
        host: str | None = None,
    ) -> builtins.list[Job]:
        """Fail running jobs whose worker is gone; returns them. Call it when the service starts.

        A worker is gone when its pid is not a live process on this host, or, wherever it
        ran, when its heartbeat is older than `heartbeat_timeout`. `reason` may use ``{pid}``.
        """
        host = host or socket.gethostname()
        stale_before = utcnow() - heartbeat_timeout
        with self._sessions() as session:
            running = list(session.scalars(select(Job).where(Job.status.in_(ACTIVE))))
        failed = []
        for job in running:
            local_dead = job.worker_host == host and (job.worker_pid is None or not pid_alive(job.worker_pid))
            stale = job.heartbeat_at is None or job.heartbeat_at < stale_before
            if not (local_dead or stale):
                continue
            with self._sessions.begin() as session:
                done = session.execute(
                    update(Job)
                    .where(
                        Job.id == job.id,
                        Job.status.in_(ACTIVE),
                        # Unchanged since we looked: the worker did not just heartbeat or finish.
                        Job.heartbeat_at.is_(None)
                        if job.heartbeat_at is None
                        else Job.heartbeat_at == job.heartbeat_at,
                    )
                    .values(
                        status=JobStatus.FAILED,
                        error=one_line(reason.format(pid=job.worker_pid)),
                        ended_at=utcnow(),
                    )
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    refreshed = session.get(Job, job.id, populate_existing=True)
                    assert refreshed is not None
                    failed.append(refreshed)
        return failed


def job_to_dict(job: Job) -> dict[str, Any]:
    """A job as JSON-ready data (timestamps ISO 8601 UTC), for the API and the CLI."""

    def iso(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat() if value is not None else None

    return {
        "id": job.id,
        "name": job.name,
        "kind": job.kind.value,
        "status": job.status.value,
        "stage": job.stage,
        "candidate": job.candidate,
        "stop_requested": bool(job.stop_requested),
        "error": job.error,
        "model_version_id": job.model_version_id,
        "leaderboard": job.leaderboard,
        "progress": job.progress,
        "result": job.result,
        "config": job.config,
        "worker_pid": job.worker_pid,
        "worker_host": job.worker_host,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "ended_at": iso(job.ended_at),
        "heartbeat_at": iso(job.heartbeat_at),
    }


def one_line(text: str) -> str:
    """Failure reasons are shown in tables and logs: one line, bounded length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _REASON_LENGTH else flat[: _REASON_LENGTH - 1] + "…"


def _kind(value: JobKind | str) -> JobKind:
    try:
        return JobKind(value)
    except ValueError:
        raise InvalidInput(
            "kind", f"unknown job kind {value!r}; use {', '.join(k.value for k in JobKind)}"
        ) from None


def _status(value: JobStatus | str) -> JobStatus:
    try:
        return JobStatus(value)
    except ValueError:
        raise InvalidInput(
            "status", f"unknown job status {value!r}; use {', '.join(s.value for s in JobStatus)}"
        ) from None
