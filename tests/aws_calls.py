"""Calling SageMaker's control plane in process, for the tests of `tidecast.service.aws`:
`caller` sends ``POST /`` with ``X-Amz-Target`` as AWS clients do (with an API key), `ok` and
`refused` read the answers, `serve` makes a model, configuration and endpoint of a version;
`aws_client` is boto3's client of a service over HTTP, signed with issued credentials.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from botocore.config import Config
from fastapi.testclient import TestClient


def aws_client(service: str, url: str, pair: Any) -> Any:
    """boto3's `service` client of the server at `url`, signed with `pair` (an issued credential),
    one attempt per call: a test sees the first answer, not a retry's."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=pair.access_key_id,
        aws_secret_access_key=pair.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def caller(client: TestClient, keys: dict[str, str]) -> Any:
    """SageMaker.<operation> through the app, with an API key; (status, JSON answer)."""

    def call(operation: str, body: dict[str, Any] | bytes, key: str = "admin") -> tuple[int, dict[str, Any]]:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = client.post(
            "/",
            content=content,
            headers={
                "X-API-Key": keys[key],
                "X-Amz-Target": f"SageMaker.{operation}",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
        assert response.headers["content-type"] == "application/x-amz-json-1.1"
        out = response.json()
        if response.status_code >= 400:
            assert response.headers["x-amzn-errortype"] == out["__type"] and out["message"]
        return response.status_code, out

    return call


def ok(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    status, body = result
    assert status == 200, body
    return body


def refused(result: tuple[int, dict[str, Any]], code: str, words: str = "") -> str:
    status, body = result
    assert status >= 400 and body["__type"] == code, body
    assert words in body["message"], body
    return str(body["message"])


def in_service(aws: Any, name: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        endpoint = ok(aws("DescribeEndpoint", {"EndpointName": name}))
        if endpoint["EndpointStatus"] not in ("Creating", "Updating"):
            return endpoint
        time.sleep(0.1)
    raise AssertionError(f"{name} is still {endpoint['EndpointStatus']}")


def serve(aws: Any, model: str, config: str, endpoint: str, group: str = "sales", version: int = 1) -> None:
    container = {"Image": "tidecast/forecaster", "ModelDataUrl": f"tidecast://models/{group}/{version}"}
    ok(
        aws(
            "CreateModel", {"ModelName": model, "PrimaryContainer": container, "ExecutionRoleArn": "arn:role"}
        )
    )
    variant = {
        "VariantName": "v1",
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    ok(aws("CreateEndpointConfig", {"EndpointConfigName": config, "ProductionVariants": [variant]}))
    ok(aws("CreateEndpoint", {"EndpointName": endpoint, "EndpointConfigName": config}))


def invoke(client: TestClient, keys: dict[str, str], endpoint: str, **headers: str) -> Any:
    body = {"instances": [{"start": "2024-01-01", "target": [10.0 + k % 7 for k in range(21)]}]}
    return client.post(
        f"/endpoints/{endpoint}/invocations",
        content=json.dumps(body),
        headers={"X-API-Key": keys["forecast"], "Content-Type": "application/json", **headers},
    )
