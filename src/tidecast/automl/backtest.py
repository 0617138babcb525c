"""Run every candidate on the same backtest windows and keep its aligned forecasts and scores.

A candidate is fitted once on the history before the first (oldest) window and then forecasts
each window from the history up to that window's cutoff: parameters never see data past the
first cutoff, state updates never see data past each window's own cutoff. With
`refit_every_window` it is refitted at every cutoff instead (slower, closer to production).
"""

from __future__ import annotations

import functools
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tidecast import metrics
from tidecast.automl.closures import Rules, closed_rows
from tidecast.automl.dormant import dormant_at_end, zero_rows
from tidecast.automl.ensemble import BacktestForecast, PointScorer
from tidecast.automl.windows import BacktestWindow, panel_indptr, window_history
from tidecast.data.arrays import SeriesArrays
from tidecast.data.frequency import future_timestamps
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, DatasetSpec, quantile_columns
from tidecast.errors import ClusterLost, DataError
from tidecast.models.base import Forecaster, fallback_items
from tidecast.wording import counted

log = logging.getLogger(__name__)

ProgressFn = Callable[[dict[str, object]], None]


@dataclass(frozen=True)
class WindowData:
    """One backtest window, materialised once and shared by every candidate.

    `history` is taken from the panel's arrays (`windows.window_history`), so every candidate
    fits and forecasts from the same build; `actual` and `future` are the rows after it.
    """

    window: BacktestWindow
    history: SeriesArrays
    actual: pd.DataFrame
    future: pd.DataFrame | None
    scale: np.ndarray  # per actual row: the item's in-sample seasonal MAE (MASE's scale)
    # The rows every candidate's forecast is 0 on, by (closure rules, dormant horizon): the same
    # for every candidate, so found once per window (`zero_mask`); not an init field, so a
    # screening sample (`dataclasses.replace`) finds its own.
    _zero: dict[tuple[Rules, int | None], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def zero_mask(self, closures: Rules, dormant_horizon: int | None) -> np.ndarray:
        """The `actual` rows every forecast is 0 on: the closed days of `closures` and, given a
        horizon, the rows of the items dormant at this window's cutoff (`automl.dormant`)."""
        key = (closures, dormant_horizon)
        if key not in self._zero:
            shut = closed_rows(self.actual, closures)
            if dormant_horizon is not None:
                shut = shut | zero_rows(dormant_at_end(self.history, dormant_horizon), self.actual)
            self._zero[key] = shut
        return self._zero[key]


@dataclass
class CandidateResult:
    """What one candidate did on the backtest: scores, timings, forecasts, or why it failed."""

    name: str
    window_scores: list[float] = field(default_factory=list)
    window_metrics: list[dict[str, float]] = field(default_factory=list)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    forecast: BacktestForecast | None = None
    model: Forecaster | None = None
    error: str | None = None
    fallback_items: list[str] = field(default_factory=list)
    # Stopped after its first window (`pruning`): `error` says why, `window_scores` holds it.
    stopped: bool = False

    @property
    def score(self) -> float:
        finite = [s for s in self.window_scores if np.isfinite(s)]
        return float(np.mean(finite)) if finite and self.error is None else float("inf")


def prepare_windows(
    panel: pd.DataFrame,
    spec: DatasetSpec,
    windows: Sequence[BacktestWindow],
    season_length: int,
    arrays: SeriesArrays | None = None,
    series: np.ndarray | None = None,
    horizon: int | None = None,
) -> list[WindowData]:
    """Cut each window from the panel's arrays and precompute its MASE scale.

    `arrays` is the panel's `SeriesArrays.from_spec` when the caller has built it already
    (built here otherwise); `series` a boolean mask of the series to backtest (all by default).
    `horizon` is the models' horizon, when a window scores fewer steps (`planning`, rung 5):
    its known covariates then run on past the data's end (`_carried_future`).
    """
    indptr, _ = panel_indptr(panel)
    if arrays is None:
        arrays = SeriesArrays.from_spec(panel, spec)
    if not np.array_equal(arrays.indptr, indptr):
        raise DataError("the arrays given to prepare_windows are not the panel's")
    out = []
    for window in windows:
        history, actual_rows = window_history(arrays, window, series)
        actual = panel.iloc[actual_rows].reset_index(drop=True)
        future = None
        if spec.known_covariates:
            future = actual[[ITEM_ID, TIMESTAMP, *spec.known_covariates]].reset_index(drop=True)
            if horizon is not None and horizon > window.horizon:
                future = _carried_future(future, spec.freq, horizon - window.horizon)
        scale = np.repeat(
            metrics.seasonal_scale(history.values, history.indptr, season_length), window.horizon
        )
        out.append(WindowData(window, history, actual, future, scale))
    return out


def _carried_future(future: pd.DataFrame, freq: str, extra: int) -> pd.DataFrame:
    """`future` with `extra` more steps per item, each carrying the item's last row on.

    A window that scores only the first steps of the horizon ends at the data's end, but the
    models forecast the whole horizon and read known covariates for all of it. Past the end
    nothing is known: the last values stand in (a price holds, a flag stays as it was). Only
    steps that are not scored read them (and features looking ahead, such as a direct model's
    distance to the next event, near the window's end).
    """
    last = future.groupby(ITEM_ID, sort=False).tail(1)
    stamps = future_timestamps(last[TIMESTAMP].to_numpy(), freq, extra)
    tail = last.loc[last.index.repeat(extra)].reset_index(drop=True)
    tail[TIMESTAMP] = stamps.ravel()
    both = pd.concat([future, tail], ignore_index=True)
    order = np.lexsort((both[TIMESTAMP].to_numpy(), pd.factorize(both[ITEM_ID])[0]))
    return both.iloc[order].reset_index(drop=True)


def _align(
    forecast: pd.DataFrame, actual: pd.DataFrame, quantiles: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast rows in the order of `actual`; points the model did not forecast are NaN."""
    merged = actual[[ITEM_ID, TIMESTAMP]].merge(forecast, on=[ITEM_ID, TIMESTAMP], how="left")
    qcols = quantile_columns(quantiles)
    return merged[MEAN].to_numpy(dtype=np.float64), merged[qcols].to_numpy(dtype=np.float64)


def score_window(
    data: WindowData, mean: np.ndarray, q: np.ndarray, quantiles: Sequence[float]
) -> dict[str, float]:
    """Every metric for one window, on the points with an observed actual."""
    y = data.actual[TARGET].to_numpy(dtype=np.float64)
    ok = np.isfinite(y)
    return metrics.all_metrics(y[ok], mean[ok], q[ok], quantiles, data.scale[ok])


def run_candidate(
    name: str,
    make: Callable[[], Forecaster],
    windows: Sequence[WindowData],
    spec: DatasetSpec,
    horizon: int,
    quantiles: Sequence[float],
    metric: str,
    deadline: float | None,
    refit_every_window: bool = False,
    progress: ProgressFn | None = None,
    closures: Rules = (),
    dormant: bool = True,
    judge_first: Callable[[float], str | None] | None = None,
) -> CandidateResult:
    """Backtest one candidate; any exception becomes `error` on the result, never a crash,
    but `ClusterLost`: the cluster the run is scaled out on is gone, and the run stops.

    `closures` are the panel's closed-day rules (`automl.closures`): the candidate's forecast
    is 0 on the closed steps, as the final forecast will be, and on the items dormant at the
    window's cutoff (`automl.dormant`) unless `dormant` is False. `judge_first` (`pruning`) reads
    the first window's score and says why the candidate stops there, or None to go on.
    """
    result = CandidateResult(name=name)
    means, qs = [], []
    try:
        model = make()
        for k, data in enumerate(windows):
            if progress:
                progress({"stage": "backtest", "candidate": name, "window": k + 1, "windows": len(windows)})
            if k == 0 or refit_every_window:
                start = time.perf_counter()
                model.fit(data.history, spec, horizon, deadline=deadline)
                result.fit_seconds += time.perf_counter() - start
            start = time.perf_counter()
            forecast = model.predict(data.history, data.future, quantiles, deadline=deadline)
            result.predict_seconds += time.perf_counter() - start
            mean, q = _align(forecast, data.actual, quantiles)
            shut = data.zero_mask(closures, horizon if dormant else None)
            mean[shut], q[shut] = 0.0, 0.0
            missing = int((~np.isfinite(mean)).sum() + (~np.isfinite(q)).any(axis=1).sum())
            if missing:
                raise ValueError(
                    f"no finite forecast for {counted(missing, 'backtest point')} of window {k + 1}"
                )
            window_metrics = score_window(data, mean, q, quantiles)
            result.window_metrics.append(window_metrics)
            result.window_scores.append(window_metrics[metric])
            if k == 0 and judge_first is not None and len(windows) > 1:
                result.error = judge_first(window_metrics[metric])
                if result.error is not None:
                    result.stopped = True
                    return result
            means.append(mean)
            qs.append(q)
            result.fallback_items = sorted(set(result.fallback_items) | set(fallback_items(forecast)))
        result.model = model
        result.forecast = BacktestForecast(mean=np.concatenate(means), quantiles=np.concatenate(qs))
    except ClusterLost:  # no candidate's fault: the run cannot go on as scaled out
        raise
    except Exception as exc:  # a failing candidate is logged and skipped, never fatal
        result.error = f"{type(exc).__name__}: {exc}"
        log.warning("candidate %s failed: %s", name, result.error)
        log.debug("%s", traceback.format_exc())
    return result


def windowed_scorer(
    windows: Sequence[WindowData],
    quantiles: Sequence[float],
    metric: str,
    picks: Sequence[np.ndarray] | None = None,
) -> PointScorer:
    """A scorer over concatenated backtest forecasts: the mean of the per-window objective.

    Candidates and ensembles are ranked by the same function, so leaderboard scores compare.
    `picks` are, per window, the positions of the points to score, a point listed twice
    counting twice (a bootstrap resample of the series, `ensemble_value`); every point by
    default. Points without an observed actual are never scored.
    """
    bounds = np.cumsum([0] + [len(w.actual) for w in windows])
    rows: list[slice | np.ndarray] = []
    parts = []
    for k, w in enumerate(windows):
        y = w.actual[TARGET].to_numpy(dtype=np.float64)
        at = np.arange(len(y)) if picks is None else np.asarray(picks[k], dtype=np.int64)
        at = at[np.isfinite(y[at])]
        # A whole window, every actual observed: a slice, which reads the forecast in place.
        whole = picks is None and len(at) == len(y)
        rows.append(slice(int(bounds[k]), int(bounds[k + 1])) if whole else bounds[k] + at)
        parts.append(functools.partial(_objective, metric, y[at], w.scale[at], tuple(quantiles)))
    return PointScorer(rows, parts)


def _objective(
    metric: str,
    y: np.ndarray,
    scale: np.ndarray,
    quantiles: tuple[float, ...],
    mean: np.ndarray,
    q: np.ndarray,
) -> float:
    return metrics.score_arrays(metric, y, mean, q, quantiles, scale)


# Column names of the backtest forecast table (besides the item, timestamp, mean and quantiles).
WINDOW, CUTOFF, ACTUAL, MODEL = "window", "cutoff", "actual", "model"


def backtest_points(window_data: Sequence[WindowData]) -> pd.DataFrame:
    """The backtest points in the order every candidate's `BacktestForecast` is aligned with:
    window (1 = oldest, as on the leaderboard), the item's cutoff (last timestamp its window's
    history holds), item, timestamp and the actual value."""
    frames = []
    for k, w in enumerate(window_data):
        cutoff = pd.Series(w.history.last_timestamps(), index=w.history.item_ids)
        frames.append(
            pd.DataFrame(
                {
                    WINDOW: k + 1,
                    CUTOFF: w.actual[ITEM_ID].map(cutoff).to_numpy(),
                    ITEM_ID: w.actual[ITEM_ID].to_numpy(),
                    TIMESTAMP: w.actual[TIMESTAMP].to_numpy(),
                    ACTUAL: w.actual[TARGET].to_numpy(dtype=np.float64),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=[WINDOW, CUTOFF, ITEM_ID, TIMESTAMP, ACTUAL])
    return pd.concat(frames, ignore_index=True)


def backtest_table(
    points: pd.DataFrame, forecasts: dict[str, BacktestForecast], quantiles: Sequence[float]
) -> pd.DataFrame:
    """Long table of every model's backtest forecasts beside the actuals, what a user plots:
    one row per (model, window, item, timestamp), with `mean` and one column per quantile."""
    columns = [MEAN, *quantile_columns(quantiles)]
    frames = []
    for name, forecast in forecasts.items():
        values = np.column_stack([forecast.mean, forecast.quantiles])
        frame = points.copy()
        frame.insert(0, MODEL, name)
        frame[columns] = values
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[MODEL, *points.columns, *columns])
    return pd.concat(frames, ignore_index=True)
