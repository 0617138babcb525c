"""Paired scoring on hand-built logs: only the forecasts both versions made count, over the
quantile levels both logged, and the verdict follows the policy; values worked out by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from tidecast.champion.evaluation import BETTER, NOT_BETTER, WAITING, judge, paired_points
from tidecast.champion.policy import ChallengerPolicy
from tidecast.monitor.actuals import actuals_frame, ingest_actuals
from tidecast.monitor.forecast_log import Origin, row, write_rows
from tidecast.registry.db import Database
from tidecast.registry.statuses import ForecastSource

# Actuals 2024-01-04 and 05 of items a and b.
ACTUALS = {"a": [10.0, 20.0], "b": [4.0, 6.0]}


def log(database: Database, version: int, levels: tuple[float, ...], forecasts: dict) -> None:
    """`forecasts`: (item, first target) -> per step (mean, quantiles at `levels`)."""
    origin = Origin(ForecastSource.ENDPOINT, "shop", version, "D", levels)
    rows = [
        row(origin, item, first, np.array([m for m, _ in steps]), np.array([q for _, q in steps]))
        for (item, first), steps in forecasts.items()
    ]
    with database.transaction() as session:
        write_rows(session, rows)


@pytest.fixture
def scored(database: Database) -> Database:
    jan4, jan5 = datetime(2024, 1, 4), datetime(2024, 1, 5)
    # the champion (version 1): a and b from origin Jan 3, p10/p50/p90
    log(
        database,
        1,
        (0.1, 0.5, 0.9),
        {
            ("a", jan4): [(11.0, [9.0, 11.0, 13.0]), (18.0, [16.0, 18.0, 20.0])],
            ("b", jan4): [(5.0, [4.0, 5.0, 6.0]), (5.0, [4.0, 5.0, 6.0])],
        },
    )
    # the challenger (version 2): a from origin Jan 3 (shared) and Jan 4 (its own), p50/p90 only
    log(
        database,
        2,
        (0.5, 0.9),
        {
            ("a", jan4): [(10.0, [10.0, 12.0]), (19.0, [19.0, 22.0])],
            ("a", jan5): [(0.0, [0.0, 0.0]), (0.0, [0.0, 0.0])],
        },
    )
    stamps = ["2024-01-04", "2024-01-05"]
    frame = pd.DataFrame(
        [
            {"item_id": i, "timestamp": t, "value": v}
            for i, vs in ACTUALS.items()
            for t, v in zip(stamps, vs, strict=True)
        ]
    )
    ingest_actuals(database.sessions, actuals_frame(frame)[0])
    return database


def test_when_versions_forecast_different_things_then_only_the_shared_forecasts_are_scored(
    scored: Database,
) -> None:
    with scored.engine.connect() as connection:
        champion, challenger = paired_points(connection, "shop", 1, 2)
    # a from Jan 3, both steps; b (champion only) and a from Jan 4 (challenger only) are left out
    assert (champion.forecasts, len(champion.y), challenger.forecasts, len(challenger.y)) == (1, 2, 1, 2)
    assert champion.levels == challenger.levels == (0.5, 0.9)
    verdict = judge(champion, challenger, ChallengerPolicy(metric="wape", min_forecasts=1), (1, 2))
    # champion p50 11, 18 against 10, 20: |1| + |2| over 30; challenger 10, 19: 1 over 30
    assert verdict.evidence["champion"]["wape"] == pytest.approx(3 / 30)
    assert verdict.evidence["challenger"]["wape"] == pytest.approx(1 / 30)
    assert verdict.evidence["improvement"] == pytest.approx(1 - (1 / 30) / (3 / 30))
    # wQL over p50 and p90: 2 * sum of pinball losses / (sum |y| * levels)
    champion_loss = 0.5 * 1 + 0.5 * 2 + 0.1 * 3 + 0.1 * 0  # p50 over, p50 under, p90 13>10, p90 20=20
    assert verdict.evidence["champion"]["wql"] == pytest.approx(2 * champion_loss / (30 * 2))
    assert verdict.outcome == BETTER
    assert verdict.evidence["window"] == {
        "first_target": "2024-01-04T00:00:00",
        "last_target": "2024-01-05T00:00:00",
        "days": 1.0,
    }


@pytest.mark.parametrize(
    ("policy", "outcome"),
    [
        (ChallengerPolicy(metric="wape", min_forecasts=1, margin=0.6), BETTER),  # 66.7 % lower
        (ChallengerPolicy(metric="wape", min_forecasts=1, margin=0.7), NOT_BETTER),
        (ChallengerPolicy(metric="wape", min_forecasts=2), WAITING),  # one paired forecast
        (ChallengerPolicy(metric="wape", min_forecasts=1, min_days=2), WAITING),  # targets span 1 day
    ],
)
def test_when_the_policy_changes_then_the_verdict_follows_it(
    scored: Database, policy: ChallengerPolicy, outcome: str
) -> None:
    with scored.engine.connect() as connection:
        points = paired_points(connection, "shop", 1, 2)
    verdict = judge(*points, policy, (1, 2))
    assert verdict.outcome == outcome
    assert verdict.summary.startswith("waiting" if outcome == WAITING else "challenger wape")
