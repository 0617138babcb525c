"""Find the artifacts a report reads from a name: a job, a model version or an endpoint.

A training job writes its run folder to ``jobs/<job id>`` in the artifact store (the worker's
`run_folder`) and registers the folder's model as a version; the version remembers its job.
So every name leads to a run folder when the job's is still there, and to the version's model
folder otherwise (which has no backtests: `reports.inputs` says so in the report).

Accepted names, tried in this order:

* a job id (32 hex digits) whose run folder exists;
* ``group:version`` (group names cannot hold a colon), e.g. ``sales:3``;
* an endpoint name: the version it serves now;
* a model group name: its latest approved version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tidecast.jobs.run_files import run_folder
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.errors import InvalidInput, NotFound
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.reports.run import REPORT

JOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class RunLocation:
    """Where a report's inputs are, and the name to print on it."""

    folder: Path
    label: str


def job_run_folder(settings: ServiceSettings, job_id: str) -> Path | None:
    """The run folder of job `job_id` as a local folder (fetched from a remote store), or None."""
    if not JOB_ID.match(job_id):
        return None
    local = run_folder(settings, job_id)
    if (local / REPORT).is_file():
        return local
    store = ArtifactStore(settings.artifact_url, settings.cache_dir)
    uri = store.uri_for(f"jobs/{job_id}")
    if not store.local and store.exists(uri):
        return store.get_model(uri)
    return None


def version_location(settings: ServiceSettings, registry: Registry, version: ModelVersion) -> RunLocation:
    """The run folder of the job that trained `version`, else the version's model folder."""
    label = f"{version.group.name}:{version.version}"
    if version.source_job_id:
        folder = job_run_folder(settings, version.source_job_id)
        if folder is not None:
            return RunLocation(folder, label)
    return RunLocation(registry.model_path(version), label)


def locate_run(settings: ServiceSettings, registry: Registry, name: str) -> RunLocation:
    """Resolve `name` (see the module docstring); NotFound when nothing answers to it."""
    folder = job_run_folder(settings, name)
    if folder is not None:
        return RunLocation(folder, f"job {name}")
    if ":" in name:
        group, _, number = name.partition(":")
        if not number.isdigit():
            raise InvalidInput(
                "run_or_model", f"{name!r}: write a model version as group:number, e.g. sales:3"
            )
        return version_location(settings, registry, registry.get(group, int(number)))
    try:
        return version_location(settings, registry, registry.endpoint_version(name))
    except NotFound:
        pass
    try:
        return version_location(settings, registry, registry.latest_approved(name))
    except NotFound:
        raise NotFound(
            "run, model or endpoint",
            name,
            "give a job id, group:version, an endpoint name, or a group with an approved version",
        ) from None
