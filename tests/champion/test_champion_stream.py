"""Champion and challenger on a simulated stream, in the app on both backends: two versions
from small real training runs (Average deployed, SeasonalNaive attached, or the other way
round), forecasts requested round after round, actuals that SeasonalNaive predicts far better
posted as observations; the better one is promoted only when the policy says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from champion_stream import HORIZON, ITEMS, run_stream, seasonal_naive_wape, train, truth
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ModelStatus

ROUNDS = 3  # 3 origins x 3 items: 9 paired forecasts, 27 points


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stream-models")
    return {model: train(root / model, model) for model in ("Average", "SeasonalNaive")}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(
        home=tmp_path, database_url=database_url, forecast_log_flush_seconds=60, alert_interval_seconds=0
    )


@pytest.fixture
def post(client: TestClient, keys: dict[str, str]) -> Callable[[str, Any], httpx.Response]:
    headers = {"X-API-Key": keys["admin"]}
    return lambda path, body=None: client.post(path, json=body, headers=headers)


@pytest.fixture
def get(client: TestClient, keys: dict[str, str]) -> Callable[[str], httpx.Response]:
    headers = {"X-API-Key": keys["admin"]}
    return lambda path: client.get(path, headers=headers)


def deploy(
    post: Any, registry: Registry, folders: dict[str, Path], champion: str, challenger: str, **policy: Any
) -> None:
    """`champion` as version 1 of `stream` (approved, deployed), `challenger` as version 2
    (pending), attached with `policy`."""
    registry.register("stream", folders[champion])
    registry.approve("stream", 1)
    registry.register("stream", folders[challenger])
    assert post("/v1/endpoints", {"name": "stream", "group": "stream"}).status_code == 201
    attached = post(
        "/v1/endpoints/stream/challenger", {"version": 2, "min_forecasts": ITEMS * ROUNDS, **policy}
    )
    assert attached.status_code == 201, attached.text
    assert attached.json()["state"] == "shadowing"


def test_when_the_challenger_is_better_by_the_margin_then_it_is_promoted_automatically(
    post: Any, get: Any, registry: Registry, folders: dict[str, Path]
) -> None:
    deploy(post, registry, folders, "Average", "SeasonalNaive", mode="auto", margin=0.05)
    run_stream(post, "stream", ROUNDS)
    out = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert out["state"] == "promoted", out
    assert out["decision"].startswith("promoted automatically")
    evidence = out["evidence"]
    assert (evidence["paired_forecasts"], evidence["paired_points"]) == (
        ITEMS * ROUNDS,
        ITEMS * ROUNDS * HORIZON,
    )
    assert evidence["challenger"]["wape"] == pytest.approx(seasonal_naive_wape(ROUNDS))
    assert evidence["challenger"]["wql"] <= 0.95 * evidence["champion"]["wql"]
    assert evidence["improvement"] == pytest.approx(
        1 - evidence["challenger"]["wql"] / evidence["champion"]["wql"]
    )
    assert evidence["window"]["days"] == pytest.approx(HORIZON * ROUNDS - 1)
    assert [out["champion"]["version"], out["challenger"]["version"]] == [1, 2]
    # the promoted version serves the endpoint, and the registry approved it
    assert get("/v1/endpoints/stream").json()["version"] == 2
    assert registry.get("stream", 2).status is ModelStatus.APPROVED
    # monitoring sees the same forecasts: each version's realised WAPE is the evidence's
    versions = {v["model_version_id"]: v for v in get("/v1/monitoring/stream").json()["versions"]}
    for side in ("champion", "challenger"):
        scored = evidence[side]
        assert versions[scored["model_version_id"]]["wape"] == pytest.approx(scored["wape"])


@pytest.mark.parametrize(
    ("champion", "challenger", "margin", "verdict"),
    [
        ("SeasonalNaive", "Average", 0.05, "not better by the margin"),  # the challenger is worse
        ("Average", "SeasonalNaive", 0.99, "not better by the margin"),  # better, not by 99 %
    ],
)
def test_when_the_margin_is_not_met_then_nothing_changes(
    post: Any,
    get: Any,
    registry: Registry,
    folders: dict[str, Path],
    champion: str,
    challenger: str,
    margin: float,
    verdict: str,
) -> None:
    deploy(post, registry, folders, champion, challenger, mode="auto", margin=margin)
    run_stream(post, "stream", ROUNDS)
    out = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert out["state"] == "shadowing" and out["active"], out
    assert verdict in out["decision"]
    assert out["evidence"]["paired_forecasts"] == ITEMS * ROUNDS
    assert out["evidence"]["improvement"] < margin
    assert get("/v1/endpoints/stream").json()["version"] == 1
    assert registry.get("stream", 2).status is ModelStatus.PENDING


def test_when_requests_come_through_the_runtime_contract_then_the_challenger_shadows_them_too(
    post: Any, get: Any, registry: Registry, folders: dict[str, Path]
) -> None:
    deploy(post, registry, folders, "Average", "SeasonalNaive", mode="approval")
    week = [truth(0, d) for d in range(21)]  # fresh history: a new origin for both models
    body = {"instances": [{"start": "2024-01-01", "target": week}]}
    answer = post("/endpoints/stream/invocations", body)
    assert answer.status_code == 200, answer.text
    assert post("/v1/endpoints/stream/forecast", {"item_ids": ["no-such-item"]}).status_code == 404
    post("/v1/endpoints/stream/challenger/evaluate")  # waits for the shadow forecasts
    shadow = get("/v1/endpoints/stream/challenger").json()["shadow"]
    assert shadow == {"forecasts": 1, "failures": 0, "dropped": 0}  # a refused request is not shadowed


def test_when_too_few_forecasts_are_scored_then_the_challenger_waits(
    post: Any, get: Any, registry: Registry, folders: dict[str, Path]
) -> None:
    deploy(post, registry, folders, "Average", "SeasonalNaive", mode="auto")
    run_stream(post, "stream", ROUNDS - 1)
    out = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert out["state"] == "shadowing"
    assert out["decision"].startswith("waiting for evidence")
    assert out["evidence"]["paired_forecasts"] == ITEMS * (ROUNDS - 1)
    assert get("/v1/endpoints/stream").json()["version"] == 1


def test_when_the_policy_asks_for_approval_then_promotion_waits_for_it(
    post: Any, get: Any, registry: Registry, folders: dict[str, Path]
) -> None:
    deploy(post, registry, folders, "Average", "SeasonalNaive", mode="approval")
    early = post("/v1/endpoints/stream/promote")
    assert early.status_code == 409  # nothing awaits approval yet
    run_stream(post, "stream", ROUNDS)
    out = post("/v1/endpoints/stream/challenger/evaluate").json()
    assert out["state"] == "awaiting_approval", out
    assert "better by the margin" in out["decision"]
    assert get("/v1/endpoints/stream").json()["version"] == 1
    promoted = post("/v1/endpoints/stream/promote")
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["state"] == "promoted"
    assert promoted.json()["decision"].startswith("promoted on approval")
    assert promoted.json()["evidence"]["paired_forecasts"] == ITEMS * ROUNDS
    assert get("/v1/endpoints/stream").json()["version"] == 2
    assert get("/v1/endpoints/stream/challenger").json()["state"] == "promoted"
    assert post("/v1/endpoints/stream/promote").status_code == 409


def test_when_a_challenger_is_detached_or_its_endpoint_deleted_then_it_stops_shadowing(
    post: Any,
    get: Any,
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    folders: dict[str, Path],
) -> None:
    headers = {"X-API-Key": keys["admin"]}
    deploy(post, registry, folders, "Average", "SeasonalNaive", mode="auto")
    assert post("/v1/endpoints/stream/challenger", {"version": 1}).status_code == 409  # the champion itself
    detached = client.delete("/v1/endpoints/stream/challenger", headers=headers)
    assert (detached.status_code, detached.json()["state"], detached.json()["active"]) == (
        200,
        "detached",
        False,
    )
    assert client.delete("/v1/endpoints/stream/challenger", headers=headers).status_code == 404
    again = post("/v1/endpoints/stream/challenger", {"version": 2, "min_forecasts": 1})
    assert again.status_code == 201 and again.json()["id"] != detached.json()["id"]
    assert client.delete("/v1/endpoints/stream", headers=headers).status_code == 204
    closed = get("/v1/endpoints/stream/challenger").json()  # the latest, now closed
    assert closed["state"] == "shadowing"  # until the next evaluation notices
    client.app.state.service.challengers.evaluate("stream")  # type: ignore[attr-defined]
    closed = get("/v1/endpoints/stream/challenger").json()
    assert (closed["state"], closed["decision"]) == ("detached", "the endpoint was deleted")
    assert get("/v1/endpoints/nowhere/challenger").status_code == 404
