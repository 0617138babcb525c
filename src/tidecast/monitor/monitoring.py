"""One call per question the adapters ask: ingest actuals, and how is this endpoint doing?

`Monitor` ties the monitoring pieces to the registry: the versions' backtest scores and
model folders (for the training profiles), and the database the log and the actuals live in.
The API and the CLI each hold one and call `ingest` or `report`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Connection

from tidecast.monitor.accuracy import (
    VERSION,
    Logged,
    accuracy_report,
    join_actuals,
    logged_forecasts,
    records,
)
from tidecast.monitor.actuals import IngestResult, actuals_frame, ingest_actuals, load_actuals
from tidecast.monitor.drift import DEFAULT_RECENT, drift_scores
from tidecast.monitor.profiles import ProfileCache, TrainingProfile, training_profile
from tidecast.monitor.versions import VersionRef, filtered_version
from tidecast.registry.errors import NotFound
from tidecast.registry.registry import Registry
from tidecast.registry.schema import ModelVersion

if TYPE_CHECKING:  # the AutoML engine (and statsforecast, which imports dask) loads on first use:
    # `tidecast --help` and the monitoring CLI stay fast (tests/test_distributed.py)
    from tidecast.automl.forecaster import AutoForecaster

Loaded = Callable[[int], "AutoForecaster | None"]


class Monitor:
    """Actuals in, accuracy and drift out, for the endpoints of one registry.

    `loaded(version_id)` may hand over a forecaster already in memory (a served model), so
    its folder is not read a second time for the training profile.
    """

    def __init__(self, registry: Registry, loaded: Loaded | None = None) -> None:
        self.registry = registry
        self.loaded = loaded or (lambda _version: None)
        self.profiles = ProfileCache(self._profile)
        # Called with each ingest's result, after it committed (the challengers' evaluation).
        self.listeners: list[Callable[[IngestResult], None]] = []

    def _profile(self, version_id: int) -> TrainingProfile:
        forecaster = self.loaded(version_id)
        if forecaster is None:
            from tidecast.automl.forecaster import AutoForecaster

            forecaster = AutoForecaster.load(self.registry.model_path(self.registry.get_by_id(version_id)))
        spec = forecaster.spec_
        covariates = (*spec.known_covariates, *spec.past_covariates)
        return training_profile(forecaster.history_, int(forecaster.season_length_), covariates)

    def ingest(
        self, frame: pd.DataFrame, date_format: str | None = None, names: Mapping[str, str] | None = None
    ) -> IngestResult:
        """Validate raw actual rows and load them (see `actuals.ingest_actuals`); a problem
        names the user's columns where `names` (`actuals.user_names`) gives them."""
        canonical, duplicates = actuals_frame(frame, date_format, names)
        result = ingest_actuals(self.registry.sessions, canonical, duplicates)
        for listener in self.listeners:
            listener(result)
        return result

    def report(
        self,
        endpoint: str,
        *,
        version: VersionRef | None = None,
        version_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        period: str = "W",
        worst_items: int = 20,
        recent: int = DEFAULT_RECENT,
    ) -> dict[str, Any]:
        """Realised accuracy of what `endpoint` served (of one version, when given: as the
        registry names it, `versions.parse_version`, or by its internal `version_id`; and of
        forecasts made between `since` and `until`) and the drift of its items. NotFound for
        a version the registry does not have."""
        with self.registry.sessions() as session:
            connection = session.connection()
            only = filtered_version(self.registry, connection, endpoint, version, version_id)
            logged = logged_forecasts(connection, endpoint, only, since, until)
            serving = self._serving(endpoint, logged.keys[VERSION])
            ids = {*logged.keys[VERSION].unique().tolist(), serving}
            backtests = {v: _backtest(self.registry.get_by_id(v)) for v in ids}
            report = endpoint_report(
                connection, logged, self.profiles.get, backtests, serving, period, worst_items, recent
            )
        return {"endpoint": endpoint, **report}

    def _serving(self, endpoint: str, logged: pd.Series) -> int:
        """The version the endpoint serves now; else the newest one in its log."""
        try:
            return int(self.registry.endpoint_version(endpoint).id)
        except NotFound:
            if logged.empty:
                raise NotFound("endpoint", endpoint) from None
            return int(logged.max())


def endpoint_report(
    connection: Connection,
    logged: Logged,
    profiles: Callable[[int], TrainingProfile],
    backtests: Mapping[int, dict[str, Any]],
    serving: int,
    period: str = "W",
    worst_items: int = 20,
    recent: int = DEFAULT_RECENT,
) -> dict[str, Any]:
    """Accuracy of `logged` and drift of the `serving` version's items, from one read of the
    actuals: from the earliest of the first target and the training ends, onwards."""
    profile = profiles(serving)
    starts = [t[0] for t in [logged.targets] if t is not None]
    if len(profile.items):
        starts.append(pd.Timestamp(profile.items["last"].min()).to_pydatetime())
    start = min(starts) if starts else None
    actuals = load_actuals(connection, start, covariates=bool(profile.covariates))
    points = join_actuals(logged, actuals)
    report = accuracy_report(points, profiles, backtests, period, worst_items)
    scores = drift_scores(actuals, profile, recent)
    drift = {
        **_named(serving, backtests),
        "recent_points": recent,
        "reference_points": profile.reference_points,
        "items_compared": len(scores),
        "mean_score": float(scores["score"].mean()) if len(scores) else None,
        "items": records(scores if worst_items <= 0 else scores.head(worst_items)),
    }
    for key in ("versions", "over_time", "by_step", "worst_items"):
        report[key] = [{**_named(row[VERSION], backtests), **row} for row in report[key]]
    return {**_named(serving, backtests), "period": period, **report, "drift": drift}


def _named(version_id: int, backtests: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    """A version's internal id (what `version=` filters on) and its name in the registry,
    group and number: the id alone read as a version number (demo-sql v1 showed as 2)."""
    known = backtests.get(version_id, {})
    return {VERSION: version_id, "model_group": known.get("group"), "model_version": known.get("version")}


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
