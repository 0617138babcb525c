"""``POST /v1/endpoints/{name}/observations``: append new history for items; later forecasts
start from it without a refit, and the values are loaded as actuals at once. Admin keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.problems import from_validation_error, invalid, parse_json
from tidecast.service.requests import HistoryRow, check_order, request_frame


class ObservedRow(HistoryRow):
    """A new observation: unlike a forecast's history row, its target is a number, as it is
    loaded as an actual too (an actual has a value, or is not loaded)."""

    target: float = Field(allow_inf_nan=False)


class ObservationsRequest(BaseModel):
    """New rows per item (item_id, timestamp, target, the model's covariates), after each
    item's stored history; a bare JSON list of rows is accepted too."""

    model_config = ConfigDict(extra="forbid")

    rows: list[ObservedRow] = Field(min_length=1)
    date_format: str | None = Field(default=None, max_length=64, pattern="%")


router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"], dependencies=[Depends(require_admin)])


@router.post("/{name}/observations", summary="Append observations to an endpoint's history (no refit)")
async def observe(name: str, request: Request, state: StateDep) -> dict[str, Any]:
    state.deployments.serving_model(name)  # 404 or 503 before the body is read
    body = parse_json(await request.body())
    try:
        parsed = ObservationsRequest.model_validate({"rows": body} if isinstance(body, list) else body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None

    def run() -> dict[str, Any]:
        try:
            frame = request_frame(parsed.rows, "rows", parsed.date_format)
        except ValueError as exc:  # pandas refusing the format itself ("stray % in format")
            raise invalid(
                "date_format", f"{parsed.date_format!r} is not a usable strftime format: {exc}"
            ) from None
        check_order(frame, "rows")
        extended = state.deployments.observe(name, frame)
        if state.challengers is not None:  # the challenger forecasts from the same history
            state.challengers.observe(name, frame)
        actuals = frame[[ITEM_ID, TIMESTAMP, TARGET]].rename(columns={TARGET: "value"})
        loaded = state.monitor.ingest(actuals)
        return {
            "endpoint": name,
            "rows": len(frame),
            "items": int(frame[ITEM_ID].nunique()),
            "history_rows": len(extended.forecaster.history_),
            "actuals": loaded.to_dict(),
        }

    return await run_in_threadpool(run)
