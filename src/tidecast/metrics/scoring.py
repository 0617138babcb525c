"""Metrics by name for the AutoML (rankers) and whole-frame evaluation, over the kernels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from tidecast.data.arrays import series_indptr
from tidecast.data.item_keys import compose, item_column, item_parts
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_column
from tidecast.errors import ConfigError, DataError
from tidecast.metrics.kernels import (
    as_points,
    bias,
    coverage,
    mape,
    mase,
    rmse,
    seasonal_scale,
    smape,
    wape,
    wql,
)

# --------------------------------------------------------------------------- ranking scorers

PointKind = Literal["quantiles", "median", "mean"]

# A ranking scorer: (y, point forecast, quantile forecasts, quantiles, MASE scale, indptr) -> value.
Scorer = Callable[
    [
        np.ndarray,
        np.ndarray,
        np.ndarray | None,
        Sequence[float],
        np.ndarray | float | None,
        np.ndarray | None,
    ],
    float,
]


@dataclass(frozen=True)
class Metric:
    """A ranking metric: its name, the part of a forecast it scores, and its scorer.

    `forecast` says which forecast the metric reads: "quantiles" (all levels), "median" (the
    0.5 quantile when forecast, else the mean: the median minimises absolute errors) or
    "mean" (squared errors are minimised by the mean). Lower is better for every metric.
    Call it like `score_arrays` without the first argument.
    """

    name: str
    forecast: PointKind
    score: Scorer

    def __call__(
        self,
        y: np.ndarray,
        mean: np.ndarray,
        qpred: np.ndarray | None = None,
        quantiles: Sequence[float] = (),
        *,
        scale: np.ndarray | float | None = None,
        indptr: np.ndarray | None = None,
    ) -> float:
        return score_arrays(self, y, mean, qpred, quantiles, scale=scale, indptr=indptr)


def _point_scorer(fn: Callable[[np.ndarray, np.ndarray], float]) -> Scorer:
    def score(
        y: np.ndarray,
        point: np.ndarray,
        qpred: np.ndarray | None,
        quantiles: Sequence[float],
        scale: np.ndarray | float | None,
        indptr: np.ndarray | None,
    ) -> float:
        return fn(y, point)

    return score


def _wql_scorer(
    y: np.ndarray,
    point: np.ndarray,
    qpred: np.ndarray | None,
    quantiles: Sequence[float],
    scale: np.ndarray | float | None,
    indptr: np.ndarray | None,
) -> float:
    if qpred is None or len(quantiles) == 0:
        raise ConfigError("wql scores quantile forecasts; none were given")
    return wql(y, qpred, quantiles)


def _mase_scorer(
    y: np.ndarray,
    point: np.ndarray,
    qpred: np.ndarray | None,
    quantiles: Sequence[float],
    scale: np.ndarray | float | None,
    indptr: np.ndarray | None,
) -> float:
    if scale is None:
        raise ConfigError("mase needs the in-sample scale of each series (see metrics.seasonal_scale)")
    return mase(y, point, scale, indptr=indptr)


METRICS: dict[str, Metric] = {
    "wql": Metric("wql", "quantiles", _wql_scorer),
    "wape": Metric("wape", "median", _point_scorer(wape)),
    "mape": Metric("mape", "median", _point_scorer(mape)),
    "smape": Metric("smape", "median", _point_scorer(smape)),
    "mase": Metric("mase", "median", _mase_scorer),
    "rmse": Metric("rmse", "mean", _point_scorer(rmse)),
}


def get_metric(name: str) -> Metric:
    """The ranking metric called `name` (case-insensitive); ConfigError lists the valid ones."""
    metric = METRICS.get(name.strip().lower())
    if metric is None:
        raise ConfigError(f"unknown metric {name!r}; choose one of: {', '.join(METRICS)}")
    return metric


def _median_index(quantiles: Sequence[float]) -> int | None:
    for i, q in enumerate(quantiles):
        if abs(q - 0.5) < 1e-9:
            return i
    return None


def _median(mean: np.ndarray, qpred: np.ndarray | None, quantiles: Sequence[float]) -> np.ndarray:
    """The 0.5 quantile forecast when there is one, else the mean."""
    i = _median_index(quantiles)
    return mean if qpred is None or i is None else np.asarray(qpred)[:, i]


def score_arrays(
    metric: str | Metric,
    y: np.ndarray,
    mean: np.ndarray,
    qpred: np.ndarray | None = None,
    quantiles: Sequence[float] = (),
    scale: np.ndarray | float | None = None,
    indptr: np.ndarray | None = None,
) -> float:
    """Score one forecast held as arrays, fast and without pandas (the greedy ensemble's loop).

    `y`, `mean` have shape (N,), `qpred` (N, Q) in the order of `quantiles`, `scale` is the
    per-point MASE scale (only MASE reads it), `indptr` optional series boundaries (only MASE
    reads it: without it, points are weighted equally, which matches the per-series mean
    when every series contributes the same number of points, as in one backtest window).
    """
    m = get_metric(metric) if isinstance(metric, str) else metric
    point = _median(mean, qpred, quantiles) if m.forecast == "median" else mean
    return m.score(y, point, qpred, quantiles, scale, indptr)


def all_metrics(
    y: np.ndarray,
    mean: np.ndarray,
    qpred: np.ndarray | None = None,
    quantiles: Sequence[float] = (),
    scale: np.ndarray | float | None = None,
    indptr: np.ndarray | None = None,
    *,
    median: np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric for one forecast held as arrays: the six ranking metrics, bias and coverage.

    WAPE, MAPE, sMAPE and MASE score the median (the 0.5 quantile when forecast, else the
    mean) because the median is the optimal point forecast for absolute errors; RMSE and bias
    score the mean, optimal for squared errors. Coverage is that of the outermost quantiles
    (p10–p90 for the default levels, nominal level max(q) − min(q)) and nan with fewer than
    two quantiles; wql is nan without quantiles, mase without a scale. `scale` and `indptr`
    are as in `score_arrays`; `median` overrides the median when it is forecast apart from
    `quantiles` (a p50 column that is not one of the scored levels).
    """
    y, mean = as_points(y, mean)
    median = _median(mean, qpred, quantiles) if median is None else median
    has_q = qpred is not None and len(quantiles) > 0 and len(y) > 0
    q = np.asarray(quantiles, dtype=np.float64)
    return {
        "wql": wql(y, qpred, quantiles) if has_q and qpred is not None else float("nan"),
        "wape": wape(y, median),
        "mape": mape(y, median),
        "smape": smape(y, median),
        "mase": float("nan") if scale is None else mase(y, median, scale, indptr=indptr),
        "rmse": rmse(y, mean),
        "bias": bias(y, mean),
        "coverage": (
            coverage(y, qpred[:, np.argmin(q)], qpred[:, np.argmax(q)])
            if has_q and qpred is not None and len(q) >= 2
            else float("nan")
        ),
    }


# --------------------------------------------------------------------------- panel evaluation


def _item_indptr(items: np.ndarray) -> np.ndarray:
    """Boundaries of runs of equal item ids in an array sorted by item."""
    return series_indptr(items)


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"the {what} frame lacks the column(s) {missing}; it has {list(frame.columns)}")


