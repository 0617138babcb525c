"""The plain LightGBM baseline and the retail splits: no look-ahead, boundaries, covariates."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
plain_lgbm = pytest.importorskip("plain_lgbm")
retail = pytest.importorskip("retail")


def test_when_lags_are_chosen_then_none_is_inside_the_horizon():
    assert plain_lgbm.lags_for(14, 7, 1825, 364) == [14, 15, 16, 21, 28, 364]
    assert plain_lgbm.lags_for(4, 52, 110, 52) == [4, 5, 6, 52, 104]
    assert min(plain_lgbm.lags_for(48, 24, 700, 364)) == 48


def test_when_shifting_and_rolling_then_series_boundaries_hold():
    values = np.array([1.0, 2.0, 3.0, 10.0, np.nan, 30.0])
    position = np.array([0, 1, 2, 0, 1, 2])
    shifted = plain_lgbm._shift(values, position, 1)
    np.testing.assert_array_equal(shifted, [np.nan, 1.0, 2.0, np.nan, 10.0, np.nan])
    np.testing.assert_allclose(
        plain_lgbm._rolling_mean(values, position, 2), [1.0, 1.5, 2.5, 10.0, 10.0, 30.0]
    )


def _panel(n_days: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two daily series; closed (open = 0) on Sundays, when they sell nothing."""
    days = pd.date_range("2022-01-01", periods=n_days + 7, freq="D")
    rng = np.random.default_rng(0)
    frames = []
    for item, level in (("a", 10.0), ("b", 1000.0)):
        opened = (days.dayofweek != 6).astype(np.int8)
        target = opened * level * (1 + 0.1 * rng.standard_normal(len(days)))
        frames.append(pd.DataFrame({"item_id": item, "timestamp": days, "target": target, "open": opened}))
    data = pd.concat(frames, ignore_index=True)
    cut = data["timestamp"] <= days[n_days - 1]
    return data[cut].reset_index(drop=True), data[~cut].reset_index(drop=True)


def test_when_forecasting_then_closed_days_are_near_zero_and_quantiles_ordered():
    history, future = _panel()
    forecast = plain_lgbm.forecast(history, future.drop(columns="target"), 7, "D", 7, ["open"])
    assert len(forecast) == len(future)
    assert (forecast["p10"] <= forecast["p50"]).all() and (forecast["p50"] <= forecast["p90"]).all()
    merged = forecast.merge(future, on=["item_id", "timestamp"])
    closed, opened = merged[merged["open"] == 0], merged[merged["open"] == 1]
    assert (closed["p50"].abs() < 0.1 * closed["item_id"].map({"a": 10.0, "b": 1000.0})).all()
    ratio = opened.groupby("item_id").apply(lambda g: (g["p50"] / g["target"]).median(), include_groups=False)
    assert ratio.between(0.8, 1.2).all()


def test_when_the_future_target_changes_then_the_features_do_not():
    history, future = _panel()
    grid = pd.concat([history, future], ignore_index=True).sort_values(
        ["item_id", "timestamp"], ignore_index=True
    )
    is_future = grid["timestamp"].isin(future["timestamp"]).to_numpy()
    first, _ = plain_lgbm.features(grid, 7, 7, False, ["open"], 28, is_future)
    grid.loc[is_future, "target"] = 1e9
    second, _ = plain_lgbm.features(grid, 7, 7, False, ["open"], 28, is_future)
    pd.testing.assert_frame_equal(first, second)


def test_when_a_series_misses_weeks_before_the_origin_then_its_split_still_ends_there():
    weeks = pd.date_range("2020-01-02", periods=30, freq="W-THU")
    rows = pd.DataFrame({"item_id": np.repeat(["x", "y"], 30), "timestamp": np.tile(weeks, 2)})
    rows["target"] = 5.0
    rows["price"] = 1.0
    data = rows[~((rows["item_id"] == "y") & rows["timestamp"].isin(weeks[20:23]))].reset_index(drop=True)
    panel = retail.Panel("toy", "W-THU", 4, 52, ("price",), 13)
    grid = data.merge(rows[["item_id", "timestamp"]], how="right").sort_values(["item_id", "timestamp"])
    grid["price"] = grid.groupby("item_id")["price"].ffill()
    s = retail.split(panel, data, grid.reset_index(drop=True), 1)
    assert s.origin == weeks[21]
    assert (s.train.groupby("item_id")["timestamp"].max() == weeks[21]).all()
    assert s.train["target"].isna().sum() == 2  # y's absent weeks 20 and 21: unknown, not zero
    assert s.filled["target"].notna().all()
    assert set(s.test["timestamp"]) == set(weeks[22:26])
    assert len(s.test) == 4 + 3  # y's absent week 22 is not scored
    assert len(s.future) == 2 * 4
