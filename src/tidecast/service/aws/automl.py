"""AutoML jobs: SageMaker's CreateAutoMLJobV2 family on tidecast's job queue.

``CreateAutoMLJobV2`` checks what the API checks (the required members, the job name's
pattern and length, one ``training`` channel by ``ChannelType``, a time-series problem, a
coherent ``ModelDeployConfig``), translates the body with `parse_job_body` (the same
translation and location policy as ``POST /v1/jobs``; ``OutputDataConfig.S3OutputPath`` is
where the worker copies the run, through fsspec) and queues a job under the job's name: a
second job of that name is ``ResourceInUse``. The body is kept in ``aws_resources`` so
``DescribeAutoMLJobV2`` can echo it.

Status: Queued and InProgress jobs are ``InProgress``; the secondary status follows the
worker's stage (``AnalyzingData`` while the data is read and prepared, ``TrainingModels``
while candidates are backtested and the ensemble refit, ``GeneratingModelInsightsReport``
while the run is written). The best candidate is the leaderboard's selected model, its
``FinalAutoMLJobObjectiveMetric`` the held-out score in the job's objective metric, and its
inference container names the registered version (``tidecast://models/<group>/<version>``)
for ``CreateModel``.

``ModelDeployConfig``: the endpoint is listed as ``Creating`` from the moment the job is
created, and deployed (a model and an endpoint configuration named after the job, then the
endpoint) the first time a describe call sees the job completed: describing the job or the
endpoint, which ``aws sagemaker wait endpoint-in-service`` does.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tidecast.jobs.config import parse_job_body
from tidecast.jobs.request import JobConfigError, dotted
from tidecast.registry.errors import Conflict, NotFound
from tidecast.registry.schema import Job
from tidecast.registry.statuses import JobKind, JobStatus
from tidecast.service.aws.candidates import job_candidates, sort_candidates
from tidecast.service.aws.deploys import settle_auto_deploy
from tidecast.service.aws.errors import in_use, not_found, validation
from tidecast.service.aws.paging import page, paginate
from tidecast.service.aws.resources import (
    ENDPOINT,
    JOB,
    Context,
    epoch,
    text,
)

JOB_NAME_LENGTH = 32
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")  # the API's AutoMLJobName
STATUS = {
    JobStatus.QUEUED: "InProgress",
    JobStatus.IN_PROGRESS: "InProgress",
    JobStatus.COMPLETED: "Completed",
    JobStatus.FAILED: "Failed",
    JobStatus.STOPPING: "Stopping",
    JobStatus.STOPPED: "Stopped",
}
SECONDARY = {
    "queued": "Starting",
    "prepare": "AnalyzingData",
    "backtest": "TrainingModels",
    "ensemble": "TrainingModels",
    "refit": "TrainingModels",
    "forecast": "GeneratingModelInsightsReport",
    "write": "GeneratingModelInsightsReport",
    "output": "GeneratingModelInsightsReport",
    "register": "GeneratingModelInsightsReport",
}
JOB_SORT = {"Name": "AutoMLJobName", "Status": "AutoMLJobStatus"}  # ListAutoMLJobs' SortBy


def create_job(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = _job_name(body)
    for member in ("AutoMLJobInputDataConfig", "OutputDataConfig", "AutoMLProblemTypeConfig"):
        if not body.get(member):
            raise validation(
                f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
                "Member must not be null"
            )
    text(body, "RoleArn")
    problem = body["AutoMLProblemTypeConfig"]
    if not isinstance(problem, dict) or "TimeSeriesForecastingJobConfig" not in problem:
        raise validation(
            "AutoMLProblemTypeConfig: tidecast runs time-series forecasting jobs only: give "
            "TimeSeriesForecastingJobConfig"
        )
    endpoint = _deploy_target(name, body.get("ModelDeployConfig"))
    try:
        request = parse_job_body(body, ctx.state.settings, check_exists=True)
    except JobConfigError as exc:
        raise validation("; ".join(f"{dotted(e['loc']) or 'body'}: {e['msg']}" for e in exc.errors)) from None
    taken = in_use(f"Job name {name} is already in use: AutoML job names are unique")
    if ctx.resources.get(JOB, name) is not None:  # before the endpoint: a rerun is ResourceInUse, as on AWS
        raise taken
    if endpoint is not None and (
        endpoint in ctx.state.deployments.names() or ctx.resources.get(ENDPOINT, endpoint) is not None
    ):
        raise validation(f'Cannot create already existing endpoint "{ctx.arn("endpoint", endpoint)}".')
    try:
        job = ctx.state.jobs.create(request)
    except Conflict:
        raise taken from None
    ctx.resources.add(JOB, name, {"JobId": job.id, "Request": body, "EndpointName": endpoint}, taken)
    if endpoint is not None:
        spec = {"AutoMLJob": name, "EndpointStatus": "Creating", "EndpointConfigName": name}
        ctx.resources.add(ENDPOINT, endpoint, spec, validation(f"endpoint {endpoint} already exists"))
    return {"AutoMLJobArn": ctx.arn("automl-job", name)}


def _job_name(body: dict[str, Any]) -> str:
    name = text(body, "AutoMLJobName") or ""
    if JOB_NAME.fullmatch(name) is None:
        raise validation(
            f"1 validation error detected: Value '{name}' at 'autoMLJobName' failed to satisfy constraint: "
            f"Member must have length less than or equal to {JOB_NAME_LENGTH} and satisfy regular "
            f"expression pattern: {JOB_NAME.pattern}"
        )
    return name


def _deploy_target(job: str, config: Any) -> str | None:
    """The endpoint ModelDeployConfig asks for, checked as the API checks it."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise validation("ModelDeployConfig must be an object")
    generate = bool(config.get("AutoGenerateEndpointName", False))
    name = config.get("EndpointName")
    if generate and name:
        raise validation(
            "ModelDeployConfig: EndpointName must not be given when AutoGenerateEndpointName is true"
        )
    if not generate and not name:
        raise validation("ModelDeployConfig: give EndpointName, or set AutoGenerateEndpointName to true")
    # Job names are unique and at most 32 characters: the endpoint name is unique too (63 at most).
    return f"{job}-endpoint" if generate else str(name)