@dataclass(frozen=True)
class _UserNames:
    """The item, timestamp and target columns a caller's frames use (`evaluate`)."""

    item: str
    timestamp: str
    target: str

    def canonical(
        self, frame: pd.DataFrame, what: str, needed: Sequence[str], optional: Sequence[str] = ()
    ) -> pd.DataFrame:
        """`frame`'s item, timestamp, `needed` and present `optional` columns, renamed to the
        canonical ones (`TARGET` stands for the user's target); a DataError names the user's
        columns it lacks. An item key of several columns is joined as ingest joins it."""
        wanted = [{TARGET: self.target}.get(c, c) for c in needed]
        key = [self.item] if self.item in frame.columns else list(item_parts(self.item))
        _require(frame, [*key, self.timestamp, *wanted], what)
        present = [c for c in optional if c in frame.columns]
        kept = list(dict.fromkeys([self.item, self.timestamp, *wanted, *present]))
        renames = {self.item: ITEM_ID, self.timestamp: TIMESTAMP, self.target: TARGET}
        return compose(frame, self.item)[kept].rename(columns=renames)


def seasonal_scale_by_item(history: pd.DataFrame, season_length: int) -> pd.Series:
    """`seasonal_scale` of every item of a history frame, as a Series indexed by item id.

    Map it onto actual rows (`actual[ITEM_ID].map(...)`) for a per-point MASE scale; items
    missing from the history map to nan and are left out of MASE.
    """
    _require(history, [ITEM_ID, TIMESTAMP, TARGET], "history")
    hist = history[[ITEM_ID, TIMESTAMP, TARGET]].sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    items = hist[ITEM_ID].to_numpy()
    ptr = _item_indptr(items)
    scale = seasonal_scale(hist[TARGET].to_numpy(dtype=np.float64, na_value=np.nan), ptr, season_length)
    return pd.Series(scale, index=items[ptr[:-1]], dtype=np.float64)


