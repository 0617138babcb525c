"""Champion and challenger of an endpoint (admin keys): ``POST /v1/endpoints/{name}/challenger``
attaches a model version as the challenger with its promotion policy, ``GET`` shows it with
the latest evidence and decision, ``POST .../challenger/evaluate`` scores it now,
``DELETE`` detaches it, and ``POST /v1/endpoints/{name}/promote`` approves a challenger
that awaits approval. See `tidecast.service.challengers`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tidecast.champion.policy import ChallengerPolicy
from tidecast.service.challengers import Challengers
from tidecast.service.dependencies import ServiceState, StateDep, require_admin
from tidecast.service.problems import Problem, from_validation_error, parse_json


class AttachRequest(ChallengerPolicy):
    """A model version to challenge the endpoint's champion, and the policy that promotes it."""

    group: str | None = Field(
        default=None, min_length=1, max_length=128, description="Default: the champion's."
    )
    version: int = Field(ge=1, description="The challenger's version number in its group.")


router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"], dependencies=[Depends(require_admin)])


def _challengers(state: ServiceState) -> Challengers:
    if state.challengers is None:
        raise Problem(503, "Challengers unavailable", "this service runs no challengers")
    return state.challengers


@router.post(
    "/{name}/challenger",
    status_code=201,
    summary="Attach a challenger: a model version shadowing the endpoint, promoted by a policy",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AttachRequest.model_json_schema()}},
        }
    },
)
async def attach(name: str, request: Request, state: StateDep) -> JSONResponse:
    try:
        body = AttachRequest.model_validate(parse_json(await request.body()))
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    policy = ChallengerPolicy(**body.model_dump(exclude={"group", "version"}))
    out = await run_in_threadpool(_challengers(state).attach, name, body.group, body.version, policy)
    return JSONResponse(out, status_code=201)


@router.get("/{name}/challenger", summary="The endpoint's challenger, its evidence and decision")
def show(name: str, state: StateDep) -> dict[str, Any]:
    return _challengers(state).describe(name)


@router.post("/{name}/challenger/evaluate", summary="Score the challenger against the champion now")
def evaluate(name: str, state: StateDep) -> dict[str, Any]:
    return _challengers(state).evaluate_now(name)


@router.delete("/{name}/challenger", summary="Detach the endpoint's active challenger")
def detach(name: str, state: StateDep) -> dict[str, Any]:
    return _challengers(state).detach(name)


@router.post("/{name}/promote", summary="Approve the challenger awaiting approval: it becomes the champion")
def promote(name: str, state: StateDep) -> dict[str, Any]:
    return _challengers(state).promote(name)
