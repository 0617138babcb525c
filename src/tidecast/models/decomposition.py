"""MSTL-ETS: long seasonal cycles from a smoothed MSTL decomposition, the rest by AutoETS.

Daily retail demand has a weekly cycle that shifts quickly and a yearly one (holiday windows,
seasons) that a model with a few weeks of memory cannot see. statsforecast's MSTL removes every
seasonal component and hands only the trend to a non-seasonal model; its yearly component, the
average of just two or three past years at each day, carries last year's one-off spikes
(promotions, noise) into the forecast. Here:

1. `mstl` decomposes the series with all the frequency's periods;
2. every period but the shortest is smoothed with a centred moving average of about two weeks
   of the cycle (period / 26 steps, odd), which also shrinks it toward zero at the ends where
   STL extrapolates, and removed from the series;
3. AutoETS with the shortest period as its season fits the adjusted recent history, so the
   weekly pattern, level and trend stay adaptive;
4. the forecast is ETS's forecast plus the smoothed long cycles repeated from one cycle ago.

On the demo data (42 series, last 14 days held out) this scored wQL 0.0075 against 0.0211 for
AutoETS and 0.0118 for statsforecast's MSTL, and 0.0055 against 0.0078 for AutoETS over the
three preceding backtest windows. Series too short for two long cycles are plain
AutoETS; with a single seasonal period the model is plain AutoETS too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from statsforecast import models as sf

from tidecast.models.base import Tags
from tidecast.models.intervals import from_intervals, levels_for
from tidecast.models.local import LocalForecaster, SeriesForecast
from tidecast.models.mstl import mstl_decompose
from tidecast.models.statistical import digest

# statsmodels' STL evaluates its loess smoothers only every `jump` points and interpolates;
# 20 was as accurate as 1 on the demo data (WAPE 0.0151 vs 0.0152) at a seventh of the time.
# Smoothers wider than 200 points (the yearly trend and low-pass ones) get a tenth of their
# width instead (`mstl_decompose`).
STL_JUMP = 20


def smooth_cycle(component: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of a seasonal component, counting zeros beyond both ends.

    Near the ends the average therefore shrinks the component toward zero. That is deliberate:
    there STL's seasonal estimate is a loess extrapolation, and trusting it less was clearly
    better in backtests (demo data, 34 series, wQL over 3 windows: 0.0055 with this shrinkage
    at width 15, 0.0074 when the ends wrap to the previous cycle instead).
    """
    if width <= 1:
        return component
    return np.convolve(component, np.ones(width) / width, mode="same")


def smoothing_width(period: int) -> int:
    """About two weeks of a yearly cycle (365 -> 15), always odd, at least 1.

    Measured on the demo backtests (wQL over 3 windows): width 7: 0.0068, 9: 0.0062,
    15: 0.0055, 21: 0.0060, 31: 0.0069.
    """
    width = max(1, round(period / 26))
    return width if width % 2 == 1 else width + 1


@dataclass
class _State:
    ets: Any
    periods: tuple[int, ...]
    start: int  # where the ETS window began in the training series
    season: int
    # The training series' length and digest, the ETS window of its adjusted values and the
    # last cycle of each smoothed long component: a forecast from that very series (the first
    # backtest window, the forecast after the final fit) needs no second decomposition.
    length: int = -1
    digest: int = 0
    adjusted: np.ndarray | None = None
    tails: tuple[np.ndarray, ...] = ()

    def fitted_on(self, y: np.ndarray) -> bool:
        """Whether `y` is the training series (states pickled before these fields never are)."""
        return self.adjusted is not None and len(y) == self.length and digest(y) == self.digest


