"""``GET /v1/monitoring/{endpoint}``: realised accuracy of what an endpoint served, beside the
backtest its versions were approved on, and the drift of its items. Admin keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from tidecast.monitor.versions import parse_version
from tidecast.service.dependencies import StateDep, require_admin

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"], dependencies=[Depends(require_admin)])


@router.get("/{endpoint}", summary="Accuracy against actuals and drift of an endpoint")
async def monitoring(
    endpoint: str,
    state: StateDep,
    version: Annotated[
        str | None,
        Query(
            description="Only this model version, as the registry names it: a version number of the "
            "endpoint's group (`1`), or `group:version` (`demo-sql:1`) for another group's.",
        ),
    ] = None,
    version_id: Annotated[
        int | None,
        Query(ge=1, description="Only this model version, by its internal id (`model_version_id`)."),
    ] = None,
    since: Annotated[datetime | None, Query(description="Forecasts made from this origin on.")] = None,
    until: Annotated[datetime | None, Query(description="Forecasts made up to this origin.")] = None,
    period: Annotated[str, Query(pattern=r"^(D|W|M|Q|Y|h)$", description="Bucket of `over_time`.")] = "W",
    items: Annotated[int, Query(ge=0, le=100_000, description="Worst items listed (0: all).")] = 20,
    recent: Annotated[int, Query(ge=1, le=10_000, description="Recent actuals per item for drift.")] = 28,
) -> dict[str, Any]:
    return await run_in_threadpool(
        lambda: state.monitor.report(
            endpoint,
            version=None if version is None else parse_version(version),
            version_id=version_id,
            since=since,
            until=until,
            period=period,
            worst_items=items,
            recent=recent,
        )
    )
