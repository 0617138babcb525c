"""``GET /v1/items/{run_or_model}``: search a run's items; ``GET /v1/items/{run_or_model}/{item_id}``:
one item's history, covariates, forecast with its quantiles and the known covariates' plan it
assumed (``future_covariates``, where the model keeps it), and backtest forecasts beside their
actuals (the dashboard's forecast explorer draws it). Admin keys, like the reports.

A run is named as the reports name it (`jobs.runs.locate_run`): a job id, ``group:version``,
an endpoint or a model group. The explorer asks for item after item of the same run, so runs
are read through the service's `LoadedRuns` cache.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from tidecast.jobs.runs import locate_run
from tidecast.registry.errors import NotFound
from tidecast.reports.explorer import DEFAULT_POINTS, item_series, search_items
from tidecast.service.dependencies import ServiceState, StateDep, require_admin
from tidecast.service.loaded_runs import LoadedRun

router = APIRouter(prefix="/v1/items", tags=["items"], dependencies=[Depends(require_admin)])


def _run(state: ServiceState, run_or_model: str) -> LoadedRun:
    found = locate_run(state.settings, state.registry, run_or_model)
    return state.runs.get(found.folder, found.label)


@router.get("/{run_or_model}", summary="Search a run's items by a piece of their id")
async def search(
    run_or_model: str,
    state: StateDep,
    q: Annotated[str, Query(max_length=200, description="Part of an item id; empty lists all")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        run = _run(state, run_or_model)
        found, total = search_items(run.items, q, limit)
        return {"source": run.inputs.name, "items": found, "total": total}

    return await run_in_threadpool(run)


@router.get(
    "/{run_or_model}/{item_id:path}",
    summary="One item: history, covariates, forecast, quantiles and plan, backtests beside actuals",
)
async def item(
    run_or_model: str,
    item_id: str,
    state: StateDep,
    points: Annotated[int, Query(ge=1, le=100_000, description="History points shown")] = DEFAULT_POINTS,
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        run = _run(state, run_or_model)
        if item_id not in run.known:
            raise NotFound("item", item_id, f"{run.inputs.name} has no history or forecast for it")
        return item_series(run.inputs, item_id, points)

    return await run_in_threadpool(run)
