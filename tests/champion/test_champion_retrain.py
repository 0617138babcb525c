"""An alert rule with ``action = "retrain"``: when it fires it queues a training job on the
latest data, the job's version becomes the endpoint's challenger, shadows the champion on the
stream and is promoted by the rule's challenger policy; a second firing while it is active
queues nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from champion_stream import DAYS, HORIZON, ITEMS, panel, run_stream, train
from tidecast.jobs.worker import run_worker
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings

ROUNDS = 3


def rules(tmp_path: Path, data: Path) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(
        f"""
[[rules]]
name = "stream-retrain"
kind = "accuracy"
endpoint = "stream"
window = "30d"
threshold = 0.0
action = "retrain"
retrain = {{ data = "{data}", horizon = {HORIZON}, frequency = "D", models = ["SeasonalNaive"], backtest_windows = 1 }}

[rules.challenger]
mode = "auto"
margin = 0.05
min_forecasts = {ITEMS * ROUNDS}
"""
    )
    return path


@pytest.fixture
def latest(tmp_path: Path) -> Path:
    """The latest data: the training weeks and the first round's observed days."""
    path = tmp_path / "latest.csv"
    panel(DAYS + HORIZON).to_csv(path, index=False)
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str, latest: Path) -> ServiceSettings:
    return ServiceSettings(
        home=tmp_path,
        database_url=database_url,
        data_root=tmp_path,  # the retraining job reads latest.csv from here
        forecast_log_flush_seconds=60,
        alert_rules=rules(tmp_path, latest),
        alert_interval_seconds=0,
    )


def test_when_a_retrain_rule_fires_then_the_retrained_version_challenges_and_wins(
    client: TestClient, keys: dict[str, str], registry: Registry, settings: ServiceSettings, tmp_path: Path
) -> None:
    headers = {"X-API-Key": keys["admin"]}

    def post(path: str, body: Any = None) -> Any:
        return client.post(path, json=body, headers=headers)

    registry.register("stream", train(tmp_path / "average", "Average"))
    registry.approve("stream", 1)
    assert post("/v1/endpoints", {"name": "stream", "group": "stream"}).status_code == 201
    assert client.get("/v1/endpoints/stream/challenger", headers=headers).status_code == 404
    run_stream(post, "stream", 1)  # actuals of the first forecast: the accuracy rule has data
    client.app.state.service.forecast_log.flush()  # type: ignore[attr-defined]

    events = post("/v1/alerts/evaluate").json()["events"]
    assert [e["event"] for e in events] == ["firing"]
    action = events[0]["action"]
    assert action["name"] == "retrain" and "error" not in action, action
    queued = client.get("/v1/endpoints/stream/challenger", headers=headers).json()
    assert (queued["state"], queued["job_id"], queued["rule"]) == (
        "training",
        action["retrain"],
        "stream-retrain",
    )
    job = client.get(f"/v1/jobs/{queued['job_id']}", headers=headers).json()
    assert job["config"]["model_group"] == "stream"  # the champion's group, by default

    assert run_worker(settings, once=True) == 1  # the worker trains on the latest data
    shadowing = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert shadowing["state"] == "shadowing", shadowing
    assert shadowing["challenger"]["version"] == 2 and shadowing["policy"]["mode"] == "auto"
    service = client.app.state.service  # type: ignore[attr-defined]
    again = service.challengers.retrain(service.alerts.config.rules[0], "stream")
    assert again["retrain"] == "skipped"  # one challenger at a time: nothing more is queued

    # both now forecast from day DAYS + HORIZON - 1: the champion through the observations,
    # the challenger from its training data
    run_stream(post, "stream", ROUNDS, first_day=DAYS + HORIZON)
    out = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert out["state"] == "promoted", out
    assert out["evidence"]["paired_forecasts"] == ITEMS * ROUNDS
    assert client.get("/v1/endpoints/stream", headers=headers).json()["version"] == 2
