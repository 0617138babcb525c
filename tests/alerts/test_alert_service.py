"""Alerts in the running app: drifting actuals fire exactly one signed webhook notification,
a second evaluation sends nothing new, and recovered accuracy resolves it with one more."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alert_receivers import WebhookReceiver
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Job
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import JobStatus
from tidecast.service.app import create_app

SECRET = "s3cret-for-tests"
DRIFT_DAYS = ["2024-01-29", "2024-01-30", "2024-01-31"]


def rules_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(
        f"""
[[webhooks]]
url = "{url}"
secret = "{SECRET}"
backoff_seconds = 0.01

[[rules]]
name = "sales-accuracy"
kind = "accuracy"
endpoint = "sales"
window = "3d"
threshold = 2.0
severity = "critical"

[[rules]]
name = "errors"
kind = "error_rate"
window = "1h"
threshold = 0.5

[[rules]]
name = "jobs"
kind = "job_failed"
window = "1d"
"""
    )
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str, webhook: WebhookReceiver) -> ServiceSettings:
    """For the shared `client` fixture: the rules file above, no evaluation but on request."""
    return ServiceSettings(
        home=tmp_path,
        database_url=database_url,
        forecast_log_flush_seconds=60,
        alert_rules=rules_file(tmp_path, webhook.url),
        alert_interval_seconds=0,
    )


@pytest.fixture
def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["admin"]}


@pytest.fixture
def sales(client: TestClient, admin: dict[str, str], registry: Registry, model_folder: Path) -> str:
    registry.register("sales", model_folder)  # SeasonalNaive (a week), horizon 3, history to 2024-01-28
    registry.approve("sales", 1)
    answer = client.post("/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=admin)
    assert answer.status_code == 201, answer.text
    return "sales"


def forecast(client: TestClient, admin: dict[str, str], items: list[str]) -> dict[str, list[float]]:
    answer = client.post("/v1/endpoints/sales/forecast", json={"item_ids": items}, headers=admin)
    assert answer.status_code == 200, answer.text
    client.app.state.service.forecast_log.flush()  # type: ignore[attr-defined]
    return {f["item_id"]: f["mean"] for f in answer.json()["forecasts"]}


def load(client: TestClient, admin: dict[str, str], item: str, days: list[str], values: list[float]) -> None:
    rows = [{"item_id": item, "timestamp": d, "value": v} for d, v in zip(days, values, strict=True)]
    assert client.post("/v1/actuals", json=rows, headers=admin).status_code == 200


SALES_V1 = {"model_group": "sales", "model_version": 1}


def evaluate(client: TestClient, admin: dict[str, str]) -> list[dict]:
    answer = client.post("/v1/alerts/evaluate", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def checked(webhook: WebhookReceiver, k: int) -> dict:
    """The k-th notification the receiver got, after checking its HMAC signature."""
    post = webhook.posts[k]
    stamp = post.headers["X-Tidecast-Timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + post.body, hashlib.sha256).hexdigest()
    assert post.headers["X-Tidecast-Signature"] == f"sha256={expected}"
    assert abs(time.time() - int(stamp)) < 600
    return json.loads(post.body)


def test_when_actuals_drift_then_one_alert_fires_and_it_resolves_when_accuracy_returns(
    client: TestClient, admin: dict[str, str], sales: str, webhook: WebhookReceiver
) -> None:
    served = forecast(client, admin, ["item_0", "item_1"])
    assert evaluate(client, admin) == [] and webhook.posts == []  # no actuals yet: no data, no alert

    drifted = {item: [3 * v for v in mean] for item, mean in served.items()}  # the level triples
    for item, values in drifted.items():
        load(client, admin, item, DRIFT_DAYS, values)
    (fired,) = evaluate(client, admin)
    assert (fired["event"], fired["rule"], fired["subject"]) == ("firing", "sales-accuracy", "sales")
    assert len(webhook.posts) == 1
    firing = checked(webhook, 0)
    assert (firing["event"], firing["rule"], firing["severity"]) == ("firing", "sales-accuracy", "critical")
    assert firing["value"] > 2.0 and firing["details"]["metric"] == "wql"
    # The version as the registry names it, beside its internal id.
    assert {k: firing["details"][k] for k in ("model_group", "model_version")} == SALES_V1

    assert evaluate(client, admin) == []  # still breached: the same incident, nothing new sent
    assert len(webhook.posts) == 1
    (incident,) = client.get("/v1/alerts", headers=admin).json()["incidents"]
    assert incident["state"] == "firing" and incident["resolved_at"] is None
    sent = sorted((n["channel"].split()[0], n["event"], n["ok"]) for n in incident["notifications"])
    assert sent == [("log", "firing", True), ("webhook", "firing", True)]

    # The feed is fixed upstream: the actuals are restated near the forecasts (a changed value
    # replaces the old one), and the realised accuracy is back beside the backtest.
    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [1.02 * v for v in mean])
    (resolved,) = evaluate(client, admin)
    assert (resolved["event"], resolved["incident_id"]) == ("resolved", fired["incident_id"])
    assert len(webhook.posts) == 2
    notice = checked(webhook, 1)
    assert (notice["event"], notice["incident_id"], notice["rule"]) == (
        "resolved",
        firing["incident_id"],
        "sales-accuracy",
    )
    assert notice["resolved_at"] is not None

    assert evaluate(client, admin) == [] and len(webhook.posts) == 2
    (incident,) = client.get("/v1/alerts", headers=admin).json()["incidents"]
    assert incident["state"] == "resolved" and incident["resolved_at"] is not None
    assert client.get("/v1/alerts", params={"status": "firing"}, headers=admin).json()["incidents"] == []


def test_when_rules_are_posted_then_they_are_checked_listed_and_kept_apart_from_the_file(
    client: TestClient, admin: dict[str, str]
) -> None:
    rule = {"name": "slow", "kind": "p99_latency", "window": "15m", "threshold": 0.5, "severity": "warning"}
    assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    assert client.post("/v1/alerts/rules", json={**rule, "threshold": 1.0}, headers=admin).status_code == 200
    listed = {r["name"]: r for r in client.get("/v1/alerts/rules", headers=admin).json()["rules"]}
    assert set(listed) == {"sales-accuracy", "errors", "jobs", "slow"}
    assert (listed["slow"]["source"], listed["slow"]["threshold"]) == ("api", 1.0)
    assert listed["errors"]["source"] == "file"

    bad_window = client.post("/v1/alerts/rules", json={**rule, "window": "soon"}, headers=admin)
    assert bad_window.status_code == 422 and bad_window.json()["field"] == "window", bad_window.text
    no_threshold = {k: v for k, v in rule.items() if k != "threshold"}
    missing = client.post("/v1/alerts/rules", json=no_threshold, headers=admin)
    assert missing.status_code == 422 and "need a threshold" in missing.json()["detail"]
    clash = client.post("/v1/alerts/rules", json={**rule, "name": "errors"}, headers=admin)
    assert clash.status_code == 409
    assert client.post("/v1/alerts/rules", json=rule).status_code == 401

    assert client.delete("/v1/alerts/rules/slow", headers=admin).status_code == 204
    assert client.delete("/v1/alerts/rules/slow", headers=admin).status_code == 404


def test_when_latency_passes_its_threshold_then_the_traffic_rule_fires_from_the_metrics(
    client: TestClient, admin: dict[str, str], sales: str, webhook: WebhookReceiver
) -> None:
    rule = {
        "name": "any-latency",
        "kind": "p99_latency",
        "endpoint": "sales",
        "window": "1h",
        "threshold": 0.0,
    }
    assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    assert evaluate(client, admin) == []  # no invocation yet: no data
    forecast(client, admin, ["item_0"])
    (fired,) = evaluate(client, admin)
    assert (fired["rule"], fired["subject"]) == ("any-latency", "sales")
    (incident,) = client.get("/v1/alerts", params={"rule": "any-latency"}, headers=admin).json()["incidents"]
    assert incident["value"] > 0 and incident["details"]["requests"] == 1
    assert checked(webhook, 0)["kind"] == "p99_latency"


def test_when_the_schedule_is_on_then_a_failed_job_alerts_without_being_asked(
    tmp_path: Path, database_url: str, database: Database, webhook: WebhookReceiver
) -> None:
    with database.transaction() as session:
        session.add(Job(name="nightly", status=JobStatus.FAILED, error="boom", ended_at=datetime.now(UTC)))
    settings = ServiceSettings(
        home=tmp_path,
        database_url=database_url,
        alert_rules=rules_file(tmp_path, webhook.url),
        alert_interval_seconds=0.1,
    )
    with TestClient(create_app(settings, database=database)):
        deadline = time.monotonic() + 20
        while not webhook.posts and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(webhook.posts) == 1
    body = checked(webhook, 0)
    assert (body["rule"], body["event"], body["details"]["failed"]) == ("jobs", "firing", 1)


def test_when_only_an_older_day_drifted_then_only_windows_reaching_back_to_it_fire(
    client: TestClient, admin: dict[str, str], sales: str
) -> None:
    """Windows run back from the newest actual: a 2-day window ending 2024-01-31 leaves the
    drifted 2024-01-29 out, a 3-day one takes it in."""
    for window in ("2d", "3d"):
        rule = {
            "name": f"accuracy-{window}",
            "kind": "accuracy",
            "endpoint": "sales",
            "window": window,
            "threshold": 2,
        }
        assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    served = forecast(client, admin, ["item_0", "item_1"])
    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [3 * mean[0], *mean[1:]])
    fired = {e["rule"] for e in evaluate(client, admin)}
    assert fired == {"sales-accuracy", "accuracy-3d"}


def test_when_actuals_drift_then_drift_and_coverage_rules_fire_and_metrics_show_their_values(
    client: TestClient, admin: dict[str, str], sales: str
) -> None:
    rules = [
        {
            "name": "drift",
            "kind": "drift",
            "endpoint": "sales",
            "window": "7d",
            "threshold": 2,
            "statistic": "max",
        },
        {"name": "band", "kind": "coverage", "window": "7d", "band": [0.6, 1.0]},
        {"name": "nominal", "kind": "coverage", "window": "7d", "threshold": 0.3},
    ]
    for rule in rules:
        assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    served = forecast(client, admin, ["item_0", "item_1"])
    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [1.0 * v for v in mean])
    assert {e["rule"] for e in evaluate(client, admin)} == set()  # on the forecast: all quiet

    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [3 * v for v in mean])
    assert {e["rule"] for e in evaluate(client, admin)} == {"sales-accuracy", "drift", "band", "nominal"}
    incidents = {i["rule"]: i for i in client.get("/v1/alerts", headers=admin).json()["incidents"]}
    assert incidents["drift"]["value"] > 2 and incidents["drift"]["details"]["items"] == 2
    for rule in ("drift", "band"):
        assert {k: incidents[rule]["details"][k] for k in ("model_group", "model_version")} == SALES_V1
    assert (
        incidents["band"]["value"] == 0.0
        and incidents["nominal"]["threshold"] == "more than 0.3 from nominal"
    )
    exposed = client.get("/metrics").text
    assert 'tidecast_alert_signal{rule="band",subject="sales"} 0.0' in exposed
    assert 'tidecast_alert_breached{rule="drift",subject="sales"} 1.0' in exposed


def test_when_another_endpoints_actuals_are_newer_then_the_drift_window_still_runs_from_its_own(
    client: TestClient, admin: dict[str, str], sales: str
) -> None:
    """A drift window runs back from the newest actual of the endpoint's own items: actuals of
    another endpoint's items a year later left the drifted days outside it, and the rule quiet."""
    rule = {"name": "drift", "kind": "drift", "endpoint": "sales", "window": "7d", "threshold": 2}
    assert client.post("/v1/alerts/rules", json=rule, headers=admin).status_code == 201
    served = forecast(client, admin, ["item_0", "item_1"])
    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [3 * v for v in mean])
    load(client, admin, "another_shop_item", ["2025-01-31"], [5.0])
    assert "drift" in {e["rule"] for e in evaluate(client, admin)}
    (incident,) = client.get("/v1/alerts", params={"rule": "drift"}, headers=admin).json()["incidents"]
    assert incident["value"] > 2 and incident["details"]["items"] == 2


