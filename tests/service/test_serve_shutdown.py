"""`tidecast serve` stops promptly on SIGTERM and SIGINT, whatever is in flight.

A process manager gives a stopping service a few seconds (Docker 10) before it kills it, and a
killed service leaves its workers orphaned and its running job InProgress until the next
start. So the bound here is `EXIT_SECONDS`, with the two things that used to hold shutdown up:
a client that sent half a request (uvicorn waited 30 s for it), and a running training job
(waited for only after the HTTP side had finished). The job must end Failed with the reason,
as `tidecast.jobs.pool` documents, and no worker may outlive the service. In process: the
application's shutdown does not wait long for a background thread that is busy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from live_service import free_port
from tidecast.data.demo import generate
from tidecast.jobs.processes import pid_alive
from tidecast.jobs.store import JobStore
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobStatus
from tidecast.service.app import CLOSE_SECONDS, create_app

EXIT_SECONDS = 10.0
IDLE_SECONDS = 6.0  # a spawned worker imports the library in about 3 s

pytestmark = pytest.mark.timeout(120)


@contextmanager
def serve(home: Path, own_group: bool = False) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The service in open mode with one worker, its data root `home`; killed if still up.
    With `own_group`, it leads a process group of its own (as under systemd or `timeout`)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(home), TIDECAST_LOG_LEVEL="INFO")
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "tidecast.service.server", "--host", "127.0.0.1", "--port", str(port)]
    with (home / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [*command, "--workers", "1", "--open-mode"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_tail(home)
            try:
                if httpx.get(url + "/health", timeout=2).json()["workers"]["alive"] == 1:
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL) if own_group else process.kill()
            process.wait()


def log_tail(home: Path, lines: int = 30) -> str:
    return "\n".join((home / "server.log").read_text(errors="replace").splitlines()[-lines:])


def half_sent_request(url: str) -> socket.socket:
    """A connection that has sent a request's head and part of its body, and then nothing."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    return sock


def stop_and_time(process: subprocess.Popen[bytes], sig: signal.Signals, home: Path) -> float:
    started = time.monotonic()
    process.send_signal(sig)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the service did not exit within 60 s of {sig.name}:\n{log_tail(home)}")
    elapsed = time.monotonic() - started
    assert process.returncode == 0, log_tail(home)
    assert "tidecast stopped" in log_tail(home, 5)
    return elapsed


def worker_pids(url: str) -> list[int]:
    return [w["pid"] for w in httpx.get(url + "/health", timeout=5).json()["workers"]["processes"]]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_when_idle_with_a_stalled_client_then_the_service_exits_promptly(
    tmp_path: Path, sig: signal.Signals
) -> None:
    with serve(tmp_path) as (process, url):
        workers = worker_pids(url)
        with closing(half_sent_request(url)):
            time.sleep(0.3)
            elapsed = stop_and_time(process, sig, tmp_path)
    assert elapsed < EXIT_SECONDS, f"{elapsed:.1f} s\n{log_tail(tmp_path)}"
    assert workers and not any(pid_alive(pid) for pid in workers)


@pytest.mark.slow
def test_when_sigterm_goes_to_the_whole_process_group_then_the_service_still_exits(tmp_path: Path) -> None:
    """systemd's default KillMode, `timeout` and `kill -- -PGID` signal the workers too. A worker
    that died of it while waiting between jobs used to leave the service blocked for ever in
    the signal handler, setting a multiprocessing Event that the dead worker slept on."""
    with serve(tmp_path, own_group=True) as (process, url):
        workers = worker_pids(url)
        time.sleep(IDLE_SECONDS)  # past its imports: the worker now sleeps between polls of the queue
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"the service did not exit within 30 s of SIGTERM to its group:\n{log_tail(tmp_path)}"
            )
        elapsed = time.monotonic() - started
    assert process.returncode == 0, log_tail(tmp_path)
    assert "tidecast stopped" in log_tail(tmp_path, 5)
    assert elapsed < EXIT_SECONDS, f"{elapsed:.1f} s\n{log_tail(tmp_path)}"
    assert workers and not any(pid_alive(pid) for pid in workers)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_when_a_job_is_running_then_the_service_exits_promptly_and_fails_it(
    tmp_path: Path, sig: signal.Signals
) -> None:
    generate(n_items=20).to_csv(tmp_path / "demo.csv", index=False)
    body = {
        "name": "slow",
        "data": "demo.csv",
        "horizon": 7,
        "preset": "best",
        "columns": {"target": "target_value"},
        "model_group": "demo",
    }
    with serve(tmp_path) as (process, url):
        workers = worker_pids(url)
        created = httpx.post(url + "/v1/jobs", json=body, timeout=30)
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 30
        while (job := httpx.get(f"{url}/v1/jobs/{job_id}", timeout=5).json())["status"] == "Queued":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "InProgress", job
        with closing(half_sent_request(url)):
            time.sleep(0.3)
            elapsed = stop_and_time(process, sig, tmp_path)
    assert elapsed < EXIT_SECONDS, f"{elapsed:.1f} s\n{log_tail(tmp_path)}"
    assert workers and not any(pid_alive(pid) for pid in workers)
    database = Database.from_url(f"sqlite:///{tmp_path / 'tidecast.db'}")
    try:
        stored = JobStore(database.sessions).get(job_id)
    finally:
        database.dispose()
    assert stored.status is JobStatus.FAILED, (stored.status, stored.error)
    assert stored.error is not None and "the service stopped while the job was in progress" in stored.error
    assert stored.ended_at is not None


def test_when_the_challenger_thread_is_busy_then_the_app_shuts_down_without_waiting_for_it(
    tmp_path: Path,
) -> None:
    settings = ServiceSettings(home=tmp_path, open_mode=True)
    database = Database.from_url(settings.database_url)
    database.migrate()
    entered, release = threading.Event(), threading.Event()
    try:
        with TestClient(create_app(settings, database=database)) as client:
            assert client.get("/health").status_code == 200
            worker = client.app.state.service.challengers.worker  # type: ignore[attr-defined]
            worker.call(lambda: (entered.set(), release.wait(60)))  # an evaluation that takes long
            assert entered.wait(10)
            started = time.monotonic()
        elapsed = time.monotonic() - started
    finally:
        release.set()
        database.dispose()
    assert elapsed < CLOSE_SECONDS + 2.0, f"shutdown took {elapsed:.1f} s"


@pytest.mark.slow
def test_when_the_signal_comes_while_the_service_starts_then_it_still_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM just after the workers started, before uvicorn took the signals over: Python's
    default would kill the service there and orphan its workers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(tmp_path), TIDECAST_LOG_LEVEL="INFO")
    command = [sys.executable, "-m", "tidecast.service.server", "--host", "127.0.0.1", "--port", str(port)]
    log_path = tmp_path / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*command, "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while '"message": "worker ' not in log_path.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log_tail(tmp_path)
            time.sleep(0.01)
        started = [line for line in log_path.read_text().splitlines() if '"message": "worker ' in line]
        worker = int(started[0].split('"message": "worker ')[1].split()[0])
        elapsed = stop_and_time(process, signal.SIGTERM, tmp_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert elapsed < EXIT_SECONDS, f"{elapsed:.1f} s\n{log_tail(tmp_path)}"
    assert not pid_alive(worker)  # stopped and reaped by the service, not left to notice alone
