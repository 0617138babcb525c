"""The Python API's explanations and what-ifs come in the user's columns, as its forecasts do:
a key of several numeric columns in its parts, as numbers, and the user's timestamp name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from explain_data import HORIZON, by_store_and_dept, hand_panel

from tidecast import AutoForecaster
from tidecast.explain import explain
from tidecast.scenarios import whatif

KEYS = ["Store", "Dept", "day"]
PROMOTION = [{"covariate": "promotion", "set": 1, "where": {"Store": 1}}]


def user_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A hand panel keyed by Store and Dept (numbers), its times in `day`, its target `sales`."""
    return by_store_and_dept(frame).rename(columns={"timestamp": "day", "target": "sales"})


@pytest.fixture(scope="module")
def fitted() -> tuple[AutoForecaster, pd.DataFrame]:
    history, future = hand_panel()
    auto = AutoForecaster(
        horizon=HORIZON,
        frequency="D",
        models=["DynamicRegression"],
        backtest_windows=1,
        item_col=["Store", "Dept"],
        timestamp_col="day",
        target_col="sales",
        known_covariates=["promotion", "price"],
        n_jobs=1,
    )
    return auto.fit(user_frame(history)), user_frame(future)


def test_when_explained_from_python_then_its_tables_have_the_forecasts_columns(fitted) -> None:
    auto, future = fitted
    forecast = auto.predict(future=future)
    explanation = explain(auto, future=future)
    assert list(forecast.columns[:3]) == KEYS
    assert list(explanation.forecast.columns) == [*KEYS, "mean"]
    assert list(explanation.contributions.columns) == [*KEYS, "step", "feature", "kind", "contribution"]
    assert list(explanation.per_item().columns) == ["Store", "Dept", "feature", "kind", "total", "mean_abs"]
    assert explanation.forecast["Store"].dtype == forecast["Store"].dtype == np.int64
    # The same rows as the forecast, in its order, and the sums still add up to it.
    pd.testing.assert_frame_equal(explanation.forecast, forecast[[*KEYS, "mean"]])
    assert explanation.additivity_error() < 1e-6
    assert explanation.importance()["feature"].iloc[0] == "level"


def test_when_a_whatif_is_run_from_python_then_its_tables_have_the_forecasts_columns(fitted) -> None:
    auto, future = fitted
    answer = whatif(auto, PROMOTION, future=future)
    assert list(answer.comparison.columns) == [
        *KEYS,
        "step",
        "baseline",
        "scenario",
        "difference",
        "percent",
    ]
    assert list(answer.items.columns[:2]) == ["Store", "Dept"]
    forecast = auto.predict(future=future)
    np.testing.assert_allclose(answer.comparison["baseline"], forecast["mean"])
    moved = answer.items.set_index(["Store", "Dept"])["difference"]
    assert (moved.loc[1] > 0).all() and (moved.loc[2] == 0).all()  # store 1's promotion only


def test_when_asked_canonically_then_the_service_gets_item_id_and_timestamp(fitted) -> None:
    auto, future = fitted
    explanation = explain(auto, future=future, canonical=True)
    answer = whatif(auto, PROMOTION, future=future, canonical=True)
    assert list(explanation.contributions.columns[:2]) == ["item_id", "timestamp"]
    assert list(answer.comparison.columns[:2]) == ["item_id", "timestamp"]
    assert set(answer.items["item_id"]) == {"1|1", "1|2", "2|1", "2|2"}
