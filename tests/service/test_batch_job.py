"""Batch forecasting as a service job: `POST /v1/batch`, the worker, the migration, the CLI.

* The real service (`python -m tidecast.service.server` on loopback, as in test_e2e_http.py)
  trains, approves and deploys the demo model, then forecasts its whole catalogue through
  ``POST /v1/batch``: the job is Completed with every chunk done, the counts in its result are
  exact, and the forecast parquet holds every item once with the values the endpoint answers.
  Bad bodies are 422 problems naming the field, and `tidecast jobs batch --wait` runs a batch
  and resumes it.
* In process: a stop request ends a batch between chunks, and the same batch submitted again
  with the same output resumes from the chunks already done; a batch that forecasts no item
  fails with the reason and keeps its result.
* Migration 0002 upgrades a 0001 database that holds jobs: they become training jobs.
* Where a batch may write (`resolve_output`).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from test_e2e_http import (
    BACKENDS,
    HORIZON,
    Service,
    deployed_service,
    wait_for_job,
)

from conftest import tiny_panel
from tidecast.jobs.batch import parse_batch_body, resolve_output
from tidecast.jobs.store import JobStore, job_to_dict
from tidecast.jobs.worker import run_job
from tidecast.registry.db import MIGRATIONS, Database, make_engine, make_session_factory
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Base
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobKind, JobStatus

pytestmark = pytest.mark.timeout(180)

CHUNK_ROWS = 1000  # the demo catalogue (3 items, 3,285 rows) in 4 chunks


# ---- the real service ----------------------------------------------------------------------
@pytest.fixture(scope="module", params=BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A running service with a data root that trained, approved and deployed endpoint `demo`.

    The `Service` folder is the data root (demo.csv and the server log land there);
    TIDECAST_HOME is a sibling, so default batch outputs are outside the data root.
    """
    root = tmp_path_factory.mktemp("batch-service")
    data, home = root / "data", root / "home"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(data), TIDECAST_LOG_LEVEL="INFO")
    with deployed_service(request.param, data, env, "tc_batch") as service:
        service.facts["home"] = home
        yield service


def submit(service: Service, **body: Any) -> dict[str, Any]:
    created = service.call("POST", "/v1/batch", json={"endpoint": "demo", "input": "demo.csv", **body})
    assert created.status_code == 202, created.text
    job: dict[str, Any] = created.json()
    assert created.headers["location"] == f"/v1/jobs/{job['id']}"
    return job


def test_batch_job_forecasts_every_item_once(service: Service) -> None:
    job = submit(service, name="nightly", chunk_rows=CHUNK_ROWS, workers=1)
    assert (job["kind"], job["status"], job["name"]) == ("batch", "Queued", "nightly")
    assert job["model_version"] == {"group": "demo", "version": 1}
    # relative locations: the input below the data root, the output by default under {home}/batch
    home, data = service.facts["home"], service.home
    assert job["config"]["input"] == str((data / "demo.csv").resolve())
    assert job["config"]["output"] == str((home / "batch" / job["id"]).resolve())

    done = wait_for_job(service, job["id"], {"Completed", "Failed", "Stopped"})
    assert done["status"] == "Completed", done
    assert (done["stage"], done["error"], done["leaderboard"]) == ("done", None, None)
    assert done["progress"] == {"chunks": 4, "done": 4}
    result = done["result"]
    items = sorted(service.facts["data"]["item_id"].unique())
    assert (result["items_in"], result["items_forecast"], result["items_failed"]) == (3, 3, 0)
    assert (result["chunks"], result["chunks_resumed"], result["chunks_failed"]) == (4, 0, [])
    assert result["forecast_rows"] == 3 * HORIZON and result["failures"] == []
    assert result["output"] == job["config"]["output"] and result["timings"]["total_seconds"] > 0

    forecasts = pd.read_parquet(result["forecasts"])
    assert sorted(forecasts["item_id"].unique()) == items
    assert forecasts.groupby("item_id").size().tolist() == [HORIZON] * 3  # each item once
    assert not forecasts.duplicated(["item_id", "timestamp"]).any()
    # the same numbers as the endpoint's forecast of the stored items (same model, same history)
    answer = service.call(
        "POST", "/v1/endpoints/demo/forecast", key=service.forecaster, json={"item_ids": items}
    ).json()
    for item in answer["forecasts"]:
        rows = forecasts[forecasts["item_id"] == item["item_id"]].sort_values("timestamp")
        np.testing.assert_allclose(rows["mean"].to_numpy(), item["mean"], rtol=1e-9)
        np.testing.assert_allclose(rows["p90"].to_numpy(), item["quantiles"]["0.9"], rtol=1e-9)

    # a job like any other: listed, filtered by kind, and under its /v1/batch alias
    listed = service.call("GET", "/v1/jobs", params={"kind": "batch"}).json()["jobs"]
    assert job["id"] in [j["id"] for j in listed] and {j["kind"] for j in listed} == {"batch"}
    training = service.call("GET", "/v1/jobs", params={"kind": "automl"}).json()["jobs"]
    assert [j["id"] for j in training] == [service.facts["job"]["id"]]
    assert (
        service.call("GET", f"/v1/batch/{job['id']}").json()
        == service.call("GET", f"/v1/jobs/{job['id']}").json()
    )
    assert service.call("GET", f"/v1/batch/{service.facts['job']['id']}").status_code == 404
    assert service.call("POST", "/v1/batch", key=service.forecaster, json={}).status_code == 403


