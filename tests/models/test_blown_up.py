"""A local model's forecast that blows up is replaced by the model's fallback, series by series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.base import FALLBACK_ITEMS
from tidecast.models.local import BLOWN_UP, LocalForecaster, blown_up
from tidecast.models.mstl import MSTL

SPEC = DatasetSpec(freq="W-THU")
HORIZON = 39


def weekly(values: dict[str, np.ndarray]) -> pd.DataFrame:
    stamps = pd.date_range("2020-01-02", periods=len(next(iter(values.values()))), freq="W-THU")
    return pd.concat(
        [pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps, TARGET: y}) for item, y in values.items()],
        ignore_index=True,
    )


def declining_with_a_spike(seed: int) -> np.ndarray:
    """59 weeks around 4,000 falling by 1,500, one week of 400,000 (a data error, a bulk order):
    the shape on which MSTL's trend model picked a multiplicative error on dominicks_oj."""
    rng = np.random.default_rng(seed)
    y = np.round(4000 * np.exp(rng.normal(0, 0.3, 59)) - np.linspace(0, 1500, 59))
    y[45] = 400_000
    return y


def test_when_mstl_band_explodes_on_a_spiked_declining_series_then_that_series_gets_the_naive_fallback():
    spiked, calm = declining_with_a_spike(0), np.full(59, 500.0) + np.arange(59)
    train = weekly({"spiked": spiked, "calm": calm})
    forecast = MSTL(n_jobs=1).fit(train, SPEC, HORIZON).predict(train)
    assert forecast.attrs[FALLBACK_ITEMS] == ["spiked"]  # before the guard its p90 reached 8e41
    values = forecast[[MEAN, "p10", "p50", "p90"]].to_numpy()
    assert np.isfinite(values).all()
    assert (
        np.abs(forecast.loc[forecast[ITEM_ID] == "spiked", [MEAN, "p90"]].to_numpy()).max()
        <= BLOWN_UP * 400_000
    )
    own = forecast.loc[forecast[ITEM_ID] == "calm", MEAN].to_numpy()
    np.testing.assert_allclose(own[:3], [559, 560, 561], atol=2)  # the calm series keeps its own trend


class Exploding(LocalForecaster):
    """Forecasts 10x its series' last value, or `factor` times it for the series named "wild"."""

    name = "Exploding"

    def __init__(self, factor: float, n_jobs: int | None = 1) -> None:
        self.factor = factor
        self.n_jobs = n_jobs

    def _forecast_series(self, state, y, horizon, quantiles):  # type: ignore[no-untyped-def]
        level = y[-1] * (self.factor if y[0] < 0 else 10.0)
        mean = np.full(horizon, level)
        return mean, np.repeat(mean[:, None], len(quantiles), axis=1)


@pytest.mark.parametrize(
    ("factor", "falls_back"), [(BLOWN_UP, False), (BLOWN_UP * 1.01, True), (np.inf, True)]
)
def test_the_bound_is_blown_up_times_the_largest_magnitude_in_the_history(factor, falls_back):
    # "wild" holds -1 then 1: its largest |value| is 1, so factor x 1 is at the bound or past it.
    train = weekly({"wild": np.array([-1.0, 0.5, 1.0] * 5), "tame": np.arange(1.0, 16.0)})
    forecast = Exploding(factor).fit(train, SPEC, 4).predict(train)
    assert forecast.attrs.get(FALLBACK_ITEMS, []) == (["wild"] if falls_back else [])
    tame = forecast.loc[forecast[ITEM_ID] == "tame", MEAN].to_numpy()
    np.testing.assert_allclose(tame, 150.0)  # 10x its last value stays: within the bound


def test_a_series_of_zeros_may_forecast_up_to_the_bound_of_one_unit():
    zeros = np.zeros(20)
    assert not blown_up((np.full(3, BLOWN_UP), np.full((3, 1), 1.0)), zeros)
    assert blown_up((np.full(3, 1.0), np.full((3, 1), BLOWN_UP + 1)), zeros)
    assert blown_up((np.array([1.0, np.nan, 1.0]), np.ones((3, 1))), np.ones(5))
    assert not blown_up((np.ones(3), np.ones((3, 1))), np.array([np.nan, 2.0, np.nan]))
