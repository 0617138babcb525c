"""The job queue on SQLite and PostgreSQL, and real worker processes running, stopping, dying."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from jobs_http import served_jobs_api
from sqlalchemy import text, update
from worker_processes import demo_request, start_worker, wait_for, worker_env

from tidecast.data.demo import generate
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobRequest
from tidecast.jobs.store import JobStore, job_to_dict
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.columns import utcnow
from tidecast.registry.db import Database
from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Job
from tidecast.registry.statuses import JobStatus, ModelStatus


def request(**changes: object) -> JobRequest:
    return JobRequest.model_validate({"data": "sales.csv", "horizon": 7, **changes})


@pytest.fixture
def store(database: Database) -> JobStore:
    return JobStore(database.sessions)


def test_create_get_list(store: JobStore) -> None:
    first = store.create(request(name="first"))
    second = store.create(request())
    assert first.status is JobStatus.QUEUED and not first.stop_requested
    assert second.name == second.id and len(second.id) == 32
    got = store.get(first.id)
    assert JobRequest.model_validate(got.config) == request(name="first")
    assert [j.id for j in store.list()] == [second.id, first.id]
    assert [j.id for j in store.list(status="Queued", limit=1)] == [second.id]
    assert store.list(status=JobStatus.COMPLETED) == []
    with pytest.raises(NotFound):
        store.get("0" * 32)
    with pytest.raises(InvalidInput) as info:
        store.list(status="Running")
    assert info.value.field == "status"
    assert job_to_dict(got)["status"] == "Queued"


def test_claim_takes_the_oldest_and_records_the_worker(store: JobStore) -> None:
    a, b = store.create(request()), store.create(request())
    claimed = store.claim_next(4242, "host-a")
    assert claimed is not None and claimed.id == a.id
    assert (claimed.status, claimed.worker_pid, claimed.worker_host) == (
        JobStatus.IN_PROGRESS,
        4242,
        "host-a",
    )
    assert claimed.started_at is not None and claimed.heartbeat_at is not None
    assert store.claim_next(4243, "host-a").id == b.id  # type: ignore[union-attr]
    assert store.claim_next(4244, "host-a") is None


def test_claim_is_exclusive_between_concurrent_claimers(database: Database) -> None:
    """Eight threads, each with its own session and connection, race for five jobs."""
    store = JobStore(database.sessions)
    jobs = {store.create(request()).id for _ in range(5)}
    barrier = threading.Barrier(8)
    won: list[str] = []
    lock = threading.Lock()

    def claimer(pid: int) -> None:
        claims = JobStore(database.sessions)
        barrier.wait()
        while (job := claims.claim_next(pid, "h")) is not None:
            with lock:
                won.append(job.id)

    threads = [threading.Thread(target=claimer, args=(pid,)) for pid in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(won) == sorted(jobs)  # every job claimed, none twice


def test_one_job_two_claimers_exactly_one_wins(database: Database) -> None:
    store = JobStore(database.sessions)
    store.create(request())
    barrier = threading.Barrier(2)
    results: list[object] = []

    def claimer(pid: int) -> None:
        barrier.wait()
        results.append(JobStore(database.sessions).claim_next(pid, "h"))

    threads = [threading.Thread(target=claimer, args=(pid,)) for pid in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r is None for r in results) == [False, True]


def test_stop_queued_job_is_immediate_and_never_runs(store: JobStore) -> None:
    job = store.create(request())
    stopped = store.request_stop(job.id)
    assert stopped.status is JobStatus.STOPPED and stopped.ended_at is not None
    assert store.claim_next(1, "h") is None
    assert store.request_stop(job.id).status is JobStatus.STOPPED  # idempotent
    with pytest.raises(NotFound):
        store.request_stop("f" * 32)


def test_stop_running_job_goes_through_stopping(store: JobStore) -> None:
    job = store.create(request())
    store.claim_next(1, "h")
    assert store.progress(job.id, "backtest", "Naive") is False
    assert store.request_stop(job.id).status is JobStatus.STOPPING
    assert store.progress(job.id, "backtest", "AutoETS") is True  # the worker learns it here
    assert store.get(job.id).candidate == "AutoETS"
    assert store.mark_stopped(job.id).status is JobStatus.STOPPED
    with pytest.raises(Conflict):
        store.complete(job.id, [], None)


def test_complete_and_fail_are_final(store: JobStore) -> None:
    done, bad = store.create(request()), store.create(request())
    store.claim_next(1, "h")
    store.claim_next(1, "h")
    finished = store.complete(done.id, [{"model": "Naive", "score": 0.5}], None)
    assert finished.status is JobStatus.COMPLETED and finished.leaderboard == [
        {"model": "Naive", "score": 0.5}
    ]
    failed = store.fail(bad.id, "DataError: no rows\n  in sales.csv")
    assert (failed.status, failed.error) == (JobStatus.FAILED, "DataError: no rows in sales.csv")
    with pytest.raises(Conflict):
        store.request_stop(done.id)
    with pytest.raises(Conflict):
        store.fail(done.id, "late")
    assert store.get(done.id).status is JobStatus.COMPLETED


def test_recover_orphans_by_dead_pid_and_by_stale_heartbeat(store: JobStore, database: Database) -> None:
    dead, remote, alive = store.create(request()), store.create(request()), store.create(request())
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    store.claim_next(dead_pid, "this-host")
    store.claim_next(777, "other-host")
    store.claim_next(os.getpid(), "this-host")
    # The other host's worker cannot be checked by pid: only its old heartbeat gives it away.
    assert [j.id for j in store.recover_orphans(host="this-host")] == [dead.id]
    with database.transaction() as session:
        session.execute(
            update(Job).where(Job.id == remote.id).values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
    assert [
        j.id for j in store.recover_orphans(host="this-host", heartbeat_timeout=timedelta(minutes=5))
    ] == [remote.id]
    assert store.get(dead.id).error == f"worker process {dead_pid} died while the job was in progress"
    assert store.get(remote.id).error == "worker process 777 died while the job was in progress"
    assert store.get(alive.id).status is JobStatus.IN_PROGRESS


# ---- real worker processes -------------------------------------------------------------------
@pytest.fixture
def service_env(database_url: str, database: Database, tmp_path: Path) -> dict[str, str]:
    return worker_env(database_url, tmp_path)


@pytest.mark.timeout(240)
def test_worker_process_runs_a_job_to_a_registered_model(
    service_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    store = JobStore(database.sessions)
    job = store.create(demo_request(tmp_path))
    worker = start_worker(service_env, "--once")
    seen: list[JobStatus] = []

    def finished() -> bool:
        status = store.get(job.id).status
        if not seen or seen[-1] is not status:
            seen.append(status)
        return status not in (JobStatus.QUEUED, JobStatus.IN_PROGRESS)

    wait_for(finished, 200, "the job to finish")
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    done = store.get(job.id)
    assert done.status is JobStatus.COMPLETED, done.error
    assert seen[-2:] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert done.stage == "done" and done.worker_pid == worker.pid
    models = {row["model"] for row in done.leaderboard}
    assert {"Naive", "SeasonalNaive", "AutoTheta", "CrostonSBA"} <= models
    assert sum(1 for row in done.leaderboard if row["selected"]) == 1
    registry = Registry(database.sessions, ArtifactStore(service_env["TIDECAST_ARTIFACT_URL"]))
    assert done.model_version_id is not None
    version = registry.get_by_id(done.model_version_id)
    assert (version.group_name, version.version, version.status) == ("demo-sales", 1, ModelStatus.PENDING)
    assert version.source_job_id == job.id
    run = Path(service_env["TIDECAST_ARTIFACT_URL"]) / "jobs" / job.id
    assert (run / "forecasts.csv").read_text().count("\n") == 1 + 3 * 7
    with database.engine.connect() as connection:  # the run's forecast is in the forecast log
        logged = connection.execute(
            text("SELECT source, job_id, model_version_id, steps FROM forecast_log")
        ).all()
    assert sorted(logged) == [("training", job.id, version.id, 7)] * 3


@pytest.mark.timeout(240)
def test_stop_reaches_a_running_worker(
    service_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    store = JobStore(database.sessions)
    job = store.create(demo_request(tmp_path, preset="medium", models=["AutoARIMA", "MSTL", "AutoETS"]))
    worker = start_worker(service_env, "--once")
    wait_for(lambda: store.get(job.id).stage == "backtest", 120, "the backtest to start")
    assert store.request_stop(job.id).status is JobStatus.STOPPING
    wait_for(lambda: store.get(job.id).status is JobStatus.STOPPED, 120, "the worker to stop the job")
    output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    stopped = store.get(job.id)
    assert stopped.model_version_id is None and stopped.error is None


@pytest.mark.timeout(240)
def test_killed_worker_leaves_a_failed_job_after_recovery(
    service_env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    store = JobStore(database.sessions)
    job = store.create(demo_request(tmp_path, preset="medium", models=["AutoARIMA", "MSTL", "AutoETS"]))
    worker = start_worker(service_env)
    wait_for(lambda: store.get(job.id).stage == "backtest", 120, "the backtest to start")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert store.get(job.id).status is JobStatus.IN_PROGRESS  # nobody told the database
    recovered = store.recover_orphans()
    assert [j.id for j in recovered] == [job.id]
    failed = store.get(job.id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == f"worker process {worker.pid} died while the job was in progress"
    assert store.recover_orphans() == []


# ---- the CLI over real HTTP -------------------------------------------------------------------
@pytest.fixture
def jobs_api(database: Database) -> Iterator[str]:
    with served_jobs_api(JobStore(database.sessions)) as url:
        yield url


def test_cli_create_describe_list_stop(jobs_api: str, tmp_path: Path, database: Database) -> None:
    import json

    from typer.testing import CliRunner

    from tidecast.cli.jobs import jobs_app

    runner = CliRunner()
    body = tmp_path / "job.json"
    body.write_text(json.dumps({"name": "nightly", "data": "sales.csv", "horizon": 14}))
    common = ["--url", jobs_api, "--api-key", "secret"]

    created = runner.invoke(jobs_app, ["create", str(body), *common, "--json"])
    assert created.exit_code == 0, created.output
    job_id = json.loads(created.output)["id"]
    assert JobStore(database.sessions).get(job_id).config["horizon"] == 14

    described = runner.invoke(jobs_app, ["describe", job_id, *common])
    assert described.exit_code == 0 and "nightly" in described.output and "Queued" in described.output
    listed = runner.invoke(jobs_app, ["list", *common, "--json"])
    assert [j["id"] for j in json.loads(listed.output)] == [job_id]
    stopped = runner.invoke(jobs_app, ["stop", job_id, *common])
    assert stopped.exit_code == 0 and "Stopped" in stopped.output

    body.write_text(json.dumps({"data": "sales.csv", "horizon": 0}))
    rejected = runner.invoke(jobs_app, ["create", str(body), *common])
    assert rejected.exit_code == 1
    assert "422" in rejected.output and "(field: horizon)" in rejected.output
    no_key = runner.invoke(jobs_app, ["create", str(body), "--url", jobs_api])
    assert no_key.exit_code == 1 and "X-API-Key" in no_key.output
    missing = runner.invoke(jobs_app, ["describe", "0" * 32, *common])
    assert missing.exit_code == 2 and "`tidecast jobs list` shows them" in missing.output
    unreachable = runner.invoke(jobs_app, ["list", "--url", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 1 and "cannot reach" in unreachable.output


def test_when_a_link_out_is_planted_while_a_job_is_queued_then_the_worker_refuses_it(
    store: JobStore, database: Database, tmp_path: Path
) -> None:
    from tidecast.jobs.worker import run_job
    from tidecast.registry.settings import ServiceSettings

    root, outside = tmp_path / "data", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    generate(n_items=2).to_csv(outside / "sales.csv", index=False)
    (root / "sales.csv").write_text("item_id,timestamp,target\n")  # passes the check at submission
    settings = ServiceSettings(home=tmp_path / "home", data_root=root)
    queued = store.create(parse_job_body({"data": "sales.csv", "horizon": 3}, settings, check_exists=True))
    (root / "sales.csv").unlink()
    (root / "sales.csv").symlink_to(outside / "sales.csv")  # planted after the check at submission
    job = store.claim_next(os.getpid(), "h")
    assert job is not None and job.id == queued.id
    registry = Registry(database.sessions, ArtifactStore(str(tmp_path / "artifacts")))
    failed = run_job(job, store, registry, settings)
    assert failed.status is JobStatus.FAILED
    assert failed.error is not None and "outside the data root" in failed.error


@pytest.mark.timeout(10)  # the job's worker hung for ever, its job InProgress without a heartbeat
def test_when_the_dask_scheduler_is_not_one_then_the_job_fails_within_the_connect_timeout(
    store: JobStore, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidecast.jobs.worker import run_job
    from tidecast.registry.settings import ServiceSettings

    monkeypatch.setattr("tidecast.distributed.CONNECT_TIMEOUT", 1.0)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog) and never answers
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    settings = ServiceSettings(home=tmp_path / "home", data_root=tmp_path, dask_scheduler=address)
    store.create(parse_job_body({"data": "sales.csv", "horizon": 3}, settings))
    job = store.claim_next(os.getpid(), "h")
    assert job is not None
    registry = Registry(database.sessions, ArtifactStore(str(tmp_path / "artifacts")))
    started = time.monotonic()
    with silent:
        failed = run_job(job, store, registry, settings)
    assert time.monotonic() - started < 3
    assert failed.status is JobStatus.FAILED
    assert (
        failed.error is not None and f"cannot reach the Dask scheduler at {address} after 1 s" in failed.error
    )
