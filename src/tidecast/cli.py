"""The `tidecast` command. Each command parses options and calls one library function."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tidecast.cli_options import FutureOpt, JobsOpt, SchedulerOpt, WorkersOpt
from tidecast.errors import TidecastError

app = typer.Typer(
    name="tidecast",
    help="Self-hosted AutoML for time-series forecasting.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _run(action: Any) -> Any:
    """Run `action`, turning expected errors into one line and a non-zero exit status."""
    try:
        return action()
    except TidecastError as exc:
        raise fail(str(exc)) from None
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise fail(str(exc)) from None


def _parse_json_option(value: str | None, name: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        text = Path(value).read_text() if value.endswith(".json") and Path(value).is_file() else value
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"--{name} must be JSON (or a .json file): {exc}") from None
    if not isinstance(parsed, dict):
        raise fail(f"--{name} must be a JSON object keyed by column name")
    return parsed


class ProgressView:
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

    def __enter__(self) -> ProgressView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

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
            note = f"[red]failed: {error}[/]" if error else f"score {float(score):.4f}"  # type: ignore[arg-type]
            self.progress.console.print(f"  {event['candidate']:<16} {note}", highlight=False)
            self.progress.advance(self.task)
        elif stage in ("prepare", "ensemble", "refit", "forecast", "done"):
            models = event.get("models")
            self.progress.update(self.task, stage=stage, description=", ".join(models) if models else "")  # type: ignore[arg-type]
        self.progress.refresh()


def print_leaderboard(board: pd.DataFrame, metric: str) -> None:
    """The leaderboard as a table: short headers so it fits an 80-column terminal."""
    table = Table(
        title=f"Leaderboard: {metric}, lower is better (w1 = oldest backtest window)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    window_cols = [c for c in board.columns if c.startswith("window_")]
    table.add_column("model", no_wrap=True)
    for k in range(len(window_cols)):
        table.add_column(f"w{k + 1}", justify="right", no_wrap=True, min_width=6)
    for name in ("score", "weight", "fit s", "pred s"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for row in board.itertuples(index=False):
        r = row._asdict()
        marker = " *" if r.get("selected") else ""
        cells = [f"{r['model']}{marker}"]
        cells += [_fmt(r[c]) for c in window_cols]
        cells += [_fmt(r["score"]) if not r.get("error") else "[red]failed[/]"]
        cells += [f"{r['weight']:.2f}", f"{r['fit_seconds']:.1f}", f"{r['predict_seconds']:.1f}"]
        table.add_row(*cells)
    out.print(table)
    for row in board.itertuples(index=False):
        if getattr(row, "error", ""):
            out.print(f"[red]{row.model} failed:[/] {row.error}", highlight=False, soft_wrap=True)


def _fmt(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "–" if number != number else f"{number:.4f}"


@app.command("demo-data")
def demo_data(
    out_path: Annotated[Path, typer.Option("--out", help="Where to write: .csv or .parquet")] = Path(
        "sales.csv"
    ),
    items: Annotated[int, typer.Option(help="Number of items (125 is the 5x5x5 catalogue)")] = 125,
    seed: Annotated[int, typer.Option(help="Random seed")] = 42,
    future_out: Annotated[
        Path | None, typer.Option("--future-out", help="Also write the next days' promotions and holidays")
    ] = None,
    horizon: Annotated[int, typer.Option("--horizon", help="Days in the --future-out file")] = 14,
    messy: Annotated[bool, typer.Option(help="Closures, gaps, ragged and short histories, returns")] = False,
) -> None:
    """Generate the demo retail sales dataset (daily, 2021-2023, promotions and holidays)."""
    from tidecast.data import demo
    from tidecast.data.io import write_table

    start = time.perf_counter()
    rows = _run(lambda: demo.write(out_path, n_items=items, seed=seed, messy=messy))
    console.print(
        f"wrote {rows:,} rows for {items:,} items to {out_path} in {time.perf_counter() - start:.1f}s"
    )
    if future_out is not None:
        frame = demo.future_covariates(items, seed, horizon, messy=messy)
        _run(lambda: write_table(frame, future_out))
        console.print(f"wrote the known covariates of the next {horizon} days to {future_out}")


def _auto(**kwargs: Any) -> Any:
    from tidecast.automl.forecaster import AutoForecaster

    return AutoForecaster(**kwargs)


HorizonOpt = Annotated[int, typer.Option("--horizon", "-h", help="Steps to forecast")]
QuantilesOpt = Annotated[str, typer.Option(help="Comma-separated quantiles")]
MetricOpt = Annotated[str, typer.Option(help="Objective: wql, wape, mape, mase, rmse, smape")]
ItemOpt = Annotated[str, typer.Option("--item-col", help="Item id column")]
TimeOpt = Annotated[str, typer.Option("--timestamp-col", help="Timestamp column")]
TargetOpt = Annotated[str, typer.Option("--target-col", help="Target column")]
FreqOpt = Annotated[
    str | None, typer.Option("--freq", help="Forecast frequency (pandas alias); inferred if absent")
]
PresetOpt = Annotated[str, typer.Option(help="fast, medium or best")]
LimitOpt = Annotated[float | None, typer.Option("--time-limit", help="Time budget in seconds")]
WindowsOpt = Annotated[
    int | None, typer.Option("--backtest-windows", help="Backtest windows (preset default)")
]
ModelsOpt = Annotated[str | None, typer.Option("--models", help="Comma-separated candidate names")]
FillOpt = Annotated[
    str | None, typer.Option("--filling", help='JSON, e.g. {"sales": {"middlefill": "zero"}}')
]
AggOpt = Annotated[str | None, typer.Option("--aggregation", help='JSON, e.g. {"sales": "sum"}')]
SeedOpt = Annotated[int, typer.Option(help="Random seed")]


KnownOpt = Annotated[
    str | None,
    typer.Option("--known-covariates", help="Columns known in advance, e.g. promotion,price"),
]
PastOpt = Annotated[
    str | None, typer.Option("--past-covariates", help="Columns known only up to the forecast origin")
]
StaticOpt = Annotated[
    str | None, typer.Option("--static-columns", help="Per-item attributes, e.g. category,region")
]
MetadataOpt = Annotated[
    str | None, typer.Option("--item-metadata", help="Table of static attributes keyed by the item column")
]
HolidaysOpt = Annotated[
    str | None, typer.Option("--holidays", help="Holiday country codes, e.g. US or US,GB")
]
EventsOpt = Annotated[
    str | None, typer.Option("--events", help="Events table (CSV/Parquet with date and name)")
]


SCALE_OUT = ("workers", "scheduler")


def _scale_out(workers: int | None, scheduler: str | None) -> contextlib.AbstractContextManager[Any]:
    """With --workers or --scheduler, local models' per-series work runs on Dask; without,
    on forked processes as before, which start faster and win on small runs."""
    from tidecast.distributed import scale_out

    return _run(lambda: scale_out(workers, scheduler))


def _build(**options: Any) -> Any:
    """An AutoForecaster from the shared options of `train` and `backtest`."""
    models = options.pop("models")
    return _auto(
        horizon=options.pop("horizon"),
        frequency=options.pop("freq"),
        metric=options.pop("metric").lower(),
        models=[m.strip() for m in models.split(",") if m.strip()] if models else None,
        filling=_parse_json_option(options.pop("filling"), "filling"),
        aggregation=_parse_json_option(options.pop("aggregation"), "aggregation"),
        static_data=options.pop("item_metadata"),
        n_jobs=options.pop("jobs"),
        **options,
    )


@app.command()
def train(
    data: Annotated[str, typer.Argument(help="CSV/Parquet path, folder, glob or fsspec URL")],
    horizon: HorizonOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder")] = Path("runs/latest"),
    quantiles: QuantilesOpt = "0.1,0.5,0.9",
    metric: MetricOpt = "wql",
    item_col: ItemOpt = "item_id",
    timestamp_col: TimeOpt = "timestamp",
    target_col: TargetOpt = "target",
    freq: FreqOpt = None,
    preset: PresetOpt = "medium",
    time_limit: LimitOpt = None,
    backtest_windows: WindowsOpt = None,
    models: ModelsOpt = None,
    filling: FillOpt = None,
    aggregation: AggOpt = None,
    known_covariates: KnownOpt = None,
    past_covariates: PastOpt = None,
    static_columns: StaticOpt = None,
    item_metadata: MetadataOpt = None,
    holidays: HolidaysOpt = None,
    events: EventsOpt = None,
    future: FutureOpt = None,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    seed: SeedOpt = 0,
) -> None:
    """Run the AutoML job: backtest candidates, ensemble, refit, forecast; write DIR/*."""
    options = {k: v for k, v in locals().items() if k not in ("data", "out_dir", "future", *SCALE_OUT)}
    from tidecast.reports.run import write_run

    auto = _run(lambda: _build(**options))
    start = time.perf_counter()
    with _scale_out(workers, scheduler), ProgressView(time_limit) as view:
        _run(lambda: auto.fit(data, progress=view))
        view({"stage": "forecast"})
        forecasts = _run(lambda: auto.predict(future=future))
    paths = write_run(auto, forecasts, out_dir)
    print_leaderboard(auto.leaderboard(), auto.metric)
    elapsed = time.perf_counter() - start
    out.print(f"selected: [bold]{auto.report_.best}[/]  weights: {_weights(auto.weights_)}")
    for note in auto.report_.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    out.print(f"trained in {elapsed:.1f}s")
    for label in ("forecasts", "leaderboard", "report", "model"):
        out.print(f"{label:<12} {paths[label]}")


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in weights.items())


@app.command()
def backtest(
    data: Annotated[str, typer.Argument(help="CSV/Parquet path, folder, glob or fsspec URL")],
    horizon: HorizonOpt,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder")] = Path("runs/backtest"),
    quantiles: QuantilesOpt = "0.1,0.5,0.9",
    metric: MetricOpt = "wql",
    item_col: ItemOpt = "item_id",
    timestamp_col: TimeOpt = "timestamp",
    target_col: TargetOpt = "target",
    freq: FreqOpt = None,
    preset: PresetOpt = "medium",
    time_limit: LimitOpt = None,
    backtest_windows: WindowsOpt = None,
    models: ModelsOpt = None,
    filling: FillOpt = None,
    aggregation: AggOpt = None,
    known_covariates: KnownOpt = None,
    past_covariates: PastOpt = None,
    static_columns: StaticOpt = None,
    item_metadata: MetadataOpt = None,
    holidays: HolidaysOpt = None,
    events: EventsOpt = None,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    seed: SeedOpt = 0,
) -> None:
    """Evaluate candidates on backtest windows only (no refit, no model): leaderboard + report."""
    options = {k: v for k, v in locals().items() if k not in ("data", "out_dir", "future", *SCALE_OUT)}
    from tidecast.reports.run import write_evaluation

    auto = _run(lambda: _build(**options))
    with _scale_out(workers, scheduler), ProgressView(time_limit) as view:
        _run(lambda: auto.evaluate(data, progress=view))
    paths = write_evaluation(auto, out_dir)
    print_leaderboard(auto.leaderboard(), auto.metric)
    for label, path in paths.items():
        out.print(f"{label:<12} {path}")


@app.command()
def forecast(
    model: Annotated[Path, typer.Argument(help="A run folder (with model/) or a model folder")],
    data: Annotated[
        str | None, typer.Option("--data", help="Newer history to forecast from (no refit)")
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Forecast file (.csv or .parquet)")] = Path(
        "forecasts.csv"
    ),
    future: FutureOpt = None,
) -> None:
    """Forecast with a trained model, from its stored history or newer data, without refitting."""
    from tidecast.automl.forecaster import AutoForecaster
    from tidecast.data.io import write_table

    folder = model / "model" if (model / "model" / "manifest.json").is_file() else model
    auto = _run(lambda: AutoForecaster.load(folder))
    start = time.perf_counter()
    frame = _run(lambda: auto.predict(data, future=future))
    _run(lambda: write_table(frame, out_path))
    items = frame[auto.spec_.item_col].nunique()
    console.print(
        f"forecast {items:,} items x {auto.horizon} steps in {time.perf_counter() - start:.1f}s -> {out_path}"
    )


def _mount_service_commands() -> None:
    """`tidecast models ...` and `tidecast jobs ...`: the registry and the job service."""
    from tidecast.service.cli_jobs import jobs_app
    from tidecast.service.cli_models import models_app
    from tidecast.service.cli_serve import keys_app, serve

    app.command("serve", help="Run the forecasting service: registry, jobs and the forecast API")(serve)
    app.add_typer(keys_app, name="keys", help="API keys of the service")
    app.add_typer(models_app, name="models", help="Model registry: list, show, approve, reject, rollback")
    app.add_typer(jobs_app, name="jobs", help="AutoML jobs on a running tidecast service")


def _mount_batch_command() -> None:
    from tidecast.batch.command import batch

    app.command("batch", help="Forecast a whole catalogue from files, chunk by chunk (resumable)")(batch)


_mount_service_commands()
_mount_batch_command()


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )


def run() -> None:
    """The console entry point: run the command, flush, and leave without native teardown.

    Once a command has finished, the interpreter's own shutdown only runs the destructors of
    the native libraries it loaded; seen here, pyarrow's and the OpenMP runtime's thread pools
    sometimes abort there ("terminate called without an active exception", exit status -6)
    after the command had already succeeded or printed its error. The exit status is the
    command's, so it is taken, the streams and logs are flushed, and the process ends.
    """
    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
