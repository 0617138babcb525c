"""The AutoML options, each declared once: name, default, help, check, and where it appears.

`AutoForecaster` is set up through three doors: its own keywords (the Python API), the options
of `tidecast train` and `backtest`, and the body of a training job. `OPTIONS` lists every option
once, under its `AutoForecaster` keyword, with its default, the help a user reads, the command
line flag and the job body field it appears as (either may be absent), and the one function
that checks it. The command line builds its options from this table, the job body takes its
defaults, bounds and checks from it and maps its fields back through it, and `AutoForecaster`
checks its keywords with `check_options`: a value is judged by the same code whichever door
it came in by. Metric, preset and model names come from their registries, never copied here.

tests/automl/test_options.py asserts the three doors agree with the table, so an option added
to one of them alone fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tidecast.automl.option_checks import (
    check_aggregation,
    check_date_format,
    check_filling,
    check_frequency,
    check_holidays,
    check_metric,
    check_model_params,
    check_models,
    check_preset,
    check_quantiles,
    check_steps,
    check_time_limit,
    check_windows,
    json_option,
    split_names,
)
from tidecast.automl.presets import PRESETS
from tidecast.data.frequency import MAX_HORIZON
from tidecast.data.item_keys import item_column
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.metrics import METRICS

REQUIRED: Any = ...  # the default of an option the user must give (pydantic's and typer's marker)


@dataclass(frozen=True)
class Option:
    """One AutoML option.

    `kind` is what the command line reads (int, float or text); `parse` turns that text into
    the keyword's value (None: taken as typed). `check` raises ConfigError for a bad value and
    returns it normalised (None: anything goes). `cli` and `body` hold what only one door
    needs: extra typer.Option settings (a minimum, an environment variable), and the job body's
    JSON-side field settings (bounds shown in the schema, a description, a default factory).
    """

    name: str
    default: Any
    help: str
    kind: type = str
    flag: str | None = None
    body_path: tuple[str, ...] | None = None
    parse: Callable[[Any], Any] | None = None
    check: Callable[[Any], Any] | None = None
    cli: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def cli_default(self) -> Any:
        """The default as the command line shows and reads it: a tuple as comma-separated text."""
        if isinstance(self.default, tuple):
            return ",".join(str(v) for v in self.default)
        return self.default

    def from_cli(self, value: Any) -> Any:
        """The keyword's value from what the command line read."""
        return value if value is None or self.parse is None else self.parse(value)


# ---- the table ------------------------------------------------------------------------------

_LIST = {"default_factory": list}

