"""``/v1/jobs``: submit training jobs (native body or SageMaker's CreateAutoMLJobV2), list,
follow and stop jobs of every kind. Admin keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobRequest
from tidecast.jobs.sagemaker import CreateAutoMLJobV2
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.openapi import JOB_EXAMPLES, request_body
from tidecast.service.problems import parse_json
from tidecast.service.render import job_out

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], dependencies=[Depends(require_admin)])


@router.post(
    "",
    status_code=201,
    summary="Submit a training job (native body or SageMaker CreateAutoMLJobV2)",
    openapi_extra=request_body(JobRequest, CreateAutoMLJobV2, examples=JOB_EXAMPLES),
)
async def create_job(request: Request, state: StateDep) -> JSONResponse:
    body = parse_json(await request.body())
    job_request = await run_in_threadpool(lambda: parse_job_body(body, state.settings, check_exists=True))
    job = await run_in_threadpool(state.jobs.create, job_request)
    return JSONResponse(
        job_out(state.registry, job), status_code=201, headers={"Location": f"/v1/jobs/{job.id}"}
    )


@router.get("", summary="List jobs (training and batch), newest first")
def list_jobs(
    state: StateDep,
    status: Annotated[str | None, Query(description="Only jobs in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[str | None, Query(description="Only jobs of this kind: automl or batch")] = None,
) -> dict[str, Any]:
    return {
        "jobs": [job_out(state.registry, j) for j in state.jobs.list(status=status, limit=limit, kind=kind)]
    }


@router.get("/{job_id}", summary="A job: kind, status, stage, progress, error, leaderboard or result, model")
def get_job(job_id: str, state: StateDep) -> dict[str, Any]:
    return job_out(state.registry, state.jobs.get(job_id))


@router.post("/{job_id}/stop", summary="Stop a queued or running job")
def stop_job(job_id: str, state: StateDep) -> dict[str, Any]:
    return job_out(state.registry, state.jobs.request_stop(job_id))
