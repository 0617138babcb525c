"""Model versions keep their folder relative to the artifact store, and their manifest digest.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Adds `model_versions.manifest_digest` (nullable: the first load of an older version records
it), and rewrites `artifact_uri` from the absolute URI of a folder to its key in the store,
``models/{group}/{hex}``, so a copied or moved store (a copied TIDECAST_HOME) still serves.
The database does not know where the store is, but every key the registry ever made has that
shape, so a URI ending in ``/models/{its group}/{32 hex digits}`` lies in the store at that
key; any other URI is left as it was (the store accepts URIs under its own root).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

KEY = re.compile(r"/(models/[A-Za-z0-9][A-Za-z0-9._-]{0,127}/[0-9a-f]{32})/?$")

versions = sa.table(
    "model_versions",
    sa.column("id", sa.Integer),
    sa.column("group_id", sa.Integer),
    sa.column("artifact_uri", sa.String),
)
groups = sa.table("model_groups", sa.column("id", sa.Integer), sa.column("name", sa.String))


def relative_key(uri: str, group: str) -> str | None:
    """The store key of an absolute `uri` of `group`'s folder, or None when it has no such key."""
    found = KEY.search(uri)
    if found is None or found.group(1).split("/")[1] != group:
        return None
    return found.group(1)


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("manifest_digest", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(versions.c.id, versions.c.artifact_uri, groups.c.name).join(
            groups, groups.c.id == versions.c.group_id
        )
    ).all()
    for row_id, uri, group in rows:
        key = relative_key(uri, group)
        if key is not None and key != uri:
            connection.execute(versions.update().where(versions.c.id == row_id).values(artifact_uri=key))


def downgrade() -> None:
    """Drops the digests; keys stay relative (the store still reads them)."""
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("manifest_digest")
