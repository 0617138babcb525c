"""Several horizons from one daily dataset: each frequency its own model, whole periods only,
saved and loaded as one folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.data.demo import generate
from tidecast.data.prepare import prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError
from tidecast.temporal import FREQUENCY, MultiHorizonForecaster, parse_horizons


def test_when_the_horizons_are_text_then_they_are_parsed_and_checked():
    assert parse_horizons("D:14, W-SUN:13,MS:12") == {"D": 14, "W-SUN": 13, "MS": 12}
    for bad in ("", "D", "D:0", "D:14,D:7", "XX:3"):
        with pytest.raises(ConfigError):
            parse_horizons(bad)


def test_when_the_last_week_and_month_are_partial_then_they_are_left_out():
    days = pd.date_range("2023-11-01", "2023-12-27", freq="D")  # ends on a Wednesday
    frame = pd.DataFrame({ITEM_ID: "a", TIMESTAMP: days, TARGET: 1.0})
    assert prepare(frame, "W-SUN").panel[TIMESTAMP].max() == pd.Timestamp("2023-12-24")
    assert prepare(frame, "MS").panel[TIMESTAMP].max() == pd.Timestamp("2023-11-01")
    assert len(prepare(frame, "D").panel) == len(frame)


def test_when_fitted_then_each_frequency_forecasts_its_horizon_from_its_sums(tmp_path: Path):
    data = generate(n_items=2)
    data = data[(data["timestamp"] >= "2022-06-01") & (data["timestamp"] <= "2023-12-27")]
    model = MultiHorizonForecaster(
        "D:7,W-SUN:4,MS:3",
        target_col="target_value",
        models=["SeasonalNaive", "Naive"],
        backtest_windows=1,
        n_jobs=1,
    ).fit(data[["item_id", "timestamp", "target_value"]])
    forecast = model.predict()
    counts = forecast.groupby(FREQUENCY).size().to_dict()
    assert counts == {"D": 14, "W-SUN": 8, "MS": 6}
    firsts = forecast.groupby(FREQUENCY)["timestamp"].min()
    assert pd.Timestamp(firsts["D"]) == pd.Timestamp("2023-12-28")
    assert pd.Timestamp(firsts["W-SUN"]) == pd.Timestamp("2023-12-31")  # the whole partial week
    assert pd.Timestamp(firsts["MS"]) == pd.Timestamp("2023-12-01")
    weekly = model.models_["W-SUN"].history_
    item = data[data["item_id"] == weekly["item_id"].iloc[0]]
    week = item[(item["timestamp"] > "2023-12-17") & (item["timestamp"] <= "2023-12-24")][
        "target_value"
    ].sum()
    row = weekly[(weekly["item_id"] == weekly["item_id"].iloc[0]) & (weekly["timestamp"] == "2023-12-24")]
    assert row["target"].iloc[0] == pytest.approx(week)
    loaded = MultiHorizonForecaster.load(model.save(tmp_path / "model"))
    again = loaded.predict()
    np.testing.assert_allclose(again["mean"], forecast["mean"])
    assert list(again[FREQUENCY].unique()) == ["D", "W-SUN", "MS"]


def test_when_the_horizons_command_runs_then_every_frequency_is_written(tmp_path: Path):
    from typer.testing import CliRunner

    from tidecast.cli.main import app

    data = generate(n_items=2)
    data[data["timestamp"] >= "2023-01-01"].to_csv(tmp_path / "sales.csv", index=False)
    args = ["horizons", str(tmp_path / "sales.csv"), "--horizons", "D:7,W-SUN:2", "--target-col", "target_value",
            "--models", "SeasonalNaive", "--jobs", "1", "--out", str(tmp_path / "run")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert forecast.groupby(FREQUENCY).size().to_dict() == {"D": 14, "W-SUN": 4}
    assert MultiHorizonForecaster.load(tmp_path / "run" / "model").predict()[
        "mean"
    ].to_numpy() == pytest.approx(forecast["mean"].to_numpy())


def _covariate_days(n_future: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A year of two daily items with a promotion flag, and its next `n_future` days."""
    data = generate(n_items=2)
    data = data[data["timestamp"] >= "2023-01-01"][["item_id", "timestamp", "target_value", "promotion"]]
    days = pd.date_range("2024-01-01", periods=n_future, freq="D")
    future = pd.DataFrame(
        [(item, day, 0) for item in data["item_id"].unique() for day in days],
        columns=["item_id", "timestamp", "promotion"],
    )
    return data, future


_OPTIONS = {"target_col": "target_value", "known_covariates": ["promotion"],
            "models": ["SeasonalNaive"], "backtest_windows": 1, "n_jobs": 1}  # fmt: skip


def test_when_a_coarser_horizon_comes_first_then_the_finest_still_keeps_the_covariates():
    data, future = _covariate_days(7)
    model = MultiHorizonForecaster("W-SUN:2,D:7", **_OPTIONS).fit(data, future=future)
    assert list(model.models_) == ["D", "W-SUN"]
    assert list(model.models_["D"].spec_.known_covariates) == ["promotion"]
    assert not model.models_["W-SUN"].spec_.known_covariates
    assert any("finest first (D:7,W-SUN:2)" in note for note in model.notes_)
    forecast = model.predict(future=future)
    assert list(forecast[FREQUENCY].unique()) == ["D", "W-SUN"]


def test_when_the_finest_horizon_is_coarser_than_the_data_then_the_error_says_it_keeps_the_covariates():
    data, future = _covariate_days(7)
    with pytest.raises(DataError, match="the data is at frequency D and the finest frequency asked is W-SUN"):
        MultiHorizonForecaster("W-SUN:2,MS:1", **_OPTIONS).fit(data, future=future)
    data, future = _covariate_days(14)
    model = MultiHorizonForecaster("W-SUN:2", **_OPTIONS).fit(data, future=future)
    assert any("W-SUN keeps the known covariates" in note for note in model.notes_)
