"""LightGBM's opt-in `monotone_covariates`: a declared price never raises the forecast as it
rises, through the model and through a run's what-if; undeclared, nothing changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.automl.forecaster import AutoForecaster
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import ConfigError
from tidecast.models.catalog import check_params
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_monotone import monotone_params
from tidecast.scenarios import whatif

HORIZON = 4
SPEC = DatasetSpec(freq="W-THU", known_covariates=("price", "deal", "brand_name"))
FAST = {"n_jobs": 1, "max_rows": 8_000, "max_rounds": 200, "min_data_in_leaf": 20}
CUTS = (1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5)


def price_panel(n_items: int = 8, n: int = 110, seed: int = 0) -> pd.DataFrame:
    """Weekly sales falling with the price (elasticity -2), a coupon adding half, and noise
    that leaves the trees' steps free to go either way between nearby prices."""
    rng = np.random.default_rng(seed)
    item = np.repeat(np.arange(n_items), n)
    price = np.round(rng.choice([2.0, 2.2, 2.5, 2.9, 3.2], len(item)) * (1 + 0.05 * item), 2)
    deal = (rng.random(len(item)) < 0.3).astype(np.int8)
    noise = rng.lognormal(0, 0.3, len(item))
    return pd.DataFrame(
        {
            ITEM_ID: [f"s{i}" for i in item],
            TIMESTAMP: np.tile(pd.date_range("2020-01-02", periods=n, freq="W-THU"), n_items),
            TARGET: np.round(1000 * (1 + item) * (2.5 / price) ** 2 * (1 + 0.5 * deal) * noise),
            "price": price,
            "deal": deal,
            "brand_name": np.where(item % 2, "premium", "store"),
        }
    )


PANEL = price_panel()
CUTOFF = PANEL[TIMESTAMP].max() - pd.Timedelta(weeks=HORIZON)
TRAIN = PANEL[PANEL[TIMESTAMP] <= CUTOFF].reset_index(drop=True)
FUTURE = PANEL.loc[PANEL[TIMESTAMP] > CUTOFF, [ITEM_ID, TIMESTAMP, "price", "deal", "brand_name"]]
FUTURE = FUTURE.reset_index(drop=True)


def at_prices(model: LightGBM) -> np.ndarray:
    """(cuts, rows, mean and quantiles): the forecast with the future's price times each cut."""
    out = []
    for cut in CUTS:
        future = FUTURE.assign(price=FUTURE["price"] * cut)
        forecast = model.predict(TRAIN, future, quantiles=(0.1, 0.5, 0.9))
        out.append(forecast[[MEAN, "p10", "p50", "p90"]].to_numpy())
    return np.stack(out)


def test_when_price_is_declared_decreasing_then_no_deeper_cut_forecasts_less():
    model = LightGBM(**FAST, quantile_levels=(0.1, 0.5, 0.9), monotone_covariates={"price": -1})
    model.fit(TRAIN, SPEC, HORIZON)
    forecasts = at_prices(model)
    # Undeclared, the same model's mean fell somewhere along these cuts on 25 of the 32
    # item-weeks (a quantile on 27). Each cut deeper than the one before: the mean and every
    # quantile never fall.
    assert np.all(np.diff(forecasts, axis=0) >= -1e-9 * np.abs(forecasts).max())
    assert forecasts[-1, :, 0].sum() > forecasts[0, :, 0].sum()  # and they do rise overall
    # LightGBM refuses its constraints with the quantile loss: the band is the conformal one.
    assert model.quantile_boosters_ == {}


def test_when_nothing_is_declared_then_the_boosters_train_as_before():
    model = LightGBM(**FAST, quantile_levels=(0.1, 0.5, 0.9)).fit(TRAIN, SPEC, HORIZON)
    assert sorted(model.quantile_boosters_) == [0.1, 0.5, 0.9]
    assert "monotone_constraints" not in model.booster_.params
    assert monotone_params(None, ["kc_price"]) == {} and monotone_params({}, ["kc_price"]) == {}


def test_when_declared_then_only_the_covariates_own_feature_is_constrained():
    columns = ["lag_1", "kc_price", "kc_deal", "kc_deal_to_next", "kc_price_b01"]
    params = monotone_params({"price": -1, "deal": 1}, columns)
    assert params == {"monotone_constraints": [0, -1, 1, 0, 0]}


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ({"price": 0}, "directions are -1"),
        ({"price": True}, "directions are -1"),
        ({"price": "down"}, "directions are -1"),
        (["price"], "give {covariate: -1 or 1}"),
    ],
)
def test_when_a_direction_is_not_minus_one_or_one_then_config_error(declared, message):
    with pytest.raises(ConfigError, match=message):
        LightGBM(monotone_covariates=declared)


@pytest.mark.parametrize("name", ["prize", "brand_name"])
def test_when_a_declared_covariate_is_unknown_or_text_then_fit_names_the_numeric_ones(name):
    with pytest.raises(ConfigError, match=r"it has \['price', 'deal'\]"):
        LightGBM(**FAST, monotone_covariates={name: -1}).fit(TRAIN, SPEC, HORIZON)


def test_when_a_run_declares_it_in_model_params_then_its_whatif_price_cuts_are_monotone():
    check_params("LightGBM", {"monotone_covariates": {"price": -1}})  # accepted before any fit
    auto = AutoForecaster(
        horizon=HORIZON,
        frequency="W-THU",
        models=["LightGBM"],
        known_covariates=["price", "deal"],
        model_params={"LightGBM": {**FAST, "monotone_covariates": {"price": -1}}},
        backtest_windows=1,
        n_jobs=1,
    )
    auto.fit(TRAIN.drop(columns="brand_name"), future=FUTURE.drop(columns="brand_name"))
    future = FUTURE.drop(columns="brand_name")
    scenarios = [
        whatif(auto, [{"covariate": "price", "multiply": cut}], future=future).comparison["scenario"]
        for cut in CUTS
    ]
    table = np.stack([s.to_numpy() for s in scenarios])
    assert np.all(np.diff(table, axis=0) >= -1e-9 * np.abs(table).max())
