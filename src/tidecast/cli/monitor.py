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
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from tidecast.cli.common import fail, guard, service_settings
from tidecast.errors import TidecastError
from tidecast.monitor.actuals import ingest_actuals, read_actuals
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.registry import open_registry

actuals_app = typer.Typer(
    name="actuals",
    help="Observed values that forecasts are scored against.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
T = TypeVar("T")
METRICS = ("wql", "wape", "mape", "mase", "bias", "coverage")


def _with_monitor(action: Callable[[Monitor], T]) -> T:
    try:
        with open_registry(service_settings()) as registry:
            return action(Monitor(registry))
    except TidecastError as exc:
        raise fail(str(exc), 1) from None


@actuals_app.command("ingest")
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
    """Load actuals from FILE: idempotent (a row loaded twice counts once; a changed value
    replaces the old one and the change is logged). Further numeric columns are covariates.
    The columns may be named as in the training file (--item-col, --timestamp-col, --value-col)."""
    frame, duplicates = guard(lambda: read_actuals(file, date_format, item_col, timestamp_col, value_col))

    result = _with_monitor(lambda m: ingest_actuals(m.registry.sessions, frame, duplicates))
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    out.print(
        f"{result.rows} actuals in {result.seconds:.1f}s: {result.inserted} new, {result.updated} changed, "
        f"{result.unchanged} unchanged"
        + (f" ({result.duplicates} repeated rows in the file, the last kept)" if result.duplicates else ""),
        highlight=False,
    )


def monitor(
    endpoint: Annotated[str, typer.Argument(help="Endpoint name")],
    version: Annotated[int | None, typer.Option("--version", help="Only this model version id")] = None,
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
    report = _with_monitor(
        lambda m: m.report(endpoint, version=version, since=start, period=period, worst_items=items)
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    out.print(
        f"endpoint [bold]{endpoint}[/]: {report['forecasts']} forecasts logged, {report['points']} points with actuals",
        highlight=False,
    )
    out.print(
        _table(
            "accuracy by version", report["versions"], ["model_version_id", "points", *METRICS], backtest=True
        )
    )
    out.print(
        _table(
            f"over time ({period})", report["over_time"], ["model_version_id", "period", "points", *METRICS]
        )
    )
    out.print(_table("by horizon step", report["by_step"], ["model_version_id", "step", "points", *METRICS]))
    out.print(_table("worst items", report["worst_items"], ["item_id", "points", *METRICS]))
    drift = report["drift"]
    out.print(
        _table(
            f"drift (version {drift['model_version_id']}, {drift['items_compared']} items)",
            drift["items"],
            ["item_id", "points", "level_shift", "volatility_ratio", "covariate_shift", "score"],
        )
    )


def _table(title: str, rows: list[dict[str, Any]], columns: list[str], backtest: bool = False) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for column in [*columns, *(["backtest", "realised/backtest"] if backtest else [])]:
        table.add_column(column, justify="left" if column in ("item_id", "period") else "right")
    for row in rows:
        cells = [_cell(row.get(c)) for c in columns]
        if backtest:
            b = row.get("backtest") or {}
            cells += [f"{b.get('metric')} {_cell(b.get('score'))}", _cell(row.get("realised_over_backtest"))]
        table.add_row(*cells)
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:19] if isinstance(value, str) else str(value)
