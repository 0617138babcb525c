"""Prophet: seasonalities by frequency, holidays frame, covariate regressors, seeded quantiles."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from tidecast.data.holidays import HolidayCalendar
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec
from tidecast.models.prophet import Prophet, holidays_frame, regressor_names, seasonalities

SPEC = DatasetSpec(freq="D", known_covariates=("promotion",), holidays=("US",))


@pytest.mark.parametrize(
    ("freq", "expected"),
    [
        ("D", {"weekly": 7, "yearly": 365}),
        ("h", {"daily": 24, "weekly": 168}),
        ("W", {"yearly": 52}),
        ("MS", {"yearly": 12}),
        ("YS", {}),
    ],
)
def test_when_frequency_is_given_then_prophets_named_seasonalities_follow_it(freq, expected):
    assert seasonalities(freq) == expected


def test_when_calendar_is_given_then_holidays_frame_has_keys_and_windows():
    calendar = HolidayCalendar.from_countries(("US",), [2023])
    frame = holidays_frame(calendar, 3)
    assert frame is not None
    assert {"christmas_day", "independence_day"} <= set(frame["holiday"])
    assert (frame["lower_window"] == -3).all() and (frame["upper_window"] == 3).all()
    assert holidays_frame(None, 3) is None


def test_when_covariate_names_clash_or_have_symbols_then_regressor_names_are_safe():
    names = regressor_names(("trend", "colour=red", "y"))
    assert names == ("x_trend_0", "x_colour_red_1", "x_y_2")


def promoted(n: int = 150) -> pd.DataFrame:
    """Two weekly-seasonal series lifted by 25 on promotion days; 7 extra days for the future."""
    rng = np.random.default_rng(1)
    frames = []
    for item in ("a", "b"):
        stamps = pd.date_range("2023-01-02", periods=n + 7, freq="D")
        promotion = (rng.random(n + 7) < 0.1).astype(np.int8)
        promotion[-5] = 1
        y = 60 + 5 * np.sin(2 * np.pi * np.arange(n + 7) / 7) + 25 * promotion + rng.normal(0, 1, n + 7)
        frames.append(pd.DataFrame({ITEM_ID: item, TIMESTAMP: stamps, TARGET: y, "promotion": promotion}))
    return pd.concat(frames, ignore_index=True)


def test_when_promotions_are_known_then_prophet_forecasts_them_deterministically():
    full = promoted()
    history = full.groupby(ITEM_ID).head(150).reset_index(drop=True)
    future = full.groupby(ITEM_ID).tail(7).reset_index(drop=True)
    model = Prophet(uncertainty_samples=100, n_jobs=1).fit(history, SPEC, 7)
    assert model.holidays_ is not None and "christmas_day" in set(model.holidays_["holiday"])
    forecast = model.predict(history, future=future[[ITEM_ID, TIMESTAMP, "promotion"]])
    error = np.abs(forecast[MEAN].to_numpy() - future[TARGET].to_numpy())
    assert error.mean() < 3  # a forecast blind to the promotions misses by 25 on those days
    assert (forecast["p10"] < forecast["p50"]).all() and (forecast["p50"] < forecast["p90"]).all()
    loaded = pickle.loads(pickle.dumps(model))
    again = loaded.predict(history, future=future[[ITEM_ID, TIMESTAMP, "promotion"]])
    pd.testing.assert_frame_equal(again, forecast, check_exact=True)


@pytest.mark.slow
def test_when_series_are_fitted_in_worker_processes_then_forecasts_match_one_process():
    full = promoted(60)
    panel = pd.concat([full.assign(**{ITEM_ID: full[ITEM_ID] + str(k)}) for k in range(8)], ignore_index=True)
    history = panel.groupby(ITEM_ID).head(60).reset_index(drop=True)
    future = panel.groupby(ITEM_ID).tail(7).reset_index(drop=True)[[ITEM_ID, TIMESTAMP, "promotion"]]
    spec = DatasetSpec(freq="D", known_covariates=("promotion",))
    forked = Prophet(uncertainty_samples=50, n_jobs=2).fit(history, spec, 7).predict(history, future=future)
    single = Prophet(uncertainty_samples=50, n_jobs=1).fit(history, spec, 7).predict(history, future=future)
    pd.testing.assert_frame_equal(forked, single)
