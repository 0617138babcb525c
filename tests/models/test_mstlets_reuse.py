"""MSTL-ETS and MSTL forecasting from the series they were fitted on, or from it with a few
new values, reuse the fit's decomposition.

The first backtest window and the forecast after the final fit predict from the training
series itself; there the stored adjusted window and long cycles replace a second
decomposition, with the same forecast. The later backtest windows predict from it with a
horizon or two appended: the fit's seasonal components carry on over the new values
(`mstl.extended`), up to one long cycle and 11 short ones. Any other history is decomposed
afresh.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import tidecast.models.decomposition as decomposition
import tidecast.models.mstl as mstl
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.decomposition import MSTLETS
from tidecast.models.mstl import MSTL, extended, reuse_steps

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
    monkeypatch.setattr(mstl, "mstl_decompose", counted)
    return calls


def test_when_forecasting_the_fitted_series_then_it_is_not_decomposed_again(decompositions):
    history = frame({"a": daily(900), "b": daily(900, seed=1)})
    model = MSTLETS(season_lengths=(7, 365), n_jobs=1).fit(history, SPEC, HORIZON)
    assert decompositions == [900, 900]
    model.predict(history)
    assert decompositions == [900, 900]
    model.predict(frame({"a": daily(914), "b": daily(914, seed=1)}))  # a horizon more: carried on
    assert decompositions == [900, 900]
    model.predict(frame({"a": daily(978), "b": daily(978, seed=1)}))  # 78 new days: 11 weeks and one
    assert decompositions == [900, 900, 978, 978]


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


def test_the_new_values_are_adjusted_by_the_seasonal_cycles_carried_on_and_the_tails_move_with_them():
    weekly, yearly = np.arange(7, dtype=float), np.arange(100, 112, dtype=float)  # tails of periods 7 and 12
    fitted = np.linspace(0.0, 1.0, 30)
    fingerprint = mstl.digest(fitted)
    y = np.concatenate([fitted, [50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 110.0, 120.0, 130.0]])
    adjusted, tails = extended(30, fingerprint, y, (weekly, yearly), limit=12)
    season = np.array([0, 1, 2, 3, 4, 5, 6, 0, 1]) + np.arange(100, 109)
    np.testing.assert_array_equal(adjusted, y[30:] - season)
    np.testing.assert_array_equal(tails[0], [2, 3, 4, 5, 6, 0, 1])  # the cycle 9 steps on
    np.testing.assert_array_equal(tails[1], [109, 110, 111, 100, 101, 102, 103, 104, 105, 106, 107, 108])
    assert extended(30, fingerprint, y[:30], (weekly,), limit=12) is None  # nothing new: the fit's own
    assert extended(30, fingerprint, y, (weekly,), limit=8) is None  # more new values than carried on
    changed = y.copy()
    changed[3] += 1.0
    assert extended(30, fingerprint, changed, (weekly,), limit=12) is None  # another past
    gap = y.copy()
    gap[-1] = np.nan
    assert extended(30, fingerprint, gap, (weekly,), limit=12) is None
    assert reuse_steps((7, 365), 7) == 77 and reuse_steps((24, 168), 24) == 168 and reuse_steps((), 7) == 0


def test_when_mstl_forecasts_a_horizon_past_its_fit_then_it_carries_on_and_matches_a_fresh_decomposition(
    decompositions,
):
    y = daily(914)
    model = MSTL(season_lengths=(7, 365), n_jobs=1).fit(frame({"a": y[:900]}), SPEC, HORIZON)
    assert decompositions == [900]
    carried = model.predict(frame({"a": y}), quantiles=QUANTILES)
    assert decompositions == [900]
    state = dataclasses.replace(model.states_["a"], trend_input=None)  # as a model saved before
    fresh = model._forecast_series(state, y, HORIZON, QUANTILES)
    assert decompositions == [900, 914]
    np.testing.assert_allclose(carried["mean"].to_numpy(), fresh[0], rtol=0.01)


def test_when_mstlets_forecasts_days_past_its_fit_then_the_carried_window_keeps_the_weekly_phase():
    y = daily(903)  # three days on: not whole weeks, so the ETS window's start must move by a week
    model = MSTLETS(season_lengths=(7, 365), n_jobs=1).fit(frame({"a": y[:900]}), SPEC, HORIZON)
    state = model.states_["a"]
    carried = model._forecast_series(state, y, HORIZON, QUANTILES)
    fresh = model._forecast_series(dataclasses.replace(state, adjusted=None), y, HORIZON, QUANTILES)
    np.testing.assert_allclose(carried[0], fresh[0], rtol=0.01)  # 10-unit weekly cycle, level ~120
