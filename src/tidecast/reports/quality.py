"""Model quality from the backtests: errors per window and per item, and quantile calibration.

Pure functions over the backtest table (`item_id`, `timestamp`, `window`, `cutoff`, `actual`,
`mean` and the quantile columns) and the training history; every error comes from the metric
kernels in `tidecast.metrics`, so a report can never disagree with the leaderboard about what
"WAPE" means.

Calibration is read on the quantile grid the model forecast, without assuming a distribution:
the PIT histogram counts how often the actual fell between consecutive forecast quantiles
(below p10, p10–p50, p50–p90, above p90 for the default levels), and a calibrated forecast puts
the share of each bin equal to its width in probability (10%, 40%, 40%, 10%). Interpolating a
continuous PIT value inside the bins would invent a shape the model never forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_column, quantile_columns
from tidecast.metrics import (
    bias_per_series,
    coverage,
    coverage_per_series,
    evaluate,
    mase_per_series,
    seasonal_scale_by_item,
    wape_per_series,
    wql_per_series,
)
from tidecast.reports.inputs import ACTUAL

WINDOW_METRICS = ("wql", "wape", "mape", "mase", "bias", "coverage")


def _median_column(frame: pd.DataFrame) -> str:
    return quantile_column(0.5) if quantile_column(0.5) in frame.columns else MEAN


def window_errors(
    backtests: pd.DataFrame, history: pd.DataFrame | None, quantiles: Sequence[float], season_length: int
) -> pd.DataFrame:
    """One row per backtest window: its cutoff, points and `WINDOW_METRICS` (`metrics.evaluate`)."""
    rows = []
    for window, part in backtests.groupby("window", sort=True):
        actual = part[[ITEM_ID, TIMESTAMP, ACTUAL]].rename(columns={ACTUAL: TARGET})
        scores = evaluate(actual, part, history, quantiles, season_length)
        rows.append(
            {
                "window": int(window),
                "cutoff": str(part["cutoff"].iloc[0]),
                "points": int(part[ACTUAL].notna().sum()),
                **{m: scores[m] for m in WINDOW_METRICS},
            }
        )
    return pd.DataFrame(rows, columns=["window", "cutoff", "points", *WINDOW_METRICS])


def item_errors(
    backtests: pd.DataFrame, history: pd.DataFrame | None, quantiles: Sequence[float], season_length: int
) -> pd.DataFrame:
    """One row per item over all windows: actual total, wQL, WAPE, MASE, bias, p-lo–p-hi coverage.

    MASE scales by each item's seasonal naive error on the history before the first cutoff,
    so the scored windows never enter their own scale.
    """
    frame = backtests[backtests[ACTUAL].notna()].sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    items = frame[ITEM_ID].to_numpy()
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]]) if len(items) else np.zeros(0, int)
    ptr = np.r_[starts, len(items)].astype(np.int64)
    names = items[starts]
    y = frame[ACTUAL].to_numpy(dtype=np.float64)
    qs = sorted(float(q) for q in quantiles)
    qpred = frame[quantile_columns(qs)].to_numpy(dtype=np.float64)
    median = frame[_median_column(frame)].to_numpy(dtype=np.float64)
    out = pd.DataFrame(
        {
            ITEM_ID: names,
            "points": np.diff(ptr),
            "actual_total": np.add.reduceat(y, starts) if len(y) else np.zeros(0),
            "wql": wql_per_series(y, qpred, qs, ptr) if qs else np.nan,
            "wape": wape_per_series(y, median, ptr),
            "mase": np.nan,
            "bias": bias_per_series(y, frame[MEAN].to_numpy(dtype=np.float64), ptr),
            "coverage": coverage_per_series(y, qpred[:, 0], qpred[:, -1], ptr) if len(qs) >= 2 else np.nan,
        }
    )
    if history is not None and len(frame):
        before = history[history[TIMESTAMP] <= pd.to_datetime(frame["cutoff"]).min()]
        scale = seasonal_scale_by_item(before, season_length).reindex(names).to_numpy(dtype=np.float64)
        out["mase"] = mase_per_series(y, median, np.repeat(scale, np.diff(ptr)), ptr)
    return out


def worst_items(errors: pd.DataFrame, n: int = 10, by: str = "wape") -> pd.DataFrame:
    """The `n` items with the highest `by` error (items without a value last)."""
    return (
        errors.sort_values(by, ascending=False, na_position="last", kind="stable")
        .head(n)
        .reset_index(drop=True)
    )


def pit_histogram(y: np.ndarray, qpred: np.ndarray, quantiles: Sequence[float]) -> pd.DataFrame:
    """Share of actuals in each bin between consecutive forecast quantiles, beside its width.

    Bin k holds the actuals with exactly k forecast quantiles at or below them, so bin 0 is
    "below the lowest quantile" and the last bin "at or above the highest". `qpred` has one
    column per level of `quantiles`, in that order (sorted ascending).
    """
    qs = np.asarray(quantiles, dtype=np.float64)
    edges = np.r_[0.0, qs, 1.0]
    y = np.asarray(y, dtype=np.float64)
    counts = np.bincount((np.asarray(qpred) <= y[:, None]).sum(axis=1), minlength=len(edges) - 1)
    labels = [f"{_pct(lo)}–{_pct(hi)}" for lo, hi in pairwise(edges)]
    return pd.DataFrame(
        {
            "bin": labels,
            "observed": counts / max(len(y), 1),
            "expected": np.diff(edges),
            "count": counts,
        }
    )


def coverage_by_level(y: np.ndarray, qpred: np.ndarray, quantiles: Sequence[float]) -> pd.DataFrame:
    """For each level q: the share of actuals at or below the q forecast (nominal q), and for
    each central interval (q, 1−q) the share inside it (nominal 1−2q), by `metrics.coverage`."""
    y = np.asarray(y, dtype=np.float64)
    qpred = np.asarray(qpred, dtype=np.float64)
    below = np.full(len(y), -np.inf)
    rows = [
        {"level": quantile_column(q), "nominal": q, "observed": coverage(y, below, qpred[:, i])}
        for i, q in enumerate(quantiles)
    ]
    for i, q in enumerate(quantiles):
        j = len(quantiles) - 1 - i
        if q < 0.5 and np.isclose(quantiles[j], 1 - q):
            rows.append(
                {
                    "level": f"{quantile_column(q)}–{quantile_column(quantiles[j])}",
                    "nominal": round(1 - 2 * q, 12),
                    "observed": coverage(y, qpred[:, i], qpred[:, j]),
                }
            )
    return pd.DataFrame(rows, columns=["level", "nominal", "observed"])


def calibration_arrays(backtests: pd.DataFrame, quantiles: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The actuals and their quantile forecasts (levels ascending), rows with an actual only."""
    frame = backtests[backtests[ACTUAL].notna()]
    qs = sorted(float(q) for q in quantiles)
    return frame[ACTUAL].to_numpy(dtype=np.float64), frame[quantile_columns(qs)].to_numpy(dtype=np.float64)


def _pct(level: float) -> str:
    return f"{level * 100:g}%"
