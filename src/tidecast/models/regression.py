"""Dynamic regression per series: trend, cycles, holidays and known covariates, fitted robustly.

The design Prophet popularised, without its Stan dependency: each series is a linear model

    y ~ piecewise-linear trend + Fourier terms of each seasonal period + holiday windows
        + known covariates (and windows around their events)

fitted by ridge-penalised least squares, reweighted iteratively with Huber weights so that
gross outliers (a data error, a stock-out) do not drag the fit. The Huber bound is loose
(`HUBER_C`): holiday peaks and promotions are part of what the quantiles must describe.

- **Trend**: intercept, a linear slope and hinge functions max(0, tau - c) at changepoints
  spread evenly over the first `changepoint_range` of the history (Prophet's 80%), so the
  recent part is one straight line that extrapolates. Hinges get a stronger ridge penalty
  than the other columns: the trend bends only where the data insists.
- **Cycles**: `fourier_terms` on the absolute step index (`step_index`), so a timestamp gets
  the same columns whatever series it sits in and wherever that series starts; the horizon's
  rows line up with the history's. The periods are the frequency's own (`season_lengths`)
  plus, with `detect_periods`, the cycles `tidecast.data.period_detection.detect_periods` finds in
  the panel (once per fit, over the whole panel, so it costs one FFT pass, not one per
  series). A period needs two full cycles in the history, else it is dropped.
- **Growing cycles**: with `growing_seasonality`, every Fourier column also enters multiplied
  by (tau - 1), tau the trend's clock, which is 1 at the end of the history: Prophet's
  multiplicative seasonality, linearised, so a cycle whose amplitude scales with a trending
  level is followed, and the ridge shrinks toward the amplitude of the recent past. Only on
  series of `GROWING_MIN_HORIZONS` horizons or more: on a short one the clock runs far past
  0 over the horizon and the growth is extrapolated with it.
- **Holidays**: the spec's countries and events (`DatasetSpec.holidays` / `.events`), or the
  `holidays` parameter when it is given, each holiday with an indicator within each radius of
  `holiday_radii` days (by default the day, +-2 and +-7 days), because demand moves for days
  before and after a holiday, not just on it.
- **Known covariates** (`CovariateEncoder`): numeric columns enter standardised; 0/1
  indicators (a promotion, a store's own holiday flag) enter as they are, plus an indicator
  "within r steps of an event" for each r of `event_radii`, from `event_distances` over the
  history and the horizon together, so the days around a planned promotion or holiday are
  described; text columns enter as one-hot columns of their frequent levels. Their horizon
  values come from the `future` frame. A flag's event windows need `MIN_POINTS_PER_COLUMN`
  observations per design column: in a short history they act as steps in the level.
- **Effects that scale with the level** (`scaled_effects`): a promotion that lifts sales by
  half adds twice the units when the level has doubled, which one additive coefficient
  cannot say. So each covariate column (not its event windows) may also enter multiplied by
  the series' baseline (a first fit without that copy): y ~ baseline x (1 + gamma x) + beta x,
  linear in gamma and beta. The copy is kept where it earns its columns, when its drop in
  Huber loss beats BIC's k log(n) (`robust.huber_gain`): on a promotion that adds units it is
  left out. The baseline is that first fit's whole line less the covariate's own terms
  (`regression_design.own_baselines`), holidays and the other flags included: on trend and
  cycles alone a promotion in a holiday week missed the holiday's share of its lift. Measured
  (default preset, one thread, test wQL): the messy demo 0.013476 -> 0.013243 (this model
  alone 0.013042 -> 0.012483), the clean demo 0.0028756 -> 0.0028752, pasta_promo's origins
  0.375532 / 0.365690 / 0.423778 -> 0.375641 / 0.365505 / 0.423690, dominicks_oj identical.
- **Closed days and gaps**: the closure rules of `gbm_closed` (a known covariate value under
  which every observed sale is 0, e.g. `open` = 0) are learnt at fit, and the days they call
  closed are left out of every fit, as are missing targets (`handles_missing_target`: a gap
  of months filled with copies of a week is a flat stretch the trend would be fitted
  through); the residual carried into the horizon is the last observed day's. The AutoML
  sets the closed horizon days to 0 (`automl.closures`).
- Only holiday and covariate columns that vary in a series' training window enter its model.
- **Threads**: each fit is a few small matrix products; BLAS threads only add overhead there
  (about 200x on a 2-core machine), so they are limited to one while series are fitted,
  and the parallelism is over series.
- **Errors**: an AR(1) on the residuals carries the last residual into the first steps (so
  forecasting from newer history than the fit's adapts the level without refitting), and
  its innovations' spread (matched to their 10th and 90th percentiles, `robust.ar1`) gives
  normal quantiles that widen with the AR(1) variance and a mild `TREND_DRIFT` per step,
  times one factor per fit read off a backtest (`calibrate`; `regression_calibration`):
  in-sample residuals understate the error of a forecast.

On the demo data (125 series, seed 42, last 14 days held out, periods 7 and 365): wQL 0.0088
without holidays or covariates, 0.0079 with US holidays (p10-p90 coverage 0.67) before
covariates, period detection and calibration were added; see `DynamicRegression` for the
figures with them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.calendar import step_index
from tidecast.data.frequency import season_length
from tidecast.data.gapfill import MODEL_FILL, fill_missing
from tidecast.data.period_detection import detect_periods
from tidecast.errors import ConfigError
from tidecast.models.base import Tags
from tidecast.models.covariates import CovariateEncoder, HolidayTable
from tidecast.models.gbm_closed import numeric_closure_rules
from tidecast.models.intervals import normal_quantiles
from tidecast.models.local import LocalForecaster, SeriesForecast
from tidecast.models.regression_calibration import interval_scale
from tidecast.models.regression_context import item_inputs, panel_context

# Layout and RegressionState are imported here too: models pickled before they moved name this module.
from tidecast.models.regression_design import (
    Context,
    Layout,
    RegressionState,
    _columns,
    _varying,
    design,
    estimable,
    forecast_terms,
    own_baselines,
)
from tidecast.models.robust import HUBER_C, ar1, default_orders, huber_gain, huber_ridge
from tidecast.wording import counted

# Relative growth of the spread per step, for the error of extrapolating the trend and cycles,
# which in-sample residuals cannot show. It sets the shape over the horizon only; the level
# comes from the calibration backtest (`interval_scale`).
TREND_DRIFT = 0.03
# Growing cycles (`growing_seasonality`) only on a series of at least this many horizons:
# their clock runs from -1 at the first observation to 0 at the last, so a short history
# extrapolates them far over the horizon. On the messy demo's backtests, a series of 23 days
# forecast a weekly swing of +-4,000 around sales of 4,600 with them, +-150 without.
GROWING_MIN_HORIZONS = 10
# At most one changepoint per this many observations, so short series get a plain line.
MIN_POINTS_PER_CHANGEPOINT = 30


class DynamicRegression(LocalForecaster):
    """Robust per-series regression on trend, cycles, holidays and known covariates.

    `fit` stores a `RegressionState` per item; `predict` forecasts from the history it is
    given with those coefficients, taking the known covariates' horizon values from `future`.

    On the demo data (125 daily series, seed 42, last 14 days held out, US holidays, known
    covariates promotion and is_holiday): wQL 0.0036, WAPE 0.0052, p10-p90 coverage 0.69
    (0.0079 / 0.0117 / 0.66 with US holidays alone); on the 14 days before that window, wQL
    0.0026 and coverage 0.77. About 20 ms a series to fit on a loaded 2-core machine,
    calibration included. With is_holiday but without the US calendar it was 0.0024 (0.84):
    the calendar's per-holiday windows (observed days included) overlap the flag's windows.

    On the messy demo (`benchmarks/messy.py`: the same items with closures, gaps, ragged and
    short histories, promotions multiplying demand by 1.3-2.5, returns; the closures applied
    after), this model alone scored wQL 0.049 overall and 0.041 on the complete histories,
    against the generator's expected sales at 0.0067 and 0.0078 (returns, unforecastable). In
    order: closed days left out 0.048 / 0.038; promotions scaled with the level 0.033 /
    0.018; the promotion flag read as a flag again where gaps had been filled with its share
    (`covariates.encoding.is_binary`) 0.029 / 0.015; the spread of the innovations' 10th-90th
    percentiles instead of their standard deviation, which 0.5% of returns had made ten
    times the noise's, 0.026 / 0.011; gaps left missing, cycles that grow only on long
    series and event windows only where they are estimable 0.024 / 0.011. The clean demo
    stayed at 0.0024 (0.0023).
    """

    name = "DynamicRegression"
    tags = Tags(cost=0.3, min_length=14, known_covariates=True, handles_missing_target=True)

    def __init__(
        self,
        season_lengths: Sequence[float] = (7,),
        fourier_orders: Sequence[int] | None = None,
        holidays: tuple[str, ...] = (),
        holiday_radii: tuple[int, ...] = (0, 2, 7),
        event_radii: tuple[int, ...] = (2, 7),
        detect_periods: bool = True,
        n_changepoints: int = 10,
        changepoint_range: float = 0.8,
        changepoint_penalty: float = 1e-2,
        ridge: float = 1e-4,
        growing_seasonality: bool = True,
        huber_c: float | None = HUBER_C,
        calibrate: bool = True,
        scaled_effects: bool = True,
        n_jobs: int | None = None,
    ) -> None:
        self.season_lengths = season_lengths
        self.fourier_orders = fourier_orders
        self.holidays = holidays
        self.holiday_radii = holiday_radii
        self.event_radii = event_radii
        self.detect_periods = detect_periods
        self.n_changepoints = n_changepoints
        self.changepoint_range = changepoint_range
        self.changepoint_penalty = changepoint_penalty
        self.ridge = ridge
        self.growing_seasonality = growing_seasonality
        self.huber_c = huber_c
        self.calibrate = calibrate
        self.scaled_effects = scaled_effects
        self.n_jobs = n_jobs

    # Models saved before the option existed unpickle without it: they stay additive.
    scaled_effects: bool = False

    # Learnt in fit besides the per-item states.
    detected_periods_: tuple[int, ...] = ()
    encoder_: CovariateEncoder = CovariateEncoder()
    interval_scale_: float = 1.0
    # Closure rules (`gbm_closed`): the days they call closed are left out of every fit and
    # of the residual carried into the horizon. Models saved before them have none.
    closed_rules_: tuple[tuple[str, float], ...] = ()
    # The future frame of the predict call under way (LocalForecaster's `_context` sees no
    # future); set and cleared by `_predict`.

    @property
    def _stateful(self) -> bool:
        return True

    # ---- configuration -----------------------------------------------------------------------
    def _cycles(self) -> list[tuple[float, int]]:
        """(period, Fourier order) pairs; periods of 1 (no seasonality) are dropped."""
        periods = [float(p) for p in self.season_lengths]
        orders = list(self.fourier_orders) if self.fourier_orders is not None else default_orders(periods)
        if len(orders) != len(periods):
            raise ConfigError(
                f"{self.name}: {counted(len(orders), 'Fourier order')} for the "
                f"{counted(len(periods), 'period')} {periods}"
            )
        found = [float(p) for p in self.detected_periods_]
        pairs = [*zip(periods, orders, strict=True), *zip(found, default_orders(found), strict=True)]
        return [(p, int(k)) for p, k in pairs if p > 1 and k > 0]

    def _find_periods(self, data: SeriesArrays) -> tuple[int, ...]:
        """Cycles the panel shows beyond `season_lengths` (see `detect_periods`), strongest first."""
        if not self.detect_periods or len(data.values) == 0:
            return ()
        known = [float(p) for p in self.season_lengths if p > 1]
        longest = int(data.lengths.max()) // 2
        values = data.values
        if np.isnan(values).any():  # the spectrum needs every step: gaps filled as other models get them
            values = fill_missing(values, data.indptr, MODEL_FILL, season_length(data.freq))
        found = detect_periods(values, data.indptr, max_period=longest, top=3, snap_to=known)
        return tuple(int(p) for p in found if all(abs(p - k) > 0.02 * k for k in known))

    def _calendar_spec(self) -> Any:
        """The spec whose holidays count: the `holidays` parameter's countries when given."""
        return dataclasses.replace(self.spec_, holidays=tuple(self.holidays)) if self.holidays else self.spec_

    def _penalty(self, layout: Layout, n_columns: int) -> np.ndarray:
        penalty = np.full(n_columns, self.ridge)
        penalty[0] = 0.0  # the intercept is free
        penalty[2 : 2 + len(layout.changepoints)] = self.changepoint_penalty
        return penalty

    # ---- per-series kernels ------------------------------------------------------------------
    def _layout(
        self,
        t: np.ndarray,
        holidays: np.ndarray,
        holiday_names: Sequence[str],
        covariates: np.ndarray,
        covariate_names: Sequence[str],
    ) -> Layout:
        n = len(t)
        span = float(t[-1] - t[0]) + 1.0 if n else 0.0  # a gap in the history does not shorten it
        kept = [(p, k) for p, k in self._cycles() if span >= 2 * p]
        count = min(self.n_changepoints, n // MIN_POINTS_PER_CHANGEPOINT)
        changepoints = np.linspace(0.0, self.changepoint_range, count + 1)[1:] if count > 0 else np.zeros(0)
        periods = tuple(p for p, _ in kept)
        growing = self.growing_seasonality and n >= GROWING_MIN_HORIZONS * getattr(self, "horizon_", 1)
        holidays_kept = _varying(holidays, holiday_names)
        base = (
            2 + len(changepoints) + sum(2 * k for _, k in kept) * (2 if growing else 1) + len(holidays_kept)
        )
        return Layout(
            origin=float(t[0]),
            span=max(float(t[-1] - t[0]), 1.0),
            changepoints=changepoints,
            periods=periods,
            orders=tuple(k for _, k in kept),
            growing=growing,
            holidays=holidays_kept,
            covariates=estimable(n, base, covariates, covariate_names, self.encoder_.windows),
        )

    def fit_series(
        self,
        y: np.ndarray,
        stamps: np.ndarray,
        freq: str,
        table: HolidayTable | None,
        covariates: np.ndarray | None = None,
        covariate_names: Sequence[str] = (),
    ) -> RegressionState:
        """Fit one series on its finite observations (see the module docstring).

        `covariates` holds the covariate columns `covariate_names` aligned with `y`.
        """
        finite = np.isfinite(y)
        y, stamps = y[finite], stamps[finite]
        covariates = covariates[finite] if covariates is not None else np.zeros((len(y), 0))
        t = step_index(stamps, freq)
        names = table.names if table is not None else ()
        all_holidays = table.gather(stamps, names) if table is not None else np.zeros((len(y), 0))
        layout = self._layout(t, all_holidays, names, covariates, covariate_names)
        exogenous = np.column_stack(
            [
                _columns(all_holidays, names, layout.holidays),
                _columns(covariates, covariate_names, layout.covariates),
            ]
        )
        x = design(layout, t, exogenous)
        scale = float(np.mean(np.abs(y))) or 1.0
        beta = huber_ridge(x, y / scale, self._penalty(layout, x.shape[1]), self.huber_c)
        baseline = None
        scaled = (
            tuple(n for n in layout.covariates if n in self.encoder_.effects) if self.scaled_effects else ()
        )
        if scaled:
            level = own_baselines(beta, layout, scaled, self.encoder_.windows)
            wide = dataclasses.replace(layout, scaled=scaled)
            x_wide = design(wide, t, exogenous, level)
            beta_wide = huber_ridge(x_wide, y / scale, self._penalty(wide, x_wide.shape[1]), self.huber_c)
            gain = huber_gain(y / scale - x @ beta, y / scale - x_wide @ beta_wide)
            if gain > len(scaled) * np.log(len(y)):
                layout, x, beta, baseline = wide, x_wide, beta_wide, level
        phi, sigma = ar1(y / scale - x @ beta)
        return RegressionState(layout=layout, beta=beta, scale=scale, phi=phi, sigma=sigma, baseline=baseline)

    def forecast_series(
        self,
        state: RegressionState,
        y: np.ndarray,
        stamps: np.ndarray,
        future: np.ndarray,
        freq: str,
        table: HolidayTable | None,
        quantiles: tuple[float, ...],
        covariates: np.ndarray | None = None,
        covariate_names: Sequence[str] = (),
    ) -> SeriesForecast:
        """Regression line over `future`, plus the last residual decaying by the AR(1).

        `covariates` are the covariate rows of the last observation and of `future`.
        """
        x, carry = forecast_terms(state, y, stamps, future, freq, table, covariates, covariate_names)
        center = (x @ state.beta + carry) * state.scale
        steps = np.arange(1, len(future) + 1)
        phi2 = state.phi**2
        ratio = steps.astype(np.float64) if phi2 == 1.0 else (1 - phi2**steps) / (1 - phi2)
        spread = state.sigma * np.sqrt(ratio) * (1 + TREND_DRIFT * steps) * state.scale
        return center, normal_quantiles(center, spread * self.interval_scale_, quantiles)

    # ---- panel-wide context ------------------------------------------------------------------
    def _context(self, data: SeriesArrays, fitting: bool, future: pd.DataFrame | None = None) -> Context:
        """The panel's holiday table, covariate rows and closed days (`regression_context`)."""
        return panel_context(self, data, fitting, future)

    # ---- fit and predict ---------------------------------------------------------------------
    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        self.detected_periods_ = self._find_periods(data)
        known = [c for c in self.spec_.known_covariates if c in data.covariates]
        self.encoder_ = CovariateEncoder.learn({c: data.covariates[c] for c in known}, self.event_radii)
        self.closed_rules_ = numeric_closure_rules(data.values, data.covariates, known)
        self.interval_scale_ = 1.0
        self.states_ = {}
        context = self._context(data, fitting=True)  # holiday table and covariate rows, built once
        self._fit_states(data, deadline, context)
        if self.calibrate:
            self.interval_scale_ = interval_scale(self, data, context, deadline)

    def _fit_item(self, y: np.ndarray, stamps: np.ndarray, i: int, context: Any) -> RegressionState | None:
        return self._fit_window(y, stamps, i, context)

    def _fit_window(
        self, y: np.ndarray, stamps: np.ndarray, i: int, context: Context, data_end: int = 0
    ) -> RegressionState | None:
        """Fit series i on `y`, which ends `data_end` steps before the series' last observation;
        its closed days are left out."""
        y = context.open_values(y, i, data_end)
        if int(np.isfinite(y).sum()) < self.tags.min_length:
            return None
        exogenous = context.exogenous
        covariates = None
        if exogenous is not None:  # `y` may end before the series does (a backtest)
            stop = int(exogenous.lengths[i]) - int(data_end)
            covariates = exogenous.rows(i, stop - len(y), stop)
        names = exogenous.names if exogenous is not None else ()
        return self.fit_series(y, stamps, self.spec_.freq, context.table, covariates, names)

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
        assert isinstance(context, Context) and context.ahead is not None
        state, y, ahead_rows, names = item_inputs(self, state, y, stamps, i, context, horizon)
        return self.forecast_series(
            state, y, stamps, context.ahead[i], self.spec_.freq, context.table, quantiles, ahead_rows, names
        )
