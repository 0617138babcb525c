"""SageMaker's `CreateAutoMLJobV2` body, translated into tidecast's `JobRequest`.

A user of SageMaker AutoML can post the `automl_job_config.json` they already have:
`from_sagemaker` maps its algorithms, metric, frequency, quantiles, transformations and columns
onto a `JobRequest` (every other column of the data a feature, as SageMaker uses them), and every error names the field in the body's own terms (e.g.
``AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig.ForecastHorizon``). Fields tidecast has
no use for (RoleArn, ModelDeployConfig...) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tidecast.data.frequency import MAX_HORIZON
from tidecast.data.item_keys import NAME_JOIN
from tidecast.jobs.request import FillingSpec, JobConfigError, JobRequest, Loc

# SageMaker AutoML's names -> tidecast's.
SAGEMAKER_ALGORITHMS = {
    "cnn-qr": "CNNQR",
    "deepar": "DeepAR",
    "prophet": "Prophet",
    "npts": "NPTS",
    "arima": "AutoARIMA",
    "ets": "AutoETS",
}
SAGEMAKER_METRICS = {
    "MAPE": "mape",
    "WAPE": "wape",
    "RMSE": "rmse",
    "MASE": "mase",
    "AverageWeightedQuantileLoss": "wql",
}
# SageMaker's frequency units -> pandas aliases (months and years at their start, as SageMaker's
# monthly and yearly timestamps are).
_SAGEMAKER_UNITS = {"Y": "YS", "M": "MS", "W": "W", "D": "D", "H": "h", "min": "min"}
_SAGEMAKER_FREQ = re.compile(r"^([1-9][0-9]*)?(Y|M|W|D|H|min)$")


class _Lenient(BaseModel):
    """SageMaker fields tidecast has no use for (RoleArn, ModelDeployConfig...) are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SMS3DataSource(_Lenient):
    S3DataType: Literal["S3Prefix"] = "S3Prefix"
    S3Uri: str = Field(min_length=1)


class SMDataSource(_Lenient):
    S3DataSource: SMS3DataSource


class SMInputChannel(_Lenient):
    """One input channel. The API tells channels apart by ChannelType (training when left out);
    a ChannelName, which the API does not have, is ignored."""

    ChannelType: Literal["training", "validation"] = "training"
    DataSource: SMDataSource


class SMTimeSeriesConfig(_Lenient):
    TargetAttributeName: str = Field(min_length=1)
    TimestampAttributeName: str = Field(min_length=1)
    ItemIdentifierAttributeName: str = Field(min_length=1)
    GroupingAttributeNames: list[str] = Field(default_factory=list)


class SMTransformations(_Lenient):
    Filling: dict[str, FillingSpec] | None = None
    Aggregation: dict[str, str] | None = None


class SMHolidayCountry(_Lenient):
    CountryCode: str


class SMAlgorithmsConfig(_Lenient):
    AutoMLAlgorithms: list[str] = Field(min_length=1)


class SMCandidateGenerationConfig(_Lenient):
    AlgorithmsConfig: list[SMAlgorithmsConfig] = Field(default_factory=list)


class SMCompletionCriteria(_Lenient):
    MaxAutoMLJobRuntimeInSeconds: int | None = Field(None, ge=1)


class SMForecastingJobConfig(_Lenient):
    ForecastFrequency: str
    ForecastHorizon: int = Field(ge=1, le=MAX_HORIZON)
    ForecastQuantiles: list[str] | None = None
    TimeSeriesConfig: SMTimeSeriesConfig
    Transformations: SMTransformations | None = None
    HolidayConfig: list[SMHolidayCountry] = Field(default_factory=list)
    CandidateGenerationConfig: SMCandidateGenerationConfig | None = None
    CompletionCriteria: SMCompletionCriteria | None = None


class SMProblemTypeConfig(_Lenient):
    TimeSeriesForecastingJobConfig: SMForecastingJobConfig


class SMJobObjective(_Lenient):
    MetricName: str


