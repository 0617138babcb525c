"""Model packages: SageMaker's model registry calls on tidecast's registry.

A model package group is a registry group; a model package is a registry version, its ARN
``.../model-package/<group>/<version>`` and its ``ModelApprovalStatus`` the version's status
(PendingManualApproval, Approved, Rejected), so approving through ``UpdateModelPackage`` is
approving through ``/v1/models`` and the other way round. Every version is a package, however
it was registered.

``CreateModelPackage`` registers a model the registry already has (a job's version) into the
group: ``InferenceSpecification.Containers[0].ModelDataUrl`` (or ``SourceUri``) names it as
``tidecast://models/<group>/<version>``, as a job's best candidate's inference container does.
A version of the same group not yet packaged becomes the package; one of another group is
registered into this one as its next version (a copy, checked by digest like any
registration). A package without a model is refused: tidecast's versions are models.
Descriptions and metadata the registry has no column for are kept in ``aws_resources``.
"""

from __future__ import annotations

from typing import Any

from tidecast.registry.errors import Conflict, InvalidInput, NotFound
from tidecast.registry.registry import TRANSITIONS
from tidecast.registry.schema import ModelVersion
from tidecast.registry.statuses import ModelStatus
from tidecast.service.aws.deploys import container
from tidecast.service.aws.errors import AwsError, validation
from tidecast.service.aws.hosting import PACKAGE_ARN, resolve_version
from tidecast.service.aws.paging import page
from tidecast.service.aws.resources import PACKAGE, Context, epoch, text

KEPT = (
    "ModelPackageDescription",
    "CustomerMetadataProperties",
    "MetadataProperties",
    "ModelMetrics",
    "ApprovalDescription",
)


def _group_arn(ctx: Context, name: str) -> str:
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account}:model-package-group/{name}"


def package_arn(ctx: Context, version: ModelVersion) -> str:
    return (
        f"arn:aws:sagemaker:{ctx.region}:{ctx.account}:model-package/{version.group.name}/{version.version}"
    )


def create_group(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "ModelPackageGroupName") or ""
    try:
        ctx.state.registry.create_group(name, str(body.get("ModelPackageGroupDescription") or ""))
    except Conflict:
        raise validation(f"Model Package Group already exists: {_group_arn(ctx, name)}") from None
    except InvalidInput as exc:
        raise validation(f"ModelPackageGroupName: {exc.problem}") from None
    return {"ModelPackageGroupArn": _group_arn(ctx, name)}


