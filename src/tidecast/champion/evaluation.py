"""Champion against challenger on the same forecasts: pair, score, judge.

Both versions log what they forecast for an endpoint (the challenger's shadow forecasts carry
its own version id). A point counts only when both versions forecast it (the same item,
origin and horizon step) and its actual is known, so neither is judged on forecasts the other
never made: a challenger attached later, or a champion extended by observations the
challenger did not see, is compared on the forecasts they share. Each side is scored with
`tidecast.monitor.accuracy.score` over the quantile levels both logged, and the verdict
follows the endpoint's `ChallengerPolicy`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from tidecast.champion.policy import ChallengerPolicy
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.monitor.accuracy import (
    STEP,
    Points,
    join_actuals,
    logged_forecasts,
    point_scales,
    records,
    score,
)
from tidecast.monitor.actuals import load_actuals
from tidecast.monitor.profiles import TrainingProfile
from tidecast.wording import counted

WAITING, BETTER, NOT_BETTER = "waiting", "better", "not_better"
PAIR_KEYS = [ITEM_ID, "origin", STEP]


@dataclass(frozen=True)
class Verdict:
    """What one evaluation found: `outcome` (waiting, better, not_better), the `evidence`
    (both scores, counts, window, margin) and a one-line `summary` of it."""

    outcome: str
    evidence: dict[str, Any]
    summary: str


def paired_points(
    connection: Connection, endpoint: str, champion_id: int, challenger_id: int
) -> tuple[Points, Points]:
    """Both versions' logged forecasts of `endpoint` joined with the actuals, reduced to the
    points both forecast, in the same order."""
    champion = logged_forecasts(connection, endpoint, champion_id)
    challenger = logged_forecasts(connection, endpoint, challenger_id)
    spans = [s for s in (champion.targets, challenger.targets) if s is not None]
    actuals = load_actuals(connection, min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    return pair(join_actuals(champion, actuals), join_actuals(challenger, actuals))


def pair(a: Points, b: Points) -> tuple[Points, Points]:
    """The points of `a` and `b` with the same (item, origin, step), aligned, over the
    quantile levels both have."""
    left = a.frame[PAIR_KEYS].assign(_a=np.arange(len(a.y)))
    right = b.frame[PAIR_KEYS].assign(_b=np.arange(len(b.y)))
    both = left.merge(right, on=PAIR_KEYS, how="inner", sort=False)
    levels = tuple(q for q in a.levels if q in b.levels)
    return _take(a, both["_a"].to_numpy(), levels), _take(b, both["_b"].to_numpy(), levels)


def _take(points: Points, rows: np.ndarray, levels: tuple[float, ...]) -> Points:
    columns = [points.levels.index(q) for q in levels]
    frame = points.frame.take(rows).reset_index(drop=True)
    forecasts = len(frame[[ITEM_ID, "origin"]].drop_duplicates())
    quantiles = points.quantiles[rows][:, columns] if len(rows) else np.zeros((0, len(levels)))
    return Points(frame, points.y[rows], points.mean[rows], quantiles, levels, forecasts)


def judge(
    champion: Points,
    challenger: Points,
    policy: ChallengerPolicy,
    versions: tuple[int, int],
    profiles: Callable[[int], TrainingProfile] | None = None,
) -> Verdict:
    """The verdict of `policy` on paired points (`pair`) of the champion and challenger
    `versions` (ids); `profiles` gives MASE scales (needed when the metric is MASE)."""
    sides = []
    for points, version in zip((champion, challenger), versions, strict=True):
        scale = (
            point_scales(points, profiles)
            if profiles is not None and len(points.y)
            else np.full(len(points.y), np.nan)
        )
        scored = records(score(points, [], scale))
        sides.append({"model_version_id": version, **(scored[0] if scored else {"points": 0})})
    first, last, days = _window(champion)
    mine, theirs = sides[1].get(policy.metric), sides[0].get(policy.metric)
    improvement = 1 - mine / theirs if mine is not None and theirs else None
    forecasts = champion.forecasts
    if forecasts < policy.min_forecasts or days < policy.min_days or improvement is None:
        outcome = WAITING
    elif improvement >= policy.margin - 1e-12:
        outcome = BETTER
    else:
        outcome = NOT_BETTER
    evidence = {
        **policy.model_dump(),
        "outcome": outcome,
        "paired_forecasts": forecasts,
        "paired_points": len(champion.y),
        "quantiles": list(champion.levels),
        "window": {"first_target": first, "last_target": last, "days": days},
        "champion": sides[0],
        "challenger": sides[1],
        "improvement": improvement,
        "evaluated_at": datetime.now(UTC).isoformat(),
    }
    return Verdict(outcome, evidence, summary(evidence))


def _window(points: Points) -> tuple[str | None, str | None, float]:
    if not len(points.y):
        return None, None, 0.0
    stamps = points.frame[TIMESTAMP]
    first, last = stamps.min(), stamps.max()
    return first.isoformat(), last.isoformat(), float((last - first) / pd.Timedelta(days=1))


def summary(evidence: dict[str, Any]) -> str:
    """The evidence in one line, as the API and the CLI show it."""
    metric, margin = evidence["metric"], evidence["margin"]
    seen = (
        f"{counted(evidence['paired_forecasts'], 'paired forecast')} "
        f"({counted(evidence['paired_points'], 'point')}) over {counted(evidence['window']['days'], 'day')}"
    )
    if evidence["outcome"] == WAITING:
        return (
            f"waiting for evidence: {seen}; the policy needs "
            f"{counted(evidence['min_forecasts'], 'forecast')} over {counted(evidence['min_days'], 'day')} "
            "with a score for both"
        )
    mine, theirs = evidence["challenger"][metric], evidence["champion"][metric]
    change = evidence["improvement"]
    relation = f"{abs(change):.1%} {'lower' if change >= 0 else 'higher'}"
    verdict = "better by the margin" if evidence["outcome"] == BETTER else "not better by the margin"
    return (
        f"challenger {metric} {mine:.4g} is {relation} than the champion's {theirs:.4g} "
        f"(margin {margin:.0%}) on {seen}: {verdict}"
    )
