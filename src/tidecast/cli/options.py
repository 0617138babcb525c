"""Command-line options shared by several commands (train, backtest, forecast, batch), so each
reads the same way everywhere: --jobs is local processes, --workers a local Dask cluster.

The AutoML options of `train` and `backtest` are not written here but built from their one
declaration, `tidecast.automl.options.OPTIONS` (flag, help, default): `automl_command` gives a
command all of them, and `forecaster_keywords` turns what was typed into `AutoForecaster`'s
keywords.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tidecast.automl.options import BY_NAME, CLI_OPTIONS, Option


def option_type(option: Option) -> Any:
    """`Annotated[type, typer.Option(...)]` of an AutoML option: its flag, help and settings."""
    kind = option.kind | None if option.default is None else option.kind
    return Annotated[kind, typer.Option(option.flag, help=option.help, **option.cli)]


def automl_command(
    place: Mapping[str, Sequence[str]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command every AutoML option beside its own parameters, in the table's order.

    `place` names, for an AutoML option, the command's own parameters shown right after it
    (so `--help` lists them where users have always seen them). The command takes the typed
    options, by `AutoForecaster` keyword and not yet parsed, as `options`: parsing may fail,
    and the command decides when that is reported.
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(command, eval_str=True).parameters
        parameters = []
        for option in CLI_OPTIONS:
            default = inspect.Parameter.empty if option.required else option.cli_default()
            parameters.append(
                inspect.Parameter(option.name, _KEYWORD, annotation=option_type(option), default=default)
            )
            parameters += [own[name].replace(kind=_KEYWORD) for name in place.get(option.name, ())]
        unplaced = set(own) - {p.name for p in parameters} - {"options"}
        if unplaced:
            raise TypeError(f"{command.__name__}: place {sorted(unplaced)} after an AutoML option")

        def run(**values: Any) -> None:
            options = {option.name: values.pop(option.name) for option in CLI_OPTIONS}
            command(options=options, **values)

        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        run.__name__, run.__qualname__ = command.__name__, command.__qualname__
        run.__doc__, run.__module__ = command.__doc__, command.__module__
        return run

    return decorate


def forecaster_keywords(options: Mapping[str, Any]) -> dict[str, Any]:
    """`AutoForecaster`'s keywords from the options as typed (JSON read, names split...)."""
    return {name: BY_NAME[name].from_cli(value) for name, value in options.items()}


_KEYWORD = inspect.Parameter.KEYWORD_ONLY
if TYPE_CHECKING:
    JobsOpt = int | None
    DateFormatOpt = str | None
else:  # the same flag, help and settings as train's, from the table
    JobsOpt = option_type(BY_NAME["n_jobs"])
    DateFormatOpt = option_type(BY_NAME["date_format"])
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Run on a local Dask cluster of N worker processes"),
]


def _scheduler(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """--scheduler as given, but TIDECAST_DASK_SCHEDULER yields to an explicit --workers.

    Both flags typed are an error (`open_client` says so); the variable is a default for the
    runs that name no cluster. Click processes the options typed before those it fills from the
    environment, so --workers is in `ctx.params` here whenever it was typed.
    """
    # Compared by name: typer's Context carries the ParameterSource of its own copy of click.
    source = ctx.get_parameter_source(param.name or "")
    from_env = source is not None and source.name == "ENVIRONMENT"
    return None if from_env and ctx.params.get("workers") is not None else value


SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="TIDECAST_DASK_SCHEDULER",
        callback=_scheduler,
        help="Run on the Dask cluster at this address, e.g. tcp://host:8786 "
        "(--workers wins over the environment variable)",
    ),
]
FutureOpt = Annotated[
    str | None,
    typer.Option(
        "--future",
        help="Known covariates over the horizon (item, timestamp, covariates): a file, or a "
        "query as --sql's, e.g. \"SELECT Store||'_'||Dept AS item_id, Date AS timestamp, IsHoliday FROM 'test.csv'\"",
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


def is_query(text: str) -> bool:
    """Whether an option's value is a SQL query rather than a path: its first word is SELECT,
    WITH or FROM (DuckDB's short form), or UNPIVOT or PIVOT (DuckDB's statements that turn a
    wide table long and back), followed by a space."""
    return re.match(r"\s*(select|with|from|unpivot|pivot)\s", text, flags=re.IGNORECASE) is not None
