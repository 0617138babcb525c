"""Initial schema: model registry, jobs, endpoints and API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written out in full (not imported from `tidecast.registry.schema`) so that this revision keeps
creating the same tables after the models change: later changes get their own revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

MODEL_STATUS = ("PendingManualApproval", "Approved", "Rejected")
JOB_STATUS = ("Queued", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
API_KEY_ROLE = ("forecast", "admin")


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "model_groups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_model_groups_name")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_job_id", sa.String(length=32), nullable=True),
        sa.Column("artifact_uri", sa.String(length=1024), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("data_fingerprint", sa.String(length=128), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("status", _enum(MODEL_STATUS, "model_status"), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["group_id"], ["model_groups.id"], name=op.f("fk_model_versions_group_id_model_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("group_id", "version", name=op.f("uq_model_versions_group_id_version")),
    )
    op.create_index(op.f("ix_model_versions_group_id"), "model_versions", ["group_id"])
    op.create_index("ix_model_versions_group_status", "model_versions", ["group_id", "status"])
    op.create_index(op.f("ix_model_versions_source_job_id"), "model_versions", ["source_job_id"])

    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("status", _enum(JOB_STATUS, "job_status"), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("candidate", sa.String(length=128), nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("leaderboard", sa.JSON(), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("worker_host", sa.String(length=255), nullable=True),
        sa.Column("stop_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("ended_at", nullable=True),
        _timestamp("heartbeat_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["model_version_id"], ["model_versions.id"], name=op.f("fk_jobs_model_version_id_model_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_name"), "jobs", ["name"])
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])

    op.create_table(
        "endpoints",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_endpoints_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_endpoints")),
    )
    op.create_index(op.f("ix_endpoints_model_version_id"), "endpoints", ["model_version_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("role", _enum(API_KEY_ROLE, "api_key_role"), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        _timestamp("created_at"),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("endpoints")
    op.drop_table("jobs")
    op.drop_table("model_versions")
    op.drop_table("model_groups")
