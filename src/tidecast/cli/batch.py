"""`tidecast batch`: forecast a whole catalogue from files with a model folder or an endpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tidecast.batch.runner import DEFAULT_CHUNK_ROWS, run_batch
from tidecast.cli.common import LiveProgress, console, fail, service_settings
from tidecast.cli.options import (
    DateFormatOpt,
    FutureOpt,
    JobsOpt,
    SchedulerOpt,
    SqlOpt,
    SqlUrlOpt,
    WorkersOpt,
    is_query,
)
from tidecast.distributed import scale_out
from tidecast.errors import ConfigError, TidecastError
from tidecast.wording import counted


def model_folder(model: Path | None, endpoint: str | None) -> Path:
    """The model folder to use: `--model` (a run folder or a model folder) or an endpoint's
    deployed version, looked up in the service's store (`TIDECAST_*` settings)."""
    if (model is None) == (endpoint is None):
        raise ConfigError("give exactly one of --model and --endpoint")
    if model is not None:
        return model / "model" if (model / "model" / "manifest.json").is_file() else model
    from tidecast.registry.registry import open_registry

    assert endpoint is not None
    with open_registry(service_settings()) as registry:
        return registry.endpoint_model_path(endpoint)


class BatchProgress(LiveProgress):
    """Chunks done out of all, with the time left; updated by the runner's events.

    On a file or a pipe (a nightly run's log) the bar is drawn once, at the end, so there a
    line says when staging starts and how many chunks are done at each further tenth of them.
    """

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.tenths = -1  # the tenths of the chunks done, as last written to a log
        self.progress = Progress(
            TextColumn("[bold cyan]{task.fields[stage]:<9}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("chunks"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.task = self.progress.add_task("", total=None, stage="staging")

    def __call__(self, event: dict[str, Any]) -> None:
        if "chunks" in event:
            self.progress.update(
                self.task, total=event["chunks"], completed=event["done"], stage=event["stage"]
            )
        else:
            self.progress.update(self.task, stage=event["stage"])
        if not self.progress.console.is_interactive:
            self._log(event)

    def _log(self, event: dict[str, Any]) -> None:
        if event["stage"] == "staging":
            console.print("staging: splitting the input into chunks of whole series", highlight=False)
        elif "chunks" in event:
            tenths = 10 * event["done"] // max(event["chunks"], 1)
            if tenths > self.tenths:
                self.tenths = tenths
                console.print(
                    f"forecast: {event['done']:,} of {event['chunks']:,} chunks done "
                    f"({time.monotonic() - self.started:.0f}s)",
                    highlight=False,
                )


def batch(
    output: Annotated[Path, typer.Option("--output", help="Output folder (resumed if it holds this batch)")],
    input_path: Annotated[
        str | None,
        typer.Option("--input", help="CSV/Parquet file, folder or glob; local or fsspec URL (or give --sql)"),
    ] = None,
    sql: SqlOpt = None,
    sql_url: SqlUrlOpt = None,
    model: Annotated[Path | None, typer.Option("--model", help="A run folder or model folder")] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Use the model an endpoint serves")
    ] = None,
    future: FutureOpt = None,
    date_format: DateFormatOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", help="Rows per chunk (whole series); memory grows with it")
    ] = DEFAULT_CHUNK_ROWS,
    jobs: JobsOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    overwrite: Annotated[bool, typer.Option(help="Replace another batch's output in --output")] = False,
) -> None:
    """Forecast every item of a catalogue, chunk by chunk; an interrupted batch resumes."""
    if (input_path is None) == (sql is None):
        raise fail("give the input as --input PATH or as --sql QUERY (exactly one)")
    future_sql = future if future is not None and is_query(future) else None
    if sql_url is not None and sql is None and future_sql is None:
        raise fail("--sql-url needs --sql QUERY")
    try:
        folder = model_folder(model, endpoint)
        with scale_out(workers, scheduler) as client, BatchProgress() as view:
            result = run_batch(
                folder,
                input_path,
                output,
                sql=sql,
                sql_url=sql_url,
                future=None if future_sql is not None else future,
                future_sql=future_sql,
                date_format=date_format,
                fmt=fmt,
                chunk_rows=chunk_rows,
                workers=jobs,
                client=client,
                overwrite=overwrite,
                progress=view,
            )
    except TidecastError as exc:
        raise fail(str(exc)) from None
    m = result.manifest
    timings = m["timings"]
    console.print(
        f"forecast {m['items_forecast']:,} of {counted(m['items_in'], 'item', grouped=True)} in "
        f"{timings['total_seconds']:.1f}s ({_rate(timings['items_per_second'])}"
        f"{_ran_on(m)}; {m['chunks_resumed']} of "
        f"{counted(m['chunks'], 'chunk')} already done) -> {result.output}/forecasts",
        highlight=False,
    )
    if m["items_failed"]:
        first = m["failures"][0]
        console.print(
            f"[yellow]{counted(m['items_failed'], 'item', grouped=True)} failed[/] "
            f"(e.g. {first['item_id']}: {first['reason']}); "
            f"all listed in {result.output}/{m['failures_file']}",
            highlight=False,
            soft_wrap=True,
        )
    if m["items_forecast"] == 0:
        raise typer.Exit(1)


def _rate(items_per_second: float | None) -> str:
    """The throughput of this run, or nothing when every chunk was already done."""
    return "" if items_per_second is None else f"{items_per_second} items/s, "


def _ran_on(manifest: dict[str, Any]) -> str:
    """Where the chunks ran, as the summary line says it: "2 worker processes", "a Dask
    cluster of 4 workers", "in this process" (the executor's name before "workers" read
    "2 processes workers"), as the batch recorded it: one chunk runs in this process whatever
    the workers asked for."""
    executor, workers = manifest["executor"], manifest["workers"]
    if manifest["chunks_resumed"] == manifest["chunks"]:
        return "no chunk left to run"
    if executor == "dask":
        return f"a Dask cluster of {counted(workers, 'worker')}"
    if executor == "inline":
        return "in this process"
    return counted(workers, "worker process", "worker processes")