class SMOutputDataConfig(_Lenient):
    S3OutputPath: str = Field(min_length=1)


class CreateAutoMLJobV2(_Lenient):
    AutoMLJobName: str = Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    AutoMLJobInputDataConfig: list[SMInputChannel] = Field(min_length=1, max_length=2)
    AutoMLProblemTypeConfig: SMProblemTypeConfig
    AutoMLJobObjective: SMJobObjective | None = None
    # Where the run's outputs are copied (S3OutputPath/<AutoMLJobName>/); the AWS recipe spells
    # the field AutoMLJobOutputDataConfig, the API OutputDataConfig: both are honoured.
    OutputDataConfig: SMOutputDataConfig | None = None
    AutoMLJobOutputDataConfig: SMOutputDataConfig | None = None


_FORECAST = ("AutoMLProblemTypeConfig", "TimeSeriesForecastingJobConfig")


def is_sagemaker_body(body: Mapping[str, Any]) -> bool:
    """SageMaker bodies are told apart by their top-level AutoML* keys."""
    return any(k in body for k in ("AutoMLJobName", "AutoMLJobInputDataConfig", "AutoMLProblemTypeConfig"))


def from_sagemaker(job: CreateAutoMLJobV2) -> tuple[JobRequest, dict[str, Loc]]:
    config = job.AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig
    errors: list[dict[str, Any]] = []
    channels = job.AutoMLJobInputDataConfig
    training = [i for i, c in enumerate(channels) if c.ChannelType == "training"]
    if len(training) != 1 or len(channels) - len(training) > 1:
        raise JobConfigError(
            [
                {
                    "loc": ("AutoMLJobInputDataConfig",),
                    "msg": "give one channel of ChannelType 'training' and at most one of ChannelType "
                    f"'validation'; got {[c.ChannelType for c in channels]}",
                }
            ]
        )
    # A validation channel is accepted and not read: tidecast validates on backtest windows cut
    # from the end of the training data, as SageMaker does for time-series jobs.
    index = training[0]
    uri_loc: Loc = ("AutoMLJobInputDataConfig", index, "DataSource", "S3DataSource", "S3Uri")
    ts = config.TimeSeriesConfig
    # The grouping attributes join the item identifier in one item key ("item,store"): each
    # series is an item in a store, and forecasts come back with every key column.
    key = [ts.ItemIdentifierAttributeName, *ts.GroupingAttributeNames]
    if ts.GroupingAttributeNames and (len(set(key)) < len(key) or any(NAME_JOIN in n for n in key)):
        errors.append(
            {
                "loc": (*_FORECAST, "TimeSeriesConfig", "GroupingAttributeNames"),
                "msg": "name each grouping attribute once, none the item identifier and none with "
                f"a {NAME_JOIN!r}; got {ts.GroupingAttributeNames}",
            }
        )
    frequency = _sagemaker_frequency(config.ForecastFrequency)
    if frequency is None:
        errors.append(
            {
                "loc": (*_FORECAST, "ForecastFrequency"),
                "msg": f"unknown frequency {config.ForecastFrequency!r}: use e.g. 1D, D, 1W, 1M, 1H, 15min",
            }
        )
    quantiles: list[float] = []
    for i, text in enumerate(config.ForecastQuantiles or []):
        value = _sagemaker_quantile(text)
        if value is None:
            errors.append(
                {
                    "loc": (*_FORECAST, "ForecastQuantiles", i),
                    "msg": f"a quantile is a number in (0, 1) such as 0.1 or p10, got {text!r}",
                }
            )
        else:
            quantiles.append(value)
    models: list[str] | None = None
    generation = config.CandidateGenerationConfig
    if generation is not None and generation.AlgorithmsConfig:
        models = []
        for i, group in enumerate(generation.AlgorithmsConfig):
            for j, name in enumerate(group.AutoMLAlgorithms):
                ours = SAGEMAKER_ALGORITHMS.get(name.strip().lower())
                if ours is None:
                    errors.append(
                        {
                            "loc": (
                                *_FORECAST,
                                "CandidateGenerationConfig",
                                "AlgorithmsConfig",
                                i,
                                "AutoMLAlgorithms",
                                j,
                            ),
                            "msg": f"unknown algorithm {name!r}; use {', '.join(SAGEMAKER_ALGORITHMS)}",
                        }
                    )
                else:
                    models.append(ours)
    metric: str | None = None
    if job.AutoMLJobObjective is not None:
        found = SAGEMAKER_METRICS.get(job.AutoMLJobObjective.MetricName)
        if found is None:
            errors.append(
                {
                    "loc": ("AutoMLJobObjective", "MetricName"),
                    "msg": f"unknown metric {job.AutoMLJobObjective.MetricName!r}; use {', '.join(SAGEMAKER_METRICS)}",
                }
            )
        else:
            metric = found
    if errors:
        raise JobConfigError(errors)
    transformations = config.Transformations or SMTransformations()
    output = job.OutputDataConfig or job.AutoMLJobOutputDataConfig
    criteria = config.CompletionCriteria
    native: dict[str, Any] = {
        "name": job.AutoMLJobName,
        "data": channels[index].DataSource.S3DataSource.S3Uri,
        "horizon": config.ForecastHorizon,
        "frequency": frequency,
        "holidays": [h.CountryCode for h in config.HolidayConfig],
        "filling": transformations.Filling,
        "aggregation": transformations.Aggregation,
        "models": models,
        "time_limit": criteria.MaxAutoMLJobRuntimeInSeconds if criteria else None,
        "output": output.S3OutputPath if output else None,
        "columns": {
            "item": NAME_JOIN.join(key),
            "timestamp": ts.TimestampAttributeName,
            "target": ts.TargetAttributeName,
        },
        # SageMaker uses every column its TimeSeriesConfig leaves as a feature (`data.roles`).
        "covariates": {"features": "all"},
    }
    # Left out, the quantiles and the metric are the native request's defaults.
    native |= {key: value for key, value in (("quantiles", quantiles), ("metric", metric)) if value}
    # Native field -> the SageMaker field it came from, so errors name what the user wrote.
    origin: dict[str, Loc] = {
        "data": uri_loc,
        "horizon": (*_FORECAST, "ForecastHorizon"),
        "frequency": (*_FORECAST, "ForecastFrequency"),
        "quantiles": (*_FORECAST, "ForecastQuantiles"),
        "holidays": (*_FORECAST, "HolidayConfig"),
        "filling": (*_FORECAST, "Transformations", "Filling"),
        "aggregation": (*_FORECAST, "Transformations", "Aggregation"),
        "models": (*_FORECAST, "CandidateGenerationConfig"),
        "columns": (*_FORECAST, "TimeSeriesConfig"),
    }
    try:
        request = JobRequest.model_validate(native)
    except ValidationError as exc:
        raise JobConfigError(
            [
                {
                    "loc": (*origin.get(str(e["loc"][0]), ()), *e["loc"][1:]),
                    "msg": e["msg"],
                    "type": e["type"],
                }
                for e in exc.errors(include_url=False)
            ]
        ) from None
    output_loc = "OutputDataConfig" if job.OutputDataConfig else "AutoMLJobOutputDataConfig"
    return request, {"data": uri_loc, "output": (output_loc, "S3OutputPath")}


def _sagemaker_frequency(text: str) -> str | None:
    match = _SAGEMAKER_FREQ.match(text.strip())
    if match is None:
        return None
    count, unit = match.groups()
    return f"{count if count and count != '1' else ''}{_SAGEMAKER_UNITS[unit]}"


def _sagemaker_quantile(text: str) -> float | None:
    text = text.strip().lower()
    try:
        value = float(text[1:]) / 100 if text.startswith("p") else float(text)
    except ValueError:
        return None
    return value if 0.0 < value < 1.0 else None
