"""Observed values ("actuals"): validated, loaded in bulk, idempotently, and read back.

`ingest_actuals` loads a frame of (item_id, timestamp, value) rows, plus any numeric
covariate columns, in one transaction: the rows go into a temporary staging table (SQLite's
`executemany`, PostgreSQL's COPY), then two set-based statements log the values that change
and upsert the rest (``INSERT ... ON CONFLICT DO UPDATE``, the same SQL on both backends). An
actual loaded twice is one row; a changed value replaces the old one and is written to
`actual_changes`. Rows are never sent one statement each: that is what makes a million rows
a matter of seconds.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from tidecast.data.io import read_table
from tidecast.data.item_keys import compose, id_strings, item_parts, missing_name, text_columns
from tidecast.data.missing_text import read_csv_names
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text, without_time_zone
from tidecast.errors import DataError
from tidecast.registry.columns import ITEM_LENGTH, UTCDateTime, utcnow

VALUE = "value"
COVARIATES = "covariates"
VALUE_ALIASES = ("value", "target", "actual")

_STAGING = {
    "sqlite": (
        "CREATE TEMP TABLE actuals_staging "
        "(item_id TEXT NOT NULL, timestamp TEXT NOT NULL, value REAL NOT NULL, covariates TEXT)"
    ),
    "postgresql": (
        "CREATE TEMP TABLE actuals_staging (item_id VARCHAR(256) NOT NULL, "
        "timestamp TIMESTAMPTZ NOT NULL, value DOUBLE PRECISION NOT NULL, covariates JSON) ON COMMIT DROP"
    ),
}
_MATCH = "FROM actuals_staging s JOIN actuals a ON a.item_id = s.item_id AND a.timestamp = s.timestamp"
_LOG_CHANGES = text(
    "INSERT INTO actual_changes (item_id, timestamp, old_value, new_value, changed_at) "
    f"SELECT s.item_id, s.timestamp, a.value, s.value, :now {_MATCH} WHERE a.value <> s.value"
).bindparams(bindparam("now", type_=UTCDateTime()))
# `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT, not to a join.
_UPSERT = text(
    "INSERT INTO actuals (item_id, timestamp, value, covariates, updated_at) "
    "SELECT item_id, timestamp, value, covariates, :now FROM actuals_staging WHERE true "
    "ON CONFLICT (item_id, timestamp) DO UPDATE SET value = excluded.value, "
    "covariates = COALESCE(excluded.covariates, actuals.covariates), updated_at = excluded.updated_at "
    "WHERE actuals.value <> excluded.value OR excluded.covariates IS NOT NULL"
).bindparams(bindparam("now", type_=UTCDateTime()))


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: `rows` distinct (item, timestamp) pairs, of which `inserted` were
    new, `updated` replaced a different value (each logged) and `unchanged` were known."""

    rows: int
    inserted: int
    updated: int
    unchanged: int
    duplicates: int  # rows repeated inside the input itself; the last one counts
    seconds: float
    # Items of the input that no logged forecast names (`unforecast_items`), and a few of them.
    unforecast: int = 0
    unforecast_examples: list[str] = field(default_factory=list)

    def unforecast_note(self) -> str | None:
        """What to tell the user about items no forecast names; None when there are none."""
        if not self.unforecast:
            return None
        examples = ", ".join(repr(i) for i in self.unforecast_examples)
        return (
            f"{self.unforecast} {'items have' if self.unforecast > 1 else 'item has'} no forecast logged "
            f"(e.g. {examples}): monitoring "
            "scores an item once an endpoint or a batch has forecast it; if these should have one, "
            "check how the ids are written"
        )

    def to_dict(self) -> dict[str, Any]:
        note = self.unforecast_note()
        return {**asdict(self), "notes": [note] if note else []}


