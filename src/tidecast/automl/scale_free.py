"""Ensemble weights fitted on a scale-free loss, for when a volume-weighted objective lets a
handful of series decide them.

wQL and WAPE divide the panel's summed error by its summed volume, so each series counts by
its volume. On M4 hourly two of the 414 series hold 37% of the volume: greedy weights fitted
on wQL follow whichever model suited those two on the windows they saw, and swing from
window to window (MSTLETS 0.6 on windows 1-2, SeasonalNaive 0.5 on window 3 alone), so on
the held-out last window they scored wQL 0.0378. The same greedy search on the same loss with
each point divided by its series' in-sample seasonal MAE (MASE's scale, so that every series
counts the same) gave weights that hardly move between windows (LightGBM 0.53-0.64) and
scored wQL 0.0307 on that window: better on the objective's own terms, because weights
estimated from 414 series vary less than weights estimated from two.

`select` fits both and takes the scale-free weights only when they beat the objective's on
the held-out points by more than `MIN_Z` standard errors of the paired per-series difference
(the objective is a sum over series, so the difference is one too). Where the two weightings
are within noise of each other (M4 weekly and the three tourism sets: |z| under 0.8) the
objective's own weights stay, since they aim at what the user asked for.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.automl.backtest import WindowData
from tidecast.automl.ensemble import BacktestForecast, PointScorer, combine, greedy_ensemble
from tidecast.data.schema import ITEM_ID, TARGET
from tidecast.metrics import get_metric, pinball_loss

# The volume-weighted objectives and the name of their scale-free counterpart.
SCALE_FREE: dict[str, str] = {"wql": "scaled quantile loss", "wape": "mean absolute scaled error"}
# How many standard errors of the paired difference the scale-free weights must win by on the
# held-out points: about a one-sided 2% test, so noise alone seldom overrides the objective.
MIN_Z = 2.0


@dataclass(frozen=True)
class Comparison:
    """The two weightings on the held-out points: objective values, the advantage in standard
    errors (positive when the scale-free weights score lower) and the number of series."""

    objective: float
    scale_free: float
    z: float
    n_series: int

    @property
    def significant(self) -> bool:
        return self.z > MIN_Z


def counterpart(metric: str) -> str | None:
    """The scale-free loss standing in for `metric` ("WQL" as "wql"), or None if it has none."""
    return SCALE_FREE.get(get_metric(metric).name)


def point_losses(
    metric: str, y: np.ndarray, mean: np.ndarray, q: np.ndarray, quantiles: Sequence[float]
) -> np.ndarray:
    """Each point's share of the objective's numerator: the objective is their sum over Σ|y|.

    wQL: twice the pinball loss averaged over the levels; WAPE: the median's absolute error
    (the 0.5 quantile when forecast, else the mean, as WAPE itself reads it).
    """
    name = get_metric(metric).name
    if name == "wql":
        return np.asarray(2.0 * pinball_loss(y, q, quantiles).mean(axis=1))
    if name != "wape":
        raise ValueError(f"{metric} has no per-point decomposition here; only {', '.join(SCALE_FREE)}")
    levels = [i for i, level in enumerate(quantiles) if abs(level - 0.5) < 1e-9]
    point = q[:, levels[0]] if levels else mean
    return np.asarray(np.abs(y - point))


def scale_free_scorer(windows: Sequence[WindowData], quantiles: Sequence[float], metric: str) -> PointScorer:
    """The mean over windows of each point's loss over its series' scale (MASE's scale).

    Points without a positive scale (constant or too-short history) or an actual are left
    out, as MASE leaves such series out; a window with no point left does not count.
    """
    bounds = np.cumsum([0] + [len(w.actual) for w in windows])
    rows, parts = [], []
    for k, w in enumerate(windows):
        y = w.actual[TARGET].to_numpy(dtype=np.float64)
        ok = np.isfinite(y) & (w.scale > 0)
        if ok.any():
            rows.append(bounds[k] + np.flatnonzero(ok))
            parts.append(functools.partial(_scaled_loss, metric, y[ok], w.scale[ok], tuple(quantiles)))
    return PointScorer(rows, parts)


def _scaled_loss(
    metric: str,
    y: np.ndarray,
    scale: np.ndarray,
    quantiles: tuple[float, ...],
    mean: np.ndarray,
    q: np.ndarray,
) -> float:
    return float(np.mean(point_losses(metric, y, mean, q, quantiles) / scale))


def compare(
    window: WindowData,
    objective: BacktestForecast,
    scale_free: BacktestForecast,
    quantiles: Sequence[float],
    metric: str,
) -> Comparison:
    """Both forecasts of the held-out `window`, scored by the objective and compared per series.

    The objective is Σ_i L_i / Σ|y| over series i, so the difference of two forecasts is the
    sum of the series' differences d_i; its standard error is √n times their spread.
    """
    y = window.actual[TARGET].to_numpy(dtype=np.float64)
    ok = np.isfinite(y)
    total = float(np.abs(y[ok]).sum())
    items = window.actual[ITEM_ID].to_numpy()[ok]
    a = point_losses(metric, y[ok], objective.mean[ok], objective.quantiles[ok], quantiles)
    b = point_losses(metric, y[ok], scale_free.mean[ok], scale_free.quantiles[ok], quantiles)
    if total <= 0:
        return Comparison(float("nan"), float("nan"), 0.0, 0)
    codes = np.unique(items, return_inverse=True)[1]
    per_series = np.bincount(codes, weights=(a - b) / total)
    n = len(per_series)
    advantage = float(per_series.sum())
    spread = float(per_series.std(ddof=1)) if n > 1 else 0.0
    if n < 2:
        z = 0.0
    elif spread > 0:
        z = advantage / (np.sqrt(n) * spread)
    else:
        z = float("inf") if advantage > 0 else 0.0
    return Comparison(float(a.sum()) / total, float(b.sum()) / total, z, n)


def scale_free_weights(
    forecasts: dict[str, BacktestForecast],
    windows: Sequence[WindowData],
    quantiles: Sequence[float],
    metric: str,
    size: int,
) -> dict[str, float]:
    """Greedy ensemble weights fitted on the scale-free loss; {} for an objective without one."""
    if counterpart(metric) is None:
        return {}
    return greedy_ensemble(forecasts, scale_free_scorer(windows, quantiles, metric), size=size)


def held_out_comparison(
    test: dict[str, BacktestForecast],
    window: WindowData,
    objective_weights: dict[str, float],
    scale_free: dict[str, float],
    quantiles: Sequence[float],
    metric: str,
) -> Comparison:
    """The two ensembles (weights fitted on the earlier points) on the held-out window."""
    return compare(window, combine(test, objective_weights), combine(test, scale_free), quantiles, metric)
