"""Batch forecasting as a service job: what it asks for, where it may read and write, what it ran.

A `BatchRequest` names the model (an endpoint, or a model group with an optional version,
default its latest approved one), the input and the output; `parse_batch_body` validates a
body and confines its locations, so a bad body is a 422 naming the field at submission rather
than a job that fails in a worker. The version is pinned when the job is submitted
(`batch_model_version`), so redeploying an endpoint never changes a batch already queued.

Where a batch job may read and write (the caller is an admin key, but the worker runs as the
service's user, so no request path reaches the file system unchecked):

* `input` and `future`: as for training jobs, through the service's location policy
  (`tidecast.data.locations`): confined to the data root and the data URLs when either is set,
  and no local path at all without a data root; `sql` instead of `input` is a DuckDB query,
  bound at submission and run confined to the data root as a training job's is (refused
  without one), and so is `future_sql` instead of `future`.
* `output`: always a local folder *inside* ``{home}/batch`` or, when set, inside the data root
  (``s3://bucket/key`` maps onto it as for inputs), checked by the same policy with those two
  folders as its roots. A relative path is taken below the data
  root when there is one, else below ``{home}/batch``. Left out, it is ``{home}/batch/{job id}``.
  Reading is allowed where writing is not: a job must not be able to write over the service's
  database, its artifacts or anything else the service's user owns.

The service never overwrites: an output folder holding another batch fails the job, and one
holding this same batch (same model, input and chunking) resumes it, so resubmitting a stopped
or failed batch with the same `output` redoes only its unfinished chunks.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from tidecast.batch.runner import DEFAULT_CHUNK_ROWS, Progress
from tidecast.data.locations import NO_LOCAL_FILES, LocationPolicy, LocationRefused, check_location
from tidecast.jobs.config import location_exists
from tidecast.jobs.request import JobConfigError, one_future
from tidecast.registry.errors import NotFound
from tidecast.registry.schema import ModelVersion
from tidecast.wording import counted

BATCH_DIR = "batch"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
MAX_VERSION = 2**31 - 1  # versions are 32-bit INTEGER columns
MAX_CHUNK_ROWS = 1_000_000_000
MAX_WORKERS = 1024
LOCATION_LENGTH = 1024
FAILURES_IN_RESULT = 10


class _Settings(Protocol):
    home: Path
    data_root: Path | None

    def location_policy(self) -> LocationPolicy: ...


class _Registry(Protocol):
    def get(self, group: str, version: int) -> ModelVersion: ...

    def endpoint_version(self, name: str) -> ModelVersion: ...

    def latest_approved(self, group: str) -> ModelVersion: ...


class BatchRequest(BaseModel):
    """Forecast every item of `input` with one model version, into `output`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, max_length=128, description="Job name; default the job id.")
    endpoint: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=NAME,
        description="Forecast with the version this endpoint serves (or give model_group).",
    )
    model_group: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=NAME,
        validate_default=True,
        description="Forecast with a version of this group (or give endpoint).",
    )
    version: int | None = Field(
        None,
        ge=1,
        le=MAX_VERSION,
        validate_default=True,
        description="The model_group's version; default its latest approved one.",
    )
    sql: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="A DuckDB query as the input instead of `input`; with a data root it may read "
        "files below it only, named by their absolute path.",
    )
    # After `sql`, so its validator sees whether a query was given.
    input: str | None = Field(
        None,
        min_length=1,
        max_length=LOCATION_LENGTH,
        validate_default=True,
        description="CSV/Parquet file, folder or glob: a path (below the data root) or fsspec URL (or give sql).",
    )
    future: str | None = Field(
        None,
        min_length=1,
        max_length=LOCATION_LENGTH,
        description="Known covariates over the horizon, for models that need them.",
    )
    future_sql: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="The future covariates as a DuckDB query instead of `future`, read as `sql` is.",
    )
    output: str | None = Field(
        None,
        min_length=1,
        max_length=LOCATION_LENGTH,
        description="Output folder inside {home}/batch or the data root; default {home}/batch/{job id}.",
    )
    date_format: str | None = Field(
        None,
        max_length=64,
        pattern="%",
        description="How the input's and future's timestamps are written, in strftime codes (e.g. "
        "%d/%m/%Y); default the model's, else one format inferred per column.",
    )
    format: Literal["parquet", "csv"] = Field("parquet", description="Format of the forecast parts.")
    chunk_rows: int = Field(
        DEFAULT_CHUNK_ROWS, ge=1, le=MAX_CHUNK_ROWS, description="Input rows per chunk (whole series)."
    )
    workers: int | None = Field(
        None, ge=1, le=MAX_WORKERS, description="Worker processes; default every core, 1 runs inline."
    )

    @field_validator("model_group")
    @classmethod
    def _one_model(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Exactly one of endpoint and model_group (checked here so the error names a field)."""
        if "endpoint" not in info.data:
            return value  # endpoint itself was invalid: that error says enough
        endpoint = info.data["endpoint"]
        if endpoint is not None and value is not None:
            raise ValueError("give either endpoint or model_group, not both")
        if endpoint is None and value is None:
            raise ValueError("give the endpoint or the model_group whose model forecasts")
        return value

    @field_validator("version")
    @classmethod
    def _version_of_group(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("model_group") is None and info.data.get("endpoint"):
            raise ValueError("a version goes with model_group; an endpoint serves one version already")
        return value

    @field_validator("input")
    @classmethod
    def _one_input(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) == (info.data.get("sql") is None):
            raise ValueError(
                "give the input as `input` (a location) or as `sql` (a DuckDB query): exactly one"
            )
        return value

    @field_validator("future_sql")
    @classmethod
    def _one_future(cls, value: str | None, info: ValidationInfo) -> str | None:
        return one_future(value, info)

    @field_validator("input", "future", "output")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and any(ord(c) < 32 for c in value):
            raise ValueError("a location has no control characters")
        return value


# ---- the body ------------------------------------------------------------------------------
def parse_batch_body(body: Any, settings: _Settings, job_id: str) -> BatchRequest:
    """The `BatchRequest` of `body`, its locations resolved (see the module docstring).

    `job_id` names the default output folder. Raises `JobConfigError` naming each bad field.
    """
    if not isinstance(body, Mapping):
        raise JobConfigError(
            [{"loc": (), "msg": "the batch body must be a JSON object", "type": "type_error"}]
        )
    try:
        request = BatchRequest.model_validate(body)
    except ValidationError as exc:
        raise JobConfigError(
            [{"loc": e["loc"], "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_url=False)]
        ) from None
    policy = settings.location_policy()
    data_root = policy.s3_root
    batch_root = batch_dir(settings)
    resolved: dict[str, str | None] = {}
    errors = []
    for field in ("input", "future", "output"):
        value = getattr(request, field)
        try:
            if field == "output":
                resolved[field] = resolve_output(value, batch_root, data_root, job_id)
            else:
                resolved[field] = None if value is None else check_location(value, policy)
        except (ValueError, OSError) as exc:
            errors.append({"loc": (field,), "msg": str(exc)})
            continue
        found = resolved[field]
        if field != "output" and found is not None and not location_exists(found):
            errors.append({"loc": (field,), "msg": f"{value!r} does not exist", "type": "value_error"})
    for field in ("sql", "future_sql"):
        query = getattr(request, field)
        if query is not None and not policy.reads_local:
            errors.append({"loc": (field,), "msg": f"a SQL query reads files, and {NO_LOCAL_FILES}"})
        elif query is not None:
            from tidecast.data.sql_io import sql_columns
            from tidecast.errors import TidecastError

            try:  # bound as the worker will run it: a file outside the root is refused now
                sql_columns(query, root=data_root)
            except TidecastError as exc:
                errors.append({"loc": (field,), "msg": str(exc)})
    if errors:
        raise JobConfigError(errors)
    return request.model_copy(update=resolved)


def batch_dir(settings: _Settings) -> Path:
    """``{home}/batch``: where batch outputs go by default, as an absolute path."""
    return (Path(settings.home).expanduser() / BATCH_DIR).resolve()


def resolve_output(location: str | None, batch_root: Path, data_root: Path | None, job_id: str) -> str:
    """The local folder a batch may write `location` to; ValueError saying why it may not."""
    if location is None:
        return str(batch_root / job_id)
    roots = (batch_root,) if data_root is None else (data_root, batch_root)
    policy = LocationPolicy.of(roots, data_root)
    try:
        candidate = Path(check_location(location, policy))
    except LocationRefused as exc:
        inside = " or ".join(str(root) for root in policy.roots)
        raise LocationRefused(f"{exc}; batch output is a local folder inside {inside}") from None
    if candidate in policy.roots:
        raise LocationRefused(f"{location!r} is not a folder inside {candidate} but the folder itself")
    return str(candidate)


# ---- the model -----------------------------------------------------------------------------
def batch_model_version(request: BatchRequest, registry: _Registry) -> ModelVersion:
    """The version `request` forecasts with; `JobConfigError` naming the field when there is none."""
    try:
        if request.endpoint is not None:
            return registry.endpoint_version(request.endpoint)
        assert request.model_group is not None  # BatchRequest's validators
        if request.version is None:
            return registry.latest_approved(request.model_group)
        return registry.get(request.model_group, request.version)
    except NotFound as exc:
        field = (
            "endpoint" if request.endpoint else "version" if exc.kind == "model version" else "model_group"
        )
        raise JobConfigError([{"loc": (field,), "msg": str(exc)}]) from None


def check_batch_future(request: BatchRequest, version: ModelVersion, settings: _Settings) -> None:
    """A `JobConfigError` on `future` or `future_sql` when the future covariates lack a column
    the model `version` needs (its known covariates, the item and the time), found from the
    file's header or the bound query (`batch.future_check`), as the worker would find it after
    staging the whole input."""
    from tidecast.batch.future_check import check_future
    from tidecast.errors import TidecastError

    task = version.config
    if "columns" not in task or not task.get("covariates", {}).get("known"):
        return
    try:
        check_future(task, request.future, request.future_sql, root=settings.location_policy().s3_root)
    except TidecastError as exc:
        field = "future_sql" if request.future_sql is not None else "future"
        raise JobConfigError([{"loc": (field,), "msg": str(exc)}]) from None


# ---- the run -------------------------------------------------------------------------------
def run_batch_job(
    request: BatchRequest,
    model: Path,
    progress: Progress,
    client: Any = None,
    data_root: Path | None = None,
) -> dict[str, Any]:
    """Run the batch with the model folder `model` (on the Dask `client` when given); the
    job's result (see `summarize`). A `sql` input and a `future_sql` run confined to `data_root`
    when given."""
    from tidecast.batch.runner import run_batch

    assert request.output is not None  # parse_batch_body fills it in
    done = run_batch(
        model,
        request.input,
        request.output,
        sql=request.sql,
        sql_root=data_root,
        future=request.future,
        future_sql=request.future_sql,
        date_format=request.date_format,
        fmt=request.format,
        chunk_rows=request.chunk_rows,
        workers=request.workers,
        client=client,
        progress=progress,
    )
    return summarize(done.manifest, done.output)


def summarize(manifest: Mapping[str, Any], output: Path) -> dict[str, Any]:
    """What the job row keeps of the batch manifest: counts, the first failures, timings and
    where everything is (the full manifest and every failure stay in the output folder)."""
    return {
        "output": str(output),
        "forecasts": str(output / "forecasts"),
        "format": manifest["format"],
        "chunks": manifest["chunks"],
        "chunks_resumed": manifest["chunks_resumed"],
        "chunks_failed": manifest["chunks_failed"],
        "items_in": manifest["items_in"],
        "items_forecast": manifest["items_forecast"],
        "items_failed": manifest["items_failed"],
        "items_with_fallback": manifest["items_with_fallback"],
        "forecast_rows": manifest["forecast_rows"],
        "failures": list(manifest["failures"][:FAILURES_IN_RESULT]),
        "failures_file": str(output / manifest["failures_file"]),
        "manifest_file": str(output / "manifest.json"),
        "timings": manifest["timings"],
    }


def nothing_forecast(result: Mapping[str, Any]) -> str | None:
    """Why a batch that forecast no item at all failed, or None when it forecast some."""
    if result["items_forecast"] or not result["items_in"]:
        return None
    first = result["failures"][0] if result["failures"] else {"item_id": "?", "reason": "unknown"}
    return (
        f"none of the {counted(result['items_in'], 'item')} could be forecast; e.g. {first['item_id']}: "
        f"{first['reason']} (every failure is listed in {result['failures_file']})"
    )
