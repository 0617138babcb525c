"""The HTTP API of `tidecast serve`: jobs, the model registry, endpoints and forecasts.

`create_app(settings)` assembles a FastAPI application over the service's stores:

* ``/v1/jobs``, ``/v1/models``, ``/v1/endpoints`` (admin keys): submit and follow training
  jobs, approve and compare model versions, deploy approved versions to named endpoints;
* ``/v1/batch`` (admin keys): batch forecasting jobs over files, followed like any job;
* ``/v1/endpoints/{name}/forecast`` (forecast or admin keys): tidecast's forecast request;
* SageMaker's runtime contract: ``GET /ping``, ``POST /invocations`` and
  ``POST /endpoints/{name}/invocations`` (the path boto3's ``sagemaker-runtime``
  ``invoke_endpoint`` calls), answering DeepAR's JSON and JSON Lines formats;
* ``GET /health``, ``GET /metrics`` (Prometheus), ``/docs`` and ``/openapi.json``, open.

Every error is an RFC 9457 problem (``application/problem+json``) naming the offending field;
bad input is never a 500. Deploying loads the model first and then swaps it into the
`EndpointTable` in one reference assignment, so requests in flight finish on the model they
started with. Endpoints are persisted and reloaded when the service starts.

One API process serves the endpoints (the loaded models live in its memory); training runs in
separate worker processes started by `tidecast.service.server`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidecast.errors import ConfigError, DataError, ModelError, TidecastError
from tidecast.jobs.batch import BatchRequest, batch_model_version, parse_batch_body
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError, dotted
from tidecast.jobs.store import JobStore, job_to_dict
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import Database
from tidecast.registry.errors import Conflict, InvalidInput, NotFound, ServiceError
from tidecast.registry.registry import GROUP_NAME, Registry
from tidecast.registry.schema import (
    ApiKeyRole,
    Endpoint,
    Job,
    JobKind,
    JobStatus,
    ModelStatus,
    ModelVersion,
    new_job_id,
    utcnow,
)
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import Authenticator, KeyStore
from tidecast.service.metrics import ServiceMetrics
from tidecast.service.predictor import (
    DEFAULT_LIMITS,
    EndpointTable,
    ForecastResponse,
    Limits,
    LoadedModel,
    cached_forecast_json,
    forecast,
)
from tidecast.service.problems import (
    MEDIA_TYPE,
    TYPE_BASE,
    Problem,
    field_path,
    from_tidecast_error,
    from_validation_error,
    invalid_request,
    to_pointer,
    unknown_endpoint,
)
from tidecast.service.runtime_contract import JSON, invoke

log = logging.getLogger("tidecast.service")
access_log = logging.getLogger("tidecast.access")

TARGET_MODEL_HEADER = "X-Amzn-SageMaker-Target-Model"
INVOCATION = "invocation"  # request.state flags read by the access-log middleware
ENDPOINT = "endpoint"
INLINE_BODY_BYTES = 16 * 1024  # forecast bodies up to this are parsed on the event loop
CLIENT_CLOSED_REQUEST = 499  # nginx's status for it; only the access log and metrics see it
FORECAST_THREADS = max(2, os.cpu_count() or 2)

WorkerStatus = Callable[[], list[dict[str, Any]]]


# ---- problems -----------------------------------------------------------------------------
def problem_response(problem: Problem) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="tidecast"'} if problem.status == 401 else None
    return JSONResponse(problem.to_dict(), status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


def service_problem(exc: ServiceError) -> Problem:
    """The store's and registry's expected failures as problems (404, 409, 422, 503)."""
    if isinstance(exc, JobConfigError):
        errors = [
            {"field": dotted(e["loc"]) or "body", "pointer": to_pointer(dotted(e["loc"])), "detail": e["msg"]}
            for e in exc.errors
        ]
        return Problem(
            422, "Invalid job", str(exc), type_=TYPE_BASE + "invalid-job", field=exc.field, errors=errors
        )
    if isinstance(exc, InvalidInput):
        return Problem(
            422,
            "Invalid input",
            str(exc),
            type_=TYPE_BASE + "invalid-request",
            field=exc.field,
            errors=[{"field": exc.field, "pointer": to_pointer(exc.field), "detail": exc.problem}],
        )
    if isinstance(exc, NotFound):
        slug = exc.kind.replace(" ", "-")
        return Problem(404, "Not found", str(exc), type_=TYPE_BASE + "not-found", extra={"kind": slug})
    if isinstance(exc, Conflict):
        return Problem(409, "Conflict", str(exc), type_=TYPE_BASE + "conflict")
    return Problem(exc.status, exc.title, str(exc), type_=TYPE_BASE + "service-error")


def validation_problem(exc: RequestValidationError) -> Problem:
    """FastAPI's own validation (path, query and typed bodies) in the same shape as ours."""
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        detail = next(
            e.get("ctx", {}).get("error", e.get("msg")) for e in raw if e.get("type") == "json_invalid"
        )
        return malformed_json(str(detail))
    errors = []
    for error in raw:
        location = [p for p in error.get("loc", ()) if isinstance(p, str | int)]
        if location and location[0] in ("body", "query", "path", "header"):
            location = location[1:] if len(location) > 1 else location
        name = field_path(location) or "body"
        errors.append({"field": name, "pointer": to_pointer(name), "detail": str(error.get("msg", ""))})
    return invalid_request(errors)


