"""The one interface every model implements, as a template around private hooks.

Public `fit` and `predict` handle the parts every model shares (turning the panel into arrays
once, filling missing targets for models that cannot take them, timing, shaping the forecast
frame, monotone quantiles, non-negativity); a model only writes `_fit` and `_predict`, which see
numpy arrays, never pandas groupbys.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Self

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.frequency import future_timestamps, season_length
from tidecast.data.future import FUTURE_WAYS, fill_future
from tidecast.data.gapfill import MODEL_FILL, fill_missing
from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP, DatasetSpec, quantile_columns
from tidecast.errors import DataError, ModelError
from tidecast.models.gbm_closed import numeric_closure_rules, open_values
from tidecast.wording import counted

# Key of a forecast frame's `attrs` listing the items that got a naive fallback forecast
# (a list for one model's frame, a {model: list} dict for the ensemble's).
FALLBACK_ITEMS = "fallback_items"


def fallback_items(forecast: pd.DataFrame) -> list[str]:
    """The items of a forecast frame that got a fallback, whichever model or ensemble made it."""
    found = forecast.attrs.get(FALLBACK_ITEMS, [])
    if isinstance(found, dict):
        return sorted({item for items in found.values() for item in items})
    return list(found)


@dataclass(frozen=True)
class Tags:
    """What a model can do, as data the AutoML reads (never inferred from signatures).

    `cost` is a relative guide (SeasonalNaive ~0, AutoETS 1) used to order candidates and
    share the time budget; `min_length` is the shortest series the model handles itself
    (shorter ones get the model's fallback forecast). `handles_missing_target` says the model
    reads NaN targets as unknown (masks them in its loss, its features or its likelihood); the
    others get the panel with those cells filled (`gapfill.MODEL_FILL`), never zeros.
    """

    scope: str = "local"
    min_length: int = 1
    cost: float = 1.0
    known_covariates: bool = False
    past_covariates: bool = False
    static_features: bool = False
    intermittent: bool = False
    handles_missing_target: bool = False


@dataclass(frozen=True)
class Prediction:
    """Raw model output: `mean` is (n_series, horizon); `quantiles` (n_series, horizon, n_q).

    `fallback` names the series that got the model's naive fallback instead of its own
    forecast (too short, no finite values, or the model failed on them). It travels with the
    answer rather than being stored on the model, so `predict` never writes to a fitted model
    and one loaded model can serve many threads at once.
    """

    mean: np.ndarray
    quantiles: np.ndarray
    fallback: tuple[str, ...] = ()


class Forecaster:
    """Base of all models. Subclasses set `name`, `tags` and implement `_fit` / `_predict`."""

    name: ClassVar[str] = "forecaster"
    tags: ClassVar[Tags] = Tags()

    spec_: DatasetSpec
    horizon_: int
    fit_seconds_: float
    # Closed-day rules (`gbm_closed`: a known covariate value under which every observed sale
    # is 0, such as open = 0) of a model that reads no known covariates, learnt at fit: the
    # cells they call closed reach it missing (then filled like any gap, unless it takes
    # missing targets), since a closed day's 0 says the store was shut, not that demand fell.
    # Its forecast of a closed day is set to 0 by the AutoML (`automl.closures`). On the demo
    # with closed Sundays in two regions and two closing days a year, MSTL-ETS scored wQL
    # 0.028 with the zeros in its history and 0.0073 without the closures. Models that read
    # the covariates handle closures themselves; models saved before have none.
    closures_: tuple[tuple[str, float], ...] = ()

    @property
    def min_history(self) -> int:
        """The fewest values this instance forecasts a series from itself (shorter ones get its
        fallback): `tags.min_length`, unless its parameters ask for more (a seasonal naive
        needs a whole season and one value)."""
        return self.tags.min_length

    def follow(self, fitted: Forecaster) -> str | None:
        """Adopt the choices validation made in `fitted`, a fit of this same model on an earlier
        cut of the data (the backtest's), before this one is fitted on all of it; says what it
        adopted (for the fit report), or None.

        The AutoML's refit then ships the configuration its backtest scored and its ensemble
        weighed, rather than whatever one more validation horizon at the end of the data
        would pick. Most models choose nothing that way: nothing to adopt by default.
        """
        return None

    def expect(self, panel: SeriesArrays, horizon: int, *, reads_mean: bool = True) -> None:
        """Be told, before a backtest fit, the whole panel that the refit will be fitted on,
        and whether the run's objective reads the mean column of the backtest's forecasts
        (RMSE does; wQL reads the quantiles, the median metrics the 0.5 quantile).

        A model whose fitting depends on how much history the data holds can then fit the
        backtest's shorter cut the way its refit will be fitted, so that the backtest scores
        (and the ensemble weighs) the model that ships. Nothing to do by default.
        """
        return None

    # ---- public template -------------------------------------------------------------
    def fit(
        self,
        panel: pd.DataFrame | SeriesArrays,
        spec: DatasetSpec,
        horizon: int,
        *,
        deadline: float | None = None,
    ) -> Self:
        """Fit on a canonical panel, or its arrays; `deadline` is a `time.monotonic()` value to stop by.

        Arrays (`SeriesArrays.from_spec`) let many models share one build of a panel: the
        AutoML builds them once per backtest window and hands the same ones to every candidate.
        """
        if horizon < 1:
            raise ModelError(f"{self.name}: horizon must be at least 1, got {horizon}")
        self.spec_ = spec
        self.horizon_ = int(horizon)
        self.closures_ = ()
        data = self._arrays(panel, fill=False)
        self.closures_ = self._closure_rules(data)
        data = self._arrays(data)
        if data.n_series == 0:
            raise ModelError(f"{self.name}: cannot fit on an empty panel")
        start = time.perf_counter()
        self._fit(data, deadline)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def predict(
        self,
        panel: pd.DataFrame | SeriesArrays,
        future: pd.DataFrame | None = None,
        quantiles: Sequence[float] = (0.1, 0.5, 0.9),
        *,
        deadline: float | None = None,
    ) -> pd.DataFrame:
        """Forecast `horizon_` steps after the end of every series in `panel`.

        `panel` may be newer than the training panel (or hold other items): that is how
        forecasts are made from fresh history without refitting. Like `fit`, it takes the
        panel's arrays too.
        """
        if not hasattr(self, "horizon_"):
            raise ModelError(f"{self.name}: predict called before fit")
        quantiles = tuple(float(q) for q in quantiles)
        data = self._arrays(panel)
        if data.n_series == 0:
            return empty_forecast(quantiles)
        prediction = self._predict(data, self._future(panel, data, future), quantiles, deadline)
        prediction = finalize(prediction, data, quantiles)
        frame = forecast_frame(data.item_ids, data.last_timestamps(), data.freq, prediction, quantiles)
        frame.attrs[FALLBACK_ITEMS] = list(prediction.fallback)
        return frame

    # ---- hooks -----------------------------------------------------------------------
    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        raise NotImplementedError

    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        raise NotImplementedError

    # ---- shared helpers ---------------------------------------------------------------
    def _arrays(self, panel: pd.DataFrame | SeriesArrays, fill: bool = True) -> SeriesArrays:
        """The panel as arrays, closed days (`closures_`) missing; missing targets filled
        unless the model takes them as they are (or `fill` is False)."""
        spec = self.spec_
        if isinstance(panel, SeriesArrays):
            covariates = (*spec.known_covariates, *spec.past_covariates)
            data = panel.with_columns(covariates, spec.static_columns)
            data = data if data.freq == spec.freq else replace(data, freq=spec.freq)
        else:
            data = SeriesArrays.from_spec(panel, spec)
        rules = getattr(self, "closures_", ())
        if rules:
            columns = _numbers(data.covariates, [c for c, _ in rules])
            data = replace(data, values=open_values(data.values, columns, rules))
        if not fill or self.tags.handles_missing_target or not np.isnan(data.values).any():
            return data
        season = season_length(self.spec_.freq)
        return replace(data, values=fill_missing(data.values, data.indptr, MODEL_FILL, season))

    def _closure_rules(self, data: SeriesArrays) -> tuple[tuple[str, float], ...]:
        """The closure rules of a model that reads no known covariates (none for one that does:
        it sees the covariate and handles the closures itself)."""
        if self.tags.known_covariates:
            return ()
        return numeric_closure_rules(data.values, data.covariates, self.spec_.known_covariates)

    def _future(
        self, panel: pd.DataFrame | SeriesArrays, data: SeriesArrays, future: pd.DataFrame | None
    ) -> pd.DataFrame | None:
        """The known covariates over the horizon, one row per item and step in `data`'s order.

        Only models tagged `known_covariates` get them, and only when the data has some; a
        missing frame, column or value is a DataError naming what is missing and for which
        items, never a silent forecast without the promotion the user planned.
        """
        known = self.spec_.known_covariates
        if not (self.tags.known_covariates and known):
            return None
        if future is None:
            items = data.item_ids[:5].tolist()
            raise DataError(
                f"{self.name} uses the known covariates {list(known)}: their values over the "
                f"{counted(self.horizon_, 'forecast step')} are needed ({FUTURE_WAYS}) for {counted(data.n_series, 'item')}, e.g. {items}"
            )
        return fill_future(future, panel, self.spec_.freq, self.horizon_, known)

    def get_params(self) -> dict[str, object]:
        """Hyper-parameters as given to `__init__` (scikit-learn convention)."""
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _numbers(covariates: dict[str, np.ndarray], columns: Sequence[str]) -> dict[str, np.ndarray]:
    """The `columns` of `covariates` that are present, as float64."""
    return {c: np.asarray(covariates[c], dtype=np.float64) for c in columns if c in covariates}


def finalize(
    prediction: Prediction, data: SeriesArrays, quantiles: Sequence[float] | None = None
) -> Prediction:
    """Sort quantiles per step (no crossing) and clip at zero where the history says so.

    The forecast at quantile level q is clipped at zero when fewer than a share q of the
    series' observed values are negative (the mean as the median, at 0.5): a series that never
    went negative gets no negative forecast at all, and neither does a retail series whose
    history holds a few returns (net sales below zero on 0.5% of days). Clipping only series
    with no negative value at all left such series free to forecast negative sales: on the
    messy demo, DynamicRegression extrapolated items dead for two years to -500,000 units a day
    and scored wQL 0.098 where this rule gives 0.066. Series with negatives as often as q keep
    their negative forecasts at level q and below. `quantiles` are the levels of
    `prediction.quantiles` (without them, every column is clipped as the median).
    """
    share = negative_share(data)
    levels = quantiles if quantiles is not None else [0.5] * prediction.quantiles.shape[2]
    mean, values = sign_rule(prediction.mean, prediction.quantiles, share[:, None], levels)
    return Prediction(mean=mean, quantiles=values, fallback=prediction.fallback)


def sign_rule(
    mean: np.ndarray, quantiles: np.ndarray, share: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """`finalize`'s rule on any layout: quantiles (levels on the last axis) sorted, then level q
    clipped at zero where `share` (each row's series' negative share, broadcast against
    `mean`) is under q, the mean where it is under 0.5. The ensemble applies it again after its
    quantile calibration, which widens a band and can push a low level below zero."""
    values = np.sort(quantiles, axis=-1)
    ordered = np.sort(np.asarray(levels, dtype=float))
    mean = np.where(share < 0.5, np.maximum(mean, 0.0), mean)
    clip = share[..., None] < ordered
    return mean, np.where(clip, np.maximum(values, 0.0), values)


def negative_share(data: SeriesArrays) -> np.ndarray:
    """Per series, the share of its observed values below zero (0 for an empty series)."""
    if not len(data.values):
        return np.zeros(data.n_series)
    series = np.repeat(np.arange(data.n_series), data.lengths)
    observed = ~np.isnan(data.values)
    negative = np.bincount(series, weights=observed & (data.values < 0), minlength=data.n_series)
    count = np.bincount(series, weights=observed, minlength=data.n_series)
    return negative / np.maximum(count, 1)


def forecast_frame(
    item_ids: np.ndarray,
    last: np.ndarray,
    freq: str,
    prediction: Prediction,
    quantiles: Sequence[float],
) -> pd.DataFrame:
    """The long forecast frame of the data contract: item_id, timestamp, mean, p10, ..."""
    horizon = prediction.mean.shape[1]
    timestamps = future_timestamps(last, freq, horizon)
    frame = pd.DataFrame(
        {
            ITEM_ID: np.repeat(np.asarray(item_ids, dtype=str), horizon),
            TIMESTAMP: timestamps.reshape(-1),
            MEAN: prediction.mean.reshape(-1),
        }
    )
    for j, column in enumerate(quantile_columns(quantiles)):
        frame[column] = prediction.quantiles[:, :, j].reshape(-1)
    return frame


def empty_forecast(quantiles: Sequence[float]) -> pd.DataFrame:
    columns = [ITEM_ID, TIMESTAMP, MEAN, *quantile_columns(quantiles)]
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    frame[ITEM_ID] = frame[ITEM_ID].astype(str)
    frame[TIMESTAMP] = pd.to_datetime(frame[TIMESTAMP])
    return frame
