"""Job kinds: batch forecasting jobs beside training jobs, with their progress and result.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

Adds to `jobs`: `kind` ("automl" or "batch"; every existing job is a training job, so the
server default "automl" fills the old rows), `progress` (a batch job's chunks done out of all)
and `result` (a batch job's counts, timings and output folder), both nullable JSON.

On SQLite `batch_alter_table` rebuilds the table (SQLite cannot add a CHECK constraint to an
existing table); on PostgreSQL it issues plain ALTER TABLE statements.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

JOB_KIND = ("automl", "batch")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                # The CHECK constraint is added by name below, not by the type, so both backends
                # get exactly one, named as schema.py's naming convention names it.
                sa.Enum(*JOB_KIND, name="job_kind", native_enum=False, create_constraint=False, length=32),
                server_default="automl",
                nullable=False,
            )
        )
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch.create_check_constraint(op.f("ck_jobs_job_kind"), "kind IN ('automl', 'batch')")


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint(op.f("ck_jobs_job_kind"), type_="check")
        batch.drop_column("result")
        batch.drop_column("progress")
        batch.drop_column("kind")
