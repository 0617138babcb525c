"""Alert rules and the channels they notify, as typed objects read from TOML or JSON.

A rule watches one signal and fires when it crosses its threshold:

* ``error_rate``: share of an endpoint's invocations answered 5xx over the window;
* ``p99_latency``: 99th percentile of an endpoint's invocation latency (seconds) over the window;
* ``accuracy``: realised error of an endpoint's serving version over its backtest score (the
  metric the version was approved on), a factor: 1.5 fires at 50 % worse than the backtest;
* ``coverage``: p10-p90 coverage of the realised forecasts outside ``band``, or further than
  ``threshold`` from the interval's nominal coverage (0.8 for p10-p90);
* ``drift``: the drift score (see `tidecast.monitor.drift`) of the endpoint's items, their
  mean or their worst (``statistic``);
* ``job_failed``: jobs that failed within the window, more than ``threshold`` (0: any).

An endpoint rule with ``action = "retrain"`` also queues a training job (its ``retrain``
body: the latest data's location, the task) when an incident fires; the version it registers
challenges the endpoint's champion under the rule's ``challenger`` policy
(`tidecast.champion`).

The traffic and job windows run back from now. The accuracy, coverage and drift windows run
back from the newest actual: actuals arrive late and in batches, and a wall-clock window would
fire or resolve on that lag instead of on the forecasts' quality.

Rules without an ``endpoint`` watch every deployed endpoint, each one its own incident.
"""

from __future__ import annotations

import enum
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tidecast.champion.policy import ChallengerPolicy
from tidecast.errors import ConfigError
from tidecast.errors import describe_validation as describe

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class RuleKind(enum.StrEnum):
    ERROR_RATE = "error_rate"
    P99_LATENCY = "p99_latency"
    ACCURACY = "accuracy"
    COVERAGE = "coverage"
    DRIFT = "drift"
    JOB_FAILED = "job_failed"


ENDPOINT_KINDS = frozenset(RuleKind) - {RuleKind.JOB_FAILED}
TRAFFIC_KINDS = frozenset({RuleKind.ERROR_RATE, RuleKind.P99_LATENCY})


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``, ``"2w"`` as a timedelta."""
    match = DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration: a positive number and a unit, s m h d or w (e.g. 15m)")
    return timedelta(seconds=float(match.group(1)) * UNIT_SECONDS[match.group(2)])


class Rule(BaseModel):
    """One alert rule; see the module docstring for what each kind measures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=NAME, description="Unique name of the rule.")]
    kind: RuleKind
    endpoint: Annotated[
        str | None, Field(default=None, max_length=128, description="Endpoint watched; none: all.")
    ] = None
    window: Annotated[str, Field(description="How far back the signal is measured: 15m, 1h, 7d...")]
    threshold: Annotated[float | None, Field(default=None, ge=0, allow_inf_nan=False)] = None
    band: Annotated[
        tuple[float, float] | None, Field(default=None, description="Coverage rules: the accepted range.")
    ] = None
    statistic: Literal["mean", "max"] = "mean"
    min_requests: Annotated[int, Field(default=1, ge=1, description="Traffic rules: fewer is no data.")] = 1
    severity: Severity = Severity.WARNING
    description: Annotated[str, Field(default="", max_length=1000)] = ""
    action: Annotated[
        Literal["notify", "retrain"],
        Field(description="retrain: also queue a training job when an incident fires (endpoint rules)."),
    ] = "notify"
    retrain: Annotated[
        dict[str, Any] | None,
        Field(description="The training job's body (as POST /v1/jobs takes it): the latest data's location."),
    ] = None
    challenger: Annotated[
        ChallengerPolicy | None, Field(description="When the retrained version replaces the champion.")
    ] = None

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="before")
    @classmethod
    def _job_default(cls, data: Any) -> Any:
        """A job rule fires on any failure unless told otherwise."""
        if (
            isinstance(data, dict)
            and data.get("kind") == RuleKind.JOB_FAILED
            and data.get("threshold") is None
        ):
            return {**data, "threshold": 0.0}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if self.kind == RuleKind.COVERAGE:
            if self.band is None and self.threshold is None:
                raise ValueError(
                    "a coverage rule needs band = [low, high] or a threshold (distance from nominal)"
                )
            if self.band is not None and self.threshold is not None:
                raise ValueError(
                    "a coverage rule takes band = [low, high] or a threshold (distance from "
                    "nominal), not both"
                )
            if self.band is not None and not 0 <= self.band[0] < self.band[1] <= 1:
                raise ValueError(f"band {list(self.band)} must be [low, high] with 0 <= low < high <= 1")
        elif self.threshold is None:
            raise ValueError(f"{self.kind.value} rules need a threshold")
        elif self.kind == RuleKind.ERROR_RATE and self.threshold >= 1:
            raise ValueError(
                f"an error_rate threshold is a share of invocations below 1 (0.05 for 5 %), "
                f"got {self.threshold:g}: the rule could never fire"
            )
        if self.endpoint is not None and self.kind not in ENDPOINT_KINDS:
            raise ValueError(f"a {self.kind.value} rule watches jobs, not an endpoint")
        if self.action == "retrain" and (self.kind not in ENDPOINT_KINDS or not self.retrain):
            raise ValueError(
                "a retrain action needs an endpoint rule and `retrain`, the training job's body "
                '(e.g. retrain = { data = "/srv/data/sales.parquet", horizon = 14 })'
            )
        return self

    @property
    def span(self) -> timedelta:
        return parse_duration(self.window)


class Webhook(BaseModel):
    """A URL that receives each notification as a JSON POST, signed with HMAC-SHA256 of
    ``secret`` (or of the environment variable ``secret_env``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: Annotated[str, Field(pattern=r"^https?://", max_length=2048)]
    secret: str = ""
    secret_env: str | None = None
    min_severity: Severity = Severity.INFO
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0

    @model_validator(mode="before")
    @classmethod
    def _secret(cls, data: Any) -> Any:
        """The secret from the environment when `secret_env` names it; one there must be."""
        if not isinstance(data, dict):
            return data
        name = data.get("secret_env")
        if name is not None:
            if not os.environ.get(str(name)):
                raise ValueError(f"secret_env names {name!r}, which is not set")
            data = {**data, "secret": os.environ[str(name)]}
        if not data.get("secret"):
            raise ValueError("a webhook needs a secret (or secret_env) to sign its notifications")
        return data


class Smtp(BaseModel):
    """E-mail over SMTP; the password from ``password_env`` when given."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 25
    sender: Annotated[str, Field(alias="from")]
    to: Annotated[list[str], Field(min_length=1)]
    username: str | None = None
    password_env: str | None = None
    starttls: bool = False
    ssl: bool = False
    min_severity: Severity = Severity.INFO
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0, le=60)] = 1.0
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


class AlertConfig(BaseModel):
    """The contents of the rules file: ``[[rules]]``, ``[[webhooks]]`` and ``[smtp]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)
    smtp: Smtp | None = None

    @model_validator(mode="after")
    def _unique(self) -> AlertConfig:
        names = [r.name for r in self.rules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"rule names must be unique, repeated: {', '.join(repeated)}")
        return self


def load_config(path: Path) -> AlertConfig:
    """Read and check the TOML rules file; every mistake is named with its place in the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"alert rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"alert rules file {path} is not valid TOML: {exc}") from None
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], source: str = "alert rules") -> AlertConfig:
    try:
        return AlertConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe(exc)}") from None
