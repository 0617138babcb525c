"""One evaluation of every rule, and the thread that runs it on a schedule inside the service.

`Alerting.evaluate` samples the service's traffic, measures each rule on each of its subjects
and moves the incidents: breached with none open -> fire and notify; breached and open ->
update; back to normal and open -> resolve and notify; no data -> nothing. A rule that fails
to evaluate (a model folder gone, a database hiccup) is logged and skipped; the others run.

Rules come from the rules file (read once, at start) and from the API (read from the
database at every evaluation, so every service process sees the same ones).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session, sessionmaker

from tidecast.alerts.channels import Channel, LogChannel, Notification, SmtpChannel, WebhookChannel, deliver
from tidecast.alerts.incidents import IncidentStore, incident_dict
from tidecast.alerts.prometheus import SignalCollector
from tidecast.alerts.rules import TRAFFIC_KINDS, AlertConfig, Rule, load_config
from tidecast.alerts.signals import Sources, measure, subjects
from tidecast.alerts.traffic import TrafficHistory, sample_traffic
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.errors import Conflict
from tidecast.registry.schema import AlertIncident

log = logging.getLogger("tidecast.alerts")


def service_alerting(
    monitor: Monitor, sessions: sessionmaker[Session], rules_file: Path | None, metrics: CollectorRegistry
) -> Alerting:
    """The service's alerting: the rules file's rules and channels (checked now, so a mistake
    stops the start), incidents in the service's database, traffic from its metrics."""
    config = load_config(rules_file) if rules_file is not None else AlertConfig()
    return Alerting(Sources(monitor, TrafficHistory()), IncidentStore(sessions), config, metrics=metrics)


def channels_of(config: AlertConfig) -> list[Channel]:
    """The log, always, then the configured webhooks and e-mail."""
    found: list[Channel] = [LogChannel()]
    found += [WebhookChannel(w) for w in config.webhooks]
    if config.smtp is not None:
        found.append(SmtpChannel(config.smtp))
    return found


