"""Requests with no credentials at all, over HTTP (uvicorn on 127.0.0.1), as AWS answers them.

Before, the control plane answered ``UnrecognizedClientException`` (the runtime the same with
HTTP 401) with a message about tidecast's API keys, and it looked the operation up before
authenticating: an unsigned call naming an unknown ``X-Amz-Target`` got 400
``UnknownOperationException`` listing every operation. AWS answers a request without
credentials ``MissingAuthenticationTokenException`` with HTTP 403 on both APIs, and an
unauthenticated caller learns nothing about the operations.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import serve_in_thread
from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws.control_plane import OPERATIONS

MISSING = "MissingAuthenticationTokenException"


@pytest.fixture
def url(tmp_path: Path, database_url: str, database: Database) -> Iterator[str]:
    settings = ServiceSettings(home=tmp_path, database_url=database_url, aws_region="us-east-1")
    app = create_app(settings, database=database)
    app.state.service.keys.create("ops", "admin")  # a keyed service: open mode would admit anyone
    with serve_in_thread(app) as served:
        yield served


def unsigned(url: str, name: str) -> Any:
    config = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    return boto3.client(name, endpoint_url=url, region_name="us-east-1", config=config)


def test_when_boto3_sends_no_credentials_then_both_apis_answer_missing_authentication_token(
    url: str,
) -> None:
    calls = {
        "control plane": lambda: unsigned(url, "sagemaker").list_endpoints(),
        "runtime": lambda: unsigned(url, "sagemaker-runtime").invoke_endpoint(
            EndpointName="shop", Body=b"{}", ContentType="application/json"
        ),
    }
    for what, call in calls.items():
        with pytest.raises(ClientError) as caught:
            call()
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 403, what
        assert error["Error"]["Code"] == MISSING, what
        assert error["Error"]["Message"].startswith("Missing Authentication Token"), what
        assert "API key" not in error["Error"]["Message"], what


def test_when_an_unsigned_call_names_an_unknown_operation_then_it_learns_nothing_about_them(
    url: str,
) -> None:
    answer = httpx.post(
        url + "/",
        content=b"{}",
        headers={"X-Amz-Target": "SageMaker.Bogus", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert answer.status_code == 403
    assert answer.headers["x-amzn-errortype"] == MISSING
    assert answer.json()["__type"] == MISSING
    assert not any(operation in answer.text for operation in OPERATIONS)
    assert "Bogus" not in answer.text


def test_an_unknown_api_key_is_still_an_unrecognized_client_with_403_on_the_runtime(url: str) -> None:
    answer = httpx.post(
        url + "/endpoints/shop/invocations",
        content=b"{}",
        headers={"X-API-Key": "tc_not-a-key", "Content-Type": "application/json"},
    )
    assert answer.status_code == 403
    assert answer.json()["__type"] == "UnrecognizedClientException"
