"""`tidecast jobs ...`: submit, inspect and stop the jobs of a running `tidecast serve`.

The commands talk to the HTTP API only (``/v1/jobs``, ``/v1/batch``), never to the database,
so they work against a remote service exactly as against a local one. The body of `create` is
either the native training request or SageMaker's `CreateAutoMLJobV2` JSON; `batch` submits a
batch forecast built from its options and, with ``--wait``, follows it to its end. The API key
comes from ``--api-key`` or ``TIDECAST_API_KEY`` and travels in the ``X-API-Key`` header.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tidecast.cli.common import LiveProgress
from tidecast.cli.service_api import DEFAULT_URL, JsonOpt, KeyOpt, UrlOpt
from tidecast.cli.service_api import request as _request
from tidecast.cli.tables import fitted_table

jobs_app = typer.Typer(
    name="jobs",
    help="Submit, inspect and stop the training and batch jobs of a tidecast service.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()

QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print only the job id (for scripts: ID=$(tidecast jobs create -q ...))"
    ),
]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Follow the job to its end; exit 1 unless Completed")]
PollOpt = Annotated[float, typer.Option("--poll", min=0.1, help="Seconds between status checks")]
ENDED = ("Completed", "Failed", "Stopped")
# `jobs list`'s columns by their keys in --json, the id first, then the most telling.
JOB_COLUMNS = ("id", "status", "created_at", "name", "kind", "stage", "error")
JOB_HEADERS = {"created_at": "created (UTC)"}


def _load_body(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text())
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot read {path}: {exc.strerror or exc}", highlight=False)
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        err.print(f"[bold red]error:[/] {path} is not JSON: {exc}", highlight=False)
        raise typer.Exit(2) from None
    if not isinstance(body, dict):
        err.print(f"[bold red]error:[/] {path} must hold a JSON object", highlight=False)
        raise typer.Exit(2)
    return body


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def _summary_table(job: dict[str, Any]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_header=False, pad_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    shown = dict(job)
    if isinstance(job.get("progress"), dict):
        shown["progress"] = f"{job['progress'].get('done')}/{job['progress'].get('chunks')} chunks"
    if isinstance(job.get("model_version"), dict):
        shown["model_version"] = f"{job['model_version'].get('group')}/{job['model_version'].get('version')}"
    elif job.get("model_version_id") is not None:
        shown["model_version"] = f"id {job['model_version_id']}"
    for key in (
        "id",
        "name",
        "kind",
        "status",
        "stage",
        "progress",
        "candidate",
        "error",
        "model_version",
        "created_at",
        "started_at",
        "ended_at",
        "heartbeat_at",
    ):
        value = shown.get(key)
        if value not in (None, ""):
            table.add_row(key, str(value))
    return table


def _result_table(result: dict[str, Any]) -> Table:
    """A batch job's outcome: counts, the first failures, time and where the forecasts are."""
    table = Table(title="Batch result", box=box.SIMPLE_HEAD, show_header=False, pad_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    timings = result.get("timings") or {}
    rows = {
        "items": f"{result.get('items_forecast')} of {result.get('items_in')} forecast, "
        f"{result.get('items_failed')} failed",
        "chunks": f"{result.get('chunks')} ({result.get('chunks_resumed')} resumed)",
        "seconds": timings.get("total_seconds"),
        "forecasts": result.get("forecasts"),
        "failures": result.get("failures_file") if result.get("items_failed") else None,
    }
    for failure in (result.get("failures") or [])[:3]:
        rows[f"failed {failure.get('item_id')}"] = failure.get("reason")
    for key, value in rows.items():
        if value not in (None, ""):
            table.add_row(key, str(value))
    return table


def _leaderboard_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Leaderboard (lower is better)", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("model", "score", "weight", "fit s", "error"):
        table.add_column(name, justify="left" if name in ("model", "error") else "right")
    for row in rows:
        score = row.get("score")
        table.add_row(
            f"{row.get('model', '')}{' *' if row.get('selected') else ''}",
            "–" if score is None else f"{float(score):.4f}",
            f"{float(row.get('weight') or 0):.2f}",
            f"{float(row.get('fit_seconds') or 0):.1f}",
            str(row.get("error") or ""),
        )
    return table


@jobs_app.command("create")
def create(
    body: Annotated[
        Path, typer.Argument(help="Job body: native request or SageMaker CreateAutoMLJobV2 JSON")
    ],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    wait: WaitOpt = False,
    poll: PollOpt = 2.0,
) -> None:
    """Queue a training job; prints a line with its id and status (--quiet: the id alone, --json: the job).

    With --wait, follows it to its end and prints its summary and leaderboard; exit 1 unless Completed."""
    job = _request("POST", url, "/v1/jobs", api_key, body=_load_body(body))
    if wait:
        job = _follow(url, api_key, str(job.get("id")), poll, show=not (as_json or quiet))
    if as_json:
        _print_json(job)
    elif quiet:
        typer.echo(str(job.get("id")))
    elif not wait:
        out.print(
            f"queued job [bold]{job.get('id')}[/] ({job.get('name')}): {job.get('status')}", highlight=False
        )
    else:
        out.print(_summary_table(job))
        if job.get("leaderboard"):
            out.print(_leaderboard_table(job["leaderboard"]))
    if wait and job.get("status") != "Completed":
        raise typer.Exit(1)


@jobs_app.command("describe")
def describe(
    job_id: Annotated[str, typer.Argument(help="Job id")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a job: status, stage, candidate, failure reason, leaderboard once scored."""
    job = _request("GET", url, f"/v1/jobs/{job_id}", api_key)
    if as_json:
        _print_json(job)
        return
    out.print(_summary_table(job))
    if job.get("leaderboard"):
        out.print(_leaderboard_table(job["leaderboard"]))
    if job.get("result"):
        out.print(_result_table(job["result"]))


@jobs_app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option("--status", help="Only jobs of this status")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only jobs of this kind: automl or batch")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="At most this many, newest first")
    ] = 50,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if kind:
        params["kind"] = kind
    payload = _request("GET", url, "/v1/jobs", api_key, params=params)
    jobs = payload.get("jobs", []) if isinstance(payload, dict) else payload
    if as_json:
        _print_json(jobs)
        return
    out.print(_jobs_table(jobs))


def _jobs_table(jobs: list[dict[str, Any]]) -> Table:
    """The jobs, a row each, the id always whole on its line (it is what `tidecast jobs
    describe` takes), then the other columns, most telling first, as the width leaves room
    for. Folding every column split each id over three lines at 80 columns. A name that is
    the id (the default) is left blank, and the time of creation is given to the minute."""
    cells = [
        {key: str(job.get(key) or "") for key in JOB_COLUMNS}
        | {"created_at": _minute(job.get("created_at"))}
        | ({"name": ""} if job.get("name") == job.get("id") else {})
        for job in jobs
    ]
    return fitted_table(out, "", cells, ("id",), JOB_COLUMNS[1:], headers=JOB_HEADERS, left=JOB_COLUMNS)


def _minute(timestamp: str | None) -> str:
    """An ISO 8601 UTC timestamp to the minute: 2024-01-31 09:05."""
    return (timestamp or "")[:16].replace("T", " ")


@jobs_app.command("stop")
def stop(
    job_id: Annotated[str, typer.Argument(help="Job id")],
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop a job: a queued one at once, a running one at its next progress step."""
    job = _request("POST", url, f"/v1/jobs/{job_id}/stop", api_key)
    if as_json:
        _print_json(job)
        return
    out.print(f"job [bold]{job.get('id')}[/]: {job.get('status')}", highlight=False)


@jobs_app.command("batch")
def batch(
    input_path: Annotated[
        str | None,
        typer.Option("--input", help="CSV/Parquet file, folder or glob (below the service's data root)"),
    ] = None,
    sql: Annotated[
        str | None,
        typer.Option(
            "--sql", help="A DuckDB query as the input (files by absolute path below the data root)"
        ),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Forecast with the model this endpoint serves")
    ] = None,
    model_group: Annotated[
        str | None, typer.Option("--model-group", help="Forecast with a version of this model group")
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="The group's version; default latest approved")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", help="Output folder on the service; default {home}/batch/{job id}"),
    ] = None,
    future: Annotated[
        str | None, typer.Option("--future", help="Known covariates over the horizon (file, folder or glob)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    chunk_rows: Annotated[
        int | None, typer.Option("--chunk-rows", help="Input rows per chunk (whole series)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes on the service (default all cores)")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Job name (default the job id)")] = None,
    wait: WaitOpt = False,
    poll: PollOpt = 2.0,
    url: UrlOpt = DEFAULT_URL,
    api_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a batch forecast of a catalogue on the service; prints its id (with --wait, its result)."""
    body = {
        "name": name,
        "endpoint": endpoint,
        "model_group": model_group,
        "version": version,
        "input": input_path,
        "sql": sql,
        "future": future,
        "output": output,
        "format": fmt,
        "chunk_rows": chunk_rows,
        "workers": workers,
    }
    job = _request("POST", url, "/v1/batch", api_key, body={k: v for k, v in body.items() if v is not None})
    if wait:
        job = _follow(url, api_key, str(job.get("id")), poll, show=not as_json)
    if as_json:
        _print_json(job)
    elif not wait:
        out.print(f"queued batch job [bold]{job.get('id')}[/]: {job.get('status')}", highlight=False)
    else:
        out.print(_summary_table(job))
        if job.get("result"):
            out.print(_result_table(job["result"]))
    if wait and job.get("status") != "Completed":
        raise typer.Exit(1)


def _follow(url: str, api_key: str | None, job_id: str, poll: float, show: bool = True) -> dict[str, Any]:
    """Poll the job until it ends, showing on stderr its stage and a batch's chunks done or a
    training job's candidate; the ended job."""
    view = Progress(
        TextColumn("[bold cyan]{task.fields[stage]:<9}"),
        BarColumn(bar_width=30),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
    )
    with LiveProgress(view):
        task = view.add_task("", total=None, stage="queued", detail="")
        while True:
            job: dict[str, Any] = _request("GET", url, f"/v1/jobs/{job_id}", api_key)
            chunks = job.get("progress") or {}
            done = chunks.get("done") or 0
            view.update(
                task,
                stage=str(job.get("stage") or job.get("status")),
                total=chunks.get("chunks"),
                completed=done,
                detail=f"{done}/{chunks['chunks']} chunks"
                if chunks.get("chunks")
                else job.get("candidate") or "",
            )
            if job.get("status") in ENDED:
                return job
            time.sleep(poll)
