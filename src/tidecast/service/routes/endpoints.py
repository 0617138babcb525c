"""``/v1/endpoints``: deploy approved model versions to named endpoints, list, describe and
delete them. Admin keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.problems import from_validation_error, parse_json


class DeployRequest(BaseModel):
    """Deploy a model version to an endpoint: only Approved versions; default the latest one."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, description="Endpoint name.")
    group: str = Field(min_length=1, max_length=128, description="Model group.")
    version: int | None = Field(default=None, ge=1, description="Version; default the latest approved.")


router = APIRouter(prefix="/v1/endpoints", tags=["endpoints"], dependencies=[Depends(require_admin)])


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