def evaluate(
    actual: pd.DataFrame,
    forecast: pd.DataFrame,
    history: pd.DataFrame | None = None,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    season_length: int = 1,
    *,
    item_col: str | Sequence[str] = ITEM_ID,
    timestamp_col: str = TIMESTAMP,
    target_col: str = TARGET,
) -> dict[str, float]:
    """`all_metrics` for a forecast frame against actuals, joined on (item, timestamp).

    The frames are in the columns `item_col` (a name, or a list of names for an item key of
    several columns), `timestamp_col` and `target_col` (in `actual` and `history`): pass the
    names given to `AutoForecaster` to score its `predict()` against your own actuals.

    Only rows present in both frames, with a non-missing actual, are scored. The point
    forecast for WAPE, MAPE, sMAPE and MASE is the `p50` column when the forecast has one,
    else `mean`; RMSE and bias use `mean` (see `all_metrics`). MASE needs `history` (the
    training data) and is nan without it; history rows at or after an item's first scored
    timestamp are ignored, so passing the whole panel cannot leak the scored window into its
    own scale. Ratios (wape, mape, smape, bias) are fractions.
    """
    quantiles = sorted(float(q) for q in quantiles)
    qcols = [quantile_column(q) for q in quantiles]
    names = _UserNames(item_column(item_col), timestamp_col, target_col)
    actual = names.canonical(actual, "actual", [TARGET])
    median_col = quantile_column(0.5)
    forecast = names.canonical(forecast, "forecast", [MEAN, *qcols], optional=[median_col])
    history = None if history is None else names.canonical(history, "history", [TARGET])
    extra = [median_col] if median_col in forecast.columns and median_col not in qcols else []
    joined = actual[[ITEM_ID, TIMESTAMP, TARGET]].merge(
        forecast[[ITEM_ID, TIMESTAMP, MEAN, *qcols, *extra]], on=[ITEM_ID, TIMESTAMP], how="inner"
    )
    joined = joined[joined[TARGET].notna()].sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    items = joined[ITEM_ID].to_numpy()
    ptr = _item_indptr(items)

    scale = None
    if history is not None:
        first_scored = joined.groupby(ITEM_ID, sort=False)[TIMESTAMP].min()
        limit = history[ITEM_ID].map(first_scored).to_numpy(dtype="datetime64[ns]")
        before = history[history[TIMESTAMP].to_numpy(dtype="datetime64[ns]") < limit]
        per_item = seasonal_scale_by_item(before, season_length)
        scale = np.repeat(per_item.reindex(items[ptr[:-1]]).to_numpy(dtype=np.float64), np.diff(ptr))

    median = joined[median_col].to_numpy(dtype=np.float64, na_value=np.nan) if extra else None
    return all_metrics(
        joined[TARGET].to_numpy(dtype=np.float64),
        joined[MEAN].to_numpy(dtype=np.float64, na_value=np.nan),
        joined[qcols].to_numpy(dtype=np.float64, na_value=np.nan) if qcols else None,
        quantiles,
        scale,
        ptr,
        median=median,
    )
