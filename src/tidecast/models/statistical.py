"""Statistical models per series: ETS and ARIMA on statsforecast's kernels (MSTL: `mstl`, Theta: `theta`).

Each class fits one statsforecast model per item and keeps it, fitted, as that item's state.
`_forecast_series` calls the model's `predict` when it is handed the very series it was fitted
on, and `forward` otherwise: the stored parameters applied to newer history, which is how
backtest windows after the first, and forecasts from fresh history, avoid a refit.

A fit that fails for one series (too short, numerically unstable, non-finite values) never
fails the model: that series tries the next, simpler candidate (a non-seasonal ETS), and then
the naive forecast of the family base. statsforecast's warnings are silenced here.

The defaults were chosen on the demo data (125 daily series of 1,095 days, the last 14 held
out, plus earlier 14-day windows) with `benchmarks/statistical_speed.py`; each default below
cites the measurement behind it (CPU ms per series on one core, wQL over p10/p50/p90).
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from tidecast.models.base import Tags
from tidecast.models.intervals import from_intervals, levels_for, naive_fallback
from tidecast.models.local import LocalForecaster, SeriesForecast

# statsforecast's exponential smoothing refuses series of `n_params + 4` points or fewer; simple
# exponential smoothing has 2 parameters, so 7 points is the least the fallback candidate fits.
MIN_LENGTH = 7

# `Tags.cost` below is each model's CPU time for what an AutoML run asks of it (fit, predict,
# two forwards, refit, forecast) relative to AutoETS's, on the demo with these defaults:
# AutoETS 193 ms per series, AutoARIMA 186, AutoTheta 33, MSTL 116.


@cache
def statsforecast_models() -> ModuleType:
    """statsforecast.models, imported on first use: the import alone takes about two seconds."""
    from statsforecast import models

    return models


@contextmanager
def quiet() -> Iterator[None]:
    """Silence statsforecast's warnings (convergence, overflow): they flood batch output."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def digest(y: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(y, dtype=np.float64).tobytes())


@dataclass(frozen=True)
class FittedSeries:
    """One series' fitted statsforecast model and the fingerprint of the values it saw.

    `model` is None when no candidate could be fitted (the series gets the naive forecast);
    `label` is the alias of the candidate that was fitted, so fallbacks can be counted. MSTL
    also keeps the periods it used and the last cycle of each seasonal component; its `model`
    is the trend model.
    """

    model: Any
    label: str
    length: int
    digest: int
    periods: tuple[int, ...] = ()
    seasonal_tails: tuple[np.ndarray, ...] = ()

    def fitted_on(self, y: np.ndarray) -> bool:
        """Whether `y` is exactly the series the model was fitted on (then `predict` suffices)."""
        return len(y) == self.length and digest(y) == self.digest


def unfitted(y: np.ndarray) -> FittedSeries:
    return FittedSeries(None, "naive", len(y), digest(y))


def fit_first(candidates: Sequence[Any], y: np.ndarray) -> FittedSeries:
    """Fit the first candidate that succeeds and forecasts finite values; "naive" if none does.

    statsforecast signals failure with anything from a bare `Exception` to `LinAlgError`, so
    every exception means "try the next one".
    """
    for candidate in candidates:
        try:
            with quiet():
                model = candidate.new().fit(y)
                check = model.predict(h=1, level=[80.0])
        except Exception:
            continue
        if all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in check.values()):
            return FittedSeries(model, candidate.alias, len(y), digest(y))
    return unfitted(y)


def _forward(model: Any, y: np.ndarray, horizon: int, level: list[float] | None) -> dict[str, Any]:
    """`model.forward(y)`, with the two repairs below for ETS and Theta."""
    sf = statsforecast_models()
    if isinstance(model, sf.AutoTheta):
        from tidecast.models.theta import forward_theta  # theta builds on this module

        return forward_theta(model, y, horizon, level)
    if isinstance(model, sf.AutoETS) and model.model_["components"][2] != "N":
        return _forward_seasonal_ets(model, y, horizon, level)
    return dict(model.forward(y=y, h=horizon, level=level))


