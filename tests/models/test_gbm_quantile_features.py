"""LightGBM's quantile boosters read every feature; models saved reading fewer still forecast.

For a while they read only the features on which the point model earned at least 0.5% of
its split gain: a third less CPU on Favorita, but the synthetic store panel's wQL went from
0.0165 to 0.0239, since what sets the spread of demand (closures, recent volatility) is not
what sets its mean. Models saved then hold that list in `quantile_features_`.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from tidecast.data.schema import DatasetSpec
from tidecast.models.gbm import LightGBM


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


def test_when_lightgbm_trains_quantile_boosters_then_they_read_every_feature():
    panel, future = _panel()
    spec = DatasetSpec(freq="D", known_covariates=("promo",))
    model = LightGBM(quantile_levels=(0.1, 0.5, 0.9), n_jobs=1, max_rounds=60).fit(panel, spec, 7)
    assert model.quantile_features_ == model.features_
    assert all(b.feature_name() == model.features_ for b in model.quantile_boosters_.values())
    forecast = model.predict(panel, future)
    assert (forecast["p10"] <= forecast["p90"]).all() and np.isfinite(forecast["p50"]).all()


def test_when_a_saved_model_has_boosters_on_fewer_features_then_it_forecasts_with_those():
    # A model saved while its quantile boosters read a subset: retrain them on that subset the
    # way the old fit did, and the forecast must read the same columns and stay sound.
    panel, future = _panel()
    spec = DatasetSpec(freq="D", known_covariates=("promo",))
    model = LightGBM(quantile_levels=(0.1, 0.5, 0.9), n_jobs=1, max_rounds=60).fit(panel, spec, 7)
    gain = model.booster_.feature_importance("gain")
    kept = [f for f, g in zip(model.features_, gain, strict=True) if g > 0.005 * gain.sum()]
    assert 0 < len(kept) < len(model.features_)
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, len(kept))), columns=kept)
    y = x[kept[0]].to_numpy() + rng.normal(size=200)
    model.quantile_boosters_ = {
        q: lgb.train({"objective": "quantile", "alpha": q, "verbose": -1}, lgb.Dataset(x, y), 20)
        for q in (0.1, 0.5, 0.9)
    }
    model.quantile_features_ = kept
    forecast = model.predict(panel, future)
    assert len(forecast) == 21 and np.isfinite(forecast[["p10", "p50", "p90"]].to_numpy()).all()
