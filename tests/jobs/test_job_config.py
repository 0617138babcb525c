"""Job bodies: the native request and SageMaker's CreateAutoMLJobV2, parsed and validated."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tidecast.data.demo import generate
from tidecast.data.io import read_table
from tidecast.data.locations import LocationPolicy
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError, JobRequest
from tidecast.registry.errors import InvalidInput

# Step 3 of the reference recipe, `automl_job_config.json`, verbatim with its shell variables
# filled in as the recipe's script would.
RECIPE_BODY = """
{
    "AutoMLJobName": "retail-demand-forecast-abc123",
    "AutoMLJobInputDataConfig": [
        {
            "ChannelName": "training",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://automl-forecasting-abc123/automl-data/train/",
                    "S3DataDistributionType": "FullyReplicated"
                }
            },
            "ContentType": "text/csv",
            "CompressionType": "None",
            "TargetAttributeName": "target_value"
        }
    ],
    "AutoMLJobOutputDataConfig": {
        "S3OutputPath": "s3://automl-forecasting-abc123/automl-output/"
    },
    "RoleArn": "arn:aws:iam::123456789012:role/AutoMLForecastingRole",
    "AutoMLProblemTypeConfig": {
        "TimeSeriesForecastingJobConfig": {
            "ForecastFrequency": "D",
            "ForecastHorizon": 14,
            "TimeSeriesConfig": {
                "TargetAttributeName": "target_value",
                "TimestampAttributeName": "timestamp",
                "ItemIdentifierAttributeName": "item_id"
            },
            "ForecastQuantiles": ["0.1", "0.5", "0.9"],
            "Transformations": {
                "Filling": {
                    "target_value": "mean"
                },
                "Aggregation": {
                    "target_value": "sum"
                }
            },
            "CandidateGenerationConfig": {
                "AlgorithmsConfig": [
                    {
                        "AutoMLAlgorithms": [
                            "cnn-qr",
                            "deepar",
                            "prophet",
                            "npts",
                            "arima",
                            "ets"
                        ]
                    }
                ]
            }
        }
    },
    "AutoMLJobObjective": {
        "MetricName": "MAPE"
    },
    "ModelDeployConfig": {
        "AutoGenerateEndpointName": true,
        "EndpointName": "automl-forecast-endpoint-abc123"
    }
}
"""
FORECAST = "AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig"


def recipe() -> dict[str, Any]:
    return json.loads(RECIPE_BODY)


def settings(root: Path | None) -> SimpleNamespace:
    return SimpleNamespace(location_policy=lambda: LocationPolicy.of([root], root))


def errors_of(body: Any, root: Path | None = None) -> JobConfigError:
    with pytest.raises(JobConfigError) as info:
        parse_job_body(body, settings(root))
    return info.value


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """The recipe's bucket layout, with the train split of a small demo dataset."""
    root = tmp_path / "data"
    train = root / "automl-forecasting-abc123" / "automl-data" / "train"
    train.mkdir(parents=True)
    frame = generate(n_items=3)
    columns = [
        "timestamp",
        "target_value",
        "item_id",
        "promotion",
        "is_holiday",
        "day_of_week",
        "month",
        "quarter",
    ]
    frame[columns].to_csv(train / "automl_train_data.csv", index=False)
    return root


def test_recipe_body_becomes_the_equivalent_native_request(data_root: Path) -> None:
    request = parse_job_body(recipe(), settings(data_root))
    folder = data_root.resolve() / "automl-forecasting-abc123" / "automl-data" / "train"
    assert request == JobRequest(
        name="retail-demand-forecast-abc123",
        data=f"{folder}/",
        horizon=14,
        frequency="D",
        quantiles=[0.1, 0.5, 0.9],
        metric="mape",
        filling={"target_value": "mean"},
        aggregation={"target_value": "sum"},
        models=["CNNQR", "DeepAR", "Prophet", "NPTS", "AutoARIMA", "AutoETS"],
        columns={"item": "item_id", "timestamp": "timestamp", "target": "target_value"},
        output=f"{data_root.resolve()}/automl-forecasting-abc123/automl-output/",
        covariates={"features": "all"},  # SageMaker uses every undeclared column (`data.roles`)
    )
    assert request.model_group == "default"
    assert request.preset == "medium"
    # The mapped location is the folder the demo CSV is in: the worker reads exactly it.
    assert len(read_table(request.data)) == 3 * 1095
    options = request.forecaster_options()
    assert options["target_col"] == "target_value"
    assert options["models"] == ["CNNQR", "DeepAR", "Prophet", "NPTS", "AutoARIMA", "AutoETS"]