def malformed_json(detail: str) -> Problem:
    return Problem(400, "Malformed JSON", f"body: {detail}", type_=TYPE_BASE + "malformed-json", field="body")


def parse_json(raw: bytes) -> Any:
    """A request body as JSON, or a 400 problem naming the body (empty, not UTF-8, not JSON)."""
    if not raw.strip():
        raise Problem(400, "Empty body", "body: the request has no body; send JSON", field="body")
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise malformed_json(str(exc)) from None
    except RecursionError:  # "[[[[..." nested deeper than the parser recurses
        raise malformed_json("nested too deeply") from None


class BodyTooLarge(StarletteHTTPException):
    """Raised while reading a body past the limit; an HTTPException so FastAPI's body parsing
    lets it through unchanged instead of turning it into a generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")
        self.limit = limit


def too_large(limit: int) -> Problem:
    return Problem(
        413,
        "Payload too large",
        f"body: the request body exceeds the limit of {limit} bytes; split the request",
        type_=TYPE_BASE + "payload-too-large",
        field="body",
        extra={"limit": limit},
    )


def _install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        return problem_response(service_problem(exc))

    async def on_tidecast_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DataError | ConfigError):
            return problem_response(from_tidecast_error(exc))
        return problem_response(Problem(422, "Model error", str(exc), type_=TYPE_BASE + "model-error"))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyTooLarge):
            return problem_response(too_large(exc.limit))
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        problem = Problem(exc.status_code, title, str(exc.detail))
        response = problem_response(problem)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # The client went away before sending its whole body (a timeout, a cancelled call):
        # nothing failed here and nobody will read an answer, so no error and no traceback.
        log.debug("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            Problem(500, "Internal server error", "the service failed unexpectedly; see its logs")
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(TidecastError, on_tidecast_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(Exception, on_unexpected)


# ---- middleware ---------------------------------------------------------------------------
class BodyLimitMiddleware:
    """413 for a body over `limit` bytes: at once from Content-Length, or while it streams in
    (a chunked upload has no Content-Length), before the application buffers it all."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                problem = Problem(
                    400, "Bad request", "Content-Length is not a number", field="Content-Length"
                )
                await problem_response(problem)(scope, receive, send)
                return
            if int(declared) > self.limit:
                await problem_response(too_large(self.limit))(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await problem_response(too_large(self.limit))(scope, receive, send)


class AccessLogMiddleware:
    """One structured log line per request (method, path, status, latency, endpoint) and the
    request, error and invocation metrics."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            seconds = time.perf_counter() - started
            state = scope.get("state") or {}
            endpoint = state.get(ENDPOINT)
            self.metrics.observe_request(scope["method"], status)
            if state.get(INVOCATION):
                self.metrics.observe_invocation(endpoint, status, seconds)
            access_log.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "endpoint": endpoint,
                    "caller": state.get("caller"),
                },
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


# ---- deployments ----------------------------------------------------------------------------
@dataclass
class Deployed:
    """What an endpoint serves, as loaded in this process."""

    model: LoadedModel
    version: ModelVersion


class Deployments:
    """Endpoints: rows of `endpoints` (what should be served) and the `EndpointTable` (what is).

    Deploys are serialised by a lock so the table and the rows agree; the model is loaded
    before anything changes, so a version that cannot load leaves the endpoint as it was.
    """

    def __init__(self, database: Database, registry: Registry, metrics: ServiceMetrics) -> None:
        self.database = database
        self.registry = registry
        self.metrics = metrics
        self.table = EndpointTable()
        self.versions: dict[str, ModelVersion] = {}
        self.failures: dict[str, str] = {}  # persisted endpoints that could not be loaded
        self._lock = threading.Lock()

    def deploy(self, name: str, group: str, version: int | None) -> tuple[dict[str, Any], bool]:
        """Serve `group`'s `version` (default: its latest approved) at `name`; (endpoint, created)."""
        if not GROUP_NAME.match(name):
            raise InvalidInput(
                "name", f"{name!r} is not a valid endpoint name: use 1-128 letters, digits, '.', '_' or '-'"
            )
        found = self.registry.latest_approved(group) if version is None else self.registry.get(group, version)
        if found.status is not ModelStatus.APPROVED:
            raise Conflict(
                f"{group} version {found.version} is {found.status.value}: only Approved versions can be "
                f"deployed (POST /v1/models/{group}/versions/{found.version}/approve)"
            )
        with self._lock:
            loaded = self._load(name, found)
            with self.database.transaction() as session:
                row = session.get(Endpoint, name)
                created = row is None
                if row is None:
                    session.add(Endpoint(name=name, model_version_id=found.id))
                else:
                    row.model_version_id = found.id
                    row.updated_at = utcnow()
            self._install(name, loaded, found)
        log.info("endpoint %s now serves %s version %d", name, group, found.version)
        return self.describe(name), created

    def _load(self, name: str, version: ModelVersion) -> LoadedModel:
        try:
            loaded = LoadedModel.load(self.registry.model_path(version), name)
        except (ModelError, OSError, ValueError) as exc:
            raise Problem(
                422,
                "Model cannot be loaded",
                f"{version.group.name} version {version.version} could not be loaded: {exc}",
                type_=TYPE_BASE + "model-load-failed",
                field="version",
            ) from None
        self.metrics.observe_load(name, loaded.load_seconds)
        started = time.perf_counter()
        cached = loaded.warm()  # before the swap: the endpoint serves a warm cache from its first request
        log.info(
            "endpoint %s: %d of %d stored items forecast in %.2fs",
            name,
            cached,
            len(loaded.item_ids),
            time.perf_counter() - started,
        )
        return loaded

    def _install(self, name: str, loaded: LoadedModel, version: ModelVersion) -> None:
        self.versions[name] = version
        self.failures.pop(name, None)
        self.table.set(name, loaded)  # the swap: requests holding the old model finish on it
        self.metrics.endpoints.set(len(self.table.names()))

    def undeploy(self, name: str) -> None:
        with self._lock:
            with self.database.transaction() as session:
                row = session.get(Endpoint, name)
                if row is None:
                    raise NotFound("endpoint", name)
                session.delete(row)
            self.table.remove(name)
            self.versions.pop(name, None)
            self.failures.pop(name, None)
            self.metrics.forget_endpoint(name)
            self.metrics.endpoints.set(len(self.table.names()))

    def load_all(self) -> None:
        """Load every persisted endpoint (at startup); failures are kept for /health."""
        with self.database.sessions() as session:
            rows = [
                (e.name, e.model_version_id)
                for e in session.scalars(select(Endpoint).order_by(Endpoint.name))
            ]
        for name, version_id in rows:
            try:
                version = self.registry.get_by_id(version_id)
                with self._lock:
                    self._install(name, self._load(name, version), version)
                log.info("endpoint %s loaded: %s version %d", name, version.group.name, version.version)
            except Exception as exc:  # one broken model must not keep the others down
                reason = exc.detail if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"
                self.failures[name] = reason
                log.error("endpoint %s could not be loaded: %s", name, reason)

    def serving(self, version_id: int) -> list[str]:
        return sorted(n for n, v in self.versions.items() if v.id == version_id)

    def names(self) -> list[str]:
        with self.database.sessions() as session:
            return list(session.scalars(select(Endpoint.name).order_by(Endpoint.name)))

    def describe(self, name: str) -> dict[str, Any]:
        with self.database.sessions() as session:
            row = session.get(Endpoint, name)
            if row is None:
                raise NotFound("endpoint", name)
            version = row.model_version
            out: dict[str, Any] = {
                "name": row.name,
                "group": version.group.name,
                "version": version.version,
                "model_version_id": version.id,
                "created_at": _iso(row.created_at),
                "updated_at": _iso(row.updated_at),
            }
        deployed = self.versions.get(name)
        model = self.table.get(name)
        if model is not None and deployed is not None and deployed.id == out["model_version_id"]:
            out.update(
                status="InService",
                horizon=model.horizon,
                frequency=model.frequency,
                quantiles=list(model.quantiles),
                items=len(model.item_ids),
                known_covariates=list(model.known_covariates),
                loaded_at=_iso(model.loaded_at),
                load_seconds=round(model.load_seconds, 4),
            )
        else:
            out.update(status="Failed", failure_reason=self.failures.get(name, "not loaded in this process"))
        return out


# ---- the application state -------------------------------------------------------------------
@dataclass
class ServiceState:
    """What the routes share; `app.state.service`."""

    settings: ServiceSettings
    database: Database
    registry: Registry
    jobs: JobStore
    keys: KeyStore
    metrics: ServiceMetrics
    deployments: Deployments
    auth: Authenticator
    limits: Limits = DEFAULT_LIMITS
    default_endpoint: str | None = None
    worker_status: WorkerStatus | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Forecasts that need a model call (or a big body) run in threads, at most this many at a
    # time: they are CPU-bound under one GIL, so more in flight only share the CPU out (all of
    # them finish late instead of most of them early) and starve the event loop.
    forecast_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(FORECAST_THREADS))


