"""MSTL on statsforecast's kernels: multiple seasonal-trend decomposition by LOESS, then a
non-seasonal ETS on the seasonally adjusted rest (the shared machinery is `statistical`'s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tidecast.data.frequency import seasonal_periods
from tidecast.models.base import Tags
from tidecast.models.local import LocalForecaster, SeriesForecast
from tidecast.models.statistical import (
    MIN_LENGTH,
    STATSFORECAST,
    FittedSeries,
    digest,
    fit_first,
    forecast_fitted,
    nonseasonal_ets,
    quiet,
    statsforecast_models,
    unfitted,
)
from tidecast.models.stl import stl

# MSTL uses a seasonal period only when the series covers this many cycles of it. On the demo,
# MSTL(7, 365) on exactly two years scored 4-window wQL 0.0198 against 0.0126 for the weekly
# period alone; at 2.08 cycles (760 days) the two tie (0.0125), and beyond the yearly one helps.
MIN_CYCLES = 2.1
# STL's inner loop runs statsmodels' 5 passes. Two (Cleveland et al.; R's stl()) where a series
# holds 4 cycles of the period cost 2.4x less per decomposition (MSTL alone on Favorita 25.8 s
# to 11.8 s) and were measured and reverted: the whole AutoML lost a little on M4 weekly (OWA
# 0.762 against 0.759), M4 hourly (0.470 / 0.468) and the demo (wQL 0.00314 / 0.00311), and
# gained nothing on the retail panels; on the demo's two yearly cycles 2 passes everywhere
# took MSTL from 0.0106 to 0.0284. Carrying the fit's decomposition over the later backtest
# windows instead of decomposing the longer series again (seasonal cycles repeated over the new
# values, only the trend model's state updated; engine 7e26bf4, reverted) saved 2.4 s of
# Favorita's 26.8 and cost M4 hourly (MSTL's window 2 wQL 0.0221 -> 0.0277; the run's test
# wQL 0.0223 -> 0.0352), M4 weekly (OWA 0.748 -> 0.753) and the demo (0.00297 -> 0.00303):
# an hourly daily cycle estimated at the end of a fit (STL's one-sided end) no longer fits 144
# hours later (MSTL alone forecasting that far from its backtest fit: wQL 0.2198 carried
# against 0.0249 decomposed again).


def _odd(x: float) -> int:
    n = math.ceil(x)
    return n if n % 2 else n + 1


def _jump(window: int, least: int = 1) -> int:
    # R's stl() evaluates each LOESS every ceil(window / 10) points and interpolates in between;
    # statsmodels evaluates every point. On the demo MSTL(7, 365) the decomposition drops from
    # ~405 ms to ~20 ms per series with the same forecasts (WAPE 0.0148, wQL 0.0116 both ways).
    return max(least, math.ceil(window / 10))


def mstl_decompose(
    y: np.ndarray, periods: Sequence[int], least_jump: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal components (one row per period, ascending) and the seasonally adjusted series.

    MSTL as statsforecast runs it (Bandara, Hyndman & Bergmeir 2021; seasonal windows 11, 15,
    ...; two passes when there are several periods) on statsmodels' STL arithmetic (run by
    `stl.stl`, 3-6x faster than statsmodels' own loop, same components), with interpolation
    jumps scaled to each smoother's window, which statsforecast's one `stl_kwargs` for every
    period cannot express (a jump that suits the yearly trend smoother of 609 points would
    skip across the weekly one of 13). `least_jump` is the smallest jump any smoother gets.
    """
    periods = sorted(periods)
    seasonal = np.zeros((len(periods), len(y)))
    adjusted = np.asarray(y, dtype=np.float64).copy()
    for _ in range(1 if len(periods) == 1 else 2):
        for i, period in enumerate(periods):
            adjusted += seasonal[i]
            s_window = 7 + 4 * (i + 1)
            t_window = _odd(1.5 * period / (1 - 1.5 / s_window))  # statsmodels' default
            l_window = _odd(period + 1)  # likewise
            seasonal[i], _ = stl(
                adjusted,
                period,
                seasonal=s_window,
                trend=t_window,
                low_pass=l_window,
                seasonal_deg=0,
                seasonal_jump=_jump(s_window, least_jump),
                trend_jump=_jump(t_window, least_jump),
                low_pass_jump=_jump(l_window, least_jump),
            )
            adjusted -= seasonal[i]
    return seasonal, adjusted


