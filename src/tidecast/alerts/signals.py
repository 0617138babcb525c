"""What each kind of rule measures, for one subject: a value, and whether it breaches the rule.

A `Signal` with `breached=None` means no data (no traffic in the window, no actuals yet, no
backtest score to compare with): an incident neither opens nor resolves on it.

Accuracy and coverage score the serving version's logged forecasts whose targets fall in the
window back from the newest scored actual, with the same kernels as ``GET /v1/monitoring``;
drift compares the actuals of that window with the version's training data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from tidecast.alerts.rules import Rule, RuleKind
from tidecast.alerts.traffic import TrafficHistory, quantile
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.monitor.accuracy import Points, join_actuals, logged_forecasts, point_scales, records, score
from tidecast.monitor.actuals import load_actuals
from tidecast.monitor.drift import drift_scores
from tidecast.monitor.monitoring import Monitor
from tidecast.registry.errors import NotFound
from tidecast.registry.schema import Endpoint, Job, ModelVersion, version_label
from tidecast.registry.statuses import JobStatus

ALL_RECENT = 1_000_000  # drift over every actual of the window, not a fixed count


@dataclass(frozen=True)
class Signal:
    value: float | None
    breached: bool | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sources:
    """Where the signals are read: monitoring (and its registry's database, which holds the
    jobs too) and the service's traffic."""

    monitor: Monitor
    traffic: TrafficHistory


def subjects(rule: Rule, sources: Sources) -> list[str]:
    """What the rule watches: its endpoint, every deployed endpoint, or "" (the jobs)."""
    if rule.kind == RuleKind.JOB_FAILED:
        return [""]
    if rule.endpoint is not None:
        return [rule.endpoint]
    with sources.monitor.registry.sessions() as session:
        return sorted(session.scalars(select(Endpoint.name)))


