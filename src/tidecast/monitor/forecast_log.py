"""The forecast log: every forecast an endpoint served or a job produced, one row per item.

A forecast is logged with its model version, endpoint (or job), item, origin (the last
observed period: the targets are origin + 1..steps periods), mean and quantiles; the arrays
are stored as float64 bytes (see `ForecastRecord`). A key of (source, endpoint, version,
item, origin) keeps one row per distinct forecast, so an endpoint answering a stored item from
its cache a million times logs it once.

`ForecastLog` is the endpoints' writer: the model call hands its results over with one
`deque.append` (no encoding, no database), and a background thread encodes and writes them
every `flush_seconds`. A hot endpoint is kept in check by `sample` (the share of items
logged, the same items every time, so each sampled item's accuracy is complete) and
`max_pending` (forecasts waiting to be written; past it new ones are dropped and counted).
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from tidecast.data.item_keys import compose, id_strings
from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP, quantile_columns
from tidecast.registry.schema import ForecastRecord
from tidecast.registry.statuses import ForecastSource

log = logging.getLogger("tidecast.monitor")

SAMPLE_BUCKETS = 10_000
SEEN_LIMIT = 1_000_000  # keys remembered to skip re-logging; cleared (not grown) past this


class ItemForecastLike(Protocol):
    """One item's forecast as an endpoint's model computes it (`predictor.ItemForecast`)."""

    @property
    def timestamps(self) -> Sequence[str]: ...

    @property
    def mean(self) -> np.ndarray: ...

    @property
    def quantiles(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Origin:
    """Who made a batch of forecasts: the part of a log row shared by all its items."""

    source: ForecastSource
    endpoint: str
    model_version_id: int
    frequency: str
    levels: tuple[float, ...]
    job_id: str | None = None


def levels_text(levels: Sequence[float]) -> str:
    return ",".join(repr(float(q)) for q in levels)


def parse_levels(text: str) -> tuple[float, ...]:
    return tuple(float(q) for q in text.split(",")) if text else ()


def sampled(item: str, sample: float) -> bool:
    """Whether `item` is among the `sample` share of items logged: a hash, so always the same ones."""
    return sample >= 1.0 or zlib.crc32(item.encode()) % SAMPLE_BUCKETS < sample * SAMPLE_BUCKETS


def row(
    origin: Origin, item: str, first_target: datetime, mean: np.ndarray, quantiles: np.ndarray
) -> dict[str, Any]:
    """One log row; `quantiles` is (steps, levels)."""
    offset = pd.tseries.frequencies.to_offset(origin.frequency)
    steps = len(mean)
    return {
        "source": origin.source.value,
        "endpoint": origin.endpoint,
        "model_version_id": origin.model_version_id,
        "job_id": origin.job_id,
        "item_id": item,
        "origin": (pd.Timestamp(first_target) - offset).to_pydatetime(),
        "frequency": origin.frequency,
        "steps": steps,
        "quantile_levels": levels_text(origin.levels),
        "mean": np.ascontiguousarray(mean, dtype="<f8").tobytes(),
        "quantiles": np.ascontiguousarray(
            np.reshape(quantiles, (steps, len(origin.levels))), dtype="<f8"
        ).tobytes(),
    }


def write_rows(connection: Connection | Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert log rows, skipping those already logged (the unique key), in one statement."""
    if not rows:
        return
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ForecastRecord.__table__).on_conflict_do_nothing()
    connection.execute(statement, list(rows))


