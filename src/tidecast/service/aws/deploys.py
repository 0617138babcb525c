"""Deploying a model version to an endpoint in the background, for CreateEndpoint, UpdateEndpoint
and a job's ModelDeployConfig; and the inference container a version is shown as.

`start_deploy` answers at once and loads the model in a thread (`Deployments.deploy_version`);
the endpoint's row in ``aws_resources`` says how it went: ``InService``, or ``Failed`` with the
reason, which DescribeEndpoint reports and the ``endpoint-in-service`` waiter polls.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from tidecast.registry.schema import ModelVersion
from tidecast.registry.statuses import JobStatus
from tidecast.service.aws.errors import AwsError
from tidecast.service.aws.resources import ENDPOINT, ENDPOINT_CONFIG, JOB, MODEL, Context
from tidecast.service.problems import Problem

log = logging.getLogger("tidecast.service")

IMAGE = "tidecast/forecaster"


def model_url(version: ModelVersion) -> str:
    return f"tidecast://models/{version.group.name}/{version.version}"


def container(version: ModelVersion) -> dict[str, Any]:
    """The inference container of a version, as a job's candidates and model packages show it."""
    return {
        "Image": IMAGE,
        "ModelDataUrl": model_url(version),
        "Environment": {
            "TIDECAST_MODEL_GROUP": version.group.name,
            "TIDECAST_MODEL_VERSION": str(version.version),
        },
    }


def start_deploy(
    ctx: Context, name: str, version: ModelVersion, config: str, variant: str, begun: bool = False
) -> threading.Thread:
    """Load and install `version` at `name` in a thread; the endpoint row says how it went.

    The load counts as in flight (`Context.deploying`) from `ctx.deploying.begin`, which the
    caller did already when `begun` (before writing the row that says Creating or Updating).
    A failed update leaves the endpoint serving what it served, ``InService`` with the
    failure's reason, as SageMaker rolls a failed UpdateEndpoint back; a failed creation is
    ``Failed``."""
    updating = name in ctx.state.deployments.table.names()
    if not begun:
        ctx.deploying.begin(name)

    def run() -> None:
        try:
            install()
        finally:
            ctx.deploying.end(name)

    def install() -> None:
        started = time.perf_counter()
        try:
            ctx.state.deployments.deploy_version(name, version)
        except Exception as exc:  # the reason goes to DescribeEndpoint, as SageMaker's FailureReason
            reason = exc.detail if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"
            log.warning("endpoint %s could not be deployed: %s", name, reason)
            status = "InService" if updating else "Failed"
            ctx.resources.update(ENDPOINT, name, EndpointStatus=status, FailureReason=reason)
            return
        if ctx.resources.get(ENDPOINT, name) is None:  # deleted while it loaded
            ctx.state.deployments.undeploy(name)
            return
        ctx.resources.update(
            ENDPOINT,
            name,
            EndpointStatus="InService",
            EndpointConfigName=config,
            VariantName=variant,
            FailureReason=None,
        )
        ctx.variants.pop(name, None)
        log.info("endpoint %s in service after %.2fs", name, time.perf_counter() - started)

    thread = threading.Thread(target=run, name=f"deploy-{name}", daemon=True)
    thread.start()
    return thread


def settle_auto_deploy(ctx: Context, name: str) -> None:
    """Start the job's ModelDeployConfig deployment once it completed (at most once), or fail
    its endpoint when the job did not complete."""
    spec = ctx.resources.get(JOB, name)
    if spec is None or not spec.get("EndpointName") or spec.get("Deployed") or spec.get("DeployFailed"):
        return
    endpoint = spec["EndpointName"]
    job = ctx.state.jobs.get(spec["JobId"])
    if job.status in (JobStatus.FAILED, JobStatus.STOPPED):
        reason = f"the AutoML job {name} is {job.status.value}: {job.error or 'no model to deploy'}"
        ctx.resources.update(ENDPOINT, endpoint, EndpointStatus="Failed", FailureReason=reason)
        ctx.resources.update(JOB, name, DeployFailed=True)
        return
    if job.status is not JobStatus.COMPLETED or job.model_version_id is None:
        return
    version = ctx.state.registry.get_by_id(job.model_version_id)
    model = f"{name}-model"
    taken = AwsError("ValidationException", f"the model {model} already exists")
    try:  # the model row is the claim: one call deploys, a racing one finds it taken
        ctx.resources.add(
            MODEL,
            model,
            {"PrimaryContainer": container(version), "VersionId": version.id, "AutoDeployOf": name},
            taken,
        )
    except AwsError:
        held = ctx.resources.get(MODEL, model) or {}
        if held.get("AutoDeployOf") != name:  # the user's own model of that name: say so, do not wait
            reason = (
                f"a model named {model} already exists, so ModelDeployConfig could not create the job's: "
                "deploy its best candidate yourself (CreateModel, CreateEndpointConfig, CreateEndpoint)"
            )
            ctx.resources.update(ENDPOINT, endpoint, EndpointStatus="Failed", FailureReason=reason)
            ctx.resources.update(JOB, name, DeployFailed=True)
        return
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InitialVariantWeight": 1.0,
    }
    if ctx.resources.get(ENDPOINT_CONFIG, name) is None:
        ctx.resources.add(ENDPOINT_CONFIG, name, {"ProductionVariants": [variant]}, taken)
    ctx.resources.update(JOB, name, Deployed=True)
    start_deploy(ctx, endpoint, version, name, "AllTraffic")
