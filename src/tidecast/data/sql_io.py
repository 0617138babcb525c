"""SQL over files and databases: a DuckDB query over CSV/Parquet files (confined to a data
root when one is set), or a SQLAlchemy URL's database; the result as a frame, its columns
alone, or written to Parquet. Apart from `io`, which reads and writes the files themselves.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from tidecast.errors import ConfigError, DataError


def read_sql(query: str, url: str | None = None, *, root: Path | None = None) -> pd.DataFrame:
    """The result of a DuckDB `query` over files (or, with a SQLAlchemy `url`, of the query on
    that database), as a frame in the query's own columns.

    The data of a retailer often arrives as separate tables (sales, promotions, items); a
    query joins them where they lie, with DuckDB's own readers, so nothing has to be joined
    into one file first: ``SELECT s.*, p.promotion FROM 'sales/*.parquet' s JOIN
    'promotions.csv' p USING (item_id, timestamp)``. The result is an ordinary frame, so it
    goes wherever a frame goes (``AutoForecaster.fit``, ``predict``), and the query's column
    names are the user's columns as with a file. With `root` (the service's data root) the
    query may read files below `root` only (see `confined_duckdb`).

    >>> read_sql("SELECT 'a' AS item_id, DATE '2024-01-01' AS timestamp, 1.5 AS target")
      item_id  timestamp  target
    0       a 2024-01-01     1.5
    """
    if url is not None:
        _check_query(query)
        return _read_database(query, url)
    with _duckdb(root) as con:
        frame: pd.DataFrame = _run(lambda: _relation(con, query, root).df(), root)
    if frame.empty:
        raise DataError("the SQL query returned no rows")
    return frame


def sql_columns(query: str, *, root: Path | None = None) -> list[str]:
    """The columns `query` returns, from binding it (its files' schemas are read, no rows are):
    how the service checks a job's query at submission, before a worker spends time on it."""
    with _duckdb(root) as con:
        columns: list[str] = _run(lambda: list(_relation(con, query, root).columns), root)
    return columns


def sql_to_parquet(query: str, url: str | None, path: Path, *, root: Path | None = None) -> int:
    """Write the result of `query` (DuckDB over files, confined to `root` when given, or on the
    database at `url`) to the Parquet file `path`; returns its rows. DuckDB's result streams in
    record batches, so memory does not grow with it, and this process writes the file, so a
    query confined to `root` can still be written outside it. How a batch reads a query: the
    file is then staged in chunks like any input file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if url is not None:
        frame = read_sql(query, url)
        frame.to_parquet(partial, index=False)
        rows = len(frame)
    else:
        with _duckdb(root) as con:
            relation = _run(lambda: _relation(con, query, root), root)
            reader = _run(lambda: relation.fetch_record_batch(100_000), root)
            rows = 0
            with pq.ParquetWriter(partial, reader.schema) as writer:
                for batch in _run(lambda: iter(reader), root):
                    writer.write_batch(batch)
                    rows += batch.num_rows
    if rows == 0:
        partial.unlink()
        raise DataError("the SQL query returned no rows")
    partial.replace(path)
    return rows


def _check_query(query: str) -> None:
    if not query or not query.strip():
        raise ConfigError("the SQL query is empty")


def _duckdb(root: Path | None) -> Any:
    """An in-memory DuckDB connection; with `root`, one confined to it (`confined_duckdb`)."""
    try:
        import duckdb
    except ImportError:
        raise ConfigError("a SQL query needs DuckDB: pip install duckdb") from None
    return duckdb.connect(":memory:") if root is None else confined_duckdb(root)


def confined_duckdb(root: Path) -> Any:
    """A DuckDB connection that opens files below `root` and nothing else, with DuckDB's own
    guard rather than a check of the query's text (which a view, a glob or a table function
    would slip past): `allowed_directories` is the root, `enable_external_access` is off (so
    every other path, URL, extension and ATTACH is refused) and `lock_configuration` is on, so
    the query cannot SET any of it back. Relative paths are refused too: DuckDB would look
    them up in the process's working folder first, which is not the root."""
    import duckdb

    folder = str(Path(root).expanduser().resolve()).rstrip("/") + "/"
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET allowed_directories = [{_literal(folder)}]")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _relation(con: Any, query: str, root: Path | None) -> Any:
    """The query as a relation (bound, not run). Confined, it must be one SELECT: a COPY or a
    CREATE would write inside the root."""
    import duckdb

    _check_query(query)
    if root is not None:
        statements = duckdb.extract_statements(query)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            raise ConfigError("the SQL query must be one SELECT statement")
    return con.sql(query)


_OUTSIDE = re.compile(r'Cannot access (?:file|directory) "(?P<path>[^"]*)"')


def _run(action: Any, root: Path | None) -> Any:
    """`action()`, DuckDB's errors as one line; a file the confinement refused is named."""
    import duckdb

    try:
        return action()
    except duckdb.PermissionException as exc:
        found = _OUTSIDE.search(str(exc))
        if root is None or found is None:
            raise DataError(f"the SQL query failed: {str(exc).strip()}") from None
        path = found["path"]
        if not posixpath.isabs(path) and "://" not in path:
            raise DataError(
                f"the SQL query reads {path!r}: name files by their absolute path inside the data root "
                f"{Path(root).resolve()}"
            ) from None
        raise DataError(
            f"the SQL query reads {path!r}, outside the data root {Path(root).resolve()}"
        ) from None
    except duckdb.Error as exc:
        raise DataError(f"the SQL query failed: {' '.join(str(exc).split())}") from None


def _read_database(query: str, url: str) -> pd.DataFrame:
    """`query` on the database at SQLAlchemy `url` (PostgreSQL, SQLite...), as a frame."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"cannot use the database URL: {exc}") from None
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(sa.text(query), connection)
    except sa.exc.SQLAlchemyError as exc:
        raise DataError(
            f"the SQL query failed: {str(exc.orig if hasattr(exc, 'orig') else exc).strip()}"
        ) from None
    finally:
        engine.dispose()
    if frame.empty:
        raise DataError("the SQL query returned no rows")
    return frame
