"""Batch forecasting of whole catalogues: staged chunks, forecast anywhere, resumable.

    output/
      batch.json          what this batch is (model, input, chunking): a rerun must match it
      _staging/           the input split into chunks of whole series (removed at the end)
      _chunks/NNNNN.json  one record per finished chunk: items, failures, seconds
      forecasts/part-NNNNN.parquet
                          the forecasts of chunk NNNNN (CSV on request): the folder reads
                          as one dataset (`pandas.read_parquet("output/forecasts")`)
      failures.csv        every item that could not be forecast, with the reason
      manifest.json       items in / forecast / failed, timings, the parts

A chunk's part file is written under a temporary name and renamed, then its record is written
the same way; a chunk counts as done only when its record exists. So a batch killed at any
moment and started again redoes only unfinished chunks and forecasts every item exactly once.

One item that fails validation never fails its chunk: the chunk is split in halves until the
failing items are alone, and each is reported with the error that named it. The chunks run
inline, in local worker processes, or on a Dask cluster (`tidecast.batch.executors`);
`forecast_chunk` (`tidecast.batch.chunk`) is the whole unit of work, so every executor runs
exactly the same code.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from tidecast.automl.artifact import read_manifest
from tidecast.batch.chunk import FORECASTS, BatchPlan, ChunkRecord, one_key_type, write_json
from tidecast.batch.executors import execute, placement
from tidecast.batch.future_check import check_future
from tidecast.batch.staging import Staged, input_fingerprint, stage
from tidecast.data.item_keys import split
from tidecast.errors import ConfigError

BATCH_TYPE = "tidecast.BatchForecast"
FORMATS = ("parquet", "csv")
DEFAULT_CHUNK_ROWS = 500_000
FAILURES_IN_MANIFEST = 1_000

Progress = Callable[[dict[str, Any]], None]


@dataclass
class BatchResult:
    manifest: dict[str, Any]
    output: Path

    @property
    def items_failed(self) -> int:
        return int(self.manifest["items_failed"])


# ---- the batch ---------------------------------------------------------------------------
def run_batch(
    model: str | Path,
    source: str | Path | None,
    output: str | Path,
    *,
    sql: str | None = None,
    sql_url: str | None = None,
    sql_root: Path | None = None,
    future: str | Path | None = None,
    future_sql: str | None = None,
    date_format: str | None = None,
    fmt: str = "parquet",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
    client: Any = None,
    overwrite: bool = False,
    keep_staging: bool = False,
    progress: Progress | None = None,
) -> BatchResult:
    """Forecast every item of `source` with the model folder `model` into `output`.

    `client` (a `distributed.Client`) runs the chunks on Dask; otherwise `workers` local
    processes (default: every core; 1 runs inline). A rerun with the same model, input and
    chunking resumes; a different batch in the same folder needs `overwrite`. `date_format`
    (strftime codes) reads the input's and future's text timestamps instead of the model's.

    `sql` (a DuckDB query over files, or a query on the database at the SQLAlchemy `sql_url`)
    is the input instead of `source`: its result is written once to a Parquet file in the
    staging folder, streaming, and staged from there like any input. A batch over a query is
    known by the query's text, so a rerun of the same query resumes. With `sql_root` (the
    service's data root) the query may read files below it only. `future_sql` is the future
    covariates as a query, run where `sql` runs and staged as the future file is.
    """
    if (source is None) == (sql is None):
        raise ConfigError("give the batch input as a location or as a SQL query (exactly one)")
    if sql_url is not None and sql is None and future_sql is None:
        raise ConfigError("a SQL database URL needs a SQL query")
    if future is not None and future_sql is not None:
        raise ConfigError("give the future covariates as a location or as a SQL query, not both")
    if fmt not in FORMATS:
        raise ConfigError(f"unknown batch output format {fmt!r}: use {' or '.join(FORMATS)}")
    emit = progress or (lambda event: None)
    started = time.monotonic()
    manifest = read_manifest(model)
    if manifest["task"]["covariates"]["known"]:  # from the header or the bound query, before any row
        check_future(manifest["task"], future, future_sql, sql_url, sql_root)
    item_col = str(manifest["task"]["columns"]["item"])
    folder = Path(output)
    identity = {
        "type": BATCH_TYPE,
        "model": str(Path(model).resolve()),
        # The payload digests: a model retrained into the same folder is another batch.
        "model_files": manifest.get("files"),
        "input": input_fingerprint(source) if source is not None else _query_identity(sql, sql_url),
        "future": input_fingerprint(future)
        if future is not None
        else (_query_identity(future_sql, sql_url) if future_sql is not None else None),
        "format": fmt,
        "chunk_rows": chunk_rows,
    }
    if date_format is not None:  # absent otherwise, so batches started before it still resume
        identity["date_format"] = date_format
    _claim(folder, identity, overwrite)

    emit({"stage": "staging"})
    t_stage = time.monotonic()
    try:
        staged, staged_future = _stage_inputs(
            manifest, folder, source, future, sql, sql_url, future_sql, sql_root, chunk_rows
        )
    except BaseException:
        # Refused (a missing column, an unreadable file) or stopped before any chunk: the folder
        # holds nothing to resume, so the run with the input corrected may have it.
        if not _has_results(folder):
            (folder / "batch.json").unlink(missing_ok=True)
            shutil.rmtree(folder / "_staging", ignore_errors=True)
        raise
    staging_seconds = time.monotonic() - t_stage
    plan = BatchPlan(str(model), str(folder), fmt, item_col, staged, staged_future, date_format)

    done = {k: _read_record(plan, k) for k in range(staged.n_chunks)}
    records = {k: r for k, r in done.items() if r is not None}
    pending = [k for k in range(staged.n_chunks) if k not in records]
    resumed = set(records)
    emit({"stage": "forecast", "chunks": staged.n_chunks, "done": len(resumed)})
    t_forecast = time.monotonic()
    errors: dict[int, str] = {}
    ran_on = placement(len(pending), workers, client)  # the manifest's, as `execute` decides
    for result in execute(plan, pending, workers, client):
        if isinstance(result, ChunkRecord):
            records[result.chunk] = result
        else:
            k, exc = result
            errors[k] = f"{type(exc).__name__}: {exc}"
        emit({"stage": "forecast", "chunks": staged.n_chunks, "done": len(records) + len(errors)})
    forecast_seconds = time.monotonic() - t_forecast
    one_key_type(plan, [plan.part_path(k) for k, r in sorted(records.items()) if r.forecast])
    result_manifest = _finish(
        plan, identity, records, errors, resumed, staging_seconds, forecast_seconds, started, ran_on
    )
    if not errors and not keep_staging:
        shutil.rmtree(folder / "_staging", ignore_errors=True)
    emit({"stage": "done"})
    return BatchResult(result_manifest, folder)


def _stage_inputs(
    manifest: dict[str, Any],
    folder: Path,
    source: str | Path | None,
    future: str | Path | None,
    sql: str | None,
    sql_url: str | None,
    future_sql: str | None,
    sql_root: Path | None,
    chunk_rows: int,
) -> tuple[Staged, Staged | None]:
    """The input (and the future covariates) staged into chunks of whole series under
    `folder`, refused whole where they lack the model's columns."""
    item_col = str(manifest["task"]["columns"]["item"])
    if sql is not None:
        source = _query_result(sql, sql_url, folder / "_staging" / "query.parquet", sql_root)
    if future_sql is not None:
        future = _query_result(future_sql, sql_url, folder / "_staging" / "future_query.parquet", sql_root)
    assert source is not None
    static = [str(c) for c in manifest["task"]["covariates"].get("static", ())]
    staged = stage(source, folder / "_staging" / "input", item_col, chunk_rows=chunk_rows, names=static)
    columns = manifest["task"]["columns"]
    staged.require([str(columns["timestamp"]), str(columns["target"])], "the batch input")
    known = manifest["task"]["covariates"]["known"]
    if known and future is None and not staged.has_empty(str(columns["target"])):
        # Without a future file the plan can only be the input's own rows after its history
        # (`data.ahead`, the target empty); an input without such rows fails here, not per item.
        raise ConfigError(
            f"the model needs known covariates {known} over the horizon: pass the future covariates "
            "file, or keep them in the input on rows after its last target date, with the target empty"
        )
    staged_future = (
        stage(
            future, folder / "_staging" / "future", item_col, chunk_rows=chunk_rows, n_chunks=staged.n_chunks
        )
        if future is not None
        else None
    )
    if staged_future is not None and known:
        # Every item would fail alike, the whole catalogue read first: refuse the file at once.
        staged_future.require([str(columns["timestamp"]), *map(str, known)], "the future covariates table")
    return staged, staged_future


