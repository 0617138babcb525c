"""Incidents and API rules in the service's database.

An incident is the life of one breach of one rule on one subject: opened (firing) the first
time the rule's signal breaches, kept (its value and `last_seen_at` updated) while it stays
breached, resolved the first time the signal is back. Each transition is committed before
anyone is told, so one incident makes exactly one firing and one resolved notification, even
when the receiver is down or two evaluations race (the unique `open_key` lets one of them win).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tidecast.alerts.rules import Rule, RuleKind
from tidecast.alerts.signals import Signal
from tidecast.registry.errors import InvalidInput, NotFound
from tidecast.registry.schema import AlertIncident, AlertRuleRecord
from tidecast.registry.statuses import AlertState

MAX_HISTORY = 1000


def open_key(rule: str, subject: str) -> str:
    return f"{rule}/{subject}"


def threshold_text(rule: Rule) -> str:
    """The breach condition as people read it: "> 1.5", "outside [0.7, 0.9]"..."""
    if rule.band is not None:
        return f"outside {list(rule.band)}"
    if rule.kind == RuleKind.COVERAGE:
        return f"more than {rule.threshold:g} from nominal"
    return f"> {rule.threshold:g}"


class IncidentStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def open_incident(self, rule: str, subject: str) -> AlertIncident | None:
        with self.sessions() as session:
            return session.scalar(
                select(AlertIncident).where(AlertIncident.open_key == open_key(rule, subject))
            )

    def fire(self, rule: Rule, subject: str, signal: Signal, now: datetime) -> AlertIncident | None:
        """A new firing incident; None when another evaluation opened it first."""
        incident = AlertIncident(
            rule=rule.name,
            subject=subject,
            kind=rule.kind.value,
            severity=rule.severity.value,
            state=AlertState.FIRING,
            open_key=open_key(rule.name, subject),
            value=signal.value,
            threshold=threshold_text(rule),
            message=signal.message,
            details=signal.details,
            notifications=[],
            started_at=now,
            last_seen_at=now,
        )
        try:
            with self.sessions.begin() as session:
                session.add(incident)
        except IntegrityError:
            return None
        return incident

    def touch(self, incident_id: int, signal: Signal, now: datetime) -> None:
        with self.sessions.begin() as session:
            incident = session.get_one(AlertIncident, incident_id)
            incident.value, incident.message, incident.details = signal.value, signal.message, signal.details
            incident.last_seen_at = now

    def resolve(self, incident_id: int, signal: Signal, now: datetime) -> AlertIncident | None:
        """Mark it resolved; None when it was resolved already (by a racing evaluation)."""
        with self.sessions.begin() as session:
            incident = session.get_one(AlertIncident, incident_id, with_for_update=True)
            if incident.state != AlertState.FIRING:
                return None
            incident.state, incident.open_key, incident.resolved_at = AlertState.RESOLVED, None, now
            incident.last_seen_at = now
            incident.details = {**(incident.details or {}), "resolved_by": signal.details}
            incident.message = f"{incident.message}; resolved: {signal.message}"
            return incident

    def record(self, incident_id: int, outcomes: list[dict[str, Any]], now: datetime) -> None:
        """Keep how each notification went, beside the incident."""
        with self.sessions.begin() as session:
            incident = session.get_one(AlertIncident, incident_id)
            stamped = [{**o, "at": now.isoformat()} for o in outcomes]
            incident.notifications = [*(incident.notifications or []), *stamped]

    def history(
        self, state: AlertState | None = None, rule: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Incidents, newest first."""
        if not 1 <= limit <= MAX_HISTORY:
            raise InvalidInput("limit", f"must be between 1 and {MAX_HISTORY}, got {limit}")
        query = select(AlertIncident).order_by(AlertIncident.started_at.desc(), AlertIncident.id.desc())
        if state is not None:
            query = query.where(AlertIncident.state == state)
        if rule is not None:
            query = query.where(AlertIncident.rule == rule)
        with self.sessions() as session:
            return [incident_dict(i) for i in session.scalars(query.limit(limit))]

    # ---- rules added through the API ----------------------------------------------------------
    def api_rules(self) -> list[Rule]:
        with self.sessions() as session:
            rows = session.scalars(select(AlertRuleRecord).order_by(AlertRuleRecord.name))
            return [Rule.model_validate(r.definition) for r in rows]

    def save_rule(self, rule: Rule, now: datetime) -> bool:
        """Add or replace an API rule; True when it is new."""
        with self.sessions.begin() as session:
            found = session.get(AlertRuleRecord, rule.name)
            definition = rule.model_dump(mode="json", exclude_defaults=True)
            if found is None:
                session.add(
                    AlertRuleRecord(name=rule.name, definition=definition, created_at=now, updated_at=now)
                )
                return True
            found.definition, found.updated_at = definition, now
            return False

    def delete_rule(self, name: str) -> None:
        with self.sessions.begin() as session:
            found = session.get(AlertRuleRecord, name)
            if found is None:
                raise NotFound("alert rule", name)
            session.delete(found)


def incident_dict(incident: AlertIncident) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": incident.id,
        "rule": incident.rule,
        "subject": incident.subject,
        "kind": incident.kind,
        "severity": incident.severity,
        "state": incident.state.value,
        "value": incident.value,
        "threshold": incident.threshold,
        "message": incident.message,
        "details": incident.details or {},
        "notifications": incident.notifications or [],
        "started_at": iso(incident.started_at),
        "last_seen_at": iso(incident.last_seen_at),
        "resolved_at": iso(incident.resolved_at),
    }
