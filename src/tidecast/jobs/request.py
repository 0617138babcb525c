"""A training job's request in tidecast's vocabulary: `JobRequest`, and `JobConfigError`.

Everything that can be checked without reading the data (metric, preset, model names,
quantiles, filling methods) is checked at submission by each option's own check in
`tidecast.automl.options`, the code `AutoForecaster` runs too, so a bad body is a 4xx naming
the field rather than a job that fails minutes later in a worker. Metric, preset and
aggregation names come from their registries (`tidecast.metrics.METRICS`,
`tidecast.automl.presets.PRESETS`, `tidecast.data.prepare.AGGREGATIONS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from tidecast.automl.options import BODY_OPTIONS, BY_NAME
from tidecast.automl.presets import PRESETS
from tidecast.data.aggregation import AGGREGATIONS
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


def one_future(future_sql: str | None, info: ValidationInfo) -> str | None:
    """A body's `future_sql`, refused beside a `future` (training and batch bodies alike)."""
    if future_sql is not None and info.data.get("future") is not None:
        raise ValueError(
            "give the future covariates as `future` (a location) or as `future_sql` (a query), not both"
        )
    return future_sql


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
# The AutoML fields take their default, bounds and check from `automl.options` (`option`), and
# `forecaster_options` maps them back through the same table: only their JSON types are here.


def option(name: str) -> Any:
    """The pydantic `Field` of AutoML option `name`: its default and the body's settings."""
    spec = BY_NAME[name]
    settings = dict(spec.body)
    if "default_factory" not in settings:
        default = spec.default
        if isinstance(default, tuple):  # a list in JSON; a factory keeps the schema as it was
            settings["default_factory"] = lambda: list(default)
        else:
            settings["default"] = default
    return Field(**settings)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        """The option's own check (`automl.options`), on the fields that are AutoML options."""
        spec = _BY_FIELD.get((*_PATHS.get(cls.__name__, ()), info.field_name or ""))
        return value if spec is None or spec.check is None else spec.check(value)


class Covariates(_Strict):
    """Covariate columns by role (see `AutoForecaster`), and where item metadata lives."""

    known: list[str] = option("known_covariates")
    past: list[str] = option("past_covariates")
    static: list[str] = option("static_columns")
    item_metadata: str | None = option("static_data")
    # "all": every other column of the data is used too, each by the role its values show
    # (`data.roles`), as SageMaker's AutoML V2 uses every column its TimeSeriesConfig leaves.
    features: Literal["declared", "all"] = Field(
        default="declared",
        description='"declared" uses the columns named here; "all" also uses every other column of '
        "the data, by the role its values show: static (one value per item), known (values on rows "
        "ahead of the item's last target); others are left out and named in the run's report",
    )


class Columns(_Strict):
    """The user's column names; the item may be several columns, as a list or joined by commas."""

    item: str = option("item_col")
    timestamp: str = option("timestamp_col")
    target: str = option("target_col")

    @field_validator("item", mode="before")
    @classmethod
    def _item_columns(cls, value: Any) -> Any:
        """["Store", "Dept"] is the item key "Store,Dept" (`data.item_keys`)."""
        return ",".join(str(v) for v in value) if isinstance(value, list) else value


FillingSpec = str | dict[str, str | float | int]


class HierarchyRequest(_Strict):
    """Forecast every level of a hierarchy of the items' static attributes and reconcile them
    (`tidecast.hierarchy`): the item forecasts are registered as usual, every level's coherent
    forecast is written beside them in the run's `hierarchy/` folder."""

    levels: str = Field(
        min_length=1,
        max_length=500,
        description="a/b nests (total > a > a/b > item), a*b crosses, commas join parts, e.g. category/product",
    )
    method: str | None = Field(
        None, description="A fixed reconciliation method; default: chosen on the backtests"
    )

    @field_validator("levels")
    @classmethod
    def _parse(cls, value: str) -> str:
        from tidecast.hierarchy.structure import parse_hierarchy

        parse_hierarchy(value)  # a ConfigError is a ValueError: pydantic reports it on the field
        return value

    @field_validator("method")
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A known method that can reconcile the levels (top-down needs them nested)."""
        from tidecast.hierarchy.checks import check_methods
        from tidecast.hierarchy.structure import Hierarchy, parse_hierarchy

        levels = info.data.get("levels")  # absent where the levels were refused
        check_methods(parse_hierarchy(levels) if levels else Hierarchy(((),)), value)
        return value


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
    # After `future`, so its validator sees whether a location was given.
    future_sql: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="A DuckDB query as the known covariates over the horizon instead of `future`, "
        "read as `sql` is: the same joined item id for data keyed by two columns (a store and a department)",
    )
    output: str | None = Field(
        None,
        description="Where the run's outputs (forecasts, leaderboard, report, model) are also copied, "
        "below a folder named after the job: a path or fsspec URL (SageMaker's S3OutputPath)",
    )
    horizon: int = option("horizon")
    frequency: str | None = option("frequency")
    date_format: str | None = option("date_format")
    quantiles: list[float] = option("quantiles")
    metric: MetricName = option("metric")
    covariates: Covariates = Field(default_factory=lambda: Covariates())
    holidays: list[str] = option("holidays")
    events: str | None = option("events")
    filling: dict[str, FillingSpec] | None = option("filling")
    aggregation: dict[str, AggregationName] | None = option("aggregation")
    preset: PresetName = option("preset")
    models: list[str] | None = option("models")
    time_limit: float | None = option("time_limit")
    backtest_windows: int | None = option("backtest_windows")
    seed: int = option("seed")
    model_params: dict[str, dict[str, Any]] | None = option("model_params")
    columns: Columns = Field(default_factory=lambda: Columns())
    hierarchy: HierarchyRequest | None = None
    model_group: Annotated[
        str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ] = "default"

    @field_validator("data")
    @classmethod
    def _one_source(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) == (info.data.get("sql") is None):
            raise ValueError("give the data as `data` (a location) or as `sql` (a DuckDB query): exactly one")
        return value

    @field_validator("future_sql")
    @classmethod
    def _one_future(cls, value: str | None, info: ValidationInfo) -> str | None:
        return one_future(value, info)

    def forecaster_options(self) -> dict[str, Any]:
        """Keyword arguments of `AutoForecaster` for this request, by each option's field.

        An empty list of names is the option left out (None), as `AutoForecaster` takes it."""
        options: dict[str, Any] = {}
        for spec in BODY_OPTIONS:
            assert spec.body_path is not None
            value: Any = self
            for part in spec.body_path:
                value = getattr(value, part)
            if isinstance(spec.default, tuple):
                value = tuple(value)
            elif isinstance(value, list):
                value = value or None
            options[spec.name] = value
        return options


# Where each model sits in the body, and the AutoML option each field path holds.
_PATHS = {"JobRequest": (), "Covariates": ("covariates",), "Columns": ("columns",)}
_BY_FIELD = {spec.body_path: spec for spec in BODY_OPTIONS if spec.body_path is not None}
