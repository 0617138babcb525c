"""``/v1/batch``: batch forecasts of files as jobs, followed like any job. Admin keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tidecast.jobs.batch import BatchRequest, batch_model_version, check_batch_future, parse_batch_body
from tidecast.registry.columns import new_job_id
from tidecast.registry.errors import NotFound
from tidecast.registry.statuses import JobKind
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.problems import parse_json
from tidecast.service.render import job_out

router = APIRouter(prefix="/v1/batch", tags=["batch"], dependencies=[Depends(require_admin)])


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
    await run_in_threadpool(check_batch_future, batch, version, state.settings)
    job = await run_in_threadpool(state.jobs.create_batch, batch, version.id, job_id)
    return JSONResponse(
        job_out(state.registry, job), status_code=202, headers={"Location": f"/v1/jobs/{job.id}"}
    )


@router.get("/{job_id}", summary="A batch job (the same body as GET /v1/jobs/{job_id})")
def get_batch(job_id: str, state: StateDep) -> dict[str, Any]:
    job = state.jobs.get(job_id)
    if job.kind is not JobKind.BATCH:
        raise NotFound("batch job", job_id, "it is a training job: GET /v1/jobs/{id}")
    return job_out(state.registry, job)
