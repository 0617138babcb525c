"""What a training job asks for: the native `JobRequest`, and SageMaker's `CreateAutoMLJobV2` body.

`parse_job_body` accepts either shape and returns one validated `JobRequest`, so a user of
SageMaker AutoML can post the `automl_job_config.json` they already have. Everything that can
be checked without reading the data (metric, preset, model names, quantiles, filling methods,
where the data lives) is checked here, so a bad body is a 4xx naming the field at submission
rather than a job that fails minutes later in a worker.

A native body may give a DuckDB query (`sql`) instead of `data`. With a `data_root` it runs
confined to it (`tidecast.data.sql_io.confined_duckdb`): files named by their absolute path below
the root, nothing else. At submission the query is bound (its files' schemas read, no rows), so
a path outside the root, a file that does not exist or a column that is not there is a 422.

Data locations: a local path, a folder, a glob or a URL, each passed through the service's
location policy (`tidecast.data.locations`): with a `data_root`, ``s3://bucket/key`` maps onto
``data_root/bucket/key``, a relative path is taken below it, and anything resolving outside it
(``..``, an absolute path elsewhere, a symlink out, another host, a chained or caching
protocol, http) is refused. Without a data root or data URLs, S3 URIs are read through fsspec
(s3fs), but the protocol rules still apply; local paths and `sql` are then refused by the
service's policy (`ServiceSettings.location_policy`) and read as given by the library's.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import ValidationError

from tidecast.data.locations import NO_LOCAL_FILES, LocationPolicy, LocationRefused, check_location
from tidecast.jobs.request import JobConfigError, JobRequest, Loc
from tidecast.jobs.sagemaker import CreateAutoMLJobV2, from_sagemaker, is_sagemaker_body


class _Settings(Protocol):
    def location_policy(self) -> LocationPolicy: ...


def parse_job_body(body: Any, settings: _Settings | None = None, *, check_exists: bool = False) -> JobRequest:
    """The `JobRequest` of a native or SageMaker `CreateAutoMLJobV2` body, with locations resolved.

    Raises `JobConfigError` whose `errors` name each bad field in the body's own terms. With
    `check_exists` (the API, at submission) a local location that does not exist is one of them,
    so a typo is a 422 now rather than a job that fails in a worker later.
    """
    if not isinstance(body, Mapping):
        raise JobConfigError([{"loc": (), "msg": "the job body must be a JSON object", "type": "type_error"}])
    policy = settings.location_policy() if settings is not None else LocationPolicy()
    try:
        if is_sagemaker_body(body):
            request, locs = from_sagemaker(CreateAutoMLJobV2.model_validate(body))
        else:
            request = JobRequest.model_validate(body)
            locs = {
                "data": ("data",),
                "output": ("output",),
                "future": ("future",),
                "events": ("events",),
                "item_metadata": ("covariates", "item_metadata"),
            }
    except ValidationError as exc:
        raise JobConfigError(
            [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_url=False)]
        ) from None
    request = _resolve_locations(request, policy, locs)
    for field in ("sql", "future_sql"):
        if getattr(request, field) is not None and not policy.reads_local:
            raise JobConfigError([{"loc": (field,), "msg": f"a SQL query reads files, and {NO_LOCAL_FILES}"}])
    if check_exists:
        check_locations_exist(request, locs)
        check_output_writable(request, locs)
        check_data_columns(request, locs)
        check_future_file(request, locs)
        if request.sql is not None:
            check_query(request, data_root_of(settings))
        if request.future_sql is not None:
            check_query(request, data_root_of(settings), "future_sql")
    return request


def data_root_of(settings: Any) -> Path | None:
    """The service's data root, resolved, or None when it has none."""
    data_root = getattr(settings, "data_root", None) if settings is not None else None
    return Path(str(data_root)).expanduser().resolve() if data_root else None


def check_query(request: JobRequest, root: Path | None, field: str = "sql") -> None:
    """Bind the request's query `field` (`sql`, or `future_sql`) as the worker will run it
    (confined to `data_root` when there is one, see `data_root_of`) and check it returns the item
    and timestamp columns, and the target for the data or the known covariates for the future;
    a `JobConfigError` on `field` otherwise. Binding reads the files' schemas, not their rows."""
    from tidecast.data.item_keys import lacking
    from tidecast.data.sql_io import sql_columns
    from tidecast.errors import TidecastError

    query = getattr(request, field)
    assert query is not None
    try:
        columns = sql_columns(query, root=root)
    except TidecastError as exc:
        raise JobConfigError([{"loc": (field,), "msg": str(exc)}]) from None
    if field == "future_sql":  # the future needs every known covariate, as a `future` file does
        missing = lacking(future_needs(request), columns)
    else:
        missing = missing_roles(request, columns)
    if missing:
        raise JobConfigError(
            [{"loc": (field,), "msg": f"the SQL query returns no column {missing}; it returns {columns}"}]
        )


def future_needs(request: JobRequest) -> list[str]:
    """The columns the request's future covariates need: the item, the time and every known
    covariate."""
    return [request.columns.item, request.columns.timestamp, *request.covariates.known]


def check_future_file(request: JobRequest, locs: Mapping[str, Loc]) -> None:
    """A `JobConfigError` on the future's location when its files (local ones, by their headers)
    lack a column `future_needs`, as a `future_sql` query lacking it is refused (`check_query`):
    found by the worker, it failed the job after the data had been read and checked."""
    from tidecast.data.io import table_columns
    from tidecast.data.item_keys import lacking
    from tidecast.errors import DataError

    if request.future is None or not _is_local(request.future) or not request.covariates.known:
        return
    loc = locs.get("future", ("future",))
    try:
        columns = table_columns(request.future)
    except DataError as exc:
        raise JobConfigError([{"loc": loc, "msg": str(exc)}]) from None
    missing = [] if columns is None else lacking(future_needs(request), columns)
    if columns is not None and missing:
        msg = f"the future covariates lack column(s) {missing}; their columns are {columns}"
        raise JobConfigError([{"loc": loc, "msg": msg}])


