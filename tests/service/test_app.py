"""The HTTP app in process (FastAPI's TestClient): routing, keys and roles, problem details,
the registry and endpoint routes, forecasts checked against the engine, limits and metrics.

Runs on SQLite, and on PostgreSQL too when TIDECAST_TEST_DATABASE_URL is set (the `database`
fixture of conftest). The model folders are the real SeasonalNaive models of conftest.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ApiKey
from tidecast.registry.settings import ServiceSettings
from tidecast.service.answers import forecast
from tidecast.service.app import create_app
from tidecast.service.auth import KeyStore, VerifiedKeys
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import Problem
from tidecast.service.runtime_contract import predict

MAX_BODY = 50_000


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    # home=tmp_path puts artifacts in tmp_path/artifacts: the conftest registry's store. Jobs
    # read their local files below the data root, and the SageMaker bodies' s3://b/ as given.
    return ServiceSettings(
        home=tmp_path,
        database_url=database_url,
        data_root=tmp_path,
        data_urls=["s3://b/"],
        max_body_bytes=MAX_BODY,
        cors_origins=["https://shop.example"],
    )


def admin(keys: dict[str, str]) -> dict[str, str]:
    return {"X-API-Key": keys["admin"]}


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def sagemaker_body(name: str, horizon: int) -> dict[str, Any]:
    """A CreateAutoMLJobV2 body reading s3://b/k (not checked: below a data URL, a remote URL)."""
    return {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [{"DataSource": {"S3DataSource": {"S3Uri": "s3://b/k"}}}],
        "AutoMLProblemTypeConfig": {
            "TimeSeriesForecastingJobConfig": {
                "ForecastFrequency": "D",
                "ForecastHorizon": horizon,
                "TimeSeriesConfig": {
                    "TargetAttributeName": "y",
                    "TimestampAttributeName": "t",
                    "ItemIdentifierAttributeName": "i",
                },
            }
        },
    }