BAD_BODIES = [
    # (name, body, field)
    ("both models", {"endpoint": "demo", "model_group": "demo", "input": "demo.csv"}, "model_group"),
    ("no model", {"input": "demo.csv"}, "model_group"),
    ("unknown endpoint", {"endpoint": "nope", "input": "demo.csv"}, "endpoint"),
    ("unknown group", {"model_group": "nope", "input": "demo.csv"}, "model_group"),
    ("unknown version", {"model_group": "demo", "version": 7, "input": "demo.csv"}, "version"),
    ("version with endpoint", {"endpoint": "demo", "version": 1, "input": "demo.csv"}, "version"),
    ("input outside the data root", {"endpoint": "demo", "input": "../../etc/passwd"}, "input"),
    ("absolute input elsewhere", {"endpoint": "demo", "input": "/etc/passwd"}, "input"),
    ("future outside", {"endpoint": "demo", "input": "demo.csv", "future": "s3://b/../../x"}, "future"),
    ("output elsewhere", {"endpoint": "demo", "input": "demo.csv", "output": "/tmp/elsewhere"}, "output"),
    ("output climbs out", {"endpoint": "demo", "input": "demo.csv", "output": "../home"}, "output"),
    ("remote output", {"endpoint": "demo", "input": "demo.csv", "output": "gcs://b/out"}, "output"),
    ("unknown format", {"endpoint": "demo", "input": "demo.csv", "format": "xlsx"}, "format"),
    ("zero chunk rows", {"endpoint": "demo", "input": "demo.csv", "chunk_rows": 0}, "chunk_rows"),
    ("unknown field", {"endpoint": "demo", "input": "demo.csv", "overwrite": True}, "overwrite"),
    ("no input", {"endpoint": "demo"}, "input"),
    ("missing input", {"endpoint": "demo", "input": "nope.csv"}, "input"),
    ("missing future", {"endpoint": "demo", "input": "demo.csv", "future": "nope/*.csv"}, "future"),
    ("not an object", ["demo.csv"], "body"),
]


