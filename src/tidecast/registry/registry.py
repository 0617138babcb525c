"""The model registry: numbered versions of model folders per group, with approval states.

A version is registered from a folder written by `AutoForecaster.save`: its manifest supplies
the metrics, the data fingerprint and the task (horizon, frequency, quantiles, covariates), and
the folder is copied into the artifact store before the version row exists, so no row ever
points at a missing model. The row keeps the folder's key relative to the store (so a copied
or moved store still serves) and the digest of its manifest, which `model_path` checks on
every load: a payload swapped in the store after registration is refused, not unpickled. Version numbers are 1, 2, 3... per group; two processes registering
at once are kept apart by the (group, version) unique constraint and a retry.

Approval follows SageMaker's model registry: a new version is PendingManualApproval; it can be
Approved or Rejected, an Approved one withdrawn (Rejected) and a Rejected one re-approved.
`latest_approved` is the highest approved version number: what a deploy that names no version
takes. An endpoint serves the version it was deployed with (its row pins a version id, see
`endpoint_version`): approving a newer version does not move it, nor does rejecting the one it
serves. It moves when it is deployed again, when a challenger is promoted over it, or when
`rollback` rejects the latest approved version it serves: the previous approved version takes
over, and the endpoints that served the rejected one move to it in the same transaction, once
its model has loaded. State changes are conditional updates, so of two concurrent changes one
wins and the other gets a Conflict.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tidecast.automl.artifact import manifest_digest, read_manifest
from tidecast.registry.artifacts import ArtifactStore
from tidecast.registry.columns import utcnow
from tidecast.registry.comparison import Comparison, compare_versions
from tidecast.registry.errors import ArtifactAltered, Conflict, InvalidInput, NotFound
from tidecast.registry.rollbacks import Rollbacks
from tidecast.registry.schema import Endpoint, ModelGroup, ModelVersion
from tidecast.registry.settings import ServiceSettings
from tidecast.registry.statuses import ModelStatus

log = logging.getLogger("tidecast.registry")
GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
REGISTER_ATTEMPTS = 8
MAX_VERSION = 2**31 - 1  # versions are 32-bit INTEGER columns

# Which status each status may move to (a move to the same status is a Conflict).
TRANSITIONS: dict[ModelStatus, frozenset[ModelStatus]] = {
    ModelStatus.PENDING: frozenset({ModelStatus.APPROVED, ModelStatus.REJECTED}),
    ModelStatus.APPROVED: frozenset({ModelStatus.REJECTED}),
    ModelStatus.REJECTED: frozenset({ModelStatus.APPROVED}),
}


def validate_group_name(name: str) -> str:
    """Group names become parts of artifact keys and URLs: letters, digits, '.', '_', '-'."""
    if not isinstance(name, str) or not GROUP_NAME.match(name):
        raise InvalidInput(
            "group",
            f"{name!r} is not a valid model group name: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
        )
    return name


@dataclass(frozen=True)
class GroupSummary:
    """A model group with its version count, newest version and newest approved version."""

    name: str
    description: str
    created_at: datetime
    versions: int
    latest_version: int | None
    latest_approved: int | None


class Registry(Rollbacks):
    """Model groups and versions in the metadata database, model folders in the artifact store.

    Methods open their own short transactions and return detached ORM objects (attributes
    stay readable; `version.group.name` is loaded eagerly).
    """

    def __init__(self, session_factory: sessionmaker[Session], artifact_store: ArtifactStore) -> None:
        self.sessions = session_factory
        self.artifacts = artifact_store

    # ---- registering -----------------------------------------------------------------------
    def register(
        self,
        group: str,
        model_folder: str | Path,
        source_job_id: str | None = None,
        description: str = "",
        on_record: Callable[[Session, ModelVersion], object] | None = None,
    ) -> ModelVersion:
        """Copy a saved model folder into the store and record it as the group's next version.

        The group is created on first use. Raises ModelError when the folder is not a tidecast
        model, InvalidInput for a bad group name or job id.

        `on_record(session, version)` runs in the transaction that inserts the version, once it
        has its id: what it writes commits with the version, and when it raises, the version
        is not recorded and its copied folder is deleted (`tidecast.jobs.registration`
        completes the job that trained the model this way).
        """
        name = validate_group_name(group)
        if source_job_id is not None and not (0 < len(source_job_id) <= 32):
            raise InvalidInput("source_job_id", f"{source_job_id!r} is not a job id")
        manifest, digest = read_manifest(model_folder), manifest_digest(model_folder)
        uri = self.artifacts.put_model(
            model_folder, self.artifacts.new_key("models", name), job_id=source_job_id
        )
        try:
            return self._insert_version(
                name, manifest, self.artifacts.key_of(uri), digest, source_job_id, description, on_record
            )
        except BaseException:
            self.artifacts.delete(uri)  # the row never existed: leave no orphan artifact
            raise

    def _insert_version(
        self,
        name: str,
        manifest: dict[str, Any],
        key: str,
        digest: str,
        source_job_id: str | None,
        description: str,
        on_record: Callable[[Session, ModelVersion], object] | None = None,
    ) -> ModelVersion:
        for attempt in range(REGISTER_ATTEMPTS):
            try:
                with self.sessions.begin() as session:
                    group = self._get_or_create_group(session, name)
                    latest = session.scalar(
                        select(func.max(ModelVersion.version)).where(ModelVersion.group_id == group.id)
                    )
                    version = ModelVersion(
                        group=group,
                        version=(latest or 0) + 1,
                        source_job_id=source_job_id,
                        artifact_uri=key,
                        manifest_digest=digest,
                        metrics=dict(manifest.get("metrics") or {}),
                        data_fingerprint=str(manifest.get("data_fingerprint") or ""),
                        config=dict(manifest.get("task") or {}),
                        status=ModelStatus.PENDING,
                        description=description,
                    )
                    session.add(version)
                    session.flush()
                    if on_record is not None:
                        on_record(session, version)
                return version
            except IntegrityError:
                # Another writer took this version number (or created the group) first.
                time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise Conflict(f"could not number a new version of {name!r}: too many concurrent registrations")

    def create_group(self, group: str, description: str = "") -> ModelGroup:
        """An empty group (registering creates groups on first use); Conflict when it exists."""
        name = validate_group_name(group)
        try:
            with self.sessions.begin() as session:
                if session.scalar(select(ModelGroup.id).where(ModelGroup.name == name)) is not None:
                    raise Conflict(f"the model group {name!r} already exists")
                found = ModelGroup(name=name, description=description)
                session.add(found)
                session.flush()
                return found
        except IntegrityError:
            raise Conflict(f"the model group {name!r} already exists") from None

    @staticmethod
    def _get_or_create_group(session: Session, name: str) -> ModelGroup:
        group = session.scalar(select(ModelGroup).where(ModelGroup.name == name))
        if group is None:
            group = ModelGroup(name=name, description="")
            session.add(group)
            session.flush()
        return group

    # ---- reading ---------------------------------------------------------------------------
    def list_groups(self) -> list[GroupSummary]:
        approved_version = case((ModelVersion.status == ModelStatus.APPROVED, ModelVersion.version))
        query = (
            select(
                ModelGroup,
                func.count(ModelVersion.id),
                func.max(ModelVersion.version),
                func.max(approved_version),
            )
            .outerjoin(ModelVersion, ModelVersion.group_id == ModelGroup.id)
            .group_by(ModelGroup.id)
            .order_by(ModelGroup.name)
        )
        with self.sessions() as session:
            return [
                GroupSummary(g.name, g.description, g.created_at, count, latest, approved)
                for g, count, latest, approved in session.execute(query).all()
            ]

    def get_group(self, group: str) -> ModelGroup:
        with self.sessions() as session:
            return self._group(session, group)

    def list_versions(self, group: str, status: ModelStatus | None = None) -> list[ModelVersion]:
        """The group's versions, oldest first, optionally only those with `status`."""
        with self.sessions() as session:
            found = self._group(session, group)
            query = select(ModelVersion).where(ModelVersion.group_id == found.id)
            if status is not None:
                query = query.where(ModelVersion.status == status)
            return list(session.scalars(query.order_by(ModelVersion.version)).all())

    def get(self, group: str, version: int) -> ModelVersion:
        with self.sessions() as session:
            return self._version(session, group, version)

    def get_by_id(self, version_id: int) -> ModelVersion:
        """A version by its row id (what jobs and endpoints store)."""
        with self.sessions() as session:
            found = session.get(ModelVersion, version_id)
            if found is None:
                raise NotFound("model version id", str(version_id))
            return found

    def latest_approved(self, group: str) -> ModelVersion:
        """The highest approved version: what a deploy that names no version serves.

        Raises NotFound when the group is unknown or has no approved version."""
        with self.sessions() as session:
            approved = self._newest_approved(session, group, 1)
            if not approved:
                raise NotFound("approved model version", group, "no version of this group is approved")
            return approved[0]

    def _newest_approved(self, session: Session, group: str, count: int) -> list[ModelVersion]:
        """The group's `count` highest approved versions, newest first (NotFound: no group)."""
        found = self._group(session, group)
        return list(
            session.scalars(
                select(ModelVersion)
                .where(ModelVersion.group_id == found.id, ModelVersion.status == ModelStatus.APPROVED)
                .order_by(ModelVersion.version.desc())
                .limit(count)
            )
        )

    def model_path(self, version: ModelVersion) -> Path:
        """A local folder holding `version`'s model, ready for `AutoForecaster.load`, its
        manifest checked against the digest recorded at registration (ArtifactAltered when it
        differs; the manifest in turn vouches for the payload's digest)."""
        folder = self.artifacts.get_model(version.artifact_uri)
        found = manifest_digest(folder)
        if version.manifest_digest is None:
            self._record_digest(version, found)
        elif found != version.manifest_digest:
            raise ArtifactAltered(
                f"{version.group.name} version {version.version}: the stored model folder is not the "
                f"one registered (manifest digest {found[:12]}..., registered "
                f"{version.manifest_digest[:12]}...); it was changed in the artifact store and is not loaded"
            )
        return folder

    def artifact_url(self, version: ModelVersion) -> str:
        """Where `version`'s folder is, as a full URL of the artifact store."""
        return self.artifacts.uri_for(self.artifacts.key_of(version.artifact_uri))

    def _record_digest(self, version: ModelVersion, digest: str) -> None:
        """A version registered before digests were recorded gets the one its folder has now."""
        log.warning(
            "%s version %d has no recorded manifest digest: recording the current one",
            version.group.name,
            version.version,
        )
        with self.sessions.begin() as session:
            session.execute(
                update(ModelVersion)
                .where(ModelVersion.id == version.id, ModelVersion.manifest_digest.is_(None))
                .values(manifest_digest=digest)
                .execution_options(synchronize_session=False)
            )

    def endpoint_version(self, name: str) -> ModelVersion:
        """The version endpoint `name` serves now (NotFound for an unknown endpoint)."""
        with self.sessions() as session:
            endpoint = session.get(Endpoint, name)
            if endpoint is None:
                raise NotFound("endpoint", name)
            return endpoint.model_version

    def endpoint_model_path(self, name: str) -> Path:
        """The local model folder of the version endpoint `name` serves (for batch forecasts)."""
        return self.model_path(self.endpoint_version(name))

    # ---- approval ------------------------------------------------------------------------
    def approve(self, group: str, version: int) -> ModelVersion:
        return self._transition(group, version, ModelStatus.APPROVED)

    def reject(self, group: str, version: int) -> ModelVersion:
        return self._transition(group, version, ModelStatus.REJECTED)

    def _transition(self, group: str, version: int, new: ModelStatus) -> ModelVersion:
        with self.sessions.begin() as session:
            found = self._version(session, group, version)
            if new not in TRANSITIONS[found.status]:
                raise Conflict(
                    f"{group} version {version} is {found.status.value}: it cannot become {new.value}"
                )
            self._set_status(session, found, new)
            return found

    @staticmethod
    def _set_status(session: Session, found: ModelVersion, new: ModelStatus) -> None:
        """Change the status only if nobody changed it since we read it."""
        result = session.execute(
            update(ModelVersion)
            .where(ModelVersion.id == found.id, ModelVersion.status == found.status)
            .values(status=new, updated_at=utcnow())
            .execution_options(synchronize_session="fetch")
        )
        if getattr(result, "rowcount", 1) != 1:
            raise Conflict(
                f"{found.group.name} version {found.version} changed status concurrently; read it again"
            )

    # ---- comparing -----------------------------------------------------------------------
    def compare(self, group: str, v1: int, v2: int) -> Comparison:
        """`compare_versions` of two versions of `group`."""
        with self.sessions() as session:
            a, b = self._version(session, group, v1), self._version(session, group, v2)
        return compare_versions(group, a, b)

    # ---- lookups inside a session ----------------------------------------------------------
    @staticmethod
    def _group(session: Session, name: str) -> ModelGroup:
        found = session.scalar(select(ModelGroup).where(ModelGroup.name == name))
        if found is None:
            raise NotFound("model group", name)
        return found

    def _version(self, session: Session, group: str, version: int) -> ModelVersion:
        found_group = self._group(session, group)
        if not 0 < version <= MAX_VERSION:  # past the column's range the database raises, not misses
            raise NotFound("model version", f"{group}/{version}")
        found = session.scalar(
            select(ModelVersion).where(
                ModelVersion.group_id == found_group.id, ModelVersion.version == version
            )
        )
        if found is None:
            raise NotFound("model version", f"{group}/{version}")
        return found


@contextmanager
def open_registry(settings: ServiceSettings, migrate: bool = True) -> Iterator[Registry]:
    """A registry on the settings' database and artifact store, migrated to the newest schema
    first unless `migrate` is False (then a database behind this tidecast is an error)."""
    from tidecast.registry.db import Database

    database = Database.from_url(settings.database_url)
    try:
        if migrate:
            database.migrate()
        else:
            database.check_at_head()
        yield Registry(database.sessions, ArtifactStore(settings.artifact_url, cache_dir=settings.cache_dir))
    finally:
        database.dispose()
