"""SageMaker's control plane: ``POST /`` in the ``awsJson1.1`` protocol.

boto3's ``sagemaker`` client and ``aws sagemaker ...`` send every call as ``POST /`` with
``X-Amz-Target: SageMaker.<Operation>``, ``Content-Type: application/x-amz-json-1.1`` and the
operation's input as a JSON object; the answer is the output as JSON (timestamps in epoch
seconds), an error AWS's ``{"__type", "message"}`` with ``x-amzn-ErrorType``. `OPERATIONS`
maps each supported operation to its handler (one module per resource family); anything else
is ``UnknownOperationException``. Admin keys or credentials only, checked before anything
else: a caller who is not admitted learns nothing about the operations.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

import tidecast.service.aws.automl as automl
import tidecast.service.aws.hosting as hosting
import tidecast.service.aws.packages as packages
from tidecast.errors import TidecastError
from tidecast.registry.errors import ServiceError
from tidecast.registry.statuses import ApiKeyRole
from tidecast.service.aws.errors import AMZ_JSON, AwsError, aws_response, control_code, control_error
from tidecast.service.aws.resources import Context
from tidecast.service.problems import Problem

log = logging.getLogger("tidecast.service")

TARGET_PREFIX = "SageMaker."
Handler = Callable[[Context, dict[str, Any]], dict[str, Any]]

OPERATIONS: dict[str, Handler] = {
    "CreateAutoMLJobV2": automl.create_job,
    "DescribeAutoMLJobV2": automl.describe_job,
    "ListAutoMLJobs": automl.list_jobs,
    "StopAutoMLJob": automl.stop_job,
    "ListCandidatesForAutoMLJob": automl.list_candidates,
    "CreateModel": hosting.create_model,
    "DescribeModel": hosting.describe_model,
    "DeleteModel": hosting.delete_model,
    "CreateEndpointConfig": hosting.create_endpoint_config,
    "DescribeEndpointConfig": hosting.describe_endpoint_config,
    "DeleteEndpointConfig": hosting.delete_endpoint_config,
    "CreateEndpoint": hosting.create_endpoint,
    "UpdateEndpoint": hosting.update_endpoint,
    "DescribeEndpoint": hosting.describe_endpoint,
    "ListEndpoints": hosting.list_endpoints,
    "DeleteEndpoint": hosting.delete_endpoint,
    "CreateModelPackageGroup": packages.create_group,
    "DescribeModelPackageGroup": packages.describe_group,
    "ListModelPackageGroups": packages.list_groups,
    "CreateModelPackage": packages.create_package,
    "DescribeModelPackage": packages.describe_package,
    "ListModelPackages": packages.list_packages,
    "UpdateModelPackage": packages.update_package,
}

router = APIRouter(tags=["sagemaker"])


@router.post("/", summary="SageMaker control plane (awsJson1.1: X-Amz-Target: SageMaker.<Operation>)")
async def control_plane(request: Request) -> Response:
    context: Context = request.app.state.aws
    try:
        await context.state.auth.admit(request, ApiKeyRole.ADMIN)
        handler, operation = _operation(request.headers.get("X-Amz-Target", ""))
        body = _body(await request.body())
        out = await run_in_threadpool(handler, context, body)
    except AwsError as exc:
        return aws_response(exc)
    except ServiceError as exc:  # the stores' expected failures, named as AWS names them
        return aws_response(AwsError(control_code(exc.status), str(exc)))
    except TidecastError as exc:  # a model that cannot be read or registered, bad data
        return aws_response(AwsError("ValidationException", str(exc)))
    except Problem as exc:
        return aws_response(control_error(exc))
    log.info("SageMaker.%s answered", operation)
    return Response(json.dumps(out), media_type=AMZ_JSON)


def _operation(target: str) -> tuple[Handler, str]:
    operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
    handler = OPERATIONS.get(operation)
    if handler is None:
        shown = target or "no X-Amz-Target header"
        raise AwsError(
            "UnknownOperationException",
            f"{shown}: tidecast answers SageMaker.<Operation> for {', '.join(sorted(OPERATIONS))}",
        )
    return handler, operation


def _body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise AwsError("SerializationException", f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AwsError("SerializationException", "the body must be a JSON object")
    return body
