"""Ensemble weights fitted on the scale-free loss when the volume-weighted objective's are noise.

Hand-built panel, median only (so wQL is Σ|error| / Σ|actual|): one big series (actual 100,
scale 10) and four small ones (actual 10, scale 1), two steps per window, three windows.
A is exact on the big series and 2 too high on the small ones; B is 20 too high on the big
series and 2 too low on the small ones, so the 50/50 mix is exact on the small series. On
windows 1-2 wQL (280 of volume per window, 200 of it the big series') prefers A alone
(0.0571 against the mix's 0.0714), while the scaled loss, where each series counts the same,
prefers the mix (0.2 against A's 1.6).
"""

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.backtest import CandidateResult, WindowData, score_window
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.scale_free import compare, counterpart, point_losses, scale_free_scorer
from tidecast.automl.selection import ENSEMBLE, select
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP

Q = (0.5,)
ITEMS = ["big", "s1", "s2", "s3", "s4"]
STEPS = 2


def window(index: int) -> WindowData:
    start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=index * STEPS)
    actual = pd.DataFrame(
        {
            ITEM_ID: np.repeat(ITEMS, STEPS),
            TIMESTAMP: np.tile(pd.date_range(start, periods=STEPS, freq="D"), len(ITEMS)),
            TARGET: np.repeat([100.0, 10.0, 10.0, 10.0, 10.0], STEPS),
        }
    )
    scale = np.repeat([10.0, 1.0, 1.0, 1.0, 1.0], STEPS)
    w = BacktestWindow(index=index, offset=(2 - index) * STEPS + STEPS, horizon=STEPS)
    return WindowData(w, actual.iloc[:0], actual, None, scale)


def values(big: float, small: float) -> np.ndarray:
    return np.repeat([big, small, small, small, small], STEPS).astype(float)


def candidate(name: str, per_window: list[np.ndarray], windows: list[WindowData]) -> CandidateResult:
    mean = np.concatenate(per_window)
    result = CandidateResult(name=name, forecast=BacktestForecast(mean, mean[:, None]))
    for w, v in zip(windows, per_window, strict=True):
        metrics = score_window(w, v, v[:, None], Q)
        result.window_metrics.append(metrics)
        result.window_scores.append(metrics["wql"])
    return result


def panel(last_a: np.ndarray, last_b: np.ndarray) -> tuple[list[WindowData], list[CandidateResult]]:
    windows = [window(k) for k in range(3)]
    a = candidate("A", [values(100, 12), values(100, 12), last_a], windows)
    b = candidate("B", [values(120, 8), values(120, 8), last_b], windows)
    return windows, [a, b]


def test_when_points_are_divided_by_their_series_scale_then_every_series_counts_the_same():
    w = window(0)
    score = scale_free_scorer([w], Q, "wql")
    a, b, mix = values(100, 12), values(120, 8), values(110, 10)
    # A: 0 on the big series, 2/1 on 8 small points -> 16/10; B: 20/10 on 2 big, 2/1 on 8 small
    # -> 20/10; the mix: 10/10 on 2 big points, exact on the small ones -> 2/10.
    assert score(a, a[:, None]) == pytest.approx(1.6)
    assert score(b, b[:, None]) == pytest.approx(2.0)
    assert score(mix, mix[:, None]) == pytest.approx(0.2)


def test_when_a_series_has_no_scale_then_the_scaled_loss_leaves_it_out():
    w = window(0)
    w.scale[:STEPS] = 0.0  # the big series' history was constant
    a = values(100, 12)
    assert scale_free_scorer([w], Q, "wql")(a, a[:, None]) == pytest.approx(2.0)


def test_when_comparing_two_forecasts_then_the_advantage_is_in_standard_errors_of_per_series_differences():
    # Objective forecast A (big 130, small 12) against the mix (big 120, small exact): per series
    # differences 20/280 once and 4/280 four times, sum 9/70, sample sd √80/350: z = 2.25.
    w = window(2)
    a, mix = values(130, 12), values(120, 10)
    result = compare(w, BacktestForecast(a, a[:, None]), BacktestForecast(mix, mix[:, None]), Q, "wql")
    assert result.objective == pytest.approx(76 / 280)
    assert result.scale_free == pytest.approx(40 / 280)
    assert result.z == pytest.approx(2.25)
    assert result.n_series == 5
    assert result.significant


def test_when_the_scale_free_weights_win_the_held_out_window_clearly_then_the_ensemble_uses_them():
    # Window 3: the big series moves (A 130, B 110); the mix scores 40/280 against A's 76/280.
    windows, candidates = panel(last_a=values(130, 12), last_b=values(110, 8))
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.weighted_by == "scaled quantile loss"
    assert selection.fit_weights == {"A": 0.5, "B": 0.5}
    assert selection.holdout_scores == pytest.approx({"A": 76 / 280, "B": 36 / 280, ENSEMBLE: 40 / 280})
    assert selection.best == ENSEMBLE
    assert selection.weights == {"A": 0.5, "B": 0.5}
    assert "2.25 standard errors apart over 5 series" in selection.notes[0]


def test_when_the_scale_free_weights_win_on_one_series_only_then_the_objective_weights_stay():
    # Window 3: only the big series tells them apart (A 130, the mix 120); the small series tie
    # (A and B both exact), so z = 1 and wQL's own weights (A alone) are kept.
    windows, candidates = panel(last_a=values(130, 10), last_b=values(110, 10))
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.weighted_by == "wql"
    assert selection.fit_weights == {"A": 1.0}
    assert selection.weights == {"A": 1.0}


def test_when_the_objective_is_wape_or_wql_then_point_losses_add_up_to_its_numerator():
    y = np.array([10.0, 20.0])
    mean = np.array([11.0, 30.0])
    q = np.array([[8.0, 12.0, 14.0], [15.0, 18.0, 25.0]])
    levels = (0.1, 0.5, 0.9)
    # WAPE reads the median (12, 18), not the mean: |10-12| and |20-18|.
    np.testing.assert_allclose(point_losses("wape", y, mean, q, levels), [2.0, 2.0])
    # wQL: 2·pinball averaged over levels. y=10: 0.1·2, 0.5·2, 0.1·4 -> 2·1.6/3; y=20: 0.1·5, 0.5·2, 0.1·5 -> 2·2/3.
    np.testing.assert_allclose(point_losses("WQL", y, mean, q, levels), [3.2 / 3, 4.0 / 3])
    assert counterpart("WQL") == "scaled quantile loss"
    assert counterpart("rmse") is None
