"""The incident state machine on the database: one open incident per rule and subject, a
resolve that happens once, and a receiver that is down does not earn a second notification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_receivers import WebhookReceiver
from tidecast.alerts.engine import Alerting
from tidecast.alerts.incidents import IncidentStore
from tidecast.alerts.rules import AlertConfig, Rule
from tidecast.alerts.signals import Signal, Sources
from tidecast.alerts.traffic import TrafficHistory
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.schema import Job
from tidecast.registry.statuses import JobStatus

RULE = Rule.model_validate({"name": "jobs", "kind": "job_failed", "window": "1h", "severity": "critical"})
NOW = datetime(2024, 2, 1, tzinfo=UTC)
BREACHED = Signal(2.0, True, "2 failed jobs")
BACK = Signal(0.0, False, "0 failed jobs")


def test_when_two_evaluations_race_then_only_one_incident_opens_and_it_resolves_once(
    database: Database,
) -> None:
    store = IncidentStore(database.sessions)
    first = store.fire(RULE, "", BREACHED, NOW)
    assert first is not None and store.fire(RULE, "", BREACHED, NOW) is None  # the unique open_key
    assert store.resolve(first.id, BACK, NOW + timedelta(minutes=5)) is not None
    assert store.resolve(first.id, BACK, NOW + timedelta(minutes=6)) is None
    again = store.fire(RULE, "", BREACHED, NOW + timedelta(hours=1))  # a new breach, a new incident
    assert again is not None and again.id != first.id
    states = [(i["id"], i["state"]) for i in store.history()]
    assert states == [(again.id, "firing"), (first.id, "resolved")]


def test_when_the_webhook_is_down_then_the_failure_is_kept_and_not_resent(
    database: Database, registry: Registry, webhook: WebhookReceiver
) -> None:
    webhook.answers = [503] * 10
    config = AlertConfig.model_validate(
        {
            "rules": [RULE.model_dump()],
            "webhooks": [{"url": webhook.url, "secret": "k", "retries": 1, "backoff_seconds": 0}],
        }
    )
    alerting = Alerting(
        Sources(Monitor(registry), TrafficHistory()), IncidentStore(database.sessions), config
    )
    with database.transaction() as session:
        session.add(Job(name="nightly", status=JobStatus.FAILED, error="boom", ended_at=datetime.now(UTC)))
    (fired,) = alerting.evaluate()
    assert alerting.evaluate() == []  # still failing: the open incident is not announced again
    assert len(webhook.posts) == 2  # one notification, tried twice
    (incident,) = alerting.store.history()
    delivered = {
        n["channel"].split()[0]: (n["ok"], n["attempts"], n["error"]) for n in incident["notifications"]
    }
    assert delivered == {"log": (True, 1, None), "webhook": (False, 2, "RuntimeError: HTTP 503")}
    assert incident["id"] == fired["incident_id"] and incident["details"]["failed"] == 1
