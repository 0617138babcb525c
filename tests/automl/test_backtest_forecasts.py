"""The backtest forecasts a user plots: every model on every window, beside the actuals."""

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.demo import generate
from tidecast.errors import ModelError
from tidecast.reports.run import write_evaluation, write_run


@pytest.fixture(scope="module")
def fitted() -> tuple[AutoForecaster, pd.DataFrame]:
    frame = generate(n_items=3, seed=5)[["item_id", "timestamp", "target_value"]]
    frame = frame[frame["timestamp"] >= "2023-06-01"]
    auto = AutoForecaster(
        horizon=7,
        models=["Naive", "SeasonalNaive", "AutoTheta"],
        target_col="target_value",
        backtest_windows=2,
    )
    return auto.fit(frame), frame


def test_when_fitted_then_every_window_point_has_each_model_and_the_actual(fitted):
    auto, frame = fitted
    table = auto.backtest_forecasts()
    assert list(table.columns[:6]) == ["model", "window", "cutoff", "item_id", "timestamp", "actual"]
    assert {"mean", "p10", "p50", "p90"} <= set(table.columns)
    assert {"Naive", "SeasonalNaive", "AutoTheta"} <= set(table["model"])
    per_model = table.groupby("model").size()
    assert (per_model == 3 * 7 * 2).all()
    assert sorted(table["window"].unique()) == [1, 2]
    assert (table["timestamp"] > table["cutoff"]).all()
    actual = table.merge(frame, on=["item_id", "timestamp"])
    np.testing.assert_allclose(actual["actual"], actual["target_value"])


def test_naive_backtest_forecast_is_the_value_at_the_cutoff(fitted):
    auto, frame = fitted
    naive = auto.backtest_forecasts().query("model == 'Naive'")
    at_cutoff = naive.merge(
        frame.rename(columns={"timestamp": "cutoff", "target_value": "last"}), on=["item_id", "cutoff"]
    )
    np.testing.assert_allclose(at_cutoff["mean"], at_cutoff["last"])


def test_when_the_run_is_written_then_backtest_forecasts_csv_is_there(fitted, tmp_path):
    auto, _ = fitted
    paths = write_run(auto, auto.predict(), tmp_path / "run")
    table = pd.read_csv(paths["backtests"])
    assert len(table) == len(auto.backtest_forecasts())
    loaded = AutoForecaster.load(paths["model"])
    with pytest.raises(ModelError, match="no backtest forecasts"):
        loaded.backtest_forecasts()


def test_when_only_evaluated_then_the_backtests_are_written_too(tmp_path):
    frame = generate(n_items=2, seed=6)[["item_id", "timestamp", "target_value"]].tail(300)
    auto = AutoForecaster(horizon=5, models=["Naive", "SeasonalNaive"], target_col="target_value")
    auto.evaluate(frame)
    paths = write_evaluation(auto, tmp_path)
    table = pd.read_csv(paths["backtests"])
    assert {"Naive", "SeasonalNaive"} <= set(table["model"]) and table["actual"].notna().all()


def test_when_not_fitted_then_backtest_forecasts_is_a_model_error():
    # Before, an AttributeError: 'AutoForecaster' object has no attribute 'quantiles_'.
    auto = AutoForecaster(horizon=7)
    with pytest.raises(ModelError, match=r"no backtest forecasts: call fit\(\) or evaluate\(\) first"):
        auto.backtest_forecasts()
