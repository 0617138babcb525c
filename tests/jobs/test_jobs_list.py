"""`tidecast jobs list` in an 80-column terminal, against a jobs API on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_http import served_jobs_api

from tidecast.jobs.request import JobRequest
from tidecast.jobs.store import JobStore
from tidecast.registry.db import Database


@pytest.fixture
def store(database: Database) -> JobStore:
    return JobStore(database.sessions)


@pytest.fixture
def jobs_api(store: JobStore) -> Iterator[str]:
    with served_jobs_api(store) as url:
        yield url


def jobs_list(url: str, tmp_path: Path) -> list[str]:
    """The lines `tidecast jobs list` prints with COLUMNS=80, as a terminal of 80 shows them."""
    env = {**os.environ, "COLUMNS": "80", "TIDECAST_HOME": str(tmp_path)}
    listed = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", "jobs", "list", "--url", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.splitlines()


def test_when_the_terminal_has_80_columns_then_each_job_id_is_whole_on_one_line(
    store: JobStore, jobs_api: str, tmp_path: Path
) -> None:
    """Every column folded, so each 32-character id was split over three lines and could not
    be copied into `tidecast jobs describe`."""
    named = store.create(JobRequest.model_validate({"name": "demo-sql", "data": "sales.csv", "horizon": 7}))
    unnamed = store.create(JobRequest.model_validate({"data": "sales.csv", "horizon": 14}))
    failed = store.fail(named.id, "the input sales.csv has no column target_value; " * 3)
    lines = jobs_list(jobs_api, tmp_path)
    for job in (failed, unnamed):
        row = next(line for line in lines if job.id in line)
        assert row.split()[:2] == [job.id, job.status.value]
    assert max(len(line) for line in lines) <= 80
    assert "…" not in "".join(lines)
    # A column that does not fit is left out and named (its key in --json), not cut.
    assert lines[0].split() == ["stage,", "error", "with", "--json"]
    assert "no column" not in "".join(lines)
    assert "demo-sql" in next(line for line in lines if failed.id in line)


def test_when_the_terminal_is_wide_then_every_column_shows(
    store: JobStore, jobs_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tidecast.cli import jobs as jobs_cli

    job = store.create(JobRequest.model_validate({"name": "nightly", "data": "sales.csv", "horizon": 7}))
    monkeypatch.setattr(jobs_cli.out, "width", 200)
    with jobs_cli.out.capture() as captured:
        jobs_cli.list_jobs(url=jobs_api)
    header, _, row = [line for line in captured.get().splitlines() if line.strip()][:3]
    assert header.split() == ["id", "status", "created", "(UTC)", "name", "kind", "stage", "error"]
    created = job.created_at.strftime("%Y-%m-%d %H:%M")
    assert row.split() == [job.id, "Queued", *created.split(), "nightly", "automl"]
