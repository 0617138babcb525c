"""What a training job asks for: the native `JobRequest`, and SageMaker's `CreateAutoMLJobV2` body.

`parse_job_body` accepts either shape and returns one validated `JobRequest`, so a user of
SageMaker AutoML can post the `automl_job_config.json` they already have. Everything that can
be checked without reading the data (metric, preset, model names, quantiles, filling methods,
where the data lives) is checked here, so a bad body is a 4xx naming the field at submission
rather than a job that fails minutes later in a worker.

Data locations: a local path, a folder, a glob or any fsspec URL. When the service has a
`data_root`, every location is confined to it: ``s3://bucket/key`` maps onto
``data_root/bucket/key``, a relative path is taken below `data_root`, and a local path that
resolves outside it (``..``, an absolute path elsewhere, a symlink out) is rejected. Without a
`data_root` S3 URIs are read through fsspec (s3fs) and local paths as given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tidecast.registry.errors import InvalidInput

METRICS = ("wql", "wape", "mape", "smape", "mase", "rmse")
PRESETS = ("fast", "medium", "best")
AGGREGATIONS = ("sum", "avg", "first", "min", "max")

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

Loc = tuple[str | int, ...]


class JobConfigError(InvalidInput):
    """A job body that cannot run; `errors` lists each problem with its field (`loc`) and message.

    `field` (from `InvalidInput`, so the API answers 422 naming it) is the first offending field
    as a dotted path in the body's own terms, e.g.
    ``AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig.ForecastHorizon``.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self.errors = [
            {"loc": tuple(e["loc"]), "msg": str(e["msg"]), "type": e.get("type", "value_error")}
            for e in errors
        ]
        first = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(dotted(first["loc"]) or "body", f"{first['msg']}{more}")


def dotted(loc: Sequence[str | int]) -> str:
    """("a", 0, "b") -> "a[0].b": how a JSON field is usually named in messages."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Settings(Protocol):
    data_root: Any


# ---- the native request ---------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Covariates(_Strict):
    """Covariate columns by role (see `AutoForecaster`), and where item metadata lives."""

    known: list[str] = Field(default_factory=list)
    past: list[str] = Field(default_factory=list)
    static: list[str] = Field(default_factory=list)
    item_metadata: str | None = None


class Columns(_Strict):
    """The user's column names."""

    item: str = Field(default="item_id", min_length=1)
    timestamp: str = Field(default="timestamp", min_length=1)
    target: str = Field(default="target", min_length=1)


FillingSpec = str | dict[str, str | float | int]


