"""A training job's model version and its Completed commit together or not at all
(`tidecast.jobs.registration`), on SQLite and PostgreSQL, under real faults: the worker process
killed with both writes made and neither committed, an exception between them, and the job
failed by recovery while its worker copied the model.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from worker_processes import demo_request, start_worker, worker_env, write_demo_data

import tidecast.jobs.worker as worker
from tidecast.jobs.store import JobStore
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import Database
from tidecast.registry.orphans import ORPHAN_GRACE_SECONDS, sweep_orphan_folders
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ModelGroup, ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobStatus

# A worker that dies the instant the job's UPDATE is written inside the registration's
# transaction: the version's INSERT and the job's Completed are both sent, neither committed.
KILLED_BEFORE_COMMIT = """
import os, signal, sys
from tidecast.jobs import store, worker

complete = store.JobStore.complete

def complete_then_die(self, *args, **kwargs):
    job = complete(self, *args, **kwargs)
    if kwargs.get("session") is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return job

store.JobStore.complete = complete_then_die
sys.exit(worker.main(["--once"]))
"""


def versions(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ModelVersion)) or 0)


def groups(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ModelGroup)) or 0)


@pytest.mark.timeout(240)
def test_when_the_worker_is_killed_between_registering_and_completing_then_no_version_outlives_its_job(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    store = JobStore(database.sessions)
    job = store.create(demo_request(tmp_path, models=["Naive", "SeasonalNaive"]))
    process = start_worker(worker_env(database_url, tmp_path), main=("-c", KILLED_BEFORE_COMMIT))
    output, _ = process.communicate(timeout=200)
    assert process.returncode == -signal.SIGKILL, output
    assert store.get(job.id).stage == "register"  # it died there, not before
    assert store.get(job.id).status is JobStatus.IN_PROGRESS  # the Completed died with it
    assert versions(database) == 0 and groups(database) == 0  # and so did the version

    [recovered] = store.recover_orphans()
    assert recovered.id == job.id and recovered.status is JobStatus.FAILED
    assert recovered.model_version_id is None
    assert versions(database) == 0


@pytest.mark.timeout(240)
def test_when_a_killed_worker_left_its_model_folder_unregistered_then_the_next_worker_sweeps_it(
    database_url: str, database: Database, tmp_path: Path, model_folder: Path
) -> None:
    """The copy outlived the kill: a folder no row references. A worker starting removes it
    once nothing under it was written for the grace period, and leaves a registered one."""
    store = JobStore(database.sessions)
    store.create(demo_request(tmp_path, models=["Naive"]))
    env = worker_env(database_url, tmp_path)
    process = start_worker(env, main=("-c", KILLED_BEFORE_COMMIT))
    output, _ = process.communicate(timeout=200)
    assert process.returncode == -signal.SIGKILL, output
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    [orphan] = [p.parent for p in (tmp_path / "artifacts" / "models").rglob("manifest.json")]
    kept = Registry(database.sessions, artifacts).register("kept", model_folder)
    assert sweep_orphan_folders(database.sessions, artifacts) == []  # written moments ago
    hours_ago = time.time() - 2 * ORPHAN_GRACE_SECONDS
    for path in (tmp_path / "artifacts" / "models").rglob("*"):
        os.utime(path, (hours_ago, hours_ago))
    store.recover_orphans()
    started = start_worker(env, "--once")
    output, _ = started.communicate(timeout=120)
    assert started.returncode == 0, output
    assert not orphan.exists()
    assert artifacts.exists(kept.artifact_uri) and versions(database) == 1


@pytest.fixture
def claimed(database: Database, tmp_path: Path) -> SimpleNamespace:
    """A training job claimed by this process, to run in it with `trained` (the faults under
    test come after training)."""
    write_demo_data(tmp_path)
    settings = ServiceSettings(home=tmp_path / "home", data_root=tmp_path, forecast_log=False)
    store = JobStore(database.sessions)
    artifacts = ArtifactStore(str(tmp_path / "artifacts"))
    store.create(demo_request(tmp_path))
    job = store.claim_next(os.getpid(), socket.gethostname())
    assert job is not None
    return SimpleNamespace(
        job=job, store=store, settings=settings, registry=Registry(database.sessions, artifacts)
    )


def trained(monkeypatch: pytest.MonkeyPatch, model_folder: Path) -> None:
    """Skip the training: it hands the registration conftest's saved model folder."""
    leaderboard = pd.DataFrame([{"model": "SeasonalNaive", "score": 0.5, "selected": True}])
    fitted = SimpleNamespace(leaderboard=lambda: leaderboard)
    monkeypatch.setattr(worker, "_train", lambda *args: (fitted, pd.DataFrame(), model_folder))


def stored_models(registry: Registry) -> list[Path]:
    root = Path(registry.artifacts.root) / "models"
    return list(root.rglob("manifest.json"))


def test_when_completing_fails_after_the_version_is_written_then_neither_stays(
    claimed: SimpleNamespace, database: Database, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained(monkeypatch, model_folder)
    complete = JobStore.complete

    def fails_inside(self: JobStore, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("session") is not None:
            assert versions_in(kwargs["session"]) == 1  # the version is written, not committed
            raise OSError("the database connection was reset")
        return complete(self, *args, **kwargs)

    monkeypatch.setattr(JobStore, "complete", fails_inside)
    ended = worker.run_job(claimed.job, claimed.store, claimed.registry, claimed.settings)
    assert ended.status is JobStatus.FAILED and ended.model_version_id is None
    assert ended.error == "OSError: the database connection was reset"
    assert versions(database) == 0 and groups(database) == 0
    assert stored_models(claimed.registry) == []  # the copied folder is deleted too


def versions_in(session: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(ModelVersion)) or 0)


def test_when_recovery_fails_the_job_during_the_copy_then_no_version_and_the_worker_goes_on(
    claimed: SimpleNamespace, database: Database, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained(monkeypatch, model_folder)
    put_model = ArtifactStore.put_model
    recovery = "worker process 1 died while the job was in progress"

    def recovered_meanwhile(self: ArtifactStore, *args: Any, **kwargs: Any) -> Any:
        JobStore(database.sessions).fail(claimed.job.id, recovery)  # another process's recovery
        return put_model(self, *args, **kwargs)

    monkeypatch.setattr(ArtifactStore, "put_model", recovered_meanwhile)
    ended = worker.run_job(claimed.job, claimed.store, claimed.registry, claimed.settings)
    assert ended.status is JobStatus.FAILED and ended.error == recovery  # its end stays
    assert versions(database) == 0 and stored_models(claimed.registry) == []


def test_when_nothing_fails_then_the_job_completes_with_the_version_it_registered(
    claimed: SimpleNamespace, database: Database, model_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained(monkeypatch, model_folder)
    ended = worker.run_job(claimed.job, claimed.store, claimed.registry, claimed.settings)
    assert ended.status is JobStatus.COMPLETED and ended.stage == "done"
    assert ended.leaderboard == [{"model": "SeasonalNaive", "score": 0.5, "selected": True}]
    version = claimed.registry.get_by_id(ended.model_version_id)
    assert (version.group_name, version.version, version.source_job_id) == ("demo-sales", 1, ended.id)
    assert len(stored_models(claimed.registry)) == 1
