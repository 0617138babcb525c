"""Models, endpoint configurations and endpoints: SageMaker's hosting calls on tidecast's endpoints.

A *model* names a registered model version: its container's ``ModelDataUrl`` is
``tidecast://models/<group>/<version>`` (what a job's best candidate's ``InferenceContainers``
give) or its ``ModelPackageName`` a model package (a registry version). An *endpoint
configuration* names one model as its only production variant (tidecast serves one model per
endpoint). An *endpoint* is a tidecast endpoint (`Deployments`), created from a configuration:
``CreateEndpoint`` answers at once with the endpoint ``Creating`` and loads the model in a
thread; ``DescribeEndpoint`` then says ``InService``, or ``Failed`` with the reason, which is
what ``aws sagemaker wait endpoint-in-service`` polls. Endpoints deployed through the native
API (``/v1/endpoints``) are listed and described too. As on SageMaker, a model's approval
status does not gate deploying it: approval belongs to model packages.

Unknown names answer ``ValidationException`` "Could not find ...", SageMaker's own answer for
these calls (the ``endpoint-deleted`` waiter waits for exactly that).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from tidecast.registry.errors import NotFound
from tidecast.registry.schema import ModelVersion
from tidecast.service.aws.deploys import IMAGE, container, settle_auto_deploy, start_deploy
from tidecast.service.aws.errors import DEFAULT_VARIANT, AwsError, validation
from tidecast.service.aws.paging import page
from tidecast.service.aws.resources import (
    ENDPOINT,
    ENDPOINT_CONFIG,
    MODEL,
    Context,
    entity_name,
    epoch,
    text,
)

log = logging.getLogger("tidecast.service")

MODEL_URL = re.compile(r"^tidecast://models/(?P<group>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<version>[0-9]+)$")
PACKAGE_ARN = re.compile(
    r"^(?:arn:aws:sagemaker:[^:]*:[0-9]*:model-package/)?(?P<group>[^/]+)/(?P<version>[0-9]+)$"
)


# Per stored kind: what SageMaker's messages call it, and its ARN's resource type.
LABELS = {
    MODEL: ("model", "model"),
    ENDPOINT_CONFIG: ("endpoint configuration", "endpoint-config"),
    ENDPOINT: ("endpoint", "endpoint"),
}


def _could_not_find(ctx: Context, kind: str, name: str) -> AwsError:
    what, arn_kind = LABELS[kind]
    return validation(f'Could not find {what} "{ctx.arn(arn_kind, name)}".')


def _stored(ctx: Context, kind: str, name: str) -> dict[str, Any]:
    """The stored spec of `name`, or SageMaker's "Could not find" for it."""
    spec = ctx.resources.get(kind, name)
    if spec is None:
        raise _could_not_find(ctx, kind, name)
    return spec


def _delete(ctx: Context, kind: str, name: str) -> dict[str, Any]:
    if not ctx.resources.delete(kind, name):
        raise _could_not_find(ctx, kind, name)
    return {}


# ---- models ----------------------------------------------------------------------------------
def resolve_version(ctx: Context, spec: dict[str, Any], where: str) -> ModelVersion:
    """The registry version a container definition names."""
    package = spec.get("ModelPackageName")
    url = spec.get("ModelDataUrl")
    match = (PACKAGE_ARN.match(package) if isinstance(package, str) else None) or (
        MODEL_URL.match(url) if isinstance(url, str) else None
    )
    if match is None:
        raise validation(
            f"{where}: tidecast serves the models of its registry: give ModelDataUrl as "
            "tidecast://models/<group>/<version> (a job's BestCandidate.InferenceContainers give it) "
            "or ModelPackageName as a model package ARN"
        )
    try:
        return ctx.state.registry.get(match["group"], int(match["version"]))
    except NotFound:
        raise validation(f"{where}: there is no model version {match['group']}/{match['version']}") from None


