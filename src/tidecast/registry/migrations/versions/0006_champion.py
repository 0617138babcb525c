"""Challengers: model versions shadowing an endpoint's deployed one, with their evidence.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

One row per challenger of an endpoint (see `ChallengerRecord`): its state, the promotion
policy, the latest evaluation's evidence and decision. `open_key` (the endpoint while the
challenger is active, NULL afterwards) is unique, so an endpoint has one active challenger.
Written out in full, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "challengers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("endpoint", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("open_key", sa.String(length=128), nullable=True),
        sa.Column("champion_version_id", sa.Integer(), nullable=True),
        sa.Column("challenger_version_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=128), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("decided_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challengers")),
        sa.UniqueConstraint("open_key", name=op.f("uq_challengers_open_key")),
    )
    op.create_index(op.f("ix_challengers_endpoint"), "challengers", ["endpoint"])


def downgrade() -> None:
    op.drop_table("challengers")
