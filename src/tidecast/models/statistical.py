"""Statistical models from statsforecast, one fitted model per series (provisional defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from statsforecast import models as sf

from tidecast.models.base import Tags
from tidecast.models.intervals import from_intervals, levels_for
from tidecast.models.local import LocalForecaster, SeriesForecast


def _key(level: float) -> str:
    return str(int(level)) if float(level).is_integer() else str(level)


class _StatsForecastModel(LocalForecaster):
    def _make(self, n: int) -> Any:
        raise NotImplementedError

    def _fit_series(self, y: np.ndarray) -> Any:
        return self._make(len(y)).fit(y)

    def _forecast_series(
        self, state: Any, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        levels = levels_for(quantiles)
        sf_levels = [int(lv) if float(lv).is_integer() else lv for lv in levels]
        out = state.forward(y=y, h=horizon, level=sf_levels) if levels else state.forward(y=y, h=horizon)
        center = np.asarray(out["mean"], dtype=np.float64)
        bounds = {lv: (np.asarray(out[f"lo-{_key(lv)}"]), np.asarray(out[f"hi-{_key(lv)}"])) for lv in levels}
        return center, from_intervals(center, bounds, quantiles)


class AutoETS(_StatsForecastModel):
    name = "AutoETS"
    tags = Tags(cost=1.0, min_length=14)

    def __init__(
        self, season_length: int = 1, max_history: int | None = 365, n_jobs: int | None = None
    ) -> None:
        self.season_length = season_length
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _make(self, n: int) -> Any:
        return sf.AutoETS(season_length=self.season_length if n >= 2 * self.season_length else 1)


class AutoTheta(_StatsForecastModel):
    name = "AutoTheta"
    tags = Tags(cost=0.3, min_length=8)

    def __init__(
        self, season_length: int = 1, max_history: int | None = 365, n_jobs: int | None = None
    ) -> None:
        self.season_length = season_length
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _make(self, n: int) -> Any:
        return sf.AutoTheta(season_length=self.season_length if n >= 2 * self.season_length else 1)


class AutoARIMA(_StatsForecastModel):
    name = "AutoARIMA"
    tags = Tags(cost=2.0, min_length=14)

    def __init__(
        self, season_length: int = 1, max_history: int | None = 200, n_jobs: int | None = None
    ) -> None:
        self.season_length = season_length
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _make(self, n: int) -> Any:
        return sf.AutoARIMA(
            season_length=self.season_length if n >= 2 * self.season_length else 1, approximation=True
        )


class MSTL(_StatsForecastModel):
    name = "MSTL"
    tags = Tags(cost=0.6, min_length=14)

    def __init__(
        self, season_length: Sequence[int] = (7,), max_history: int | None = None, n_jobs: int | None = None
    ) -> None:
        self.season_length = season_length
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _make(self, n: int) -> Any:
        periods = [p for p in self.season_length if n >= 2 * p] or [1]
        jump = 20
        return sf.MSTL(
            season_length=periods, stl_kwargs=dict(seasonal_jump=jump, trend_jump=jump, low_pass_jump=jump)
        )
