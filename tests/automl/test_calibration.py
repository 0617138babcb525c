"""Quantile recalibration: exact factors on hand-built backtests, and what it never changes."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.backtest import CandidateResult
from tidecast.automl.calibration import (
    GRID,
    MIN_POINTS,
    NARROW_GRID,
    QuantileCalibration,
    fit_calibration,
    fit_level,
    fresh_fit_points,
    level_factor,
)
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.fit_report import FitReport
from tidecast.automl.search import calibrate
from tidecast.data.schema import TARGET, quantile_column

QUANTILES = (0.1, 0.5, 0.9)


def bands(n: int, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    mean = np.zeros(n)
    q = np.column_stack([mean - half_width, mean, mean + half_width])
    return mean, q


def test_when_bands_are_too_narrow_then_they_widen_to_the_true_quantiles():
    # y uniform on [-1, 1] (an exact grid): its 10% and 90% quantiles are -0.8 and 0.8.
    y = np.linspace(-1, 1, 2001)
    mean, q = bands(len(y), 0.4)
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.factors == pytest.approx((2.0, 1.0, 2.0))
    widened = calibration.apply(mean, q)
    np.testing.assert_allclose(widened[0], [-0.8, 0.0, 0.8])


def test_when_bands_are_too_wide_then_they_are_kept_never_narrowed():
    y = np.linspace(-1, 1, 2001) + 5.0
    mean, q = bands(len(y), 1.6)
    mean, q = mean + 5.0, q + 5.0
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.identity


def test_when_widening_then_the_median_never_moves():
    y = np.linspace(-1, 1, 2001) + 5.0
    mean, q = bands(len(y), 0.2)
    mean, q = mean + 5.0, q + 5.0
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.factors == pytest.approx((3.0, 1.0, 3.0))  # 0.8 is beyond 3 x 0.2: the cap
    np.testing.assert_array_equal(calibration.apply(mean, q)[:, 1], q[:, 1])


def test_when_there_are_too_few_points_then_nothing_changes():
    y = np.linspace(-1, 1, MIN_POINTS - 1)
    mean, q = bands(len(y), 0.1)
    calibration = fit_calibration(y, mean, q, QUANTILES)
    assert calibration.identity


def test_when_the_band_has_zero_width_then_the_factor_stays_one():
    y = np.linspace(-1, 1, 500)
    mean, q = bands(len(y), 0.0)
    assert fit_calibration(y, mean, q, QUANTILES).identity


def test_when_actuals_are_missing_then_they_are_ignored():
    y = np.linspace(-1, 1, 2001)
    mean, q = bands(len(y), 0.4)
    y_gappy = y.copy()
    y_gappy[::7] = np.nan
    calibration = fit_calibration(y_gappy, mean, q, QUANTILES)
    assert calibration.factors[0] == pytest.approx(2.0, abs=0.05)
    assert min(GRID) <= min(calibration.factors) and max(calibration.factors) <= max(GRID)


# ---- which backtest windows calibrate (search.calibrate) ----------------------------------------
def _backtest(half_widths: list[float]) -> tuple[list[SimpleNamespace], FitReport]:
    """Windows of y uniform on [-1, 1] whose one candidate states the given half band widths."""
    y = np.linspace(-1, 1, 2001)
    windows = [SimpleNamespace(actual=pd.DataFrame({TARGET: y})) for _ in half_widths]
    parts = [bands(len(y), w) for w in half_widths]
    forecast = BacktestForecast(
        mean=np.concatenate([m for m, _ in parts]), quantiles=np.concatenate([q for _, q in parts])
    )
    report = FitReport(candidates=[CandidateResult(name="M", forecast=forecast)])
    return windows, report


def test_when_only_the_carried_on_windows_are_too_narrow_then_the_refit_bands_are_kept():
    # Window 1 was forecast by a fresh fit and its band is right (the true 10-90% quantiles of
    # y are -0.8 and 0.8); windows 2-3 carried that fit's parameters on and are too narrow.
    windows, report = _backtest([0.8, 0.4, 0.4])
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=False)
    assert calibrate(auto, windows, {"M": 1.0}, QUANTILES, report) is None
    assert report.calibration["factors"] == {"p10": 1.0, "p50": 1.0, "p90": 1.0}
    widened = report.calibration["factors_every_window"]
    assert widened["p10"] > 1.0 and widened["p90"] > 1.0


def test_when_the_fresh_window_alone_asks_more_then_every_window_bounds_the_widening():
    # One window is one stretch of time: the first asks x2, the three together less.
    windows, report = _backtest([0.4, 0.8, 0.8])
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=False)
    calibration = calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)
    assert report.calibration["factors_fresh_fit"]["p90"] == pytest.approx(2.0)
    every = report.calibration["factors_every_window"]["p90"]
    assert 1.0 < every < 2.0
    assert calibration is not None and calibration.factors[2] == pytest.approx(every)


def test_when_every_window_refits_then_every_window_calibrates():
    windows, report = _backtest([0.8, 0.4, 0.4])
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=True)
    calibration = calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)
    assert calibration is not None
    assert 1.0 < calibration.factors[0] < 2.0 and 1.0 < calibration.factors[2] < 2.0
    assert report.calibration["factors_fresh_fit"] == report.calibration["factors_every_window"]


def test_fresh_fit_points_are_the_first_window_unless_each_window_refits():
    assert fresh_fit_points([5, 5, 5], refit_every_window=False) == slice(0, 5)
    assert fresh_fit_points([5, 5, 5], refit_every_window=True) == slice(None)
    assert fresh_fit_points([], refit_every_window=False) == slice(None)


# ---- the level factor: a bias every backtest window shows ---------------------------------------
def _biased(ratios: list[float], n: int = 200) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Windows of n points whose actuals are `ratio` x a forecast of 10..20 with a +-10% band."""
    base = np.linspace(10.0, 20.0, n)
    q = np.tile(np.column_stack([0.9 * base, base, 1.1 * base]), (len(ratios), 1))
    y = np.concatenate([r * base for r in ratios])
    return y, q, [n] * len(ratios)


