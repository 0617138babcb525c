"""Monitoring: the forecast log, actuals and the log of changed actuals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

`forecast_log` keeps one row per item and forecast served or produced (arrays as float64
bytes, see `ForecastRecord`); `actuals` one row per (item, timestamp), the latest value;
`actual_changes` each replaced value. Written out in full, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

FORECAST_SOURCE = ("endpoint", "training", "batch")
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "forecast_log",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                *FORECAST_SOURCE, name="forecast_source", native_enum=False, create_constraint=True, length=32
            ),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(length=128), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("item_id", sa.String(length=256), nullable=False),
        _timestamp("origin"),
        sa.Column("frequency", sa.String(length=32), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("quantile_levels", sa.String(length=255), nullable=False),
        sa.Column("mean", sa.LargeBinary(), nullable=False),
        sa.Column("quantiles", sa.LargeBinary(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_log")),
        sa.UniqueConstraint(
            "source",
            "endpoint",
            "model_version_id",
            "item_id",
            "origin",
            name=op.f("uq_forecast_log_source_endpoint_model_version_id_item_id_origin"),
        ),
    )
    op.create_index("ix_forecast_log_endpoint_origin", "forecast_log", ["endpoint", "origin"])
    op.create_index(op.f("ix_forecast_log_model_version_id"), "forecast_log", ["model_version_id"])

    op.create_table(
        "actuals",
        sa.Column("item_id", sa.String(length=256), nullable=False),
        _timestamp("timestamp"),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("covariates", sa.JSON(), nullable=True),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("item_id", "timestamp", name=op.f("pk_actuals")),
    )
    op.create_index("ix_actuals_timestamp", "actuals", ["timestamp", "item_id", "value"])

    op.create_table(
        "actual_changes",
        sa.Column("id", ROW_ID, autoincrement=True, nullable=False),
        sa.Column("item_id", sa.String(length=256), nullable=False),
        _timestamp("timestamp"),
        sa.Column("old_value", sa.Float(), nullable=False),
        sa.Column("new_value", sa.Float(), nullable=False),
        _timestamp("changed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actual_changes")),
    )
    op.create_index(op.f("ix_actual_changes_item_id"), "actual_changes", ["item_id"])


def downgrade() -> None:
    op.drop_table("actual_changes")
    op.drop_table("actuals")
    op.drop_table("forecast_log")