@pytest.mark.parametrize(("name", "body", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_batch_body_is_a_problem_naming_the_field(
    service: Service, name: str, body: Any, field: str
) -> None:
    before = service.call("GET", "/v1/jobs").json()["jobs"]
    response = service.call("POST", "/v1/batch", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["field"] == field, problem
    assert problem["errors"][0]["field"] == field and problem["detail"].startswith(f"{field}: ")
    assert service.call("GET", "/v1/jobs").json()["jobs"] == before  # nothing was queued


def test_cli_batch_waits_and_resumes(service: Service) -> None:
    from typer.testing import CliRunner

    from tidecast.cli.jobs import jobs_app

    args = ["batch", "--endpoint", "demo", "--input", "demo.csv", "--output", "runs/cli", "--wait"]
    args += ["--chunk-rows", str(CHUNK_ROWS), "--workers", "1", "--poll", "0.2", "--format", "csv"]
    args += ["--url", service.url, "--api-key", service.admin, "--json"]
    runner = CliRunner()
    first = runner.invoke(jobs_app, args)
    assert first.exit_code == 0, first.output
    job = json.loads(first.stdout)
    assert job["status"] == "Completed" and job["result"]["items_forecast"] == 3
    folder = service.home / "runs" / "cli"  # a relative output is below the data root
    assert job["result"]["output"] == str(folder.resolve())
    parts = sorted((folder / "forecasts").glob("part-*.csv"))
    manifest = json.loads(Path(job["result"]["manifest_file"]).read_text())
    assert [f"forecasts/{p.name}" for p in parts] == manifest["parts"] and parts
    forecasts = pd.concat([pd.read_csv(p) for p in parts])
    assert forecasts.groupby("item_id").size().tolist() == [HORIZON] * 3

    again = runner.invoke(jobs_app, args)  # the same batch into the same folder: nothing to redo
    assert again.exit_code == 0, again.output
    resumed = json.loads(again.stdout)["result"]
    assert (resumed["chunks_resumed"], resumed["items_forecast"]) == (4, 3)

    human = runner.invoke(jobs_app, ["describe", job["id"], "--url", service.url, "--api-key", service.admin])
    assert human.exit_code == 0 and "batch" in human.output and "3 of 3 forecast" in human.output

    bad = runner.invoke(
        jobs_app, [*args[:4], "/etc/passwd", "--url", service.url, "--api-key", service.admin]
    )
    assert bad.exit_code == 1 and "(field: input)" in bad.output


# ---- the worker in process -------------------------------------------------------------------
class StopAfterFirstChunk(JobStore):
    """A store whose user asks to stop the job as soon as its first chunk is recorded."""

    def progress(
        self,
        job_id: str,
        stage: str | None,
        candidate: str | None = None,
        chunks: dict[str, int] | None = None,
    ) -> bool:
        if chunks is not None and chunks["done"] == 1:
            self.request_stop(job_id)
        return super().progress(job_id, stage, candidate, chunks)


@pytest.fixture
def batch_settings(tmp_path: Path) -> ServiceSettings:
    data = tmp_path / "data"
    data.mkdir()
    tiny_panel(items=6).to_csv(data / "sales.csv", index=False)  # 168 rows: 5 chunks of 40
    return ServiceSettings(home=tmp_path / "home", data_root=data)


def queue_batch(store: JobStore, settings: ServiceSettings, version_id: int, **body: Any) -> str:
    job_id = uuid.uuid4().hex
    request = parse_batch_body(
        {"model_group": "sales", "input": "sales.csv", "chunk_rows": 40, "workers": 1, **body},
        settings,
        job_id,
    )
    return store.create_batch(request, version_id, job_id).id


def test_stop_ends_a_batch_between_chunks_and_a_resubmit_resumes(
    database: Database, registry: Registry, model_folder: Path, batch_settings: ServiceSettings
) -> None:
    version = registry.register("sales", model_folder)
    stopping = StopAfterFirstChunk(database.sessions)
    first = queue_batch(stopping, batch_settings, version.id, output="run")
    job = stopping.claim_next(1, "h")
    assert job is not None and job.kind is JobKind.BATCH
    stopped = run_job(job, stopping, registry, batch_settings)
    assert stopped.status is JobStatus.STOPPED and stopped.result is None
    assert stopped.progress == {"chunks": 5, "done": 1}
    assert batch_settings.data_root is not None
    folder = batch_settings.data_root / "run"
    assert len(list((folder / "_chunks").glob("*.json"))) == 1  # nothing ran past the stop

    store = JobStore(database.sessions)
    second = queue_batch(store, batch_settings, version.id, output=str(folder))
    assert second != first
    job = store.claim_next(1, "h")
    assert job is not None and job.id == second
    done = run_job(job, store, registry, batch_settings)
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.progress == {"chunks": 5, "done": 5}
    assert done.result is not None
    assert (done.result["chunks_resumed"], done.result["items_in"], done.result["items_forecast"]) == (
        1,
        6,
        6,
    )
    forecasts = pd.read_parquet(folder / "forecasts")
    assert forecasts.groupby("item_id").size().to_dict() == {f"item_{i}": 3 for i in range(6)}
    assert job_to_dict(store.get(second))["kind"] == "batch"
    with database.engine.connect() as connection:  # the batch's forecasts are in the forecast log
        logged = connection.execute(
            text("SELECT item_id, steps FROM forecast_log WHERE source = 'batch' AND job_id = :job"),
            {"job": second},
        ).all()
    assert sorted(logged) == [(f"item_{i}", 3) for i in range(6)]


def test_a_batch_that_forecasts_nothing_fails_with_the_reason(
    database: Database, registry: Registry, model_folder: Path, batch_settings: ServiceSettings
) -> None:
    version = registry.register("sales", model_folder)
    data = batch_settings.data_root
    assert data is not None
    tiny_panel(items=2).assign(target=np.nan).to_csv(data / "empty.csv", index=False)
    store = JobStore(database.sessions)
    queue_batch(store, batch_settings, version.id, input="empty.csv")
    job = store.claim_next(1, "h")
    assert job is not None
    failed = run_job(job, store, registry, batch_settings)
    assert failed.status is JobStatus.FAILED
    assert failed.error is not None and failed.error.startswith("none of the 2 items could be forecast")
    assert "has no 'target' values" in failed.error
    assert failed.result is not None and (failed.result["items_in"], failed.result["items_failed"]) == (2, 2)


def test_a_missing_input_fails_the_job_not_the_worker(
    database: Database, registry: Registry, model_folder: Path, batch_settings: ServiceSettings
) -> None:
    version = registry.register("sales", model_folder)
    store = JobStore(database.sessions)
    assert batch_settings.data_root is not None
    doomed = Path(batch_settings.data_root) / "missing.csv"
    doomed.write_text((Path(batch_settings.data_root) / "sales.csv").read_text())
    queue_batch(store, batch_settings, version.id, input="missing.csv")  # there at submission
    doomed.unlink()  # gone when the worker starts
    job = store.claim_next(1, "h")
    assert job is not None
    failed = run_job(job, store, registry, batch_settings)
    assert failed.status is JobStatus.FAILED and failed.error and "missing.csv" in failed.error


# ---- the migration ---------------------------------------------------------------------------
def alembic_upgrade(engine: Any, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_migration_0002_keeps_old_jobs_as_training_jobs(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        alembic_upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jobs (id, name, status, config, leaderboard, stop_requested, created_at) "
                    "VALUES ('old', 'nightly', 'Completed', '{\"horizon\": 7}', '[{\"model\": \"Naive\"}]', "
                    "false, CURRENT_TIMESTAMP)"
                )
            )
        alembic_upgrade(engine, "head")  # 0002 and any later revision keep the old rows
        database = Database(engine, make_session_factory(engine))
        old = JobStore(database.sessions).get("old")
        assert (old.kind, old.status, old.progress, old.result) == (
            JobKind.AUTOML,
            JobStatus.COMPLETED,
            None,
            None,
        )
        assert (old.config, old.leaderboard) == ({"horizon": 7}, [{"model": "Naive"}])
        assert job_to_dict(old)["kind"] == "automl"
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO jobs (id, name, kind, status, config, stop_requested, created_at) "
                    "VALUES ('x', 'n', 'report', 'Queued', '{}', false, CURRENT_TIMESTAMP)"
                )
            )
    finally:
        engine.dispose()


# ---- where a batch may write -----------------------------------------------------------------
def test_outputs_stay_inside_the_batch_folder_or_the_data_root(tmp_path: Path) -> None:
    batch, data = tmp_path / "home" / "batch", tmp_path / "data"
    (tmp_path / "data" / "bucket").mkdir(parents=True)
    (data / "escape").symlink_to(tmp_path)
    assert resolve_output(None, batch, None, "abc") == str(batch / "abc")
    assert resolve_output("nightly", batch, None, "abc") == str(batch / "nightly")
    assert resolve_output("nightly", batch, data, "abc") == str(data / "nightly")
    assert resolve_output(str(batch / "x"), batch, data, "abc") == str(batch / "x")
    assert resolve_output(f"file://{data}/out", batch, data, "abc") == str(data / "out")
    assert resolve_output("s3://bucket/out/", batch, data, "abc") == str(data / "bucket" / "out")
    refused = [
        ("/etc", data),
        ("../elsewhere", None),
        ("../elsewhere", data),
        (str(batch), None),  # the folder itself, not one inside it
        (".", data),
        ("escape/out", data),  # a symbolic link out of the data root
        ("s3://bucket/out", None),  # nothing to map s3:// onto
        ("memory://out", data),
    ]
    for location, root in refused:
        with pytest.raises(ValueError):
            resolve_output(location, batch, root, "abc")


def test_a_batch_job_runs_on_the_dask_scheduler_of_the_settings(
    database: Database, registry: Registry, model_folder: Path, batch_settings: ServiceSettings
) -> None:
    from distributed import LocalCluster

    version = registry.register("sales", model_folder)
    store = JobStore(database.sessions)
    queue_batch(store, batch_settings, version.id, output="on-dask")
    job = store.claim_next(1, "h")
    assert job is not None
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        settings = batch_settings.model_copy(update={"dask_scheduler": cluster.scheduler_address})
        done = run_job(job, store, registry, settings)
    assert done.status is JobStatus.COMPLETED, done.error
    assert done.result is not None and done.result["items_forecast"] == 6
    manifest = json.loads((Path(done.result["manifest_file"])).read_text())
    assert manifest["executor"] == "dask" and manifest["workers"] == 1


def test_a_batch_bodys_date_format_reaches_the_batch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from tidecast.batch import runner
    from tidecast.jobs.batch import BatchRequest, run_batch_job

    seen: dict[str, Any] = {}

    def fake_run_batch(model: Any, source: Any, output: Any, **options: Any) -> Any:
        seen.update(options)
        raise RuntimeError("stop here")

    monkeypatch.setattr(runner, "run_batch", fake_run_batch)
    request = BatchRequest(model_group="sales", input="in.csv", output=str(tmp_path), date_format="%d/%m/%Y")
    with pytest.raises(RuntimeError, match="stop here"):
        run_batch_job(request, tmp_path, SimpleNamespace())  # type: ignore[arg-type]
    assert seen["date_format"] == "%d/%m/%Y"