@pytest.fixture
def deployed(client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path) -> str:
    """Version 1 of group `sales` (model_folder) approved and deployed as endpoint `sales`."""
    registry.register("sales", model_folder)
    assert client.post("/v1/models/sales/versions/1/approve", headers=admin(keys)).status_code == 200
    response = client.post("/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=admin(keys))
    assert response.status_code == 201, response.text
    return "sales"


# ---- keys and roles -------------------------------------------------------------------------------
def test_keys_roles_and_hashed_storage(client: TestClient, keys: dict[str, str], database: Database) -> None:
    missing = assert_problem(client.get("/v1/jobs"), 401)
    assert "X-API-Key" in missing["detail"]
    assert client.get("/v1/jobs").headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get("/v1/jobs", headers={"X-API-Key": "tc_wrong"}), 401)
    assert_problem(client.get("/v1/jobs", headers={"X-API-Key": keys["forecast"]}), 403)
    assert client.get("/v1/jobs", headers=admin(keys)).json() == {"jobs": []}
    assert client.get("/v1/jobs", headers={"Authorization": f"Bearer {keys['admin']}"}).status_code == 200
    # a SigV4 Authorization header (boto3) is not a key
    # a SigV4 header is checked as a signature (tests/service/test_aws_sigv4.py), not ignored
    malformed = client.get("/v1/jobs", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
    assert (
        malformed.status_code == 403
        and malformed.headers["x-amzn-errortype"] == "IncompleteSignatureException"
    )
    with database.sessions() as session:
        rows = session.scalars(select(ApiKey).order_by(ApiKey.name)).all()
        assert [r.name for r in rows] == ["ops", "shop"]
        assert rows[0].key_hash == hashlib.sha256(keys["admin"].encode()).hexdigest()
        assert all(keys["admin"] not in (r.key_hash, r.name) for r in rows)
    client.app.state.service.keys.revoke("ops")  # type: ignore[attr-defined]
    assert_problem(client.get("/v1/jobs", headers=admin(keys)), 401)


def test_when_a_key_is_revoked_elsewhere_then_the_api_refuses_it_once_the_cache_ttl_has_passed(
    client: TestClient, keys: dict[str, str], database: Database
) -> None:
    now = [1000.0]
    service = client.app.state.service  # type: ignore[attr-defined]
    service.keys.verified = VerifiedKeys(ttl=5.0, clock=lambda: now[0])
    assert client.get("/v1/jobs", headers=admin(keys)).status_code == 200
    KeyStore(database.sessions).revoke("ops")  # `tidecast keys revoke ops`: another process
    now[0] += 4.9
    assert client.get("/v1/jobs", headers=admin(keys)).status_code == 200  # the documented bound
    now[0] += 0.1
    assert_problem(client.get("/v1/jobs", headers=admin(keys)), 401)
    assert_problem(client.get("/v1/jobs", headers={"X-API-Key": keys["admin"] + "x"}), 401)


def test_open_mode_needs_no_key(settings: ServiceSettings, database: Database, caplog: Any) -> None:
    settings.open_mode = True
    with caplog.at_level(logging.WARNING), TestClient(create_app(settings, database=database)) as open_client:
        assert open_client.get("/v1/models").json() == {"groups": []}
    assert any("open mode" in r.getMessage() for r in caplog.records)


def test_open_routes_and_docs(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["database"] == {"ok": True, "error": None}
    assert client.get("/ping").status_code == 200
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/jobs",
        "/v1/endpoints/{name}/forecast",
        "/endpoints/{name}/invocations",
        "/invocations",
    ):
        assert path in paths
    preflight = client.options(
        "/v1/endpoints/x/forecast",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"


# ---- problems -------------------------------------------------------------------------------------
def test_problems_for_bad_requests(client: TestClient, keys: dict[str, str]) -> None:
    assert_problem(client.get("/v2/nothing"), 404)
    assert_problem(client.delete("/health"), 405)
    assert_problem(client.post("/v1/jobs", content=b"{oops", headers=admin(keys)), 400, "body")
    assert_problem(client.post("/v1/jobs", content=b"", headers=admin(keys)), 400, "body")
    assert_problem(client.post("/v1/jobs", json=[1, 2], headers=admin(keys)), 422, "body")
    job = assert_problem(
        client.post("/v1/jobs", json={"data": "d.csv", "horizon": -1}, headers=admin(keys)), 422
    )
    assert job["field"] == "horizon" and job["pointer"] == "/horizon"
    sagemaker = sagemaker_body("j1", horizon=0)
    assert_problem(
        client.post("/v1/jobs", json=sagemaker, headers=admin(keys)),
        422,
        "AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig.ForecastHorizon",
    )
    assert_problem(client.get("/v1/jobs/nope", headers=admin(keys)), 404)
    assert_problem(client.get("/v1/jobs?limit=0", headers=admin(keys)), 422, "limit")
    assert_problem(client.get("/v1/models/sales/versions/x", headers=admin(keys)), 422, "version")
    assert_problem(client.post("/v1/endpoints", json={"name": "e"}, headers=admin(keys)), 422, "group")
    assert_problem(client.post("/v1/endpoints", content=b"{", headers=admin(keys)), 400, "body")


def test_body_limit_from_content_length_and_while_streaming(client: TestClient, keys: dict[str, str]) -> None:
    big = b"[" + b"0," * MAX_BODY + b"0]"
    problem = assert_problem(client.post("/v1/jobs", content=big, headers=admin(keys)), 413, "body")
    assert problem["limit"] == MAX_BODY

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(20):
            yield b" " * 5_000

    assert_problem(client.post("/v1/jobs", content=chunks(), headers=admin(keys)), 413, "body")
    assert_problem(
        client.post("/v1/endpoints/any/forecast", content=chunks(), headers={"X-API-Key": keys["forecast"]}),
        404,
    )  # the endpoint is looked up before the body is read


def test_a_compressed_body_is_415_naming_the_content_encoding(
    client: TestClient, keys: dict[str, str]
) -> None:
    packed = gzip.compress(json.dumps({"data": "d.csv", "horizon": 7}).encode())
    headers = {**admin(keys), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    problem = assert_problem(
        client.post("/v1/jobs", content=packed, headers=headers), 415, "Content-Encoding"
    )
    assert problem["detail"] == "Content-Encoding 'gzip' is not accepted: send the body uncompressed"
    assert client.get("/v1/jobs", headers={**admin(keys), "Content-Encoding": "identity"}).status_code == 200


# ---- jobs ------------------------------------------------------------------------------------------
def test_jobs_create_list_get_stop(client: TestClient, keys: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("item_id,timestamp,target\n")
    body = {"name": "weekly", "data": str(tmp_path / "d.csv"), "horizon": 7, "preset": "fast"}
    created = client.post("/v1/jobs", json=body, headers=admin(keys))
    assert created.status_code == 201, created.text
    job = created.json()
    assert created.headers["location"] == f"/v1/jobs/{job['id']}"
    assert (job["status"], job["name"], job["config"]["horizon"], job["model_version"]) == (
        "Queued",
        "weekly",
        7,
        None,
    )
    assert [j["id"] for j in client.get("/v1/jobs", headers=admin(keys)).json()["jobs"]] == [job["id"]]
    assert client.get("/v1/jobs?status=Queued", headers=admin(keys)).json()["jobs"][0]["id"] == job["id"]
    assert client.get("/v1/jobs?status=Completed", headers=admin(keys)).json()["jobs"] == []
    metrics = client.get("/metrics").text
    assert 'tidecast_jobs{state="Queued"} 1.0' in metrics
    stopped = client.post(f"/v1/jobs/{job['id']}/stop", headers=admin(keys)).json()
    assert stopped["status"] == "Stopped" and stopped["stop_requested"] is True
    assert client.get(f"/v1/jobs/{job['id']}", headers=admin(keys)).json()["status"] == "Stopped"
    assert 'tidecast_jobs{state="Stopped"} 1.0' in client.get("/metrics").text


# ---- models and endpoints ----------------------------------------------------------------------------
def test_models_routes(
    client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path, other_model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    registry.register("sales", other_model_folder)
    groups = client.get("/v1/models", headers=admin(keys)).json()["groups"]
    assert [(g["name"], g["versions"], g["latest_version"], g["latest_approved"]) for g in groups] == [
        ("sales", 2, 2, None)
    ]
    versions = client.get("/v1/models/sales/versions", headers=admin(keys)).json()["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [
        (1, "PendingManualApproval"),
        (2, "PendingManualApproval"),
    ]
    one = client.get("/v1/models/sales/versions/2", headers=admin(keys)).json()
    assert one["config"]["horizon"] == 4
    assert_problem(client.get("/v1/models/sales/versions/9", headers=admin(keys)), 404)
    assert_problem(client.get("/v1/models/nope/versions", headers=admin(keys)), 404)
    for v in (1, 2):
        assert (
            client.post(f"/v1/models/sales/versions/{v}/approve", headers=admin(keys)).json()["status"]
            == "Approved"
        )
    assert_problem(client.post("/v1/models/sales/versions/1/approve", headers=admin(keys)), 409)
    compared = client.get("/v1/models/sales/compare?a=1&b=2", headers=admin(keys)).json()
    assert compared["versions"] == [1, 2] and compared["config_changes"]["horizon"] == {"v1": 3, "v2": 4}
    assert compared["same_data"] is False
    assert_problem(client.get("/v1/models/sales/compare?a=1", headers=admin(keys)), 422, "b")
    approved = client.get("/v1/models/sales/versions?status=Approved", headers=admin(keys)).json()["versions"]
    assert [v["version"] for v in approved] == [1, 2]

    # rollback moves the endpoint serving the rejected version back to the previous one
    deployed = client.post(
        "/v1/endpoints", json={"name": "live", "group": "sales"}, headers=admin(keys)
    ).json()
    assert (deployed["version"], deployed["horizon"]) == (2, 4)
    rolled = client.post("/v1/models/sales/rollback", headers=admin(keys)).json()
    assert rolled["rejected"]["version"] == 2 and rolled["current"]["version"] == 1
    assert rolled["redeployed_endpoints"] == ["live"]
    live = client.get("/v1/endpoints/live", headers=admin(keys)).json()
    assert (live["version"], live["horizon"], live["status"]) == (1, 3, "InService")
    assert_problem(client.post("/v1/models/sales/rollback", headers=admin(keys)), 409)


def test_when_the_previous_version_cannot_load_then_an_http_rollback_changes_nothing(
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    model_folder: Path,
    other_model_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = registry.register("sales", model_folder)
    registry.register("sales", other_model_folder)
    registry.approve("sales", 1)
    registry.approve("sales", 2)
    assert client.post("/v1/endpoints", json={"name": "rb", "group": "sales"}, headers=admin(keys)).is_success

    def unchanged() -> None:
        versions = client.get("/v1/models/sales/versions", headers=admin(keys)).json()["versions"]
        assert [v["status"] for v in versions] == ["Approved", "Approved"]
        rb = client.get("/v1/endpoints/rb", headers=admin(keys)).json()
        assert (rb["version"], rb["status"]) == (2, "InService")

    # the endpoint's model fails to load after the registry's check: nothing moved, nothing rejected
    deployments = client.app.state.service.deployments  # type: ignore[attr-defined]
    real_load = deployments._load

    def failing_load(name: str, version: Any, forecaster: Any = None) -> LoadedModel:
        raise Problem(422, "Model cannot be loaded", "disk full")

    monkeypatch.setattr(deployments, "_load", failing_load)
    failed = assert_problem(client.post("/v1/models/sales/rollback", headers=admin(keys)), 422)
    assert failed["detail"] == "disk full"
    unchanged()
    monkeypatch.setattr(deployments, "_load", real_load)

    registry.artifacts.delete(first.artifact_uri)
    refused = assert_problem(client.post("/v1/models/sales/rollback", headers=admin(keys)), 409)
    assert "cannot roll back sales to version 1" in refused["detail"]
    unchanged()


def test_only_approved_versions_deploy(
    client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    assert_problem(
        client.post("/v1/endpoints", json={"name": "e", "group": "sales"}, headers=admin(keys)), 404
    )
    pending = client.post(
        "/v1/endpoints", json={"name": "e", "group": "sales", "version": 1}, headers=admin(keys)
    )
    assert "only Approved" in assert_problem(pending, 409)["detail"]
    bad_name = client.post(
        "/v1/endpoints", json={"name": "../x", "group": "sales", "version": 1}, headers=admin(keys)
    )
    assert_problem(bad_name, 422)
    assert client.get("/v1/endpoints", headers=admin(keys)).json() == {"endpoints": []}


def test_when_a_deployed_version_is_rejected_then_the_reply_names_the_endpoints_that_still_serve_it(
    client: TestClient, keys: dict[str, str], deployed: str
) -> None:
    """As in SageMaker, a rejection does not take an endpoint down: it says which ones to move."""
    rejected = client.post("/v1/models/sales/versions/1/reject", headers=admin(keys))
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "Rejected" and rejected.json()["still_serving"] == [deployed]
    answer = client.post(
        f"/v1/endpoints/{deployed}/forecast",
        json={"item_ids": ["item_0"]},
        headers={"X-API-Key": keys["forecast"]},
    )
    assert answer.status_code == 200 and len(answer.json()["forecasts"][0]["mean"]) == 3
    again = client.post(
        "/v1/endpoints", json={"name": "other", "group": "sales", "version": 1}, headers=admin(keys)
    )
    assert "only Approved" in assert_problem(again, 409)["detail"]


def test_deploy_forecast_redeploy_delete(
    client: TestClient,
    keys: dict[str, str],
    deployed: str,
    model_folder: Path,
    registry: Registry,
    other_model_folder: Path,
) -> None:
    reference = LoadedModel.load(model_folder)
    forecaster = {"X-API-Key": keys["forecast"]}
    endpoint = client.get("/v1/endpoints/sales", headers=admin(keys)).json()
    assert endpoint["status"] == "InService" and endpoint["horizon"] == 3 and endpoint["items"] == 2
    answer = client.post(
        "/v1/endpoints/sales/forecast", json={"item_ids": ["item_1", "item_0"]}, headers=forecaster
    )
    assert answer.status_code == 200, answer.text
    expected = forecast(reference, reference.parse_request({"item_ids": ["item_1", "item_0"]}))
    assert answer.json() == expected.model_dump()
    assert [f["item_id"] for f in answer.json()["forecasts"]] == ["item_1", "item_0"]

    # bad forecast requests name their field
    assert_problem(
        client.post("/v1/endpoints/sales/forecast", json={"item_ids": ["zz"]}, headers=forecaster),
        404,
        "item_ids",
    )
    assert_problem(
        client.post(
            "/v1/endpoints/sales/forecast", json={"item_ids": ["item_0"], "horizon": 4}, headers=forecaster
        ),
        422,
        "horizon",
    )
    assert_problem(
        client.post(
            "/v1/endpoints/sales/forecast",
            json={"item_ids": ["item_0"], "quantiles": [0.3]},
            headers=forecaster,
        ),
        422,
        "quantiles[0]",
    )
    nan = b'{"history": [{"item_id": "n", "timestamp": "2024-01-01", "target": NaN}]}'
    assert_problem(
        client.post("/v1/endpoints/sales/forecast", content=nan, headers=forecaster), 422, "history[0].target"
    )
    assert_problem(
        client.post("/v1/endpoints/sales/forecast", json={"itemz": 1}, headers=forecaster), 422, "itemz"
    )
    assert_problem(
        client.post("/v1/endpoints/nope/forecast", json={"item_ids": ["a"]}, headers=forecaster), 404
    )

    # a new approved version swapped in; the endpoint now answers with it
    registry.register("sales", other_model_folder)
    client.post("/v1/models/sales/versions/2/approve", headers=admin(keys))
    redeployed = client.post("/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=admin(keys))
    assert redeployed.status_code == 200 and redeployed.json()["version"] == 2
    after = client.post(
        "/v1/endpoints/sales/forecast", json={"item_ids": ["item_2"]}, headers=forecaster
    ).json()
    assert len(after["forecasts"][0]["mean"]) == 4

    assert client.delete("/v1/endpoints/sales", headers=admin(keys)).status_code == 204
    assert_problem(client.get("/v1/endpoints/sales", headers=admin(keys)), 404)
    assert_problem(client.delete("/v1/endpoints/sales", headers=admin(keys)), 404)
    assert_problem(
        client.post("/v1/endpoints/sales/forecast", json={"item_ids": ["item_0"]}, headers=forecaster), 404
    )


def test_endpoints_reload_on_startup(
    client: TestClient, keys: dict[str, str], deployed: str, settings: ServiceSettings, database: Database
) -> None:
    with TestClient(create_app(settings, database=database)) as restarted:
        health = restarted.get("/health").json()
        assert health["endpoints"]["loaded"] == {"sales": {"group": "sales", "version": 1}}
        answer = restarted.post(
            "/v1/endpoints/sales/forecast",
            json={"item_ids": ["item_0"]},
            headers={"X-API-Key": keys["forecast"]},
        )
        assert answer.status_code == 200


def test_when_an_endpoint_failed_to_load_then_its_routes_answer_503_naming_the_failure(
    client: TestClient,
    keys: dict[str, str],
    deployed: str,
    registry: Registry,
    settings: ServiceSettings,
    database: Database,
) -> None:
    registry.artifacts.delete(registry.get("sales", 1).artifact_uri)
    forecaster = {"X-API-Key": keys["forecast"]}
    with TestClient(create_app(settings, database=database)) as restarted:
        assert "does not exist" in restarted.get("/health").json()["endpoints"]["failed"][deployed]
        for path, key in [
            (f"/v1/endpoints/{deployed}/forecast", forecaster),
            (f"/endpoints/{deployed}/invocations", forecaster),
            ("/invocations", forecaster),  # the only endpoint is the one meant, failed or not
            (f"/v1/endpoints/{deployed}/explain", forecaster),
            (f"/v1/endpoints/{deployed}/whatif", forecaster),
            (f"/v1/endpoints/{deployed}/observations", admin(keys)),
        ]:
            body = assert_problem(restarted.post(path, json={"item_ids": ["item_0"]}, headers=key), 503)
            assert "failed to load" in body["detail"] and "Redeploy" in body["detail"], path
            assert body["endpoint"] == deployed and "does not exist" in body["failure_reason"]
        # A challenger needs a champion that serves: the same 503, not "no endpoint of that name"
        body = assert_problem(
            restarted.post(f"/v1/endpoints/{deployed}/challenger", json={"version": 1}, headers=admin(keys)),
            503,
        )
        assert body["endpoint"] == deployed and "does not exist" in body["failure_reason"]
        assert_problem(
            restarted.post("/v1/endpoints/nope/forecast", json={"item_ids": ["item_0"]}, headers=forecaster),
            404,
        )


# ---- SageMaker's runtime contract -----------------------------------------------------------------------
def test_sagemaker_invocations(
    client: TestClient, keys: dict[str, str], deployed: str, model_folder: Path, registry: Registry
) -> None:
    reference = LoadedModel.load(model_folder)
    headers = {"X-API-Key": keys["forecast"], "Content-Type": "application/json"}
    request = {"instances": [{"start": "2024-01-01", "target": [10.0 + k % 7 for k in range(21)]}]}
    expected = predict(reference, request)
    named = client.post("/endpoints/sales/invocations", content=json.dumps(request), headers=headers)
    assert named.status_code == 200 and named.headers["content-type"] == "application/json"
    assert named.json() == expected
    assert client.post("/invocations", content=json.dumps(request), headers=headers).json() == expected
    lines = "\n".join(json.dumps(i) for i in request["instances"] * 2)
    jsonl = client.post(
        "/endpoints/sales/invocations",
        content=lines,
        headers={**headers, "Content-Type": "application/jsonlines"},
    )
    assert jsonl.headers["content-type"].startswith("application/jsonlines")
    assert [json.loads(line) for line in jsonl.text.splitlines()] == expected["predictions"] * 2
    assert_problem(
        client.post(
            "/endpoints/sales/invocations", content="x", headers={**headers, "Content-Type": "text/plain"}
        ),
        400,  # SageMaker's ValidationError for the service's 415 (the metrics below keep the 415)
    )
    assert_problem(client.post("/endpoints/sales/invocations", content="{", headers=headers), 400, "body")

    # with two endpoints, /invocations needs the target header
    client.post("/v1/endpoints", json={"name": "other", "group": "sales"}, headers=admin(keys))
    assert_problem(client.post("/invocations", content=json.dumps(request), headers=headers), 400)
    targeted = client.post(
        "/invocations",
        content=json.dumps(request),
        headers={**headers, "X-Amzn-SageMaker-Target-Model": "other"},
    )
    assert targeted.json() == expected

    metrics = client.get("/metrics").text
    assert 'tidecast_invocations_total{endpoint="sales",status="200"} 3.0' in metrics
    assert 'tidecast_invocations_total{endpoint="sales",status="415"} 1.0' in metrics
    assert 'tidecast_invocations_total{endpoint="other",status="200"} 1.0' in metrics
    assert 'tidecast_invocation_latency_seconds_count{endpoint="sales"} 5.0' in metrics
    assert "tidecast_model_load_seconds_count 2.0" in metrics
    assert 'tidecast_http_errors_total{status="400"} 2.0' in metrics


def test_when_the_client_disconnects_mid_body_then_no_error_is_logged(
    client: TestClient, keys: dict[str, str], deployed: str, caplog: Any
) -> None:
    """The client hangs up before its body arrives: a debug line and a 499 in the access log
    and metrics, no error and no traceback."""
    path = "/v1/endpoints/sales/forecast"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"x-api-key", keys["forecast"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any(r.getMessage() == f"client disconnected during POST {path}" for r in caplog.records)
    access = [r for r in caplog.records if r.name == "tidecast.access"]
    assert [(r.status, r.endpoint) for r in access] == [(499, "sales")]  # type: ignore[attr-defined]
    assert sent[0]["status"] == 499
    metrics = client.get("/metrics").text
    assert 'tidecast_invocations_total{endpoint="sales",status="499"} 1.0' in metrics


def test_access_log_has_one_structured_line_per_request(
    client: TestClient, keys: dict[str, str], deployed: str, caplog: Any
) -> None:
    with caplog.at_level(logging.INFO, logger="tidecast.access"):
        client.post(
            "/v1/endpoints/sales/forecast",
            json={"item_ids": ["item_0"]},
            headers={"X-API-Key": keys["forecast"]},
        )
    records = [r for r in caplog.records if r.name == "tidecast.access"]
    assert len(records) == 1
    record = records[0]
    assert (record.method, record.path, record.status, record.endpoint) == (  # type: ignore[attr-defined]
        "POST",
        "/v1/endpoints/sales/forecast",
        200,
        "sales",
    )
    assert record.latency_ms > 0 and record.caller == "shop"  # type: ignore[attr-defined]


def test_when_a_jobs_data_path_does_not_exist_then_422_at_submission(
    client: TestClient, keys: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "d.csv").write_text("item_id,timestamp,target\n")
    body = {"data": str(tmp_path / "d.csv"), "horizon": 7, "future": str(tmp_path / "nope.csv")}
    problem = assert_problem(client.post("/v1/jobs", json=body, headers=admin(keys)), 422, "future")
    assert "nope.csv" in problem["detail"] and "does not exist" in problem["detail"]
    missing_glob = {"data": str(tmp_path / "parts" / "*.csv"), "horizon": 7}
    assert_problem(client.post("/v1/jobs", json=missing_glob, headers=admin(keys)), 422, "data")
    assert client.get("/v1/jobs", headers=admin(keys)).json()["jobs"] == []  # nothing queued


def test_when_a_job_name_is_taken_then_409(client: TestClient, keys: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("item_id,timestamp,target\n")
    body = {"name": "nightly", "data": str(tmp_path / "d.csv"), "horizon": 7}
    assert client.post("/v1/jobs", json=body, headers=admin(keys)).status_code == 201
    problem = assert_problem(client.post("/v1/jobs", json=body, headers=admin(keys)), 409)
    assert "'nightly' already exists" in problem["detail"]
    sagemaker = sagemaker_body("sm-job", horizon=7)
    assert client.post("/v1/jobs", json=sagemaker, headers=admin(keys)).status_code == 201
    assert_problem(client.post("/v1/jobs", json=sagemaker, headers=admin(keys)), 409)
    assert len(client.get("/v1/jobs", headers=admin(keys)).json()["jobs"]) == 2
