"""The service's tables: model groups and versions (the registry), jobs, endpoints, API keys,
and what monitoring keeps (the forecast log, actuals and their changes).

The same declarative models serve SQLite and PostgreSQL. Two choices keep them portable (both
made in `tidecast.registry.columns`; the enums themselves are in `tidecast.registry.statuses`):

* Enums are stored as short strings with a CHECK constraint (`native_enum=False`), not as
  PostgreSQL enum types, so adding a status later is a plain constraint change and a schema
  can be dropped without dropping types.
* Timestamps go through `UTCDateTime`, which stores UTC and always hands back timezone-aware
  datetimes; SQLite would otherwise return naive ones and comparisons against
  `datetime.now(UTC)` (heartbeats, ordering) would fail on one backend only.

The migrations in `tidecast/registry/migrations` must create exactly these tables;
`tests/registry/test_store.py` compares the migrated database with this metadata. Import `Base`
from here, not from `columns`, wherever the full metadata is needed (migrations/env.py, tests):
importing this module is what declares every table on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

# Base is used below and also imported from here on purpose: see the module docstring.
from tidecast.registry.columns import (
    ITEM_LENGTH,
    NAME_LENGTH,
    URI_LENGTH,
    Base,
    RowId,
    new_job_id,
    string_enum,
    utcnow,
)
from tidecast.registry.statuses import AlertState, ApiKeyRole, ForecastSource, JobKind, JobStatus, ModelStatus


class ModelGroup(Base):
    """A named line of model versions (SageMaker's model package group)."""

    __tablename__ = "model_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="group", order_by="ModelVersion.version", lazy="select"
    )

    def __repr__(self) -> str:
        return f"ModelGroup({self.name!r})"


