"""Realised accuracy and drift on hand-built forecasts and actuals, values worked out by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from tidecast.monitor.accuracy import accuracy_report, logged_points, period_starts
from tidecast.monitor.actuals import actuals_frame, ingest_actuals, load_actuals
from tidecast.monitor.drift import drift_scores
from tidecast.monitor.forecast_log import Origin, row, write_rows
from tidecast.monitor.profiles import training_profile
from tidecast.registry.db import Database
from tidecast.registry.statuses import ForecastSource

LEVELS = (0.1, 0.5, 0.9)
# item -> (mean per step, quantiles per step); origin 2024-01-03, daily, two steps
FORECASTS = {
    "a": ([10.0, 20.0], [[8.0, 10.0, 12.0], [15.0, 19.0, 30.0]]),
    "b": ([5.0, 5.0], [[4.0, 5.0, 6.0], [4.0, 5.0, 6.0]]),
}
ACTUALS = {"a": [12.0, 18.0], "b": [4.0, 10.0]}
HISTORY = {"a": [10.0, 12.0, 11.0], "b": [4.0, 4.0, 6.0]}  # 2024-01-01..03: MASE scales 1.5 and 1


def history() -> pd.DataFrame:
    stamps = pd.date_range("2024-01-01", periods=3, freq="D")
    return pd.concat(
        [pd.DataFrame({"item_id": i, "timestamp": stamps, "target": v}) for i, v in HISTORY.items()],
        ignore_index=True,
    )


def log_forecasts(database: Database, endpoint: str = "shop", version: int = 1) -> None:
    origin = Origin(ForecastSource.ENDPOINT, endpoint, version, "D", LEVELS)
    rows = [
        row(origin, item, datetime(2024, 1, 4), np.array(mean), np.array(qs))
        for item, (mean, qs) in FORECASTS.items()
    ]
    with database.transaction() as session:
        write_rows(session, rows)
        write_rows(session, rows)  # logged twice, kept once


def load_actual_values(database: Database) -> None:
    stamps = ["2024-01-04", "2024-01-05"]
    frame = pd.DataFrame(
        [
            {"item_id": i, "timestamp": t, "value": v}
            for i, vs in ACTUALS.items()
            for t, v in zip(stamps, vs, strict=True)
        ]
    )
    ingest_actuals(database.sessions, actuals_frame(frame)[0])


def report(database: Database, **kwargs: object) -> dict:
    profile = training_profile(history(), season_length=1)
    with database.engine.connect() as connection:
        points = logged_points(connection, "shop")
    return accuracy_report(
        points, lambda _v: profile, {1: {"metric": "wql", "score": 0.1}}, period="D", **kwargs
    )


def test_when_forecasts_meet_actuals_then_every_metric_is_the_hand_computed_value(database: Database) -> None:
    log_forecasts(database)
    load_actual_values(database)
    out = report(database)
    assert (out["forecasts"], out["points"], out["coverage_interval"]) == (2, 4, [0.1, 0.9])
    overall = out["overall"]
    # |y| sums to 44; pinball sums per level 1.3, 4.5 and 5.0; medians miss by 2, 1, 1, 5
    assert overall["wql"] == pytest.approx(2 * (1.3 + 4.5 + 5.0) / 3 / 44)
    assert overall["wape"] == pytest.approx(9 / 44)
    assert overall["mape"] == pytest.approx((2 / 12 + 1 / 18 + 1 / 4 + 5 / 10) / 4)
    assert overall["mase"] == pytest.approx((2 / 1.5 + 1 / 1.5 + 1 + 5) / 4)
    assert overall["bias"] == pytest.approx(-4 / 44)
    assert overall["coverage"] == pytest.approx(0.75)
    (version,) = out["versions"]
    assert version["model_version_id"] == 1 and version["points"] == 4
    assert version["realised_over_backtest"] == pytest.approx(overall["wql"] / 0.1)
    steps = {r["step"]: r for r in out["by_step"]}
    assert steps[1]["wape"] == pytest.approx(3 / 16) and steps[2]["wape"] == pytest.approx(6 / 28)
    assert steps[1]["coverage"] == 1.0 and steps[2]["coverage"] == 0.5
    days = {r["period"][:10]: r["points"] for r in out["over_time"]}
    assert days == {"2024-01-04": 2, "2024-01-05": 2}
    worst = out["worst_items"]
    assert [r["item_id"] for r in worst] == ["b", "a"]
    assert worst[0]["wape"] == pytest.approx(6 / 14) and worst[1]["wape"] == pytest.approx(3 / 30)


def test_an_item_that_sold_nothing_against_a_forecast_above_zero_is_listed_worst(database: Database) -> None:
    """Its WAPE is undefined (zero actuals), and it was listed last, as if best."""
    log_forecasts(database)
    frame = pd.DataFrame(
        {
            "item_id": ["a", "a", "b", "b"],
            "timestamp": ["2024-01-04", "2024-01-05"] * 2,
            "value": [12.0, 18.0, 0, 0],
        }
    )
    ingest_actuals(database.sessions, actuals_frame(frame)[0])
    worst = report(database)["worst_items"]
    assert [r["item_id"] for r in worst] == ["b", "a"]
    assert worst[0]["wape"] is None and worst[0]["mase"] == pytest.approx(5.0)  # |0 - 5| / 1, twice


def test_when_an_actual_is_missing_then_only_the_matched_points_are_scored(database: Database) -> None:
    log_forecasts(database)
    ingest_actuals(
        database.sessions,
        actuals_frame(pd.DataFrame({"item_id": ["a"], "timestamp": ["2024-01-05"], "value": [18.0]}))[0],
    )
    out = report(database)
    assert out["points"] == 1
    assert out["overall"]["wape"] == pytest.approx(1 / 18)


def test_when_recent_actuals_move_then_drift_scores_the_moved_item_first(database: Database) -> None:
    load_actual_values(database)
    profile = training_profile(history(), season_length=1)
    with database.engine.connect() as connection:
        scores = drift_scores(load_actuals(connection, covariates=True), profile)
    assert scores["item_id"].tolist() == ["a", "b"]
    a = scores.iloc[0]
    spread = np.sqrt(2 / 3)  # std of 10, 12, 11
    assert a["level_shift"] == pytest.approx((15 - 11) / spread)
    assert a["volatility_ratio"] == pytest.approx(3 / spread)
    assert a["score"] == pytest.approx((15 - 11) / spread)
    b = scores.iloc[1]
    b_spread = np.std([4.0, 4.0, 6.0])
    assert b["level_shift"] == pytest.approx((7 - 14 / 3) / b_spread)
    assert b["volatility_ratio"] == pytest.approx(3 / b_spread)


def test_when_actuals_carry_a_moved_covariate_then_drift_measures_its_shift(database: Database) -> None:
    train = history().assign(price=[2.0, 2.0, 2.0, 1.0, 3.0, 2.0])  # a: constant 2; b: mean 2, std sqrt(2/3)
    frame = pd.DataFrame(
        {
            "item_id": ["a", "b"],
            "timestamp": ["2024-01-04", "2024-01-04"],
            "value": [11.0, 14 / 3],
            "price": [3.0, 2.0],
        }
    )
    ingest_actuals(database.sessions, actuals_frame(frame)[0])
    profile = training_profile(train, season_length=1, covariates=("price",))
    with database.engine.connect() as connection:
        scores = drift_scores(load_actuals(connection, covariates=True), profile).set_index("item_id")
    assert scores.loc["a", "covariate_shift"] == pytest.approx(0.5)  # |3 - 2| / |2| (a constant reference)
    assert scores.loc["b", "covariate_shift"] == pytest.approx(0.0)
    assert scores.loc["a", "level_shift"] == pytest.approx(0.0) and scores.loc["a", "score"] == pytest.approx(
        0.5
    )
    assert np.isnan(scores.loc["a", "volatility_ratio"])  # one recent point has no spread


def test_a_covariates_reference_is_read_where_the_target_was_observed() -> None:
    """dominicks_oj's history holds a filled price on weeks without sales: read with them, the
    reference spread shrank and drift overstated the price shift by about 5%."""
    train = history().assign(price=[2.0, 2.0, 2.0, 1.0, 3.0, 2.0])
    train.loc[5, "target"] = np.nan  # b's last week: no sale, its price the fill (2.0)
    profile = training_profile(train, season_length=1, covariates=("price",))
    b = profile.items.loc["b"]
    assert (b["price.mean"], b["price.std"]) == (2.0, 1.0)  # prices 1 and 3, not 1, 3 and 2
    assert (b["mean"], b["std"]) == (4.0, 0.0)  # the target's own observed values, 4 and 4


def test_weekly_buckets_follow_the_weekday_of_weekly_points() -> None:
    """A W-THU model's accuracy over time was bucketed in calendar weeks labelled Monday."""
    thursdays = pd.Series(pd.to_datetime(["1992-08-13", "1992-08-20", "1992-08-27"]))
    assert period_starts(thursdays, "W").tolist() == thursdays.tolist()
    daily = pd.Series(
        pd.to_datetime(["2024-01-04", "2024-01-05", "2024-01-08"])
    )  # a Thursday, Friday, Monday
    assert period_starts(daily, "W").tolist() == list(
        pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-08"])
    )
    assert period_starts(thursdays, "M").tolist() == [pd.Timestamp("1992-08-01")] * 3
