"""The statsforecast wrappers: accuracy on clean data, forward without refit, fallbacks, MSTL periods.

Everything runs in this process (`n_jobs=1`) on short series, so the module takes seconds.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from statsforecast import models as sf

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.errors import ConfigError
from tidecast.models.intervals import levels_for
from tidecast.models.local import LocalForecaster
from tidecast.models.mstl import MIN_CYCLES, MSTL, mstl_decompose
from tidecast.models.statistical import AutoARIMA, AutoETS, FittedSeries, fit_first
from tidecast.models.theta import AutoTheta

SPEC = DatasetSpec(freq="D")
HORIZON = 14
QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)

MODELS: dict[str, Callable[..., LocalForecaster]] = {
    "AutoETS": lambda **kw: AutoETS(season_length=7, n_jobs=1, **kw),
    "AutoARIMA": lambda **kw: AutoARIMA(season_length=7, n_jobs=1, **kw),
    "AutoTheta": lambda **kw: AutoTheta(season_length=7, n_jobs=1, **kw),
    "MSTL": lambda **kw: MSTL(n_jobs=1, **kw),
}


def panel(series: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                ITEM_ID: item,
                TIMESTAMP: pd.date_range("2023-01-01", periods=len(values), freq="D"),
                TARGET: np.asarray(values, dtype=np.float64),
            }
        )
        for item, values in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


def seasonal(n: int, seed: int = 0, level: float = 100.0) -> np.ndarray:
    """Level, trend, a weekly cycle and a little noise: what every model here should nail."""
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(0, 1, n)
    return level + 0.2 * t + 10 * np.sin(2 * np.pi * t / 7) + noise


@pytest.mark.parametrize("name", list(MODELS))
def test_when_series_is_seasonal_with_trend_then_the_forecast_is_close(name):
    full = {f"s{i}": seasonal(210, seed=i, level=100 + 20 * i) for i in range(3)}
    train = panel({k: v[:-HORIZON] for k, v in full.items()})
    forecast = MODELS[name]().fit(train, SPEC, HORIZON).predict(train)
    actual = np.concatenate([v[-HORIZON:] for v in full.values()])
    # The noise alone has a mean absolute error of 0.8; a model missing the cycle scores ~6.
    assert np.mean(np.abs(forecast[MEAN].to_numpy() - actual)) < 2.5


@pytest.mark.parametrize("name", list(MODELS))
def test_when_forecasting_then_quantiles_are_nested_around_the_point_forecast(name):
    y = seasonal(150)
    model = MODELS[name]().fit(panel({"a": y}), SPEC, HORIZON)
    for history in (y, seasonal(160)):  # the training series (predict), then newer (forward)
        mean, quantiles = model._forecast_series(model.states_["a"], history, HORIZON, QUANTILES)
        assert quantiles.shape == (HORIZON, len(QUANTILES))
        assert np.all(np.diff(quantiles, axis=1) > 0)
        np.testing.assert_allclose(quantiles[:, QUANTILES.index(0.5)], mean)


@pytest.mark.parametrize("name", list(MODELS))
def test_when_history_is_newer_then_stored_parameters_forecast_it_without_a_refit(name, monkeypatch):
    y = seasonal(200)
    model = MODELS[name]().fit(panel({"a": y[:-10]}), SPEC, HORIZON)
    state = model.states_["a"]
    before = pickle.dumps(state)

    def no_refit(*args: object, **kwargs: object) -> None:
        raise AssertionError("refitted")

    for cls in (sf.AutoETS, sf.AutoARIMA, sf.AutoTheta):
        monkeypatch.setattr(cls, "fit", no_refit)
    newer = model.predict(panel({"a": y}))
    assert model.states_["a"] is state and pickle.dumps(state) == before
    assert newer.attrs["fallback_items"] == []
    monkeypatch.undo()
    refitted = MODELS[name]().fit(panel({"a": y}), SPEC, HORIZON).predict(panel({"a": y}))
    # Same history, other parameters: the forecasts differ, but not by much.
    assert not np.allclose(newer[MEAN], refitted[MEAN])
    assert np.mean(np.abs(newer[MEAN].to_numpy() - refitted[MEAN].to_numpy())) < 3


def test_when_history_is_newer_then_arima_forecast_is_the_models_forward():
    y = seasonal(200)
    model = AutoARIMA(season_length=7, n_jobs=1).fit(panel({"a": y[:-10]}), SPEC, HORIZON)
    forecast = model.predict(panel({"a": y}), quantiles=(0.1, 0.5, 0.9))
    expected = model.states_["a"].model.forward(y=y[-120:], h=HORIZON, level=levels_for((0.1, 0.9)))
    np.testing.assert_allclose(forecast[MEAN], expected["mean"])
    np.testing.assert_allclose(forecast["p10"], expected["lo-80.0"])
    np.testing.assert_allclose(forecast["p90"], expected["hi-80.0"])


def test_when_the_training_series_is_forecast_then_predict_is_used_and_forward_is_not(monkeypatch):
    y = seasonal(120)
    model = AutoETS(season_length=7, n_jobs=1).fit(panel({"a": y}), SPEC, HORIZON)
    monkeypatch.setattr(sf.AutoETS, "forward", lambda *a, **k: pytest.fail("forward called"))
    forecast = model.predict(panel({"a": y}))
    np.testing.assert_allclose(forecast[MEAN], model.states_["a"].model.predict(h=HORIZON)["mean"])


def test_when_max_history_cuts_a_newer_window_off_phase_then_ets_forward_realigns_the_season():
    # Fitted on days 30..99, forecast from days 33..102: the window starts 3 days later, off the
    # weekly phase of the stored initial states. The aligned start within it is day 37.
    t = np.arange(103)
    y = 50 + 10 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(1).normal(0, 0.3, 103)
    model = AutoETS(season_length=7, max_history=70, n_jobs=1).fit(panel({"a": y[:100]}), SPEC, HORIZON)
    fitted = model.states_["a"].model
    assert fitted.model_["components"][2] != "N"
    forecast = model.predict(panel({"a": y}))
    np.testing.assert_allclose(forecast[MEAN], fitted.forward(y=y[37:], h=HORIZON)["mean"])
    truth = 50 + 10 * np.sin(2 * np.pi * np.arange(103, 103 + HORIZON) / 7)
    assert np.mean(np.abs(forecast[MEAN].to_numpy() - truth)) < 1.0


@pytest.mark.parametrize("decomposition", ["additive", "multiplicative"])
def test_when_theta_removes_a_strong_cycle_then_its_band_measures_the_noise_not_the_cycle(decomposition):
    # Unit noise under a cycle of amplitude 30: a p10-p90 band of about 2.6 one step ahead.
    # statsforecast 2.1 left the additive cycle in the residuals behind its band (55 wide).
    t = np.arange(154)
    y = 100 + 30 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(3).normal(0, 1, len(t))
    model = AutoTheta(season_length=7, decomposition_type=decomposition, n_jobs=1)
    model.fit(panel({"a": y[:-7]}), SPEC, HORIZON)
    assert model.states_["a"].model.model_["decompose"]
    for history in (y[:-7], y):  # the training series (predict), then newer (forward)
        forecast = model.predict(panel({"a": history}), quantiles=(0.1, 0.5, 0.9))
        width = forecast["p90"].iloc[0] - forecast["p10"].iloc[0]
        assert 1.5 < width < 5.0


def test_when_theta_decomposes_by_the_data_then_it_picks_the_form_whose_one_step_fit_is_closer():
    # A cycle that grows with the level (multiplicative) and one of fixed size (additive).
    t = np.arange(140)
    rng = np.random.default_rng(5)
    grows = (50 + 2 * t) * (1 + 0.4 * np.sin(2 * np.pi * t / 7)) * (1 + 0.01 * rng.normal(size=len(t)))
    fixed = 50 + 2 * t + 20 * np.sin(2 * np.pi * t / 7) + rng.normal(size=len(t))
    train = panel({"grows": grows[:-HORIZON], "fixed": fixed[:-HORIZON]})
    model = AutoTheta(season_length=7, decomposition_type="auto", n_jobs=1).fit(train, SPEC, HORIZON)
    picked = {k: model.states_[k].model.model_["decomposition_type"] for k in ("grows", "fixed")}
    assert picked == {"grows": "multiplicative", "fixed": "additive"}
    forecast = model.predict(train)
    actual = np.concatenate([grows[-HORIZON:], fixed[-HORIZON:]])
    by_kind = {
        kind: AutoTheta(season_length=7, decomposition_type=kind, n_jobs=1)
        .fit(train, SPEC, HORIZON)
        .predict(train)
        for kind in ("additive", "multiplicative")
    }
    # Each series gets the forecast of its own form: as good as the better single form on each.
    for k, item in enumerate(("grows", "fixed")):
        rows = forecast[ITEM_ID] == item
        errors = {
            n: np.abs(
                f.loc[f[ITEM_ID] == item, MEAN].to_numpy() - actual[k * HORIZON : (k + 1) * HORIZON]
            ).mean()
            for n, f in by_kind.items()
        }
        own = np.abs(forecast.loc[rows, MEAN].to_numpy() - actual[k * HORIZON : (k + 1) * HORIZON]).mean()
        assert own == pytest.approx(min(errors.values()))


@pytest.mark.parametrize("name", list(MODELS))
def test_when_series_is_constant_then_the_constant_is_forecast(name):
    train = panel({"flat": np.full(60, 5.0), "b": seasonal(60)})
    forecast = MODELS[name]().fit(train, SPEC, HORIZON).predict(train)
    flat = forecast[forecast[ITEM_ID] == "flat"]
    np.testing.assert_allclose(flat[[MEAN, "p10", "p50", "p90"]].to_numpy(), 5.0, atol=1e-6)


def test_when_the_fit_of_one_series_fails_then_only_that_series_falls_back(monkeypatch):
    original = sf.AutoARIMA.fit

    def fit(self: object, y: np.ndarray, X: object = None) -> object:
        if y[-1] > 1000:
            raise np.linalg.LinAlgError("singular")
        return original(self, y, X)

    monkeypatch.setattr(sf.AutoARIMA, "fit", fit)
    train = panel({"ok": seasonal(100), "bad": seasonal(100, level=2000)})
    model = AutoARIMA(season_length=7, n_jobs=1).fit(train, SPEC, HORIZON)
    assert model.states_["ok"].label == "AutoARIMA"
    assert model.states_["bad"].label == "AutoETS(ZZN)"
    forecast = model.predict(train)
    assert np.isfinite(forecast[[MEAN, "p10", "p90"]].to_numpy()).all()
    bad = forecast[forecast[ITEM_ID] == "bad"][MEAN].to_numpy()
    assert np.all(np.abs(bad - 2000 - 0.2 * 100) < 40)


def test_when_every_candidate_fails_then_the_series_gets_the_naive_forecast(monkeypatch):
    def fail(*args: object, **kwargs: object) -> None:
        raise ValueError("no model able to be fitted")

    monkeypatch.setattr(sf.AutoTheta, "fit", fail)
    monkeypatch.setattr(sf.AutoETS, "fit", fail)
    y = seasonal(80)
    model = AutoTheta(season_length=7, n_jobs=1).fit(panel({"a": y}), SPEC, HORIZON)
    assert model.states_["a"].model is None
    forecast = model.predict(panel({"a": y}))
    np.testing.assert_allclose(forecast[MEAN], y[-1])


def test_when_training_history_has_a_gap_then_the_template_fills_it_and_the_series_is_fitted():
    # statsforecast refuses NaN; the model template fills the gap (gapfill) before the kernel.
    gappy = seasonal(80)
    gappy[40] = np.nan
    model = AutoETS(season_length=7, n_jobs=1).fit(panel({"gap": gappy, "b": seasonal(80)}), SPEC, HORIZON)
    assert model.states_["gap"].label == "AutoETS"
    assert model.states_["b"].label == "AutoETS"
    forecast = model.predict(panel({"gap": gappy, "b": seasonal(80)}))
    assert np.isfinite(forecast[MEAN]).all() and forecast.attrs["fallback_items"] == []


def test_when_statsforecast_warns_then_the_warning_does_not_escape(monkeypatch):
    original = sf.AutoETS.fit

    def noisy(self: object, y: np.ndarray, X: object = None) -> object:
        warnings.warn("optimizer did not converge", RuntimeWarning, stacklevel=1)
        np.log(np.zeros(1))  # a floating-point warning as well
        return original(self, y, X)

    monkeypatch.setattr(sf.AutoETS, "fit", noisy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = fit_first([sf.AutoETS(model="ZZN")], seasonal(60))
    assert isinstance(state, FittedSeries) and state.model is not None


@pytest.mark.parametrize(
    ("days", "periods"),
    [(int(MIN_CYCLES * 365) + 30, (7, 365)), (400, (7,)), (2 * 365, (7,)), (12, ())],
)
def test_when_series_is_too_short_for_a_period_then_mstl_drops_that_period(days, periods):
    y = seasonal(days)
    model = MSTL(n_jobs=1).fit(panel({"a": y}), SPEC, HORIZON)
    state = model.states_["a"]
    assert state.periods == periods
    assert [len(tail) for tail in state.seasonal_tails] == list(periods)
    forecast = model.predict(panel({"a": y}))
    assert np.isfinite(forecast[MEAN]).all() and forecast.attrs["fallback_items"] == []


def test_when_decomposing_then_components_add_back_to_the_series_and_follow_the_cycle():
    y = seasonal(140)
    components, adjusted = mstl_decompose(y, [7])
    np.testing.assert_allclose(components.sum(axis=0) + adjusted, y)
    cycle = 10 * np.sin(2 * np.pi * np.arange(140) / 7)
    assert np.mean(np.abs(components[0] - cycle)) < 1.0


@pytest.mark.parametrize("name", list(MODELS))
def test_when_max_history_is_set_then_older_values_are_never_seen(name):
    y = seasonal(150)
    older = y.copy()
    older[:80] += np.random.default_rng(5).normal(0, 30, 80)
    model = MODELS[name](max_history=60)
    forecasts = [model.fit(panel({"a": v}), SPEC, HORIZON).predict(panel({"a": v})) for v in (y, older)]
    assert model.states_["a"].length == 60
    np.testing.assert_allclose(forecasts[0][MEAN], forecasts[1][MEAN])


def test_when_theta_is_asked_for_an_unknown_decomposition_then_a_config_error_names_the_choices():
    with pytest.raises(ConfigError, match="'auto', 'additive' or 'multiplicative'"):
        AutoTheta(decomposition_type="log")
