"""The orphan sweep removes only what is its own registry's garbage (`registry.orphans`): a
complete folder goes only when its marker names a job this database holds; a folder another
registry wrote on a shared store, or one registered with no job, stays however old it is; an
incomplete one (a staging leftover) goes once past the grace period."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tidecast.registry.artifacts import STAGING_PREFIX, ArtifactStore
from tidecast.registry.orphans import ORPHAN_GRACE_SECONDS, sweep_orphan_folders
from tidecast.registry.schema import Job
from tidecast.registry.statuses import JobKind, JobStatus

OTHER_REGISTRYS_JOB = "f" * 32


def aged(root: Path) -> None:
    hours_ago = time.time() - 2 * ORPHAN_GRACE_SECONDS
    for path in [root, *root.rglob("*")]:
        os.utime(path, (hours_ago, hours_ago))


def test_when_folders_are_unreferenced_then_only_this_registrys_jobs_and_leftovers_are_swept(
    database, artifact_store: ArtifactStore, model_folder: Path, tmp_path: Path
) -> None:
    with database.sessions.begin() as session:
        job = Job(kind=JobKind.AUTOML, name="ours", status=JobStatus.IN_PROGRESS)
        session.add(job)
        session.flush()
        ours = job.id
    put = artifact_store.put_model
    mine = put(model_folder, artifact_store.new_key("models", "demo"), job_id=ours)
    theirs = put(model_folder, artifact_store.new_key("models", "demo"), job_id=OTHER_REGISTRYS_JOB)
    by_hand = put(model_folder, artifact_store.new_key("models", "demo"))
    leftover = tmp_path / "artifacts" / "models" / "demo" / f"{STAGING_PREFIX}cut"
    leftover.mkdir()
    (leftover / "manifest.json").write_text("{}")
    aged(tmp_path / "artifacts" / "models")

    removed = sweep_orphan_folders(database.sessions, artifact_store)

    assert sorted(removed) == sorted([artifact_store.key_of(mine), f"models/demo/{STAGING_PREFIX}cut"])
    assert artifact_store.exists(theirs) and artifact_store.exists(by_hand)
    assert not artifact_store.exists(mine) and not leftover.exists()