def test_when_a_rule_has_no_data_then_its_listing_says_so_instead_of_staying_silent(
    client: TestClient, admin: dict[str, str], sales: str
) -> None:
    """A rule on an endpoint without actuals (or one not deployed) neither fires nor resolves;
    the rules' listing shows what its last evaluation found, so the silence is explained."""
    ghost = {"name": "ghost", "kind": "accuracy", "endpoint": "ghost", "window": "7d", "threshold": 1.5}
    assert client.post("/v1/alerts/rules", json=ghost, headers=admin).status_code == 201
    listed = {r["name"]: r for r in client.get("/v1/alerts/rules", headers=admin).json()["rules"]}
    assert listed["ghost"]["last"] == []  # not evaluated yet
    served = forecast(client, admin, ["item_0", "item_1"])
    assert evaluate(client, admin) == []
    listed = {r["name"]: r for r in client.get("/v1/alerts/rules", headers=admin).json()["rules"]}
    ((ghost_last,), (sales_last,)) = listed["ghost"]["last"], listed["sales-accuracy"]["last"]
    assert (ghost_last["subject"], ghost_last["state"], ghost_last["value"]) == ("ghost", "no data", None)
    assert ghost_last["message"] == "no forecasts scored against actuals in the last 7d"
    assert (sales_last["subject"], sales_last["state"]) == ("sales", "no data")

    for item, mean in served.items():
        load(client, admin, item, DRIFT_DAYS, [1.0 * v for v in mean])
    assert evaluate(client, admin) == []
    listed = {r["name"]: r for r in client.get("/v1/alerts/rules", headers=admin).json()["rules"]}
    (sales_last,) = listed["sales-accuracy"]["last"]
    assert sales_last["state"] == "ok" and sales_last["value"] < 2.0
    assert "realised wql over backtest" in sales_last["message"]
