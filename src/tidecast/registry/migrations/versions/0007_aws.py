"""The SageMaker-compatible surface: SigV4 credentials and the AWS names kept beside tidecast's.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`aws_credentials` holds the access key pairs tidecast issues (the secret as issued: SigV4
verification needs it); `aws_resources` the control plane's objects as JSON by kind and name
(models, endpoint configurations, and the AWS view of jobs, endpoints and model packages).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

ROLES = ("forecast", "admin")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "aws_credentials",
        sa.Column("access_key_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "role",
            sa.Enum(*ROLES, name="aws_credential_role", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("secret", sa.String(length=128), nullable=False),
        _timestamp("created_at"),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("access_key_id", name=op.f("pk_aws_credentials")),
    )
    op.create_index(op.f("ix_aws_credentials_name"), "aws_credentials", ["name"])
    op.create_table(
        "aws_resources",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=257), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("kind", "name", name=op.f("pk_aws_resources")),
    )


def downgrade() -> None:
    op.drop_table("aws_resources")
    op.drop_table("aws_credentials")