def describe_group(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    name = text(body, "ModelPackageGroupName") or ""
    try:
        group = ctx.state.registry.get_group(name)
    except NotFound:
        raise validation(f"ModelPackageGroup {name} does not exist.") from None
    return {
        "ModelPackageGroupName": group.name,
        "ModelPackageGroupArn": _group_arn(ctx, group.name),
        "ModelPackageGroupDescription": group.description,
        "CreationTime": epoch(group.created_at),
        "ModelPackageGroupStatus": "Completed",
    }


def list_groups(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    contains = body.get("NameContains") or ""
    groups = [g for g in ctx.state.registry.list_groups() if contains in g.name]
    summaries = [
        {
            "ModelPackageGroupName": g.name,
            "ModelPackageGroupArn": _group_arn(ctx, g.name),
            "ModelPackageGroupDescription": g.description,
            "CreationTime": epoch(g.created_at),
            "ModelPackageGroupStatus": "Completed",
        }
        for g in groups
    ]
    return page(
        summaries, body, "ModelPackageGroupSummaryList", "Ascending", {"Name": "ModelPackageGroupName"}
    )


def create_package(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    group = body.get("ModelPackageGroupName")
    if not group:
        raise validation(
            "ModelPackageGroupName: tidecast keeps versioned model packages only: name the group"
        )
    registry = ctx.state.registry
    try:
        registry.get_group(group)
    except NotFound:
        raise validation(f"Model Package Group {group} does not exist.") from None
    status = _status(body.get("ModelApprovalStatus") or ModelStatus.PENDING.value)
    source = _source(ctx, body)
    adopt = source.group.name == group and ctx.resources.get(PACKAGE, _key(source)) is None
    if adopt:
        version = source
    else:
        version = registry.register(
            group,
            registry.model_path(source),
            source.source_job_id,
            str(body.get("ModelPackageDescription") or ""),
        )
    kept = {k: body[k] for k in KEPT if k in body}
    ctx.resources.add(PACKAGE, _key(version), kept, validation(f"{package_arn(ctx, version)} already exists"))
    if status is not version.status:
        _move(ctx, version, status)
    return {"ModelPackageArn": package_arn(ctx, version)}


def _source(ctx: Context, body: dict[str, Any]) -> ModelVersion:
    spec = body.get("InferenceSpecification") or {}
    containers = spec.get("Containers") if isinstance(spec, dict) else None
    if isinstance(containers, list) and containers and isinstance(containers[0], dict):
        return resolve_version(ctx, containers[0], "InferenceSpecification.Containers[0]")
    if isinstance(body.get("SourceUri"), str):
        return resolve_version(ctx, {"ModelDataUrl": body["SourceUri"]}, "SourceUri")
    raise validation(
        "InferenceSpecification: a tidecast model package is a registered model: give "
        "InferenceSpecification.Containers[0].ModelDataUrl (or SourceUri) as tidecast://models/<group>/<version>, "
        "as a job's BestCandidate.InferenceContainers give it"
    )


def _status(value: Any) -> ModelStatus:
    try:
        return ModelStatus(value)
    except ValueError:
        raise validation(
            f"ModelApprovalStatus: {value!r} is not one of {', '.join(s.value for s in ModelStatus)}"
        ) from None


def _key(version: ModelVersion) -> str:
    return f"{version.group.name}/{version.version}"


def _version(ctx: Context, name: str) -> ModelVersion:
    match = PACKAGE_ARN.match(name or "")
    if match is None:
        raise validation(f"ModelPackageName: {name!r} is not a model package ARN (or <group>/<version>)")
    try:
        return ctx.state.registry.get(match["group"], int(match["version"]))
    except NotFound:
        raise validation(f"ModelPackage {name} does not exist.") from None


def _move(ctx: Context, version: ModelVersion, status: ModelStatus) -> None:
    if status not in TRANSITIONS[version.status]:
        raise validation(
            f"ModelApprovalStatus: model package {_key(version)} is {version.status.value}; "
            f"it cannot become {status.value}"
        )
    registry = ctx.state.registry
    move = registry.approve if status is ModelStatus.APPROVED else registry.reject
    try:
        move(version.group.name, version.version)
    except Conflict as exc:
        raise AwsError("ConflictException", str(exc)) from None


def describe_package(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    version = _version(ctx, text(body, "ModelPackageName") or "")
    kept = ctx.resources.get(PACKAGE, _key(version)) or {}
    out = {
        **_summary(ctx, version, kept),
        "InferenceSpecification": {
            "Containers": [container(version)],
            "SupportedContentTypes": ["application/json", "application/jsonlines"],
            "SupportedResponseMIMETypes": ["application/json", "application/jsonlines"],
        },
        "LastModifiedTime": epoch(version.updated_at),
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "CertifyForMarketplace": False,
    }
    out.update({k: kept[k] for k in KEPT if k in kept and k != "ModelPackageDescription"})
    return out


def _summary(ctx: Context, version: ModelVersion, kept: dict[str, Any]) -> dict[str, Any]:
    return {
        "ModelPackageName": version.group.name,
        "ModelPackageGroupName": version.group.name,
        "ModelPackageVersion": version.version,
        "ModelPackageArn": package_arn(ctx, version),
        "ModelPackageDescription": kept.get("ModelPackageDescription", version.description),
        "CreationTime": epoch(version.created_at),
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": version.status.value,
    }


def list_packages(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    registry = ctx.state.registry
    group = body.get("ModelPackageGroupName")
    if group:
        try:
            versions = registry.list_versions(group)
        except NotFound:
            raise validation(f"ModelPackageGroup {group} does not exist.") from None
    else:
        versions = [v for g in registry.list_groups() for v in registry.list_versions(g.name)]
    wanted = body.get("ModelApprovalStatus")
    rows = [
        _summary(ctx, v, ctx.resources.get(PACKAGE, _key(v)) or {})
        for v in versions
        if wanted is None or v.status.value == wanted
    ]
    return page(rows, body, "ModelPackageSummaryList", "Ascending", {"Name": "ModelPackageName"})


def update_package(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    version = _version(ctx, text(body, "ModelPackageArn") or "")
    if body.get("ModelApprovalStatus"):
        status = _status(body["ModelApprovalStatus"])
        if status is not version.status:
            _move(ctx, version, status)
    changes: dict[str, Any] = {
        k: body[k] for k in ("ApprovalDescription", "CustomerMetadataProperties") if k in body
    }
    if changes:
        if ctx.resources.get(PACKAGE, _key(version)) is None:
            ctx.resources.add(
                PACKAGE, _key(version), changes, validation("model package changed concurrently")
            )
        else:
            ctx.resources.update(PACKAGE, _key(version), **changes)
    return {"ModelPackageArn": package_arn(ctx, version)}
