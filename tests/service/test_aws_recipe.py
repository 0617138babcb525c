"""The SageMaker AutoML recipe's command sequence against `tidecast serve`, unchanged but for the
endpoint URL and the credentials: boto3 first, then the AWS CLI.

A real service (``python -m tidecast.service.server``, API keys on, a data root standing in
for S3) on 127.0.0.1; credentials issued by ``tidecast keys create-aws``; every call signed
with SigV4 by botocore. The sequence: the job created from its JSON (ChannelType, with the
validation channel listed first), described until Completed, a model from its best
candidate's container, an endpoint configuration and an endpoint, the in-service waiter,
forecasts through ``sagemaker-runtime``, a model package registered and approved, the
endpoint deleted and the deleted waiter. Forecasts are compared number for number with the
model folder the job wrote to its S3OutputPath, loaded in this process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from aws_recipe import (
    BUCKET,
    HORIZON,
    ROLE,
    Recipe,
    deepar_request,
    error,
    job_config,
    running_recipe,
    wait_for_job,
)
from botocore.exceptions import ClientError

from tidecast.service.predictor import LoadedModel
from tidecast.service.runtime_contract import predict

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recipe]:
    with running_recipe(tmp_path_factory.mktemp("aws-home"), tmp_path_factory.mktemp("lake")) as running:
        yield running


def test_the_recipe_runs_with_boto3(recipe: Recipe) -> None:
    sagemaker, runtime = recipe.client("sagemaker"), recipe.client("sagemaker-runtime")
    name = "retail-demand-forecast-abc123"
    created = sagemaker.create_auto_ml_job_v2(**job_config(name, "auto-forecast-endpoint"))
    assert created["AutoMLJobArn"] == f"arn:aws:sagemaker:us-east-1:000000000000:automl-job/{name}"
    with pytest.raises(ClientError) as taken:
        sagemaker.create_auto_ml_job_v2(**job_config(name, None))
    assert (
        taken.value.response["Error"]["Code"] == "ResourceInUse"
        and name in taken.value.response["Error"]["Message"]
    )

    described = wait_for_job(sagemaker, name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    best = described["BestCandidate"]
    objective = best["FinalAutoMLJobObjectiveMetric"]
    assert objective["MetricName"] == "MAPE" and 0 < objective["Value"] < 1
    assert best["InferenceContainers"][0]["ModelDataUrl"] == "tidecast://models/default/1"
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/automl-output/"
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    assert candidates[0]["CandidateName"] == best["CandidateName"]  # the shipped one first
    by_value = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    values = [
        c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in by_value if "FinalAutoMLJobObjectiveMetric" in c
    ]
    assert values == sorted(values, reverse=True) and len(by_value) == len(candidates)
    assert [j["AutoMLJobName"] for j in sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]] == [name]

    # OutputDataConfig: the run written below S3OutputPath/<job name>/ (the data root stands in for S3),
    # trained on the training channel although the validation channel is listed first
    output = recipe.data_root / BUCKET / "automl-output" / name
    forecasts = pd.read_csv(output / "forecasts.csv", parse_dates=["timestamp"])
    assert forecasts["timestamp"].min() == recipe.train["timestamp"].max() + pd.Timedelta(days=1)
    model = LoadedModel.load(output / "model")

    # ModelDeployConfig: the job's own endpoint
    waiter = {"Delay": 1, "MaxAttempts": 120}
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName="auto-forecast-endpoint", WaiterConfig=waiter
    )
    assert sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)["ModelDeployResult"] == {
        "EndpointName": "auto-forecast-endpoint"
    }

    # step 5: model, endpoint configuration, endpoint
    sagemaker.create_model(
        ModelName="automl-forecast-model-abc123",
        PrimaryContainer=best["InferenceContainers"][0],
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="automl-forecast-config-abc123",
        ProductionVariants=[
            {
                "VariantName": "primary",
                "ModelName": "automl-forecast-model-abc123",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sagemaker.create_endpoint(
        EndpointName="automl-forecast-endpoint-abc123", EndpointConfigName="automl-forecast-config-abc123"
    )
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName="automl-forecast-endpoint-abc123", WaiterConfig=waiter
    )
    endpoint = sagemaker.describe_endpoint(EndpointName="automl-forecast-endpoint-abc123")
    assert (
        endpoint["EndpointStatus"] == "InService"
        and endpoint["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    )
    listed = {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}
    assert listed == {"auto-forecast-endpoint", "automl-forecast-endpoint-abc123"}

    # step 6: forecasts through sagemaker-runtime, as generate_automl_forecasts.py asks for them
    items = sorted(recipe.validation["item_id"].unique())
    for item in items:
        request = deepar_request(recipe.validation, item, ["0.1", "0.5", "0.9"])
        answer = runtime.invoke_endpoint(
            EndpointName="automl-forecast-endpoint-abc123",
            ContentType="application/json",
            Body=json.dumps(request),
        )
        assert answer["InvokedProductionVariant"] == "primary"
        result = json.loads(answer["Body"].read())
        assert result == predict(model, request)
        assert len(result["predictions"][0]["mean"]) == HORIZON
        assert set(result["predictions"][0]["quantiles"]) == {"0.1", "0.5", "0.9"}
    lines = runtime.invoke_endpoint(
        EndpointName="auto-forecast-endpoint",
        ContentType="application/json",
        Accept="application/jsonlines",
        Body=json.dumps(deepar_request(recipe.validation, items[0], ["0.5"])),
    )
    assert (
        lines["ContentType"] == "application/jsonlines" and lines["InvokedProductionVariant"] == "AllTraffic"
    )
    expected = predict(model, deepar_request(recipe.validation, items[0], ["0.5"]))["predictions"]
    assert [json.loads(line) for line in lines["Body"].read().decode().splitlines()] == expected

    # step 11: the model registry, then approval
    sagemaker.create_model_package_group(
        ModelPackageGroupName="automl-forecasting-model",
        ModelPackageGroupDescription="AutoML Forecasting Model Versions",
    )
    package = sagemaker.create_model_package(
        ModelPackageGroupName="automl-forecasting-model",
        ModelPackageDescription="AutoML forecasting model",
        InferenceSpecification={"Containers": [best["InferenceContainers"][0]]},
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={
            "endpoint_name": "automl-forecast-endpoint-abc123",
            "model_type": "AutoML-TimeSeries",
        },
    )
    arn = package["ModelPackageArn"]
    assert arn.endswith(":model-package/automl-forecasting-model/1")
    summaries = sagemaker.list_model_packages(ModelPackageGroupName="automl-forecasting-model")[
        "ModelPackageSummaryList"
    ]
    assert [(s["ModelPackageVersion"], s["ModelApprovalStatus"]) for s in summaries] == [
        (1, "PendingManualApproval")
    ]
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    described_package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described_package["ModelApprovalStatus"] == "Approved"
    assert described_package["CustomerMetadataProperties"]["model_type"] == "AutoML-TimeSeries"
    groups = sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert {"automl-forecasting-model", "default"} <= {g["ModelPackageGroupName"] for g in groups}
    # the same approval the native registry shows
    native = recipe.service.call("GET", "/v1/models/automl-forecasting-model/versions/1").json()
    assert native["status"] == "Approved"

    # cleanup, with the deleted waiter
    sagemaker.delete_endpoint(EndpointName="automl-forecast-endpoint-abc123")
    sagemaker.get_waiter("endpoint_deleted").wait(
        EndpointName="automl-forecast-endpoint-abc123", WaiterConfig=waiter
    )
    sagemaker.delete_endpoint_config(EndpointConfigName="automl-forecast-config-abc123")
    sagemaker.delete_model(ModelName="automl-forecast-model-abc123")


def test_boto3_shows_the_servers_reason(recipe: Recipe) -> None:
    sagemaker, runtime = recipe.client("sagemaker"), recipe.client("sagemaker-runtime")
    code, message = error(sagemaker.describe_auto_ml_job_v2, AutoMLJobName="no-such-job")
    assert (code, message) == ("ResourceNotFound", "Could not find AutoML job with name no-such-job.")
    code, message = error(sagemaker.describe_endpoint, EndpointName="no-such-endpoint")
    assert code == "ValidationException" and message.startswith('Could not find endpoint "arn:aws:sagemaker:')
    both = job_config("named-twice", None) | {
        "ModelDeployConfig": {"AutoGenerateEndpointName": True, "EndpointName": "x"}
    }
    code, message = error(sagemaker.create_auto_ml_job_v2, **both)
    assert code == "ValidationException" and "AutoGenerateEndpointName" in message
    missing = job_config("missing-data", None)
    missing["AutoMLJobInputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{BUCKET}/nothing/"
    code, message = error(sagemaker.create_auto_ml_job_v2, **missing)
    assert code == "ValidationException" and "does not exist" in message
    code, message = error(sagemaker.create_model, ModelName="m", PrimaryContainer={"Image": "some/image"})
    assert code == "ValidationException" and "tidecast://models/" in message

    # the runtime: an untrained quantile and an off-grid start are refused, naming what would do
    if "auto-forecast-endpoint" in {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]}:
        item = sorted(recipe.validation["item_id"].unique())[0]
        request = deepar_request(recipe.validation, item, ["0.25"])
        code, message = error(
            runtime.invoke_endpoint,
            EndpointName="auto-forecast-endpoint",
            ContentType="application/json",
            Body=json.dumps(request),
        )
        assert code == "ValidationError" and "0.25 was not trained" in message and "'0.9'" in message
        request = deepar_request(recipe.validation, item, ["0.5"])
        request["instances"][0]["start"] = "2023-05-01 05:00:00"
        code, message = error(
            runtime.invoke_endpoint,
            EndpointName="auto-forecast-endpoint",
            ContentType="application/json",
            Body=json.dumps(request),
        )
        assert code == "ValidationError" and "grid" in message
    code, message = error(
        runtime.invoke_endpoint, EndpointName="nope", ContentType="application/json", Body=b"{}"
    )
    assert code == "ValidationError" and "nope" in message


AWS = shutil.which("aws") or str(Path(sys.executable).with_name("aws"))


@pytest.mark.skipif(not Path(AWS).exists(), reason="the AWS CLI (pip install awscli) is not installed")
def test_the_recipe_runs_with_the_aws_cli(recipe: Recipe, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials")
    )

    def aws(*args: str) -> str:
        done = subprocess.run([AWS, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    # `aws configure`, non-interactively: the only change a user makes, with --endpoint-url
    aws("configure", "set", "aws_access_key_id", recipe.key_id)
    aws("configure", "set", "aws_secret_access_key", recipe.secret)
    aws("configure", "set", "region", "us-east-1")
    url = ["--endpoint-url", recipe.service.url]

    name = "retail-demand-forecast-cli"
    (tmp_path / "automl_job_config.json").write_text(json.dumps(job_config(name, None)))
    aws(
        "sagemaker",
        "create-auto-ml-job-v2",
        "--cli-input-json",
        f"file://{tmp_path / 'automl_job_config.json'}",
        *url,
    )
    deadline = time.monotonic() + 400
    status = ""
    while time.monotonic() < deadline:
        status = aws(
            "sagemaker",
            "describe-auto-ml-job-v2",
            "--auto-ml-job-name",
            name,
            "--query",
            "AutoMLJobStatus",
            "--output",
            "text",
            *url,
        ).strip()
        if status in ("Completed", "Failed"):
            break
        time.sleep(2)
    assert status == "Completed"
    summary = json.loads(
        aws(
            "sagemaker",
            "describe-auto-ml-job-v2",
            "--auto-ml-job-name",
            name,
            "--query",
            "{Status: AutoMLJobStatus, BestCandidate: BestCandidate.CandidateName, Score: BestCandidate.FinalAutoMLJobObjectiveMetric}",
            *url,
        )
    )
    assert (
        summary["Status"] == "Completed"
        and summary["BestCandidate"]
        and summary["Score"]["MetricName"] == "MAPE"
    )
    container = aws(
        "sagemaker",
        "describe-auto-ml-job-v2",
        "--auto-ml-job-name",
        name,
        "--query",
        "BestCandidate.InferenceContainers[0]",
        *url,
    )
    aws(
        "sagemaker",
        "create-model",
        "--model-name",
        "cli-model",
        "--primary-container",
        container,
        "--execution-role-arn",
        ROLE,
        *url,
    )
    variants = [
        {
            "VariantName": "primary",
            "ModelName": "cli-model",
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0,
        }
    ]
    aws(
        "sagemaker",
        "create-endpoint-config",
        "--endpoint-config-name",
        "cli-config",
        "--production-variants",
        json.dumps(variants),
        *url,
    )
    aws(
        "sagemaker",
        "create-endpoint",
        "--endpoint-name",
        "cli-endpoint",
        "--endpoint-config-name",
        "cli-config",
        *url,
    )
    time.sleep(3)  # the waiter polls every 30 s: give the model its seconds to load first
    aws("sagemaker", "wait", "endpoint-in-service", "--endpoint-name", "cli-endpoint", *url)
    described = json.loads(
        aws(
            "sagemaker",
            "describe-endpoint",
            "--endpoint-name",
            "cli-endpoint",
            "--query",
            "{Status: EndpointStatus, Instance: ProductionVariants[0].CurrentInstanceCount}",
            *url,
        )
    )
    assert described == {"Status": "InService", "Instance": 1}
    item = sorted(recipe.validation["item_id"].unique())[0]
    (tmp_path / "request.json").write_text(
        json.dumps(deepar_request(recipe.validation, item, ["0.1", "0.9"]))
    )
    aws(
        "sagemaker-runtime",
        "invoke-endpoint",
        "--endpoint-name",
        "cli-endpoint",
        "--content-type",
        "application/json",
        "--body",
        f"fileb://{tmp_path / 'request.json'}",
        str(tmp_path / "out.json"),
        *url,
    )
    predictions = json.loads((tmp_path / "out.json").read_text())["predictions"]
    assert len(predictions[0]["mean"]) == HORIZON and set(predictions[0]["quantiles"]) == {"0.1", "0.9"}
    aws("sagemaker", "delete-endpoint", "--endpoint-name", "cli-endpoint", *url)
    aws("sagemaker", "wait", "endpoint-deleted", "--endpoint-name", "cli-endpoint", *url)
    aws("sagemaker", "delete-endpoint-config", "--endpoint-config-name", "cli-config", *url)
    aws("sagemaker", "delete-model", "--model-name", "cli-model", *url)
