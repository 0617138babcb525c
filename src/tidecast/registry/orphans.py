"""Model folders in the artifact store that no version row references, swept when a worker starts.

`Registry.register` copies a model folder into the store, then inserts its version row in one
transaction with the job's end (`jobs.registration`). A worker killed between the copy and the
commit (SIGKILL, the OOM killer, a lost host) leaves the folder complete in the store with no
row pointing at it, and a kill during the copy leaves a hidden staging folder; nothing removed
either, so every such crash kept a model's worth of storage forever.

Renaming the folder into place after the commit would trade that for worse: a kill after the
commit would leave a version whose folder is missing. So the folders are swept instead, by
`sweep_orphan_folders`, which each worker runs as it starts (a killed worker's replacement
among them). A folder is removed only when all of these hold:

* it lies where `register` writes, two levels below ``models/`` (``models/{group}/{hex}``), or is
  a staging leftover beside those;
* no row of `model_versions` references it, read before the folders are listed;
* nothing under it was written for `grace_seconds` (an hour by default): a registration in
  progress, whose row is not committed yet, wrote its files moments ago. A folder whose time
  cannot be read is kept;
* it is this registry's: a complete folder (its completion marker written) is removed only when
  the marker names the job that registered it and this database holds that job. A store shared
  by two registries (staging and production on one bucket), or a database restored from a
  backup older than the store, holds complete folders that no row of *this* database references
  and that are nobody's garbage; a model registered from the command line (no job) is kept
  too. An incomplete folder (a staging leftover, or a remote copy cut before its marker) can be
  loaded by no registry, and goes once it is past the grace period.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tidecast.registry.artifacts import MARKER, STAGING_PREFIX, ArtifactStore
from tidecast.registry.errors import InvalidInput
from tidecast.registry.schema import Job, ModelVersion

log = logging.getLogger(__name__)

MODELS = "models"
ORPHAN_GRACE_SECONDS = 3600.0


def sweep_orphan_folders(
    sessions: sessionmaker[Session], store: ArtifactStore, grace_seconds: float = ORPHAN_GRACE_SECONDS
) -> list[str]:
    """Remove the model folders of `store` that no version references and that nobody wrote
    for `grace_seconds`; their paths in the store, relative to its root."""
    with sessions() as session:
        uris = session.scalars(select(ModelVersion.artifact_uri)).all()
    referenced = {key for key in (_store_key(store, uri) for uri in uris) if key is not None}
    now = time.time()
    removed = []
    for key in _model_folders(store):
        if key in referenced:
            continue
        path = f"{store.root.rstrip('/')}/{key}"
        written = _last_written(store, path)
        if written is None or now - written < grace_seconds or not _ours(sessions, store, path):
            continue
        try:
            store.fs.rm(path, recursive=True)
        except OSError as exc:  # another worker's sweep got there first, or the store refused
            log.warning("could not remove the unreferenced model folder %s: %s", key, exc)
            continue
        removed.append(key)
    return removed


def sweep_at_start(sessions: sessionmaker[Session], store: ArtifactStore) -> None:
    """`sweep_orphan_folders` as a worker starts, each folder removed logged; a failure is
    logged too, never a reason for the worker not to work."""
    try:
        removed = sweep_orphan_folders(sessions, store)
    except Exception as exc:
        log.warning("could not sweep the artifact store for unregistered model folders: %s", exc)
        return
    for key in removed:
        log.warning("removed the model folder %s: no model version references it", key)


def _ours(sessions: sessionmaker[Session], store: ArtifactStore, path: str) -> bool:
    """Whether the folder at `path` may be this registry's to sweep: incomplete (no marker),
    or complete with a marker naming a job this database holds."""
    marker = f"{path}/{MARKER}"
    if not store.fs.exists(marker):
        return True
    try:
        job_id = json.loads(store.fs.cat_file(marker)).get("job")
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(job_id, str):
        return False
    with sessions() as session:
        return session.get(Job, job_id) is not None


def _store_key(store: ArtifactStore, uri: str) -> str | None:
    """A version's folder as a key of `store`: its key, a URI under the store, or a path under
    its root (as rows registered before keys were relative hold them); None when outside."""
    try:
        return store.key_of(uri)
    except InvalidInput:
        root = store.root.rstrip("/") + "/"
        return uri[len(root) :].rstrip("/") if uri.startswith(root) else None


def _model_folders(store: ArtifactStore) -> list[str]:
    """The folders where `register` writes (``models/{group}/{name}``), staging ones included."""
    base = f"{store.root.rstrip('/')}/{MODELS}"
    if not store.fs.isdir(base):
        return []
    folders = []
    for group in store.fs.ls(base, detail=False):
        if not store.fs.isdir(group):
            continue
        for entry in store.fs.ls(group, detail=False):
            name = entry.rstrip("/").rsplit("/", 1)[-1]
            group_name = group.rstrip("/").rsplit("/", 1)[-1]
            if store.fs.isdir(entry) and (not name.startswith(".") or name.startswith(STAGING_PREFIX)):
                folders.append(f"{MODELS}/{group_name}/{name}")
    return folders


def _last_written(store: ArtifactStore, path: str) -> float | None:
    """When anything under `path` (the folder too) was last written, as a POSIX time; None
    when the store gives no time for any of it."""
    entries = store.fs.find(path, withdirs=True, detail=True)
    times = [_modified(info) for info in [store.fs.info(path), *entries.values()]]
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _modified(info: dict[str, Any]) -> float | None:
    value = info.get("mtime") or info.get("LastModified") or info.get("created")
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if isinstance(value, int | float) else None
