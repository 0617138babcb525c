"""How the stores' rows appear in the API's answers: timestamps, model versions, jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tidecast.jobs.store import job_to_dict
from tidecast.registry.errors import NotFound
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Job, ModelVersion


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def version_to_dict(version: ModelVersion, registry: Registry) -> dict[str, Any]:
    """A version as the API shows it; `artifact_uri` is the full URL of its folder in the store
    (the row keeps it relative to the store)."""
    return {
        "group": version.group.name,
        "version": version.version,
        "id": version.id,
        "status": version.status.value,
        "artifact_uri": registry.artifact_url(version),
        "source_job_id": version.source_job_id,
        "data_fingerprint": version.data_fingerprint,
        "description": version.description,
        "metrics": version.metrics,
        "config": version.config,
        "created_at": iso(version.created_at),
        "updated_at": iso(version.updated_at),
    }


def job_out(registry: Registry, job: Job) -> dict[str, Any]:
    """A job as the API shows it: its row, and the model version it made (training) or used (batch)."""
    out = job_to_dict(job)
    out["model_version"] = None
    if job.model_version_id is not None:
        try:
            version = registry.get_by_id(job.model_version_id)
            out["model_version"] = {"group": version.group.name, "version": version.version}
        except NotFound:
            pass
    return out
