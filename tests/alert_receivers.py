"""What the alert tests' receivers on 127.0.0.1 record (the servers are fixtures in conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    posts: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses to answer first, then 200


@dataclass
class SmtpReceiver:
    port: int
    messages: list[dict[str, object]] = field(default_factory=list)