class JobRequest(_Strict):
    """A training job: the data, the forecasting task and the search, in tidecast's vocabulary."""

    name: str | None = Field(None, max_length=128)
    data: str = Field(min_length=1)
    future: str | None = None
    horizon: int = Field(ge=1, le=100_000)
    frequency: str | None = None
    quantiles: list[float] = Field(default_factory=lambda: [0.1, 0.5, 0.9], min_length=1)
    metric: Literal["wql", "wape", "mape", "smape", "mase", "rmse"] = "wql"
    covariates: Covariates = Field(default_factory=lambda: Covariates())
    holidays: list[str] = Field(default_factory=list)
    events: str | None = None
    filling: dict[str, FillingSpec] | None = None
    aggregation: dict[str, Literal["sum", "avg", "first", "min", "max"]] | None = None
    preset: Literal["fast", "medium", "best"] = "medium"
    models: list[str] | None = None
    time_limit: float | None = Field(None, gt=0)
    backtest_windows: int | None = Field(None, ge=0, le=50)
    seed: int = 0
    columns: Columns = Field(default_factory=lambda: Columns())
    model_group: Annotated[
        str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ] = "default"

    @field_validator("quantiles")
    @classmethod
    def _quantiles(cls, value: list[float]) -> list[float]:
        if any(not 0.0 < q < 1.0 for q in value):
            raise ValueError("quantiles must be strictly between 0 and 1")
        return sorted(set(value))

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        from tidecast.models.catalog import CATALOG

        unknown = [m for m in value if m not in CATALOG]
        if unknown:
            raise ValueError(f"unknown model(s) {unknown}; choose from {', '.join(CATALOG)}")
        if not value:
            raise ValueError("give at least one model, or leave models out to use the preset's")
        return list(dict.fromkeys(value))

    @field_validator("frequency")
    @classmethod
    def _frequency(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import pandas as pd

        try:
            pd.tseries.frequencies.to_offset(value)
        except ValueError:
            raise ValueError(
                f"unknown frequency {value!r}: use a pandas offset alias such as D, h, W, MS"
            ) from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,3})?", c)]
        if bad:
            raise ValueError(f"holiday country codes look like US or GB, got {bad}")
        return [c.upper() for c in value]

    @field_validator("filling")
    @classmethod
    def _filling(cls, value: dict[str, FillingSpec] | None) -> dict[str, FillingSpec] | None:
        from tidecast.data.filling import METHODS, REGIONS

        for column, spec in (value or {}).items():
            settings = {"middlefill": spec} if isinstance(spec, str) else spec
            for key, method in settings.items():
                region = key.removesuffix("_value")
                if region not in REGIONS:
                    raise ValueError(f"unknown filling key {key!r} for {column!r}: use {', '.join(REGIONS)}")
                if key == region and str(method).lower() not in METHODS:
                    raise ValueError(
                        f"unknown {region} method {method!r} for {column!r}: use {', '.join(METHODS)}"
                    )
        return value

    def forecaster_options(self) -> dict[str, Any]:
        """Keyword arguments of `AutoForecaster` for this request."""
        return {
            "horizon": self.horizon,
            "frequency": self.frequency,
            "quantiles": tuple(self.quantiles),
            "metric": self.metric,
            "time_limit": self.time_limit,
            "preset": self.preset,
            "models": self.models,
            "backtest_windows": self.backtest_windows,
            "item_col": self.columns.item,
            "timestamp_col": self.columns.timestamp,
            "target_col": self.columns.target,
            "filling": self.filling,
            "aggregation": self.aggregation,
            "known_covariates": self.covariates.known or None,
            "past_covariates": self.covariates.past or None,
            "static_columns": self.covariates.static or None,
            "static_data": self.covariates.item_metadata,
            "holidays": self.holidays or None,
            "events": self.events,
            "seed": self.seed,
        }


# ---- SageMaker's CreateAutoMLJobV2 -------------------------------------------------------


