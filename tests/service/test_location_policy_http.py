"""The location policy through the real HTTP API: every bypass is a 4xx naming the field.

A `tidecast serve` subprocess on loopback with a data root (see tests/location_bypasses.py for
its links out) gets each bypass as a training job's `data`, a SageMaker body's S3Uri, a batch
`input` and a batch `output`; each answer is a 422 problem naming that field, and no job is
queued. A location inside the root is accepted, so the test can fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from test_e2e_http import BACKENDS, Service, create_key, drop_postgres_schema, postgres_schema_url

from location_bypasses import BYPASSES, data_root_with_links_out, fill

pytestmark = pytest.mark.timeout(120)

S3_URI = "AutoMLJobInputDataConfig[0].DataSource.S3DataSource.S3Uri"


@pytest.fixture(scope="module", params=BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A keyed service whose data root has links out; nothing trained (none is needed)."""
    folder = tmp_path_factory.mktemp("policy")
    root = data_root_with_links_out(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(folder / "home"), TIDECAST_DATA_ROOT=str(root), TIDECAST_LOG_LEVEL="INFO")
    schema = None
    if request.param == "postgresql":
        schema = f"tc_policy_{os.getpid()}"
        env["TIDECAST_DATABASE_URL"] = postgres_schema_url(schema)
    service = Service(home=folder, env=env)
    service.facts["root"] = root
    try:
        service.admin = create_key(env, "ops", "admin")
        service.start()
        yield service
    finally:
        service.stop()
        if schema is not None:
            drop_postgres_schema(schema)


def sagemaker_body(uri: str) -> dict[str, Any]:
    return {
        "AutoMLJobName": "policy",
        "AutoMLJobInputDataConfig": [
            {"ChannelName": "training", "DataSource": {"S3DataSource": {"S3Uri": uri}}}
        ],
        "AutoMLProblemTypeConfig": {
            "TimeSeriesForecastingJobConfig": {
                "ForecastFrequency": "D",
                "ForecastHorizon": 7,
                "TimeSeriesConfig": {
                    "TargetAttributeName": "b",
                    "TimestampAttributeName": "a",
                    "ItemIdentifierAttributeName": "a",
                },
            }
        },
    }


def refused(service: Service, path: str, body: dict[str, Any], field: str) -> None:
    response = service.call("POST", path, json=body)
    assert response.status_code == 422, (body, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field, response.json()


@pytest.mark.parametrize("template", BYPASSES)
def test_when_a_job_names_a_location_out_of_the_root_then_422(service: Service, template: str) -> None:
    location = fill(template, service.facts["root"])
    refused(service, "/v1/jobs", {"data": location, "horizon": 7}, "data")
    refused(service, "/v1/jobs", {"data": "good.csv", "horizon": 7, "output": location}, "output")
    refused(service, "/v1/batch", {"endpoint": "demo", "input": location}, "input")
    refused(service, "/v1/batch", {"endpoint": "demo", "input": "good.csv", "output": location}, "output")


def test_when_a_sagemaker_body_names_a_bypass_then_422_naming_the_s3_uri(service: Service) -> None:
    root = service.facts["root"]
    for template in ["local:///etc/passwd", "simplecache::file:///etc/passwd", "http://127.0.0.1:1/x"]:
        refused(service, "/v1/jobs", sagemaker_body(fill(template, root)), S3_URI)


def test_when_nothing_leaves_the_root_then_the_job_and_batch_get_past_the_check(service: Service) -> None:
    assert service.call("GET", "/v1/jobs").json()["jobs"] == []  # nothing refused was queued
    created = service.call("POST", "/v1/jobs", json={"data": "good.csv", "horizon": 7, "name": "ok"})
    assert created.status_code == 201, created.text
    assert created.json()["config"]["data"] == str(service.facts["root"].resolve() / "good.csv")
    stopped = service.call("POST", f"/v1/jobs/{created.json()['id']}/stop")
    assert stopped.status_code in (200, 202, 409), stopped.text
    # the batch's locations pass; what stops it is the endpoint, which does not exist
    batch = service.call("POST", "/v1/batch", json={"endpoint": "demo", "input": "good.csv"})
    assert batch.status_code == 422 and batch.json()["field"] == "endpoint", batch.text
