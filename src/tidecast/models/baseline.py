"""Baselines: the last value, the last season, and the historical mean.

These are the yardsticks every other candidate must beat, and cheap enough to always run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tidecast.models.base import Tags
from tidecast.models.intervals import normal_quantiles
from tidecast.models.local import LocalForecaster, SeriesForecast


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

    def _forecast_series(self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]) -> SeriesForecast:
        m = self.season_length or 1
        if len(y) <= m:
            m = 1
        steps = np.arange(horizon)
        center = y[len(y) - m + steps % m]
        diffs = y[m:] - y[:-m]
        sigma = float(np.sqrt(np.mean(diffs**2))) if len(diffs) else 0.0
        spread = sigma * np.sqrt(steps // m + 1)
        return center, normal_quantiles(center, spread, quantiles)
