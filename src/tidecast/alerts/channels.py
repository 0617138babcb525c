"""Where notifications go: webhooks (signed JSON POSTs), e-mail over SMTP, and the log.

Every channel gets the same `Notification` payload, once when an incident fires and once when
it resolves. Webhooks and e-mail are retried with exponential backoff (``backoff * 2**k``)
when the receiver is unreachable or answers 429 or 5xx; any other 4xx is the receiver saying
no, and is not retried. A channel's `send` never raises: it returns a `Delivery`, which the
incident keeps, so a dead receiver shows up in ``GET /v1/alerts`` instead of stopping the
other channels.

A webhook signs ``"{timestamp}." + body`` with HMAC-SHA256 of its secret, sent as
``X-Tidecast-Signature: sha256=<hex>`` beside ``X-Tidecast-Timestamp``: the receiver checks
that the body came from this service, and that an old message is not being replayed
(`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from tidecast.alerts.rules import Severity, Smtp, Webhook

log = logging.getLogger("tidecast.alerts")

SIGNATURE_HEADER = "X-Tidecast-Signature"
TIMESTAMP_HEADER = "X-Tidecast-Timestamp"
MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class Notification:
    """What every channel is told about an incident."""

    event: str  # "firing" or "resolved"
    incident_id: int
    rule: str
    kind: str
    subject: str
    severity: str
    value: float | None
    threshold: str
    message: str
    started_at: str
    resolved_at: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @property
    def title(self) -> str:
        where = f" on {self.subject}" if self.subject else ""
        return f"[tidecast] {self.event.upper()} {self.severity}: {self.rule}{where}"


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None


class Channel(Protocol):
    name: str
    min_severity: Severity

    def send(self, notification: Notification) -> Delivery: ...


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, tolerance_seconds: float = 300.0
) -> bool:
    """True when `signature` is this body's and `timestamp` is within the tolerance of now."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= tolerance_seconds
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class Refused(Exception):
    """The receiver answered and said no: retrying would not change its mind."""


def with_retries(
    attempt: Callable[[], None], retries: int, backoff: float, sleep: Callable[[float], None]
) -> tuple[int, str | None]:
    """Run `attempt` until it succeeds, is refused, or has failed `retries` + 1 times; the
    number of attempts made and the last error (None on success)."""
    error = None
    for k in range(retries + 1):
        if k:
            sleep(min(backoff * 2 ** (k - 1), MAX_BACKOFF_SECONDS))
        try:
            attempt()
            return k + 1, None
        except Refused as exc:
            return k + 1, str(exc)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    return retries + 1, error


class _Retrying:
    """A channel that retries a failed attempt with backoff, as its settings say."""

    def __init__(self, config: Webhook | Smtp, name: str, sleep: Callable[[float], None]) -> None:
        self.name = name
        self.min_severity = config.min_severity
        self.retry = (config.retries, config.backoff_seconds)
        self.sleep = sleep

    def _deliver(self, attempt: Callable[[], None]) -> Delivery:
        attempts, error = with_retries(attempt, *self.retry, self.sleep)
        return Delivery(self.name, error is None, attempts, error)


class WebhookChannel(_Retrying):
    def __init__(self, config: Webhook, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config, f"webhook {httpx.URL(config.url).copy_with(query=None)}", sleep)
        self.config = config

    def send(self, notification: Notification) -> Delivery:
        body = notification.to_json()
        config = self.config

        def attempt() -> None:
            stamp = str(int(time.time()))  # signed afresh: a retry is not a stale replay
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: sign(config.secret, stamp, body),
            }
            answer = httpx.post(config.url, content=body, headers=headers, timeout=config.timeout_seconds)
            if answer.status_code == 429 or answer.status_code >= 500:
                raise RuntimeError(f"HTTP {answer.status_code}")
            if answer.status_code >= 400:
                raise Refused(f"HTTP {answer.status_code}")

        return self._deliver(attempt)


class SmtpChannel(_Retrying):
    def __init__(self, config: Smtp, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(config, f"smtp {config.host}:{config.port}", sleep)
        self.config = config

    def message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = notification.title
        message["From"] = self.config.sender
        message["To"] = ", ".join(self.config.to)
        lines = [notification.message, ""] + [
            f"{key}: {value}" for key, value in asdict(notification).items() if key != "message"
        ]
        message.set_content("\n".join(lines))
        return message

    def send(self, notification: Notification) -> Delivery:
        config, message = self.config, self.message(notification)

        def attempt() -> None:
            kind = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
            with kind(config.host, config.port, timeout=config.timeout_seconds) as server:
                if config.starttls:
                    server.starttls()
                if config.username:
                    server.login(config.username, config.password or "")
                server.send_message(message)

        return self._deliver(attempt)


class LogChannel:
    """Always on: a firing incident is a warning in the service log, a resolved one info."""

    name = "log"
    min_severity = Severity.INFO

    def send(self, notification: Notification) -> Delivery:
        level = logging.WARNING if notification.event == "firing" else logging.INFO
        log.log(level, "%s: %s", notification.title, notification.message)
        return Delivery(self.name, True, 1)


def deliver(channels: list[Channel], notification: Notification) -> list[dict[str, Any]]:
    """Send to every channel that takes the notification's severity; the outcomes as dicts."""
    rank = Severity(notification.severity).rank
    outcomes = []
    for channel in channels:
        if rank < channel.min_severity.rank:
            continue
        delivery = channel.send(notification)
        if not delivery.ok:
            log.error("alert %s to %s failed: %s", notification.event, delivery.channel, delivery.error)
        outcomes.append({"event": notification.event, **asdict(delivery)})
    return outcomes