def test_grouping_attributes_join_the_item_identifier_in_one_item_key() -> None:
    body = recipe()
    body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]["TimeSeriesConfig"].update(
        GroupingAttributeNames=["store", "region"]
    )
    request = parse_job_body(body, None)
    assert request.columns.item == "item_id,store,region"
    native = JobRequest.model_validate(
        {"data": "x.csv", "horizon": 7, "columns": {"item": ["Store", "Dept"]}}
    )
    assert native.columns.item == "Store,Dept"  # a list in a native body is the same key
    assert request.forecaster_options()["item_col"] == "item_id,store,region"


def test_s3_uri_is_kept_for_fsspec_without_a_data_root() -> None:
    request = parse_job_body(recipe(), None)
    assert request.data == "s3://automl-forecasting-abc123/automl-data/train/"
    assert request.output == "s3://automl-forecasting-abc123/automl-output/"  # copied there by fsspec


def test_channels_are_told_apart_by_channel_type_not_their_order() -> None:
    body = recipe()
    training = body["AutoMLJobInputDataConfig"][0]
    validation = json.loads(json.dumps(training))
    validation["DataSource"]["S3DataSource"]["S3Uri"] = "s3://bucket/validation/"
    body["AutoMLJobInputDataConfig"] = [{**validation, "ChannelType": "validation"}, training]
    assert parse_job_body(body, None).data == "s3://automl-forecasting-abc123/automl-data/train/"
    body["AutoMLJobInputDataConfig"] = [{**validation, "ChannelType": "validation"}]
    assert "ChannelType 'training'" in str(errors_of(body))
    body["AutoMLJobInputDataConfig"] = [training, training]
    assert "ChannelType 'training'" in str(errors_of(body))