def missing_roles(request: JobRequest, columns: list[str]) -> list[str]:
    """The item, timestamp and target columns of `request` that `columns` lack, each as the
    user named it (an item key of several columns, e.g. "Store,Dept", by its missing parts)."""
    from tidecast.data.item_keys import lacking

    roles = request.columns
    return lacking([roles.item, roles.timestamp, roles.target], columns)


def check_data_columns(request: JobRequest, locs: Mapping[str, Loc]) -> None:
    """A `JobConfigError` on the data's location when its files (local ones, read by their
    headers alone: `tidecast.data.io.table_columns`) lack the item, timestamp or target column,
    or do not all have the same columns, so a misnamed target or a stray file is a 422 at
    submission, as with `sql`, not a job that fails later."""
    from tidecast.data.io import table_columns
    from tidecast.errors import DataError

    if request.data is None or not _is_local(request.data):
        return
    try:
        columns = table_columns(request.data)
    except DataError as exc:
        raise JobConfigError([{"loc": locs.get("data", ("data",)), "msg": str(exc)}]) from None
    missing = [] if columns is None else missing_roles(request, columns)
    if columns is not None and missing:
        shown = columns if len(columns) <= 20 else [*columns[:20], f"... {len(columns) - 20} more"]
        raise JobConfigError(
            [
                {
                    "loc": locs.get("data", ("data",)),
                    "msg": f"the data has no column {missing} (name the item, time and target "
                    f'columns under "columns"); its columns are {shown}',
                    "type": "value_error",
                }
            ]
        )


# ---- locations ---------------------------------------------------------------------------


def _resolve_locations(request: JobRequest, policy: LocationPolicy, locs: Mapping[str, Loc]) -> JobRequest:
    """Each location as the policy resolves it; JobConfigError naming every refused one."""
    values = {**_inputs(request), "output": request.output}
    resolved: dict[str, str | None] = {}
    errors = []
    for key, value in values.items():
        if value is None:
            resolved[key] = None
            continue
        try:
            resolved[key] = check_location(value, policy)
        except LocationRefused as exc:
            errors.append({"loc": locs.get(key, (key,)), "msg": str(exc)})
    if errors:
        raise JobConfigError(errors)
    covariates = request.covariates.model_copy(update={"item_metadata": resolved["item_metadata"]})
    return request.model_copy(
        update={
            "data": resolved["data"],
            "future": resolved["future"],
            "events": resolved["events"],
            "output": resolved["output"],
            "covariates": covariates,
        }
    )


def check_locations_exist(request: JobRequest, locs: Mapping[str, Loc]) -> None:
    """Raise `JobConfigError` naming each local location of `request` that is missing (a glob
    that matches nothing is missing). Remote URLs (s3://, gcs://...) are left to the worker:
    checking them here would need the store's credentials and a round trip in the request."""
    errors = [
        {"loc": locs.get(key, (key,)), "msg": f"{value!r} does not exist", "type": "value_error"}
        for key, value in _inputs(request).items()
        if value is not None and not location_exists(value)
    ]
    if errors:
        raise JobConfigError(errors)


def check_output_writable(request: JobRequest, locs: Mapping[str, Loc]) -> None:
    """A `JobConfigError` on the output location when it is local and cannot be written: under
    a file, or below a folder this process may not write to. Checked without writing, at
    submission: found at the job's end, it failed a training job after the whole fit, its model
    lost. (A remote URL is left to the worker, as in `check_locations_exist`.)"""
    local = None if request.output is None else _local_path(request.output)
    if local is None:
        return
    target = Path(local).expanduser()
    existing = next((p for p in (target, *target.parents) if p.exists()), None)
    if existing is None or (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        return
    problem = (
        "is a file, so nothing can be written under it"
        if not existing.is_dir()
        else "is not writable by the service"
    )
    raise JobConfigError(
        [
            {
                "loc": locs.get("output", ("output",)),
                "msg": f"the output cannot be written: {str(existing)!r} {problem}",
            }
        ]
    )


def _inputs(request: JobRequest) -> dict[str, str | None]:
    """The locations a job reads, by the name `locs` knows them under."""
    return {
        "data": request.data,
        "future": request.future,
        "events": request.events,
        "item_metadata": request.covariates.item_metadata,
    }


def _is_local(location: str) -> bool:
    """A path or file:// URL (a Windows drive letter is no scheme); not s3://, gcs://..."""
    scheme = urlsplit(location).scheme.lower()
    return scheme == "file" or len(scheme) <= 1


def _local_path(location: str) -> str | None:
    """The path of a local location (a file:// URL's path, or the path itself); None for a
    remote URL."""
    parts = urlsplit(location)
    if parts.scheme.lower() == "file":
        return parts.path
    return location if _is_local(location) else None


def location_exists(location: str) -> bool:
    """Whether a local location (a file, folder or glob matching something) exists; a remote
    URL is taken to (checking it would need the store's credentials and a round trip)."""
    local = _local_path(location)
    if local is None:  # a remote URL: not checked here
        return True
    if glob.has_magic(local):
        return any(glob.iglob(local, recursive=True))
    return Path(local).expanduser().exists()
