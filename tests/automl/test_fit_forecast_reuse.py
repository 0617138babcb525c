"""The predict that follows a fit reuses the fit's forecast of the training panel (taken for the
short items' peers, `automl.training_peers`) and gives what a fresh forecast would, to the bit."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from tidecast.automl import prediction
from tidecast.automl.forecaster import AutoForecaster

DAYS = pd.date_range("2024-01-01", periods=63, freq="D")
AHEAD = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=7, freq="D")


def panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    rows, future = [], []
    for k in range(8):
        promo = ((np.arange(70) + k) % 5 == 0).astype(float)
        target = (20.0 + 10 * k) * (1.0 + promo[:63]) * rng.uniform(0.8, 1.2, 63)
        rows.append(
            pd.DataFrame(
                {"item_id": f"i{k}", "timestamp": DAYS, "promo": promo[:63], "target": target}
            ).assign(category="ab"[k % 2])
        )
        future.append(pd.DataFrame({"item_id": f"i{k}", "timestamp": AHEAD, "promo": promo[63:]}))
    rows.append(
        pd.DataFrame({"item_id": "new", "timestamp": DAYS[-2:], "promo": [0.0, 1.0], "target": [30.0, 70.0]})
    )
    rows[-1]["category"] = "a"
    future.append(pd.DataFrame({"item_id": "new", "timestamp": AHEAD, "promo": [0.0, 1.0, 0, 0, 0, 1.0, 0]}))
    return pd.concat(rows, ignore_index=True), pd.concat(future, ignore_index=True)


@pytest.fixture(scope="module")
def fitted() -> tuple[AutoForecaster, pd.DataFrame]:
    data, future = panel()
    auto = AutoForecaster(
        horizon=7,
        models=["LightGBM", "SeasonalNaive"],
        known_covariates=["promo"],
        static_columns=["category"],
        backtest_windows=1,
        n_jobs=1,
    ).fit(data, future=future)
    return auto, future


def fresh(auto: AutoForecaster) -> AutoForecaster:
    twin = copy.copy(auto)
    twin.__dict__.pop("_fit_forecast", None)
    return twin


def test_when_the_fit_is_followed_by_its_predict_then_the_panel_is_forecast_once_and_the_same(
    fitted, monkeypatch
):
    auto, future = fitted
    auto = copy.copy(auto)
    expected = fresh(auto).predict(future=future)
    calls = []
    real = prediction.members_forecast
    monkeypatch.setattr(prediction, "members_forecast", lambda *a, **k: calls.append(1) or real(*a, **k))
    got = auto.predict(future=future)
    assert calls == []  # the fit's forecast served
    pd.testing.assert_frame_equal(got, expected)
    assert "new" in set(got["item_id"])
    again = auto.predict(future=future)  # kept for one predict only
    assert calls == [1]
    pd.testing.assert_frame_equal(again, expected)


def test_when_the_predict_has_another_plan_or_newer_data_then_the_fit_forecast_is_not_used(
    fitted, monkeypatch
):
    auto, future = fitted
    calls = []
    real = prediction.members_forecast
    monkeypatch.setattr(prediction, "members_forecast", lambda *a, **k: calls.append(1) or real(*a, **k))
    other = future.assign(promo=0.0)
    got = copy.copy(auto).predict(future=other)
    assert calls == [1]
    pd.testing.assert_frame_equal(got, fresh(auto).predict(future=other))
    data, _ = panel()
    copy.copy(auto).predict(data, future=future)
    assert calls == [1, 1, 1]


def test_when_the_model_is_saved_then_the_fit_forecast_is_not(fitted, tmp_path):
    auto, future = fitted
    loaded = AutoForecaster.load(copy.copy(auto).save(tmp_path / "model"))
    assert "_fit_forecast" not in loaded.__dict__
    pd.testing.assert_frame_equal(loaded.predict(future=future), fresh(auto).predict(future=future))
