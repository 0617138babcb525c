"""TreeSHAP contributions of the global LightGBM: LightGBM's own `pred_contrib`, scaled back
to units, add up to the forecast under each scaling, with detrend and with closed days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from explain_data import HORIZON, arrays, demo, demo_forecaster, hand_panel, hand_spec

from tidecast.automl.calibration import QuantileCalibration
from tidecast.automl.mean_estimate import implied_weights
from tidecast.data.schema import DatasetSpec, quantile_column
from tidecast.explain import explain
from tidecast.explain.ablation import forecast_mean
from tidecast.explain.gbm import feature_group, gbm_terms
from tidecast.explain.terms import BACKTEST_LEVEL, CLOSED_DAYS, QUANTILE_MEAN, UNEXPLAINED
from tidecast.models.gbm import LightGBM

SMALL = {"max_rounds": 150, "max_rows": 6000, "min_data_in_leaf": 20, "n_jobs": 1}


@pytest.mark.parametrize(("scaling", "detrend"), [("level", False), ("spread", True), ("spread", False)])
def test_when_lightgbm_is_explained_then_shap_terms_add_up_to_its_forecast(
    scaling: str, detrend: bool
) -> None:
    history, future = hand_panel()
    spec = hand_spec()
    data = arrays(history, spec)
    model = LightGBM(scaling=scaling, detrend=detrend, **SMALL).fit(data, spec, HORIZON)
    assert model.layout_.scaling == scaling and model.detrend_ is detrend
    terms = gbm_terms(model, data, future, (0.5,))
    assert np.max(np.abs(terms.total() - forecast_mean(model, data, future, (0.5,)))) < 1e-6
    assert {"level", "promotion", "price", "seasonality"} <= set(terms.values)
    if detrend:
        assert np.any(terms.values["trend"] != 0)


def test_when_the_promotion_is_large_then_its_shap_contribution_recovers_it() -> None:
    """20 units on a level of 100-220: the trees learn it, and TreeSHAP gives it back."""
    history, future = hand_panel(items=6, days=400)
    spec = hand_spec()
    data = arrays(history, spec)
    model = LightGBM(scaling="spread", detrend=False, **{**SMALL, "max_rounds": 300}).fit(data, spec, HORIZON)
    terms = gbm_terms(model, data, future, (0.5,))
    promo = future["promotion"].to_numpy().reshape(-1, HORIZON) == 1
    found = terms.values["promotion"][promo]
    assert len(found) >= 5
    assert np.all((found > 16) & (found < 24)), found


def test_when_days_are_closed_then_the_closure_is_an_adjustment() -> None:
    history, future = hand_panel(items=3)
    history["open"] = (history["timestamp"].dt.dayofweek != 6).astype(np.int8)
    future["open"] = (future["timestamp"].dt.dayofweek != 6).astype(np.int8)
    history.loc[history["open"] == 0, "target"] = 0.0
    spec = DatasetSpec(freq="D", known_covariates=("promotion", "price", "open"))
    data = arrays(history, spec)
    model = LightGBM(**SMALL).fit(data, spec, HORIZON)
    assert model.closed_rules_
    terms = gbm_terms(model, data, future, (0.5,))
    mean = forecast_mean(model, data, future, (0.5,))
    assert np.max(np.abs(terms.total() - mean)) < 1e-6
    sundays = future["open"].to_numpy().reshape(-1, HORIZON) == 0
    assert np.all(mean[sundays] == 0) and np.all(terms.values[CLOSED_DAYS][sundays] < 0)


def test_feature_columns_group_by_what_they_read() -> None:
    assert feature_group("lag_7") == ("level", "level")
    assert feature_group("phase_7_0") == ("seasonality", "seasonality")
    assert feature_group("sin_365_2") == ("seasonality", "seasonality")
    assert feature_group("hol_christmas") == ("holiday: christmas", "holiday")
    assert feature_group("days_to_holiday") == ("holidays", "holiday")
    assert feature_group("trend") == ("trend", "trend")


def test_when_a_demo_run_with_lightgbm_is_explained_then_the_sum_is_its_forecast() -> None:
    data, future, _ = demo(6)
    auto = demo_forecaster(["LightGBM"], {"LightGBM": SMALL}).fit(data)
    explanation = explain(auto, future=future, items=["electronics_laptop_East", "electronics_laptop_West"])
    assert explanation.methods == {"LightGBM": "treeshap"}
    assert explanation.additivity_error() < 1e-6
    table = explanation.contributions
    assert UNEXPLAINED not in set(table["feature"])
    assert set(table["item_id"]) == {"electronics_laptop_East", "electronics_laptop_West"}
    assert {"promotion", "is_holiday", "level"} <= set(table["feature"])
    assert set(table.loc[table["feature"].isin(["category", "region"]), "kind"]) <= {"attribute"}
    forecast = auto.predict(future=future)
    mine = explanation.forecast.merge(forecast, on=["item_id", "timestamp"], suffixes=("", "_predict"))
    assert np.allclose(mine["mean"], mine["mean_predict"], atol=1e-9) and len(mine) == 2 * HORIZON
    assert pd.api.types.is_datetime64_any_dtype(table["timestamp"])
    # A forecast scaled by a backtest bias: the scaling is its own adjustment, the sum still holds.
    auto.calibration_ = QuantileCalibration(tuple(auto.quantiles_), (1.0,) * len(auto.quantiles_), level=1.04)
    scaled = explain(auto, future=future, items=["electronics_laptop_East"])
    assert scaled.additivity_error() < 1e-6
    level_terms = scaled.contributions[scaled.contributions["feature"] == BACKTEST_LEVEL]["contribution"]
    first = explanation.forecast[explanation.forecast["item_id"] == "electronics_laptop_East"]["mean"]
    assert np.allclose(level_terms.to_numpy(), 0.04 * first.to_numpy(), atol=1e-9)
    # A mean column taken from the calibrated quantiles: the difference is its own term.
    ones = (1.0,) * len(auto.quantiles_)
    auto.calibration_ = QuantileCalibration(tuple(auto.quantiles_), ones)
    east = auto.predict(future=future).query("item_id == 'electronics_laptop_East'")
    auto.calibration_ = QuantileCalibration(tuple(auto.quantiles_), ones, mean_from_quantiles=True)
    implied = explain(auto, future=future, items=["electronics_laptop_East"])
    assert implied.additivity_error() < 1e-6
    shipped = auto.predict(future=future).query("item_id == 'electronics_laptop_East'")
    q = shipped[[quantile_column(v) for v in auto.quantiles_]].to_numpy()
    assert np.allclose(shipped["mean"].to_numpy(), q @ implied_weights(auto.quantiles_), atol=1e-9)
    shift = implied.contributions[implied.contributions["feature"] == QUANTILE_MEAN]["contribution"]
    assert np.allclose(shift.to_numpy(), shipped["mean"].to_numpy() - east["mean"].to_numpy(), atol=1e-6)


def test_when_lightgbm_reads_past_covariates_and_attributes_then_they_are_their_own_features() -> None:
    history, future = hand_panel()
    history["footfall"] = np.sin(np.arange(len(history)) / 5.0) * 10 + 50
    history["category"] = np.where(history["item_id"].isin(["item_0", "item_1"]), "toys", "books")
    spec = DatasetSpec(
        freq="D",
        known_covariates=("promotion", "price"),
        past_covariates=("footfall",),
        static_columns=("category",),
    )
    data = arrays(history, spec)
    model = LightGBM(min_data_in_leaf=20, max_rounds=100, max_rows=6000, n_jobs=1).fit(data, spec, HORIZON)
    terms = gbm_terms(model, data, future, (0.5,))
    assert np.max(np.abs(terms.total() - forecast_mean(model, data, future, (0.5,)))) < 1e-6
    assert terms.kinds["footfall"] == "past covariate" and terms.kinds["category"] == "attribute"
