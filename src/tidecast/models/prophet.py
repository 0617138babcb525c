"""Prophet (Meta's `prophet` package) per series, with the spec's holidays and known covariates.

Prophet fits trend + Fourier seasonalities + holiday windows + extra regressors by MAP in Stan
(cmdstan, a subprocess per fit: 0.2-0.7 s a series), which is why it is tagged expensive and
its history is capped (`max_history`). Here:

- **Seasonalities** follow the frequency (`seasonal_periods`): yearly for periods of about a
  year (365 days, 52 weeks, 12 months), weekly for 7 days or 168 hours, daily for 24 hours;
  each only when the series' window holds two of its cycles, as Prophet's "auto" does.
- **Holidays**: the spec's countries and events (`spec_calendar`) as Prophet's holidays
  frame, each with a window of `holiday_window` days either side, so the days before and
  after a holiday get their own effects.
- **Known covariates** enter as extra regressors, encoded like `DynamicRegression`'s
  (`CovariateEncoder`: indicators plus windows around their events, standardised numbers,
  one-hot frequent levels); their horizon values come from the `future` frame.
- **Quantiles** are those of Prophet's posterior predictive samples (`uncertainty_samples`,
  trend changes and observation noise), drawn with numpy's global generator, which Prophet
  uses; it is seeded with `seed` before each series' draws, so the forecast is deterministic
  and does not depend on which other items are in the panel. The mean is Prophet's `yhat`.
- **Workers**: series are fitted in forked processes (`parallel_map`); a fitted Prophet
  object pickles (its Stan results are plain arrays), so it is the stored state.

Prophet cannot condition on newer history without refitting: forecasting from a newer panel
extrapolates the fitted model to the new dates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.features import spec_calendar
from tidecast.data.frequency import future_timestamps, seasonal_periods
from tidecast.data.holidays import holiday_key
from tidecast.models.base import Tags
from tidecast.models.covariates import CovariateEncoder, Exogenous, panel_exogenous
from tidecast.models.intervals import empirical_quantiles
from tidecast.models.local import LocalForecaster, SeriesForecast

# Seasonal periods (in steps of the frequency) and the Prophet seasonality each stands for.
# Periods within 10% of one of these get that name (52 weeks, 12 months, 365 days).
_NAMED = {"daily": 1.0, "weekly": 7.0, "yearly": 365.25}


def silence_stan() -> None:
    """Keep cmdstanpy's per-fit INFO lines (two per series) and Prophet's note that plotly is
    missing (it plots nothing here) out of the user's log.

    cmdstanpy sets its logger's level on first use, so that is triggered before overriding it.
    """
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    from cmdstanpy.utils import get_logger

    get_logger().setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)


def seasonalities(freq: str) -> dict[str, float]:
    """Prophet's named seasonalities for `freq`, with their period in steps of `freq`.

    Daily data: weekly (7) and yearly (365); hourly: daily (24) and weekly (168); weekly data:
    yearly (52); monthly: yearly (12). Any other period of the frequency is left out.
    """
    periods = [float(p) for p in seasonal_periods(freq) if p > 1]
    if not periods:
        return {}
    day = _step_days(freq)
    out: dict[str, float] = {}
    for period in periods:
        for name, days in _NAMED.items():
            if abs(period * day - days) <= 0.1 * days:
                out[name] = period
    return out


def _step_days(freq: str) -> float:
    """Days per step, from two consecutive timestamps of `freq` (a month counts 30.4)."""
    start = pd.Timestamp("2001-01-01")
    stamps = pd.date_range(start, periods=13, freq=freq)
    return float((stamps[-1] - stamps[0]) / pd.Timedelta(days=1)) / 12.0


def holidays_frame(calendar: Any, window: int) -> pd.DataFrame | None:
    """Prophet's holidays frame: one row per holiday date, named by its key, +-`window` days."""
    if calendar is None or len(calendar) == 0:
        return None
    return pd.DataFrame(
        {
            "holiday": [holiday_key(n) for n in calendar.names],
            "ds": pd.to_datetime(calendar.days),
            "lower_window": -int(window),
            "upper_window": int(window),
        }
    ).drop_duplicates(["holiday", "ds"], ignore_index=True)


def regressor_names(names: Sequence[str]) -> tuple[str, ...]:
    """Covariate column names Prophet accepts as regressors (no clash with its own columns)."""
    return tuple("x_" + re.sub(r"[^0-9A-Za-z_]+", "_", name) + f"_{k}" for k, name in enumerate(names))


