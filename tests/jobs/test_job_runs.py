"""A job's run folder is found where the worker left it: on a local artifact store in place, on
a remote one (here fsspec's in-memory file system) fetched into the cache."""

from __future__ import annotations

import uuid
from pathlib import Path

from tidecast.jobs.runs import job_run_folder
from tidecast.jobs.worker import publish_run, run_folder
from tidecast.registry.settings import ServiceSettings


def write_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.json").write_text('{"selected": "Naive"}')
    (folder / "leaderboard.csv").write_text("model,score\nNaive,0.1\n")
    return folder


def test_when_the_store_is_local_then_the_run_folder_is_read_in_place(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path)
    job = uuid.uuid4().hex
    folder = write_run(run_folder(settings, job))
    assert job_run_folder(settings, job) == folder
    assert job_run_folder(settings, uuid.uuid4().hex) is None  # no such run
    assert job_run_folder(settings, "../../etc") is None  # not a job id: never a path


def test_when_the_store_is_remote_then_the_published_run_is_fetched_into_the_cache(tmp_path: Path) -> None:
    settings = ServiceSettings(home=tmp_path, artifact_url=f"memory://runs-{uuid.uuid4().hex}")
    job = uuid.uuid4().hex
    publish_run(settings, write_run(tmp_path / "worker" / job), job)
    found = job_run_folder(settings, job)
    assert found is not None and found.is_relative_to(settings.cache_dir)
    assert found != run_folder(settings, job)  # not the worker's staging copy: fetched from the store
    assert (found / "report.json").read_text() == '{"selected": "Naive"}'
    assert (found / "leaderboard.csv").read_text() == "model,score\nNaive,0.1\n"