def test_fit_level_finds_the_factor_that_undoes_a_bias():
    y, q, _ = _biased([1.05])
    assert fit_level(y, q, QUANTILES) == pytest.approx(1.05)
    y, q, _ = _biased([0.97])
    assert fit_level(y, q, QUANTILES) == pytest.approx(0.97)


def test_fit_level_stops_at_the_grids_edge_and_needs_enough_points():
    y, q, _ = _biased([1.3])
    assert fit_level(y, q, QUANTILES) == pytest.approx(1.1)
    y, q, _ = _biased([1.05], n=MIN_POINTS - 1)
    assert fit_level(y, q, QUANTILES) is None


def test_when_every_window_under_forecasts_then_the_smallest_correction_is_applied():
    y, q, sizes = _biased([1.02, 1.05, 1.03])
    fit = level_factor(y, q, QUANTILES, sizes)
    assert fit.factor == pytest.approx(1.02)
    assert fit.per_window == pytest.approx([1.02, 1.05, 1.03])
    assert "under-forecast" in fit.reason


@pytest.mark.parametrize(
    ("ratios", "why"),
    [([1.02, 0.97, 1.03], "no common direction"), ([1.02, 1.3], "beyond 10%"), ([1.04], "too few")],
)
def test_when_windows_disagree_or_one_is_an_event_then_the_level_stays(ratios: list[float], why: str):
    y, q, sizes = _biased(ratios)
    fit = level_factor(y, q, QUANTILES, sizes)
    assert fit.factor == 1.0 and why in fit.reason


def test_when_a_window_has_too_few_points_then_the_level_stays():
    y, q, _ = _biased([1.02, 1.03])
    fit = level_factor(y[: 200 + MIN_POINTS - 1], q[: 200 + MIN_POINTS - 1], QUANTILES, [200, MIN_POINTS - 1])
    assert fit.factor == 1.0 and "too few points" in fit.reason


def test_a_level_factor_scales_the_whole_forecast_before_the_bands():
    calibration = QuantileCalibration(QUANTILES, (2.0, 1.0, 1.5), level=1.1)
    mean, q = np.array([10.0]), np.array([[8.0, 10.0, 12.0]])
    np.testing.assert_allclose(calibration.apply(mean, q), [[6.6, 11.0, 14.3]])
    np.testing.assert_allclose(calibration.apply_mean(mean), [11.0])
    assert not QuantileCalibration(QUANTILES, (1.0, 1.0, 1.0), level=1.1).identity


def test_when_search_calibrates_a_biased_backtest_then_the_report_says_why():
    y, q, _ = _biased([1.02, 1.05, 1.03])
    windows = [SimpleNamespace(actual=pd.DataFrame({TARGET: part})) for part in np.split(y, 3)]
    report = FitReport(
        candidates=[CandidateResult(name="M", forecast=BacktestForecast(mean=q[:, 1], quantiles=q))]
    )
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=False, calibrate_level=True)
    calibration = calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)
    assert calibration is not None and calibration.level == pytest.approx(1.02)
    assert report.calibration["level_per_window"] == pytest.approx([1.02, 1.05, 1.03])
    assert any("scaled by 1.02" in note for note in report.notes)
    auto.calibrate_level = False
    off = calibrate(auto, windows, {"M": 1.0}, QUANTILES, FitReport(candidates=report.candidates))
    assert off is None or off.level == 1.0


