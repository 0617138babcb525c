"""LightGBM's quantile boosters read only the features its point model gained on."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from tidecast.data.schema import DatasetSpec
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_training import useful_features


def _booster(x: pd.DataFrame, y: np.ndarray) -> lgb.Booster:
    params = {"objective": "regression", "verbosity": -1, "num_threads": 1, "seed": 0, "deterministic": True}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=20)


def test_when_a_feature_never_splits_or_barely_gains_then_it_is_left_out():
    rng = np.random.default_rng(0)
    n = 2_000
    signal = rng.normal(size=n)
    faint = rng.normal(size=n)
    x = pd.DataFrame({"constant": np.ones(n), "signal": signal, "faint": faint})
    y = 10 * signal + 0.001 * faint
    booster = _booster(x, y)
    gain = booster.feature_importance("gain")
    assert gain[0] == 0 and gain[2] < 0.001 * gain.sum()  # the case is what it claims to be
    assert useful_features(booster, list(x.columns)) == ["signal"]
    assert useful_features(booster, list(x.columns), floor=0.0) == ["constant", "signal", "faint"]


def test_when_the_booster_never_split_then_every_feature_is_kept():
    x = pd.DataFrame({"a": np.zeros(100), "b": np.ones(100)})
    booster = _booster(x, np.full(100, 3.0))
    assert useful_features(booster, ["a", "b"]) == ["a", "b"]


def _panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    days = pd.date_range("2022-01-01", periods=300, freq="D")
    rng = np.random.default_rng(1)
    frames = []
    for i in range(3):
        promo = (np.arange(300) % 9 < 2).astype(float)
        y = (
            (20 + 10 * i)
            * (1 + 0.5 * promo)
            * (1 + 0.3 * (days.dayofweek >= 5))
            * rng.lognormal(0, 0.05, 300)
        )
        frames.append(pd.DataFrame({"item_id": f"s{i}", "timestamp": days, "target": y, "promo": promo}))
    panel = pd.concat(frames, ignore_index=True)
    future = pd.DataFrame(
        {
            "item_id": np.repeat(["s0", "s1", "s2"], 7),
            "timestamp": np.tile(pd.date_range(days[-1] + pd.Timedelta(days=1), periods=7, freq="D"), 3),
            "promo": 0.0,
        }
    )
    return panel, future


def test_when_lightgbm_trains_quantile_boosters_then_they_read_the_point_models_useful_features():
    panel, future = _panel()
    spec = DatasetSpec(freq="D", known_covariates=("promo",))
    model = LightGBM(quantile_levels=(0.1, 0.5, 0.9), n_jobs=1, max_rounds=60).fit(panel, spec, 7)
    kept = model.quantile_features_
    assert 0 < len(kept) < len(model.features_) and set(kept) <= set(model.features_)
    assert kept == useful_features(model.booster_, model.features_)
    forecast = model.predict(panel, future)
    assert (forecast["p10"] <= forecast["p90"]).all() and np.isfinite(forecast["p50"]).all()
