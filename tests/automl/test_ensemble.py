import numpy as np
import pandas as pd
import pytest

from tidecast.automl.ensemble import BacktestForecast, combine, combine_members, greedy_ensemble


def mae(y: np.ndarray):
    def score(mean: np.ndarray, q: np.ndarray) -> float:
        return float(np.mean(np.abs(y - mean)))

    return score


def forecast(values: list[float]) -> BacktestForecast:
    mean = np.asarray(values, dtype=float)
    return BacktestForecast(mean=mean, quantiles=np.stack([mean - 1, mean, mean + 1], axis=1))


def test_when_one_model_is_exact_then_it_gets_all_the_weight():
    y = np.array([1.0, 2.0, 3.0])
    weights = greedy_ensemble({"bad": forecast([0, 0, 0]), "exact": forecast([1, 2, 3])}, mae(y))
    assert weights == {"exact": 1.0}


def test_when_errors_cancel_then_the_ensemble_mixes_them_equally():
    # A is 1 too high everywhere and B 1 too low: their average is exact.
    y = np.array([5.0, 5.0, 5.0, 5.0])
    weights = greedy_ensemble({"A": forecast([6, 6, 6, 6]), "B": forecast([4, 4, 4, 4])}, mae(y))
    assert weights == pytest.approx({"A": 0.5, "B": 0.5})


def test_when_mixing_three_to_one_is_best_then_weights_follow_the_selection_counts():
    # y = 1; A = 0 and B = 4: the best mix with weights in quarters is 3/4 A + 1/4 B = 1.
    y = np.array([1.0])
    weights = greedy_ensemble({"A": forecast([0]), "B": forecast([4])}, mae(y), size=20)
    combined = combine({"A": forecast([0]), "B": forecast([4])}, weights)
    assert combined.mean == pytest.approx([1.0])
    assert weights == pytest.approx({"A": 0.75, "B": 0.25})


def test_when_a_candidate_has_nan_forecasts_then_it_is_never_selected():
    y = np.array([1.0, 2.0])
    weights = greedy_ensemble({"nan": forecast([1, np.nan]), "ok": forecast([1, 3])}, mae(y))
    assert weights == {"ok": 1.0}


def test_when_combining_then_quantiles_stay_ordered():
    a, b = forecast([1, 5]), forecast([3, 2])
    combined = combine({"a": a, "b": b}, {"a": 0.3, "b": 0.7})
    assert np.all(np.diff(combined.quantiles, axis=1) >= 0)
    assert combined.mean == pytest.approx([0.3 * 1 + 0.7 * 3, 0.3 * 5 + 0.7 * 2])


def test_when_a_member_falls_back_on_an_item_then_the_others_forecast_it_alone():
    # A new item too short for B: B's naive level stands in for B's model, which the weights
    # were never chosen on (short items are left out of the backtest). Item "old" keeps the
    # weights; "new" gets A alone; "tiny", a fallback for both, keeps the weights.
    def frame(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"item_id": ["old", "old", "new", "new", "tiny", "tiny"], "mean": values})

    frames = {"A": frame([10, 10, 20, 20, 1, 1]), "B": frame([14, 14, 80, 80, 3, 3])}
    combined = combine_members(frames, {"A": 0.5, "B": 0.5}, {"B": ["new", "tiny"], "A": ["tiny"]}, ["mean"])
    assert combined["mean"].tolist() == [12, 12, 20, 20, 2, 2]
    assert frames["A"]["mean"].tolist() == [10, 10, 20, 20, 1, 1]  # the members' frames are not touched


def test_when_fallbacks_are_kept_then_every_member_keeps_its_weight():
    # Where Naive is competitive (`selection.naive_is_competitive`) a member's naive level
    # stays in the mix of the items it falls back on.
    def frame(values: list[float]) -> pd.DataFrame:
        return pd.DataFrame({"item_id": ["old", "new"], "mean": values})

    frames = {"A": frame([10, 20]), "B": frame([14, 80])}
    kept = combine_members(frames, {"A": 0.25, "B": 0.75}, {"B": ["new"]}, ["mean"], keep_fallbacks=True)
    assert kept["mean"].tolist() == [13, 65]
    dropped = combine_members(frames, {"A": 0.25, "B": 0.75}, {"B": ["new"]}, ["mean"])
    assert dropped["mean"].tolist() == [13, 20]
