"""The HTTP API of `tidecast serve`: jobs, the model registry, endpoints and forecasts.

`create_app(settings)` assembles a FastAPI application over the service's stores:

* ``/v1/jobs``, ``/v1/models``, ``/v1/endpoints`` (admin keys): submit and follow training
  jobs, approve and compare model versions, deploy approved versions to named endpoints;
* ``/v1/batch`` (admin keys): batch forecasting jobs over files, followed like any job;
* ``/v1/actuals`` and ``/v1/monitoring/{endpoint}`` (admin keys): load observed values, and
  the realised accuracy and drift of what an endpoint served (every forecast an endpoint
  computes goes to the forecast log, written by a background thread);
* ``/v1/endpoints/{name}/observations`` (admin keys): new history for items, forecast from
  without a refit;
* ``/v1/endpoints/{name}/challenger`` and ``.../promote`` (admin keys): a model version
  shadowing the endpoint, scored on the same actuals and promoted by its policy;
* ``/v1/endpoints/{name}/forecast`` (forecast or admin keys): tidecast's forecast request;
* SageMaker's runtime contract: ``GET /ping``, ``POST /invocations`` and
  ``POST /endpoints/{name}/invocations`` (the path boto3's ``sagemaker-runtime``
  ``invoke_endpoint`` calls), answering DeepAR's JSON and JSON Lines formats;
* ``/v1/alerts`` (admin keys): alert rules (from ``alert_rules`` and added through the API),
  incident history, and one evaluation on demand; the rules are evaluated every
  ``alert_interval_seconds`` by a thread of this process;
* ``/v1/reports/{run_or_model}`` (admin keys): model quality and business reports;
* ``/v1/items/{run_or_model}`` (admin keys): search a run's items, one item's series;
* ``/v1/endpoints/{name}/explain`` and ``/whatif`` (forecast or admin keys): contributions to
  the forecasts of stored items, and the forecast again under changed known covariates;
* ``/dashboard``: the web dashboard (its page and assets open; its data through the API's keys);
* SageMaker's control plane, ``POST /`` with ``X-Amz-Target: SageMaker.<Op>`` (admin), and
  AWS SigV4 signatures from issued credentials on every route (``tidecast.service.aws``);
* ``GET /health``, ``GET /metrics`` (Prometheus), ``/docs`` and ``/openapi.json``, open.

Every error is an RFC 9457 problem (``application/problem+json``) naming the offending field;
bad input is never a 500. Deploying loads the model first and then swaps it into the
`EndpointTable` in one reference assignment, so requests in flight finish on the model they
started with. Endpoints are persisted and reloaded when the service starts.

One API process serves the endpoints (the loaded models live in its memory); training runs in
separate worker processes started by `tidecast.service.server`.

The pieces: `dependencies` (the `ServiceState` the routes share, the key checks), `routes/` (one
module per resource, each a module-level router included below), `handlers` (failures as
problems), `middleware` (body limit, access log) and `deployments` (what each endpoint serves).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from tidecast.alerts.engine import service_alerting
from tidecast.jobs.store import JobStore
from tidecast.monitor.forecast_log import ForecastLog
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import Authenticator, KeyStore
from tidecast.service.aws import install_aws
from tidecast.service.challengers import Challengers
from tidecast.service.dependencies import FORECAST_THREADS, ServiceState, WorkerStatus
from tidecast.service.deployments import Deployments
from tidecast.service.handlers import install_problem_handlers
from tidecast.service.metrics import ServiceMetrics
from tidecast.service.middleware import AccessLogMiddleware, BodyLimitMiddleware
from tidecast.service.openapi import install_openapi
from tidecast.service.requests import DEFAULT_LIMITS, Limits
from tidecast.service.routes.actuals import router as actuals_router
from tidecast.service.routes.alerts import router as alerts_router
from tidecast.service.routes.batch import router as batch_router
from tidecast.service.routes.challenger import router as challenger_router
from tidecast.service.routes.dashboard import install_dashboard
from tidecast.service.routes.docs import install_docs
from tidecast.service.routes.endpoints import router as endpoints_router
from tidecast.service.routes.explain import router as explain_router
from tidecast.service.routes.forecast import TARGET_MODEL_HEADER
from tidecast.service.routes.forecast import router as forecast_router
from tidecast.service.routes.items import router as items_router
from tidecast.service.routes.jobs import router as jobs_router
from tidecast.service.routes.models import router as models_router
from tidecast.service.routes.monitoring import router as monitoring_router
from tidecast.service.routes.observations import router as observations_router
from tidecast.service.routes.ops import router as ops_router
from tidecast.service.routes.reports import router as reports_router

log = logging.getLogger("tidecast.service")

CLOSE_SECONDS = 1.5  # how long shutdown waits for each background thread (alerts, challengers)


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
    jobs = JobStore(db.sessions)
    metrics = ServiceMetrics(jobs.count_by_status)
    keys = KeyStore(db.sessions)
    forecast_log = (
        ForecastLog(
            db.sessions,
            sample=settings.forecast_log_sample,
            max_pending=settings.forecast_log_max_pending,
            flush_seconds=settings.forecast_log_flush_seconds,
        )
        if settings.forecast_log
        else None
    )
    deployments = Deployments(db, registry, metrics, forecast_log)
    monitor = Monitor(registry, deployments.forecaster_of)
    alerts = service_alerting(monitor, db.sessions, settings.alert_rules, metrics.registry)
    challengers = Challengers(deployments, monitor, jobs, settings, forecast_log, limits)
    alerts.actions["retrain"] = challengers.retrain
    state = ServiceState(
        settings=settings,
        database=db,
        registry=registry,
        jobs=jobs,
        keys=keys,
        metrics=metrics,
        deployments=deployments,
        auth=Authenticator(keys, settings.open_mode),
        monitor=monitor,
        alerts=alerts,
        forecast_log=forecast_log,
        limits=limits,
        default_endpoint=default_endpoint or getattr(settings, "default_endpoint", None),
        worker_status=worker_status,
        challengers=challengers,
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
        if forecast_log is not None:
            forecast_log.start()
        await run_in_threadpool(state.deployments.load_all)
        await run_in_threadpool(challengers.load_all)
        challengers.start()
        if settings.alert_interval_seconds > 0:
            alerts.start(settings.alert_interval_seconds)
        try:
            yield
        finally:
            # Bounded: a thread busy in an evaluation is a daemon, abandoned at exit, and must
            # not hold a stopping service past its process manager's kill.
            await run_in_threadpool(alerts.close, CLOSE_SECONDS)
            await run_in_threadpool(challengers.close, CLOSE_SECONDS)
            if forecast_log is not None:
                await run_in_threadpool(forecast_log.close)  # writes what is still waiting
            if owns_database:
                db.dispose()

    app = FastAPI(
        title="tidecast",
        summary="Self-hosted AutoML forecasting: training jobs, model registry, real-time endpoints.",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load from a CDN: ours render offline (routes/docs.py)
        redoc_url=None,
    )
    app.state.service = state
    install_problem_handlers(app)
    # The forecast routes first: routing tries routes in order, and they take nearly all the
    # traffic (no other route's path can match theirs, so the order changes nothing else).
    app.include_router(forecast_router)
    app.include_router(ops_router)
    app.include_router(jobs_router)
    app.include_router(batch_router)
    app.include_router(models_router)
    app.include_router(endpoints_router)
    app.include_router(challenger_router)
    app.include_router(reports_router)
    app.include_router(actuals_router)
    app.include_router(monitoring_router)
    app.include_router(alerts_router)
    app.include_router(observations_router)
    app.include_router(items_router)
    app.include_router(explain_router)
    install_docs(app)
    install_dashboard(app)
    install_openapi(app)

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
    install_aws(app)  # SageMaker's control plane, SigV4 and AWS error shapes (service/aws/)
    return app


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tidecast")
    except Exception:
        return "0"
