"""A last period the data does not complete, through the AutoML: forecast whole, and said."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast import AutoForecaster
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.reports.missing import missing_lines


def _daily(end: str) -> pd.DataFrame:
    """Two items selling 10 and 30 a day (a little noise), from a Monday to `end`."""
    days = pd.date_range("2024-01-01", end, freq="D")
    rng = np.random.default_rng(1)
    return pd.concat(
        [
            pd.DataFrame({ITEM_ID: item, TIMESTAMP: days, TARGET: level + rng.normal(0, 0.5, len(days))})
            for item, level in (("a", 10.0), ("b", 30.0))
        ],
        ignore_index=True,
    )


def test_when_daily_data_ending_midweek_is_forecast_weekly_then_that_week_is_forecast_whole() -> None:
    data = _daily("2024-06-04")  # a Tuesday: two days of the week ending Sunday 2024-06-09
    auto = AutoForecaster(horizon=3, frequency="W", models=["SeasonalNaive", "Naive"], backtest_windows=1)
    forecast = auto.fit(data).predict()
    first = forecast.groupby(ITEM_ID)[TIMESTAMP].min()
    assert set(first) == {pd.Timestamp("2024-06-09")}  # the unfinished week is the first forecast
    means = forecast.groupby(ITEM_ID)["mean"].mean()
    np.testing.assert_allclose(means[["a", "b"]], [70, 210], rtol=0.03)  # whole weeks, not 2 days
    lines = missing_lines(auto.report_.data_summary, ["Naive"])
    assert (
        "the data ends on 2024-06-04, 2 D steps into the W-SUN period of 2024-06-09: its 4 rows "
        "of 2 series are left out rather than summed as a whole period, and that period is the "
        "first one forecast"
    ) in lines
