"""Closed weekdays: a daily item with no value on one weekday for eight weeks is named in the report."""

import numpy as np
import pandas as pd

from tidecast import AutoForecaster
from tidecast.automl.closures import closed_weekdays, closed_weekdays_note
from tidecast.data.arrays import SeriesArrays

START = "2024-01-01"  # a Monday


def arrays(series: dict[str, np.ndarray], freq: str = "D", start: str = START) -> SeriesArrays:
    frames = [
        pd.DataFrame(
            {"item_id": item, "timestamp": pd.date_range(start, periods=len(v), freq=freq), "target": v}
        )
        for item, v in series.items()
    ]
    return SeriesArrays.from_panel(pd.concat(frames, ignore_index=True), freq, (), ())


def days(n: int, *, missing_weekdays: tuple[int, ...] = (), gap: slice | None = None) -> np.ndarray:
    """n days from a Monday at 10.0, NaN on `missing_weekdays` (Monday 0) and over `gap`."""
    values = np.full(n, 10.0)
    for weekday in missing_weekdays:
        values[weekday::7] = np.nan
    if gap is not None:
        values[gap] = np.nan
    return values


def test_a_weekday_missing_for_eight_weeks_is_closed_and_gaps_new_items_and_zeros_are_not():
    sundays_zero = days(140)
    sundays_zero[6::7] = 0.0  # open on Sundays and sold nothing: observed, not closed
    history = arrays(
        {
            "tuesdays": days(140, missing_weekdays=(1,)),
            "mon_and_sun": days(140, missing_weekdays=(0, 6)),
            "three_week_gap": days(140, gap=slice(100, 121)),  # every weekday still seen 5 of 8 weeks
            "new": days(50, missing_weekdays=(1,)),  # under eight weeks of history: nothing to say
            "sundays_zero": sundays_zero,
            "shut": days(140, gap=slice(84, 140)),  # closed for eight weeks: the dormant rule's case
        }
    )
    assert closed_weekdays(history) == {"tuesdays": (1,), "mon_and_sun": (0, 6)}


def test_a_weekday_reopened_within_the_eight_weeks_is_not_closed():
    values = days(140, missing_weekdays=(2,))
    values[-5] = 10.0  # 2024-05-15, a Wednesday, five days before the end
    assert (pd.Timestamp(START) + pd.Timedelta(days=135)).day_name() == "Wednesday"
    assert closed_weekdays(arrays({"a": values})) == {}


def test_only_daily_data_is_read():
    assert closed_weekdays(arrays({"a": days(140, missing_weekdays=(1,))}, freq="W-MON")) == {}


def test_the_note_names_the_items_and_their_weekdays():
    history = arrays({f"s{i}": days(70, missing_weekdays=(i % 7,)) for i in range(5)})
    assert closed_weekdays_note(history) == [
        "closed weekdays: 5 items had no value on the same weekday over their last 8 weeks "
        "(s0 (Mon), s1 (Tue), s2 (Wed), ...); their forecasts for those days assume they open. Rows with "
        "a target of 0 and a known open/closed covariate at 0 on closed days let every model forecast 0 there"
    ]
    assert closed_weekdays_note(arrays({"a": days(70)})) == []


def test_a_run_on_a_file_without_its_closed_days_says_so():
    frame = pd.DataFrame(
        {"item_id": "store", "timestamp": pd.date_range(START, periods=140, freq="D"), "target": days(140)}
    )
    frame["target"] += np.arange(140) % 7
    frame = frame[frame["timestamp"].dt.dayofweek != 3].reset_index(drop=True)  # no rows on Thursdays
    auto = AutoForecaster(horizon=7, models=["SeasonalNaive"], backtest_windows=1, n_jobs=1).fit(frame)
    assert any(
        note.startswith("closed weekdays: 1 item had") and "store (Thu)" in note
        for note in auto.report_.notes
    )
