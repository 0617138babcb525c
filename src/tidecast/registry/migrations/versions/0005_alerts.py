"""Alerts: rules added through the API, and incidents with their notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

`alert_rules` keeps each API rule's definition as JSON; `alert_incidents` one row per
incident of a rule on a subject, `open_key` unique while it fires (NULL once resolved), so a
rule and subject never have two open incidents. Written out in full, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

ALERT_STATE = ("firing", "resolved")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*ALERT_STATE, name="alert_state", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("open_key", sa.String(length=257), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("notifications", sa.JSON(), nullable=True),
        _timestamp("started_at"),
        _timestamp("last_seen_at"),
        _timestamp("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_incidents")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alert_incidents_open_key")),
    )
    op.create_index(op.f("ix_alert_incidents_rule"), "alert_incidents", ["rule"])
    op.create_index("ix_alert_incidents_started_at", "alert_incidents", ["started_at"])


def downgrade() -> None:
    op.drop_table("alert_incidents")
    op.drop_table("alert_rules")
