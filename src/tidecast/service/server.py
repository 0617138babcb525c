"""`tidecast serve`: the database, the job workers and the HTTP API as one service.

`serve(settings)` migrates the database, fails the jobs whose worker died while the service
was down (`JobStore.recover_orphans`), starts `settings.workers` worker processes, and runs
uvicorn on `settings.host`/`settings.port` until SIGINT or SIGTERM. Shutting down is graceful
and bounded: at the signal the workers are asked to finish their current job, while uvicorn
stops accepting connections and gives requests in flight `GRACEFUL_SHUTDOWN_SECONDS`; workers
still busy `WORKER_STOP_SECONDS` after the signal are terminated and their jobs failed with the
reason, so nothing stays InProgress, and the service is gone before a process manager's kill.

While the service runs, the `WorkerPool` (`tidecast.jobs.pool`) keeps the workers at their
count: a worker that dies has its job failed at once and is replaced.

Run it as ``python -m tidecast.service.server`` (settings from ``TIDECAST_*``) or through the
``tidecast serve`` command.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tidecast.errors import ConfigError
from tidecast.jobs.pool import WorkerPool
from tidecast.jobs.store import JobStore
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings

log = logging.getLogger("tidecast.server")

# How long requests in flight get to finish once a signal came (a forecast takes milliseconds);
# a client stalled mid-request must not hold the service, and its workers' kill, up any longer.
GRACEFUL_SHUTDOWN_SECONDS = 4

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra fields
    (the access log's method, path, status, latency_ms, endpoint)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """JSON lines on stderr at `level` (the settings' `log_level`) for the whole process
    (uvicorn's loggers included)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class _Stop:
    """What a SIGINT/SIGTERM that `serve` receives outside uvicorn's own handling asks for:
    the workers to stop, and uvicorn not to serve (or to stop as soon as it has started)."""

    def __init__(self) -> None:
        self.requested = False
        self.pool: WorkerPool | None = None
        self.server: Any = None

    def __call__(self, signum: int, frame: object) -> None:
        log.info("received %s: stopping the workers", signal.Signals(signum).name)
        self.requested = True
        if self.pool is not None:
            self.pool.request_stop()
        if self.server is not None:
            self.server.should_exit = True


@contextmanager
def _signals_recorded(stop: _Stop) -> Iterator[None]:
    """Let SIGINT/SIGTERM stop the service, never kill it, from before the workers start.

    uvicorn handles both signals itself while it runs and, once it has shut down, raises the
    captured signal again with the handlers it found installed. With Python's defaults that
    kills the process (SIGTERM) or raises KeyboardInterrupt (SIGINT) before the workers are
    stopped, leaving them orphaned, and so would a signal that comes while the service starts;
    `stop` records it instead, so shutdown continues to `WorkerPool.stop`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def event_loop_and_http() -> tuple[str, str]:
    """uvicorn's ``loop`` and ``http`` choices: uvloop and httptools when importable.

    Both are C implementations (libuv's event loop, Node's HTTP parser) that cut the
    server's own CPU per request by a large share compared with asyncio and h11, which are
    the fallback when ``uvicorn[standard]`` is not installed. Named explicitly rather than
    left to uvicorn's "auto", so the log states what is running.
    """
    return _first_importable("uvloop", "asyncio"), _first_importable("httptools", "h11")


def _first_importable(preferred: str, fallback: str) -> str:
    try:
        __import__(preferred)
    except ImportError:
        return fallback
    return preferred


def serve(settings: ServiceSettings, *, default_endpoint: str | None = None) -> None:
    """Run the service until SIGINT/SIGTERM (see the module docstring)."""
    listener = bind(settings.host, settings.port)  # a busy port fails here, before anything starts
    try:
        database = open_database(settings.database_url)
    except ConfigError:
        listener.close()
        raise
    try:
        jobs = JobStore(database.sessions)
        for job in jobs.recover_orphans():
            log.warning("job %s failed while the service was down: %s", job.id, job.error)
        stop = _Stop()
        with _signals_recorded(stop):
            _serve_with_workers(settings, database, jobs, listener, stop, default_endpoint)
    finally:
        database.dispose()
        listener.close()
    log.info("tidecast stopped")


def _serve_with_workers(
    settings: ServiceSettings,
    database: Database,
    jobs: JobStore,
    listener: socket.socket,
    stop: _Stop,
    default_endpoint: str | None,
) -> None:
    """Start the workers, run uvicorn unless a signal came first, then stop the workers."""
    import uvicorn

    from tidecast.service.app import create_app

    pool = WorkerPool(settings, jobs, settings.workers)
    stop.pool = pool
    pool.start()
    try:
        app = create_app(
            settings, database=database, worker_status=pool.status, default_endpoint=default_endpoint
        )
        loop, http = event_loop_and_http()
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop=loop,
            http=http,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            lifespan="on",
        )
        server = _server_stopping_workers(config, pool)
        stop.server = server  # a signal from now until uvicorn takes over makes it stop at once
        log.info(
            "tidecast serving on http://%s:%d with %d worker(s) (%s, %s)",
            settings.host,
            settings.port,
            settings.workers,
            loop,
            http,
        )
        if settings.data_root is None:
            log.info("no data root: jobs read no local file (TIDECAST_DATA_ROOT allows a folder)")
        if not stop.requested:
            server.run(sockets=[listener])
    finally:
        pool.stop()


def _server_stopping_workers(config: Any, pool: WorkerPool) -> Any:
    """A uvicorn server whose SIGINT/SIGTERM also asks the workers to stop, at once: their grace
    period then runs alongside the HTTP drain instead of after it."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            pool.request_stop()

    return Server(config)


def open_database(url: str) -> Database:
    """The service's database, migrated; ConfigError naming the URL (password hidden) and the
    driver's first line when it cannot be opened, in place of SQLAlchemy's traceback."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    try:
        database = Database.from_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"TIDECAST_DATABASE_URL is not a database URL this tidecast can open: {exc}"
        ) from None
    try:
        database.migrate()
    except DBAPIError as exc:
        database.dispose()
        shown = database.engine.url.render_as_string(hide_password=True)
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise ConfigError(f"cannot open the database {shown}: {reason}") from None
    return database


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), for uvicorn to listen on.

    Bound before the database, the workers and the "serving on" line, so a busy port is one
    clear error and nothing claims to be serving. Raises ConfigError naming the address.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    listener = socket.socket(family, kind, proto)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
    except OSError as exc:
        listener.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server using the port? "
            "choose another with --port)"
        ) from None
    listener.set_inheritable(True)
    return listener


def main(argv: list[str] | None = None) -> int:
    """``python -m tidecast.service.server [--host H] [--port P] [--workers N] [--open-mode]``;
    everything else from ``TIDECAST_*``."""
    parser = argparse.ArgumentParser(prog="python -m tidecast.service.server")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--open-mode", action="store_true", default=None)
    parser.add_argument("--default-endpoint")
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in {
            "host": args.host,
            "port": args.port,
            "workers": args.workers,
            "open_mode": args.open_mode,
        }.items()
        if v is not None
    }
    settings = ServiceSettings(**overrides)
    configure_logging(settings.log_level)
    serve(settings, default_endpoint=args.default_endpoint)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
