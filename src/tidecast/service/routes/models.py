"""``/v1/models``: the model registry's groups and versions; approve, reject, compare, roll
back. Admin keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tidecast.registry.statuses import ModelStatus
from tidecast.service.dependencies import StateDep, require_admin
from tidecast.service.render import iso, version_to_dict

router = APIRouter(prefix="/v1/models", tags=["models"], dependencies=[Depends(require_admin)])


@router.get("", summary="Model groups")
def list_groups(state: StateDep) -> dict[str, Any]:
    return {
        "groups": [
            {
                "name": g.name,
                "description": g.description,
                "created_at": iso(g.created_at),
                "versions": g.versions,
                "latest_version": g.latest_version,
                "latest_approved": g.latest_approved,
            }
            for g in state.registry.list_groups()
        ]
    }


@router.get("/{group}/versions", summary="A group's versions, oldest first")
def list_versions(
    group: str, state: StateDep, status: Annotated[ModelStatus | None, Query()] = None
) -> dict[str, Any]:
    return {
        "versions": [version_to_dict(v, state.registry) for v in state.registry.list_versions(group, status)]
    }


@router.get("/{group}/versions/{version}", summary="One version")
def get_version(group: str, version: int, state: StateDep) -> dict[str, Any]:
    return version_to_dict(state.registry.get(group, version), state.registry)


@router.post("/{group}/versions/{version}/approve", summary="Approve a version")
def approve(group: str, version: int, state: StateDep) -> dict[str, Any]:
    return version_to_dict(state.registry.approve(group, version), state.registry)


@router.post("/{group}/versions/{version}/reject", summary="Reject (or withdraw) a version")
def reject(group: str, version: int, state: StateDep) -> dict[str, Any]:
    out = version_to_dict(state.registry.reject(group, version), state.registry)
    out["still_serving"] = state.deployments.serving(out["id"])
    return out


@router.get("/{group}/compare", summary="Two versions side by side")
def compare(
    group: str,
    state: StateDep,
    a: Annotated[int, Query(ge=1, description="First version")],
    b: Annotated[int, Query(ge=1, description="Second version")],
) -> dict[str, Any]:
    return state.registry.compare(group, a, b).to_dict()


@router.post("/{group}/rollback", summary="Reject the latest approved version; redeploy its endpoints")
def rollback(
    group: str,
    state: StateDep,
    redeploy: Annotated[
        bool, Query(description="Move endpoints serving the rejected version to the previous one")
    ] = True,
    from_version: Annotated[
        int | None,
        Query(
            ge=1,
            description="The version meant to be rolled back: a 409, nothing changed, when it is no "
            "longer the latest approved one (a second click, or another operator, got there first)",
        ),
    ] = None,
) -> dict[str, Any]:
    done = state.deployments.rollback(group, redeploy, from_version)
    return {
        "rejected": version_to_dict(done.rejected, state.registry),
        "current": version_to_dict(done.current, state.registry),
        "redeployed_endpoints": list(done.endpoints),
    }