class _Lenient(BaseModel):
    """SageMaker fields tidecast has no use for (RoleArn, ModelDeployConfig...) are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SMS3DataSource(_Lenient):
    S3DataType: Literal["S3Prefix"] = "S3Prefix"
    S3Uri: str = Field(min_length=1)


class SMDataSource(_Lenient):
    S3DataSource: SMS3DataSource


class SMInputChannel(_Lenient):
    ChannelName: str = "training"
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
    ForecastHorizon: int = Field(ge=1, le=100_000)
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


class CreateAutoMLJobV2(_Lenient):
    AutoMLJobName: str = Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
    AutoMLJobInputDataConfig: list[SMInputChannel] = Field(min_length=1, max_length=2)
    AutoMLProblemTypeConfig: SMProblemTypeConfig
    AutoMLJobObjective: SMJobObjective | None = None


_FORECAST = ("AutoMLProblemTypeConfig", "TimeSeriesForecastingJobConfig")


def is_sagemaker_body(body: Mapping[str, Any]) -> bool:
    """SageMaker bodies are told apart by their top-level AutoML* keys."""
    return any(k in body for k in ("AutoMLJobName", "AutoMLJobInputDataConfig", "AutoMLProblemTypeConfig"))


def parse_job_body(body: Any, settings: _Settings | None = None) -> JobRequest:
    """The `JobRequest` of a native or SageMaker `CreateAutoMLJobV2` body, with locations resolved.

    Raises `JobConfigError` whose `errors` name each bad field in the body's own terms.
    """
    if not isinstance(body, Mapping):
        raise JobConfigError([{"loc": (), "msg": "the job body must be a JSON object", "type": "type_error"}])
    data_root = getattr(settings, "data_root", None) if settings is not None else None
    try:
        if is_sagemaker_body(body):
            request, locs = _from_sagemaker(CreateAutoMLJobV2.model_validate(body))
        else:
            request = JobRequest.model_validate(body)
            locs = {
                "data": ("data",),
                "future": ("future",),
                "events": ("events",),
                "item_metadata": ("covariates", "item_metadata"),
            }
    except ValidationError as exc:
        raise JobConfigError(
            [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_url=False)]
        ) from None
    return _resolve_locations(request, data_root, locs)


def _from_sagemaker(job: CreateAutoMLJobV2) -> tuple[JobRequest, dict[str, Loc]]:
    config = job.AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig
    errors: list[dict[str, Any]] = []
    channels = job.AutoMLJobInputDataConfig
    index = next((i for i, c in enumerate(channels) if c.ChannelName == "training"), 0)
    uri_loc: Loc = ("AutoMLJobInputDataConfig", index, "DataSource", "S3DataSource", "S3Uri")
    ts = config.TimeSeriesConfig
    if ts.GroupingAttributeNames:
        errors.append(
            {
                "loc": (*_FORECAST, "TimeSeriesConfig", "GroupingAttributeNames"),
                "msg": "grouping attributes are not supported: combine them into the item identifier column",
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
    for i, text in enumerate(config.ForecastQuantiles or ["p10", "p50", "p90"]):
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
    metric = "wql"
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
    criteria = config.CompletionCriteria
    native = {
        "name": job.AutoMLJobName,
        "data": channels[index].DataSource.S3DataSource.S3Uri,
        "horizon": config.ForecastHorizon,
        "frequency": frequency,
        "quantiles": quantiles,
        "metric": metric,
        "holidays": [h.CountryCode for h in config.HolidayConfig],
        "filling": transformations.Filling,
        "aggregation": transformations.Aggregation,
        "models": models,
        "time_limit": criteria.MaxAutoMLJobRuntimeInSeconds if criteria else None,
        "columns": {
            "item": ts.ItemIdentifierAttributeName,
            "timestamp": ts.TimestampAttributeName,
            "target": ts.TargetAttributeName,
        },
    }
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
    return request, {"data": uri_loc}


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


# ---- locations ---------------------------------------------------------------------------


def _resolve_locations(request: JobRequest, data_root: Any, locs: Mapping[str, Loc]) -> JobRequest:
    """Map each location onto `data_root` (when set) and check it stays inside."""
    if not data_root:
        return request
    root = Path(str(data_root)).expanduser().resolve()
    values = {
        "data": request.data,
        "future": request.future,
        "events": request.events,
        "item_metadata": request.covariates.item_metadata,
    }
    resolved: dict[str, str | None] = {}
    errors = []
    for key, value in values.items():
        if value is None:
            resolved[key] = None
            continue
        try:
            resolved[key] = resolve_location(value, root)
        except ValueError as exc:
            errors.append({"loc": locs.get(key, (key,)), "msg": str(exc)})
    if errors:
        raise JobConfigError(errors)
    covariates = request.covariates.model_copy(update={"item_metadata": resolved["item_metadata"]})
    return request.model_copy(
        update={
            "data": resolved["data"],
            "future": resolved["future"],
            "events": resolved["events"],
            "covariates": covariates,
        }
    )


def resolve_location(location: str, root: Path) -> str:
    """Where `location` lives below `root`: s3://bucket/key -> root/bucket/key, paths inside root.

    Remote URLs of other protocols pass through unchanged. A trailing "/" (an S3 prefix that is
    a folder) and glob characters are kept.
    """
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in ("s3", "s3a", "s3n"):
        if not parts.netloc:
            raise ValueError(f"{location!r} has no bucket")
        relative = f"{parts.netloc}/{parts.path.lstrip('/')}"
    elif scheme == "file":
        relative = parts.path
    elif scheme and len(scheme) > 1:  # another fsspec protocol (gcs://, memory://...); "C:" is a drive
        return location
    else:
        relative = location
    candidate = (root / relative).resolve()
    if candidate != root and not candidate.is_relative_to(root):
        raise ValueError(f"{location!r} points outside the data root")
    text = str(candidate)
    return text + "/" if relative.endswith("/") and candidate != root else text