def _forward_seasonal_ets(
    model: Any, y: np.ndarray, horizon: int, level: list[float] | None
) -> dict[str, Any]:
    """ETS's `forward` on `y`, from the start that matches the seasonal phase of the fit.

    ETS's `forward` replays the filter from the initial states estimated at the start of the
    training window, so `y` must start at the same point of the seasonal cycle. A window cut by
    `max_history` from a longer series (or fresh history from elsewhere) need not: on the demo a
    3-day shift doubled the error of `forward` (WAPE 0.0235, against 0.0109 phase-aligned and
    0.0101 refitted). So each of the `m` possible starts is replayed (~1 ms each) and the one
    with the least squared error on the points they share wins: on the demo it was the aligned
    start in all 300 seasonal fits tried (shifts of 1, 3 and 5 days).
    """
    m = int(model.model_["m"])
    if m < 2 or len(y) < 3 * m:
        return dict(model.forward(y=y, h=horizon, level=level))
    best: tuple[float, dict[str, Any]] | None = None
    for start in range(m):
        window = y[start:]
        result = model.forward(y=window, h=horizon, level=level, fitted=True)
        error = float(np.mean((window - result["fitted"])[m - 1 - start :] ** 2))
        if best is None or error < best[0]:
            best = (error, result)
    assert best is not None
    return best[1]


def forecast_fitted(
    state: FittedSeries, y: np.ndarray | None, horizon: int, quantiles: tuple[float, ...]
) -> SeriesForecast | None:
    """Mean and quantiles of a fitted model: `predict` when `y` is None, else `forward` on `y`.

    Quantiles are the bounds of statsforecast's central intervals (q < 0.5 the lower bound of
    level 100(1 - 2q)), the median the point forecast. Returns None when there is no model,
    or it raises or forecasts non-finite values, so that the caller falls back.
    """
    if state.model is None:
        return None
    levels = levels_for(quantiles)
    try:
        with quiet():
            if y is None:
                result = state.model.predict(h=horizon, level=levels or None)
            else:
                result = _forward(state.model, y, horizon, levels or None)
            mean = np.asarray(result["mean"], dtype=np.float64)
            bounds = {lv: (np.asarray(result[f"lo-{lv}"]), np.asarray(result[f"hi-{lv}"])) for lv in levels}
            values = from_intervals(mean, bounds, quantiles)
    except Exception:
        return None
    if not (np.isfinite(mean).all() and np.isfinite(values).all()):
        return None
    return mean, values


def nonseasonal_ets() -> Any:
    return statsforecast_models().AutoETS(model="ZZN", alias="AutoETS(ZZN)")


# What the statsforecast models import in this process before their workers fork, so the
# children inherit the module rather than each paying the two seconds of the import.
STATSFORECAST = ("statsforecast.models",)


def fit_candidates(primary: Any, y: np.ndarray) -> FittedSeries:
    """`fit_first` over the model's `primary` candidate, then a non-seasonal ETS; a series with
    a missing value gets neither."""
    if not np.isfinite(y).all():
        return unfitted(y)
    return fit_first([primary, nonseasonal_ets()], y)


def forecast_state(
    state: FittedSeries, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
) -> SeriesForecast:
    """A fitted series' forecast from `y` (`predict` on the very series it saw, `forward` on
    any other), or the naive fallback where the model has nothing finite to say."""
    result = forecast_fitted(state, None if state.fitted_on(y) else y, horizon, quantiles)
    return result if result is not None else naive_fallback(y, horizon, quantiles)


def usable_season(season_length: int, y: np.ndarray) -> int:
    """The season length, or 1 for a series shorter than two seasons (too short to estimate one)."""
    return season_length if len(y) >= 2 * season_length else 1


