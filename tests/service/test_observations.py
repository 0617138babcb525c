"""``POST /v1/endpoints/{name}/observations``: forecasts start from the appended history
without a refit, other items keep their cached forecasts, the values reach monitoring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

WEEK = [f"2024-01-{d}" for d in range(29, 32)] + [f"2024-02-0{d}" for d in range(1, 5)]


@pytest.fixture
def client(tmp_path: Path, database_url: str, database: Database) -> Iterator[TestClient]:
    settings = ServiceSettings(home=tmp_path, database_url=database_url, forecast_log_flush_seconds=60)
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient, registry: Registry, model_folder: Path) -> dict[str, str]:
    headers = {"X-API-Key": client.app.state.service.keys.create("ops", "admin")}  # type: ignore[attr-defined]
    registry.register("sales", model_folder)  # SeasonalNaive (a week), horizon 3, history to 2024-01-28
    registry.approve("sales", 1)
    assert (
        client.post("/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=headers).status_code
        == 201
    )
    return headers


def forecasts(client: TestClient, admin: dict[str, str]) -> dict[str, dict]:
    answer = client.post(
        "/v1/endpoints/sales/forecast", json={"item_ids": ["item_0", "item_1"]}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    return {f["item_id"]: f for f in answer.json()["forecasts"]}


def test_when_a_week_is_observed_then_the_next_forecast_starts_after_it_without_a_refit(
    client: TestClient, admin: dict[str, str]
) -> None:
    before = forecasts(client, admin)
    assert before["item_0"]["timestamps"][0].startswith("2024-01-29")
    rows = [{"item_id": "item_0", "timestamp": day, "target": 100.0 + k} for k, day in enumerate(WEEK)]
    answer = client.post("/v1/endpoints/sales/observations", json={"rows": rows}, headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rows"], body["items"], body["history_rows"]) == (7, 1, 2 * 28 + 7)
    assert body["actuals"]["inserted"] == 7

    after = forecasts(client, admin)
    assert after["item_0"]["timestamps"][0].startswith("2024-02-05")
    assert after["item_0"]["mean"] == [100.0, 101.0, 102.0]  # the seasonal naive of the new week
    assert after["item_1"] == before["item_1"]  # untouched, still from the cache

    client.app.state.service.forecast_log.flush()  # type: ignore[attr-defined]
    report = client.get("/v1/monitoring/sales", headers=admin).json()
    scored = {r["item_id"]: r["points"] for r in report["worst_items"]}
    assert scored == {"item_0": 3}  # the forecast from 2024-01-28 met the observed week at once
    assert report["forecasts"] == 3  # both items from 2024-01-28, item_0 again from 2024-02-04


def test_when_observations_go_back_in_time_then_the_answer_names_the_row(
    client: TestClient, admin: dict[str, str]
) -> None:
    rows = [{"item_id": "item_0", "timestamp": "2024-01-28", "target": 1.0}]
    answer = client.post("/v1/endpoints/sales/observations", json=rows, headers=admin)
    assert answer.status_code == 422 and answer.json()["field"] == "rows[0].timestamp", answer.text
    missing = client.post("/v1/endpoints/nowhere/observations", json=rows, headers=admin)
    assert missing.status_code == 404
