"""``/v1/alerts``: incident history, the rules (from the rules file and added here), and one
evaluation on demand. Admin keys.

The service evaluates the rules on its own every ``alert_interval_seconds``;
``POST /v1/alerts/evaluate`` runs one evaluation now (after loading actuals, or in a test).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from tidecast.alerts.rules import Rule
from tidecast.registry.statuses import AlertState
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.problems import from_validation_error, parse_json

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], dependencies=[Depends(require_admin)])


@router.get("", summary="Alert incidents, newest first, firing and resolved")
async def incidents(
    state: StateDep,
    status: Annotated[AlertState | None, Query(description="Only firing or only resolved ones.")] = None,
    rule: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    found = await run_in_threadpool(state.alerts.store.history, status, rule, limit)
    return {"incidents": found}


@router.get(
    "/rules",
    summary="Every alert rule, with where it comes from (file or api) and what its last evaluation "
    "found per subject (`last`: ok, breached, no data or error, with the value and message)",
)
async def rules(state: StateDep) -> dict[str, Any]:
    found = await run_in_threadpool(state.alerts.rules)
    outcomes = state.alerts.outcomes
    return {
        "rules": [
            {**r.model_dump(mode="json"), "source": source, "last": outcomes.get(r.name, [])}
            for r, source in found
        ]
    }


@router.post(
    "/rules",
    summary="Add or replace an alert rule",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": Rule.model_json_schema()}},
        }
    },
)
async def add_rule(request: Request, response: Response, state: StateDep) -> dict[str, Any]:
    try:
        rule = Rule.model_validate(parse_json(await request.body()))
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    created = await run_in_threadpool(state.alerts.add_rule, rule)
    response.status_code = 201 if created else 200
    return {**rule.model_dump(mode="json"), "source": "api"}


@router.delete("/rules/{name}", status_code=204, summary="Remove an alert rule added through the API")
async def delete_rule(name: str, state: StateDep) -> Response:
    await run_in_threadpool(state.alerts.store.delete_rule, name)
    return Response(status_code=204)


@router.post("/evaluate", summary="Evaluate every rule now; the incidents that fired or resolved")
async def evaluate(state: StateDep) -> dict[str, Any]:
    return {"events": await run_in_threadpool(state.alerts.evaluate)}