def create_model(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = entity_name(body, "ModelName")
    primary = body.get("PrimaryContainer") or (body.get("Containers") or [None])[0]
    if not isinstance(primary, dict):
        raise validation("1 validation error detected: PrimaryContainer (or Containers) must be given")
    version = resolve_version(ctx, primary, "PrimaryContainer")
    spec = {
        "PrimaryContainer": {**container(version), **primary},
        "ExecutionRoleArn": body.get("ExecutionRoleArn", ""),
        "VersionId": version.id,
    }
    ctx.resources.add(
        MODEL, name, spec, validation(f'Cannot create already existing model "{ctx.arn("model", name)}".')
    )
    return {"ModelArn": ctx.arn("model", name)}


def describe_model(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "ModelName") or ""
    spec = _stored(ctx, MODEL, name)
    return {
        "ModelName": name,
        "ModelArn": ctx.arn("model", name),
        "PrimaryContainer": spec["PrimaryContainer"],
        "ExecutionRoleArn": spec["ExecutionRoleArn"],
        "CreationTime": epoch(spec["CreationTime"]),
    }


def delete_model(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, MODEL, text(body, "ModelName") or "")


# ---- endpoint configurations -------------------------------------------------------------------
def create_endpoint_config(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = entity_name(body, "EndpointConfigName")
    variants = body.get("ProductionVariants")
    if not isinstance(variants, list) or not variants:
        raise validation("1 validation error detected: ProductionVariants must hold one production variant")
    if len(variants) > 1:
        raise validation(
            f"ProductionVariants: tidecast endpoints serve one model; got {len(variants)} variants"
        )
    variant = variants[0] if isinstance(variants[0], dict) else {}
    text(variant, "VariantName", where="ProductionVariants[0]")
    model = text(variant, "ModelName", where="ProductionVariants[0]") or ""
    _stored(ctx, MODEL, model)
    arn = ctx.arn("endpoint-config", name)
    exists = validation(f'Cannot create already existing endpoint configuration "{arn}".')
    ctx.resources.add(ENDPOINT_CONFIG, name, {"ProductionVariants": [variant]}, exists)
    return {"EndpointConfigArn": arn}


def describe_endpoint_config(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "EndpointConfigName") or ""
    spec = _stored(ctx, ENDPOINT_CONFIG, name)
    return {
        "EndpointConfigName": name,
        "EndpointConfigArn": ctx.arn("endpoint-config", name),
        "ProductionVariants": spec["ProductionVariants"],
        "CreationTime": epoch(spec["CreationTime"]),
    }


def delete_endpoint_config(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    return _delete(ctx, ENDPOINT_CONFIG, text(body, "EndpointConfigName") or "")


# ---- endpoints ---------------------------------------------------------------------------------
def create_endpoint(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = entity_name(body, "EndpointName")
    config = text(body, "EndpointConfigName") or ""
    version, variant = _config_version(ctx, config)
    arn = ctx.arn("endpoint", name)
    exists = validation(f'Cannot create already existing endpoint "{arn}".')
    if name in ctx.state.deployments.names():
        raise exists
    spec = {"EndpointConfigName": config, "VariantName": variant, "EndpointStatus": "Creating"}
    ctx.deploying.begin(name)  # before the row says Creating: a describe in between sees a load in flight
    try:
        ctx.resources.add(ENDPOINT, name, spec, exists)
    except AwsError:
        ctx.deploying.end(name)
        raise
    start_deploy(ctx, name, version, config, variant, begun=True)
    return {"EndpointArn": arn}


def update_endpoint(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "EndpointName") or ""
    config = text(body, "EndpointConfigName") or ""
    if ctx.resources.get(ENDPOINT, name) is None and name not in ctx.state.deployments.names():
        raise _could_not_find(ctx, ENDPOINT, name)
    version, variant = _config_version(ctx, config)
    if ctx.resources.get(ENDPOINT, name) is None:  # deployed natively: the AWS view starts now
        ctx.resources.add(ENDPOINT, name, {}, validation("endpoint changed concurrently"))
    ctx.deploying.begin(name)
    ctx.resources.update(ENDPOINT, name, EndpointStatus="Updating")
    start_deploy(ctx, name, version, config, variant, begun=True)
    return {"EndpointArn": ctx.arn("endpoint", name)}


def _config_version(ctx: Context, config: str) -> tuple[ModelVersion, str]:
    variant = _stored(ctx, ENDPOINT_CONFIG, config)["ProductionVariants"][0]
    model = _stored(ctx, MODEL, variant["ModelName"])
    return ctx.state.registry.get_by_id(model["VersionId"]), str(variant["VariantName"])


def describe_endpoint(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "EndpointName") or ""
    found = endpoint_view(ctx, name)
    if found is None:
        raise _could_not_find(ctx, ENDPOINT, name)
    return found


def endpoint_view(ctx: Context, name: str) -> dict[str, Any] | None:
    """DescribeEndpoint's answer for `name`, or None when there is no such endpoint."""
    spec = ctx.resources.get(ENDPOINT, name)
    if spec is not None and spec.get("AutoMLJob"):
        settle_auto_deploy(ctx, spec["AutoMLJob"])
        spec = ctx.resources.get(ENDPOINT, name)
    native = None
    if name in ctx.state.deployments.names():
        native = ctx.state.deployments.describe(name)
    if spec is None and native is None:
        return None
    spec = spec or {}
    if _stalled(spec) and name not in ctx.deploying:
        # Read again: the load may have ended between reading the row and asking. A load begins
        # before its row says Creating/Updating, so a row still saying so with no load in flight
        # now was left by a service that stopped during it (or by another process loading).
        spec = ctx.resources.get(ENDPOINT, name) or spec
        if _stalled(spec) and name not in ctx.deploying:
            spec = {
                **spec,
                "EndpointStatus": "InService" if native is not None else "Failed",
                "FailureReason": spec.get("FailureReason")
                or "the service restarted while the endpoint's model loaded: call UpdateEndpoint",
            }
    status = spec.get("EndpointStatus") or "InService"
    reason = spec.get("FailureReason")
    if status == "InService" and native is None:
        return None  # deleted through the native API
    if status == "InService" and native is not None and native["status"] != "InService":
        status, reason = "Failed", native.get("failure_reason", "the endpoint is not loaded")
    created = spec.get("CreationTime")
    variant = spec.get("VariantName") or DEFAULT_VARIANT
    out: dict[str, Any] = {
        "EndpointName": name,
        "EndpointArn": ctx.arn("endpoint", name),
        "EndpointConfigName": spec.get("EndpointConfigName", ""),
        "EndpointStatus": status,
        "CreationTime": epoch(created) if created else _native_time(native, "created_at"),
        "LastModifiedTime": epoch(spec.get("LastModifiedTime"))
        if created
        else _native_time(native, "updated_at"),
        "ProductionVariants": [
            {
                "VariantName": variant,
                "DeployedImages": [{"SpecifiedImage": IMAGE, "ResolvedImage": IMAGE}],
                "CurrentWeight": 1.0,
                "DesiredWeight": 1.0,
                "CurrentInstanceCount": 1,
                "DesiredInstanceCount": 1,
            }
        ],
    }
    if reason:
        out["FailureReason"] = reason
    return out


def _stalled(spec: dict[str, Any]) -> bool:
    """A row saying its model is loading (a job's endpoint waits for the job instead)."""
    return spec.get("EndpointStatus") in ("Creating", "Updating") and not spec.get("AutoMLJob")


def _native_time(native: dict[str, Any] | None, key: str) -> float | None:
    from datetime import datetime

    return None if native is None else datetime.fromisoformat(native[key]).timestamp()


def list_endpoints(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    names = {n for n, _ in ctx.resources.all(ENDPOINT)} | set(ctx.state.deployments.names())
    contains = body.get("NameContains") or ""
    views = [v for v in (endpoint_view(ctx, n) for n in sorted(names) if contains in n) if v is not None]
    status = body.get("StatusEquals")
    summaries = [
        {
            k: v[k]
            for k in ("EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime", "EndpointStatus")
        }
        for v in views
        if status is None or v["EndpointStatus"] == status
    ]
    return page(
        summaries, body, "Endpoints", sort_fields={"Name": "EndpointName", "Status": "EndpointStatus"}
    )


def delete_endpoint(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "EndpointName") or ""
    had_row = ctx.resources.delete(ENDPOINT, name)
    if name in ctx.state.deployments.names():
        ctx.state.deployments.undeploy(name)
    elif not had_row:
        raise _could_not_find(ctx, ENDPOINT, name)
    ctx.variants.pop(name, None)
    return {}


# ---- the runtime's variant header ------------------------------------------------------------------
VARIANT_SECONDS = 5.0


def variant_lookup(ctx: Context) -> Any:
    """`variant_of(endpoint)` for the runtime's ``X-Amzn-Invoked-Production-Variant``: read from
    the endpoint's row once per `VARIANT_SECONDS`, so invocations do not each query the database."""

    def variant_of(endpoint: str) -> str:
        now = time.monotonic()
        hit = ctx.variants.get(endpoint)
        if hit is not None and now - hit[1] < VARIANT_SECONDS:
            return hit[0]
        spec = ctx.resources.get(ENDPOINT, endpoint) or {}
        variant = str(spec.get("VariantName") or DEFAULT_VARIANT)
        ctx.variants[endpoint] = (variant, now)
        return variant

    return variant_of