class Alerting:
    def __init__(
        self,
        sources: Sources,
        store: IncidentStore,
        config: AlertConfig | None = None,
        channels: list[Channel] | None = None,
        metrics: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sources = sources
        self.store = store
        self.config = config or AlertConfig()
        self.channels = channels if channels is not None else channels_of(self.config)
        self.metrics = metrics
        self.clock = clock
        # What a rule's `action` does beyond notifying, by action name: called with the rule
        # and the subject when an incident fires (the service registers "retrain").
        self.actions: dict[str, Callable[[Rule, str], dict[str, Any]]] = {}
        self.last: dict[tuple[str, str], tuple[float, bool]] = {}  # (rule, subject) -> value, breached
        # What the last evaluation found per rule and subject, "no data" included (shown with
        # the rules, so a rule whose signal has no data says so instead of staying silent).
        self.outcomes: dict[str, list[dict[str, Any]]] = {}
        if metrics is not None:
            metrics.register(SignalCollector(lambda: self.last))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- rules ---------------------------------------------------------------------------------
    def rules(self) -> list[tuple[Rule, str]]:
        """Every rule with where it comes from, "file" or "api"."""
        from_file = [(r, "file") for r in self.config.rules]
        names = {r.name for r in self.config.rules}
        return from_file + [(r, "api") for r in self.store.api_rules() if r.name not in names]

    def add_rule(self, rule: Rule) -> bool:
        """Add or replace an API rule (True when new); a rule of the file cannot be replaced."""
        if any(r.name == rule.name for r in self.config.rules):
            raise Conflict(f"rule {rule.name!r} comes from the rules file: change it there")
        return self.store.save_rule(rule, self.clock())

    # ---- evaluation ----------------------------------------------------------------------------
    def evaluate(self) -> list[dict[str, Any]]:
        """Evaluate every rule once; the incidents that fired or resolved."""
        with self._lock:
            now = self.clock()
            rules = [rule for rule, _source in self.rules()]
            self._sample(rules)
            events: list[dict[str, Any]] = []
            measured: dict[tuple[str, str], tuple[float, bool]] = {}
            outcomes: dict[str, list[dict[str, Any]]] = {}
            for rule in rules:
                found = outcomes.setdefault(rule.name, [])
                for subject in self._subjects(rule):
                    event = self._evaluate_one(rule, subject, now, measured, found)
                    if event is not None:
                        events.append(event)
            self.last = measured
            self.outcomes = outcomes
            return events

    def _sample(self, rules: list[Rule]) -> None:
        if self.metrics is None:
            return
        spans = [r.span.total_seconds() for r in rules if r.kind in TRAFFIC_KINDS]
        self.sources.traffic.record(time.monotonic(), sample_traffic(self.metrics), max(spans, default=0.0))

    def _subjects(self, rule: Rule) -> list[str]:
        try:
            return subjects(rule, self.sources)
        except Exception:
            log.exception("alert rule %s: could not list what it watches", rule.name)
            return []

    def _evaluate_one(
        self,
        rule: Rule,
        subject: str,
        now: datetime,
        measured: dict[tuple[str, str], tuple[float, bool]],
        outcomes: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        outcome = {"subject": subject, "evaluated_at": now.isoformat(), "value": None}
        try:
            signal = measure(rule, subject, self.sources, now)
        except Exception as exc:
            log.exception("alert rule %s on %r could not be evaluated", rule.name, subject)
            outcomes.append({**outcome, "state": "error", "message": f"{type(exc).__name__}: {exc}"})
            return None
        if signal.breached is None or signal.value is None:
            outcomes.append({**outcome, "state": "no data", "message": signal.message})
            return None
        state = "breached" if signal.breached else "ok"
        outcomes.append({**outcome, "state": state, "value": signal.value, "message": signal.message})
        measured[(rule.name, subject)] = (signal.value, signal.breached)
        incident = self.store.open_incident(rule.name, subject)
        if signal.breached and incident is None:
            event = self._announce("firing", self.store.fire(rule, subject, signal, now), now)
            if event is not None:
                self._act(rule, subject, event)
            return event
        if signal.breached and incident is not None:
            self.store.touch(incident.id, signal, now)
        elif incident is not None:
            return self._announce("resolved", self.store.resolve(incident.id, signal, now), now)
        return None

    def _act(self, rule: Rule, subject: str, event: dict[str, Any]) -> None:
        """Run the rule's action for a new incident; its outcome joins the event."""
        action = self.actions.get(rule.action)
        if action is None:
            return
        try:
            event["action"] = {"name": rule.action, **action(rule, subject)}
        except Exception as exc:
            log.exception("alert rule %s: action %s on %r failed", rule.name, rule.action, subject)
            event["action"] = {"name": rule.action, "error": f"{type(exc).__name__}: {exc}"}

    def _announce(self, event: str, incident: AlertIncident | None, now: datetime) -> dict[str, Any] | None:
        if incident is None:  # another evaluation got there first, and notifies
            return None
        notification = notification_of(event, incident)
        self.store.record(incident.id, deliver(self.channels, notification), self.clock())
        return {
            "event": event,
            "incident_id": incident.id,
            "rule": incident.rule,
            "subject": incident.subject,
        }

    # ---- schedule ------------------------------------------------------------------------------
    def start(self, interval_seconds: float) -> None:
        """Evaluate every `interval_seconds` in a daemon thread, the first one an interval
        after start (the service has loaded its endpoints and seen some traffic by then)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(interval_seconds,), name="tidecast-alerts", daemon=True
        )
        self._thread.start()

    def _loop(self, interval_seconds: float) -> None:
        while not self._stop.wait(interval_seconds):
            try:
                self.evaluate()
            except Exception:
                log.exception("alert evaluation failed; the next one runs in %.0f s", interval_seconds)

    def close(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def notification_of(event: str, incident: AlertIncident) -> Notification:
    """What the channels are told: the incident as ``GET /v1/alerts`` shows it, and the event."""
    record = incident_dict(incident)
    shared = {f.name for f in fields(Notification)} & set(record)
    return Notification(event=event, incident_id=incident.id, **{k: record[k] for k in shared})
