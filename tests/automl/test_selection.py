"""Ensemble or best single model, compared on backtest points the ensemble's weights did not see.

Hand-built forecasts of one series whose actual is always 10, with the median (q = 0.5) as the
only quantile, so wQL is Σ|error| / Σ|actual|. A is a little low, B too high: their average is
near exact on some windows, which makes the ensemble look best on the windows it was fitted on.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.backtest import CandidateResult, WindowData, score_window
from tidecast.automl.ensemble import BacktestForecast
from tidecast.automl.selection import ENSEMBLE, _earlier_duel, holdout_split, naive_is_competitive, select
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP

Q = (0.5,)


def window(index: int, n_windows: int, horizon: int = 2) -> WindowData:
    start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=index * horizon)
    actual = pd.DataFrame(
        {
            ITEM_ID: "a",
            TIMESTAMP: pd.date_range(start, periods=horizon, freq="D"),
            TARGET: 10.0,
        }
    )
    offset = (n_windows - 1 - index) * horizon + horizon
    w = BacktestWindow(index=index, offset=offset, horizon=horizon)
    return WindowData(w, actual.iloc[:0], actual, None, np.ones(horizon))


def candidate(name: str, per_window: list[list[float]], windows: list[WindowData]) -> CandidateResult:
    mean = np.concatenate([np.asarray(v, dtype=float) for v in per_window])
    result = CandidateResult(name=name, forecast=BacktestForecast(mean, mean[:, None]))
    lo = 0
    for w, values in zip(windows, per_window, strict=True):
        hi = lo + len(values)
        metrics = score_window(w, mean[lo:hi], mean[lo:hi, None], Q)
        result.window_metrics.append(metrics)
        result.window_scores.append(metrics["wql"])
        lo = hi
    return result


def three_windows(
    last_a: float,
    last_b: float,
    first: tuple[float, float] = (8.5, 12.0),
    middle: tuple[float, float] = (8.5, 12.0),
) -> tuple[list[WindowData], list[CandidateResult]]:
    """A and B on windows 1, 2 and 3 (each value for both steps)."""
    windows = [window(k, 3) for k in range(3)]
    a = candidate("A", [[first[0]] * 2, [middle[0]] * 2, [last_a, last_a]], windows)
    b = candidate("B", [[first[1]] * 2, [middle[1]] * 2, [last_b, last_b]], windows)
    return windows, [a, b]


def test_when_the_ensemble_wins_only_in_sample_then_the_best_single_model_is_chosen():
    # Window 1: A 0 and B 20, both wQL 1, their average exact. Windows 2 and 3: A 0.05, B
    # 0.4, their average (12.25) 0.225. On all three the 50/50 mix scores 0.15 against A's
    # 0.367, so weights fitted and scored on every window would pick the ensemble; A beats
    # it on window 3 (weights from windows 1-2) and on window 2 (weights from window 1).
    windows, candidates = three_windows(last_a=10.5, last_b=14.0, first=(0.0, 20.0), middle=(10.5, 14.0))
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.ensemble_weights == {"A": 0.5, "B": 0.5}
    assert selection.fit_weights == {"A": 0.5, "B": 0.5}
    assert selection.holdout_scores == pytest.approx({"A": 0.05, "B": 0.4, ENSEMBLE: 0.225})
    assert selection.ensemble_metrics["wql"] == pytest.approx(0.225)
    assert selection.best == "A"
    assert selection.weights == {"A": 1.0}
    assert "did not beat the best single model (A)" in selection.notes[0]
    assert selection.scored_on.startswith("window 3 (the last)")
    assert selection.scored_window == 2
    assert selection.earlier_duel["scores"] == pytest.approx({"A": 0.05, ENSEMBLE: 0.225})
    assert selection.earlier_duel["ensemble_stays"] is False


def test_when_a_single_model_wins_only_the_last_window_then_the_ensemble_stays():
    # Windows 1-2: A 0.15, B 0.2, their average (10.25) 0.025. Window 3: A 0.05, B 0.4,
    # average (12.25) 0.225: A wins it, but on window 2 (weights fitted on window 1) the
    # average beat A, so one window's win does not unseat the ensemble.
    windows, candidates = three_windows(last_a=10.5, last_b=14.0)
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.holdout_scores == pytest.approx({"A": 0.05, "B": 0.4, ENSEMBLE: 0.225})
    assert selection.best == ENSEMBLE and selection.weights == {"A": 0.5, "B": 0.5}
    assert "(A) beat the ensemble on window 3 (the last)" in selection.notes[-1]
    assert "but not on window 2 (A 0.15 against 0.025)" in selection.notes[-1]
    assert selection.earlier_duel == {
        "scored_on": "window 2",
        "single_model": "A",
        "scores": pytest.approx({"A": 0.15, ENSEMBLE: 0.025}),
        "fit_weights": {"A": 0.5, "B": 0.5},
        "ensemble_stays": True,
    }


def test_when_there_are_two_windows_then_a_single_model_that_wins_the_last_is_chosen():
    # No window before the last but one to fit weights on: the last window alone decides.
    windows = [window(k, 2) for k in range(2)]
    a = candidate("A", [[8.5, 8.5], [10.5, 10.5]], windows)
    b = candidate("B", [[12.0, 12.0], [14.0, 14.0]], windows)
    selection = select([a, b], windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.holdout_scores == pytest.approx({"A": 0.05, "B": 0.4, ENSEMBLE: 0.225})
    assert selection.best == "A" and selection.weights == {"A": 1.0}


def test_when_the_ensemble_also_wins_on_the_held_out_window_then_it_is_chosen_with_weights_from_all():
    windows, candidates = three_windows(last_a=8.5, last_b=12.0)
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.holdout_scores == pytest.approx({"A": 0.15, "B": 0.2, ENSEMBLE: 0.025})
    assert selection.best == ENSEMBLE
    assert selection.weights == {"A": 0.5, "B": 0.5}


def test_when_there_is_one_window_then_weights_are_fitted_on_its_first_half_and_judged_on_the_second():
    windows = [window(0, 1, horizon=4)]
    # Steps 1-2: A 8.5, B 12 (the mix 10.25 wins); steps 3-4: A 10.5, B 14 (the mix loses).
    a = candidate("A", [[8.5, 8.5, 10.5, 10.5]], windows)
    b = candidate("B", [[12.0, 12.0, 14.0, 14.0]], windows)
    holdout = holdout_split(windows)
    assert holdout is not None
    np.testing.assert_array_equal(holdout.fit_rows, [0, 1])
    np.testing.assert_array_equal(holdout.test_rows, [2, 3])
    selection = select([a, b], windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.scored_on.startswith("steps 3-4 of the only window")
    assert selection.holdout_scores == pytest.approx({"A": 0.05, "B": 0.4, ENSEMBLE: 0.225})
    assert selection.weights == {"A": 1.0}


def test_when_one_window_has_one_step_then_the_ensemble_score_is_in_sample_and_never_chosen():
    windows = [window(0, 1, horizon=1)]
    a = candidate("A", [[8.5]], windows)
    b = candidate("B", [[12.0]], windows)
    selection = select([a, b], windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.in_sample
    assert selection.ensemble_weights == {"A": 0.5, "B": 0.5}
    assert selection.ensemble_metrics["wql"] == pytest.approx(0.025)  # better than A's 0.15
    assert selection.best == "A" and selection.weights == {"A": 1.0}


def test_when_a_candidate_failed_then_it_takes_no_part():
    windows, candidates = three_windows(last_a=8.5, last_b=12.0)
    candidates[1].error = "RuntimeError: boom"
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.weights == {"A": 1.0}
    assert set(selection.holdout_scores) == {"A", ENSEMBLE}


def test_when_windows_overlap_then_only_the_steps_no_earlier_window_holds_are_held_out():
    # Horizon 4, windows 2 steps apart: the last window's first 2 steps were window 1's last 2.
    windows = [window(0, 2, horizon=4), window(1, 2, horizon=4)]
    windows[0] = dataclasses.replace(windows[0], window=BacktestWindow(index=0, offset=6, horizon=4))
    a = candidate("A", [[8.5, 8.5, 8.5, 8.5], [8.5, 8.5, 10.5, 10.5]], windows)
    b = candidate("B", [[12.0, 12.0, 12.0, 12.0], [12.0, 12.0, 14.0, 14.0]], windows)
    holdout = holdout_split(windows)
    assert holdout is not None
    np.testing.assert_array_equal(holdout.test_rows, [6, 7])
    assert holdout.whole_window is None
    selection = select([a, b], windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.scored_on.startswith("steps 3-4 of window 2")
    assert selection.holdout_scores == pytest.approx({"A": 0.05, "B": 0.4, ENSEMBLE: 0.225})
    assert selection.scored_window is None
    assert selection.weights == {"A": 1.0}


def panel_window(index: int, n_windows: int, items: tuple[str, ...], horizon: int = 2) -> WindowData:
    """`window` with several series, each with actual 10 at every step."""
    start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=index * horizon)
    stamps = pd.date_range(start, periods=horizon, freq="D")
    actual = pd.DataFrame(
        {ITEM_ID: np.repeat(items, horizon), TIMESTAMP: np.tile(stamps, len(items)), TARGET: 10.0}
    )
    w = BacktestWindow(index=index, offset=(n_windows - 1 - index) * horizon + horizon, horizon=horizon)
    return WindowData(w, actual.iloc[:0], actual, None, np.ones(len(actual)))


def four_series(
    last_a: list[float],
    last_b: list[float],
    first: tuple[float, float] = (8.5, 12.0),
    middle: tuple[float, float] = (8.5, 12.0),
) -> tuple[list[WindowData], list[CandidateResult]]:
    """Windows 1-2 as in `three_windows` for four series; window 3 per series as given."""
    items = ("a", "b", "c", "d")
    windows = [panel_window(k, 3, items) for k in range(3)]
    a = candidate("A", [[first[0]] * 8, [middle[0]] * 8, list(np.repeat(last_a, 2))], windows)
    b = candidate("B", [[first[1]] * 8, [middle[1]] * 8, list(np.repeat(last_b, 2))], windows)
    return windows, [a, b]


def test_when_a_single_model_wins_the_held_out_window_by_noise_then_the_ensemble_stays():
    # Window 3: A is exact on a, b, c and 3.4 high on d (wQL 6.8 / 80 = 0.085); B is 2 high on
    # a, b, c and 1 high on d (0.175); the 50/50 mix 1, 1, 1 and 2.2 high (0.13). A wins by
    # 0.045, but the per-series differences (0.025, 0.025, 0.025, -0.03) spread so that z is
    # 0.045 / (2 x 0.0275) = 0.82: noise, so the ensemble stays.
    windows, candidates = four_series(last_a=[10.0, 10.0, 10.0, 13.4], last_b=[12.0, 12.0, 12.0, 11.0])
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.holdout_scores == pytest.approx({"A": 0.085, "B": 0.175, ENSEMBLE: 0.13})
    assert selection.best == ENSEMBLE and selection.weights == {"A": 0.5, "B": 0.5}
    assert "(A) scored wql 0.085 against the ensemble's 0.13" in selection.notes[-1]
    assert "0.82 standard errors apart" in selection.notes[-1] and "within noise" in selection.notes[-1]


def test_when_a_single_model_wins_the_held_out_window_on_every_series_then_it_is_chosen():
    # Window 3: A exact everywhere, B 4 high everywhere, the mix 2 high: A wins on all four
    # series by the same amount, infinitely many standard errors. Window 2 likewise (A exact,
    # B 2 high, the mix fitted on window 1 1 high); window 1 (A 0, B 20, both wQL 1, the mix
    # exact) keeps the mix ahead over all three windows.
    windows, candidates = four_series(
        last_a=[10.0] * 4, last_b=[14.0] * 4, first=(0.0, 20.0), middle=(10.0, 12.0)
    )
    selection = select(candidates, windows, Q, "wql", size=2)
    assert selection is not None
    assert selection.holdout_scores == pytest.approx({"A": 0.0, "B": 0.4, ENSEMBLE: 0.2})
    assert selection.best == "A" and selection.weights == {"A": 1.0}
    assert "did not beat the best single model (A)" in selection.notes[-1]


def test_naive_is_competitive_when_its_mean_score_is_within_twice_the_best():
    # Mean over windows: Naive (0.14 + 0.12) / 2 = 0.13, the best (0.06 + 0.07) / 2 = 0.065:
    # exactly 2x, still competitive; a little worse and it is not.
    def result(name: str, scores: list[float], error: str | None = None) -> CandidateResult:
        return CandidateResult(name, window_scores=scores, error=error)

    best = result("AutoTheta", [0.06, 0.07])
    assert naive_is_competitive([best, result("Naive", [0.14, 0.12])])
    assert not naive_is_competitive([best, result("Naive", [0.14, 0.1201])])
    # A Naive stopped after its first window (`pruning`) or missing is never competitive.
    assert not naive_is_competitive([best, result("Naive", [0.1], error="stopped after window 1")])
    assert not naive_is_competitive([best])


@pytest.mark.parametrize("weighted_by", ["wql", "scaled quantile loss"])
def test_the_earlier_duel_fits_its_weights_on_the_loss_the_final_ones_were_fitted_on(weighted_by):
    # Windows 1-2 of `four_series`: on window 1 A is 1.5 low and B 2 high on every series, so
    # the 50/50 mix (0.25 high) beats both on either loss; window 2 judges it.
    windows, candidates = four_series(last_a=[10.0] * 4, last_b=[14.0] * 4, middle=(10.0, 12.0))
    rows = np.arange(16)  # windows 1 and 2: four series, two steps each
    forecasts = {
        c.name: BacktestForecast(c.forecast.mean[rows], c.forecast.quantiles[rows]) for c in candidates
    }
    found = _earlier_duel(forecasts, windows[:2], Q, "wql", 2, weighted_by)
    assert found is not None
    where, duel = found
    assert where == "window 2"
    assert duel.weights == {"A": 0.5, "B": 0.5} and duel.rival == "A"
    # Window 2: A exact (0), B 2 high (0.2), the mix 1 high (0.1): A wins on every series.
    assert duel.single == pytest.approx(0.0) and duel.ensemble == pytest.approx(0.1)
    assert not duel.ensemble_stays


def test_there_is_no_earlier_duel_with_one_window_before_the_last():
    windows, candidates = three_windows(last_a=10.5, last_b=14.0)
    forecasts = {c.name: BacktestForecast(c.forecast.mean[:2], c.forecast.quantiles[:2]) for c in candidates}
    assert _earlier_duel(forecasts, windows[:1], Q, "wql", 2, "wql") is None
