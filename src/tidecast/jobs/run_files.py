"""Where a job's run lives: its folder, its copy in the artifact store, its copy at the output.

A training job writes its run (forecasts, leaderboard, report, model) to `run_folder`, makes it
reachable through the artifact store (`publish_run`), and, when the request names an output
location (SageMaker's S3OutputPath), copies it there (`copy_run`).
"""

from __future__ import annotations

from pathlib import Path

from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.settings import ServiceSettings


def run_folder(settings: ServiceSettings, job_id: str) -> Path:
    """Where a job's run outputs (forecasts, leaderboard, report, model) are written.

    In the artifact store's `jobs/ID` when that is a local folder; for a remote store the run
    is written under the local cache and uploaded by `publish_run`.
    """
    store = ArtifactStore(settings.artifact_url, settings.cache_dir)
    base = Path(store.root) if store.local else Path(settings.cache_dir)
    return base / "jobs" / job_id


def publish_run(settings: ServiceSettings, folder: Path, job_id: str) -> str:
    """The run folder's URI in the artifact store, uploading it first when the store is remote."""
    store = ArtifactStore(settings.artifact_url, settings.cache_dir)
    if store.local:
        return str(folder)
    return store.put_model(folder, f"jobs/{job_id}")


def copy_run(folder: Path, output: str, name: str) -> str:
    """Copy the run folder to `output`/`name`/ (a path or fsspec URL, as SageMaker writes to
    S3OutputPath/<AutoMLJobName>/); returns where it went."""
    import fsspec

    target = f"{output.rstrip('/')}/{name}"
    fs, path = fsspec.core.url_to_fs(target)
    fs.makedirs(path, exist_ok=True)
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = file.relative_to(folder).as_posix()
        fs.makedirs(f"{path}/{relative}".rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(file), f"{path}/{relative}")
    return target