class AutoETS(LocalForecaster):
    """Exponential smoothing, the state-space form chosen by AICc (statsforecast's AutoETS).

    Defaults measured on the demo against statsforecast's own ("ZZZ", full history: 470-520 ms per
    series, hold-out wQL 0.0217): `model="AZZ"` searches only additive-error forms and picks the
    same models on the full history in 187 ms; `max_history=540` brings that to ~86 ms and
    scored wQL 0.0210 (0.0117 over three earlier windows, against 0.0120). Seasonality is
    dropped for a series shorter than two seasons.

    On real data the error form matters more and no form wins everywhere. AutoETS alone through
    the AutoML (engine 4aadc20, one thread, test wQL, "AZZ" against "ZZZ"): tourism quarterly
    0.0850 against 0.0603 (mostly two series of about 3 million arrivals: on one the additive-
    error model's trend reached 1.6x the test's level by the eighth quarter, statsforecast's
    "ZZZ" 1.3x), tourism monthly 0.0682 against 0.0859, tourism yearly
    0.1018 against 0.1064; "ZZZ" took 2.4x the time. The default stays.

    >>> model = AutoETS(season_length=7, n_jobs=1)
    """

    name = "AutoETS"
    tags = Tags(cost=1.0, min_length=MIN_LENGTH)
    preload = STATSFORECAST

    def __init__(
        self,
        season_length: int = 1,
        model: str = "AZZ",
        damped: bool | None = None,
        max_history: int | None = 540,
        n_jobs: int | None = None,
    ) -> None:
        self.season_length = season_length
        self.model = model
        self.damped = damped
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _fit_series(self, y: np.ndarray) -> FittedSeries:
        primary = statsforecast_models().AutoETS(
            season_length=usable_season(self.season_length, y),
            model=self.model,
            damped=self.damped,
            alias="AutoETS",
        )
        return fit_candidates(primary, y)

    def _forecast_series(
        self, state: FittedSeries, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        return forecast_state(state, y, horizon, quantiles)


class AutoARIMA(LocalForecaster):
    """Seasonal ARIMA, orders chosen by a stepwise AICc search (statsforecast's AutoARIMA).

    statsforecast's defaults cost ~3.5 s per demo series on the full history. Measured on the
    demo (hold-out wQL, then over three earlier windows): the last 120 points score 0.0179 /
    0.0117 in 269 ms with statsforecast's search (0.0214 / 0.0124 on the last 200); seasonal
    orders up to 1, p and q up to 3 and at most 12 models in the stepwise search keep that
    accuracy (0.0178 / 0.0116) in 111 ms (8 models: 82 ms, 0.0182 / 0.0119). Conditional sums
    of squares in the search (`approximation`) halve the time; exact likelihood there (209 ms)
    gained nothing (0.0182 / 0.0117).
    """

    name = "AutoARIMA"
    tags = Tags(cost=1.0, min_length=MIN_LENGTH)
    preload = STATSFORECAST

    def __init__(
        self,
        season_length: int = 1,
        max_p: int = 3,
        max_q: int = 3,
        max_P: int = 1,
        max_Q: int = 1,
        nmodels: int = 12,
        approximation: bool = True,
        max_history: int | None = 120,
        n_jobs: int | None = None,
    ) -> None:
        self.season_length = season_length
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.nmodels = nmodels
        self.approximation = approximation
        self.max_history = max_history
        self.n_jobs = n_jobs

    def _fit_series(self, y: np.ndarray) -> FittedSeries:
        primary = statsforecast_models().AutoARIMA(
            season_length=usable_season(self.season_length, y),
            max_p=self.max_p,
            max_q=self.max_q,
            max_P=self.max_P,
            max_Q=self.max_Q,
            nmodels=self.nmodels,
            approximation=self.approximation,
            alias="AutoARIMA",
        )
        return fit_candidates(primary, y)

    def _forecast_series(
        self, state: FittedSeries, y: np.ndarray, horizon: int, quantiles: tuple[float, ...]
    ) -> SeriesForecast:
        return forecast_state(state, y, horizon, quantiles)


def __getattr__(name: str) -> Any:
    """MSTL and AutoTheta live in `mstl` and `theta`; models pickled before they moved name them here.

    Resolved on first use rather than imported at the top, because both build on this module.
    """
    if name == "MSTL":
        from tidecast.models.mstl import MSTL

        return MSTL
    if name == "AutoTheta":
        from tidecast.models.theta import AutoTheta

        return AutoTheta
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
