"""The date-row LightGBM (`gbm_lagged`): lags a horizon back, one scale per series, closed days,
missing targets, levels between the trained ones, and its place in the AutoML."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from retail_panel import HORIZON as STORE_HORIZON
from retail_panel import KNOWN as STORE_KNOWN
from retail_panel import SPEC as STORE_SPEC
from retail_panel import split, store_panel

from tidecast.automl.presets import get_preset
from tidecast.data.arrays import SeriesArrays
from tidecast.data.prepare import prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.metrics import wql
from tidecast.models.baseline import SeasonalNaive
from tidecast.models.catalog import make_model
from tidecast.models.gbm_features import extend
from tidecast.models.gbm_lagged import HorizonLagLightGBM, _interpolate
from tidecast.models.gbm_windows import Windows

QUANTILES = (0.1, 0.5, 0.9)
FAST = {"n_jobs": 1, "rounds": 30}


def weekly_panel(n_items: int = 4, n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Daily series with a weekly cycle, levels 10 to 1,000, a promotion doubling sales."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-01", periods=n, freq="D")
    parts = []
    for i in range(n_items):
        level = 10.0 ** (1 + 2 * i / max(n_items - 1, 1))
        promo = (np.arange(n) % 10 < 2).astype(float)
        y = level * (1 + 0.3 * (days.dayofweek.to_numpy() >= 5)) * (1 + promo) * rng.lognormal(0, 0.05, n)
        parts.append(pd.DataFrame({ITEM_ID: f"i{i}", TIMESTAMP: days, TARGET: y, "promo": promo}))
    return pd.concat(parts, ignore_index=True)


SPEC = DatasetSpec(freq="D", known_covariates=("promo",))
PANEL = weekly_panel()
H = 14
CUT = PANEL[TIMESTAMP].max() - pd.Timedelta(days=H)
TRAIN = PANEL[PANEL[TIMESTAMP] <= CUT].reset_index(drop=True)
FUTURE = PANEL.loc[PANEL[TIMESTAMP] > CUT, [ITEM_ID, TIMESTAMP, "promo"]].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted() -> HorizonLagLightGBM:
    return HorizonLagLightGBM(quantile_levels=QUANTILES, **FAST).fit(TRAIN, SPEC, H)


def test_when_daily_with_a_horizon_of_two_weeks_then_every_lag_is_at_least_the_horizon(fitted):
    # 386 days per series: the yearly lag (364) fits beside the horizon, two years (728) do not.
    assert fitted.lags_ == (14, 15, 16, 21, 28, 364)
    assert fitted.rolling_ == (7, 28, 91)
    assert fitted.scale_window_ == 56


def test_when_daily_then_no_fourier_terms_are_features_unless_asked(fitted):
    # Day of week and day of year are calendar columns; weekly data keeps its yearly terms.
    assert not [f for f in fitted.features_ if f.startswith(("sin_", "cos_"))]
    assert "day_of_week" in fitted.features_ and "day_of_year" in fitted.features_
    asked = HorizonLagLightGBM(fourier_order=2, **FAST).fit(TRAIN, SPEC, H)
    assert sorted(f for f in asked.features_ if f.startswith("sin_")) == [
        "sin_365_1",
        "sin_365_2",
        "sin_7_1",
        "sin_7_2",
    ]


def test_when_weekly_or_hourly_then_the_windows_follow_the_frequency():
    weekly = pd.DataFrame(
        {
            ITEM_ID: "a",
            TIMESTAMP: pd.date_range("2020-01-02", periods=150, freq="W-THU"),
            TARGET: np.arange(150.0) % 9 + 1,
        }
    )
    model = HorizonLagLightGBM(**FAST).fit(weekly, DatasetSpec(freq="W-THU"), 4)
    assert model.lags_ == (4, 5, 6, 52, 104)
    assert model.rolling_ == (4, 13, 52) and model.scale_window_ == 13
    assert {"sin_52_1", "cos_52_3"} <= set(model.features_)


def test_when_a_series_is_scaled_then_its_scale_is_its_recent_mean_absolute_value(fitted):
    data = SeriesArrays.from_spec(TRAIN, SPEC)
    ext = extend(data, fitted.layout_)
    scales = fitted._scales(ext, Windows(ext.values))
    expected = [np.abs(data.series(i)[-56:]).mean() for i in range(data.n_series)]
    np.testing.assert_allclose(scales, expected, rtol=1e-12)


def test_when_promoted_days_come_then_they_are_forecast_higher_and_bands_are_ordered(fitted):
    forecast = fitted.predict(TRAIN, future=FUTURE, quantiles=QUANTILES).merge(
        FUTURE, on=[ITEM_ID, TIMESTAMP]
    )
    assert (forecast["p10"] <= forecast["p50"]).all() and (forecast["p50"] <= forecast["p90"]).all()
    assert (forecast["mean"] == forecast["p50"]).all()
    ratio = forecast.groupby([ITEM_ID, "promo"])["mean"].mean().unstack()
    assert (ratio[1.0] / ratio[0.0] > 1.5).all(), ratio


def test_when_a_level_was_not_trained_then_it_is_interpolated_between_the_trained_ones(fitted):
    both = fitted.predict(TRAIN, future=FUTURE, quantiles=(0.1, 0.3, 0.5, 0.95))
    np.testing.assert_allclose(both["p30"], 0.5 * both["p10"] + 0.5 * both["p50"], rtol=1e-12)
    trained = fitted.predict(TRAIN, future=FUTURE, quantiles=QUANTILES)
    np.testing.assert_allclose(both["p95"], trained["p90"], rtol=1e-12)  # held flat beyond 0.9
    fitted_levels = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_allclose(_interpolate((0.1, 0.5, 0.9), fitted_levels, 0.7), [3.0])
    np.testing.assert_allclose(_interpolate((0.1, 0.5, 0.9), fitted_levels, 0.05), [1.0])


def test_when_targets_are_missing_then_they_are_never_labels():
    history = TRAIN.copy()
    history.loc[history.index % 5 == 0, TARGET] = np.nan
    model = HorizonLagLightGBM(**FAST)
    model.spec_, model.horizon_ = SPEC, H
    data = SeriesArrays.from_spec(history, SPEC)
    model._configure(data)
    rows = model._training_rows(extend(data, model.layout_))
    assert np.isfinite(data.values[rows]).all()
    # Every observed cell at least a horizon after its series' start is a row.
    position = history.groupby(ITEM_ID).cumcount().to_numpy()
    assert len(rows) == int((history[TARGET].notna().to_numpy() & (position >= H)).sum())


def test_when_a_series_is_too_short_then_it_gets_the_fallback_and_is_listed(fitted):
    short = pd.DataFrame(
        {ITEM_ID: "new", TIMESTAMP: TRAIN[TIMESTAMP].max() - pd.Timedelta(days=2), TARGET: 5.0, "promo": 0.0},
        index=[0],
    )
    history = pd.concat([TRAIN, short], ignore_index=True).sort_values(
        [ITEM_ID, TIMESTAMP], ignore_index=True
    )
    future = pd.concat(
        [
            FUTURE,
            pd.DataFrame(
                {
                    ITEM_ID: "new",
                    TIMESTAMP: pd.date_range(short[TIMESTAMP].iloc[0], periods=H + 1)[1:],
                    "promo": 0.0,
                }
            ),
        ]
    )
    forecast = fitted.predict(history, future=future, quantiles=QUANTILES)
    assert forecast.attrs["fallback_items"] == ["new"]
    assert len(forecast) == 5 * H


@pytest.mark.slow
def test_when_stores_close_and_promote_then_closed_days_are_zero_and_it_beats_seasonal_naive():
    panel = store_panel(n_stores=12)
    history, test = split(panel)
    history = prepare(history, "D", filling={"target": {"middlefill": "none"}}).panel
    model = HorizonLagLightGBM(quantile_levels=QUANTILES, n_jobs=1).fit(history, STORE_SPEC, STORE_HORIZON)
    assert ("open", 0.0) in model.closed_rules_
    future = test[[ITEM_ID, TIMESTAMP, *STORE_KNOWN]]
    both = test.merge(model.predict(history, future=future, quantiles=QUANTILES), on=[ITEM_ID, TIMESTAMP])
    shut = both["open"] == 0
    assert shut.any() and (both.loc[shut, ["mean", "p10", "p50", "p90"]] == 0).all().all()
    naive = (
        SeasonalNaive(season_length=7)
        .fit(history, STORE_SPEC, STORE_HORIZON)
        .predict(history, quantiles=QUANTILES)
    )
    naive_both = test.merge(naive, on=[ITEM_ID, TIMESTAMP])
    score = wql(both[TARGET].to_numpy(), both[["p10", "p50", "p90"]].to_numpy(), QUANTILES)
    baseline = wql(naive_both[TARGET].to_numpy(), naive_both[["p10", "p50", "p90"]].to_numpy(), QUANTILES)
    assert score < 0.5 * baseline, (score, baseline)


def test_when_built_from_the_catalog_then_it_gets_the_run_quantiles_and_seed_and_is_in_the_default():
    model = make_model("lightgbmhorizonlags", "D", quantiles=(0.2, 0.8), seed=3, n_jobs=1)
    assert isinstance(model, HorizonLagLightGBM)
    assert model.quantile_levels == (0.2, 0.8) and model.seed == 3
    assert "LightGBMHorizonLags" in get_preset("medium").models


def test_when_fitted_twice_with_one_seed_then_forecasts_are_identical():
    one = HorizonLagLightGBM(max_rows=2_000, **FAST).fit(TRAIN, SPEC, H).predict(TRAIN, future=FUTURE)
    two = HorizonLagLightGBM(max_rows=2_000, **FAST).fit(TRAIN, SPEC, H).predict(TRAIN, future=FUTURE)
    pd.testing.assert_frame_equal(one, two)
