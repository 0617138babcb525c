"""Closed days learnt from the data: every model forecasts 0 where the history never sold."""

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.automl.closures import close_forecast, learn_closures
from tidecast.errors import DataError

DAYS, HORIZON = 84, 7


def shop_panel(n_items: int = 3) -> pd.DataFrame:
    """Daily sales of 10 + i, closed (open = 0, sales 0) on Sundays and on one Wednesday."""
    days = pd.date_range("2024-01-01", periods=DAYS + HORIZON, freq="D")
    is_open = (days.dayofweek != 6).astype(int)
    is_open[17] = 0
    frames = [
        pd.DataFrame(
            {"item_id": f"shop{i}", "timestamp": days, "target": (10.0 + i) * is_open, "open": is_open}
        )
        for i in range(n_items)
    ]
    return pd.concat(frames, ignore_index=True)


def test_when_a_flag_always_comes_with_zero_sales_then_it_is_learnt_as_a_closure():
    panel = shop_panel()
    assert learn_closures(panel, ["open"]) == (("open", 0.0),)
    # A promotion-like flag whose 1s sell is never a closure.
    panel["promo"] = (np.arange(len(panel)) % 5 == 0).astype(int)
    assert learn_closures(panel, ["promo"]) == ()


def test_when_a_model_cannot_read_covariates_then_closed_future_days_are_still_zero():
    panel = shop_panel()
    train = panel[panel["timestamp"] < panel["timestamp"].max() - pd.Timedelta(days=HORIZON - 1)]
    future = panel[panel["timestamp"] > train["timestamp"].max()][["item_id", "timestamp", "open"]].copy()
    future.loc[future["timestamp"].dt.dayofweek == 2, "open"] = 0  # a planned closure on a Wednesday
    auto = AutoForecaster(horizon=HORIZON, known_covariates=["open"], models=["Naive", "Average"], n_jobs=1)
    forecast = auto.fit(train).predict(future=future)
    merged = forecast.merge(future, on=["item_id", "timestamp"])
    closed = merged[merged["open"] == 0]
    assert len(closed) == 3 * 2  # the Sunday and the planned Wednesday, for each shop
    assert (closed[["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()
    assert (merged.loc[merged["open"] == 1, "mean"] > 0).all()
    assert any("closed days" in note for note in auto.report_.notes)


def test_when_no_plan_of_closed_days_is_given_then_the_forecast_is_refused_not_made_open():
    panel = shop_panel()
    train = panel[panel["timestamp"] < panel["timestamp"].max() - pd.Timedelta(days=HORIZON - 1)]
    auto = AutoForecaster(horizon=HORIZON, known_covariates=["open"], models=["Naive", "Average"], n_jobs=1)
    auto.fit(train)
    with pytest.raises(
        DataError, match=r"closed days \(every observed row with open = 0 sold 0\).*\['open'\]"
    ):
        auto.predict()
    future = panel[panel["timestamp"] > train["timestamp"].max()][["item_id", "timestamp", "open"]]
    with pytest.raises(DataError, match=r"needs the known covariates \['open'\]"):
        auto.predict_canonical(train.drop(columns="open"), future.drop(columns="open"))
    forecast = auto.predict(future=future)
    assert (forecast.loc[forecast["timestamp"].dt.dayofweek == 6, "mean"] == 0).all()


def test_when_no_rule_applies_then_the_forecast_is_returned_unchanged():
    forecast = pd.DataFrame(
        {"item_id": ["a"], "timestamp": [pd.Timestamp("2024-01-01")], "mean": [3.0], "p50": [3.0]}
    )
    assert close_forecast(forecast, None, (("open", 0.0),)) is forecast
    assert close_forecast(forecast, forecast.assign(open=1), ()) is forecast