def _query_identity(sql: str | None, url: str | None) -> dict[str, Any]:
    """What tells one query input from another in batch.json: the query and the database,
    without its password."""
    masked = url
    if url is not None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            masked = make_url(url).render_as_string(hide_password=True)
        except ArgumentError:
            masked = None  # read_sql names the bad URL when it is used
    return {"sql": sql, "sql_url": masked}


def _query_result(sql: str, url: str | None, path: Path, root: Path | None) -> Path:
    """The query's result as a Parquet file, written once: a resumed batch reuses it."""
    from tidecast.data.sql_io import sql_to_parquet

    if not path.is_file():
        sql_to_parquet(sql, url, path, root=root)
    return path


def _claim(folder: Path, identity: dict[str, Any], overwrite: bool) -> None:
    """Make `folder` this batch's: new, or holding this same batch (resume), or overwritten."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} is a file: give a folder for the batch output")
    marker = folder / "batch.json"
    if marker.exists():
        try:
            existing = json.loads(marker.read_text())
        except json.JSONDecodeError:
            existing = None
        if existing == identity:
            return
        if not overwrite:
            raise ConfigError(
                f"{folder} holds the output of another batch (different model, input or chunking): "
                "choose another output folder or pass --overwrite"
            )
        shutil.rmtree(folder)
    elif folder.exists() and any(folder.iterdir()):
        # Not with `overwrite` either: it replaces a batch's output, never a folder of other files.
        raise ConfigError(f"{folder} exists and is not a batch output folder: choose an empty or new folder")
    try:
        write_json(marker, identity)
    except OSError as exc:  # under a file, or a folder this user may not write
        raise ConfigError(f"cannot write the batch output folder {folder}: {exc.strerror or exc}") from None


def _has_results(folder: Path) -> bool:
    """Whether a batch output folder holds a finished chunk or a finished batch's manifest."""
    return (folder / "manifest.json").exists() or any((folder / "_chunks").glob("*.json"))


