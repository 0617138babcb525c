"""A training job with a hierarchy: the body is checked at submission, the worker registers the
items' model and writes every level's coherent forecast in the run's hierarchy/ folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from tidecast.data.demo import generate
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError
from tidecast.jobs.store import JobStore
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.statuses import JobStatus


def test_when_the_hierarchy_is_bad_then_the_body_is_refused_naming_it():
    for bad in (
        {"levels": "a/b*c"},
        {"levels": "category", "method": "magic"},
        {"levels": "region*category", "method": "top_down"},  # crossed: top-down cannot apply
    ):
        with pytest.raises(JobConfigError) as caught:
            parse_job_body({"data": "sales.csv", "horizon": 3, "hierarchy": bad})
        assert caught.value.field.startswith("hierarchy")


@pytest.mark.timeout(300)
def test_when_a_job_has_a_hierarchy_then_its_levels_are_written_and_add_up(
    database: Database, tmp_path: Path
):
    from tidecast.jobs.worker import run_folder, run_job
    from tidecast.registry.settings import ServiceSettings

    root = tmp_path / "data"
    root.mkdir()
    data = generate(n_items=6)
    data[data["timestamp"] >= "2023-11-01"].to_csv(root / "sales.csv", index=False)
    settings = ServiceSettings(home=tmp_path / "home", data_root=root)
    body = {
        "data": "sales.csv",
        "horizon": 5,
        "columns": {"target": "target_value"},
        "models": ["SeasonalNaive", "AutoTheta"],
        "backtest_windows": 2,
        "hierarchy": {"levels": "region"},
        "model_group": "demo-h",
    }
    store = JobStore(database.sessions)
    store.create(parse_job_body(body, settings, check_exists=True))
    job = store.claim_next(os.getpid(), "h")
    assert job is not None
    registry = Registry(database.sessions, ArtifactStore(str(tmp_path / "artifacts")))
    done = run_job(job, store, registry, settings)
    assert done.status is JobStatus.COMPLETED, done.error
    run = run_folder(settings, job.id)
    forecasts = pd.read_csv(run / "hierarchy" / "forecasts.csv")
    assert set(forecasts["level"]) == {"total", "region", "item"}
    items = forecasts[forecasts["level"] == "item"].groupby("timestamp")["mean"].sum()
    total = forecasts[forecasts["level"] == "total"].set_index("timestamp")["mean"]
    assert (total - items).abs().max() < 1e-6
    report = json.loads((run / "hierarchy" / "reconciliation.json").read_text())
    assert report["levels"] == ["total", "region", "item"]
    assert done.model_version_id is not None  # the items' model, registered as any job's