class ModelVersion(Base):
    """One registered model folder, numbered 1, 2, 3... within its group; immutable except
    for its status and description."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("group_id", "version"),
        Index("ix_model_versions_group_status", "group_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("model_groups.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Not a foreign key: jobs reference versions (jobs.model_version_id), a cycle would make
    # table creation and deletion order-dependent, and the CLI registers folders with no job.
    source_job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Relative to the artifact store (models/{group}/{hex}), so the store can move; rows
    # registered before migration 0003 outside the store keep their absolute URI.
    artifact_uri: Mapped[str] = mapped_column(String(URI_LENGTH))
    # SHA-256 of the folder's manifest.json at registration, checked on every load: whoever
    # can write the artifact store cannot also vouch for what they wrote. None: registered
    # before 0003; the first load records it.
    manifest_digest: Mapped[str | None] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data_fingerprint: Mapped[str] = mapped_column(String(128), default="")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ModelStatus] = mapped_column(
        string_enum(ModelStatus, "model_status"), default=ModelStatus.PENDING
    )
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Joined so a version handed out of a closed session still knows its group's name.
    group: Mapped[ModelGroup] = relationship(back_populates="versions", lazy="joined")

    @property
    def group_name(self) -> str:
        return self.group.name

    def __repr__(self) -> str:
        return f"ModelVersion({self.group.name!r}, {self.version}, {self.status.value})"


def version_label(group: str | None, version: int | None) -> str:
    """A model version as people know it: its group and number, `demo-sql v1`."""
    return f"{group} v{version}"


class Job(Base):
    """An asynchronous job (training or batch forecasting); a worker process claims it and
    heartbeats while it runs.

    `config` holds the request (a `JobRequest` or a `BatchRequest`, by `kind`). For a training
    job `model_version_id` is the version it registered; for a batch job, the version it
    forecasts with (pinned when the job is submitted).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_job_id)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    kind: Mapped[JobKind] = mapped_column(
        string_enum(JobKind, "job_kind"), default=JobKind.AUTOML, server_default=JobKind.AUTOML.value
    )
    status: Mapped[JobStatus] = mapped_column(string_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    stage: Mapped[str | None] = mapped_column(String(64))
    candidate: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # Rows of the AutoML leaderboard (a list of dicts) once the search has scored candidates.
    leaderboard: Mapped[Any] = mapped_column(JSON, nullable=True)
    # A batch job's chunks, {"chunks": N, "done": k}, while it forecasts.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A batch job's outcome: item counts, first failures, timings and the output folder.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()

    model_version: Mapped[ModelVersion | None] = relationship(lazy="select")


class Endpoint(Base):
    """A named real-time endpoint serving one model version."""

    __tablename__ = "endpoints"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    model_version: Mapped[ModelVersion] = relationship(lazy="joined")


class ApiKey(Base):
    """An API key; only its hash is stored, so the database never holds a usable key."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[ApiKeyRole] = mapped_column(string_enum(ApiKeyRole, "api_key_role"))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ForecastRecord(Base):
    """One item's forecast as it was served or produced: the forecast log monitoring reads.

    One row per item and forecast (not per step): the `steps` target timestamps are `origin`
    plus 1..steps periods of `frequency`, and `mean` (steps float64) and `quantiles` (steps x
    levels float64, row-major, levels in `quantile_levels` order) are little-endian arrays,
    so a monitoring query decodes thousands of forecasts with one `np.frombuffer` instead of
    parsing JSON row by row. The unique key keeps one row per (source, endpoint, version,
    item, origin): an endpoint answering the same stored item a million times logs it once.
    """

    __tablename__ = "forecast_log"
    __table_args__ = (
        UniqueConstraint("source", "endpoint", "model_version_id", "item_id", "origin"),
        Index("ix_forecast_log_endpoint_origin", "endpoint", "origin"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    source: Mapped[ForecastSource] = mapped_column(string_enum(ForecastSource, "forecast_source"))
    # "" for forecasts no endpoint served (training runs, batch jobs), so the unique key holds.
    endpoint: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # Not a foreign key, like `source_job_id`: the log is written in bulk off the request path.
    model_version_id: Mapped[int] = mapped_column(Integer, index=True)
    job_id: Mapped[str | None] = mapped_column(String(32))
    # Indexed: an ingest of actuals asks which of its items no forecast names.
    item_id: Mapped[str] = mapped_column(String(ITEM_LENGTH), index=True)
    origin: Mapped[datetime] = mapped_column()
    frequency: Mapped[str] = mapped_column(String(32))
    steps: Mapped[int] = mapped_column(Integer)
    quantile_levels: Mapped[str] = mapped_column(String(255))
    mean: Mapped[bytes] = mapped_column(LargeBinary)
    quantiles: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Actual(Base):
    """The observed value of an item at a timestamp: one row each, the latest value wins.

    Actuals belong to items, not to endpoints: every endpoint forecasting an item is scored
    against the same observations."""

    __tablename__ = "actuals"
    # Covering: monitoring reads every actual of a time range, straight from this index.
    __table_args__ = (Index("ix_actuals_timestamp", "timestamp", "item_id", "value"),)

    item_id: Mapped[str] = mapped_column(String(ITEM_LENGTH), primary_key=True)
    timestamp: Mapped[datetime] = mapped_column(primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    # Numeric covariates observed with the value ({"price": 2.5}), when the ingest had any:
    # drift compares them with the training data.
    covariates: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActualChange(Base):
    """An actual whose value an ingest replaced: what it was, what it became, and when."""

    __tablename__ = "actual_changes"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(String(ITEM_LENGTH), index=True)
    timestamp: Mapped[datetime] = mapped_column()
    old_value: Mapped[float] = mapped_column(Float)
    new_value: Mapped[float] = mapped_column(Float)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRuleRecord(Base):
    """An alert rule added through the API (rules from the rules file are not stored): its
    definition as the JSON of `tidecast.alerts.rules.Rule`."""

    __tablename__ = "alert_rules"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertIncident(Base):
    """One incident of a rule on one subject (an endpoint, or "" for jobs): opened when the
    rule fires, resolved when its signal returns. `open_key` is "rule/subject" while firing
    and NULL once resolved; its unique constraint keeps one open incident per rule and subject
    even when two evaluations race. `notifications` lists each delivery attempt's outcome."""

    __tablename__ = "alert_incidents"
    __table_args__ = (Index("ix_alert_incidents_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    subject: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[AlertState] = mapped_column(
        string_enum(AlertState, "alert_state"), default=AlertState.FIRING
    )
    open_key: Mapped[str | None] = mapped_column(String(2 * NAME_LENGTH + 1), unique=True)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    notifications: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class ChallengerRecord(Base):
    """A challenger of an endpoint: a model version that shadows the deployed one (the
    champion) on its requests and actuals until the evidence promotes it, or a retraining job
    an alert rule queued to make one. `state` is training, shadowing, awaiting_approval,
    promoted, failed or detached; `open_key` is the endpoint while the challenger is active
    (training, shadowing, awaiting approval) and NULL afterwards, so an endpoint never has
    two. `policy` is the promotion rule (metric, margin, window, mode), `evidence` the latest
    evaluation (both scores, counts, window), `decision` what the latest one concluded."""

    __tablename__ = "challengers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    state: Mapped[str] = mapped_column(String(32))
    open_key: Mapped[str | None] = mapped_column(String(NAME_LENGTH), unique=True)
    champion_version_id: Mapped[int | None] = mapped_column(Integer)
    challenger_version_id: Mapped[int | None] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(32))
    rule: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    decision: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column()


class AwsCredential(Base):
    """An AWS-style credential pair (access key id and secret) bound to a role, for SigV4.

    Unlike an API key, the secret is stored as issued, not hashed: SigV4 signs with an HMAC
    keyed by a key derived from the secret and the day, so verifying a signature needs the
    secret itself (AWS keeps its own secret keys recoverably for the same reason). The table is
    exactly as sensitive as the credentials it holds (see `tidecast.service.aws.credentials`).
    """

    __tablename__ = "aws_credentials"

    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    role: Mapped[ApiKeyRole] = mapped_column(string_enum(ApiKeyRole, "aws_credential_role"))
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AwsResource(Base):
    """What the SageMaker-compatible control plane keeps beside tidecast's own tables: the
    names SageMaker has and tidecast does not (models, endpoint configurations), and the AWS
    view of the objects tidecast has (a job's CreateAutoMLJobV2 body, an endpoint's
    configuration and status, a model package's metadata), as JSON by kind and name."""

    __tablename__ = "aws_resources"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(2 * NAME_LENGTH + 1), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


TABLES = (
    "model_groups",
    "model_versions",
    "jobs",
    "endpoints",
    "api_keys",
    "forecast_log",
    "actuals",
    "actual_changes",
    "alert_rules",
    "alert_incidents",
    "challengers",
    "aws_credentials",
    "aws_resources",
)
