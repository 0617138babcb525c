from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data import demo
from tidecast.data.calendar import calendar_features, fourier_terms, step_index
from tidecast.data.period_detection import detect_periods
from tidecast.errors import ConfigError, DataError


def stamps(start: str, periods: int, freq: str) -> np.ndarray:
    return pd.date_range(start, periods=periods, freq=freq).to_numpy()


def panel(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, indptr) of equal-length series, one per row."""
    n, length = matrix.shape
    return matrix.ravel(), np.arange(0, n * length + 1, length)


def test_when_daily_then_calendar_features_match_hand_values() -> None:
    features = calendar_features(np.array(["2023-01-01", "2024-02-29"], dtype="datetime64[ns]"), "D")
    assert list(features.columns) == [
        "day_of_week",
        "is_weekend",
        "day_of_month",
        "day_of_year",
        "is_month_start",
        "is_month_end",
        "week_of_year",
        "month",
        "quarter",
    ]
    # 2023-01-01 is a Sunday in ISO week 52 of 2022; 2024-02-29 a Thursday, leap day 60.
    assert features.iloc[0].tolist() == [6, 1, 1, 1, 1, 0, 52, 1, 1]
    assert features.iloc[1].tolist() == [3, 0, 29, 60, 0, 1, 9, 2, 1]
    assert all(np.issubdtype(dtype, np.integer) for dtype in features.dtypes)


def test_when_many_dates_then_calendar_features_agree_with_pandas() -> None:
    index = pd.date_range("1965-01-01 05:00", "2030-12-31", freq="37h")
    features = calendar_features(index.to_numpy(), "h")
    assert features["hour_of_day"].tolist() == index.hour.tolist()
    assert features["day_of_week"].tolist() == index.dayofweek.tolist()
    assert features["day_of_year"].tolist() == index.dayofyear.tolist()
    assert features["week_of_year"].tolist() == index.isocalendar().week.tolist()
    assert features["is_month_end"].astype(bool).tolist() == index.is_month_end.tolist()
    assert features["quarter"].tolist() == index.quarter.tolist()


@pytest.mark.parametrize(
    ("freq", "columns"),
    [
        ("15min", ["minute_of_hour", "hour_of_day", "day_of_week", "is_weekend"]),
        ("h", ["hour_of_day", "day_of_week", "is_weekend", "day_of_month"]),
        ("B", ["day_of_week", "day_of_month", "day_of_year", "is_month_start"]),
        ("W-SUN", ["week_of_year", "month", "quarter"]),
        ("MS", ["month", "quarter"]),
        ("QS", ["quarter"]),
        ("YE", []),
    ],
)
def test_when_the_frequency_is_coarser_then_only_columns_that_vary_remain(
    freq: str, columns: list[str]
) -> None:
    features = calendar_features(stamps("2023-01-02", 5, freq), freq)
    assert list(features.columns)[: len(columns)] == columns
    if freq in ("W-SUN", "MS", "QS", "YE"):
        assert list(features.columns) == columns
    assert ("is_weekend" in features.columns) == (freq in ("15min", "h"))
    assert len(features) == 5


def test_when_step_index_then_consecutive_steps_differ_by_one_from_a_fixed_epoch() -> None:
    assert step_index(stamps("1970-01-01", 3, "D"), "D").tolist() == [0, 1, 2]
    assert step_index(stamps("1970-01-01", 2, "h"), "2h").tolist() == [0, 0.5]
    assert step_index(stamps("2023-01-01", 3, "MS"), "MS").tolist() == [636, 637, 638]
    assert step_index(stamps("2023-01-31", 3, "ME"), "ME").tolist() == [636, 637, 638]
    assert step_index(stamps("1970-01-04", 3, "W-SUN"), "W-SUN").tolist() == [0, 1, 2]
    assert step_index(stamps("2023-01-01", 2, "QS"), "QS").tolist() == [212, 213]
    assert step_index(stamps("2023-12-31", 2, "YE"), "YE").tolist() == [53, 54]
    business = step_index(stamps("2023-01-05", 3, "B"), "B")  # Thursday, Friday, Monday
    assert np.diff(business).tolist() == [1, 1]


def test_when_fourier_terms_at_known_points_then_exact_values() -> None:
    terms = fourier_terms(np.array([0.0, 1.0, 2.0]), periods=[4, 7], orders=[3, 1])
    # Order 2 of period 4 is its Nyquist term: cosine only; order 3 repeats order 1 and is dropped.
    assert list(terms.columns) == ["sin_4_1", "cos_4_1", "cos_4_2", "sin_7_1", "cos_7_1"]
    np.testing.assert_allclose(terms["sin_4_1"], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(terms["cos_4_1"], [1, 0, -1], atol=1e-12)
    np.testing.assert_allclose(terms["cos_4_2"], [1, -1, 1], atol=1e-12)
    np.testing.assert_allclose(terms["sin_7_1"], np.sin(2 * np.pi * np.arange(3) / 7), atol=1e-12)


def test_when_orders_are_high_then_the_recurrence_matches_direct_sines() -> None:
    t = np.arange(-400, 4000) + 0.25
    terms = fourier_terms(t, periods=[365.25], orders=20)
    for k in (1, 7, 20):
        np.testing.assert_allclose(terms[f"sin_365.25_{k}"], np.sin(2 * np.pi * k * t / 365.25), atol=1e-11)
        np.testing.assert_allclose(terms[f"cos_365.25_{k}"], np.cos(2 * np.pi * k * t / 365.25), atol=1e-11)


def test_when_series_start_at_different_dates_then_the_same_timestamp_gets_the_same_terms() -> None:
    long = stamps("2015-01-01", 3000, "D")
    short = stamps("2022-03-01", 20, "D")
    long_terms = fourier_terms(np.tile(long, 2), [7, 365.25], [3, 4], freq="D")  # panel: gathered
    short_terms = fourier_terms(short, [7, 365.25], [3, 4], freq="D")
    offset = int(np.flatnonzero(long == short[0])[0])
    np.testing.assert_array_equal(long_terms.iloc[offset : offset + 20].to_numpy(), short_terms.to_numpy())
    by_index = fourier_terms(step_index(short, "D"), [7, 365.25], [3, 4])
    np.testing.assert_array_equal(by_index.to_numpy(), short_terms.to_numpy())


def test_when_fourier_arguments_are_wrong_then_config_error() -> None:
    with pytest.raises(ConfigError, match="needs `freq`"):
        fourier_terms(stamps("2023-01-01", 3, "D"), [7], 1)
    with pytest.raises(ConfigError, match="2 Fourier orders for 1 period "):
        fourier_terms(np.arange(3), [7], [1, 2])
    with pytest.raises(ConfigError, match="above 1"):
        fourier_terms(np.arange(3), [1], 1)
    with pytest.raises(DataError, match="NaT"):
        calendar_features(np.array(["2023-01-01", "NaT"], dtype="datetime64[ns]"), "D")


def test_when_a_90_step_cycle_is_planted_in_noise_then_it_is_found() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(720)
    matrix = (
        50 + 0.02 * t + np.sin(2 * np.pi * t / 90 + rng.uniform(0, 6, (10, 1))) + rng.normal(0, 1, (10, 720))
    )
    assert detect_periods(*panel(matrix), max_period=200) == [90]


def test_when_the_data_is_noise_then_no_period_is_found() -> None:
    for seed in range(5):
        rng = np.random.default_rng(seed)
        assert detect_periods(*panel(rng.normal(size=(20, 730))), max_period=365) == []
        assert detect_periods(*panel(rng.normal(size=(1, 730))), max_period=365) == []
        walks = rng.normal(size=(20, 730)).cumsum(axis=1)  # red noise is no long cycle either
        assert detect_periods(*panel(walks), max_period=365) == []


def test_when_daily_data_has_a_weekly_cycle_then_7_is_found_and_not_its_harmonics() -> None:
    rng = np.random.default_rng(3)
    weekday = np.arange(500) % 7
    profile = np.array([1.0, 1.0, 1.1, 1.2, 1.5, 3.0, 0.5])  # spiky: strong harmonics at 3.5, 2.33
    matrix = 100 * profile[weekday] + rng.normal(0, 10, (30, 500))
    assert detect_periods(*panel(matrix), max_period=60) == [7]


def test_when_hourly_data_has_daily_and_weekly_cycles_then_both_are_found() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(24 * 7 * 8)
    hour, weekday = t % 24, (t // 24) % 7
    # 24 is the 7th harmonic of 168, and the evening peak adds harmonics at 12, 8, 6 hours.
    shape = (1 + np.exp(-(((hour - 18) / 3.0) ** 2))) * np.where(weekday >= 5, 0.7, 1.0)
    matrix = 100 * shape + rng.normal(0, 5, (10, len(t)))
    assert detect_periods(*panel(matrix), max_period=400, top=5, snap_to=(24, 168)) == [24, 168]


def test_when_series_are_short_or_missing_values_then_detection_still_works() -> None:
    assert detect_periods(np.arange(10.0), np.array([0, 10]), max_period=7) == []
    rng = np.random.default_rng(4)
    values = 10 + np.sin(2 * np.pi * np.arange(400) / 12) + rng.normal(0, 0.3, 400)
    values[::17] = np.nan
    ragged = np.concatenate([values, values[:250]])
    assert detect_periods(ragged, np.array([0, 400, 650]), max_period=50) == [12]


def test_when_the_demo_data_is_searched_then_its_weekly_and_yearly_cycles_are_found() -> None:
    frame = demo.generate(25, 42)
    items = frame["item_id"].to_numpy()
    indptr = np.append(np.flatnonzero(np.r_[True, items[1:] != items[:-1]]), len(items))
    found = detect_periods(frame["target_value"].to_numpy(), indptr, max_period=400, snap_to=(7, 365))
    assert found == [365, 7]