def test_when_naive_trails_a_steady_growth_then_the_fit_scales_its_forecast_up():
    # 20 series growing 0.2% a day: Naive (the last value) under-forecasts the next 14 days by
    # 1.5% on average in every window, so the forecast shipped is Naive's times that factor.
    from tidecast import AutoForecaster

    days = pd.date_range("2024-01-01", periods=200, freq="D")
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame(
            {
                "item_id": f"s{i}",
                "timestamp": days,
                "target": (50 + 10 * i) * 1.002 ** np.arange(len(days)) * rng.normal(1, 0.002, len(days)),
            }
        )
        for i in range(20)
    ]
    auto = AutoForecaster(horizon=14, models=["Naive"], backtest_windows=3, n_jobs=1).fit(pd.concat(frames))
    level = auto.report_.calibration["level"]
    assert 1.005 < level < 1.03
    assert all(f is not None and f > 1 for f in auto.report_.calibration["level_per_window"])
    forecast = auto.predict()
    last = pd.concat(frames).groupby("item_id")["target"].last()
    # The median moves by the level alone (the bands never move it); the mean column may be the
    # one the calibrated quantiles imply (`mean_estimate`), within a hair of it here.
    np.testing.assert_allclose(
        forecast.groupby("item_id")[quantile_column(0.5)].first(), last * level, rtol=1e-9
    )
    np.testing.assert_allclose(forecast.groupby("item_id")["mean"].first(), last * level, rtol=1e-3)
    off = AutoForecaster(horizon=14, models=["Naive"], backtest_windows=3, n_jobs=1, calibrate_level=False)
    assert off.fit(pd.concat(frames)).report_.calibration["level"] == 1.0


# ---- narrowing: only where every fit agrees -----------------------------------------------------
def _narrow(half_widths: list[float]) -> QuantileCalibration | None:
    windows, report = _backtest(half_widths)
    auto = SimpleNamespace(calibrate_quantiles=True, refit_every_window=False, calibrate_level=False)
    return calibrate(auto, windows, {"M": 1.0}, QUANTILES, report)


def test_when_every_window_is_too_wide_then_the_bands_narrow():
    # y is uniform on [-1, 1]: its 10% and 90% quantiles are -0.8 and 0.8; each window states
    # +-0.8 / 0.9, which a factor of 0.9 brings exactly onto them.
    calibration = _narrow([0.8 / 0.9] * 3)
    assert calibration is not None
    assert calibration.factors == pytest.approx((0.9, 1.0, 0.9))


def test_when_one_window_holds_its_band_then_nothing_narrows():
    assert _narrow([0.8 / 0.9, 0.8, 0.8 / 0.9]) is None


def test_when_windows_ask_for_different_narrowing_then_the_least_is_taken():
    # The fresh fit (window 1) asks for 0.8, the others for 0.9: the bands narrow by 0.9 only.
    calibration = _narrow([1.0, 0.8 / 0.9, 0.8 / 0.9])
    assert calibration is not None
    assert calibration.factors == pytest.approx((0.9, 1.0, 0.9))


def test_when_there_is_one_window_then_nothing_narrows():
    assert _narrow([0.8 / 0.9]) is None


def test_narrowing_stops_at_the_grids_floor():
    calibration = _narrow([2.0] * 3)  # the true band is 0.4 of the stated one
    assert calibration is not None
    assert min(NARROW_GRID) > 0.4
    assert calibration.factors == pytest.approx((min(NARROW_GRID), 1.0, min(NARROW_GRID)))


def test_factors_are_the_same_whether_the_points_fit_in_one_chunk_or_many(monkeypatch):
    import tidecast.automl.calibration as calibration

    rng = np.random.default_rng(3)
    y = rng.normal(size=5_000)
    mean, q = bands(len(y), 0.5)
    whole = fit_calibration(y, mean, q, QUANTILES)
    monkeypatch.setattr(calibration, "CHUNK", 333)
    assert fit_calibration(y, mean, q, QUANTILES) == whole
    assert whole.factors[0] > 1.0  # N(0, 1)'s 10% quantile is -1.28: the band widens
