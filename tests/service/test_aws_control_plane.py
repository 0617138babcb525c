"""SageMaker's control plane in process: each operation's answers and refusals, on the
conftest's real SeasonalNaive model folders (no training: jobs stay queued without a worker).

Calls go through the app as AWS clients send them (``POST /``, ``X-Amz-Target``), with an
admin API key, which the control plane accepts beside SigV4 (tests/service/test_aws_sigv4.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import tiny_panel
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.aws import hosting


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    (tmp_path / "lake" / "bucket" / "train").mkdir(parents=True)
    tiny_panel().to_csv(tmp_path / "lake" / "bucket" / "train" / "data.csv", index=False)
    return ServiceSettings(home=tmp_path, database_url=database_url, data_root=tmp_path / "lake")


@pytest.fixture
def aws(client: TestClient, keys: dict[str, str]) -> Iterator[Any]:
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

    yield call


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


def test_a_model_config_and_endpoint_serve_a_registered_version(
    aws: Any,
    client: TestClient,
    keys: dict[str, str],
    registry: Registry,
    model_folder: Path,
    other_model_folder: Path,
) -> None:
    registry.register("sales", model_folder)  # pending: approval gates packages, not endpoints
    serve(aws, "m1", "c1", "ep")
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


def job(name: str = "weekly-job", **changes: Any) -> dict[str, Any]:
    body = {
        "AutoMLJobName": name,
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
        "RoleArn": "arn:aws:iam::000000000000:role/r",
        "AutoMLProblemTypeConfig": {
            "TimeSeriesForecastingJobConfig": {
                "ForecastFrequency": "D",
                "ForecastHorizon": 3,
                "TimeSeriesConfig": {
                    "TargetAttributeName": "target",
                    "TimestampAttributeName": "timestamp",
                    "ItemIdentifierAttributeName": "item_id",
                },
            }
        },
    }
    return {**body, **changes}


def test_create_automl_job_checks_what_the_api_checks(aws: Any) -> None:
    refused(aws("CreateAutoMLJobV2", job("x" * 33)), "ValidationException", "length less than or equal to 32")
    refused(aws("CreateAutoMLJobV2", job("ends-")), "ValidationException", "regular")
    refused(
        aws("CreateAutoMLJobV2", {k: v for k, v in job().items() if k != "RoleArn"}),
        "ValidationException",
        "'RoleArn'",
    )
    refused(
        aws("CreateAutoMLJobV2", {k: v for k, v in job().items() if k != "OutputDataConfig"}),
        "ValidationException",
        "'OutputDataConfig'",
    )
    channel = job()["AutoMLJobInputDataConfig"][0]
    refused(
        aws("CreateAutoMLJobV2", job(AutoMLJobInputDataConfig=[{**channel, "ChannelType": "validation"}])),
        "ValidationException",
        "ChannelType 'training'",
    )
    refused(
        aws("CreateAutoMLJobV2", job(AutoMLJobInputDataConfig=[channel, channel])),
        "ValidationException",
        "ChannelType 'training'",
    )
    refused(
        aws("CreateAutoMLJobV2", job(AutoMLProblemTypeConfig={"ImageClassificationJobConfig": {}})),
        "ValidationException",
        "time-series",
    )
    refused(
        aws("CreateAutoMLJobV2", job(ModelDeployConfig={"AutoGenerateEndpointName": False})),
        "ValidationException",
        "EndpointName",
    )
    config = job()["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]
    refused(
        aws(
            "CreateAutoMLJobV2",
            job(AutoMLProblemTypeConfig={"TimeSeriesForecastingJobConfig": {**config, "ForecastHorizon": 0}}),
        ),
        "ValidationException",
        "ForecastHorizon",
    )
    refused(
        aws("CreateAutoMLJobV2", job(OutputDataConfig={"S3OutputPath": "file:///etc/"})),
        "ValidationException",
        "OutputDataConfig.S3OutputPath",
    )
    refused(aws("CreateAutoMLJobV2", b"[1, 2"), "SerializationException")
    refused(
        aws("DescribeAutoMLJobV2", {"AutoMLJobName": "weekly-job"}),
        "ResourceNotFound",
        "Could not find AutoML job",
    )


def test_a_job_is_described_listed_and_stopped_and_its_endpoint_follows(aws: Any) -> None:
    deploy = {"AutoGenerateEndpointName": True}
    ok(aws("CreateAutoMLJobV2", job(ModelDeployConfig=deploy)))
    refused(aws("CreateAutoMLJobV2", job()), "ResourceInUse", "weekly-job")
    described = ok(aws("DescribeAutoMLJobV2", {"AutoMLJobName": "weekly-job"}))
    assert (described["AutoMLJobStatus"], described["AutoMLJobSecondaryStatus"]) == ("InProgress", "Starting")
    assert described["RoleArn"] == "arn:aws:iam::000000000000:role/r" and "BestCandidate" not in described
    assert described["ModelDeployConfig"] == deploy
    endpoint = ok(aws("DescribeEndpoint", {"EndpointName": "weekly-job-endpoint"}))
    assert endpoint["EndpointStatus"] == "Creating"  # until the job completes
    summaries = ok(aws("ListAutoMLJobs", {"StatusEquals": "InProgress"}))["AutoMLJobSummaries"]
    assert [s["AutoMLJobName"] for s in summaries] == ["weekly-job"]
    assert ok(aws("ListCandidatesForAutoMLJob", {"AutoMLJobName": "weekly-job"}))["Candidates"] == []
    ok(aws("StopAutoMLJob", {"AutoMLJobName": "weekly-job"}))
    stopped = ok(aws("DescribeAutoMLJobV2", {"AutoMLJobName": "weekly-job"}))
    assert (stopped["AutoMLJobStatus"], stopped["AutoMLJobSecondaryStatus"]) == ("Stopped", "Stopped")
    failed = ok(aws("DescribeEndpoint", {"EndpointName": "weekly-job-endpoint"}))
    assert failed["EndpointStatus"] == "Failed" and "Stopped" in failed["FailureReason"]


def test_jobs_submitted_natively_are_described_too(
    aws: Any, client: TestClient, keys: dict[str, str], settings: ServiceSettings
) -> None:
    data = str(settings.data_root / "bucket" / "train" / "data.csv")  # type: ignore[operator]
    native = client.post(
        "/v1/jobs",
        json={"name": "native-job", "data": data, "horizon": 3},
        headers={"X-API-Key": keys["admin"]},
    )
    assert native.status_code == 201, native.text
    ok(aws("CreateAutoMLJobV2", job()))
    described = ok(aws("DescribeAutoMLJobV2", {"AutoMLJobName": "native-job"}))
    assert described["AutoMLJobStatus"] == "InProgress" and "RoleArn" not in described
    names = [s["AutoMLJobName"] for s in ok(aws("ListAutoMLJobs", {}))["AutoMLJobSummaries"]]
    assert names == ["weekly-job", "native-job"]
    refused(aws("CreateAutoMLJobV2", job("native-job")), "ResourceInUse", "native-job")


def test_unknown_operations_and_roles_are_refused(aws: Any) -> None:
    refused(aws("CreateTrainingJob", {}), "UnknownOperationException", "SageMaker.CreateTrainingJob")
    refused(aws("ListEndpoints", {}, key="forecast"), "AccessDeniedException", "admin")


def test_runtime_problems_carry_the_aws_members_and_native_ones_do_not(
    aws: Any, client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    registry.register("sales", model_folder)
    serve(aws, "m", "c", "ep")
    in_service(aws, "ep")
    bad = client.post(
        "/endpoints/ep/invocations",
        json={"instances": [{"start": "someday", "target": [1.0]}]},
        headers={"X-API-Key": keys["forecast"]},
    )
    assert bad.status_code == 422 and bad.headers["x-amzn-errortype"] == "ValidationError"
    problem = bad.json()
    assert problem["__type"] == "ValidationError" and problem["message"] == problem["detail"]
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
    assert refused_csv.status_code == 406 and refused_csv.json()["__type"] == "ValidationError"
    anything = invoke(client, keys, "ep", Accept="*/*")
    assert anything.headers["content-type"] == "application/json"
    off_grid = {"instances": [{"start": "2024-01-01 05:00:00", "target": [10.0] * 21}]}
    answer = client.post("/endpoints/ep/invocations", json=off_grid, headers={"X-API-Key": keys["forecast"]})
    assert (
        answer.status_code == 422
        and "2024-01-01 00:00:00 and 2024-01-02 00:00:00" in answer.json()["message"]
    )


def test_the_database_keeps_what_a_restart_needs(
    aws: Any,
    settings: ServiceSettings,
    database: Database,
    registry: Registry,
    model_folder: Path,
    keys: dict[str, str],
) -> None:
    registry.register("sales", model_folder)
    serve(aws, "m", "c", "ep")
    in_service(aws, "ep")
    with TestClient(create_app(settings, database=database)) as restarted:
        described = restarted.post(
            "/",
            content=b'{"EndpointName": "ep"}',
            headers={"X-API-Key": keys["admin"], "X-Amz-Target": "SageMaker.DescribeEndpoint"},
        ).json()
        assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "c"
        assert invoke(restarted, keys, "ep").headers["x-amzn-invoked-production-variant"] == "v1"
        # a service stopped while a model loaded leaves no endpoint Updating for ever: the old
        # model serves, and the reason says what to do
        context = restarted.app.state.aws  # type: ignore[attr-defined]
        context.resources.update("endpoint", "ep", EndpointStatus="Updating")
        described = hosting.describe_endpoint(context, {"EndpointName": "ep"})
        assert described["EndpointStatus"] == "InService" and "UpdateEndpoint" in described["FailureReason"]