def frame_rows(frame: pd.DataFrame, origin: Origin, sample: float = 1.0) -> list[dict[str, Any]]:
    """Log rows of a canonical forecast frame (item_id, timestamp, mean, p10...), one per item."""
    ordered = frame.sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    items = id_strings(ordered[ITEM_ID])  # a written forecast's store 1 (or 1.0) is item "1"
    starts = np.r_[0, np.flatnonzero(items[1:] != items[:-1]) + 1] if len(items) else np.zeros(0, int)
    ends = np.r_[starts[1:], len(items)]
    stamps = ordered[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    mean = ordered[MEAN].to_numpy(dtype=np.float64)
    qs = ordered[quantile_columns(origin.levels)].to_numpy(dtype=np.float64)
    return [
        row(origin, str(items[s]), pd.Timestamp(stamps[s]).to_pydatetime(), mean[s:e], qs[s:e])
        for s, e in zip(starts, ends, strict=True)
        if sampled(str(items[s]), sample)
    ]


def log_forecast_frame(
    sessions: sessionmaker[Session], frame: pd.DataFrame, origin: Origin, sample: float = 1.0
) -> int:
    """Log a produced forecast (a training run's, a batch's) at once; rows written."""
    rows = frame_rows(frame, origin, sample)
    with sessions.begin() as session:
        for k in range(0, len(rows), 5_000):
            write_rows(session, rows[k : k + 5_000])
    return len(rows)


def log_produced(
    sessions: sessionmaker[Session],
    forecast: pd.DataFrame,
    origin: Origin,
    columns: Mapping[str, str] | None = None,
    sample: float = 1.0,
) -> int:
    """Log a forecast frame a job wrote in the user's column names (`columns` maps the user's
    item and timestamp names to the canonical ones; an item key of several columns is joined
    again, `data.item_keys`); rows written."""
    for name in columns or {}:
        forecast = compose(forecast, name)
    return log_forecast_frame(sessions, forecast.rename(columns=dict(columns or {})), origin, sample)


class ForecastLog:
    """The endpoints' forecast log writer: a buffer and a background flush (module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        sample: float = 1.0,
        max_pending: int = 100_000,
        flush_seconds: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.sample = sample
        self.max_pending = max_pending
        self.flush_seconds = flush_seconds
        self.dropped = 0
        self.written = 0
        self._pending: deque[tuple[Origin, Mapping[str, ItemForecastLike]]] = deque()
        self._pending_items = 0
        self._seen: set[tuple[str, int, str, str]] = set()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observer(self, origin: Origin) -> Callable[[Mapping[str, ItemForecastLike]], None]:
        """What a loaded model calls with each batch of forecasts it computes."""
        return lambda results: self.submit(origin, results)

    def submit(self, origin: Origin, results: Mapping[str, ItemForecastLike]) -> None:
        """Queue forecasts for the next flush: O(1), safe from any thread."""
        if self._pending_items + len(results) > self.max_pending:
            self.dropped += len(results)
            return
        self._pending_items += len(results)  # approximate under races; only a soft cap
        self._pending.append((origin, results))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="forecast-log", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread and write what is still pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            try:
                self.flush()
            except Exception:  # a database hiccup must not end logging for good
                log.exception("forecast log: flush failed; retrying later")

    def flush(self) -> int:
        """Encode and write everything pending; rows written."""
        with self._flush_lock:
            batches = []
            while self._pending:
                batches.append(self._pending.popleft())
            self._pending_items = max(0, self._pending_items - sum(len(r) for _, r in batches))
            rows = list(self._rows(batches))
            if rows:
                with self.sessions.begin() as session:
                    for k in range(0, len(rows), 5_000):
                        write_rows(session, rows[k : k + 5_000])
            self.written += len(rows)
            return len(rows)

    def _rows(
        self, batches: Iterable[tuple[Origin, Mapping[str, ItemForecastLike]]]
    ) -> Iterable[dict[str, Any]]:
        if len(self._seen) > SEEN_LIMIT:
            self._seen.clear()  # the unique key still keeps the table free of repeats
        for origin, results in batches:
            for item, forecast in results.items():
                key = (origin.endpoint, origin.model_version_id, item, forecast.timestamps[0])
                if key in self._seen or not sampled(item, self.sample):
                    continue
                self._seen.add(key)
                yield row(
                    origin,
                    item,
                    pd.Timestamp(forecast.timestamps[0]).to_pydatetime(),
                    forecast.mean,
                    forecast.quantiles,
                )
