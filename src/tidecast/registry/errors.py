"""The service's expected failures, each carrying what the HTTP layer needs for a 4xx.

The store and the registry raise these instead of SQLAlchemy or file-system errors so the
API can map them without inspecting messages: `NotFound` -> 404, `Conflict` -> 409,
`InvalidInput` -> 422 (with the offending `field`), `DatabaseNotReady` -> 503. They subclass
`TidecastError`, so the CLI's one-line error handling covers them too.
"""

from __future__ import annotations

from tidecast.errors import ModelError, TidecastError


class ServiceError(TidecastError):
    """Base class of the service's expected failures."""

    status = 500
    title = "Service error"


class NotFound(ServiceError, LookupError):
    """A named thing (model group, model version, job, endpoint...) does not exist.

    `kind` says what was looked up ("model group") and `name` the name the caller gave
    ("sales/3" for a version), so a 404 can repeat both.
    """

    status = 404
    title = "Not found"

    def __init__(self, kind: str, name: str, hint: str = "") -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} does not exist" + (f": {hint}" if hint else ""))


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (approving an approved version,
    rolling back with no earlier approved version, a concurrent change that won the race)."""

    status = 409
    title = "Conflict"


class InvalidInput(ServiceError, ValueError):
    """A value the caller supplied breaks a rule (a group name with a slash...).

    `field` names the offending input so the problem details can point at it.
    """

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class DatabaseNotReady(ServiceError):
    """The database schema is missing or older than this tidecast: run the migrations."""

    status = 503
    title = "Database not ready"


class ArtifactAltered(ModelError):
    """A stored model folder's manifest is not the one registered: its files were replaced
    after registration, so nothing in it is loaded (or unpickled)."""
