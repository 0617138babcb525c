"""SageMaker's AutoML job calls in process: CreateAutoMLJobV2's checks, describe, list, stop,
and a job's ModelDeployConfig endpoint following the job (no worker runs: jobs stay queued;
tests/service/test_aws_recipe.py trains one for real).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aws_calls import caller, ok, refused
from conftest import tiny_panel
from tidecast.automl.forecaster import AutoForecaster
from tidecast.jobs.run_files import copy_run, run_folder
from tidecast.jobs.sagemaker import SAGEMAKER_METRICS
from tidecast.jobs.store import JobStore
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.reports.run import MODEL_DIR, REPORT, write_run


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    (tmp_path / "lake" / "bucket" / "train").mkdir(parents=True)
    tiny_panel().to_csv(tmp_path / "lake" / "bucket" / "train" / "data.csv", index=False)
    return ServiceSettings(home=tmp_path, database_url=database_url, data_root=tmp_path / "lake")


@pytest.fixture
def aws(client: TestClient, keys: dict[str, str]) -> Any:
    return caller(client, keys)


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


def test_a_rerun_with_the_same_deploy_config_is_resource_in_use_and_generated_names_are_unique(
    aws: Any,
) -> None:
    """The endpoint was checked first, so a rerun got a ValidationException about its endpoint;
    generated names cut the job's name at 23 characters, and the recipe's names share those."""
    deploy = {"AutoGenerateEndpointName": True}
    for name in ("retail-demand-forecast-abc123", "retail-demand-forecast-q9w8e7"):
        ok(aws("CreateAutoMLJobV2", job(name, ModelDeployConfig=deploy)))
        endpoint = ok(aws("DescribeEndpoint", {"EndpointName": f"{name}-endpoint"}))
        assert endpoint["EndpointStatus"] == "Creating"
    again = aws("CreateAutoMLJobV2", job("retail-demand-forecast-abc123", ModelDeployConfig=deploy))
    refused(again, "ResourceInUse", "retail-demand-forecast-abc123")


def test_when_a_model_holds_the_jobs_model_name_then_its_endpoint_fails_with_the_reason(
    aws: Any, registry: Registry, model_folder: Path, database: Database
) -> None:
    """It stayed Creating for ever: the endpoint_in_service waiter timed out with no reason."""
    version = registry.register("default", model_folder)
    ok(aws("CreateAutoMLJobV2", job(ModelDeployConfig={"EndpointName": "shop"})))
    container = {"Image": "tidecast", "ModelDataUrl": f"tidecast://models/default/{version.version}"}
    ok(
        aws(
            "CreateModel",
            {"ModelName": "weekly-job-model", "PrimaryContainer": container, "ExecutionRoleArn": "r"},
        )
    )
    store = JobStore(database.sessions)
    claimed = store.claim_next(1, "h")
    assert claimed is not None and claimed.name == "weekly-job"
    store.complete(claimed.id, [], version.id)
    described = ok(aws("DescribeAutoMLJobV2", {"AutoMLJobName": "weekly-job"}))
    assert described["AutoMLJobStatus"] == "Completed"
    endpoint = ok(aws("DescribeEndpoint", {"EndpointName": "shop"}))
    assert endpoint["EndpointStatus"] == "Failed"
    assert endpoint["FailureReason"].startswith("a model named weekly-job-model already exists")


def test_when_an_ended_job_is_stopped_then_the_refusal_names_the_job_and_its_status(
    aws: Any, database: Database
) -> None:
    """It named tidecast's internal job id ("job 'de116c00…' has already ended (Completed)")."""
    ok(aws("CreateAutoMLJobV2", job()))
    ok(aws("CreateAutoMLJobV2", job("queued-job")))
    store = JobStore(database.sessions)
    claimed = store.claim_next(1, "h")
    assert claimed is not None and claimed.name == "weekly-job"
    store.complete(claimed.id, [], None)
    message = refused(aws("StopAutoMLJob", {"AutoMLJobName": "weekly-job"}), "ValidationException")
    assert message == (
        "The request was rejected because the AutoML job weekly-job is in status Completed: "
        "it has ended, there is nothing to stop"
    )
    assert claimed.id not in message
    ok(aws("StopAutoMLJob", {"AutoMLJobName": "queued-job"}))  # queued: stopped at once
    again = refused(aws("StopAutoMLJob", {"AutoMLJobName": "queued-job"}), "ValidationException")
    assert "AutoML job queued-job is in status Stopped" in again
    refused(aws("StopAutoMLJob", {"AutoMLJobName": "no-such-job"}), "ResourceNotFound", "no-such-job")


