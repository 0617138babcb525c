"""The global LightGBM forecaster: covariates learned, missing futures refused, unseen items
and categories forecast, seeds reproduce, both strategies run, deadlines respected."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import ConfigError, DataError
from tidecast.models.catalog import make_model
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_features import default_lags, is_indicator
from tidecast.models.gbm_layout import cycle_window, fourier_order

HORIZON = 7
SPEC = DatasetSpec(freq="D", known_covariates=("promotion",), static_columns=("store",))
# Small and quick: a few hundred rounds on a few thousand rows.
FAST = {"n_jobs": 1, "max_rows": 8_000, "max_rounds": 200, "min_data_in_leaf": 20}


def promo_panel(n_items: int = 6, n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Weekly-seasonal series where a promotion (about 1 day in 6) doubles demand."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    parts = []
    for i in range(n_items):
        promotion = (rng.random(n) < 0.15).astype(np.int8)
        level = 20 + 10 * i + 3 * np.sin(2 * np.pi * t / 7)
        target = level * (1 + promotion) + rng.normal(0, 0.5, n)
        parts.append(
            pd.DataFrame(
                {
                    ITEM_ID: f"item_{i}",
                    TIMESTAMP: pd.date_range("2023-01-01", periods=n, freq="D"),
                    TARGET: target,
                    "promotion": promotion,
                    "store": "north" if i % 2 else "south",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


PANEL = promo_panel()
CUTOFF = PANEL[TIMESTAMP].max() - pd.Timedelta(days=HORIZON)
TRAIN = PANEL[PANEL[TIMESTAMP] <= CUTOFF].reset_index(drop=True)
FUTURE = PANEL.loc[PANEL[TIMESTAMP] > CUTOFF, [ITEM_ID, TIMESTAMP, "promotion"]].reset_index(drop=True)


def fit(**params: object) -> LightGBM:
    model = LightGBM(**{**FAST, **params})
    return model.fit(TRAIN, SPEC, HORIZON)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def direct() -> LightGBM:
    return fit()


def test_when_a_promotion_doubles_demand_then_promoted_future_days_are_forecast_higher(direct):
    forecast = direct.predict(TRAIN, future=FUTURE)
    both = forecast.merge(PANEL, on=[ITEM_ID, TIMESTAMP])
    ratio = both[MEAN] / both[TARGET]
    # Promoted days are about twice the others; forecasts follow within a few percent.
    assert both.loc[both["promotion"] == 1, MEAN].mean() > 1.5 * both.loc[both["promotion"] == 0, MEAN].mean()
    assert np.median(np.abs(ratio - 1)) < 0.05


def test_when_the_promotion_is_switched_on_then_the_forecast_roughly_doubles(direct):
    off = direct.predict(TRAIN, future=FUTURE.assign(promotion=0))
    on = direct.predict(TRAIN, future=FUTURE.assign(promotion=1))
    assert 1.6 < (on[MEAN] / off[MEAN]).median() < 2.4


def test_when_the_future_covariates_are_missing_then_a_data_error_names_them(direct):
    with pytest.raises(DataError, match="promotion"):
        direct.predict(TRAIN)


def test_when_items_and_static_categories_are_unseen_then_they_are_forecast(direct):
    twin = TRAIN[TRAIN[ITEM_ID] == "item_3"].assign(**{ITEM_ID: "new", "store": "moon"})
    panel = pd.concat([TRAIN, twin], ignore_index=True)
    future = pd.concat(
        [FUTURE, FUTURE[FUTURE[ITEM_ID] == "item_3"].assign(**{ITEM_ID: "new"})], ignore_index=True
    )
    forecast = direct.predict(panel, future=future)
    new = forecast.loc[forecast[ITEM_ID] == "new", MEAN].to_numpy()
    known = forecast.loc[forecast[ITEM_ID] == "item_3", MEAN].to_numpy()
    assert np.isfinite(new).all() and len(new) == HORIZON
    # Same history, store unknown: close to its twin, whose store the model knows.
    np.testing.assert_allclose(new, known, rtol=0.15)


def test_when_fitted_twice_with_one_seed_then_forecasts_are_identical():
    first = fit(seed=3).predict(TRAIN, future=FUTURE)
    second = fit(seed=3).predict(TRAIN, future=FUTURE)
    pd.testing.assert_frame_equal(first, second, check_exact=True)


def test_when_strategy_is_recursive_then_it_forecasts_every_step_with_bands():
    model = fit(strategy="recursive")
    forecast = model.predict(TRAIN, future=FUTURE, quantiles=(0.1, 0.5, 0.9))
    both = forecast.merge(PANEL, on=[ITEM_ID, TIMESTAMP])
    assert len(both) == HORIZON * TRAIN[ITEM_ID].nunique()
    assert (forecast["p90"] >= forecast["p10"]).all() and (forecast["p90"] > forecast["p10"]).any()
    assert np.median(np.abs(both[MEAN] / both[TARGET] - 1)) < 0.1


def test_when_strategy_is_unknown_then_config_error():
    with pytest.raises(ConfigError, match="strategy"):
        LightGBM(strategy="sideways")


def test_when_the_deadline_is_near_then_fit_stops_about_on_time():
    slow = {"max_rows": 60_000, "max_rounds": 5_000, "learning_rate": 0.01, "early_stopping_rounds": 5_000}
    start = time.monotonic()
    model = LightGBM(**{**FAST, **slow}).fit(TRAIN, SPEC, HORIZON, deadline=start + 2.0)
    assert time.monotonic() - start < 5.0
    assert model.predict(TRAIN, future=FUTURE)[MEAN].notna().all()


def test_when_built_from_the_catalog_then_seed_and_n_jobs_reach_it():
    model = make_model("LightGBM", "h", n_jobs=2, seed=5)
    assert model.get_params()["seed"] == 5 and model.get_params()["n_jobs"] == 2


def test_when_frequency_is_daily_or_hourly_then_lags_cover_the_seasons():
    assert default_lags((7, 365), 1000, 14) == (1, 2, 3, 4, 5, 6, 7, 14, 21, 28, 364)
    assert 364 not in default_lags((7, 365), 600, 14)  # two years of history are needed
    assert default_lags((24, 168), 900, 48) == (*range(1, 25), 48, 168)


def test_when_a_column_is_a_flag_then_it_counts_as_an_indicator():
    assert is_indicator(np.array([0, 1, 0, 1], dtype=np.int8))
    assert not is_indicator(np.array([9.99, 10.49, 9.99]))
    assert not is_indicator(np.array(["a", "b"], dtype=object))


def test_when_the_data_is_hourly_then_a_week_long_window_is_added_and_daily_data_is_unchanged():
    assert cycle_window((24, 168), 700) == (168,)
    assert cycle_window((24, 168), 300) == ()  # a week must fit twice
    assert cycle_window((7, 365), 1000) == ()  # a year is not a short cycle
    assert cycle_window((52,), 1000) == ()


def skewed_panel(n_items: int = 12, n: int = 300, seed: int = 1) -> pd.DataFrame:
    """Slow movers: Poisson counts whose mean a promotion multiplies by 4, so the spread is
    skewed and depends on the day (what one pooled conformal band cannot describe)."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_items):
        promotion = (rng.random(n) < 0.2).astype(np.int8)
        rate = (0.5 + 0.3 * i) * (1 + 3 * promotion)
        parts.append(
            pd.DataFrame(
                {
                    ITEM_ID: f"item_{i}",
                    TIMESTAMP: pd.date_range("2023-01-01", periods=n, freq="D"),
                    TARGET: rng.poisson(rate).astype(np.float64),
                    "promotion": promotion,
                    "store": "north",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_when_quantile_levels_are_given_then_quantile_boosters_beat_the_conformal_band():
    from tidecast.metrics import wql

    panel = skewed_panel()
    cutoff = panel[TIMESTAMP].max() - pd.Timedelta(days=HORIZON)
    train, test = panel[panel[TIMESTAMP] <= cutoff], panel[panel[TIMESTAMP] > cutoff]
    future = test[[ITEM_ID, TIMESTAMP, "promotion"]]
    levels = (0.1, 0.5, 0.9)
    scores = {}
    for name, params in {"quantile": {"quantile_levels": levels}, "conformal": {}}.items():
        model = LightGBM(**{**FAST, "scaling": "level", **params}).fit(train, SPEC, HORIZON)
        assert sorted(getattr(model, "quantile_boosters_", {})) == (list(levels) if params else [])
        forecast = test.merge(model.predict(train, future, levels), on=[ITEM_ID, TIMESTAMP])
        scores[name] = wql(forecast[TARGET].to_numpy(), forecast[["p10", "p50", "p90"]].to_numpy(), levels)
    # Small and deterministic; on the retail panels the gap is 10-20% (see `_candidates`).
    assert scores["quantile"] < scores["conformal"], scores


def test_when_the_automl_builds_lightgbm_then_it_passes_the_run_quantiles():
    model = make_model("LightGBM", "D", quantiles=(0.05, 0.5, 0.95))
    assert model.quantile_levels == (0.05, 0.5, 0.95)
    assert not hasattr(make_model("AutoETS", "D", quantiles=(0.5,)), "quantile_levels")


def test_when_daily_then_no_fourier_terms_unless_asked_and_weekly_keeps_them():
    # Daily: day of week and day of year are calendar columns already (`gbm_layout.FOURIER_ORDER`).
    daily = fit()
    assert not [f for f in daily.features_ if f.startswith(("sin_", "cos_"))]
    assert {"day_of_week", "day_of_year"} <= set(daily.features_)
    asked = fit(fourier_order=1)
    assert sorted(f for f in asked.features_ if f.startswith(("sin_", "cos_"))) == [
        "cos_365_1",
        "cos_7_1",
        "sin_365_1",
        "sin_7_1",
    ]
    weeks = PANEL.assign(timestamp=PANEL[TIMESTAMP].dt.to_period("W").dt.start_time)
    weekly = weeks.groupby([ITEM_ID, TIMESTAMP], as_index=False).agg(
        {TARGET: "sum", "promotion": "max", "store": "first"}
    )
    model = LightGBM(**FAST).fit(weekly, DatasetSpec(freq="W-MON", known_covariates=("promotion",)), 4)
    assert sorted(f for f in model.features_ if f.startswith("sin_")) == ["sin_52_1", "sin_52_2", "sin_52_3"]


def test_fourier_order_default_by_main_period():
    assert fourier_order((7, 365), None) == 0
    assert fourier_order((52,), None) == 3
    assert fourier_order((24, 168), None) == 3
    assert fourier_order((7,), 2) == 2


def test_when_refitted_after_a_backtest_fit_then_its_quantile_boosters_keep_the_scored_rounds():
    levels = (0.1, 0.5, 0.9)
    backtest = fit(quantile_levels=levels, quantile_rounds=17)
    assert backtest.quantile_rounds_ == 17
    assert {b.current_iteration() for b in backtest.quantile_boosters_.values()} == {17}
    refit = LightGBM(**{**FAST, "quantile_levels": levels})
    assert refit.follow(backtest) == "quantile boosters at the backtest fit's 17 rounds"
    refit.fit(PANEL, SPEC, HORIZON)
    assert {b.current_iteration() for b in refit.quantile_boosters_.values()} == {17}
    # The user's own rounds win; a fit without quantile boosters has no rounds to pass on.
    assert LightGBM(**{**FAST, "quantile_rounds": 5}).follow(backtest) is None
    point_only = fit()
    assert point_only.quantile_rounds_ == 0
    assert LightGBM(**FAST).follow(point_only) is None