def test_sagemaker_spellings_of_frequency_quantiles_metric_and_limits() -> None:
    body = recipe()
    config = body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]
    config.update(
        ForecastFrequency="1M",
        ForecastQuantiles=["p10", "p50", "p90", "0.95"],
        HolidayConfig=[{"CountryCode": "us"}],
        CompletionCriteria={"MaxAutoMLJobRuntimeInSeconds": 3600},
    )
    body["AutoMLJobObjective"]["MetricName"] = "AverageWeightedQuantileLoss"
    request = parse_job_body(body, None)
    assert request.frequency == "MS"
    assert request.quantiles == [0.1, 0.5, 0.9, 0.95]
    assert request.metric == "wql"
    assert request.holidays == ["US"]
    assert request.time_limit == 3600
    for given, expected in [("W", "W"), ("2W", "2W"), ("1H", "h"), ("15min", "15min"), ("Y", "YS")]:
        config["ForecastFrequency"] = given
        assert parse_job_body(body, None).frequency == expected


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b, c: c.update(ForecastHorizon=0), f"{FORECAST}.ForecastHorizon"),
        (lambda b, c: c.update(ForecastFrequency="fortnightly"), f"{FORECAST}.ForecastFrequency"),
        (lambda b, c: c.update(ForecastQuantiles=["0.1", "1.5"]), f"{FORECAST}.ForecastQuantiles[1]"),
        (
            lambda b, c: c["CandidateGenerationConfig"]["AlgorithmsConfig"][0]["AutoMLAlgorithms"].append(
                "xgboost"
            ),
            f"{FORECAST}.CandidateGenerationConfig.AlgorithmsConfig[0].AutoMLAlgorithms[6]",
        ),
        (lambda b, c: b["AutoMLJobObjective"].update(MetricName="Accuracy"), "AutoMLJobObjective.MetricName"),
        (
            lambda b, c: c["TimeSeriesConfig"].pop("TimestampAttributeName"),
            f"{FORECAST}.TimeSeriesConfig.TimestampAttributeName",
        ),
        (
            lambda b, c: c["TimeSeriesConfig"].update(GroupingAttributeNames=["region", "item_id"]),
            f"{FORECAST}.TimeSeriesConfig.GroupingAttributeNames",
        ),
        (
            lambda b, c: c["Transformations"]["Filling"].update(target_value="spline"),
            f"{FORECAST}.Transformations.Filling",
        ),
        (lambda b, c: b.update(AutoMLJobName="bad name!"), "AutoMLJobName"),
        (lambda b, c: b.update(AutoMLJobInputDataConfig=[]), "AutoMLJobInputDataConfig"),
    ],
)
def test_bad_sagemaker_bodies_name_the_field(change: Any, field: str) -> None:
    body = recipe()
    change(body, body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"])
    error = errors_of(body)
    assert error.field == field
    assert isinstance(error, InvalidInput)  # the API answers 422 with this field


@pytest.mark.parametrize(
    "uri",
    [
        "s3://automl-forecasting-abc123/../../etc/",
        "s3://../outside/",
        "file:///etc/passwd",
        "/etc/passwd",
        "../up.csv",
    ],
)
def test_locations_must_stay_inside_the_data_root(data_root: Path, uri: str) -> None:
    body = recipe()
    body["AutoMLJobInputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = uri
    error = errors_of(body, data_root)
    assert error.field == "AutoMLJobInputDataConfig[0].DataSource.S3DataSource.S3Uri"
    assert "outside the data root" in str(error)


def test_native_body_with_relative_paths_under_the_data_root(data_root: Path) -> None:
    request = parse_job_body(
        {
            "data": "automl-forecasting-abc123/automl-data/train/*.csv",
            "horizon": 7,
            "covariates": {"known": ["promotion"], "item_metadata": "s3://meta/items.csv"},
            "columns": {"target": "target_value"},
            "model_group": "sales",
        },
        settings(data_root),
    )
    root = data_root.resolve()
    assert request.data == f"{root}/automl-forecasting-abc123/automl-data/train/*.csv"
    assert request.covariates.item_metadata == f"{root}/meta/items.csv"
    assert request.forecaster_options()["known_covariates"] == ["promotion"]
    error = errors_of(
        {"data": "x.csv", "horizon": 7, "covariates": {"item_metadata": "/etc/x.csv"}}, data_root
    )
    assert error.field == "covariates.item_metadata"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"horizon": 7}, "data"),
        ({"data": "x.csv", "horizon": "soon"}, "horizon"),
        ({"data": "x.csv", "horizon": 7, "metric": "accuracy"}, "metric"),
        ({"data": "x.csv", "horizon": 7, "models": ["Naive", "GPT"]}, "models"),
        ({"data": "x.csv", "horizon": 7, "quantiles": [0.5, 1.0]}, "quantiles"),
        ({"data": "x.csv", "horizon": 7, "preset": "huge"}, "preset"),
        ({"data": "x.csv", "horizon": 7, "aggregation": {"target": "median"}}, "aggregation.target"),
        ({"data": "x.csv", "horizon": 7, "filling": {"price": {"middlefill": "guess"}}}, "filling"),
        ({"data": "x.csv", "horizon": 7, "columns": {"itme": "sku"}}, "columns.itme"),
        ({"data": "x.csv", "horizon": 7, "model_group": "a/b"}, "model_group"),
        ({"data": "x.csv", "horizon": 7, "time_limit": -5}, "time_limit"),
        ({"data": "x.csv", "horizon": 7, "frequency": "fortnight"}, "frequency"),
        ({"data": "x.csv", "horizon": 7, "model_params": {"LightGBM": {"max_round": 5}}}, "model_params"),
        ({"data": "x.csv", "horizon": 7, "model_params": {"LightGBM": 5}}, "model_params.LightGBM"),
        ({"data": "x.csv", "horizon": 7, "model_params": {"Prophecy": {}}}, "model_params"),
        ([1, 2], "body"),
    ],
)
def test_bad_native_bodies_name_the_field(body: Any, field: str) -> None:
    assert errors_of(body).field == field


def test_every_problem_is_listed() -> None:
    error = errors_of({"data": "x.csv", "horizon": 0, "metric": "nope"})
    assert [e["loc"] for e in error.errors] == [("horizon",), ("metric",)]
    assert str(error).startswith("horizon: ")


def test_when_the_body_gives_a_date_format_then_the_forecaster_reads_dates_with_it():
    request = parse_job_body({"data": "x.csv", "horizon": 7, "date_format": "%d/%m/%Y"})
    assert request.forecaster_options()["date_format"] == "%d/%m/%Y"
    assert parse_job_body({"data": "x.csv", "horizon": 7}).forecaster_options()["date_format"] is None
    with pytest.raises(JobConfigError) as caught:
        parse_job_body({"data": "x.csv", "horizon": 7, "date_format": "dd/mm/yyyy"})
    assert caught.value.field == "date_format" and "strftime" in str(caught.value)


def test_when_the_output_leaves_the_data_root_then_the_sagemaker_field_is_named(data_root: Path) -> None:
    body = recipe()
    body["AutoMLJobOutputDataConfig"] = {"S3OutputPath": "s3://bucket/../../outside/"}
    with pytest.raises(JobConfigError) as caught:
        parse_job_body(body, settings(data_root))
    assert caught.value.field == "AutoMLJobOutputDataConfig.S3OutputPath"


