"""Pruning: a candidate far behind the best after its first backtest window stops there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl import pruning
from tidecast.automl.backtest import CandidateResult, prepare_windows
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.forecaster import AutoForecaster
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec

SPEC = DatasetSpec(freq="D")
QUANTILES = (0.1, 0.5, 0.9)
TWO_WINDOWS = [BacktestWindow(0, 2, 2), BacktestWindow(1, 2, 2)]


def flat_panel(n_series: int, length: int = 30, level: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ITEM_ID: np.repeat([f"s{i:03d}" for i in range(n_series)], length),
            TIMESTAMP: np.tile(pd.date_range("2024-01-01", periods=length), n_series),
            TARGET: level,
        }
    )


def forecast(values: np.ndarray) -> BacktestForecast:
    return BacktestForecast(mean=values, quantiles=np.repeat(values[:, None], len(QUANTILES), axis=1))


def test_when_beyond_the_margin_on_window_1_then_the_judge_stops_it_and_says_why() -> None:
    # Every actual is 10: a rival at 9 scores WAPE 0.1 on window 1 (its window 2 at 0, worse,
    # must not count); 0.26 is 2.6x (stops), 0.24 is 2.4x (goes on).
    windows = prepare_windows(flat_panel(5), SPEC, TWO_WINDOWS, 1)
    n = len(windows[0].actual)
    rival = CandidateResult("Naive", forecast=forecast(np.r_[np.full(n, 9.0), np.zeros(n)]))
    failed = CandidateResult("NPTS", error="boom")
    judge = pruning.first_window_judge([failed, rival], windows, QUANTILES, "wape")
    assert judge is not None
    assert judge(0.26) == (
        "stopped after window 1: its wape there was 0.26, 2.60x the best so far (Naive 0.1; goes on within 2.5x)"
    )
    assert judge(0.24) is None
    assert judge(float("nan")) is None


def test_when_one_window_or_no_rival_then_there_is_no_judge() -> None:
    windows = prepare_windows(flat_panel(5), SPEC, TWO_WINDOWS, 1)
    rival = CandidateResult("Naive", forecast=forecast(np.full(2 * len(windows[0].actual), 9.0)))
    assert pruning.first_window_judge([rival], windows[:1], QUANTILES, "wape") is None
    assert (
        pruning.first_window_judge([CandidateResult("NPTS", error="boom")], windows, QUANTILES, "wape")
        is None
    )


def test_when_judging_a_sample_then_the_rival_is_scored_on_the_sampled_points_only() -> None:
    windows = prepare_windows(flat_panel(4), SPEC, TWO_WINDOWS, 1)
    n = len(windows[0].actual)  # 4 series x 2 steps, series-major
    first_rows = np.arange(n) < 2  # the sample: the first series
    values = np.r_[np.full(2, 9.0), np.full(n - 2, 0.0), np.zeros(n)]  # exact 9 only there
    rival = CandidateResult("Naive", forecast=forecast(values))
    sample = [w.__class__(w.window, w.history, w.actual.iloc[:2], None, w.scale[:2]) for w in windows]
    judge = pruning.first_window_judge([rival], sample, QUANTILES, "wape", first_rows)
    assert judge is not None and judge(0.26) is not None and judge(0.24) is None  # best 0.1, not 0.775


def weekly_panel() -> pd.DataFrame:
    """Four series with a Saturday peak: SeasonalNaive and AutoETS close, Naive far behind."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=70)
    data = pd.DataFrame({ITEM_ID: np.repeat(["a", "b", "c", "d"], 70), TIMESTAMP: np.tile(days, 4)})
    data[TARGET] = 10 + 8 * (np.tile(days.dayofweek, 4) == 5) + rng.normal(0, 0.5, len(data))
    return data


def test_when_hopeless_after_window_1_then_dropped_and_a_close_one_kept() -> None:
    auto = AutoForecaster(
        horizon=7, frequency="D", models=["SeasonalNaive", "Naive", "AutoETS"], backtest_windows=3
    )
    board = auto.fit(weekly_panel()).leaderboard().set_index("model")
    naive, ets, snaive = board.loc["Naive"], board.loc["AutoETS"], board.loc["SeasonalNaive"]
    ratio = naive["window_1_wql"] / snaive["window_1_wql"]
    assert ratio > pruning.MARGIN  # Naive runs after SeasonalNaive (same cost, given order)
    assert naive["error"] == (
        f"stopped after window 1: its wql there was {naive['window_1_wql']:.4g}, {ratio:.2f}x the best so far "
        f"(SeasonalNaive {snaive['window_1_wql']:.4g}; goes on within 2.5x)"
    )
    assert np.isnan(naive["window_2_wql"]) and np.isnan(naive["score"]) and naive["weight"] == 0
    assert f"Naive {naive['error']}" in auto.report_.notes
    assert (
        ets["error"] == ""
        and np.isfinite(ets[["window_1_wql", "window_2_wql", "window_3_wql"]].astype(float)).all()
    )
    assert ets["window_1_wql"] <= pruning.MARGIN * snaive["window_1_wql"]
    assert "Naive" not in auto.weights_


def test_when_the_margin_is_wide_then_nothing_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pruning, "MARGIN", 1e9)
    auto = AutoForecaster(horizon=7, frequency="D", models=["SeasonalNaive", "Naive"], backtest_windows=3)
    board = auto.fit(weekly_panel()).leaderboard().set_index("model")
    assert board.loc["Naive", "error"] == "" and np.isfinite(board.loc["Naive", "window_3_wql"])


def test_when_a_screened_trial_stops_after_window_1_then_it_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    data = flat_panel(200, length=40)
    data[TARGET] = 10 + rng.normal(0, 1, len(data))
    monkeypatch.setattr(pruning, "MARGIN", 0.0)  # nothing is within 0x of the best
    auto = AutoForecaster(horizon=3, frequency="D", models=["Naive", "AutoTheta"], backtest_windows=2)
    theta = auto.fit(data).leaderboard().set_index("model").loc["AutoTheta"]
    assert theta["error"].startswith(
        "skipped: on a sample of 60 series (30 first, then the rest), stopped after window 1: its wql there was"
    )
    assert theta["fit_seconds"] > 0 and np.isnan(theta["score"])
