"""`tidecast actuals ingest FILE` and `tidecast monitor ENDPOINT`.

Like `tidecast models`, these work on the service's store directly (`TIDECAST_HOME`,
`TIDECAST_DATABASE_URL`), not through the HTTP API: a file of millions of actuals loads
without an HTTP body limit, and monitoring reads what the endpoints logged whether or not the
service is running.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NamedTuple, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from tidecast.cli.common import fail, failure, guard, service_settings
from tidecast.cli.tables import Columns, fitted_table
from tidecast.errors import TidecastError
from tidecast.monitor.actuals import ingest_actuals, read_actuals
from tidecast.monitor.monitoring import Monitor
from tidecast.monitor.versions import parse_version
from tidecast.registry.registry import open_registry
from tidecast.registry.schema import version_label
from tidecast.wording import counted

actuals_app = typer.Typer(
    name="actuals",
    help="Observed values that forecasts are scored against.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
T = TypeVar("T")
METRICS: Columns = ("wql", "wape", "mape", "mase", "bias", "coverage")
LEFT: Columns = ("version", "item_id", "period")
# Shorter headers for the report's longer keys (the JSON keeps the keys).
HEADERS = {"realised_over_backtest": "vs backtest"}


def _with_monitor(action: Callable[[Monitor], T]) -> T:
    try:
        with open_registry(service_settings()) as registry:
            return action(Monitor(registry))
    except TidecastError as exc:
        raise failure(exc) from None


@actuals_app.command(
    "ingest",
    help="Load actuals from FILE: idempotent (a row loaded twice counts once; a changed value replaces "
    "the old one and the change is logged). Further numeric columns are covariates. The columns may be "
    "named as in the training file (--item-col, --timestamp-col, --value-col).",
)
def ingest(
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet file (or folder) of item_id, timestamp, value")
    ],
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="strftime format of the timestamps (e.g. %d/%m/%Y)")
    ] = None,
    item_col: Annotated[
        str, typer.Option("--item-col", help="Item id column; several joined by commas (Store,Dept)")
    ] = "item_id",
    timestamp_col: Annotated[str, typer.Option("--timestamp-col", help="Timestamp column")] = "timestamp",
    value_col: Annotated[
        str | None,
        typer.Option("--value-col", help="Observed value column (default: value, target or actual)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    frame, duplicates = guard(lambda: read_actuals(file, date_format, item_col, timestamp_col, value_col))

    result = _with_monitor(lambda m: ingest_actuals(m.registry.sessions, frame, duplicates))
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    out.print(
        f"{counted(result.rows, 'actual')} in {result.seconds:.1f}s: {result.inserted} new, "
        f"{result.updated} changed, {result.unchanged} unchanged"
        + (
            f" ({counted(result.duplicates, 'repeated row')} in the file, the last kept)"
            if result.duplicates
            else ""
        ),
        highlight=False,
    )
    note = result.unforecast_note()
    if note:
        out.print(f"Note: {note}", highlight=False, markup=False)


def monitor(
    endpoint: Annotated[str, typer.Argument(help="Endpoint name")],
    version: Annotated[
        str | None,
        typer.Option(
            "--version",
            help="Only this model version: a version number of the endpoint's group (1), or "
            "GROUP:VERSION (demo-sql:1) for another group's",
        ),
    ] = None,
    version_id: Annotated[
        int | None, typer.Option("--version-id", min=1, help="Only this model version, by its internal id")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Forecasts made from this date on")] = None,
    period: Annotated[str, typer.Option("--period", help="Bucket of the accuracy over time: D, W, M")] = "W",
    items: Annotated[int, typer.Option("--items", help="Worst items and drifting items listed")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON")] = False,
) -> None:
    """Realised accuracy of ENDPOINT's forecasts against the actuals, beside the backtest, and drift."""
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise fail(f"--since {since!r} is not a date (e.g. 2024-01-31)", 2) from None
    if version is not None and version_id is not None:
        raise fail("give --version or --version-id, not both", 2)
    only = None if version is None else guard(lambda: parse_version(version))
    report = _with_monitor(
        lambda m: m.report(
            endpoint, version=only, version_id=version_id, since=start, period=period, worst_items=items
        )
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    out.print(
        f"endpoint [bold]{endpoint}[/]: {counted(report['forecasts'], 'forecast')} logged, "
        f"{counted(report['points'], 'point')} with actuals",
        highlight=False,
    )
    for section in _sections(report, period):
        out.print(_table(section))


class Section(NamedTuple):
    """One table of the report: the `fixed` columns always show, the `optional` ones, most
    telling first, as many as the terminal's width leaves room for."""

    title: str
    rows: list[dict[str, Any]]
    fixed: Columns
    optional: Columns = METRICS


def _sections(report: dict[str, Any], period: str) -> list[Section]:
    """The report's tables. A version's realised score over its backtest one is the headline
    of the first, so those two columns are fixed there. Versions are named as the registry
    names them (`demo-sql v1`); the internal id alone read as a version number."""
    drift = report["drift"]
    version = "version"

    def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, version: _version(row)} for row in rows]

    return [
        Section(
            "accuracy by version",
            named(report["versions"]),
            (version, "points", "backtest", "realised_over_backtest"),
        ),
        Section(f"over time ({period})", named(report["over_time"]), (version, "period", "points")),
        Section("by horizon step", named(report["by_step"]), (version, "step", "points")),
        # By version and item: an item served by two versions has a row for each.
        Section("worst items", named(report["worst_items"]), (version, "item_id", "points")),
        Section(
            f"drift ({_version(drift)}, {counted(drift['items_compared'], 'item')})",
            # A reason's first word (a stop's whole sentence is in --json).
            [{**row, "reason": str(row.get("reason") or "").split(":")[0] or None} for row in drift["items"]],
            ("item_id", "points", "score"),
            ("reason", "level_shift", "volatility_ratio", "covariate_shift"),
        ),
    ]


def _version(row: dict[str, Any]) -> str:
    """`demo-sql v1`; a report without the registry's names gives the internal id."""
    if row.get("model_group") is None:
        return f"id {row['model_version_id']}"
    return version_label(row["model_group"], row["model_version"])


def _table(section: Section) -> Table:
    """`section` as a table that fits the terminal with every header and value in full; the
    title names the optional columns left out, which --json has."""
    cells = [
        {column: _cell(row.get(column)) for column in (*section.fixed, *section.optional)}
        for row in section.rows
    ]
    return fitted_table(
        out, section.title, cells, section.fixed, section.optional, headers=HEADERS, left=LEFT
    )


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):  # a backtest score and its metric
        return f"{value['metric']} {_cell(value.get('score'))}" if value.get("metric") else "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    # A period is a day. Item ids in full: ids cut to a common prefix named no item
    # ("electronics_headpho" for four of the demo's); a long id leaves out metrics instead.
    return str(value).removesuffix("T00:00:00")