def _read_record(plan: BatchPlan, k: int) -> ChunkRecord | None:
    try:
        payload = json.loads(plan.record_path(k).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    record = ChunkRecord(**payload)
    if record.forecast and not plan.part_path(k).exists():
        return None  # the part is gone: redo the chunk
    return record


def _finish(
    plan: BatchPlan,
    identity: dict[str, Any],
    records: dict[int, ChunkRecord],
    errors: dict[int, str],
    resumed: set[int],
    staging_seconds: float,
    forecast_seconds: float,
    started: float,
    ran_on: tuple[str, int],
) -> dict[str, Any]:
    """Write failures.csv and manifest.json from the chunk records; `ran_on` is where the
    chunks ran (`executors.placement`)."""
    failures = [(item, reason) for r in records.values() for item, reason in sorted(r.failed.items())]
    items_in = sum(r.items for r in records.values())
    for k, reason in sorted(errors.items()):
        frame = plan.input.read_chunk(k)
        items = [] if frame is None else sorted(frame[plan.item_col].astype(str).unique())
        failures.extend((item, f"chunk {k} failed: {reason}") for item in items)
        items_in += len(items)
    table = split(pd.DataFrame(failures, columns=[plan.item_col, "reason"]), plan.item_col)
    table.to_csv(Path(plan.output) / "failures.csv", index=False)
    forecast_items = sum(r.forecast for r in records.values())
    # The rate counts only the items forecast by this run: chunks done by an earlier run took
    # no time here, and counting them gave a finished batch run again millions of items/s.
    fresh_items = sum(r.forecast for k, r in records.items() if k not in resumed)
    total_seconds = time.monotonic() - started
    manifest = {
        "type": BATCH_TYPE,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": identity["model"],
        # The files read, or the query ({"sql": ..., "sql_url": ...}).
        "input": [f["path"] for f in identity["input"]]
        if isinstance(identity["input"], list)
        else identity["input"],
        "format": plan.format,
        "chunks": plan.input.n_chunks,
        "chunks_resumed": len(resumed),
        "chunks_failed": sorted(errors),
        "rows_in": plan.input.rows,
        "rows_without_item": plan.input.rows_without_item,
        "items_in": items_in,
        "items_forecast": forecast_items,
        "items_failed": len(failures),
        "items_with_fallback": sum(r.fallback for r in records.values()),
        "failures": [{"item_id": i, "reason": r} for i, r in failures[:FAILURES_IN_MANIFEST]],
        "failures_file": "failures.csv",
        "forecast_rows": sum(r.rows for r in records.values()),
        "parts": sorted(f"{FORECASTS}/{plan.part_path(k).name}" for k, r in records.items() if r.forecast),
        # Where they ran, not what was asked: one chunk pending runs here, with no pool.
        "executor": ran_on[0],
        "workers": ran_on[1],
        "timings": {
            "staging_seconds": round(staging_seconds, 3),
            "forecast_seconds": round(forecast_seconds, 3),
            "total_seconds": round(total_seconds, 3),
            "chunk_seconds_sum": round(sum(r.seconds for r in records.values()), 3),
            "items_per_second": round(fresh_items / forecast_seconds, 1)
            if fresh_items and forecast_seconds > 0
            else None,
        },
    }
    write_json(Path(plan.output) / "manifest.json", manifest)
    return manifest
