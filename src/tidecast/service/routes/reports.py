"""``GET /v1/reports/{run_or_model}``: the model quality and business reports of a training job,
a model version (``group:version``), an endpoint or a model group, as HTML, JSON or a zip of CSV
tables. Admin keys, like the jobs and models they read."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from tidecast.jobs.runs import locate_run
from tidecast.reports.build import ReportOptions, reports_for_folder
from tidecast.reports.export import MEDIA_TYPES, render_bytes
from tidecast.service.dependencies import StateDep, require_admin

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[Depends(require_admin)])


@router.get("/{run_or_model}", summary="Model quality and business reports (html, json or csv zip)")
async def get_report(
    run_or_model: str,
    state: StateDep,
    request: Request,
    kind: Annotated[Literal["quality", "business", "all"], Query(description="Which report")] = "all",
    fmt: Annotated[
        Literal["html", "json", "csv"] | None,
        Query(alias="format", description="csv: a zip; without it, the Accept header's choice, else html"),
    ] = None,
    service_level: Annotated[float, Query(ge=0.5, lt=1, description="For safety stock")] = 0.95,
    lead_time: Annotated[int | None, Query(ge=1, description="Steps; default the horizon")] = None,
    top: Annotated[int, Query(ge=1, le=1000, description="Items per list")] = 10,
    items: Annotated[str | None, Query(description="Items to plot, comma-separated")] = None,
) -> Response:
    fmt = fmt or accepted_format(request.headers.get("accept", ""))
    options = ReportOptions(
        service_level=service_level,
        lead_time=lead_time,
        top=top,
        items=tuple(i.strip() for i in items.split(",") if i.strip()) if items else (),
    )

    def make() -> bytes:
        found = locate_run(state.settings, state.registry, run_or_model)
        return render_bytes(reports_for_folder(found.folder, found.label, kind, options), fmt)

    body = await run_in_threadpool(make)
    headers = {"Content-Disposition": 'attachment; filename="report.zip"'} if fmt == "csv" else None
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


def accepted_format(accept: str) -> Literal["html", "json", "csv"]:
    """The format an Accept header asks for, where no ``format`` is given: JSON for a client
    that takes JSON and not HTML (``curl -H 'Accept: application/json'``, a script), a zip for
    one that asks for it, HTML otherwise (a browser sends text/html)."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "text/html" in kinds:
        return "html"
    if "application/json" in kinds:
        return "json"
    if "application/zip" in kinds:
        return "csv"
    return "html"
