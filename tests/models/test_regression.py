"""DynamicRegression: exact recovery, holidays, covariates, found periods, calendar alignment, fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.calendar import step_index
from tidecast.data.holidays import HolidayCalendar
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import DataError
from tidecast.models.covariates import CovariateEncoder, HolidayTable
from tidecast.models.regression import (
    DynamicRegression,
    Layout,
    design,
)
from tidecast.models.robust import huber_ridge

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
    # The parameter, or the spec's countries when the parameter is empty.
    for holidays, spec in (((), SPEC), (("US",), SPEC), ((), DatasetSpec(freq="D", holidays=("US",)))):
        model = DynamicRegression(season_lengths=(7,), holidays=holidays, n_jobs=1).fit(train, spec, 7)
        forecast = model.predict(train)[MEAN].to_numpy()
        errors[holidays or spec.holidays] = np.abs(forecast - actual)
        uses = bool(holidays or spec.holidays)
        assert bool(model.states_["a"].layout.holidays) == uses
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
    calendar = HolidayCalendar.from_countries(("US",), range(2021, 2026))
    short = HolidayTable.build(calendar, (0, 2), "2023-12-20", "2023-12-31")
    long = HolidayTable.build(calendar, (0, 2), "2022-01-01", "2024-02-01")
    stamps = pd.date_range("2023-12-20", "2023-12-31", freq="D").to_numpy()
    names = ("hol_new_years_day_2d", "hol_christmas_day_0d")
    np.testing.assert_array_equal(short.gather(stamps, names), long.gather(stamps, names))
    assert short.gather(stamps, names)[-1, 0] == 1  # Dec 31 is within 2 days of Jan 1


def test_when_series_is_short_then_periods_drop_and_the_shortest_fall_back():
    t = np.arange(30.0)
    data = panel({"long": 10 + 0.5 * t + weekly(t), "tiny": np.array([1.0, 2.0, 3.0])})
    model = DynamicRegression(season_lengths=(7, 365), detect_periods=False, n_jobs=1).fit(data, SPEC, 5)
    forecast = model.predict(data)
    assert forecast.attrs["fallback_items"] == ["tiny"]
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


def test_when_huber_weighs_points_down_then_the_coefficients_are_weighted_least_squares():
    # The textbook pass, x' W x formed anew each time, against the fit's cross-product update.
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 6))
    y = x @ rng.normal(size=6) + rng.standard_t(2, size=400)
    penalty = np.full(6, 0.01)
    weights = np.ones(400)
    for _ in range(10):
        gram = (x * weights[:, None]).T @ x + np.diag(penalty * weights.sum())
        beta = np.linalg.solve(gram, (x * weights[:, None]).T @ y)
        residuals = np.abs(y - x @ beta)
        new = np.minimum(1.0, 5.0 * 1.4826 * np.median(residuals) / residuals)
        if np.max(np.abs(new - weights)) < 1e-3:
            break
        weights = new
    assert (weights < 1).sum() > 5  # the case under test: several points weighed down
    np.testing.assert_allclose(huber_ridge(x, y, penalty, huber_c=5.0), beta, rtol=0, atol=1e-12)


PROMO_SPEC = DatasetSpec(freq="D", known_covariates=("promotion", "price"))


def promoted_panel(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two series lifted by 20 on promotion days and by 8 on the two days either side of one,
    plus 3 per unit of a price index; 7 steps more than the history, for a future frame."""
    rng = np.random.default_rng(seed)
    frames = []
    for item in ("a", "b"):
        stamps = pd.date_range("2022-01-03", periods=n + 7, freq="D")
        promotion = (rng.random(n + 7) < 0.08).astype(np.int8)
        near = np.convolve(promotion, np.ones(5), mode="same") > 0
        price = rng.normal(0, 2, n + 7)
        y = 50 + weekly(step_index(stamps, "D")) + 20 * promotion + 8 * (near & (promotion == 0)) + 3 * price
        y += rng.normal(0, 0.5, n + 7)
        frames.append(
            pd.DataFrame(
                {ITEM_ID: item, TIMESTAMP: stamps, TARGET: y, "promotion": promotion, "price": price}
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_when_promotions_and_prices_are_known_then_their_effects_and_windows_are_forecast():
    full = promoted_panel()
    last = full.groupby(ITEM_ID)[TIMESTAMP].transform("max")
    history = full[full[TIMESTAMP] <= last - pd.Timedelta(days=7)].reset_index(drop=True)
    future = full[full[TIMESTAMP] > last - pd.Timedelta(days=7)].reset_index(drop=True)
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(history, PROMO_SPEC, 7)
    assert model.tags.known_covariates
    assert model.encoder_.indicators == ("promotion",) and model.encoder_.numeric[0][0] == "price"
    forecast = model.predict(history, future=future[[ITEM_ID, TIMESTAMP, "promotion", "price"]])
    # Without the covariates the forecast would miss by up to 20 + 6; with them, by the noise.
    np.testing.assert_allclose(forecast[MEAN], future[TARGET], atol=2.0)
    with pytest.raises(DataError, match="promotion"):
        model.predict(history)


def test_when_covariates_are_encoded_then_indicators_get_event_windows_and_text_one_hot():
    columns = {
        "flag": np.array([0, 0, 0, 1, 0, 0, 0, 0]),
        "size": np.array([1.0, 3.0, np.nan, 1.0, 3.0, 1.0, 3.0, np.nan]),
        "colour": np.array(["red", "blue", "red", None, "red", "blue", "red", "red"], dtype=object),
    }
    encoder = CovariateEncoder.learn(columns, radii=(1,))
    assert encoder.names == ("flag", "flag_within_1", "size", "colour=blue", "colour=red")
    # Two series of four rows: the event in the first does not reach into the second.
    out = encoder.encode(columns, np.array([0, 4, 8]))
    np.testing.assert_array_equal(out[:, 1], [0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_allclose(out[:, 2], [-1, 1, 0, -1, 1, -1, 1, 0])  # missing -> the mean
    np.testing.assert_array_equal(out[:, 3], [0, 1, 0, 0, 0, 1, 0, 0])


def test_when_the_panel_has_a_cycle_the_calendar_lacks_then_it_is_detected_and_used():
    t = np.arange(400.0)
    rng = np.random.default_rng(2)
    series = {f"s{i}": 30 + 6 * np.sin(2 * np.pi * t / 30 + i) + rng.normal(0, 0.5, 400) for i in range(4)}
    data = panel(series)
    found = DynamicRegression(season_lengths=(7,), n_jobs=1).fit(data, SPEC, 7)
    assert found.detected_periods_ == (30,)
    assert 30.0 in found.states_["s0"].layout.periods
    plain = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(data, SPEC, 7)
    assert plain.detected_periods_ == ()


def test_when_calibrated_on_a_backtest_then_intervals_cover_about_80_percent():
    # AR(1) noise with phi 0.9: the interval the model derives is right, so the backtest
    # factor stays near 1, and the held-out coverage near 80%.
    rng = np.random.default_rng(4)
    series = {}
    for i in range(30):
        noise = np.zeros(260)
        for k in range(1, 260):
            noise[k] = 0.9 * noise[k - 1] + rng.normal()
        series[f"s{i}"] = 40 + weekly(np.arange(260.0)) + noise
    full = panel(series)
    history = full.groupby(ITEM_ID).head(246).reset_index(drop=True)
    actual = full.groupby(ITEM_ID).tail(14)[TARGET].to_numpy()
    model = DynamicRegression(season_lengths=(7,), detect_periods=False, n_jobs=1).fit(history, SPEC, 14)
    assert 0.7 < model.interval_scale_ < 1.5
    forecast = model.predict(history)
    coverage = np.mean((actual >= forecast["p10"].to_numpy()) & (actual <= forecast["p90"].to_numpy()))
    assert 0.65 < coverage < 0.95
    assert DynamicRegression(calibrate=False, n_jobs=1).fit(history, SPEC, 14).interval_scale_ == 1.0