# ---- validation --------------------------------------------------------------------------
def actuals_frame(
    frame: pd.DataFrame, date_format: str | None = None, names: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, int]:
    """The rows as canonical actuals (item_id text, timestamp UTC-naive, value float, then the
    numeric covariates), the last of repeated (item, timestamp) pairs kept; and how many
    repeats were dropped. DataError names the column or row that is wrong, in the user's own
    column names where `names` (`user_names`) gives them."""
    named = {ITEM_ID: ITEM_ID, TIMESTAMP: TIMESTAMP, **(names or {})}
    frame = frame.reset_index(drop=True)
    value_col = next((c for c in VALUE_ALIASES if c in frame.columns), None)
    missing = [c for c in (ITEM_ID, TIMESTAMP) if c not in frame.columns] + ([] if value_col else [VALUE])
    if missing or value_col is None:
        raise DataError(
            f"actuals need the columns item_id, timestamp and value; missing {missing} (a file in "
            "the training data's names: --item-col, --timestamp-col and --value-col on the command "
            "line, item_col, timestamp_col and value_col with an upload)"
        )
    out = pd.DataFrame(
        {
            ITEM_ID: id_strings(frame[ITEM_ID]),
            TIMESTAMP: _timestamps(frame[TIMESTAMP], date_format, named[TIMESTAMP]),
        }
    )
    long_ids = np.flatnonzero(out[ITEM_ID].str.len().to_numpy() > ITEM_LENGTH)
    if len(long_ids):
        raise DataError(f"row {int(long_ids[0])}: {named[ITEM_ID]} is longer than {ITEM_LENGTH} characters")
    out[VALUE] = _numbers(frame[value_col], named.get(VALUE, value_col))
    for column in frame.columns:
        if column not in (ITEM_ID, TIMESTAMP, value_col):
            out[column] = _numbers(frame[column], column, allow_missing=True)
    before = len(out)
    out = out.drop_duplicates([ITEM_ID, TIMESTAMP], keep="last", ignore_index=True)
    return out, before - len(out)


def user_names(item_col: str, timestamp_col: str, value_col: str | None) -> dict[str, str]:
    """The canonical columns of actuals given in the user's names (`named_actuals`) -> those
    names, for `actuals_frame`'s messages: "Date: ...", not "timestamp: ..."."""
    return {ITEM_ID: item_col, TIMESTAMP: timestamp_col, **({VALUE: value_col} if value_col else {})}


def _timestamps(column: pd.Series, date_format: str | None, name: str = TIMESTAMP) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column):
        stamps = column
    else:
        try:
            stamps = parse_timestamp_text(column.astype(str), date_format)
        except TimestampFormatError as exc:
            raise DataError(f"{name}: {exc}") from None
        except ValueError as exc:  # pandas refusing the format itself ("stray % in format")
            raise DataError(f"date_format {date_format!r} is not a usable strftime format: {exc}") from None
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if len(bad):
        raise DataError(f"row {int(bad[0])}: {name} {column.iloc[int(bad[0])]!r} is not a timestamp")
    if getattr(stamps.dtype, "tz", None) is not None:
        stamps, _ = without_time_zone(stamps)  # as training data is read (`data.ingest`)
    return stamps.astype("datetime64[ns]").reset_index(drop=True)


def _numbers(column: pd.Series, name: str, allow_missing: bool = False) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce").astype(np.float64).reset_index(drop=True)
    bad = ~np.isfinite(values.to_numpy()) & (column.notna().to_numpy() | (not allow_missing))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        value = column.iloc[k]
        if pd.isna(value):
            raise DataError(f"row {k}: {name} is missing (empty or NaN)")
        shown = value.item() if isinstance(value, np.generic) else value  # 'inf', not np.float64(inf)
        raise DataError(f"row {k}: {name} {shown!r} is not a finite number")
    return values


def named_actuals(
    frame: pd.DataFrame, item_col: str = ITEM_ID, timestamp_col: str = TIMESTAMP, value_col: str | None = None
) -> pd.DataFrame:
    """Rows in the user's own column names (the training file's: `Store,Dept`, `Date`,
    `Sales`) with the canonical ones, so new sales load without a rewrite. An item key of
    several columns is joined as training joins it (`data.item_keys`) and its parts dropped,
    lest they be taken for covariates."""
    frame = compose(frame, item_col)
    parts = [p for p in item_parts(item_col) if p != item_col and p in frame.columns]
    names = {item_col: ITEM_ID, timestamp_col: TIMESTAMP, **({value_col: VALUE} if value_col else {})}
    missing = [name for name in names if name not in frame.columns and name not in (ITEM_ID, TIMESTAMP)]
    if missing:
        raise DataError(
            f"the actuals lack column(s) {[missing_name(m, list(frame.columns)) for m in missing]}; "
            f"they have {list(frame.columns)}"
        )
    return frame.drop(columns=parts).rename(columns={k: v for k, v in names.items() if k != v})


def read_actuals(
    path: str | Path,
    date_format: str | None = None,
    item_col: str = ITEM_ID,
    timestamp_col: str = TIMESTAMP,
    value_col: str | None = None,
) -> tuple[pd.DataFrame, int]:
    """`actuals_frame` of a CSV or Parquet file (or folder) in its own column names
    (`named_actuals`), item ids read as text."""
    frame = read_table(path, text_columns=text_columns(item_col))
    names = user_names(item_col, timestamp_col, value_col)
    return actuals_frame(named_actuals(frame, item_col, timestamp_col, value_col), date_format, names)


