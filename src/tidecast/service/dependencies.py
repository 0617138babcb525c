"""What the routes share, as FastAPI dependencies: the `ServiceState` and the caller's key.

`create_app` builds one `ServiceState` from the settings it is given (built once, by whoever
starts the service) and keeps it in ``app.state.service``; a route takes it as `StateDep`. The
routers are module-level objects, so the key checks are too: `require_admin` and
`require_forecast` ask the state's `Authenticator` whether the caller's key has the role.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from tidecast.alerts.engine import Alerting
from tidecast.jobs.store import JobStore
from tidecast.monitor.forecast_log import ForecastLog
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.auth import Authenticator, Caller, KeyStore
from tidecast.service.challengers import Challengers
from tidecast.service.deployments import Deployments
from tidecast.service.loaded_runs import LoadedRuns
from tidecast.service.metrics import ServiceMetrics
from tidecast.service.requests import DEFAULT_LIMITS, Limits

FORECAST_THREADS = max(2, os.cpu_count() or 2)

WorkerStatus = Callable[[], list[dict[str, Any]]]


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
    monitor: Monitor
    alerts: Alerting
    forecast_log: ForecastLog | None = None
    limits: Limits = DEFAULT_LIMITS
    default_endpoint: str | None = None
    worker_status: WorkerStatus | None = None
    challengers: Challengers | None = None  # the endpoints' challengers (shadow and promote)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    runs: LoadedRuns = field(default_factory=LoadedRuns)  # what the forecast explorer reads
    # Forecasts that need a model call (or a big body) run in threads, at most this many at a
    # time: they are CPU-bound under one GIL, so more in flight only share the CPU out (all of
    # them finish late instead of most of them early) and starve the event loop.
    forecast_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(FORECAST_THREADS))


async def get_state(request: Request) -> ServiceState:
    """The app's `ServiceState`. A coroutine on purpose: FastAPI runs a plain function
    dependency in the thread pool, a round trip costing more than a cached forecast."""
    return service_state(request)


def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def requires(role: ApiKeyRole) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency admitting callers whose key has `role` (admin keys are admitted everywhere)."""

    async def dependency(request: Request) -> Caller:
        return await service_state(request).auth.admit(request, role)

    return dependency


require_admin = requires(ApiKeyRole.ADMIN)
require_forecast = requires(ApiKeyRole.FORECAST)
