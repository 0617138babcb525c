"""Ensemble value: a candidate runs in full when it lowers the ensemble's score on the sample,
or on enough bootstrap resamples of its series."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.automl import ensemble_value
from tidecast.automl.backtest import prepare_windows, windowed_scorer
from tidecast.automl.ensemble import BacktestForecast, greedy_ensemble
from tidecast.automl.scale_free import scale_free_scorer
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec

SPEC = DatasetSpec(freq="D")
QUANTILES = (0.1, 0.5, 0.9)


def panel(n_series: int, length: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ITEM_ID: np.repeat([f"s{i:02d}" for i in range(n_series)], length),
            TIMESTAMP: np.tile(pd.date_range("2024-01-01", periods=length), n_series),
            TARGET: 10.0,
        }
    )


def forecast(values: np.ndarray) -> BacktestForecast:
    return BacktestForecast(mean=values, quantiles=np.repeat(values[:, None], len(QUANTILES), axis=1))


def test_a_picked_point_counts_as_often_as_it_is_listed() -> None:
    data = panel(2, length=6)
    data.loc[data[ITEM_ID] == "s01", TARGET] = 20.0
    windows = prepare_windows(data, SPEC, [BacktestWindow(0, 2, 2), BacktestWindow(1, 2, 2)], 1)
    # Per window the points are s00's two steps (actual 10) then s01's two (actual 20).
    mean = np.tile([9.0, 9.0, 16.0, 16.0], 2)
    q = np.repeat(mean[:, None], 3, axis=1)
    every = windowed_scorer(windows, QUANTILES, "wape")
    assert every(mean, q) == (2 * 1 + 2 * 4) / (2 * 10 + 2 * 20)  # 10 / 60, both windows alike
    twice_s01 = [np.array([0, 1, 2, 3, 2, 3]), np.array([2, 3])]
    picked = windowed_scorer(windows, QUANTILES, "wape", twice_s01)
    window_1 = (2 * 1 + 4 * 4) / (2 * 10 + 4 * 20)  # 18 / 100
    window_2 = 4 / 20  # s01 only
    assert picked(mean, q) == (window_1 + window_2) / 2


def test_a_candidate_that_mends_the_best_runs_on_the_sample_alone() -> None:
    windows = prepare_windows(panel(60), SPEC, [BacktestWindow(0, 2, 2)], 1)
    n = len(windows[0].actual)
    gain = ensemble_value.ensemble_gain(
        {"Naive": forecast(np.full(n, 9.0))},
        "MSTL",
        forecast(np.full(n, 11.0)),
        windows,
        QUANTILES,
        "wape",
        20,
        0,
    )
    assert gain.before == 0.1 and gain.after == 0.0  # 9 and 11 half and half: exactly 10
    assert gain.relative == 1.0 and gain.pays and gain.drawn == 0  # no resample needed


def test_a_candidate_that_helps_a_few_series_runs_when_enough_resamples_say_it_pays() -> None:
    # The best forecasts 9 for 10 everywhere; the trial the same but 9.2 on one series of 60:
    # on the sample it lowers the ensemble's WAPE by 0.2 / 60 = 0.33%, under 0.5%, but where a
    # resample holds that series twice or more it clears 0.5%.
    windows = prepare_windows(panel(60), SPEC, [BacktestWindow(0, 2, 2)], 1)
    items = windows[0].actual[ITEM_ID].to_numpy()
    best = np.full(len(items), 9.0)
    trial = np.where(items == "s07", 9.2, 9.0)
    gain = ensemble_value.ensemble_gain(
        {"Naive": forecast(best)}, "MSTL", forecast(trial), windows, QUANTILES, "wape", 20, 0
    )
    assert np.isclose(gain.relative, 0.2 / 60)
    assert gain.hits == ensemble_value.MIN_HITS and gain.pays
    assert gain.drawn < ensemble_value.RESAMPLES  # it stopped counting once the answer was known
    # The same trial on a series of a panel ten times as wide: no resample holds it often enough.
    wide = prepare_windows(panel(600), SPEC, [BacktestWindow(0, 2, 2)], 1)
    items = wide[0].actual[ITEM_ID].to_numpy()
    trial = np.where(items == "s07", 9.2, 9.0)
    gain = ensemble_value.ensemble_gain(
        {"Naive": forecast(np.full(len(items), 9.0))}, "MSTL", forecast(trial), wide, QUANTILES, "wape", 20, 0
    )
    assert gain.hits < ensemble_value.MIN_HITS and not gain.pays


def test_a_gathering_scorer_scores_and_weighs_as_the_plain_one_bit_for_bit() -> None:
    # The greedy ensemble gathers a resample's points once (`PointScorer.restrict`); the
    # scores, and so the weights, must be those of scoring the whole forecasts every time.
    rng = np.random.default_rng(3)
    data = panel(30, length=10)
    data[TARGET] = rng.gamma(2.0, 5.0, len(data))
    data.loc[rng.choice(len(data), 20, replace=False), TARGET] = np.nan  # unobserved actuals
    windows = prepare_windows(data, SPEC, [BacktestWindow(0, 3, 3), BacktestWindow(1, 3, 3)], 1)
    n = sum(len(w.actual) for w in windows)
    forecasts = {}
    for name, shift in (("a", 0.8), ("b", 1.1), ("c", 1.3)):
        base = rng.gamma(2.0, 5.0 * shift, n)
        forecasts[name] = BacktestForecast(
            base, np.sort(base[:, None] * rng.uniform(0.6, 1.4, (n, 3)), axis=1)
        )
    for picks in (None, [rng.integers(0, len(w.actual), 2 * len(w.actual)) for w in windows]):
        scorers = [windowed_scorer(windows, QUANTILES, m, picks) for m in ("wql", "wape", "mase", "rmse")]
        if picks is None:
            scorers += [scale_free_scorer(windows, QUANTILES, m) for m in ("wql", "wape")]
        for gathering in scorers:

            def plain(mean: np.ndarray, q: np.ndarray, s=gathering) -> float:
                return s(mean, q)

            for f in forecasts.values():
                narrow = gathering.restrict(f)
                assert gathering.restricted(narrow.mean, narrow.quantiles) == gathering(f.mean, f.quantiles)
            assert greedy_ensemble(forecasts, gathering, 20) == greedy_ensemble(forecasts, plain, 20)
