"""Greedy weighted ensemble over backtest forecasts (Caruana et al., 2004).

Forward selection with replacement: start empty, repeatedly add the candidate whose addition
scores best on the backtest windows, for `size` rounds; the weights are how often each
candidate was picked. Quantiles are combined level by level with the same weights, which keeps
them monotone (a convex combination of sorted vectors is sorted).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

# A scorer takes (mean (N,), quantiles (N, Q)) and returns the objective (lower is better).
Scorer = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class BacktestForecast:
    """One candidate's forecasts for every backtest point, aligned with the actuals."""

    mean: np.ndarray
    quantiles: np.ndarray


def greedy_ensemble(
    forecasts: Mapping[str, BacktestForecast], score: Scorer, size: int = 20
) -> dict[str, float]:
    """Weights (summing to 1) for the candidates in `forecasts`; best single model first.

    Stops early when no addition improves the score, so a clearly best model gets weight 1.
    Ties go to the candidate listed first, which keeps the result deterministic.
    """
    names = [n for n, f in forecasts.items() if np.isfinite(f.mean).all() and np.isfinite(f.quantiles).all()]
    if not names:
        return {}
    counts = dict.fromkeys(names, 0)
    total_mean = np.zeros_like(forecasts[names[0]].mean)
    total_q = np.zeros_like(forecasts[names[0]].quantiles)
    best_score = np.inf
    for k in range(1, size + 1):
        trial_scores = []
        for name in names:
            f = forecasts[name]
            trial_scores.append(score((total_mean + f.mean) / k, (total_q + f.quantiles) / k))
        scores = np.asarray(trial_scores, dtype=np.float64)
        scores[~np.isfinite(scores)] = np.inf
        pick = int(np.argmin(scores))
        if k > 1 and not scores[pick] < best_score - 1e-12:
            break
        best_score = float(scores[pick])
        counts[names[pick]] += 1
        total_mean = total_mean + forecasts[names[pick]].mean
        total_q = total_q + forecasts[names[pick]].quantiles
    used = sum(counts.values())
    if used == 0:
        return {}
    return {n: c / used for n, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c > 0}


def combine(forecasts: Mapping[str, BacktestForecast], weights: Mapping[str, float]) -> BacktestForecast:
    """The weighted average of the candidates' forecasts."""
    mean: np.ndarray | None = None
    quantiles: np.ndarray | None = None
    for name, weight in weights.items():
        f = forecasts[name]
        mean = f.mean * weight if mean is None else mean + f.mean * weight
        quantiles = f.quantiles * weight if quantiles is None else quantiles + f.quantiles * weight
    if mean is None or quantiles is None:
        raise ValueError("cannot combine an empty ensemble")
    return BacktestForecast(mean=mean, quantiles=quantiles)
