"""What the control plane's handlers share: the service, the ``aws_resources`` rows, ARNs.

tidecast's own tables hold what it already has (jobs, model groups and versions, endpoints);
``aws_resources`` holds, as JSON by kind and name, what SageMaker names and tidecast does not
(models, endpoint configurations) and the AWS view of what it does (a job's CreateAutoMLJobV2
body, an endpoint's configuration and status, a model package's metadata).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tidecast.registry.columns import utcnow
from tidecast.registry.schema import AwsResource
from tidecast.service.aws.errors import AwsError, validation
from tidecast.service.dependencies import ServiceState

# The kinds of rows in `aws_resources`.
JOB, MODEL, ENDPOINT_CONFIG, ENDPOINT, PACKAGE = (
    "automl-job",
    "model",
    "endpoint-config",
    "endpoint",
    "model-package",
)

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's EntityName


class Resources:
    """Rows of ``aws_resources``: one short transaction per call."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            row = session.get(AwsResource, (kind, name))
            return None if row is None else _spec(row)

    def add(self, kind: str, name: str, spec: dict[str, Any], exists: AwsError) -> dict[str, Any]:
        """Insert a new row; `exists` is raised when the name is taken (also by a racing call)."""
        try:
            with self._sessions.begin() as session:
                if session.get(AwsResource, (kind, name)) is not None:
                    raise exists
                now = utcnow()
                session.add(AwsResource(kind=kind, name=name, spec=spec, created_at=now, updated_at=now))
        except IntegrityError:
            raise exists from None
        return {**spec, "CreationTime": now, "LastModifiedTime": now}

    def update(self, kind: str, name: str, **changes: Any) -> None:
        with self._sessions.begin() as session:
            row = session.get(AwsResource, (kind, name))
            if row is not None:
                row.spec = {**row.spec, **changes}
                row.updated_at = utcnow()

    def delete(self, kind: str, name: str) -> bool:
        with self._sessions.begin() as session:
            row = session.get(AwsResource, (kind, name))
            if row is None:
                return False
            session.delete(row)
            return True

    def all(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(AwsResource).where(AwsResource.kind == kind).order_by(AwsResource.created_at)
            ).all()
            return [(r.name, _spec(r)) for r in rows]


def _spec(row: AwsResource) -> dict[str, Any]:
    return {**row.spec, "CreationTime": row.created_at, "LastModifiedTime": row.updated_at}


class InFlight:
    """The endpoints whose model this process is loading, counted: a load may begin before the
    one it follows has finished its bookkeeping, and must not be forgotten when that one ends."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def begin(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def end(self, name: str) -> None:
        with self._lock:
            self._counts[name] -= 1
            if self._counts[name] <= 0:
                del self._counts[name]

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return self._counts.get(name, 0) > 0  # type: ignore[call-overload]


@dataclass
class Context:
    """What every handler gets: the service's state, the AWS rows, the region and account."""

    state: ServiceState
    resources: Resources
    region: str
    account: str
    # endpoint -> (its production variant, when read): the runtime's variant header
    variants: dict[str, tuple[str, float]] = field(default_factory=dict)
    deploying: InFlight = field(default_factory=lambda: InFlight())

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{name.lower()}"


def epoch(value: datetime | None) -> float | None:
    """awsJson timestamps are seconds since the epoch."""
    return None if value is None else value.timestamp()


def text(body: dict[str, Any], name: str, *, required: bool = True, where: str = "") -> str | None:
    """A string member of a request, checked as AWS does (its message style)."""
    value = body.get(name)
    label = f"{where}.{name}" if where else name
    if value is None:
        if required:
            raise validation(
                f"1 validation error detected: Value null at '{label}' failed to satisfy constraint: "
                "Member must not be null"
            )
        return None
    if not isinstance(value, str):
        raise validation(f"1 validation error detected: Value at '{label}' must be a string")
    return value


def entity_name(body: dict[str, Any], name: str) -> str:
    value = text(body, name)
    assert value is not None
    if not NAME.match(value):
        raise validation(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {NAME.pattern.strip('^$')}"
        )
    return value
