"""The states and kinds the service's tables store, as string enums.

Apart from the tables (`tidecast.registry.schema`) because most of their users never touch a
row: the API validates requests against them, the CLI prints them, the workers and alert
rules compare them. Each is stored as its members' values (see
`tidecast.registry.columns.string_enum`), so a value here is also what the database holds.
"""

from __future__ import annotations

import enum


class ModelStatus(enum.StrEnum):
    """A model version's approval state (SageMaker's ModelApprovalStatus values)."""

    PENDING = "PendingManualApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"


class JobStatus(enum.StrEnum):
    """A job's state (SageMaker's TrainingJobStatus values)."""

    QUEUED = "Queued"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


class JobKind(enum.StrEnum):
    """What a job does: train a model (AutoML search) or forecast a catalogue with one (batch)."""

    AUTOML = "automl"
    BATCH = "batch"


class ApiKeyRole(enum.StrEnum):
    """What a key may do: `forecast` calls the runtime API only, `admin` everything."""

    FORECAST = "forecast"
    ADMIN = "admin"


class ForecastSource(enum.StrEnum):
    """Where a logged forecast came from: an endpoint's answer, a training run, a batch job."""

    ENDPOINT = "endpoint"
    TRAINING = "training"
    BATCH = "batch"


class AlertState(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
