"""Backtest scoring when actuals are missing: those points do not count, the others do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.backtest import prepare_windows, run_candidate, windowed_scorer
from tidecast.automl.windows import BacktestWindow
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.catalog import make_model

SPEC = DatasetSpec(freq="D")
QUANTILES = (0.1, 0.5, 0.9)


def panel(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame(
            {
                ITEM_ID: item,
                TIMESTAMP: pd.date_range("2024-01-01", periods=len(v)),
                TARGET: np.array(v, float),
            }
        )
        for item, v in values.items()
    ).reset_index(drop=True)


def test_when_a_backtest_actual_is_missing_then_the_candidate_is_scored_on_the_others() -> None:
    # Naive forecasts the last history value: a -> 4, b -> 10. Actuals a: 5, NaN; b: NaN, 12.
    data = panel({"a": [1, 2, 3, 4, 5, np.nan], "b": [10, 10, 10, 10, np.nan, 12]})
    windows = prepare_windows(data, SPEC, [BacktestWindow(0, 2, 2)], season_length=1)
    result = run_candidate(
        "Naive", lambda: make_model("Naive", "D"), windows, SPEC, 2, QUANTILES, "wape", None
    )
    assert result.error is None
    # WAPE over the two observed points: (|5 - 4| + |12 - 10|) / (5 + 12).
    assert result.score == pytest.approx(3 / 17)
    assert result.window_metrics[0]["wape"] == pytest.approx(3 / 17)
    # The ensemble's scorer skips the same points: the candidate's forecast scores the same.
    assert result.forecast is not None
    score = windowed_scorer(windows, QUANTILES, "wape")
    assert score(result.forecast.mean, result.forecast.quantiles) == pytest.approx(3 / 17)


def test_when_every_actual_of_a_window_is_missing_then_it_scores_nothing() -> None:
    data = panel({"a": [1, 2, 3, 4, np.nan, np.nan]})
    windows = prepare_windows(data, SPEC, [BacktestWindow(0, 2, 2)], season_length=1)
    result = run_candidate(
        "Naive", lambda: make_model("Naive", "D"), windows, SPEC, 2, QUANTILES, "wape", None
    )
    assert np.isnan(result.window_scores[0])
    assert result.score == float("inf")  # no finite window: never the best candidate


def test_when_a_window_scores_part_of_the_horizon_then_its_covariates_carry_on_past_the_data() -> None:
    data = panel({"b": [1, 2, 3, 4, 5, 6], "a": [7, 8, 9, 10, 11, 12]})
    data["promo"] = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    spec = DatasetSpec(freq="D", known_covariates=("promo",))
    (window,) = prepare_windows(data, spec, [BacktestWindow(0, 2, 2)], season_length=1, horizon=4)
    assert window.actual[TARGET].tolist() == [5, 6, 11, 12]  # two steps scored
    future = window.future
    assert future is not None and future[ITEM_ID].tolist() == ["b"] * 4 + ["a"] * 4
    days = pd.date_range("2024-01-05", periods=4).tolist()
    assert future[TIMESTAMP].tolist() == days * 2
    assert future["promo"].tolist() == [1, 0, 0, 0, 0, 1, 1, 1]  # the last value, carried on
    result = run_candidate(
        "Naive", lambda: make_model("Naive", "D"), [window], spec, 4, QUANTILES, "wape", None
    )
    # Naive forecasts 4 and 10 for all four steps; the two scored: (1 + 2 + 1 + 2) / 34.
    assert result.error is None and result.score == pytest.approx(6 / 34)
