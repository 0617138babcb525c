"""Operations: ``GET /health`` (database, workers, endpoints), ``GET /metrics`` (Prometheus)
and SageMaker's ``GET /ping``; open, no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tidecast.service.dependencies import StateDep
from tidecast.service.render import iso

router = APIRouter()


@router.get("/health", tags=["operations"], summary="Database, workers and endpoints")
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
        "started_at": iso(state.started_at),
    }
    return JSONResponse(body, status_code=200 if database_ok else 503)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
def metrics(state: StateDep) -> Response:
    payload, media = state.metrics.render()
    return Response(payload, media_type=media)


@router.get("/ping", tags=["sagemaker"], summary="SageMaker health check")
def ping(state: StateDep) -> Response:
    ok = not state.deployments.failures
    return Response(status_code=200 if ok else 503)