def test_a_run_folder_is_copied_below_the_output_in_a_folder_named_after_the_job(tmp_path: Path) -> None:
    from tidecast.jobs.worker import copy_run

    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "forecasts.csv").write_text("item_id\n")
    (run / "model" / "manifest.json").write_text("{}")
    assert copy_run(run, f"{tmp_path}/out/", "weekly") == f"{tmp_path}/out/weekly"
    assert (tmp_path / "out" / "weekly" / "forecasts.csv").read_text() == "item_id\n"
    assert (tmp_path / "out" / "weekly" / "model" / "manifest.json").is_file()
    copy_run(run, "memory://bucket/prefix", "weekly")  # any fsspec URL, s3:// included
    import fsspec

    assert fsspec.filesystem("memory").cat("/bucket/prefix/weekly/model/manifest.json") == b"{}"


def test_a_sagemaker_body_without_quantiles_or_objective_gets_the_native_defaults():
    body = recipe()
    del body["AutoMLJobObjective"]
    del body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]["ForecastQuantiles"]
    request = parse_job_body(body)
    assert request.metric == "wql" and request.quantiles == [0.1, 0.5, 0.9]


def test_a_sagemaker_horizon_past_the_longest_tidecast_forecasts_names_its_field():
    body = recipe()
    body["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]["ForecastHorizon"] = 50_001
    error = errors_of(body)
    assert error.field == f"{FORECAST}.ForecastHorizon" and "less than or equal to 50000" in str(error)


def submitted(body: Any, root: Path) -> JobRequest:
    """`body` as the API parses it at submission (locations must exist)."""
    return parse_job_body(body, settings(root), check_exists=True)


def test_when_the_data_lacks_a_named_column_then_the_submission_names_it_and_the_files_columns(
    data_root: Path,
) -> None:
    """A misnamed target is a 422 at submission, as with `sql`, not a job failing in a worker."""
    body = recipe()
    body[FORECAST.split(".")[0]]["TimeSeriesForecastingJobConfig"]["TimeSeriesConfig"][
        "TargetAttributeName"
    ] = "sales"
    with pytest.raises(JobConfigError) as info:
        submitted(body, data_root)
    [error] = info.value.errors
    assert error["loc"] == ("AutoMLJobInputDataConfig", 0, "DataSource", "S3DataSource", "S3Uri")
    assert error["msg"].startswith("the data has no column ['sales'] (name the item, time and target columns")
    assert "'target_value'" in error["msg"] and "'promotion'" in error["msg"]
    assert submitted(recipe(), data_root).columns.target == "target_value"  # the recipe's own names pass


def test_a_parquet_files_schema_and_an_item_key_of_several_columns_are_read_at_submission(
    tmp_path: Path,
) -> None:
    frame = generate(n_items=2).rename(columns={"item_id": "Store"}).assign(Dept="d1")
    frame.to_parquet(tmp_path / "sales.parquet", index=False)
    body = {
        "data": str(tmp_path / "sales.parquet"),
        "horizon": 7,
        "columns": {"item": "Store,Dept", "target": "target_value"},
    }
    assert submitted(body, tmp_path).columns.item == "Store,Dept"
    with pytest.raises(JobConfigError) as info:
        submitted({**body, "columns": {"item": "Store,Aisle", "target": "units"}}, tmp_path)
    [error] = info.value.errors
    assert error["loc"] == ("data",) and "no column ['Store,Aisle (lacking Aisle)', 'units']" in error["msg"]


def test_a_file_the_headers_cannot_tell_about_is_left_to_the_worker(tmp_path: Path) -> None:
    """An empty CSV (no header) gives no columns to check: reading it will say what is wrong."""
    (tmp_path / "empty.csv").write_text("")
    assert submitted({"data": str(tmp_path / "empty.csv"), "horizon": 7}, tmp_path).data.endswith("empty.csv")


def test_when_the_output_lies_under_a_file_then_submission_names_the_output_field(data_root: Path) -> None:
    """Found only when the run was copied there, it failed a training job after the whole fit."""
    (data_root / "automl-forecasting-abc123" / "automl-output").write_text("not a folder")
    body = recipe()
    with pytest.raises(JobConfigError) as caught:
        parse_job_body(body, settings(data_root), check_exists=True)
    assert caught.value.field == "AutoMLJobOutputDataConfig.S3OutputPath"
    assert "automl-output' is a file, so nothing can be written under it" in str(caught.value)
    parse_job_body(body, settings(data_root))  # parsed alone (no submission), not checked
    (data_root / "automl-forecasting-abc123" / "automl-output").unlink()
    assert parse_job_body(body, settings(data_root), check_exists=True).output is not None  # made later


def test_when_the_body_gives_model_params_then_the_forecaster_builds_its_candidates_with_them():
    params = {"LightGBM": {"monotone_covariates": {"price": -1}}}
    request = parse_job_body({"data": "x.csv", "horizon": 7, "model_params": params})
    assert request.forecaster_options()["model_params"] == params
