"""Command-line options shared by several commands (train, backtest, forecast, batch), so each
reads the same way everywhere: --jobs is local processes, --workers a local Dask cluster."""

from __future__ import annotations

from typing import Annotated

import typer

JobsOpt = Annotated[
    int | None, typer.Option("--jobs", min=1, help="Local worker processes (default: all cores)")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run on a local Dask cluster of N worker processes"),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="TIDECAST_DASK_SCHEDULER",
        help="Run on the Dask cluster at this address, e.g. tcp://host:8786",
    ),
]
FutureOpt = Annotated[
    str | None,
    typer.Option("--future", help="Known covariates over the horizon (item, timestamp, covariates)"),
]
DateFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="How the timestamps are written, in strftime codes, e.g. %d/%m/%Y (default: one format inferred)",
    ),
]
SqlOpt = Annotated[
    str | None,
    typer.Option(
        "--sql",
        help="A DuckDB query as the data instead of a file, e.g. "
        "\"SELECT * FROM 'sales/*.parquet' JOIN 'items.csv' USING (item_id)\"",
    ),
]
SqlUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--sql-url",
        envvar="TIDECAST_SQL_URL",
        help="Run --sql on this database (SQLAlchemy URL, e.g. postgresql+psycopg://host/db) "
        "instead of DuckDB over files",
    ),
]
DataArg = Annotated[
    str | None,
    typer.Argument(help="CSV/Parquet path, folder, glob or fsspec URL (or give --sql)", show_default=False),
]
