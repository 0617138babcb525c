"""The short weekly cuts: every system forecasts the same dates, the test follows the cut."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
short_weekly = pytest.importorskip("short_weekly")
weekly_panel = pytest.importorskip("weekly_panel")


@pytest.mark.parametrize(("history", "horizon"), short_weekly.CUTS)
def test_each_cut_keeps_the_series_seen_at_the_cut_and_tests_the_weeks_after_it(history, horizon):
    frames = short_weekly.split(weekly_panel.weekly_rows(60, 3), history, horizon)
    dates = weekly_panel.weeks()
    origin = dates[history - 1]
    train, future, test = frames["train"], frames["future"], frames["test"]
    assert train["timestamp"].max() == origin
    assert (train.groupby("item_id")["timestamp"].max() == origin).all()  # observed at the cut
    items = sorted(train["item_id"].unique())
    assert sorted(future["item_id"].unique()) == items
    assert future.groupby("item_id").size().eq(horizon).all()
    assert (
        future["timestamp"].min() == dates[history]
        and future["timestamp"].max() == dates[history + horizon - 1]
    )
    keys = ["item_id", "timestamp"]
    assert len(test.merge(future[keys], on=keys)) == len(test)  # every test row has a forecast date
    assert frames["filled"]["item_id"].nunique() == len(items)
    # The cut leaves no room for a whole backtest window after 59 weeks of history.
    assert history < 59 + horizon
    assert pd.api.types.is_integer_dtype(future["holiday_week"])