def seasonal_forecast(tails: Sequence[np.ndarray], horizon: int) -> np.ndarray:
    """Each seasonal component repeats its last cycle (MSTL's seasonal naive); summed."""
    out = np.zeros(horizon)
    for tail in tails:
        out += np.resize(tail, horizon)
    return out


class MSTL(LocalForecaster):
    """Multiple seasonal-trend decomposition by LOESS, then a non-seasonal ETS on the rest.

    Seasonal components are forecast by repeating their last cycle; the trend model, a
    statsforecast AutoETS of form `trend_model`, is fitted to the last `trend_history` points
    of the seasonally adjusted series. A period is used only when the series covers
    `MIN_CYCLES` cycles of it, so a 400-day daily series is decomposed by week alone, and one
    too short for every period is forecast by the trend model alone.

    `season_lengths=None` takes every period the data's frequency implies (7 and 365 for
    daily). On the demo statsforecast's MSTL([7, 365]) takes 440 ms per series (hold-out wQL
    0.0116); with the interpolation jumps of `mstl_decompose` and the trend model on the last
    365 points it takes 33 ms (wQL 0.0114; 0.0107 over four windows for both). `forward`
    re-decomposes the new history (~20 ms with statsmodels' STL, 4-8 ms with `stl.stl` on a
    1,650-day series) and replays the stored trend model on it.
    """

    name = "MSTL"
    tags = Tags(cost=0.6, min_length=MIN_LENGTH)
    preload = STATSFORECAST

    def __init__(
        self,
        season_lengths: tuple[int, ...] | None = None,
        trend_model: str = "ZZN",
        trend_history: int | None = 365,
        max_history: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.season_lengths = season_lengths
        self.trend_model = trend_model
        self.trend_history = trend_history
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _periods(self, length: int) -> tuple[int, ...]:
        periods = (
            self.season_lengths if self.season_lengths is not None else seasonal_periods(self.spec_.freq)
        )
        return tuple(sorted({p for p in periods if p > 1 and length >= MIN_CYCLES * p}))

    def _trend_window(self, adjusted: np.ndarray) -> np.ndarray:
        if self.trend_history is not None and len(adjusted) > self.trend_history:
            return adjusted[-self.trend_history :]
        return adjusted

    def _fit_series(self, y: np.ndarray) -> FittedSeries:
        if not np.isfinite(y).all():
            return unfitted(y)
        periods = self._periods(len(y))
        try:
            seasonal, adjusted = _decompose(y, periods)
        except Exception:  # a decomposition that fails leaves the trend model alone on y
            periods, seasonal, adjusted = (), np.zeros((0, len(y))), np.asarray(y, dtype=np.float64)
        candidates = [statsforecast_models().AutoETS(model=self.trend_model, alias="MSTL"), nonseasonal_ets()]
        trend = fit_first(candidates, self._trend_window(adjusted))
        tails = tuple(s[-p:].copy() for s, p in zip(seasonal, periods, strict=True))
        return replace(trend, length=len(y), digest=digest(y), periods=periods, seasonal_tails=tails)

    def _forecast_series(
        self, state: FittedSeries, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        result: SeriesForecast | None = None
        if state.fitted_on(y):
            tails = state.seasonal_tails
            result = forecast_fitted(state, None, horizon, quantiles)
        else:
            periods = tuple(p for p in state.periods if len(y) >= MIN_CYCLES * p)
            try:
                seasonal, adjusted = _decompose(y, periods)
            except Exception:
                return self._fallback_series(y, horizon, quantiles)
            tails = tuple(s[-p:] for s, p in zip(seasonal, periods, strict=True))
            result = forecast_fitted(state, self._trend_window(adjusted), horizon, quantiles)
        if result is None:
            return self._fallback_series(y, horizon, quantiles)
        season = seasonal_forecast(tails, horizon)
        return result[0] + season, result[1] + season[:, None]


def _decompose(y: np.ndarray, periods: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if not periods:
        return np.zeros((0, len(y))), np.asarray(y, dtype=np.float64)
    with quiet():
        return mstl_decompose(y, periods)