def parse_upload(body: bytes, content_type: str, item_col: str = ITEM_ID) -> pd.DataFrame:
    """An uploaded CSV or Parquet body as a raw frame (validated by `actuals_frame`)."""
    try:
        if "parquet" in content_type or body[:4] == b"PAR1":
            frame = pd.read_parquet(io.BytesIO(body))
        else:
            frame = read_csv_names(body, text_columns(item_col), text_columns(item_col))
    except Exception as exc:  # the readers raise many types for a broken upload
        raise DataError(f"the upload is not a readable CSV or Parquet table: {exc}") from None
    if frame.empty:  # as the CLI refuses such a file: a 200 that loaded nothing hid a broken export
        raise DataError("the upload is empty: it has a header but no rows")
    return frame


# ---- ingest ------------------------------------------------------------------------------
def ingest_actuals(sessions: sessionmaker[Session], frame: pd.DataFrame, duplicates: int = 0) -> IngestResult:
    """Load canonical actuals (see `actuals_frame`) idempotently, in one transaction."""
    started = time.perf_counter()
    now = utcnow()
    with sessions.begin() as session:
        connection = session.connection()
        dialect = connection.dialect.name
        if dialect not in _STAGING:
            raise DataError(f"actuals cannot be loaded into a {dialect} database (SQLite or PostgreSQL)")
        connection.exec_driver_sql(_STAGING[dialect])
        try:
            _stage(connection, frame, dialect)
            # A write first: on SQLite a transaction that reads the live tables and then writes
            # fails at once ("database is locked", no busy wait) when another connection has
            # committed since its read; one that starts by writing waits for the lock. Logging
            # the changes leaves `actuals` as it was, so the count after it is the same.
            updated = connection.execute(_LOG_CHANGES, {"now": now}).rowcount
            known = connection.exec_driver_sql(f"SELECT count(*) {_MATCH}").scalar_one()
            connection.execute(_UPSERT, {"now": now})
            unforecast, examples = unforecast_items(connection)
        finally:
            if dialect == "sqlite":
                connection.exec_driver_sql("DROP TABLE IF EXISTS temp.actuals_staging")
    rows = len(frame)
    return IngestResult(
        rows=rows,
        inserted=rows - int(known),
        updated=int(updated),
        unchanged=int(known) - int(updated),
        duplicates=duplicates,
        seconds=time.perf_counter() - started,
        unforecast=unforecast,
        unforecast_examples=examples,
    )


# Items of the staged actuals that no row of the forecast log names (its item_id index).
_UNFORECAST = (
    "FROM (SELECT DISTINCT item_id FROM actuals_staging) s "
    "WHERE NOT EXISTS (SELECT 1 FROM forecast_log f WHERE f.item_id = s.item_id)"
)
UNFORECAST_EXAMPLES = 5


def unforecast_items(connection: Connection) -> tuple[int, list[str]]:
    """How many of the staged items no logged forecast names, and the first few by name.

    Such actuals are kept (a forecast may come later), but monitoring never reads them until
    one does, so an id written another way than the model's ("1.0" for "1", "store 3" for
    "3") was stored silently and its accuracy never appeared."""
    count = int(connection.exec_driver_sql(f"SELECT count(*) {_UNFORECAST}").scalar_one())
    if not count:
        return 0, []
    rows = connection.exec_driver_sql(
        f"SELECT s.item_id {_UNFORECAST} ORDER BY s.item_id LIMIT {UNFORECAST_EXAMPLES}"
    ).all()
    return count, [str(r[0]) for r in rows]


def _stage(connection: Connection, frame: pd.DataFrame, dialect: str) -> None:
    items = frame[ITEM_ID].to_numpy(dtype=object)
    values = frame[VALUE].to_numpy(dtype=np.float64)
    covariates = _covariate_json(frame)
    raw = connection.connection.driver_connection
    assert raw is not None
    if dialect == "sqlite":
        stamps = _stamp_text(frame[TIMESTAMP], " ", ".%f")
        raw.executemany(
            "INSERT INTO actuals_staging VALUES (?, ?, ?, ?)",
            zip(items, stamps, values.tolist(), covariates, strict=True),
        )
        return
    staged = pd.DataFrame(
        {"i": items, "t": _stamp_text(frame[TIMESTAMP], " ", "+00"), "v": values, "c": covariates}
    )
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY actuals_staging (item_id, timestamp, value, covariates) FROM STDIN (FORMAT csv)"
        ) as copy,
    ):
        copy.write(staged.to_csv(header=False, index=False, float_format="%.17g"))


