"""DynamicRegression: exact recovery, holiday effects, calendar alignment and fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.calendar import step_index
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.regression import DynamicRegression, HolidayTable, Layout, design, huber_ridge

SPEC = DatasetSpec(freq="D")


def panel(values: dict[str, np.ndarray], start: str = "2022-01-03") -> pd.DataFrame:
    parts = [
        pd.DataFrame({ITEM_ID: item, TIMESTAMP: pd.date_range(start, periods=len(y), freq="D"), TARGET: y})
        for item, y in values.items()
    ]
    return pd.concat(parts, ignore_index=True).sort_values([ITEM_ID, TIMESTAMP], ignore_index=True)


def weekly(t: np.ndarray) -> np.ndarray:
    return 4 * np.sin(2 * np.pi * t / 7) + 2 * np.cos(4 * np.pi * t / 7)


def test_when_series_is_noise_free_trend_plus_weekly_cycle_then_it_is_recovered():
    # The cycle runs on the absolute clock, so build it from the step index of the dates.
    dates = pd.date_range("2022-01-03", periods=140, freq="D")
    t = step_index(dates, "D")
    y = 50 + 0.3 * (t - t[0]) + weekly(t)
    train = panel({"a": y[:-14]})
    model = DynamicRegression(season_lengths=(7,), n_jobs=1).fit(train, SPEC, 14)
    forecast = model.predict(train)
    np.testing.assert_allclose(forecast[MEAN].to_numpy(), y[-14:], atol=0.02)
    # Only the small ridge's bias is left in the residuals: the quantiles nearly collapse.
    assert (forecast["p90"] - forecast["p10"]).max() < 0.1


def test_when_july_4_lifts_demand_then_the_us_holidays_model_learns_it():
    dates = pd.date_range("2021-01-01", "2023-07-10", freq="D")
    t = step_index(dates, "D")
    rng = np.random.default_rng(0)
    bump = np.where((dates.month == 7) & (dates.day == 4), 30.0, 0.0)
    y = 100 + weekly(t) + bump + rng.normal(0, 1, len(t))
    cutoff = pd.Timestamp("2023-06-30")
    data = panel({"a": y}, start="2021-01-01")
    train = data[data[TIMESTAMP] <= cutoff].reset_index(drop=True)
    actual = y[dates > cutoff][:7]
    errors = {}
    for holidays in ((), ("US",)):
        model = DynamicRegression(season_lengths=(7,), holidays=holidays, n_jobs=1).fit(train, SPEC, 7)
        forecast = model.predict(train)[MEAN].to_numpy()
        errors[holidays] = np.abs(forecast - actual)
        assert model.states_["a"].layout.holidays if holidays else not model.states_["a"].layout.holidays
    july_4 = 3  # July 1, 2, 3, 4
    assert errors[("US",)][july_4] < 5 < errors[()][july_4]
    assert errors[("US",)].mean() < 3


def test_when_series_start_on_different_days_then_the_same_dates_get_the_same_columns():
    early = pd.date_range("2022-01-01", periods=60, freq="D")
    late = early[17:]
    layout = Layout(
        origin=0.0,
        span=1.0,
        changepoints=np.zeros(0),
        periods=(7.0, 365.0),
        orders=(3, 10),
        growing=False,
        holidays=(),
    )
    columns = {
        len(stamps): design(layout, step_index(stamps, "D"), np.zeros((len(stamps), 0)))[:, 2:]
        for stamps in (early, late)
    }
    np.testing.assert_array_equal(columns[60][17:], columns[43])
    # The fitted model's forecast for a shifted copy of a series lines up on the calendar.
    t = step_index(early, "D")
    y = 20 + weekly(t)
    data = pd.concat([panel({"a": y}, "2022-01-01"), panel({"b": y[17:]}, "2022-01-18")])
    forecast = DynamicRegression(n_jobs=1).fit(data, SPEC, 7).predict(data)
    a = forecast[forecast[ITEM_ID] == "a"][MEAN].to_numpy()
    b = forecast[forecast[ITEM_ID] == "b"][MEAN].to_numpy()
    # Equal up to the ridge's bias (the two fits see different lengths); a misaligned cycle
    # would be off by its amplitude, several units.
    np.testing.assert_allclose(a, b, atol=0.01)


def test_when_holiday_table_spans_differ_then_a_dates_values_do_not():
    short = HolidayTable.build(("US",), (0, 2), "2023-12-20", "2023-12-31")
    long = HolidayTable.build(("US",), (0, 2), "2022-01-01", "2024-02-01")
    stamps = pd.date_range("2023-12-20", "2023-12-31", freq="D").to_numpy()
    names = ("hol_new_years_day_2d", "hol_christmas_day_0d")
    np.testing.assert_array_equal(short.gather(stamps, names), long.gather(stamps, names))
    assert short.gather(stamps, names)[-1, 0] == 1  # Dec 31 is within 2 days of Jan 1


def test_when_series_is_short_then_periods_drop_and_the_shortest_fall_back():
    t = np.arange(30.0)
    data = panel({"long": 10 + 0.5 * t + weekly(t), "tiny": np.array([1.0, 2.0, 3.0])})
    model = DynamicRegression(season_lengths=(7, 365), n_jobs=1).fit(data, SPEC, 5)
    forecast = model.predict(data)
    assert model.fallback_items_ == ["tiny"]
    assert model.states_["tiny"] is None
    assert model.states_["long"].layout.periods == (7.0,)  # 30 days hold no two years
    np.testing.assert_allclose(forecast.loc[forecast[ITEM_ID] == "tiny", MEAN], 3.0)


def test_when_one_point_is_a_gross_outlier_then_the_huber_fit_ignores_it():
    rng = np.random.default_rng(1)
    x = np.column_stack([np.ones(200), np.linspace(0, 1, 200)])
    y = 1 + 2 * x[:, 1] + rng.normal(0, 0.01, 200)
    y[50] += 100
    penalty = np.array([0.0, 1e-6])
    assert huber_ridge(x, y, penalty) == pytest.approx([1, 2], abs=0.01)
    assert abs(huber_ridge(x, y, penalty, huber_c=None)[0] - 1) > 0.1