OPTIONS: tuple[Option, ...] = (
    Option(
        "horizon",
        REQUIRED,
        "Steps to forecast",
        int,
        "--horizon",
        ("horizon",),
        check=check_steps,
        body={"ge": 1, "le": MAX_HORIZON},
    ),
    Option(
        "quantiles",
        (0.1, 0.5, 0.9),
        "Comma-separated quantiles",
        str,
        "--quantiles",
        ("quantiles",),
        check=check_quantiles,
        body={"min_length": 1},
    ),
    Option(
        "metric",
        "wql",
        f"Objective: {', '.join(METRICS)}",
        str,
        "--metric",
        ("metric",),
        parse=str.lower,
        check=check_metric,
    ),
    Option(
        "item_col",
        ITEM_ID,
        "Item id column; several joined by commas (Store,Dept) key each series by all of them",
        str,
        "--item-col",
        ("columns", "item"),
        check=item_column,
        body={"min_length": 1},
    ),
    Option(
        "timestamp_col",
        TIMESTAMP,
        "Timestamp column",
        str,
        "--timestamp-col",
        ("columns", "timestamp"),
        body={"min_length": 1},
    ),
    Option(
        "target_col",
        TARGET,
        "Target column",
        str,
        "--target-col",
        ("columns", "target"),
        body={"min_length": 1},
    ),
    Option(
        "date_format",
        None,
        "How the timestamps are written, in strftime codes, e.g. %d/%m/%Y (default: one format inferred)",
        str,
        "--date-format",
        ("date_format",),
        check=check_date_format,
        body={
            "max_length": 64,
            "description": "How text timestamps are written, in strftime codes (e.g. %d/%m/%Y); "
            "without it one format is inferred for the whole column, and ambiguous dates are an error",
        },
    ),
    Option(
        "frequency",
        None,
        "Forecast frequency (pandas alias); inferred if absent",
        str,
        "--freq",
        ("frequency",),
        check=check_frequency,
    ),
    Option(
        "preset", "medium", f"Preset: {', '.join(PRESETS)}", str, "--preset", ("preset",), check=check_preset
    ),
    Option(
        "time_limit",
        None,
        "Time budget in seconds",
        float,
        "--time-limit",
        ("time_limit",),
        check=check_time_limit,
        body={"gt": 0},
    ),
    Option(
        "backtest_windows",
        None,
        "Backtest windows (preset default)",
        int,
        "--backtest-windows",
        ("backtest_windows",),
        check=check_windows,
        body={"ge": 0, "le": 50},  # a job's ceiling: the service bounds what one body can ask for
    ),
    Option(
        "models",
        None,
        "Comma-separated candidate names",
        str,
        "--models",
        ("models",),
        parse=split_names,
        check=check_models,
    ),
    Option(
        "filling",
        None,
        'JSON, e.g. {"sales": {"middlefill": "zero"}}',
        str,
        "--filling",
        ("filling",),
        parse=json_option("--filling"),
        check=check_filling,
    ),
    Option(
        "aggregation",
        None,
        'JSON, e.g. {"sales": "sum"}',
        str,
        "--aggregation",
        ("aggregation",),
        parse=json_option("--aggregation"),
        check=check_aggregation,
    ),
    Option(
        "known_covariates",
        None,
        "Columns known in advance, e.g. promotion,price",
        str,
        "--known-covariates",
        ("covariates", "known"),
        body=_LIST,
    ),
    Option(
        "past_covariates",
        None,
        "Columns known only up to the forecast origin",
        str,
        "--past-covariates",
        ("covariates", "past"),
        body=_LIST,
    ),
    Option(
        "static_columns",
        None,
        "Per-item attributes, e.g. category,region",
        str,
        "--static-columns",
        ("covariates", "static"),
        body=_LIST,
    ),
    Option(
        "static_data",
        None,
        "Table of static attributes keyed by the item column",
        str,
        "--item-metadata",
        ("covariates", "item_metadata"),
    ),
    Option(
        "holidays",
        None,
        "Holiday country codes, e.g. US or US,GB",
        str,
        "--holidays",
        ("holidays",),
        check=check_holidays,
        body=_LIST,
    ),
    Option("events", None, "Events table (CSV/Parquet with date and name)", str, "--events", ("events",)),
    Option(
        "n_jobs",
        None,
        "Local worker processes (default: all cores)",
        int,
        "--jobs",
        cli={"min": 1},
    ),
    Option("seed", 0, "Random seed", int, "--seed", ("seed",)),
    # Python only: too fine-grained for a flag or a job field.
    Option("backtest_step", None, "Steps between backtest cut-offs (default: the horizon)", int),
    Option("refit_every_window", False, "Refit each candidate at every backtest window", bool),
    Option("refit_full", True, "Refit the selected models on all the data", bool),
    Option("calibrate_quantiles", True, "Calibrate the ensemble's quantiles on the backtests", bool),
    Option(
        "calibrate_level",
        True,
        "Scale the forecast by a bias every backtest window shows (with calibrate_quantiles)",
        bool,
    ),
    Option(
        "calibrate_mean",
        True,
        "Take the mean column from the calibrated quantiles where the backtests say it is the better mean",
        bool,
    ),
    Option(
        "zero_dormant",
        True,
        "Forecast 0 for items with no sale over their last cycle (a year of days; automl.dormant)",
        bool,
    ),
    Option(
        "model_params",
        None,
        'JSON: candidates\' options by model name, e.g. {"LightGBM": {"monotone_covariates": {"price": -1}}}',
        str,
        "--model-params",
        ("model_params",),
        parse=json_option("--model-params", "model name"),
        check=check_model_params,
    ),
)

BY_NAME: Mapping[str, Option] = {option.name: option for option in OPTIONS}
CLI_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if o.flag is not None)
BODY_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS if o.body_path is not None)


def check_options(values: Mapping[str, Any]) -> dict[str, Any]:
    """Each option's value in `values` checked by its option's check; the normalised values.

    `AutoForecaster` checks its keywords here before it fits, and the job body its fields, so
    an option is validated by one function whichever door it came in by.
    """
    checked = dict(values)
    for name, value in values.items():
        option = BY_NAME[name]
        if option.check is not None:
            checked[name] = option.check(value)
    return checked
