"""A training job's request in tidecast's vocabulary: `JobRequest`, and `JobConfigError`.

Everything that can be checked without reading the data (metric, preset, model names,
quantiles, filling methods) is checked by the model's validators, so a bad body is a 4xx naming
the field at submission rather than a job that fails minutes later in a worker. Metric, preset
and aggregation names come from their registries (`tidecast.metrics.METRICS`,
`tidecast.automl.presets.PRESETS`, `tidecast.data.prepare.AGGREGATIONS`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tidecast.automl.presets import PRESETS
from tidecast.data.prepare import AGGREGATIONS
from tidecast.metrics import METRICS
from tidecast.registry.errors import InvalidInput

if TYPE_CHECKING:
    MetricName = str
    PresetName = str
    AggregationName = str
else:  # the registries' names as Literals: pydantic checks them and lists them in the schema
    MetricName = Literal[tuple(METRICS)]
    PresetName = Literal[tuple(PRESETS)]
    AggregationName = Literal[tuple(AGGREGATIONS)]

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
    sql: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="A DuckDB query as the data instead of `data`, e.g. SELECT ... FROM "
        "'/srv/data/sales/*.parquet' JOIN '/srv/data/items.csv' USING (item_id). With a data "
        "root, the query may read files below it only, named by their absolute path",
    )
    # After `sql`, so its validator sees whether a query was given.
    data: str | None = Field(
        None,
        min_length=1,
        validate_default=True,
        description="CSV/Parquet file, folder, glob or fsspec URL (or give sql)",
    )
    future: str | None = None
    output: str | None = Field(
        None,
        description="Where the run's outputs (forecasts, leaderboard, report, model) are also copied, "
        "below a folder named after the job: a path or fsspec URL (SageMaker's S3OutputPath)",
    )
    horizon: int = Field(ge=1, le=100_000)
    frequency: str | None = None
    date_format: str | None = Field(
        None,
        max_length=64,
        description="How text timestamps are written, in strftime codes (e.g. %d/%m/%Y); "
        "without it one format is inferred for the whole column, and ambiguous dates are an error",
    )
    quantiles: list[float] = Field(default_factory=lambda: [0.1, 0.5, 0.9], min_length=1)
    metric: MetricName = "wql"
    covariates: Covariates = Field(default_factory=lambda: Covariates())
    holidays: list[str] = Field(default_factory=list)
    events: str | None = None
    filling: dict[str, FillingSpec] | None = None
    aggregation: dict[str, AggregationName] | None = None
    preset: PresetName = "medium"
    models: list[str] | None = None
    time_limit: float | None = Field(None, gt=0)
    backtest_windows: int | None = Field(None, ge=0, le=50)
    seed: int = 0
    columns: Columns = Field(default_factory=lambda: Columns())
    model_group: Annotated[
        str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ] = "default"

    @field_validator("data")
    @classmethod
    def _one_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) == (info.data.get("sql") is None):
            raise ValueError("give the data as `data` (a location) or as `sql` (a DuckDB query): exactly one")
        return value

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
        from tidecast.models.catalog import model_names

        value = model_names(value)  # a ConfigError is a ValueError: pydantic reports it
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

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError(f"a date format is strftime codes such as %d/%m/%Y, got {value!r}")
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
            "date_format": self.date_format,
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
