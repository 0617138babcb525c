"""SageMaker's control plane in process: each operation's answers and refusals, on the
conftest's real SeasonalNaive model folders (AutoML jobs: tests/service/test_aws_automl_jobs.py).

Calls go through the app as AWS clients send them (``POST /``, ``X-Amz-Target``), with an
admin API key, which the control plane accepts beside SigV4 (tests/service/test_aws_sigv4.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aws_calls import caller, in_service, invoke, ok, refused, serve
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws import hosting


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


@pytest.fixture
def aws(client: TestClient, keys: dict[str, str]) -> Any:
    return caller(client, keys)


@pytest.fixture
def served(aws: Any, registry: Registry, model_folder: Path) -> str:
    """Version 1 of `sales` (pending: approval gates packages, not endpoints) served at `ep`
    through model `m1`, configuration `c1` and variant `v1`."""
    registry.register("sales", model_folder)
    serve(aws, "m1", "c1", "ep")
    return "ep"


def test_a_model_config_and_endpoint_serve_a_registered_version(
    aws: Any,
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    served: str,
    other_model_folder: Path,
) -> None:
    endpoint = in_service(aws, "ep")
    assert endpoint["EndpointStatus"] == "InService" and endpoint["EndpointConfigName"] == "c1"
    assert endpoint["EndpointArn"] == "arn:aws:sagemaker:us-east-1:000000000000:endpoint/ep"
    assert endpoint["ProductionVariants"][0]["VariantName"] == "v1"
    answer = invoke(client, keys, "ep")
    assert answer.status_code == 200 and answer.headers["x-amzn-invoked-production-variant"] == "v1"
    assert len(answer.json()["predictions"][0]["mean"]) == 3

    refused(
        aws(
            "CreateModel",
            {"ModelName": "m1", "PrimaryContainer": {"ModelDataUrl": "tidecast://models/sales/1"}},
        ),
        "ValidationException",
        "Cannot create already existing model",
    )
    refused(
        aws(
            "CreateModel",
            {"ModelName": "m2", "PrimaryContainer": {"ModelDataUrl": "tidecast://models/sales/9"}},
        ),
        "ValidationException",
        "no model version sales/9",
    )
    refused(
        aws("CreateModel", {"ModelName": "bad_name!", "PrimaryContainer": {}}),
        "ValidationException",
        "regular expression",
    )
    two = [{"VariantName": n, "ModelName": "m1"} for n in ("a", "b")]
    refused(
        aws("CreateEndpointConfig", {"EndpointConfigName": "c2", "ProductionVariants": two}),
        "ValidationException",
        "one model",
    )
    refused(
        aws(
            "CreateEndpointConfig",
            {"EndpointConfigName": "c2", "ProductionVariants": [{"VariantName": "a", "ModelName": "nope"}]},
        ),
        "ValidationException",
        "Could not find model",
    )
    refused(
        aws("CreateEndpoint", {"EndpointName": "ep", "EndpointConfigName": "c1"}),
        "ValidationException",
        "Cannot create already existing endpoint",
    )
    refused(
        aws("CreateEndpoint", {"EndpointName": "ep2", "EndpointConfigName": "nope"}),
        "ValidationException",
        "Could not find endpoint configuration",
    )

    # UpdateEndpoint: the other version (horizon 4) takes over
    registry.register("sales", other_model_folder)
    serve_update = {"Image": "x", "ModelDataUrl": "tidecast://models/sales/2"}
    ok(aws("CreateModel", {"ModelName": "m2", "PrimaryContainer": serve_update}))
    ok(
        aws(
            "CreateEndpointConfig",
            {"EndpointConfigName": "c2", "ProductionVariants": [{"VariantName": "v2", "ModelName": "m2"}]},
        )
    )
    ok(aws("UpdateEndpoint", {"EndpointName": "ep", "EndpointConfigName": "c2"}))
    updated = in_service(aws, "ep")
    assert updated["EndpointStatus"] == "InService" and updated["EndpointConfigName"] == "c2"
    answer = invoke(client, keys, "ep")
    assert len(answer.json()["predictions"][0]["mean"]) == 4
    assert answer.headers["x-amzn-invoked-production-variant"] == "v2"

    ok(aws("DeleteEndpoint", {"EndpointName": "ep"}))
    refused(
        aws("DescribeEndpoint", {"EndpointName": "ep"}),
        "ValidationException",
        'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/ep"',
    )
    assert invoke(client, keys, "ep").json()["__type"] == "ValidationError"
    refused(aws("DeleteEndpoint", {"EndpointName": "ep"}), "ValidationException", "Could not find endpoint")
    ok(aws("DeleteEndpointConfig", {"EndpointConfigName": "c1"}))
    ok(aws("DeleteModel", {"ModelName": "m1"}))
    refused(aws("DescribeModel", {"ModelName": "m1"}), "ValidationException", "Could not find model")
    assert (
        ok(aws("DescribeModel", {"ModelName": "m2"}))["PrimaryContainer"]["ModelDataUrl"]
        == "tidecast://models/sales/2"
    )


def test_natively_deployed_endpoints_are_described_and_listed(
    aws: Any, client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    client.post("/v1/models/sales/versions/1/approve", headers={"X-API-Key": keys["admin"]})
    deployed = client.post(
        "/v1/endpoints", json={"name": "native", "group": "sales"}, headers={"X-API-Key": keys["admin"]}
    )
    assert deployed.status_code == 201
    described = ok(aws("DescribeEndpoint", {"EndpointName": "native"}))
    assert (
        described["EndpointStatus"] == "InService"
        and described["ProductionVariants"][0]["VariantName"] == "AllTraffic"
    )
    assert invoke(client, keys, "native").headers["x-amzn-invoked-production-variant"] == "AllTraffic"
    serve(aws, "m", "c", "second")
    in_service(aws, "second")
    listed = ok(aws("ListEndpoints", {}))["Endpoints"]
    assert [e["EndpointName"] for e in listed] == ["second", "native"]  # newest first
    assert [e["EndpointName"] for e in ok(aws("ListEndpoints", {"NameContains": "nat"}))["Endpoints"]] == [
        "native"
    ]


def test_model_packages_are_registry_versions(
    aws: Any, client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    ok(
        aws(
            "CreateModelPackageGroup",
            {"ModelPackageGroupName": "forecasts", "ModelPackageGroupDescription": "d"},
        )
    )
    refused(
        aws("CreateModelPackageGroup", {"ModelPackageGroupName": "forecasts"}),
        "ValidationException",
        "already exists",
    )
    spec = {"Containers": [{"Image": "tidecast/forecaster", "ModelDataUrl": "tidecast://models/sales/1"}]}
    # the same group: the version itself becomes the package
    same = ok(aws("CreateModelPackage", {"ModelPackageGroupName": "sales", "InferenceSpecification": spec}))
    assert same["ModelPackageArn"].endswith(":model-package/sales/1")
    # another group: registered there as its next version, and approved on creation
    other = ok(
        aws(
            "CreateModelPackage",
            {
                "ModelPackageGroupName": "forecasts",
                "InferenceSpecification": spec,
                "ModelApprovalStatus": "Approved",
                "ModelPackageDescription": "copy",
            },
        )
    )
    assert other["ModelPackageArn"].endswith(":model-package/forecasts/1")
    assert registry.get("forecasts", 1).status.value == "Approved"
    assert registry.get("forecasts", 1).manifest_digest == registry.get("sales", 1).manifest_digest
    refused(
        aws("CreateModelPackage", {"ModelPackageGroupName": "forecasts"}),
        "ValidationException",
        "InferenceSpecification",
    )
    refused(
        aws("CreateModelPackage", {"ModelPackageGroupName": "nope", "InferenceSpecification": spec}),
        "ValidationException",
        "does not exist",
    )

    listed = ok(aws("ListModelPackages", {"ModelPackageGroupName": "forecasts"}))["ModelPackageSummaryList"]
    assert [
        (p["ModelPackageVersion"], p["ModelApprovalStatus"], p["ModelPackageDescription"]) for p in listed
    ] == [(1, "Approved", "copy")]
    arn = same["ModelPackageArn"]
    assert (
        ok(aws("DescribeModelPackage", {"ModelPackageName": arn}))["ModelApprovalStatus"]
        == "PendingManualApproval"
    )
    ok(
        aws(
            "UpdateModelPackage",
            {"ModelPackageArn": arn, "ModelApprovalStatus": "Rejected", "ApprovalDescription": "too biased"},
        )
    )
    assert registry.get("sales", 1).status.value == "Rejected"
    described = ok(aws("DescribeModelPackage", {"ModelPackageName": "sales/1"}))
    assert described["ModelApprovalStatus"] == "Rejected" and described["ApprovalDescription"] == "too biased"
    refused(
        aws("UpdateModelPackage", {"ModelPackageArn": arn, "ModelApprovalStatus": "PendingManualApproval"}),
        "ValidationException",
        "cannot become",
    )
    refused(
        aws("UpdateModelPackage", {"ModelPackageArn": arn, "ModelApprovalStatus": "Maybe"}),
        "ValidationException",
        "not one of",
    )
    refused(
        aws("DescribeModelPackage", {"ModelPackageName": "sales/7"}), "ValidationException", "does not exist"
    )
    groups = [
        g["ModelPackageGroupName"]
        for g in ok(aws("ListModelPackageGroups", {}))["ModelPackageGroupSummaryList"]
    ]
    assert groups == ["sales", "forecasts"]
    # approval through the native API shows through the AWS one
    client.post("/v1/models/sales/versions/1/approve", headers={"X-API-Key": keys["admin"]})
    assert ok(aws("DescribeModelPackage", {"ModelPackageName": arn}))["ModelApprovalStatus"] == "Approved"


def test_runtime_problems_carry_the_aws_members_and_native_ones_do_not(
    aws: Any, client: TestClient, keys: dict[str, str], served: str
) -> None:
    in_service(aws, "ep")
    bad = client.post(
        "/endpoints/ep/invocations",
        json={"instances": [{"start": "someday", "target": [1.0]}]},
        headers={"X-API-Key": keys["forecast"]},
    )
    assert bad.status_code == 400 and bad.headers["x-amzn-errortype"] == "ValidationError"
    problem = bad.json()
    assert problem["__type"] == "ValidationError" and problem["message"] == problem["detail"]
    assert problem["status"] == 400 and problem["title"] == "Invalid request"
    assert problem["field"] == "instances[0].start"  # the problem's own members stay
    native = client.post(
        "/v1/endpoints/ep/forecast", json={"item_ids": ["nope"]}, headers={"X-API-Key": keys["forecast"]}
    )
    assert (
        native.status_code == 404
        and "__type" not in native.json()
        and "x-amzn-errortype" not in native.headers
    )

    lines = invoke(client, keys, "ep", Accept="application/jsonlines")
    assert lines.headers["content-type"].startswith("application/jsonlines")
    assert [json.loads(line) for line in lines.text.splitlines()] == invoke(client, keys, "ep").json()[
        "predictions"
    ]
    refused_csv = invoke(client, keys, "ep", Accept="text/csv")
    assert refused_csv.status_code == 400 and refused_csv.json()["__type"] == "ValidationError"
    anything = invoke(client, keys, "ep", Accept="*/*")
    assert anything.headers["content-type"] == "application/json"
    off_grid = {"instances": [{"start": "2024-01-01 05:00:00", "target": [10.0] * 21}]}
    answer = client.post("/endpoints/ep/invocations", json=off_grid, headers={"X-API-Key": keys["forecast"]})
    assert (
        answer.status_code == 400
        and "2024-01-01 00:00:00 and 2024-01-02 00:00:00" in answer.json()["message"]
    )


def test_the_database_keeps_what_a_restart_needs(
    aws: Any, settings: ServiceSettings, database: Database, keys: dict[str, str], served: str
) -> None:
    in_service(aws, "ep")
    with TestClient(create_app(settings, database=database)) as restarted:
        described = restarted.post(
            "/",
            content=b'{"EndpointName": "ep"}',
            headers={"X-API-Key": keys["admin"], "X-Amz-Target": "SageMaker.DescribeEndpoint"},
        ).json()
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c1"
        assert invoke(restarted, keys, "ep").headers["x-amzn-invoked-production-variant"] == "v1"
        # a service stopped while a model loaded leaves no endpoint Updating for ever: the old
        # model serves, and the reason says what to do
        context = restarted.app.state.aws  # type: ignore[attr-defined]
        context.resources.update("endpoint", "ep", EndpointStatus="Updating")
        described = hosting.describe_endpoint(context, {"EndpointName": "ep"})
        assert described["EndpointStatus"] == "InService" and "UpdateEndpoint" in described["FailureReason"]


def test_unknown_operations_and_roles_are_refused(aws: Any) -> None:
    refused(aws("CreateTrainingJob", {}), "UnknownOperationException", "SageMaker.CreateTrainingJob")
    refused(aws("ListEndpoints", {}, key="forecast"), "AccessDeniedException", "admin")


def test_a_failed_update_keeps_serving_the_old_model(
    aws: Any,
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    served: str,
    other_model_folder: Path,
    tmp_path: Path,
) -> None:
    from artifact_tampering import swap_payload

    in_service(aws, "ep")
    swapped = registry.register("sales", other_model_folder)
    swap_payload(registry.artifacts.get_model(swapped.artifact_uri), tmp_path / "ran")
    ok(
        aws(
            "CreateModel",
            {"ModelName": "m2", "PrimaryContainer": {"ModelDataUrl": "tidecast://models/sales/2"}},
        )
    )
    variant = {"VariantName": "v2", "ModelName": "m2"}
    ok(aws("CreateEndpointConfig", {"EndpointConfigName": "c2", "ProductionVariants": [variant]}))
    ok(aws("UpdateEndpoint", {"EndpointName": "ep", "EndpointConfigName": "c2"}))
    described = in_service(aws, "ep")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c1"
    assert "not the one registered" in described["FailureReason"]
    assert not (tmp_path / "ran").exists()
    answer = invoke(client, keys, "ep")
    assert len(answer.json()["predictions"][0]["mean"]) == 3  # still version 1's horizon
    assert answer.headers["x-amzn-invoked-production-variant"] == "v1"
