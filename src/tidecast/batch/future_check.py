"""The future covariates' columns checked before a batch reads anything: a file's header, or a
DuckDB query bound (its files' schemas read, no rows).

A future lacking a known covariate was found only once the input and the future had been
staged, or, for a `future_sql` query, once the query had run in full: a batch job queued
through the API failed in its worker, minutes later, when a future file lacking the column
was already refused at once. Now both are checked when the batch is asked for (`tidecast
batch`, `POST /v1/batch`), by the same code, naming the column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tidecast.data.column_hints import shown_columns
from tidecast.data.io import table_columns
from tidecast.data.item_keys import lacking
from tidecast.errors import DataError

WHAT = "the future covariates table"


def future_columns(
    future: str | Path | None, future_sql: str | None, sql_url: str | None = None, root: Path | None = None
) -> list[str] | None:
    """The columns of the future covariates: a location's (`io.table_columns`) or a DuckDB
    query's (`sql_io.sql_columns`, confined to `root` when given); None where they cannot be
    known without reading rows (a query on the database at `sql_url`, a folder of many files,
    a remote file that cannot be opened now: reading it names the problem)."""
    if future_sql is not None:
        if sql_url is not None:
            return None
        from tidecast.data.sql_io import sql_columns

        return sql_columns(future_sql, root=root)
    return None if future is None else table_columns(future)


def future_lacks(task: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    """The columns a model's future covariates need (item, time, every known covariate; `task`
    is its manifest's) that `columns` lacks."""
    names = task["columns"]
    known = [str(c) for c in task["covariates"]["known"]]
    return lacking([str(names["item"]), str(names["timestamp"]), *known], columns)


def check_future(
    task: Mapping[str, Any],
    future: str | Path | None,
    future_sql: str | None,
    sql_url: str | None = None,
    root: Path | None = None,
) -> None:
    """A DataError naming the columns the future covariates lack, where their columns can be
    known without reading them (`future_columns`)."""
    columns = future_columns(future, future_sql, sql_url, root)
    missing = [] if columns is None else future_lacks(task, columns)
    if columns is not None and missing:
        raise DataError(f"{WHAT} has no column(s) {missing}; available columns: {shown_columns(columns)}")