def measure(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    measure_kind = MEASURES[rule.kind]
    return measure_kind(rule, subject, sources, now)


def _over(rule: Rule, value: float | None, what: str, unit: str = "") -> Signal:
    if value is None:
        return Signal(None, None, f"no {what} in the last {rule.window}")
    breached = value > float(rule.threshold or 0.0)
    word = "above" if breached else "within"
    return Signal(
        value, breached, f"{what} {value:.4g}{unit} over {rule.window}, {word} {rule.threshold}{unit}"
    )


def _error_rate(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    traffic = sources.traffic.window(subject, rule.span.total_seconds())
    if traffic.requests < rule.min_requests:
        return _over(rule, None, "invocations")
    signal = _over(rule, traffic.errors / traffic.requests, "5xx error rate")
    return replace(signal, details={"requests": traffic.requests, "errors": traffic.errors})


def _latency(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    traffic = sources.traffic.window(subject, rule.span.total_seconds())
    if traffic.requests < rule.min_requests:
        return _over(rule, None, "invocations")
    signal = _over(rule, quantile(traffic.buckets, 0.99), "p99 latency", " s")
    return replace(signal, details={"requests": traffic.requests})


def _job_failed(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    query = select(Job.id).where(Job.status == JobStatus.FAILED, Job.ended_at >= now - rule.span)
    with sources.monitor.registry.sessions() as session:
        failed = list(session.scalars(query.order_by(Job.ended_at.desc())))
    signal = _over(rule, float(len(failed)), "failed jobs")
    return replace(signal, details={"failed": len(failed), "jobs": failed[:10]})


# ---- accuracy, coverage and drift -------------------------------------------------------------
@dataclass(frozen=True)
class Scored:
    version: dict[str, Any]  # `_version`: the internal id and the registry's name
    points: Points
    overall: dict[str, Any]
    backtest: dict[str, Any]


def _scored(rule: Rule, endpoint: str, monitor: Monitor) -> Scored | None:
    """The serving version's points in the window, scored; None without any."""
    try:
        version = monitor.registry.endpoint_version(endpoint)
    except NotFound:
        return None
    with monitor.registry.sessions() as session:
        connection = session.connection()
        logged = logged_forecasts(connection, endpoint, version.id)
        span = logged.targets
        points = join_actuals(logged, load_actuals(connection, *span) if span else None)
    if not len(points.y):
        return None
    stamps = points.frame[TIMESTAMP]
    points = _subset(points, (stamps > stamps.max() - pd.Timedelta(rule.span)).to_numpy())
    overall = records(score(points, [], point_scales(points, monitor.profiles.get)))[0]
    metrics = version.metrics or {}
    backtest = {"metric": metrics.get("objective"), "score": metrics.get("score")}
    return Scored(_version(version), points, overall, backtest)


def _version(version: ModelVersion) -> dict[str, Any]:
    """A version in an incident's details: its internal id and its group and number, the
    name people know it by (`demo-sql v1`; the id of demo-sql v1 may well be 2)."""
    return {
        "model_version_id": version.id,
        "model_group": version.group.name,
        "model_version": version.version,
    }


def _subset(points: Points, keep: np.ndarray) -> Points:
    return Points(
        points.frame[keep].reset_index(drop=True),
        points.y[keep],
        points.mean[keep],
        points.quantiles[keep],
        points.levels,
        points.forecasts,
    )


def _accuracy(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    scored = _scored(rule, subject, sources.monitor)
    if scored is None:
        return _over(rule, None, "forecasts scored against actuals")
    metric, backtest = scored.backtest["metric"], scored.backtest["score"]
    realised = scored.overall.get(metric) if isinstance(metric, str) else None
    if not backtest or not isinstance(metric, str):
        name = version_label(scored.version["model_group"], scored.version["model_version"])
        return Signal(None, None, f"{name} has no backtest score to compare with")
    if realised is None:  # wQL, WAPE and MAPE divide by the actuals: undefined when all are 0
        points = scored.overall["points"]
        why = "every actual is 0 (drift reports a stop)" if not scored.points.y.any() else "no value"
        return Signal(
            None, None, f"realised {metric} over {rule.window} is undefined: {points} points, {why}"
        )
    signal = _over(rule, realised / backtest, f"realised {metric} over backtest", "x")
    details = {
        **scored.version,
        "metric": metric,
        "realised": realised,
        "backtest": backtest,
        "points": scored.overall["points"],
    }
    return replace(signal, details=details)


def _coverage(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    scored = _scored(rule, subject, sources.monitor)
    interval = None if scored is None else scored.points.interval
    if scored is None or interval is None or scored.overall.get("coverage") is None:
        return Signal(None, None, f"no interval forecasts scored in the last {rule.window}")
    levels = scored.points.levels
    nominal = levels[interval[1]] - levels[interval[0]]
    threshold = float(rule.threshold or 0.0)
    low, high = rule.band or (nominal - threshold, nominal + threshold)
    value = float(scored.overall["coverage"])
    breached = not low <= value <= high
    word = "outside" if breached else "inside"
    message = f"p{levels[interval[0]] * 100:g}-p{levels[interval[1]] * 100:g} coverage {value:.3g} over {rule.window}, {word} [{low:.3g}, {high:.3g}]"
    details = {**scored.version, "band": [low, high], "points": scored.overall["points"]}
    return Signal(value, breached, message, details)


def _drift(rule: Rule, subject: str, sources: Sources, now: datetime) -> Signal:
    monitor = sources.monitor
    try:
        version = monitor.registry.endpoint_version(subject)
    except NotFound:
        return _over(rule, None, "drift")
    profile = monitor.profiles.get(int(version.id))
    if not len(profile.items):
        return _over(rule, None, "drift")
    start = pd.Timestamp(profile.items["last"].min()).to_pydatetime()
    with monitor.registry.sessions() as session:
        actuals = load_actuals(session.connection(), start, covariates=bool(profile.covariates))
    # The endpoint's own items only: another endpoint's newer actuals must not set the window.
    actuals = actuals[actuals[ITEM_ID].isin(profile.items.index)]
    if actuals.empty:
        return _over(rule, None, "actuals after training")
    actuals = actuals[actuals[TIMESTAMP] > actuals[TIMESTAMP].max() - pd.Timedelta(rule.span)]
    scores = drift_scores(actuals, profile, ALL_RECENT)
    if scores.empty:
        return _over(rule, None, "actuals after training")
    value = float(scores["score"].max() if rule.statistic == "max" else scores["score"].mean())
    signal = _over(rule, value, f"{rule.statistic} drift score")
    worst = records(scores.head(5)[["item_id", "score", "reason"]])
    return replace(signal, details={**_version(version), "items": len(scores), "worst": worst})


MEASURES = {
    RuleKind.ERROR_RATE: _error_rate,
    RuleKind.P99_LATENCY: _latency,
    RuleKind.JOB_FAILED: _job_failed,
    RuleKind.ACCURACY: _accuracy,
    RuleKind.COVERAGE: _coverage,
    RuleKind.DRIFT: _drift,
}
