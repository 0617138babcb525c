"""boto3's ``sagemaker-runtime`` client against the service over HTTP (uvicorn on 127.0.0.1): every
failure of ``InvokeEndpoint`` arrives with SageMaker's error code and status, as botocore parses
them (``Error.Code``, ``ResponseMetadata.HTTPStatusCode``), while the native API keeps its own.

The codes and statuses are botocore's model of the runtime: ``ValidationError`` 400,
``ModelError`` 424 (with ``OriginalStatusCode`` and ``OriginalMessage``), ``ServiceUnavailable``
503, ``InternalFailure`` 500, and throttling 429.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from aws_calls import aws_client
from conftest import serve_in_thread
from tidecast.errors import ModelError
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws.errors import runtime_error
from tidecast.service.deployments import Deployments
from tidecast.service.predictor import LoadedModel

ACCOUNT = "123456789012"
GOOD = {"instances": [{"start": "2024-01-01", "target": [10.0 + k % 7 for k in range(21)]}]}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url, aws_account_id=ACCOUNT)


@pytest.fixture
def served(
    settings: ServiceSettings, database: Database, registry: Registry, model_folder: Path
) -> Iterator[tuple[str, Any, dict[str, str]]]:
    """Endpoint `sales` (version 1, approved) served over HTTP; (URL, boto3 runtime client signed
    with issued forecast credentials, the admin key's headers)."""
    registry.register("sales", model_folder)
    registry.approve("sales", 1)
    app = create_app(settings, database=database)
    with serve_in_thread(app) as url:
        admin = {"X-API-Key": app.state.service.keys.create("ops", "admin")}
        deployed = httpx.post(url + "/v1/endpoints", json={"name": "sales", "group": "sales"}, headers=admin)
        assert deployed.status_code == 201, deployed.text
        pair = app.state.service.auth.signatures.store.create("shop", "forecast")
        yield url, aws_client("sagemaker-runtime", url, pair), admin


def refusal(runtime: Any, body: Any = GOOD, endpoint: str = "sales", **kwargs: Any) -> dict[str, Any]:
    """The parsed error response of an InvokeEndpoint that fails."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(
            EndpointName=endpoint, Body=raw, **{"ContentType": "application/json", **kwargs}
        )
    response: dict[str, Any] = caught.value.response
    return response


def code_and_status(response: dict[str, Any]) -> tuple[str, int]:
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_when_the_endpoint_is_unknown_or_deleted_then_boto3_gets_aws_validation_error_400(
    served: tuple[str, Any, dict[str, str]],
) -> None:
    url, runtime, admin = served
    assert json.loads(runtime.invoke_endpoint(EndpointName="sales", Body=json.dumps(GOOD))["Body"].read())
    unknown = refusal(runtime, endpoint="nope")
    assert code_and_status(unknown) == ("ValidationError", 400)
    assert unknown["Error"]["Message"] == f"Endpoint nope of account {ACCOUNT} not found."
    assert unknown["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ValidationError"

    assert httpx.delete(url + "/v1/endpoints/sales", headers=admin).status_code == 204
    deleted = refusal(runtime)
    assert code_and_status(deleted) == ("ValidationError", 400)
    assert deleted["Error"]["Message"] == f"Endpoint sales of account {ACCOUNT} not found."
    # the native API keeps its own status and shape
    native = httpx.post(url + "/v1/endpoints/sales/forecast", json={"item_ids": ["item_0"]}, headers=admin)
    assert native.status_code == 404 and "__type" not in native.json()


def test_when_the_request_is_bad_then_boto3_gets_validation_error_400_naming_the_field(
    served: tuple[str, Any, dict[str, str]],
) -> None:
    _, runtime, _ = served
    start = refusal(runtime, {"instances": [{"start": "someday", "target": [1.0]}]})
    assert code_and_status(start) == ("ValidationError", 400)
    assert "instances[0].start" in start["Error"]["Message"] and "someday" in start["Error"]["Message"]
    quantile = refusal(runtime, {**GOOD, "configuration": {"quantiles": [0.95]}})
    assert code_and_status(quantile) == ("ValidationError", 400)  # tidecast's 422
    assert code_and_status(refusal(runtime, b"{")) == ("ValidationError", 400)
    assert code_and_status(refusal(runtime, b"x", ContentType="text/plain")) == ("ValidationError", 400)
    assert code_and_status(refusal(runtime, Accept="image/png")) == ("ValidationError", 400)  # 406


def test_when_the_model_fails_on_a_request_then_boto3_gets_model_error_424(
    served: tuple[str, Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, runtime, _ = served

    def failing(error: Exception) -> dict[str, Any]:
        def fails(*args: Any, **kwargs: Any) -> Any:
            raise error

        monkeypatch.setattr(LoadedModel, "fresh", fails)
        return refusal(runtime)

    failed = failing(ModelError("the ensemble has no member left to forecast with"))
    assert code_and_status(failed) == ("ModelError", 424)
    assert failed["OriginalStatusCode"] == 422
    assert failed["OriginalMessage"] == "the ensemble has no member left to forecast with"
    assert failed["Error"]["Message"] == (
        "Received client error (422) from AllTraffic with message "
        '"the ensemble has no member left to forecast with".'
    )
    crashed = failing(FloatingPointError("overflow in exp"))
    assert code_and_status(crashed) == ("ModelError", 424)
    assert crashed["OriginalStatusCode"] == 500
    assert "overflow" not in crashed["Error"]["Message"]  # the reason is in the log, not the answer
    assert crashed["Error"]["Message"].startswith("Received server error (500) from AllTraffic")


def test_when_the_service_fails_then_boto3_gets_internal_failure_or_service_unavailable(
    served: tuple[str, Any, dict[str, str]],
    settings: ServiceSettings,
    database: Database,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, runtime, _ = served

    def broken(self: Any, name: str) -> Any:
        raise RuntimeError("the endpoint table is corrupt")

    monkeypatch.setattr(Deployments, "serving_model", broken)
    internal = refusal(runtime)
    assert code_and_status(internal) == ("InternalFailure", 500)
    assert "corrupt" not in internal["Error"]["Message"]
    assert "unhandled error on POST /endpoints/sales/invocations" in caplog.text  # the reason: logged
    monkeypatch.undo()

    # an endpoint whose model failed to load when the service started
    registry.artifacts.delete(registry.get("sales", 1).artifact_uri)
    app = create_app(settings, database=database)
    with serve_in_thread(app) as url:
        pair = app.state.service.auth.signatures.store.create("later", "forecast")
        unavailable = refusal(aws_client("sagemaker-runtime", url, pair))
    assert code_and_status(unavailable) == ("ServiceUnavailable", 503)
    assert "failed to load" in unavailable["Error"]["Message"]


def test_runtime_error_maps_throttling_to_429() -> None:
    problem = {"type": "about:blank", "status": 429, "detail": "too many requests in flight"}
    answered = runtime_error(problem, 429, ACCOUNT, lambda: "AllTraffic")
    assert (answered["__type"], answered["status"]) == ("ThrottlingException", 429)
