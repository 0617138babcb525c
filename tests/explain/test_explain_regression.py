"""Exact contributions of the dynamic regression: they add up to its forecast, and they
recover effects whose size is known (hand-built panels, and the demo generator's lift)."""

from __future__ import annotations

import numpy as np
import pytest
from explain_data import HORIZON, arrays, demo, demo_forecaster, hand_panel, hand_spec

from tidecast.explain import explain
from tidecast.explain.ablation import ablation_terms, forecast_mean
from tidecast.explain.regression import regression_terms
from tidecast.explain.terms import FALLBACK, UNEXPLAINED
from tidecast.models.regression import DynamicRegression


@pytest.fixture(scope="module")
def hand_model():
    history, future = hand_panel()
    spec = hand_spec()
    model = DynamicRegression(detect_periods=False, calibrate=False, n_jobs=1).fit(
        arrays(history, spec), spec, HORIZON
    )
    return model, arrays(history, spec), future


def test_when_a_hand_built_panel_is_explained_then_terms_add_up_to_the_forecast(hand_model) -> None:
    model, data, future = hand_model
    terms = regression_terms(model, data, future, (0.5,))
    mean = forecast_mean(model, data, future, (0.5,))
    assert np.max(np.abs(terms.total() - mean)) < 1e-6
    assert {"level", "trend", "seasonality", "promotion", "price", "recent deviation"} <= set(terms.values)


def test_when_effects_are_known_then_their_contributions_recover_them(hand_model) -> None:
    model, data, future = hand_model
    terms = regression_terms(model, data, future, (0.5,))
    promo = future["promotion"].to_numpy().reshape(-1, HORIZON) == 1
    price = future["price"].to_numpy().reshape(-1, HORIZON)
    # 20 units a promotion day (the flag and its event windows together), within 2%
    assert promo.any()
    assert np.allclose(terms.values["promotion"][promo], 20.0, rtol=0.02)
    # -3 a unit of price, measured from the training mean (the column enters standardised)
    mean_price = data.covariates["price"].astype(float).mean()
    assert np.allclose(terms.values["price"], -3.0 * (price - mean_price), atol=0.15)
    # the slope, 0.2 a day from the last observation; the level where each series stands
    assert np.allclose(terms.values["trend"], 0.2 * np.arange(1, HORIZON + 1), rtol=0.05)
    assert np.allclose(terms.values["level"][:, 0], 100 + 40 * np.arange(4) + 0.2 * 209, atol=1.0)
    # the weekly cycle: 8 sin(2 pi t / 7) has amplitude 8 (growing copies add a little)
    assert 7.0 < np.abs(terms.values["seasonality"]).max() < 9.0


def test_when_a_covariate_is_ablated_then_far_steps_match_its_exact_term(hand_model) -> None:
    """Ablation (promotion to 0 over the horizon) and the exact term agree where the
    history's events are beyond the event windows (7 steps) of the horizon."""
    model, data, future = hand_model
    exact = regression_terms(model, data, future, (0.5,))
    ablated = ablation_terms(model, data, future, (0.5,))
    far = slice(8, HORIZON)
    assert np.allclose(ablated.values["promotion"][:, far], exact.values["promotion"][:, far], atol=1e-9)
    assert np.max(np.abs(ablated.total() - forecast_mean(model, data, future, (0.5,)))) < 1e-9


def test_when_a_series_is_too_short_then_its_fallback_is_one_term() -> None:
    history, future = hand_panel(items=2)
    spec = hand_spec()
    model = DynamicRegression(detect_periods=False, calibrate=False, n_jobs=1).fit(
        arrays(history, spec), spec, HORIZON
    )
    short = history[
        (history["item_id"] == "item_0") | (history.groupby("item_id").cumcount() >= len(history) // 2 - 5)
    ]
    data = arrays(short.reset_index(drop=True), spec)
    assert data.lengths.min() < model.tags.min_length
    terms = regression_terms(model, data, future, (0.5,))
    assert np.max(np.abs(terms.total() - forecast_mean(model, data, future, (0.5,)))) < 1e-6
    assert np.all(terms.values[FALLBACK][1] != 0) and np.all(terms.values[FALLBACK][0] == 0)


def test_when_the_demo_run_is_explained_then_promotions_recover_the_generators_lift() -> None:
    data, future, lift = demo()
    auto = demo_forecaster(["DynamicRegression"]).fit(data)
    explanation = explain(auto, future=future)
    assert explanation.methods == {"DynamicRegression": "exact"}
    assert explanation.additivity_error() < 1e-6
    table = explanation.contributions
    assert UNEXPLAINED not in set(table["feature"])
    promo_days = future[future["promotion"] == 1][["item_id", "timestamp"]]
    found = promo_days.merge(table[table["feature"] == "promotion"], on=["item_id", "timestamp"]).merge(
        lift, on=["item_id", "timestamp"]
    )
    assert len(found) == len(promo_days) >= 3
    ratio = found["contribution"] / found["lift"]
    assert ratio.between(0.8, 1.2).all(), found[["item_id", "timestamp", "contribution", "lift"]]
    ranking = explanation.importance()
    assert ranking["feature"].iloc[0] == "level" and abs(ranking["share"].sum() - 1) < 1e-9