def _stamp_text(stamps: pd.Series, separator: str, suffix: str) -> np.ndarray:
    """Timestamps as the database's text, formatted once per distinct value: SQLite compares
    them as strings, so they must be exactly what SQLAlchemy writes ("2024-01-01 00:00:00.000000")."""
    codes, uniques = pd.factorize(stamps)
    text_values = pd.DatetimeIndex(uniques).strftime(f"%Y-%m-%d{separator}%H:%M:%S{suffix}")
    return np.asarray(text_values, dtype=object)[codes]


def _covariate_json(frame: pd.DataFrame) -> list[str | None]:
    columns = [c for c in frame.columns if c not in (ITEM_ID, TIMESTAMP, VALUE)]
    if not columns:
        return [None] * len(frame)
    records = frame[columns].to_dict("records")
    out = [{k: v for k, v in r.items() if v == v} for r in records]  # v == v drops nan
    return [json.dumps(r) if r else None for r in out]


# ---- reading -----------------------------------------------------------------------------
def load_actuals(
    connection: Connection,
    start: datetime | None = None,
    end: datetime | None = None,
    covariates: bool = False,
    item_id: str | None = None,
) -> pd.DataFrame:
    """Actuals with `start` <= timestamp <= `end` (either open), of one item when `item_id` is
    given, as a canonical frame sorted by item and time (item_id a categorical of the names,
    sorted); with `covariates`, a `covariates` column of dicts (or None)."""
    where, params = [], {}
    for name, bound, op in (("start", start, ">="), ("end", end, "<=")):
        if bound is not None:
            where.append(f"timestamp {op} :{name}")
            params[name] = bound
    if item_id is not None:  # the primary key (item_id, timestamp) serves this filter
        where.append("item_id = :item_id")
    query = f"SELECT item_id, timestamp, value{', covariates' if covariates else ''} FROM actuals"
    statement = text(query + (" WHERE " + " AND ".join(where) if where else "")).bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in params)
    )
    # Values as the driver gives them: the column types' per-row processing would cost more
    # than the query on a few hundred thousand rows.
    result = connection.execute(
        statement.columns(), {**params, **({} if item_id is None else {"item_id": item_id})}
    )
    names = [ITEM_ID, TIMESTAMP, VALUE, *([COVARIATES] if covariates else [])]
    rows = result.cursor.fetchall()
    # One C-level pass from the driver's tuples to columns (transposing them in Python cost
    # more than the query itself on a few hundred thousand rows).
    raw = pd.DataFrame.from_records(rows, columns=names) if rows else pd.DataFrame(columns=names)
    items = raw[ITEM_ID].to_numpy(dtype=object)
    stamps = naive_utc(raw[TIMESTAMP].to_numpy(dtype=object))
    # Ordered by item and time through integer codes: (item, timestamp) is the primary key, so
    # this is the order a stable sort on the two columns gives, at a fraction of its cost.
    codes, names = pd.factorize(items, sort=True)
    order = np.lexsort((stamps.to_numpy(dtype="datetime64[ns]"), codes))
    frame = pd.DataFrame(
        {
            # a categorical: monitoring joins and groups on the codes, not on the names
            ITEM_ID: pd.Categorical.from_codes(codes[order], categories=pd.Index(names, dtype=object)),
            TIMESTAMP: stamps.take(order).reset_index(drop=True),
            VALUE: raw[VALUE].to_numpy(dtype=np.float64)[order],
        }
    )
    if covariates:
        values = raw[COVARIATES].to_numpy(dtype=object)[order]
        frame[COVARIATES] = [json.loads(c) if isinstance(c, str) else c for c in values]
    return frame


def naive_utc(values: Any) -> pd.Series:
    """Database timestamps (SQLite's text, PostgreSQL's aware datetimes) as naive UTC datetimes."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))  # parsed once per distinct value
    parsed = pd.DatetimeIndex(pd.to_datetime(pd.Series(uniques, dtype=object), utc=True, format="ISO8601"))
    return pd.Series(parsed.tz_localize(None).astype("datetime64[ns]").take(codes))


def change_log(connection: Connection, item_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest replaced actuals (of one item, when given), newest first."""
    query = "SELECT item_id, timestamp, old_value, new_value, changed_at FROM actual_changes"
    params: dict[str, Any] = {"limit": limit}
    if item_id is not None:
        query += " WHERE item_id = :item"
        params["item"] = item_id
    rows = connection.execute(text(query + " ORDER BY id DESC LIMIT :limit"), params).all()
    return [
        {
            "item_id": r[0],
            "timestamp": naive_utc([r[1]]).iloc[0].isoformat(),
            "old_value": r[2],
            "new_value": r[3],
            "changed_at": naive_utc([r[4]]).iloc[0].isoformat(),
        }
        for r in rows
    ]