async def _state(request: Request) -> ServiceState:
    """The app's `ServiceState`. A coroutine on purpose: FastAPI runs a plain function
    dependency in the thread pool, a round trip costing more than a cached forecast."""
    return _service(request)


def _service(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(_state)]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def version_to_dict(version: ModelVersion) -> dict[str, Any]:
    return {
        "group": version.group.name,
        "version": version.version,
        "id": version.id,
        "status": version.status.value,
        "artifact_uri": version.artifact_uri,
        "source_job_id": version.source_job_id,
        "data_fingerprint": version.data_fingerprint,
        "description": version.description,
        "metrics": version.metrics,
        "config": version.config,
        "created_at": _iso(version.created_at),
        "updated_at": _iso(version.updated_at),
    }


def count_jobs(database: Database) -> Callable[[], Mapping[str, int]]:
    def count() -> Mapping[str, int]:
        with database.sessions() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {JobStatus(status).value: int(n) for status, n in rows}

    return count


# ---- request bodies ---------------------------------------------------------------------------
class DeployRequest(BaseModel):
    """Deploy a model version to an endpoint: only Approved versions; default the latest one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, description="Endpoint name.")
    group: str = Field(min_length=1, max_length=128, description="Model group.")
    version: int | None = Field(default=None, ge=1, description="Version; default the latest approved.")


# ---- routes ------------------------------------------------------------------------------------
def _ops_routes() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="Database, workers and endpoints")
    def health(state: StateDep) -> JSONResponse:
        database_ok, database_error = True, None
        try:
            with state.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:
            database_ok, database_error = False, f"{type(exc).__name__}: {exc}"
        workers = state.worker_status() if state.worker_status is not None else []
        alive = sum(1 for w in workers if w.get("alive"))
        deployments = state.deployments
        loaded = {
            name: {"group": v.group.name, "version": v.version}
            for name, v in sorted(deployments.versions.items())
        }
        degraded = bool(deployments.failures) or alive < len(workers)
        status = "unavailable" if not database_ok else "degraded" if degraded else "ok"
        body = {
            "status": status,
            "database": {"ok": database_ok, "error": database_error},
            "workers": {"expected": len(workers), "alive": alive, "processes": workers},
            "endpoints": {"loaded": loaded, "failed": dict(deployments.failures)},
            "open_mode": state.auth.open_mode,
            "started_at": _iso(state.started_at),
        }
        return JSONResponse(body, status_code=200 if database_ok else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    def metrics(state: StateDep) -> Response:
        payload, media = state.metrics.render()
        return Response(payload, media_type=media)

    return router


def job_out(state: ServiceState, job: Job) -> dict[str, Any]:
    """A job as the API shows it: its row, and the model version it made (training) or used (batch)."""
    out = job_to_dict(job)
    out["model_version"] = None
    if job.model_version_id is not None:
        try:
            version = state.registry.get_by_id(job.model_version_id)
            out["model_version"] = {"group": version.group.name, "version": version.version}
        except NotFound:
            pass
    return out


def _jobs_routes(admin: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(admin)])

    @router.post(
        "",
        status_code=201,
        summary="Submit a training job (native body or SageMaker CreateAutoMLJobV2)",
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
    )
    async def create_job(request: Request, state: StateDep) -> JSONResponse:
        body = parse_json(await request.body())
        job_request = await run_in_threadpool(parse_job_body, body, state.settings)
        job = await run_in_threadpool(state.jobs.create, job_request)
        return JSONResponse(job_out(state, job), status_code=201, headers={"Location": f"/v1/jobs/{job.id}"})

    @router.get("", summary="List jobs (training and batch), newest first")
    def list_jobs(
        state: StateDep,
        status: Annotated[str | None, Query(description="Only jobs in this state")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        kind: Annotated[str | None, Query(description="Only jobs of this kind: automl or batch")] = None,
    ) -> dict[str, Any]:
        return {"jobs": [job_out(state, j) for j in state.jobs.list(status=status, limit=limit, kind=kind)]}

    @router.get(
        "/{job_id}", summary="A job: kind, status, stage, progress, error, leaderboard or result, model"
    )
    def get_job(job_id: str, state: StateDep) -> dict[str, Any]:
        return job_out(state, state.jobs.get(job_id))

    @router.post("/{job_id}/stop", summary="Stop a queued or running job")
    def stop_job(job_id: str, state: StateDep) -> dict[str, Any]:
        return job_out(state, state.jobs.request_stop(job_id))

    return router


def _batch_routes(admin: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/batch", tags=["batch"], dependencies=[Depends(admin)])

    @router.post(
        "",
        status_code=202,
        summary="Submit a batch forecast of files with an endpoint's or a model group's model",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": BatchRequest.model_json_schema()}},
            }
        },
    )
    async def create_batch(request: Request, state: StateDep) -> JSONResponse:
        # Parsed here rather than by FastAPI so errors name fields the way POST /v1/jobs does.
        body = parse_json(await request.body())
        job_id = new_job_id()
        batch = await run_in_threadpool(parse_batch_body, body, state.settings, job_id)
        version = await run_in_threadpool(batch_model_version, batch, state.registry)
        job = await run_in_threadpool(state.jobs.create_batch, batch, version.id, job_id)
        return JSONResponse(job_out(state, job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"})

    @router.get("/{job_id}", summary="A batch job (the same body as GET /v1/jobs/{job_id})")
    def get_batch(job_id: str, state: StateDep) -> dict[str, Any]:
        job = state.jobs.get(job_id)
        if job.kind is not JobKind.BATCH:
            raise NotFound("batch job", job_id, "it is a training job: GET /v1/jobs/{id}")
        return job_out(state, job)

    return router


def _models_routes(admin: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[Depends(admin)])

    @router.get("", summary="Model groups")
    def list_groups(state: StateDep) -> dict[str, Any]:
        return {
            "groups": [
                {
                    "name": g.name,
                    "description": g.description,
                    "created_at": _iso(g.created_at),
                    "versions": g.versions,
                    "latest_version": g.latest_version,
                    "latest_approved": g.latest_approved,
                }
                for g in state.registry.list_groups()
            ]
        }

    @router.get("/{group}/versions", summary="A group's versions, oldest first")
    def list_versions(
        group: str, state: StateDep, status: Annotated[ModelStatus | None, Query()] = None
    ) -> dict[str, Any]:
        return {"versions": [version_to_dict(v) for v in state.registry.list_versions(group, status)]}

    @router.get("/{group}/versions/{version}", summary="One version")
    def get_version(group: str, version: int, state: StateDep) -> dict[str, Any]:
        return version_to_dict(state.registry.get(group, version))

    @router.post("/{group}/versions/{version}/approve", summary="Approve a version")
    def approve(group: str, version: int, state: StateDep) -> dict[str, Any]:
        return version_to_dict(state.registry.approve(group, version))

    @router.post("/{group}/versions/{version}/reject", summary="Reject (or withdraw) a version")
    def reject(group: str, version: int, state: StateDep) -> dict[str, Any]:
        out = version_to_dict(state.registry.reject(group, version))
        out["still_serving"] = state.deployments.serving(out["id"])
        return out

    @router.get("/{group}/compare", summary="Two versions side by side")
    def compare(
        group: str,
        state: StateDep,
        a: Annotated[int, Query(ge=1, description="First version")],
        b: Annotated[int, Query(ge=1, description="Second version")],
    ) -> dict[str, Any]:
        return state.registry.compare(group, a, b).to_dict()

    @router.post("/{group}/rollback", summary="Reject the latest approved version; redeploy its endpoints")
    def rollback(
        group: str,
        state: StateDep,
        redeploy: Annotated[
            bool, Query(description="Move endpoints serving the rejected version to the previous one")
        ] = True,
    ) -> dict[str, Any]:
        done = state.registry.rollback(group)
        moved = []
        if redeploy:
            for name in state.deployments.serving(done.rejected.id):
                state.deployments.deploy(name, group, done.current.version)
                moved.append(name)
        return {
            "rejected": version_to_dict(done.rejected),
            "current": version_to_dict(done.current),
            "redeployed_endpoints": moved,
        }

    return router


def _endpoints_routes(admin: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"], dependencies=[Depends(admin)])

    @router.post(
        "",
        status_code=201,
        summary="Deploy an approved model version to an endpoint (201 new, 200 replaced)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": DeployRequest.model_json_schema()}},
            }
        },
    )
    async def deploy(request: Request, state: StateDep) -> JSONResponse:
        # Parsed here rather than by FastAPI so a malformed body is the same 400 whatever
        # Content-Type the client sent.
        try:
            body = DeployRequest.model_validate(parse_json(await request.body()))
        except ValidationError as exc:
            raise from_validation_error(exc) from None
        out, created = await run_in_threadpool(state.deployments.deploy, body.name, body.group, body.version)
        return JSONResponse(out, status_code=201 if created else 200)

    @router.get("", summary="Endpoints")
    def list_endpoints(state: StateDep) -> dict[str, Any]:
        deployments = state.deployments
        return {"endpoints": [deployments.describe(n) for n in deployments.names()]}

    @router.get("/{name}", summary="One endpoint")
    def get_endpoint(name: str, state: StateDep) -> dict[str, Any]:
        return state.deployments.describe(name)

    @router.delete("/{name}", status_code=204, summary="Delete an endpoint")
    def delete_endpoint(name: str, state: StateDep) -> Response:
        state.deployments.undeploy(name)
        return Response(status_code=204)

    return router


def _forecast_routes(forecaster: Any) -> APIRouter:
    router = APIRouter(tags=["forecast"], dependencies=[Depends(forecaster)])

    def model_for(request: Request, state: ServiceState, name: str) -> LoadedModel:
        request.state.invocation = True
        model = state.deployments.table.get(name)  # once: the request keeps this model
        if model is None:
            raise unknown_endpoint(name)
        request.state.endpoint = name
        return model

    @router.post(
        "/v1/endpoints/{name}/forecast",
        summary="Forecast stored items or fresh history",
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}},
    )
    async def forecast_route(name: str, request: Request) -> Response:
        state = _service(request)  # not StateDep: one dependency fewer to solve per forecast
        model = model_for(request, state, name)
        raw = await request.body()
        if len(raw) <= INLINE_BODY_BYTES:
            # A small body parses in microseconds; when its items are all cached, answering is
            # lookups too, and a thread hop would cost more than the work (and, with many
            # requests in flight, queue behind the threads holding the GIL).
            parsed = model.parse_request(parse_json(raw))
            cached = cached_forecast_json(model, parsed, state.limits)
            if cached is not None:
                return _json_bytes(cached)
            async with state.forecast_slots:
                return _json(await run_in_threadpool(forecast, model, parsed, state.limits))

        def run() -> bytes:
            parsed = model.parse_request(parse_json(raw))
            cached = cached_forecast_json(model, parsed, state.limits)
            if cached is not None:
                return cached
            return forecast(model, parsed, state.limits).model_dump_json(warnings=False).encode()

        async with state.forecast_slots:
            return _json_bytes(await run_in_threadpool(run))

    async def invoke_route(request: Request, state: ServiceState, name: str) -> Response:
        model = model_for(request, state, name)
        body = await request.body()
        content_type = request.headers.get("content-type") or JSON
        async with state.forecast_slots:
            payload, media = await run_in_threadpool(invoke, model, body, content_type, state.limits)
        return Response(payload, media_type=media)

    @router.post(
        "/endpoints/{name}/invocations",
        summary="SageMaker runtime InvokeEndpoint (DeepAR JSON or JSON Lines)",
        tags=["sagemaker"],
    )
    async def invoke_named(name: str, request: Request, state: StateDep) -> Response:
        return await invoke_route(request, state, name)

    @router.post(
        "/invocations", summary="SageMaker container contract: invoke the target endpoint", tags=["sagemaker"]
    )
    async def invoke_default(
        request: Request,
        state: StateDep,
        target: Annotated[str | None, Header(alias=TARGET_MODEL_HEADER)] = None,
    ) -> Response:
        return await invoke_route(request, state, _target(state, target))

    return router


def _json(answer: ForecastResponse) -> Response:
    """The answer as JSON, serialised by pydantic-core: about 15 times faster than
    `JSONResponse(answer.model_dump())` for a 100-item forecast, with the same JSON values."""
    return Response(answer.model_dump_json(warnings=False), media_type="application/json")


def _json_bytes(payload: bytes) -> Response:
    """An answer already serialised (`cached_forecast_json`, or `_json`'s in a thread)."""
    return Response(payload, media_type="application/json")


def _target(state: ServiceState, header: str | None) -> str:
    """The endpoint ``/invocations`` means: the header's, the configured default, or the only one."""
    if header:
        return header
    if state.default_endpoint:
        return state.default_endpoint
    names = state.deployments.table.names()
    if len(names) == 1:
        return names[0]
    detail = (
        "no endpoint is deployed"
        if not names
        else f"{len(names)} endpoints are deployed; name one in the {TARGET_MODEL_HEADER} header or call "
        "/endpoints/{name}/invocations"
    )
    raise Problem(404 if not names else 400, "No target endpoint", detail, field=TARGET_MODEL_HEADER)


# ---- the factory -------------------------------------------------------------------------------
def create_app(
    settings: ServiceSettings,
    *,
    database: Database | None = None,
    migrate: bool = False,
    worker_status: WorkerStatus | None = None,
    default_endpoint: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> FastAPI:
    """The service's FastAPI application on `settings`' database and artifact store.

    The database must be at the newest schema (`migrate=True` migrates it on startup, as
    `tidecast serve` does). `worker_status` reports the job worker processes for /health;
    `default_endpoint` is what ``POST /invocations`` serves without a target header (else
    the setting ``default_endpoint`` when present, else the only endpoint).
    """
    owns_database = database is None
    db = database if database is not None else Database.from_url(settings.database_url)
    registry = Registry(db.sessions, ArtifactStore(settings.artifact_url, cache_dir=settings.cache_dir))
    metrics = ServiceMetrics(count_jobs(db))
    keys = KeyStore(db.sessions)
    auth = Authenticator(keys, settings.open_mode)
    state = ServiceState(
        settings=settings,
        database=db,
        registry=registry,
        jobs=JobStore(db.sessions),
        keys=keys,
        metrics=metrics,
        deployments=Deployments(db, registry, metrics),
        auth=auth,
        limits=limits,
        default_endpoint=default_endpoint or getattr(settings, "default_endpoint", None),
        worker_status=worker_status,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.forecast_slots = asyncio.Semaphore(FORECAST_THREADS)  # bound to the serving loop
        if migrate:
            await run_in_threadpool(db.migrate)
        else:
            await run_in_threadpool(db.check_at_head)
        if settings.open_mode:
            log.warning("open mode: authentication is OFF, anyone who can reach the service may use it")
        await run_in_threadpool(state.deployments.load_all)
        try:
            yield
        finally:
            if owns_database:
                db.dispose()

    app = FastAPI(
        title="tidecast",
        summary="Self-hosted AutoML forecasting: training jobs, model registry, real-time endpoints.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.service = state
    _install_problem_handlers(app)
    admin = auth.require(ApiKeyRole.ADMIN)
    forecaster = auth.require(ApiKeyRole.FORECAST)
    # The forecast routes first: routing tries routes in order, and they take nearly all the
    # traffic (no other route's path can match theirs, so the order changes nothing else).
    app.include_router(_forecast_routes(forecaster))
    app.include_router(_ops_routes())
    app.include_router(_jobs_routes(admin))
    app.include_router(_batch_routes(admin))
    app.include_router(_models_routes(admin))
    app.include_router(_endpoints_routes(admin))

    @app.get("/ping", tags=["sagemaker"], summary="SageMaker health check")
    def ping() -> Response:
        ok = not state.deployments.failures
        return Response(status_code=200 if ok else 503)

    # Added innermost first: the access log sees every answer, the 413s of the body limit too.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", TARGET_MODEL_HEADER],
        )
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tidecast")
    except Exception:
        return "0"
