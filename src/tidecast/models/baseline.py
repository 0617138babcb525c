"""Baselines: the last value, the last season, and the historical mean.

These are the yardsticks every other candidate must beat, and cheap enough to always run.
Each has a closed-form spread (FPP3 §5.5), so their intervals cost nothing either.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tidecast.data.arrays import SeriesArrays
from tidecast.errors import ConfigError
from tidecast.models.base import Tags
from tidecast.models.intervals import normal_quantiles
from tidecast.models.local import LocalForecaster, SeriesForecast


def _rms(x: np.ndarray) -> float:
    """Root mean square, 0 for an empty array: the scale of residuals of a model with no drift."""
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0


class Naive(LocalForecaster):
    """Repeat the last value; spread sigma * sqrt(h), the random walk without drift.

    sigma is the root mean square of the one-step changes, which are exactly the naive method's
    in-sample residuals. Their mean is not removed: the model has no drift, so a trend in the
    history shows up as wider intervals rather than being silently ignored.
    """

    name = "Naive"
    tags = Tags(cost=0.01, min_length=1)

    def __init__(self, n_jobs: int | None = 1) -> None:
        self.n_jobs = n_jobs

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        center = np.full(horizon, float(y[-1]))
        spread = _rms(np.diff(y)) * np.sqrt(np.arange(1, horizon + 1))
        return center, normal_quantiles(center, spread, quantiles)


class SeasonalNaive(LocalForecaster):
    """Repeat the last observed season; spread from the in-sample seasonal differences.

    The h-step scale is sigma * sqrt(k + 1) with k the number of whole seasons elapsed, the
    textbook seasonal random walk (Hyndman & Athanasopoulos, FPP3 §5.5).
    """

    name = "SeasonalNaive"
    tags = Tags(cost=0.01, min_length=2)

    def __init__(self, season_length: int | None = None, n_jobs: int | None = 1) -> None:
        self.season_length = season_length
        self.n_jobs = n_jobs

    @property
    def min_history(self) -> int:
        """A whole season and one value: a shorter series has no season to repeat, so it gets
        the naive fallback, listed as such, rather than silently becoming Naive.

        Listed, the AutoML's ensemble drops it from that item's mix unless Naive is
        competitive (`ensemble.combine_members`); unlisted, a SeasonalNaive weighted for the
        long series passed its last value on to every short one. On a weekly panel with late
        starts (`benchmarks/weekly_panel.py`, 100 of 1,000 series with 20-90 weeks) it took
        0.20 of the ensemble, and those series scored wQL 0.099 (0.090 with the fallback
        listed) against LightGBM alone's 0.075.
        """
        return max(self.tags.min_length, (self.season_length or 1) + 1)

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        m = self.season_length or 1
        steps = np.arange(horizon)
        center = y[len(y) - m + steps % m]
        sigma = _rms(y[m:] - y[:-m])
        spread = sigma * np.sqrt(steps // m + 1)
        return center, normal_quantiles(center, spread, quantiles)


class Average(LocalForecaster):
    """The mean of the history (or of its last `window` points), flat over the horizon.

    The spread is s * sqrt(1 + 1/n), with s the sample standard deviation of the n points
    averaged: the variance of a new observation plus the variance of the estimated mean
    (FPP3 §5.5). It does not grow with the step because the model assumes no dynamics. A
    `window` makes the mean follow slow level shifts at the price of a noisier estimate.
    """

    name = "Average"
    tags = Tags(cost=0.01, min_length=1)

    def __init__(self, window: int | None = None, n_jobs: int | None = 1) -> None:
        self.window = window
        self.n_jobs = n_jobs

    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        if self.window is not None and self.window < 1:
            raise ConfigError(f"Average: window must be at least 1, got {self.window}")
        super()._fit(data, deadline)

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        if self.window is not None:
            y = y[-self.window :]
        n = len(y)
        center = np.full(horizon, float(np.mean(y)))
        sigma = float(np.std(y, ddof=1)) * np.sqrt(1.0 + 1.0 / n) if n > 1 else 0.0
        return center, normal_quantiles(center, np.full(horizon, sigma), quantiles)