def describe_job(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "AutoMLJobName") or ""
    spec, job = _find(ctx, name)
    if spec.get("EndpointName"):
        settle_auto_deploy(ctx, name)
        spec, job = _find(ctx, name)
    request = spec["Request"]
    status = STATUS[job.status]
    out: dict[str, Any] = {
        "AutoMLJobName": name,
        "AutoMLJobArn": ctx.arn("automl-job", name),
        "AutoMLJobInputDataConfig": request.get("AutoMLJobInputDataConfig"),
        "OutputDataConfig": request.get("OutputDataConfig"),
        "RoleArn": request.get("RoleArn"),
        "AutoMLProblemTypeConfig": request.get("AutoMLProblemTypeConfig"),
        "AutoMLProblemTypeConfigName": "TimeSeriesForecasting",
        "CreationTime": epoch(job.created_at),
        "LastModifiedTime": epoch(job.ended_at or job.heartbeat_at or job.created_at),
        "AutoMLJobStatus": status,
        "AutoMLJobSecondaryStatus": _secondary(job, spec),
    }
    if request.get("AutoMLJobObjective"):
        out["AutoMLJobObjective"] = request["AutoMLJobObjective"]
    if job.ended_at is not None:
        out["EndTime"] = epoch(job.ended_at)
    if job.error:
        out["FailureReason"] = job.error
    candidates = job_candidates(ctx, job, request)
    best = next((c for c in candidates if c.pop("_selected", False)), None)
    if best is not None:
        out["BestCandidate"] = best
    if request.get("ModelDeployConfig"):
        out["ModelDeployConfig"] = request["ModelDeployConfig"]
        if spec.get("Deployed"):
            out["ModelDeployResult"] = {"EndpointName": spec["EndpointName"]}
    return {key: value for key, value in out.items() if value is not None}


