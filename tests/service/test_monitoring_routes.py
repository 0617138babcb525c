"""``/v1/actuals``, ``/v1/monitoring`` and ``/v1/endpoints/{name}/observations`` in process:
what an endpoint serves is logged, actuals load idempotently, the realised accuracy equals
`tidecast.metrics.evaluate` on the same forecasts and actuals (a second path: frames joined by
pandas, not the forecast log), and observed history moves the forecasts on without a refit."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tidecast.automl.forecaster import AutoForecaster
from tidecast.metrics import evaluate
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app

ACTUAL_DAYS = ["2024-01-29", "2024-01-30", "2024-01-31"]
WEEK = [*ACTUAL_DAYS, *(f"2024-02-0{d}" for d in range(1, 5))]


@pytest.fixture
def client(tmp_path: Path, database_url: str, database: Database) -> Iterator[TestClient]:
    settings = ServiceSettings(home=tmp_path, database_url=database_url, forecast_log_flush_seconds=60)
    with TestClient(create_app(settings, database=database)) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return {"X-API-Key": client.app.state.service.keys.create("ops", "admin")}  # type: ignore[attr-defined]


@pytest.fixture
def endpoint(client: TestClient, admin: dict[str, str], registry: Registry, model_folder: Path) -> str:
    registry.register("sales", model_folder)  # SeasonalNaive (a week), horizon 3, history to 2024-01-28
    registry.approve("sales", 1)
    assert (
        client.post("/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=admin).status_code
        == 201
    )
    return "sales"


def actual_rows(item: str, values: list[float]) -> list[dict[str, object]]:
    return [{"item_id": item, "timestamp": t, "value": v} for t, v in zip(ACTUAL_DAYS, values, strict=True)]


def test_when_actuals_arrive_then_monitoring_scores_the_served_forecasts_like_evaluate(
    client: TestClient, admin: dict[str, str], endpoint: str, model_folder: Path
) -> None:
    forecast = client.post(
        f"/v1/endpoints/{endpoint}/forecast", json={"item_ids": ["item_0", "item_1"]}, headers=admin
    )
    assert forecast.status_code == 200, forecast.text
    client.app.state.service.forecast_log.flush()  # type: ignore[attr-defined]

    first = client.post("/v1/actuals", json=actual_rows("item_0", [12.0, 15.0, 11.0]), headers=admin)
    assert first.json() | {"seconds": 0} == {
        "rows": 3,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "seconds": 0,
        "unforecast": 0,  # item_0 was served: monitoring will read these
        "unforecast_examples": [],
        "notes": [],
    }
    upload = pd.DataFrame(actual_rows("item_1", [14.0, 18.0, 19.0])).to_csv(index=False)
    second = client.post("/v1/actuals", content=upload, headers={**admin, "Content-Type": "text/csv"})
    assert second.json()["inserted"] == 3
    # An id no forecast names is kept and said: a typo would otherwise never show in monitoring.
    stray = client.post("/v1/actuals", json=actual_rows("item_0 ", [1.0, 1.0, 1.0]), headers=admin)
    assert stray.status_code == 200, stray.text
    assert (stray.json()["unforecast"], stray.json()["unforecast_examples"]) == (1, ["item_0 "])
    assert stray.json()["notes"][0].startswith("1 item has no forecast logged (e.g. 'item_0 ')")

    report = client.get(f"/v1/monitoring/{endpoint}", params={"period": "D", "items": 0}, headers=admin)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["forecasts"], body["points"], body["items_scored"]) == (2, 6, 2)

    model = AutoForecaster.load(model_folder)
    predicted = model.predict_canonical(model.history_)
    actual = pd.DataFrame(
        actual_rows("item_0", [12.0, 15.0, 11.0]) + actual_rows("item_1", [14.0, 18.0, 19.0])
    )
    actual = actual.rename(columns={"value": "target"}).assign(
        timestamp=lambda f: pd.to_datetime(f["timestamp"])
    )
    expected = evaluate(actual, predicted, model.history_, model.quantiles_, model.season_length_)
    overall = body["overall"]
    for name in ("wql", "wape", "mape", "mase", "bias", "coverage"):
        assert overall[name] == pytest.approx(expected[name], rel=1e-12), name
    (version,) = body["versions"]
    assert version["backtest"]["metric"] == "wql" and version["backtest"]["version"] == 1
    assert version["realised_over_backtest"] == pytest.approx(expected["wql"] / version["backtest"]["score"])
    assert [r["step"] for r in body["by_step"]] == [1, 2, 3]
    assert body["drift"]["items_compared"] == 2


def test_when_the_same_actuals_come_twice_then_they_count_once_and_a_changed_value_is_logged(
    client: TestClient, admin: dict[str, str]
) -> None:
    rows = actual_rows("item_0", [12.0, 15.0, 11.0])
    assert client.post("/v1/actuals", json={"rows": rows}, headers=admin).json()["inserted"] == 3
    again = client.post("/v1/actuals", json={"rows": rows}, headers=admin).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    rows[1]["value"] = 16.0
    parquet = io.BytesIO()
    pd.DataFrame(rows).to_parquet(parquet)
    changed = client.post(
        "/v1/actuals",
        content=parquet.getvalue(),
        headers={**admin, "Content-Type": "application/vnd.apache.parquet"},
    ).json()
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    (change,) = client.get("/v1/actuals/changes", headers=admin).json()["changes"]
    assert (change["item_id"], change["timestamp"], change["old_value"], change["new_value"]) == (
        "item_0",
        "2024-01-30T00:00:00",
        15.0,
        16.0,
    )


def test_when_an_items_actuals_are_asked_then_only_its_rows_since_the_time_come_back_in_order(
    client: TestClient, admin: dict[str, str]
) -> None:
    rows = actual_rows("item_0", [12.0, 15.0, 11.0]) + actual_rows("item_1", [1.0, 2.0, 3.0])
    assert client.post("/v1/actuals", json=list(reversed(rows)), headers=admin).json()["inserted"] == 6
    every = client.get("/v1/actuals", params={"item_id": "item_0"}, headers=admin).json()["actuals"]
    assert [(a["item_id"], a["value"]) for a in every] == [
        ("item_0", 12.0),
        ("item_0", 15.0),
        ("item_0", 11.0),
    ]
    since = client.get(
        "/v1/actuals", params={"item_id": "item_1", "since": "2024-01-30T00:00:00"}, headers=admin
    ).json()["actuals"]
    assert [(a["timestamp"], a["value"]) for a in since] == [
        ("2024-01-30T00:00:00", 2.0),
        ("2024-01-31T00:00:00", 3.0),
    ]
    assert client.get("/v1/actuals", params={"item_id": "nobody"}, headers=admin).json() == {"actuals": []}
    assert client.get("/v1/actuals", headers=admin).status_code == 422  # the item is required
    assert (
        client.get("/v1/actuals", params={"item_id": "item_0", "since": "soon"}, headers=admin).status_code
        == 422
    )
    assert client.get("/v1/actuals", params={"item_id": "item_0"}).status_code == 401


def test_when_actuals_are_wrong_then_the_answer_is_a_named_problem(
    client: TestClient, admin: dict[str, str]
) -> None:
    bad_value = client.post(
        "/v1/actuals", json=[{"item_id": "a", "timestamp": "2024-01-01", "value": "x"}], headers=admin
    )
    assert bad_value.status_code == 422 and bad_value.json()["field"] == "rows[0].value"
    bad_time = client.post(
        "/v1/actuals", json=[{"item_id": "a", "timestamp": "soon", "value": 1}], headers=admin
    )
    assert bad_time.status_code == 422 and "timestamp" in bad_time.json()["detail"]
    bad_format = client.post(
        "/v1/actuals",
        json={"rows": [{"item_id": "a", "timestamp": "2024-01-01", "value": 1}], "date_format": "%"},
        headers=admin,
    )
    assert bad_format.status_code == 422 and "date_format" in bad_format.json()["detail"]
    wrong_type = client.post("/v1/actuals", content=b"a b c", headers={**admin, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    assert client.post("/v1/actuals", json=[]).status_code == 401
    assert client.get("/v1/monitoring/nowhere", headers=admin).status_code == 404


STORE_NAMES = {"item_col": "Store,Dept", "timestamp_col": "Date", "value_col": "Sales"}


def post_csv(client: TestClient, admin: dict[str, str], upload: str, **params: str) -> httpx.Response:
    """`upload` (CSV text) posted to /v1/actuals as a file is, with `params` in the query."""
    return client.post(
        "/v1/actuals", content=upload, params=params, headers={**admin, "Content-Type": "text/csv"}
    )


def test_when_an_upload_keeps_the_training_files_names_then_the_query_names_its_columns(
    client: TestClient, admin: dict[str, str]
) -> None:
    upload = "Store,Dept,Date,Sales\n01,7,2024-01-29,12\n01,7,2024-01-30,15\n1,7,2024-01-29,3\n"
    loaded = post_csv(client, admin, upload, **STORE_NAMES)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["inserted"] == 3
    rows = client.get("/v1/actuals", params={"item_id": "01|7"}, headers=admin).json()["actuals"]
    assert [r["value"] for r in rows] == [12.0, 15.0]  # "01|7", apart from "1|7"
    unnamed = post_csv(client, admin, upload)
    assert unnamed.status_code == 422 and "item_id" in unnamed.json()["detail"], unnamed.text


def test_when_json_rows_keep_the_training_files_names_then_the_query_names_their_columns(
    client: TestClient, admin: dict[str, str]
) -> None:
    names = {"item_col": "Store,Dept", "timestamp_col": "Date", "value_col": "Sales"}
    rows = [
        {"Store": "02", "Dept": 7, "Date": "2024-02-05", "Sales": 12.5},
        {"Store": "2", "Dept": 7.0, "Date": "2024-02-05", "Sales": 3},
    ]
    loaded = client.post("/v1/actuals", json={"rows": rows}, params=names, headers=admin)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["inserted"] == 2
    for item, value in (("02|7", 12.5), ("2|7", 3.0)):  # 7.0 keyed as 7, "02" apart from "2"
        got = client.get("/v1/actuals", params={"item_id": item}, headers=admin).json()["actuals"]
        assert [r["value"] for r in got] == [value]
    lacking = client.post(
        "/v1/actuals", json=[{"Store": "2", "Date": "2024-02-06", "Sales": 1}], params=names, headers=admin
    )
    assert lacking.status_code == 422 and "Store,Dept (lacking Dept)" in lacking.json()["detail"], (
        lacking.text
    )


def test_when_actuals_in_the_training_files_names_are_wrong_then_the_problem_names_their_columns(
    client: TestClient, admin: dict[str, str]
) -> None:
    """Date and Sales, as the caller wrote them, not the canonical timestamp and value."""
    upload = "Store,Dept,Date,Sales\n1,2,2024-01-05,100\n1,2,soon,120\n"
    bad_date = post_csv(client, admin, upload, **STORE_NAMES)
    assert bad_date.status_code == 422 and bad_date.json()["detail"].startswith("Date: "), bad_date.text
    rows = [{"Store": "1", "Dept": 2, "Date": "2024-01-05", "Sales": None}]
    bad_value = client.post("/v1/actuals", json=rows, params=STORE_NAMES, headers=admin)
    assert bad_value.json()["detail"] == "row 0: Sales is missing (empty or NaN)", bad_value.text


def test_when_an_upload_gives_date_format_in_the_query_then_ambiguous_dates_read_with_it(
    client: TestClient, admin: dict[str, str]
) -> None:
    upload = "Store,Dept,Date,Sales\n1,2,02/03/2012,100\n1,2,09/03/2012,120\n"
    guessed = post_csv(client, admin, upload, **STORE_NAMES)
    assert guessed.status_code == 422 and "ambiguous dates" in guessed.json()["detail"], guessed.text
    loaded = post_csv(client, admin, upload, **STORE_NAMES, date_format="%d/%m/%Y")
    assert loaded.status_code == 200, loaded.text
    rows = client.get("/v1/actuals", params={"item_id": "1|2"}, headers=admin).json()["actuals"]
    assert [(r["timestamp"], r["value"]) for r in rows] == [
        ("2012-03-02T00:00:00", 100.0),
        ("2012-03-09T00:00:00", 120.0),
    ]


def test_when_json_rows_give_date_format_in_the_query_or_body_then_one_is_used_and_two_must_agree(
    client: TestClient, admin: dict[str, str]
) -> None:
    rows = [{"item_id": "a", "timestamp": t, "value": 1} for t in ("02/03/2012", "09/03/2012")]
    by_query = client.post("/v1/actuals", json=rows, params={"date_format": "%m/%d/%Y"}, headers=admin)
    assert by_query.status_code == 200, by_query.text
    got = client.get("/v1/actuals", params={"item_id": "a"}, headers=admin).json()["actuals"]
    assert [r["timestamp"] for r in got] == ["2012-02-03T00:00:00", "2012-09-03T00:00:00"]
    both = {"rows": rows, "date_format": "%m/%d/%Y"}
    agreeing = client.post("/v1/actuals", json=both, params={"date_format": "%m/%d/%Y"}, headers=admin)
    assert agreeing.status_code == 200, agreeing.text
    clash = client.post("/v1/actuals", json=both, params={"date_format": "%d/%m/%Y"}, headers=admin)
    detail = clash.json()["detail"]
    assert clash.status_code == 422 and "'%d/%m/%Y'" in detail and "'%m/%d/%Y'" in detail, clash.text
    assert "query" in detail and "body" in detail
    bad_query = client.post("/v1/actuals", json=rows, params={"date_format": "dd/mm"}, headers=admin)
    assert bad_query.status_code == 422


# ---- observations ----------------------------------------------------------------------------
def forecasts(client: TestClient, admin: dict[str, str]) -> dict[str, dict]:
    answer = client.post(
        "/v1/endpoints/sales/forecast", json={"item_ids": ["item_0", "item_1"]}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    return {f["item_id"]: f for f in answer.json()["forecasts"]}


def test_when_a_week_is_observed_then_the_next_forecast_starts_after_it_without_a_refit(
    client: TestClient, admin: dict[str, str], endpoint: str
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
    client: TestClient, admin: dict[str, str], endpoint: str
) -> None:
    rows = [{"item_id": "item_0", "timestamp": "2024-01-28", "target": 1.0}]
    answer = client.post("/v1/endpoints/sales/observations", json=rows, headers=admin)
    assert answer.status_code == 422 and answer.json()["field"] == "rows[0].timestamp", answer.text
    missing = client.post("/v1/endpoints/nowhere/observations", json=rows, headers=admin)
    assert missing.status_code == 404
    # an observation is loaded as an actual too: its value may not be missing, as a
    # forecast's history row's may (refused before the history grows, not after)
    unobserved = [{"item_id": "item_0", "timestamp": "2024-01-29", "target": None}]
    answer = client.post("/v1/endpoints/sales/observations", json=unobserved, headers=admin)
    assert answer.status_code == 422 and answer.json()["field"] == "rows[0].target", answer.text
