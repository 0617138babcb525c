"""The job worker processes of `tidecast serve`, kept at their count by a supervisor thread.

`WorkerPool.start` spawns the workers (`tidecast.jobs.worker.start_workers`); while the service
runs, a supervisor thread watches them: a worker that dies (an out-of-memory kill, a crash in
native code) has its job failed at once with the reason and is replaced, so one bad job does
not shrink the pool. `stop` asks every worker to finish its current job; those still busy after
`WORKER_STOP_SECONDS` are killed and their jobs failed with the reason, so nothing stays
InProgress. The request is a `StopFlag`, which a worker that died cannot block (an Event could). The service calls `request_stop` from its signal handler, so that grace period runs
while the HTTP side drains rather than after it, and the whole shutdown fits the few seconds a
process manager allows before it kills (Docker: 10).
"""

from __future__ import annotations

import logging
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from tidecast.jobs.store import JobStore
from tidecast.registry.settings import ServiceSettings

log = logging.getLogger("tidecast.server")  # the service's logger: these lines are its own

WORKER_STOP_SECONDS = 6.0  # from the stop request: the service is gone before Docker kills at 10
SUPERVISE_SECONDS = 1.0
RESPAWN_BACKOFF_SECONDS = 5.0
STOPPED_REASON = "the service stopped while the job was in progress (worker {pid} was terminated)"


class WorkerPool:
    """The job worker processes, kept at `count` by a supervisor thread."""

    def __init__(self, settings: ServiceSettings, jobs: JobStore, count: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self.count = count
        self._slots: list[tuple[BaseProcess, Any]] = []  # (process, its stop event)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._last_spawn: dict[int, float] = {}
        self._stop_requested_at: float | None = None

    def start(self) -> None:
        with self._lock:
            self._slots = [self._spawn() for _ in range(self.count)]
        for process, _ in self._slots:
            log.info("worker %s started", process.pid)
        self._supervisor = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)
        self._supervisor.start()

    def _spawn(self) -> tuple[BaseProcess, Any]:
        from tidecast.jobs.worker import start_workers

        processes, stop = start_workers(self.settings, 1)
        return processes[0], stop

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            slots = list(self._slots)
        return [{"pid": p.pid, "alive": p.is_alive(), "exitcode": p.exitcode} for p, _ in slots]

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISE_SECONDS):
            for index in range(self.count):
                with self._lock:
                    process, _ = self._slots[index]
                if process.is_alive() or self._stopping.is_set():
                    continue
                self._replace(index, process)

    def _replace(self, index: int, dead: BaseProcess) -> None:
        """Fail the dead worker's job, then start a replacement (not more often than the backoff)."""
        if self._last_spawn.get(index, 0.0) > time.monotonic() - RESPAWN_BACKOFF_SECONDS:
            return
        log.error(
            "worker %s died (exit code %s); failing its job and starting another", dead.pid, dead.exitcode
        )
        self._recover()
        with self._lock:
            if self._stopping.is_set():
                return
            self._slots[index] = self._spawn()
            self._last_spawn[index] = time.monotonic()
            log.info("worker %s started in place of %s", self._slots[index][0].pid, dead.pid)

    def _recover(self, reason: str | None = None) -> None:
        try:
            failed = self.jobs.recover_orphans() if reason is None else self.jobs.recover_orphans(reason)
        except Exception as exc:
            log.error("could not fail the jobs of dead workers: %s", exc)
            return
        for job in failed:
            log.warning("job %s failed: %s", job.id, job.error)

    def request_stop(self) -> None:
        """Ask every worker to finish its current job and exit, without waiting: safe in a
        signal handler (it takes no lock the interrupted thread or a dead worker may hold). `stop`'s grace
        period counts from the first request."""
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
        self._stopping.set()  # before the events: the supervisor must not replace a finishing worker
        for _, stop in list(self._slots):
            stop.set()

    def stop(self, timeout: float = WORKER_STOP_SECONDS) -> None:
        """Ask every worker to finish; kill those still busy `timeout` seconds after the
        first stop request (this call, or an earlier `request_stop`)."""
        self.request_stop()
        assert self._stop_requested_at is not None
        deadline = self._stop_requested_at + timeout
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        with self._lock:
            slots = list(self._slots)
        for _, stop in slots:
            stop.set()  # again: a worker the supervisor started just before the request
        for process, _ in slots:
            process.join(max(0.0, deadline - time.monotonic()))
        busy = [p for p, _ in slots if p.is_alive()]
        for process in busy:
            # SIGKILL, not SIGTERM: a worker takes SIGTERM as "finish the job" (tidecast.jobs.stop_flag).
            log.warning("worker %s is still running a job; killing it", process.pid)
            process.kill()
        for process in busy:
            process.join(5)
        if busy or any(p.exitcode not in (0, None) for p, _ in slots):
            self._recover(STOPPED_REASON)  # also the job of a worker that died before the stop
