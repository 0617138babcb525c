"""A minimal /v1/jobs app on a JobStore, served on a free loopback port, to drive `tidecast
jobs` end to end. The real routes are built elsewhere (`tidecast.service`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from conftest import serve_in_thread
from tidecast.jobs.config import parse_job_body
from tidecast.jobs.store import JobStore, job_to_dict
from tidecast.registry.errors import InvalidInput, ServiceError
from tidecast.service.handlers import problem_response, service_problem


@contextmanager
def served_jobs_api(store: JobStore) -> Iterator[str]:
    """The app on `store`, served by uvicorn in a thread; yields its base URL. Creating a
    job takes the API key "secret"."""
    app = FastAPI()

    @app.exception_handler(ServiceError)
    async def problem(_: Request, exc: ServiceError) -> JSONResponse:
        return problem_response(service_problem(exc))  # what the service answers

    def check(key: str | None) -> None:
        if key != "secret":
            raise InvalidInput("X-API-Key", "missing or wrong API key")

    @app.post("/v1/jobs", status_code=201)
    async def create(request: Request, x_api_key: str | None = Header(None)) -> dict[str, object]:
        check(x_api_key)
        return job_to_dict(store.create(parse_job_body(await request.json(), None)))

    @app.get("/v1/jobs")
    def list_jobs(limit: int = 100, status: str | None = None) -> dict[str, object]:
        return {"jobs": [job_to_dict(j) for j in store.list(status, limit)]}

    @app.get("/v1/jobs/{job_id}")
    def describe(job_id: str) -> dict[str, object]:
        return job_to_dict(store.get(job_id))

    @app.post("/v1/jobs/{job_id}/stop")
    def stop(job_id: str) -> dict[str, object]:
        return job_to_dict(store.request_stop(job_id))

    with serve_in_thread(app) as url:
        yield url