class MSTLETS(LocalForecaster):
    """Smoothed long seasonal cycles plus AutoETS on the adjusted series (module docstring)."""

    name = "MSTLETS"
    tags = Tags(cost=0.5, min_length=14)

    def __init__(
        self,
        season_lengths: Sequence[int] = (7,),
        ets_history: int = 365,
        ets_model: str = "AAA",
        n_jobs: int | None = None,
    ) -> None:
        self.season_lengths = season_lengths
        self.ets_history = ets_history
        self.ets_model = ets_model
        self.n_jobs = n_jobs

    def _long_periods(self, n: int) -> tuple[int, ...]:
        periods = sorted(int(p) for p in self.season_lengths if p > 1)
        return tuple(p for p in periods[1:] if n >= 2 * p + 1)

    def _adjust(self, y: np.ndarray, periods: tuple[int, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """The series without its smoothed long cycles, and the last cycle of each of them.

        The decomposition is `mstl_decompose` (MSTL's) with every LOESS jump at least
        `STL_JUMP`, as before, but a tenth of the window for the wide yearly trend and low-pass
        smoothers (609 and 367 points: jumps 61 and 37), which took most of the time. In
        backtest-like runs (`benchmarks/local_windows.py`: fit once, four windows, refit), with
        the reuse of `_State`, against the previous version in the same run (wQL over the four
        windows, total seconds): pasta_promo 0.6249 -> 0.6253 and 0.52x, demo 0.0063 -> 0.0061
        and 0.53x, Favorita 0.0448 -> 0.0448 and 0.53x, M4 hourly 0.0288 -> 0.0288 and 0.80x.
        """
        if not periods:
            return y, ()
        short = sorted(int(p) for p in self.season_lengths if p > 1)[0]
        seasonal, _ = mstl_decompose(y, [short, *periods], least_jump=STL_JUMP)
        adjusted = y.astype(np.float64).copy()
        tails = []
        for p, component in zip(periods, seasonal[1:], strict=True):
            cycle = smooth_cycle(component, smoothing_width(p))
            adjusted -= cycle
            tails.append(cycle[-p:].copy())
        return adjusted, tuple(tails)

    def _ets(self, n: int) -> Any:
        periods = sorted(int(p) for p in self.season_lengths if p > 1)
        season = periods[0] if periods and n >= 2 * periods[0] else 1
        model = self.ets_model if season > 1 else self.ets_model[:2] + "N"
        return sf.AutoETS(season_length=season, model=model)

    def _fit_series(self, y: np.ndarray) -> _State:
        periods = self._long_periods(len(y))
        adjusted, tails = self._adjust(y, periods)
        start = max(0, len(y) - self.ets_history)
        ets = self._ets(len(y) - start)
        window = adjusted[start:].copy()
        return _State(
            ets=ets.fit(window),
            periods=periods,
            start=start,
            season=int(ets.season_length),
            length=len(y),
            digest=digest(y),
            adjusted=window,
            tails=tails,
        )

    def _window_start(self, state: _State, n: int) -> int:
        """Start of the ETS window in a series of length `n`, in the same seasonal phase as in fit.

        ETS's `forward` replays from the seasonal states estimated at the training window's first
        step; a window starting a few days later would shift the weekly pattern (statsforecast
        keeps no phase). So the window start moves by whole seasons only.
        """
        start = n - min(self.ets_history, n)
        start -= (start - state.start) % state.season
        while start < 0:
            start += state.season
        return start

    def _forecast_series(
        self, state: _State, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        if state.fitted_on(y):
            assert state.adjusted is not None
            window, tails = state.adjusted, state.tails
        else:
            periods = tuple(p for p in state.periods if len(y) >= 2 * p + 1)
            adjusted, tails = self._adjust(y, periods)
            window = adjusted[self._window_start(state, len(y)) :]
        steps = np.arange(horizon)
        future = sum((tail[steps % len(tail)] for tail in tails), np.zeros(horizon))
        levels = levels_for(quantiles)
        sf_levels = [int(lv) if float(lv).is_integer() else lv for lv in levels]
        out = state.ets.forward(y=window, h=horizon, level=sf_levels or None)
        center = np.asarray(out["mean"], dtype=np.float64) + future
        bounds = {
            lv: (np.asarray(out[f"lo-{key}"]) + future, np.asarray(out[f"hi-{key}"]) + future)
            for lv, key in zip(levels, sf_levels, strict=True)
        }
        return center, from_intervals(center, bounds, quantiles)
