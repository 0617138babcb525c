"""The forecast log indexed by item, so an ingest of actuals can say which items no forecast names.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

An actual for an item that no endpoint or batch ever forecast is stored, and monitoring never
reads it: a typo in an id, or ids written another way ("1.0" for "1"), went unnoticed. The
ingest now counts such items (`monitor.actuals.unforecast_items`), one indexed lookup per item.
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_forecast_log_item_id"), "forecast_log", ["item_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_forecast_log_item_id"), table_name="forecast_log")
