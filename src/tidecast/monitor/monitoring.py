"""One call per question the adapters ask: ingest actuals, and how is this endpoint doing?

`Monitor` ties the monitoring pieces to the registry: the versions' backtest scores and
model folders (for the training profiles), and the database the log and the actuals live in.
The API and the CLI each hold one and call `ingest` or `report`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from tidecast.automl.forecaster import AutoForecaster
from tidecast.monitor.accuracy import VERSION, accuracy_report, logged_points, records
from tidecast.monitor.actuals import IngestResult, actuals_frame, ingest_actuals, load_actuals
from tidecast.monitor.drift import DEFAULT_RECENT, drift_scores
from tidecast.monitor.profiles import ProfileCache, TrainingProfile, training_profile
from tidecast.registry.errors import NotFound
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ModelVersion

Loaded = Callable[[int], AutoForecaster | None]


class Monitor:
    """Actuals in, accuracy and drift out, for the endpoints of one registry.

    `loaded(version_id)` may hand over a forecaster already in memory (a served model), so
    its folder is not read a second time for the training profile.
    """

    def __init__(self, registry: Registry, loaded: Loaded | None = None) -> None:
        self.registry = registry
        self.loaded = loaded or (lambda _version: None)
        self.profiles = ProfileCache(self._profile)

    def _profile(self, version_id: int) -> TrainingProfile:
        forecaster = self.loaded(version_id)
        if forecaster is None:
            forecaster = AutoForecaster.load(self.registry.model_path(self.registry.get_by_id(version_id)))
        spec = forecaster.spec_
        covariates = (*spec.known_covariates, *spec.past_covariates)
        return training_profile(forecaster.history_, int(forecaster.season_length_), covariates)

    def ingest(self, frame: pd.DataFrame, date_format: str | None = None) -> IngestResult:
        """Validate raw actual rows and load them (see `actuals.ingest_actuals`)."""
        canonical, duplicates = actuals_frame(frame, date_format)
        return ingest_actuals(self.registry.sessions, canonical, duplicates)

    def report(
        self,
        endpoint: str,
        *,
        version: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        period: str = "W",
        worst_items: int = 20,
        recent: int = DEFAULT_RECENT,
    ) -> dict[str, Any]:
        """Realised accuracy of what `endpoint` served (of one version id, when given, and of
        forecasts made between `since` and `until`) and the drift of its items."""
        with self.registry.sessions() as session:
            connection = session.connection()
            points = logged_points(connection, endpoint, version, since, until)
            serving = self._serving(endpoint, points.frame[VERSION])
            versions = {
                v: self.registry.get_by_id(v) for v in {*points.frame[VERSION].unique().tolist(), serving}
            }
            report = accuracy_report(
                points, self.profiles.get, {v: _backtest(m) for v, m in versions.items()}, period, worst_items
            )
            drift = self._drift(connection, serving, recent, worst_items)
        return {"endpoint": endpoint, "model_version_id": serving, "period": period, **report, **drift}

    def _serving(self, endpoint: str, logged: pd.Series) -> int:
        """The version the endpoint serves now; else the newest one in its log."""
        try:
            return int(self.registry.endpoint_version(endpoint).id)
        except NotFound:
            if logged.empty:
                raise NotFound("endpoint", endpoint) from None
            return int(logged.max())

    def _drift(self, connection: Any, version: int, recent: int, top: int) -> dict[str, Any]:
        profile = self.profiles.get(version)
        start = profile.items["last"].min() if len(profile.items) else None
        actuals = load_actuals(
            connection, None if start is None else pd.Timestamp(start).to_pydatetime(), covariates=True
        )
        scores = drift_scores(actuals, profile, recent)
        return {
            "drift": {
                "model_version_id": version,
                "recent_points": recent,
                "reference_points": profile.reference_points,
                "items_compared": len(scores),
                "mean_score": float(scores["score"].mean()) if len(scores) else None,
                "items": records(scores if top <= 0 else scores.head(top)),
            }
        }


def _backtest(version: ModelVersion) -> dict[str, Any]:
    """Where a version stood at approval: its group, number and backtest objective and score."""
    metrics = version.metrics or {}
    return {
        "group": version.group.name,
        "version": version.version,
        "status": version.status.value,
        "metric": metrics.get("objective"),
        "score": metrics.get("score"),
    }