def _find(ctx: Context, name: str) -> tuple[dict[str, Any], Job]:
    """The job named `name` and its AWS row; a job submitted through ``/v1/jobs`` has no
    row, and is described from tidecast's own record (without the request's AWS members)."""
    spec = ctx.resources.get(JOB, name)
    try:
        if spec is not None:
            return spec, ctx.state.jobs.get(spec["JobId"])
    except NotFound:
        pass
    found = _training_jobs(ctx, name)
    if not found:
        raise not_found(f"Could not find AutoML job with name {name}.")
    return {"JobId": found[0].id, "Request": {}}, found[0]


def _training_jobs(ctx: Context, name: str | None = None) -> list[Job]:
    """AutoML jobs, newest first (only those named `name`)."""
    query = select(Job).where(Job.kind == JobKind.AUTOML).order_by(Job.created_at.desc())
    if name is not None:
        query = query.where(Job.name == name)
    with ctx.state.database.sessions() as session:
        return list(session.scalars(query))


def _secondary(job: Job, spec: dict[str, Any]) -> str:
    if job.status is JobStatus.COMPLETED:
        if spec.get("DeployFailed"):
            return "ModelDeploymentError"
        return "DeployingModel" if spec.get("EndpointName") and not spec.get("Deployed") else "Completed"
    if job.status in (JobStatus.FAILED, JobStatus.STOPPING, JobStatus.STOPPED):
        return job.status.value
    return SECONDARY.get(job.stage or "queued", "Starting")


def list_jobs(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    contains = body.get("NameContains") or ""
    wanted = body.get("StatusEquals")
    summaries = []
    rows = dict(ctx.resources.all(JOB))
    for job in _training_jobs(ctx):
        name, spec = job.name, rows.get(job.name, {})
        if contains not in name:
            continue
        status = STATUS[job.status]
        if wanted and status != wanted:
            continue
        summary = {
            "AutoMLJobName": name,
            "AutoMLJobArn": ctx.arn("automl-job", name),
            "AutoMLJobStatus": status,
            "AutoMLJobSecondaryStatus": _secondary(job, spec),
            "CreationTime": epoch(job.created_at),
            "LastModifiedTime": epoch(job.ended_at or job.heartbeat_at or job.created_at),
        }
        if job.ended_at is not None:
            summary["EndTime"] = epoch(job.ended_at)
        if job.error:
            summary["FailureReason"] = job.error
        summaries.append(summary)
    # The API reference: "SortBy: The default is Name", "SortOrder: The default is Descending".
    return page(summaries, body, "AutoMLJobSummaries", sort_fields=JOB_SORT, by_default="Name")


ENDED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)


def stop_job(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """Stop a queued or running job; stopping one that is already stopping succeeds.

    A job that has ended is a ValidationException naming the job by its AutoMLJobName and
    status, as SageMaker answers a stop call for a job that is no longer running (its
    StopTrainingJob: "The request was rejected because the training job is in status
    Stopped."). Before, it named tidecast's internal job id and a Stopped job passed.
    """
    name = text(body, "AutoMLJobName") or ""
    spec, job = _find(ctx, name)
    if job.status not in ENDED:
        try:
            ctx.state.jobs.request_stop(spec["JobId"])
            return {}
        except Conflict:  # it ended between the two reads
            job = ctx.state.jobs.get(spec["JobId"])
    raise validation(
        f"The request was rejected because the AutoML job {name} is in status {STATUS[job.status]}: "
        "it has ended, there is nothing to stop"
    )


def list_candidates(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "AutoMLJobName") or ""
    spec, job = _find(ctx, name)
    candidates = job_candidates(ctx, job, spec["Request"])
    wanted = body.get("StatusEquals")
    if wanted:
        candidates = [c for c in candidates if c["CandidateStatus"] == wanted]
    candidates = sort_candidates(candidates, body.get("SortBy"), body.get("SortOrder"))
    for candidate in candidates:
        candidate.pop("_selected", None)
    return paginate(candidates, body, "Candidates")
