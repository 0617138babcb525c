"""The model version a monitoring report is filtered on, named as users see it.

A report names versions as the registry does (`demo-sql v1`); its filter takes the same:
``1`` or ``v1`` is version 1 of the endpoint's group (of the version it serves now, else of the
newest one in its log), ``demo-sql:1`` or ``demo-sql v1`` version 1 of another group. The
internal row id (``model_version_id``), which the filter took before, stays available apart
(`version_id`) for the clients written against it.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sqlalchemy import Connection, text

from tidecast.registry.errors import InvalidInput, NotFound
from tidecast.registry.registry import Registry

VERSION_REF = re.compile(r"^(?:(?P<group>[A-Za-z0-9][A-Za-z0-9._-]*)(?::|\s+))?v?(?P<number>[0-9]+)$")
FORMS = "a version number of the endpoint's group (1), or group:version (demo-sql:1 or 'demo-sql v1')"


class VersionRef(NamedTuple):
    """A version as the user wrote it: its group (None: the endpoint's) and its number."""

    group: str | None
    number: int


def parse_version(value: str) -> VersionRef:
    """``1``, ``v1``, ``demo-sql:1`` or ``demo-sql v1``; InvalidInput (field ``version``) else."""
    found = VERSION_REF.match(value.strip())
    if found is None or int(found["number"]) < 1:
        raise InvalidInput("version", f"{value!r} is not a model version: give {FORMS}")
    return VersionRef(found["group"], int(found["number"]))


def filtered_version(
    registry: Registry,
    connection: Connection,
    endpoint: str,
    version: VersionRef | None = None,
    row_id: int | None = None,
) -> int | None:
    """The row id of the version `version` names (or of `row_id`, checked); None for no filter.
    NotFound names a version (or id) the registry does not have."""
    if version is not None and row_id is not None:
        raise InvalidInput("version", "give the version or its internal id (version_id), not both")
    if row_id is not None:
        return int(registry.get_by_id(row_id).id)
    if version is None:
        return None
    group = version.group or _endpoint_group(registry, connection, endpoint)
    return int(registry.get(group, version.number).id)


def _endpoint_group(registry: Registry, connection: Connection, endpoint: str) -> str:
    """The group of the version `endpoint` serves; of the newest one it logged when it serves
    none any more (deleted)."""
    try:
        return registry.endpoint_version(endpoint).group.name
    except NotFound:
        newest = connection.execute(
            text("SELECT MAX(model_version_id) FROM forecast_log WHERE endpoint = :endpoint"),
            {"endpoint": endpoint},
        ).scalar()
        if newest is None:
            raise
        return registry.get_by_id(int(newest)).group.name