def test_when_a_job_completes_then_its_candidates_carry_the_metrics_its_run_measured(
    aws: Any, database: Database, registry: Registry, settings: ServiceSettings
) -> None:
    """Candidates had ``CandidateSteps: []`` and no ``CandidateProperties``: a script reading
    ``CandidateProperties["CandidateMetrics"]`` stopped on a KeyError."""
    ok(aws("CreateAutoMLJobV2", job()))
    store = JobStore(database.sessions)
    claimed = store.claim_next(1, "h")
    assert claimed is not None
    # the worker's steps, on a real fit: the run folder, the copy to S3OutputPath, the version
    auto = AutoForecaster(horizon=3, models=["SeasonalNaive", "Naive"], backtest_windows=2, n_jobs=1)
    auto.fit(tiny_panel())
    folder = run_folder(settings, claimed.id)
    write_run(auto, auto.predict(), folder)
    copy_run(folder, claimed.config["output"], claimed.name)
    version = registry.register("default", folder / MODEL_DIR, source_job_id=claimed.id)
    store.complete(claimed.id, json.loads(auto.leaderboard().to_json(orient="records")), version.id)

    report = json.loads((folder / REPORT).read_text())
    best = ok(aws("DescribeAutoMLJobV2", {"AutoMLJobName": "weekly-job"}))["BestCandidate"]
    measured = {c["model"]: c["window_metrics"] for c in report["candidates"]}[report["selected"]]
    metrics = {m["MetricName"]: m for m in best["CandidateProperties"]["CandidateMetrics"]}
    assert set(metrics) == {"AverageWeightedQuantileLoss", "WAPE", "MAPE", "RMSE", "MASE"}
    for aws_name, ours in SAGEMAKER_METRICS.items():
        assert metrics[aws_name] == {
            "MetricName": aws_name,
            "StandardMetricName": aws_name,
            "Value": pytest.approx(sum(w[ours] for w in measured) / len(measured)),
            "Set": "Validation",
        }
    backtests = "s3://bucket/out/weekly-job/backtest_forecasts.csv"
    assert best["CandidateProperties"]["CandidateArtifactLocations"] == {"BacktestResults": backtests}
    assert (settings.data_root / "bucket/out/weekly-job/backtest_forecasts.csv").is_file()  # type: ignore[operator]
    # every candidate, the ensemble too: on the windows its report scored it on (the held-out one)
    windows = {c["model"]: c["window_metrics"] for c in report["candidates"]}
    windows["WeightedEnsemble"] = [w for w in report["ensemble"]["window_metrics"] if w]
    listed = ok(aws("ListCandidatesForAutoMLJob", {"AutoMLJobName": "weekly-job"}))["Candidates"]
    assert {c["CandidateName"].removeprefix("weekly-job-") for c in listed} == set(windows)
    for candidate in listed:
        scored = windows[candidate["CandidateName"].removeprefix("weekly-job-")]
        wape = sum(w["wape"] for w in scored) / len(scored)
        shown = {m["MetricName"]: m["Value"] for m in candidate["CandidateProperties"]["CandidateMetrics"]}
        assert shown["WAPE"] == pytest.approx(wape) and len(shown) == 5
