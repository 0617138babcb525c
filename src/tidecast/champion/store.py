"""The `challengers` table: each challenger of an endpoint, its state, evidence and decision.

States: ``training`` (an alert rule queued the job that makes it), ``shadowing`` (forecasting
beside the champion, scored as actuals arrive), ``awaiting_approval`` (better by the margin;
the policy waits for ``POST .../promote``), then one of ``promoted``, ``failed`` (its job
failed, or it could not be loaded) and ``detached`` (removed, or replaced by another). The
first three are active: `open_key` holds the endpoint, and its unique constraint keeps one
active challenger per endpoint even when two requests race.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tidecast.registry.columns import utcnow
from tidecast.registry.errors import Conflict
from tidecast.registry.schema import ChallengerRecord

TRAINING, SHADOWING, AWAITING = "training", "shadowing", "awaiting_approval"
PROMOTED, FAILED, DETACHED = "promoted", "failed", "detached"
ACTIVE = (TRAINING, SHADOWING, AWAITING)


class ChallengerStore:
    """Reads and writes of `challengers`; each method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def active(self, endpoint: str | None = None) -> list[ChallengerRecord]:
        """The active challengers (of one endpoint, when given)."""
        query = select(ChallengerRecord).where(ChallengerRecord.open_key.is_not(None))
        if endpoint is not None:
            query = query.where(ChallengerRecord.open_key == endpoint)
        with self.sessions() as session:
            return list(session.scalars(query.order_by(ChallengerRecord.id)))

    def latest(self, endpoint: str) -> ChallengerRecord | None:
        """The endpoint's active challenger, else its most recent one."""
        with self.sessions() as session:
            return session.scalar(
                select(ChallengerRecord)
                .where(ChallengerRecord.endpoint == endpoint)
                .order_by(ChallengerRecord.open_key.is_(None), ChallengerRecord.id.desc())
                .limit(1)
            )

    def open(self, endpoint: str, state: str, policy: dict[str, Any], **fields: Any) -> ChallengerRecord:
        """A new active challenger of `endpoint`; Conflict when it has one already."""
        record = ChallengerRecord(
            endpoint=endpoint, state=state, open_key=endpoint, policy=policy, updated_at=utcnow(), **fields
        )
        try:
            with self.sessions.begin() as session:
                session.add(record)
        except IntegrityError:
            raise Conflict(
                f"endpoint {endpoint!r} already has an active challenger: detach it first "
                f"(DELETE /v1/endpoints/{endpoint}/challenger)"
            ) from None
        return record

    def update(self, record_id: int, **fields: Any) -> None:
        """Change an active record (a closed one stays as it was decided)."""
        with self.sessions.begin() as session:
            session.execute(
                update(ChallengerRecord)
                .where(ChallengerRecord.id == record_id, ChallengerRecord.open_key.is_not(None))
                .values(updated_at=utcnow(), **fields)
            )

    def close(self, record_id: int, state: str, decision: str, **fields: Any) -> bool:
        """End an active record in `state` with its `decision`; False when it had ended already."""
        now = utcnow()
        with self.sessions.begin() as session:
            done = session.execute(
                update(ChallengerRecord)
                .where(ChallengerRecord.id == record_id, ChallengerRecord.open_key.is_not(None))
                .values(
                    state=state, open_key=None, decision=decision, decided_at=now, updated_at=now, **fields
                )
            )
        return bool(getattr(done, "rowcount", 0))
