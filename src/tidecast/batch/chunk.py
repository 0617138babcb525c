"""Forecasting one chunk: the unit of work of a batch, and the plan that tells a worker how.

Apart from the batch's bookkeeping (`tidecast.batch.runner`) because this is what crosses to
a worker: `BatchPlan` is pickled to local processes and Dask workers, and `forecast_chunk` is
the one function every executor (`tidecast.batch.executors`) calls. A chunk writes its part
and its record atomically (a temporary name, then a rename), which is what makes a killed
batch resumable.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from tidecast.batch.staging import Staged
from tidecast.data.arrays import series_indptr
from tidecast.data.item_keys import item_ids, text_columns
from tidecast.errors import DataError
from tidecast.models.base import fallback_items

FORECASTS = "forecasts"


@dataclass(frozen=True)
class BatchPlan:
    """Everything a worker needs to forecast one chunk; small and picklable."""

    model: str
    output: str
    format: str
    item_col: str
    input: Staged
    future: Staged | None = None
    date_format: str | None = None  # overrides the model's, for files written another way

    def part_path(self, k: int) -> Path:
        return (
            Path(self.output) / FORECASTS / f"part-{k:05d}.{'parquet' if self.format == 'parquet' else 'csv'}"
        )

    def record_path(self, k: int) -> Path:
        return Path(self.output) / "_chunks" / f"{k:05d}.json"


@dataclass
class ChunkRecord:
    chunk: int
    items: int
    forecast: int
    failed: dict[str, str] = field(default_factory=dict)
    fallback: int = 0
    rows: int = 0
    seconds: float = 0.0


@functools.lru_cache(maxsize=2)
def _load_model(path: str) -> Any:
    """The model without its stored history, members single-process (the chunks are the
    parallelism); loaded once per worker process."""
    from tidecast.automl.forecaster import AutoForecaster

    model = AutoForecaster.load(path, history=False)
    for member in model.members_.values():
        if hasattr(member, "n_jobs"):
            member.n_jobs = 1
    return model


def forecast_chunk(plan: BatchPlan, k: int) -> ChunkRecord:
    """Forecast chunk `k` and write its part and record (atomically); returns the record."""
    started = time.perf_counter()
    frame = plan.input.read_chunk(k)
    record = ChunkRecord(chunk=k, items=0, forecast=0)
    forecast: pd.DataFrame | None = None
    if frame is not None:
        model = _load_model(plan.model)
        if plan.date_format is not None:
            model.date_format = plan.date_format
        future = chunk_future(plan, k)
        with threadpool_limits(limits=1):
            forecast, record.failed, record.fallback = forecast_isolating(model, frame, future, plan.item_col)
        record.items = int(frame[plan.item_col].nunique())
        record.forecast = 0 if forecast is None else int(item_ids(forecast, plan.item_col).nunique())
        record.rows = 0 if forecast is None else len(forecast)
    if forecast is not None:
        _write_part(forecast, plan.part_path(k), plan.format)
    record.seconds = time.perf_counter() - started
    write_json(plan.record_path(k), asdict(record))
    return record


def chunk_future(plan: BatchPlan, k: int) -> pd.DataFrame | None:
    """The future covariates' rows of chunk `k` (None without a future file).

    A chunk none of whose items has a row in the file gets the file's columns without rows,
    not None: None means "no future given", so its items were forecast without the plan (by a
    model that does not read it) or failed asking for `--future`, while the same items in
    another chunk failed for lack of their rows. With the empty table each item gets its
    column's futurefill or fails naming the missing values, as `predict` with the file does.
    """
    if plan.future is None:
        return None
    frame = plan.future.read_chunk(k)
    return frame if frame is not None else pd.DataFrame(columns=plan.future.column_names())


def forecast_isolating(
    model: Any, frame: pd.DataFrame, future: pd.DataFrame | None, item_col: str
) -> tuple[pd.DataFrame | None, dict[str, str], int]:
    """Forecast every item of `frame`; items whose data is invalid are isolated by halving.

    Returns the forecast (None if no item could be forecast), the failed items with the
    reason, and how many items a member forecast with its fallback. Halving costs one extra
    prediction per level for each bad item, so a clean chunk is forecast in a single call.
    """
    ids = frame[item_col].astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    frame, ids = frame.iloc[order].reset_index(drop=True), ids[order]
    bounds = series_indptr(ids)
    names = ids[bounds[:-1]]
    future_ids = None if future is None else future[item_col].astype(str)
    parts: list[pd.DataFrame] = []
    failed: dict[str, str] = {}
    fallback: set[str] = set()

    def attempt(lo: int, hi: int) -> None:
        rows = frame.iloc[bounds[lo] : bounds[hi]]
        horizon = None if future is None or future_ids is None else future[future_ids.isin(names[lo:hi])]
        try:
            forecast = model.predict(rows, horizon)
        except DataError as exc:
            if hi - lo == 1:
                failed[str(names[lo])] = exc.unplaced()  # its rows, not the file's, were counted
                return
            middle = (lo + hi) // 2
            attempt(lo, middle)
            attempt(middle, hi)
            return
        parts.append(forecast)
        fallback.update(fallback_items(forecast))

    attempt(0, len(names))
    if not parts:
        return None, failed, len(fallback)
    forecast = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return forecast, failed, len(fallback)


def _write_part(forecast: pd.DataFrame, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if fmt == "parquet":
        forecast.to_parquet(temporary, index=False)
    else:
        forecast.to_csv(temporary, index=False)
    os.replace(temporary, path)


def one_key_type(plan: BatchPlan, parts: list[Path]) -> int:
    """Rewrite the Parquet parts whose item key columns are typed as text when another part
    holds them as text; returns how many were rewritten.

    Each chunk gives the key back in the type of the model's data (an int64 Store) where its
    ids convert back, and as text where one does not (a new item "A12" among numbered
    stores): one such chunk left the folder with two schemas, which `pd.read_parquet` on the
    folder refuses. Text holds every id, so the folder reads as text then; nothing changes
    when every part agrees, the usual case. CSV parts carry no types.
    """
    if plan.format != "parquet" or len(parts) < 2:
        return 0
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = text_columns(plan.item_col)
    schemas = {path: pq.read_schema(path) for path in parts}
    text = {path for path, schema in schemas.items() if any(_is_text(schema, c) for c in keys)}
    if not text or len(text) == len(parts):
        return 0
    for path in sorted(set(parts) - text):
        table = pq.read_table(path)
        for column in keys:
            if column in table.column_names and not _is_text(table.schema, column):
                at = table.column_names.index(column)
                table = table.set_column(at, column, table[column].cast(pa.string()))
        table = table.replace_schema_metadata(None)  # pandas' saved dtypes would turn it back
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    return len(parts) - len(text)


def _is_text(schema: Any, column: str) -> bool:
    import pyarrow as pa

    index = schema.get_field_index(column)
    return index >= 0 and (
        pa.types.is_string(schema.field(index).type) or pa.types.is_large_string(schema.field(index).type)
    )


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(temporary, path)