class Prophet(LocalForecaster):
    """Prophet per series (module docstring); the state of an item is its fitted Prophet."""

    name = "Prophet"
    tags = Tags(cost=20.0, min_length=14, known_covariates=True)

    def __init__(
        self,
        holiday_window: int = 2,
        event_radii: tuple[int, ...] = (2, 7),
        changepoint_prior_scale: float = 0.05,
        seasonality_mode: Literal["additive", "multiplicative"] = "additive",
        uncertainty_samples: int = 200,
        max_history: int | None = 1100,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.holiday_window = holiday_window
        self.event_radii = event_radii
        self.changepoint_prior_scale = changepoint_prior_scale
        self.seasonality_mode = seasonality_mode
        self.uncertainty_samples = uncertainty_samples
        self.max_history = max_history
        self.seed = seed
        self.n_jobs = n_jobs

    encoder_: CovariateEncoder = CovariateEncoder()
    holidays_: pd.DataFrame | None = None
    # The future frame of the predict call under way (LocalForecaster's `_context` sees none).

    @property
    def _stateful(self) -> bool:
        return True

    # ---- one series ---------------------------------------------------------------------------
    def fit_series(self, y: np.ndarray, stamps: np.ndarray, covariates: np.ndarray | None) -> Any:
        """A fitted Prophet on the finite values of one series (and its covariate columns)."""
        silence_stan()
        from prophet import Prophet as ProphetModel

        finite = np.isfinite(y)
        frame = pd.DataFrame({"ds": stamps[finite], "y": y[finite]})
        span_days = (frame["ds"].iloc[-1] - frame["ds"].iloc[0]) / pd.Timedelta(days=1)
        model = ProphetModel(
            growth="linear",
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            holidays=self.holidays_,
            changepoint_prior_scale=self.changepoint_prior_scale,
            seasonality_mode=self.seasonality_mode,
            uncertainty_samples=self.uncertainty_samples,
        )
        day = _step_days(self.spec_.freq)
        orders = {"daily": 4, "weekly": 3, "yearly": 10}  # Prophet's defaults
        for name, period in seasonalities(self.spec_.freq).items():
            if span_days >= 2 * period * day:
                model.add_seasonality(name=name, period=_NAMED[name], fourier_order=orders[name])
        if covariates is not None:
            names = regressor_names(self.encoder_.names)
            values = covariates[finite]
            for k, name in enumerate(names):
                if np.ptp(values[:, k]) > 0:  # a constant regressor is a singular column
                    model.add_regressor(name)
                    frame[name] = values[:, k]
        return model.fit(frame, algorithm="LBFGS")

    def forecast_series(
        self, model: Any, future: np.ndarray, covariates: np.ndarray | None, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        """`yhat` and the quantiles of the posterior predictive samples at the `future` stamps."""
        frame = pd.DataFrame({"ds": future})
        if covariates is not None:
            for k, name in enumerate(regressor_names(self.encoder_.names)):
                frame[name] = covariates[:, k]
        np.random.seed(self.seed)  # Prophet samples from numpy's global generator
        samples = np.asarray(model.predictive_samples(frame, vectorized=True)["yhat"], dtype=np.float64)
        return _point(model, frame), empirical_quantiles(samples.T, quantiles)

    # ---- the panel ----------------------------------------------------------------------------
    def _context(
        self, data: SeriesArrays, fitting: bool, future: pd.DataFrame | None = None
    ) -> tuple[Exogenous | None, np.ndarray | None]:
        if fitting:
            return panel_exogenous(self.encoder_, data), None
        ahead = future_timestamps(data.last_timestamps(), data.freq, self.horizon_)
        return panel_exogenous(self.encoder_, data, future, self.horizon_), ahead

    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        known = [c for c in self.spec_.known_covariates if c in data.covariates]
        self.encoder_ = CovariateEncoder.learn({c: data.covariates[c] for c in known}, self.event_radii)
        self.holidays_ = None
        if len(data.timestamps):
            end = future_timestamps(data.last_timestamps()[:1], data.freq, self.horizon_).max()
            calendar = spec_calendar(self.spec_, data.timestamps.min(), max(end, data.timestamps.max()))
            self.holidays_ = holidays_frame(calendar, self.holiday_window)
        super()._fit(data, deadline)

    def _fit_item(self, y: np.ndarray, stamps: np.ndarray, i: int, context: Any) -> Any:
        if int(np.isfinite(y).sum()) < self.tags.min_length:
            return None
        exogenous, _ = context
        return self.fit_series(y, stamps, _rows(exogenous, i, len(y), 0))

    def _forecast_item(
        self,
        state: Any,
        y: np.ndarray,
        stamps: np.ndarray,
        i: int,
        context: Any,
        horizon: int,
        quantiles: tuple[float, ...],
    ) -> SeriesForecast:
        exogenous, ahead = context
        if state is None:  # an item not seen in fit
            state = self.fit_series(y, stamps, _rows(exogenous, i, len(y), 0))
        return self.forecast_series(state, ahead[i], _rows(exogenous, i, 0, horizon), quantiles)


def _rows(exogenous: Exogenous | None, i: int, before: int, after: int) -> np.ndarray | None:
    """The covariate rows of series i from `before` steps before its end to `after` steps after."""
    if exogenous is None:
        return None
    length = int(exogenous.lengths[i])
    return exogenous.rows(i, length - before, length + after)


def _point(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """Prophet's `yhat` (trend plus seasonal, holiday and regressor terms), without sampling."""
    prepared = model.setup_dataframe(frame.copy())
    trend = np.asarray(model.predict_trend(prepared), dtype=np.float64)
    components = model.predict_seasonal_components(prepared)
    additive = components["additive_terms"].to_numpy(dtype=np.float64)
    multiplicative = components["multiplicative_terms"].to_numpy(dtype=np.float64)
    return trend * (1 + multiplicative) + additive
