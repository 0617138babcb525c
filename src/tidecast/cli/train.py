"""`tidecast train`, `backtest` and `forecast`: the AutoML library on local files.

`train` and `backtest` share the AutoML options, built from their one declaration
(`tidecast.automl.options`) by `automl_command`; `forecaster` turns them into an `AutoForecaster`. A fit shows its progress (`ProgressView`) and
ends with the leaderboard.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tidecast.cli.common import LiveProgress, console, fail, guard, out
from tidecast.cli.options import (
    DataArg,
    DateFormatOpt,
    FutureOpt,
    SchedulerOpt,
    SqlOpt,
    SqlUrlOpt,
    WorkersOpt,
    automl_command,
    forecaster_keywords,
    is_query,
)
from tidecast.wording import counted

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster


class ProgressView(LiveProgress):
    """Rich progress for a fit: which stage, candidate and window, and the time left.

    Refreshes only when an event arrives (no background thread), so forking workers is safe.
    """

    def __init__(self, time_limit: float | None) -> None:
        self.deadline = time.monotonic() + time_limit if time_limit else None
        self.progress = Progress(
            TextColumn("[bold cyan]{task.fields[stage]:<9}"),
            BarColumn(bar_width=24),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=False,
        )
        self.task = self.progress.add_task("", total=1, stage="prepare")

    def __call__(self, event: dict[str, object]) -> None:
        stage = str(event.get("stage", ""))
        left = ""
        if self.deadline is not None:
            left = f"  [dim]{max(0.0, self.deadline - time.monotonic()):.0f}s left[/]"
        if stage == "backtest" and "index" in event:
            self.progress.update(
                self.task,
                total=float(event["candidates"]),  # type: ignore[arg-type]
                completed=float(event["index"]) - 1,  # type: ignore[arg-type]
                stage="backtest",
                description=f"{event['candidate']}{left}",
            )
        elif stage == "backtest" and "window" in event:
            self.progress.update(
                self.task,
                description=f"{event['candidate']} window {event['window']}/{event['windows']}{left}",
            )
        elif stage == "candidate_done":
            error = event.get("error")
            score = event.get("score")
            note = _ended(str(error)) if error else f"score {float(score):.4f}"  # type: ignore[arg-type]
            self.progress.console.print(f"  {event['candidate']:<16} {note}", highlight=False)
            self.progress.advance(self.task)
        elif stage in ("prepare", "ensemble", "refit", "forecast", "done"):
            models = event.get("models")
            self.progress.update(self.task, stage=stage, description=", ".join(models) if models else "")  # type: ignore[arg-type]
        self.progress.refresh()


def print_leaderboard(board: pd.DataFrame, metric: str) -> None:
    """The leaderboard as a table that fits the terminal with every score in full.

    The model, its score, weight and timings always show; the per-window scores follow, as
    many of the newest windows as the width leaves room for (all of them are in
    leaderboard.csv). Letting Rich shrink columns instead cut scores to `0.00…` at 80 columns.
    """
    window_cols = [c for c in board.columns if c.startswith("window_")]
    rows = []
    for row in board.itertuples(index=False):
        r = row._asdict()
        marker = " *" if r.get("selected") else ""
        score = _fmt(r["score"]) if not r.get("error") else outcome(r["error"])
        fixed = [
            f"{r['model']}{marker}",
            score,
            f"{r['weight']:.2f}",
            f"{r['fit_seconds']:.1f}",
            f"{r['predict_seconds']:.1f}",
        ]
        rows.append((fixed, [_fmt(r[c]) for c in window_cols]))
    headers = ["model", "score", "weight", "fit s", "pred s"]
    shown = _windows_that_fit(headers, rows, len(window_cols), out.width - 2)  # the table's edges
    first = len(window_cols) - shown
    title = f"Leaderboard: {metric}, lower is better (w1 = oldest backtest window)"
    if first:
        title += f"; {'w1' if first == 1 else f'w1-w{first}'} only in leaderboard.csv"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("model", no_wrap=True)
    for name in headers[1:]:
        table.add_column(name, justify="right", no_wrap=True)
    for k in range(first, len(window_cols)):
        table.add_column(f"w{k + 1}", justify="right", no_wrap=True)
    for fixed, windows in rows:
        cells = [*fixed, *windows[first:]]
        if cells[1] in OUTCOME_COLOURS:
            cells[1] = f"[{OUTCOME_COLOURS[cells[1]]}]{cells[1]}[/]"
        table.add_row(*cells)
    out.print(table)
    for row in board.itertuples(index=False):
        if getattr(row, "error", ""):
            out.print(_ended(str(row.error), str(row.model)), highlight=False, soft_wrap=True)


# How a candidate without a score ended, and its colour: pruned after its first window or
# screened out on a sample (`automl.pruning`, `automl.screening`), by design, or failed.
OUTCOME_COLOURS = {"stopped": "yellow", "skipped": "yellow", "failed": "red"}


def outcome(error: str) -> str:
    """ "stopped", "skipped" or "failed", from a leaderboard `error` text.

    Stopping a candidate that cannot win is the AutoML saving time, not a fault: showing it
    as "failed" sent users looking for a bug (the demo's NPTS "failed: stopped after window 1").
    """
    if error.startswith("stopped after"):
        return "stopped"
    if error.startswith("skipped"):
        return "skipped"
    return "failed"


def _ended(error: str, model: str = "") -> str:
    """One line on how a candidate ended: "NPTS stopped after window 1: ..." in its colour."""
    kind = outcome(error)
    head, _, rest = (error if kind != "failed" else f"failed: {error}").partition(":")
    name = f"{model} " if model else ""
    return f"[{OUTCOME_COLOURS[kind]}]{name}{head}:[/]{rest}"


def _windows_that_fit(
    headers: list[str], rows: list[tuple[list[str], list[str]]], windows: int, width: int
) -> int:
    """How many window columns fit beside the fixed ones in `width` (two spaces between)."""

    def column_width(header: str, cells: list[str]) -> int:
        return max([len(header), *(len(c) for c in cells)])

    used = sum(column_width(h, [f[i] for f, _ in rows]) + 2 for i, h in enumerate(headers)) - 2
    for k in range(windows):
        cells = [w[windows - 1 - k] for _, w in rows]
        used += column_width(f"w{windows - k}", cells) + 2
        if used > width:
            return k
    return windows


def print_missing(auto: Any) -> None:
    """How many cells were missing per column and region, and what was done with them."""
    from tidecast.reports.missing import missing_lines

    for line in missing_lines(auto.report_.data_summary, [c.name for c in auto.report_.candidates]):
        out.print(f"[yellow]missing:[/] {line}", highlight=False)


def _fmt(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "–" if number != number else f"{number:.4f}"


OutOpt = Annotated[Path, typer.Option("--out", help="Output folder")]


def data_source(
    data: str | None, sql: str | None, sql_url: str | None = None, data_name: str = "DATA"
) -> str | pd.DataFrame:
    """The path the user gave, or the frame their `--sql` query returns: exactly one of them.

    The query is read into a frame here, before any work, because a frame is what the library
    already takes: `fit`, `evaluate` and `predict` need no third kind of data source.
    """
    from tidecast.data.sql_io import read_sql

    if (data is None) == (sql is None):
        raise fail(f"give the data as {data_name} or as --sql QUERY (exactly one)")
    if sql_url is not None and sql is None:
        raise fail("--sql-url needs --sql QUERY")
    if sql is not None:
        frame: pd.DataFrame = guard(lambda: read_sql(sql, sql_url))
        return frame
    assert data is not None
    return data


def future_source(future: str | None, sql_url: str | None = None) -> str | pd.DataFrame | None:
    """The future covariates as given: a path, or the frame a query returns (`is_query`).

    Data whose item id lives in two columns (a store and a department) reaches the AutoML
    through a `--sql` query that joins them into one; its future rows need the same query, and
    a file written by hand for that would be the first thing a new user has to do. A query runs
    where the data's query runs (DuckDB over files, or `sql_url`'s database).
    """
    from tidecast.data.sql_io import read_sql

    if future is None or not is_query(future):
        return future
    frame: pd.DataFrame = guard(lambda: read_sql(future, sql_url))
    return frame


def _scale_out(workers: int | None, scheduler: str | None) -> contextlib.AbstractContextManager[Any]:
    """With --workers or --scheduler, local models' per-series work runs on Dask; without,
    on forked processes as before, which start faster and win on small runs."""
    from tidecast.distributed import scale_out

    return guard(lambda: scale_out(workers, scheduler))


# Where `--help` lists each command's own options among the AutoML ones.
_PLACES = {
    "horizon": ("data", "sql", "sql_url", "out_dir"),
    "events": ("future",),
    "n_jobs": ("workers", "scheduler"),
}


def forecaster(options: dict[str, Any]) -> AutoForecaster:
    """The AutoForecaster of the AutoML options as typed (`automl_command`)."""
    from tidecast.automl.forecaster import AutoForecaster

    return AutoForecaster(**forecaster_keywords(options))


@automl_command(_PLACES)
def train(
    data: DataArg = None,
    sql: SqlOpt = None,
    sql_url: SqlUrlOpt = None,
    out_dir: OutOpt = Path("runs/latest"),
    future: FutureOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    *,
    options: dict[str, Any],
) -> None:
    """Run the AutoML job: backtest candidates, ensemble, refit, forecast; write DIR/*."""
    from tidecast.reports.run import write_run

    source = data_source(data, sql, sql_url)
    future_rows = future_source(future, sql_url)
    auto = guard(lambda: forecaster(options))
    start = time.perf_counter()
    with _scale_out(workers, scheduler), ProgressView(auto.time_limit) as view:
        guard(lambda: auto.fit(source, progress=view, future=future_rows, will_forecast=True))
        view({"stage": "forecast"})
        forecasts = guard(lambda: auto.predict(future=future_rows))
    paths = write_run(auto, forecasts, out_dir)
    print_leaderboard(auto.leaderboard(), auto.metric)
    print_missing(auto)
    elapsed = time.perf_counter() - start
    out.print(f"selected: [bold]{auto.report_.best}[/]  weights: {_weights(auto.weights_)}")
    print_notes(auto.report_.notes, auto.leaderboard())
    out.print(f"trained in {elapsed:.1f}s")
    for label in ("forecasts", "leaderboard", "report", "model", "backtests"):
        if label in paths:
            out.print(f"{label:<12} {paths[label]}")


def print_notes(notes: list[str], board: pd.DataFrame) -> None:
    """The run's notes, but for those the leaderboard's lines under its table already said.

    A candidate stopped after its first window is both a note of the run (report.json keeps
    it) and a leaderboard row with its reason, which `print_leaderboard` prints: the console
    showed the same sentence twice, a few lines apart.
    """
    shown = {f"{row.model} {row.error}" for row in board.itertuples(index=False) if getattr(row, "error", "")}
    for note in notes:
        if note not in shown:
            out.print(f"[yellow]note:[/] {note}", highlight=False)


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in weights.items())


@automl_command({k: v for k, v in _PLACES.items() if k != "events"})
def backtest(
    data: DataArg = None,
    sql: SqlOpt = None,
    sql_url: SqlUrlOpt = None,
    out_dir: OutOpt = Path("runs/backtest"),
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    *,
    options: dict[str, Any],
) -> None:
    """Evaluate candidates on backtest windows only (no refit, no model): leaderboard + report."""
    from tidecast.reports.run import write_evaluation

    source = data_source(data, sql, sql_url)
    auto = guard(lambda: forecaster(options))
    with _scale_out(workers, scheduler), ProgressView(auto.time_limit) as view:
        guard(lambda: auto.evaluate(source, progress=view))
    paths = write_evaluation(auto, out_dir)
    print_leaderboard(auto.leaderboard(), auto.metric)
    print_missing(auto)
    for label, path in paths.items():
        out.print(f"{label:<12} {path}")


def forecast(
    model: Annotated[Path, typer.Argument(help="A run folder (with model/) or a model folder")],
    data: Annotated[
        str | None, typer.Option("--data", help="Newer history to forecast from (no refit)")
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Forecast file (.csv or .parquet)")] = Path(
        "forecasts.csv"
    ),
    sql: SqlOpt = None,
    sql_url: SqlUrlOpt = None,
    future: FutureOpt = None,
    date_format: DateFormatOpt = None,
) -> None:
    """Forecast with a trained model, from its stored history or newer data, without refitting."""
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.data.io import write_table
    from tidecast.data.item_keys import item_ids

    folder = model / "model" if (model / "model" / "manifest.json").is_file() else model
    auto = guard(lambda: AutoForecaster.load(folder))
    if date_format is not None:  # newer files may be written another way than the training data
        auto.date_format = date_format
    start = time.perf_counter()
    newer = None if data is None and sql is None else data_source(data, sql, sql_url, data_name="--data")
    future_rows = future_source(future, sql_url)
    frame = guard(lambda: auto.predict(newer, future=future_rows))
    guard(lambda: write_table(frame, out_path))
    items = item_ids(frame, auto.spec_.item_col).nunique()
    console.print(
        f"forecast {counted(items, 'item', grouped=True)} x {counted(auto.horizon, 'step')} in "
        f"{time.perf_counter() - start:.1f}s -> {out_path}"
    )
