"""Rolling a group back: its latest approved version rejected, the one before it current, and the
endpoints that served the rejected one moved to it, in one transaction (`Registry.rollback`).

Mixed into `Registry`; it reads the registry's sessions, approval queries and model paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tidecast.errors import TidecastError
from tidecast.registry.columns import utcnow
from tidecast.registry.errors import Conflict
from tidecast.registry.schema import Endpoint, ModelVersion
from tidecast.registry.statuses import ModelStatus

if TYPE_CHECKING:  # the model catalog imports statsforecast and dask: loaded on first use
    from tidecast.automl.forecaster import AutoForecaster


@dataclass(frozen=True)
class Rollback:
    """What `rollback` did (or will do): the version it rejected, the approved version now
    current and the endpoints moved from the one to the other."""

    rejected: ModelVersion
    current: ModelVersion
    endpoints: tuple[str, ...] = ()


class Rollbacks:
    """`rollback` and what it needs, for `Registry`."""

    sessions: sessionmaker[Session]
    _newest_approved: Callable[[Session, str, int], list[ModelVersion]]
    _set_status: Callable[[Session, ModelVersion, ModelStatus], None]
    model_path: Callable[[ModelVersion], Path]

    def rollback(
        self,
        group: str,
        redeploy: bool = True,
        prepare: Callable[[Rollback, AutoForecaster], None] | None = None,
        from_version: int | None = None,
    ) -> Rollback:
        """Reject the latest approved version so the previous approved one becomes current and,
        with `redeploy`, point the endpoints serving the rejected version at the current one.

        Nothing changes unless the current version's model loads (Conflict otherwise) and
        `prepare(plan, forecaster)` returns (the service readies the endpoints' models there,
        from that one forecaster: the folder is read once, not again per endpoint); then the
        rejection and the endpoints' move are one transaction. A concurrent change to the
        versions or endpoints in between is a Conflict, with nothing changed.

        `from_version` is the version the caller means to roll back: when it is no longer the
        latest approved one, the rollback is a Conflict and nothing changes. Without it, two
        rollbacks sent at once (a double click) rejected two versions, the second a good one."""
        plan = self._rollback_plan(group, redeploy, from_version)
        forecaster = self.check_loadable(
            plan.current, f"cannot roll back {group} to version {plan.current.version}"
        )
        if prepare is not None:
            prepare(plan, forecaster)
        with self.sessions.begin() as session:
            latest, previous = self._rollback_pair(session, group, from_version)
            moved = self._serving(session, latest) if redeploy else []
            if (latest.id, previous.id, tuple(e.name for e in moved)) != (
                plan.rejected.id,
                plan.current.id,
                plan.endpoints,
            ):
                raise Conflict(
                    f"{group}'s versions or endpoints changed during the rollback; nothing changed"
                )
            self._set_status(session, latest, ModelStatus.REJECTED)
            for endpoint in moved:
                endpoint.model_version_id = previous.id
                endpoint.updated_at = utcnow()
            return Rollback(rejected=latest, current=previous, endpoints=plan.endpoints)

    def _rollback_plan(self, group: str, redeploy: bool, from_version: int | None) -> Rollback:
        with self.sessions() as session:
            latest, previous = self._rollback_pair(session, group, from_version)
            serving = self._serving(session, latest) if redeploy else []
            return Rollback(latest, previous, tuple(e.name for e in serving))

    def _rollback_pair(
        self, session: Session, group: str, from_version: int | None
    ) -> tuple[ModelVersion, ModelVersion]:
        """The latest approved version and the one before it (Conflict when there is none, or
        when the latest is not `from_version`: that is said first, so a rollback sent twice is
        told the first one did it, not that one approved version is left)."""
        approved = self._newest_approved(session, group, 2)
        if from_version is not None and (not approved or approved[0].version != from_version):
            latest = f"version {approved[0].version} is" if approved else "none is"
            raise Conflict(
                f"{group} version {from_version} is not the latest approved version ({latest}): it "
                "was rolled back already, or never approved; nothing changed"
            )
        if not approved:
            raise Conflict(f"{group} has no approved version to roll back")
        if len(approved) == 1:
            raise Conflict(
                f"{group} version {approved[0].version} is the only approved version: "
                "there is no earlier approved version to roll back to"
            )
        return approved[0], approved[1]

    def serving_endpoints(self, version: ModelVersion) -> tuple[str, ...]:
        """The endpoints that serve `version` now, by name."""
        with self.sessions() as session:
            return tuple(e.name for e in self._serving(session, version))

    @staticmethod
    def _serving(session: Session, version: ModelVersion) -> list[Endpoint]:
        return list(
            session.scalars(
                select(Endpoint).where(Endpoint.model_version_id == version.id).order_by(Endpoint.name)
            )
        )

    def check_loadable(self, version: ModelVersion, action: str) -> AutoForecaster:
        """`version`'s model, loaded; Conflict, saying `action` is refused and why, unless its
        folder is in the store, unaltered, and opens."""
        # Loaded here, not at import: the model catalog imports statsforecast and dask, which the
        # command line's start and the registry's other work never need (`tests/automl/test_options.py`).
        from tidecast.automl.forecaster import AutoForecaster

        try:
            return AutoForecaster.load(self.model_path(version), manifest_digest=version.manifest_digest)
        except (TidecastError, OSError, ValueError) as exc:
            raise Conflict(
                f"{action}: its model cannot be loaded ({exc}); nothing was changed. Restore its "
                f"artifact, or reject version {version.version} to roll back past it"
            ) from None
