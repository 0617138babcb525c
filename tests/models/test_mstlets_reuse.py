"""MSTL-ETS forecasting from the very series it was fitted on reuses the fit's decomposition.

The first backtest window and the forecast after the final fit predict from the training
series itself; there the stored adjusted window and long cycles replace a second
decomposition, with the same forecast. Any other history is decomposed afresh.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import tidecast.models.decomposition as decomposition
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.decomposition import MSTLETS

SPEC = DatasetSpec(freq="D")
HORIZON = 14
QUANTILES = (0.1, 0.5, 0.9)


def daily(days: int, seed: int = 0) -> np.ndarray:
    """Trend, weekly and yearly cycles and noise, over two years so the yearly cycle is used."""
    t = np.arange(days)
    noise = np.random.default_rng(seed).normal(0, 1, days)
    return 100 + 0.02 * t + 10 * np.sin(2 * np.pi * t / 7) + 20 * np.sin(2 * np.pi * t / 365) + noise


def frame(series: dict[str, np.ndarray]) -> pd.DataFrame:
    dates = {k: pd.date_range("2020-01-01", periods=len(v), freq="D") for k, v in series.items()}
    return pd.concat(
        [pd.DataFrame({ITEM_ID: k, TIMESTAMP: dates[k], TARGET: v}) for k, v in series.items()],
        ignore_index=True,
    )


@pytest.fixture
def decompositions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the series MSTL-ETS decomposes, in call order."""
    original, calls = decomposition.mstl_decompose, []

    def counted(y, periods, **kwargs):
        calls.append(len(y))
        return original(y, periods, **kwargs)

    monkeypatch.setattr(decomposition, "mstl_decompose", counted)
    return calls


def test_when_forecasting_the_fitted_series_then_it_is_not_decomposed_again(decompositions):
    history = frame({"a": daily(900), "b": daily(900, seed=1)})
    model = MSTLETS(season_lengths=(7, 365), n_jobs=1).fit(history, SPEC, HORIZON)
    assert decompositions == [900, 900]
    model.predict(history)
    assert decompositions == [900, 900]
    model.predict(frame({"a": daily(914), "b": daily(914, seed=1)}))
    assert decompositions == [900, 900, 914, 914]


def test_when_the_decomposition_is_reused_then_the_forecast_equals_a_fresh_one():
    y = daily(900)
    model = MSTLETS(season_lengths=(7, 365), n_jobs=1).fit(frame({"a": y}), SPEC, HORIZON)
    state = model.states_["a"]
    assert state.fitted_on(y) and state.periods == (365,)
    reused = model._forecast_series(state, y, HORIZON, QUANTILES)
    fresh = model._forecast_series(dataclasses.replace(state, adjusted=None), y, HORIZON, QUANTILES)
    np.testing.assert_allclose(reused[0], fresh[0], rtol=1e-12)
    np.testing.assert_allclose(reused[1], fresh[1], rtol=1e-12)


def test_when_one_past_value_differs_then_the_series_is_decomposed_afresh(decompositions):
    y = daily(900)
    model = MSTLETS(season_lengths=(7, 365), n_jobs=1).fit(frame({"a": y}), SPEC, HORIZON)
    edited = y.copy()
    edited[10] += 1.0
    model.predict(frame({"a": edited}))
    assert decompositions == [900, 900]
