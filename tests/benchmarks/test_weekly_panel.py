"""The weekly panel benchmark's builder: the shape issue 10's held-out weekly panel promises, small."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
weekly_panel = pytest.importorskip("weekly_panel")

N = 60  # three stores of 20 departments: 6 late starts, 2 early ends, 3 with missing weeks


@pytest.fixture(scope="module")
def panel() -> weekly_panel.Panel:
    return weekly_panel.panel(N, seed=7)


def test_when_built_then_104_weeks_of_history_and_39_to_forecast_end_on_fridays(panel):
    assert panel.train["item_id"].nunique() == N
    assert panel.train["timestamp"].min() == pd.Timestamp("2010-02-05")
    assert panel.train["timestamp"].max() == pd.Timestamp("2012-01-27")
    assert panel.test["timestamp"].min() == pd.Timestamp("2012-02-03")
    assert panel.test["timestamp"].max() == pd.Timestamp("2012-10-26")
    stamps = pd.concat([panel.train["timestamp"], panel.test["timestamp"]])
    assert (stamps.dt.dayofweek == 4).all() and stamps.nunique() == 143
    assert len(panel.future) == N * 39 and list(panel.future.columns) == [
        "item_id",
        "timestamp",
        "holiday_week",
    ]
    assert list(panel.statics.columns) == ["item_id", "store_type", "dept"]
    assert panel.statics["dept"].nunique() == 20 and set(panel.statics["store_type"]) <= {"A", "B", "C"}


def test_when_built_then_series_start_late_end_early_or_miss_weeks_in_the_planned_numbers(panel):
    counts = panel.train.groupby("item_id").size()
    first = panel.train.groupby("item_id")["timestamp"].min()
    late = first > pd.Timestamp("2010-02-05")
    assert late.sum() == 6  # round(60 * 0.1)
    assert counts[late].between(20, 90).all()
    tested = panel.test["item_id"].unique()
    assert N - len(tested) == 2  # round(60 * 0.03) early ends: no test rows
    assert (panel.test.groupby("item_id").size() == 39).all()
    full = counts[~late & counts.index.isin(tested)]
    assert full.max() == 104 and (full < 104).sum() == 3  # round(60 * 0.05) miss 1-3 weeks
    assert (104 - full).max() <= 3
    # statsforecast's copy: every week from each series' start to the origin, nothing missing
    assert len(panel.filled) == (N - 6) * 104 + counts[late].sum()
    assert np.isfinite(panel.filled["target"]).all()


def test_when_a_returns_department_then_some_weeks_are_negative_and_others_never(panel):
    rows = pd.concat([panel.train, panel.test.merge(panel.statics, on="item_id")])
    negative = rows.groupby("dept")["target"].apply(lambda s: (s < 0).mean())
    assert set(negative[negative > 0].index) == {"d18", "d19", "d20"}
    assert negative[["d18", "d19", "d20"]].between(0.04, 0.12).all()  # RETURN_RATE 0.08


def test_when_a_holiday_then_the_friday_ending_its_week_is_flagged():
    fridays = weekly_panel.weeks()
    flagged = fridays[weekly_panel.holiday_index(fridays) >= 0].strftime("%Y-%m-%d").tolist()
    assert flagged == [
        "2010-02-12",  # Super Bowl, Sunday 2010-02-07
        "2010-09-10",  # Labor Day, Monday 2010-09-06
        "2010-11-26",  # Thanksgiving, Thursday 2010-11-25
        "2010-12-31",  # Christmas, Saturday 2010-12-25
        "2011-02-11",
        "2011-09-09",
        "2011-11-25",
        "2011-12-30",
        "2012-02-10",
        "2012-09-07",
    ]
    assert weekly_panel.holiday_dates(2022)["super_bowl"] == pd.Timestamp("2022-02-13")  # second Sunday


def test_when_built_then_the_flag_is_the_same_in_history_and_future(panel):
    rows = pd.concat([panel.train, panel.future])
    by_week = rows.groupby("timestamp")["holiday_week"].agg(["min", "max"])
    assert (by_week["min"] == by_week["max"]).all() and by_week["max"].sum() == 10


def test_when_the_same_seed_then_the_same_panel_and_another_seed_differs(panel):
    again = weekly_panel.panel(N, seed=7)
    pd.testing.assert_frame_equal(panel.train, again.train)
    pd.testing.assert_frame_equal(panel.test, again.test)
    other = weekly_panel.panel(N, seed=8)
    assert not np.allclose(other.train["target"].to_numpy()[:100], panel.train["target"].to_numpy()[:100])


def test_when_noisy_then_sales_scatter_around_the_clean_ones_and_returns_rows_and_flags_stay(panel):
    noisy = weekly_panel.panel(N, seed=7, noise=0.2)
    for clean_frame, noisy_frame in ((panel.train, noisy.train), (panel.test, noisy.test)):
        assert clean_frame.drop(columns="target").equals(noisy_frame.drop(columns="target"))
    clean, scattered = panel.train["target"].to_numpy(), noisy.train["target"].to_numpy()
    returns = clean < 0
    np.testing.assert_array_equal(clean[returns], scattered[returns])  # returns are not sales
    ratio = np.log(scattered[~returns] / clean[~returns])
    assert abs(ratio.mean()) < 0.05 and 0.15 < ratio.std() < 0.4  # log sd 0.1-0.3 and the drift
    pd.testing.assert_frame_equal(noisy.future, panel.future)
