"""Greedy weighted ensemble over backtest forecasts (Caruana et al., 2004).

Forward selection with replacement: start empty, repeatedly add the candidate whose addition
scores best on the backtest windows, for `size` rounds, then keep the shortest prefix of picks
with the best score; the weights are how often each candidate was picked in that prefix. Quantiles are combined level by level with the same weights, which keeps
them monotone (a convex combination of sorted vectors is sorted).

Members picked once (a weight of 0.05) stay: dropping every member under 0.06 (or 0.1) and
rescaling the rest was measured at engine 095f54f on the test windows and lost more than it
won: the demo 0.00336 to 0.00314, but Favorita (four origins) 0.02538 to 0.02540 (0.02551),
M4 hourly 0.0225 to 0.0230, tourism quarterly 0.0604 to 0.0614, M4 weekly 0.03243 to 0.03247.

Weights averaged over ten bootstrap resamples of the series (bagged ensemble selection,
Caruana et al., 2006), to steady the weights of a one-window backtest that moved with the
seed (`benchmarks/seeds.py`), were measured at engine 2884340 and not taken: on the weekly
panel, seeds 0-2, wQL 0.0724 / 0.0784 / 0.0722 became 0.0771 / 0.0795 / 0.0722. The
resamples spread weight onto SeasonalNaive, which that window over-rates (its Christmas is
one the global models' backtest fits cannot know; the test has none). A hundred greedy rounds
instead of the presets' twenty (finer weights, AutoGluon's default size) did the same there:
0.0724 / 0.0824 / 0.0775.

Weights fitted apart for the cells an item's own 0/1 flag marks (a promotion, a deal or
feature ad) and for the rest, since a global model shrinks every item's lift toward the
panel's while a per-series one fits it, were measured at engine bdf5a42 and not taken: the
weights fitted on all backtest windows but the last, that window's wQL, one weight set
against two: the messy demo 0.00777 -> 0.00690 (flagged cells: the dynamic regression 0.95),
but pasta_promo's origins 0 / 1 / 2 0.3798 / 0.4288 / 0.3945 -> 0.3868 / 0.4362 / 0.3814 and
dominicks_oj's 0.2258 / 0.4492 / 0.2525 -> 0.2695 / 0.4256 / 0.2422: on two windows of a
third of the cells the flagged weights spread onto weak local members (AutoTheta, MSTL, NPTS
on pasta_promo's promotion days) and move by the origin.

Stopping the greedy path early, at the shortest prefix within 0.5% or 1% of the best backtest
score (fewer rounds, coarser weights), as a guard against weak members that the backtest
rates and the test does not repay (`benchmarks/long_horizon.py`), was measured at engine
7d0b630 and not taken: dominicks_oj 13 weeks ahead 0.3267 / 0.3051 / 0.3959 became 0.3260 /
0.3126 / 0.3991 (0.5%) and 0.3356 / 0.3207 / 0.3991 (1%), 26 weeks 0.3161 -> 0.3233 / 0.3273,
4 weeks origins 0-1 0.3058 / 0.2136 -> 0.3037 / 0.2262 and 0.3058 / 0.2136: the fine weights
of the full path pay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID

# A scorer takes (mean (N,), quantiles (N, Q)) and returns the objective (lower is better).
Scorer = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class BacktestForecast:
    """One candidate's forecasts for every backtest point, aligned with the actuals."""

    mean: np.ndarray
    quantiles: np.ndarray


# A window's part of a `PointScorer`: the objective of that window's scored points.
WindowScore = Callable[[np.ndarray, np.ndarray], float]


class PointScorer:
    """A scorer over forecasts of every backtest point: the mean over windows of each window's
    objective on its scored points (`rows`: a slice or positions per window, a point listed
    twice counting twice), windows without a finite value left out; inf if none has one.

    `restrict` gathers a forecast's scored points once (window after window) and `restricted`
    scores such gathered forecasts, to the same value bit for bit: the greedy ensemble scores
    each candidate mixed in twenty times, and gathering the points (a bootstrap resample's, or
    those with an observed actual) on every call cost more than scoring them.
    """

    def __init__(self, rows: Sequence[slice | np.ndarray], parts: Sequence[WindowScore]) -> None:
        self._rows = list(rows)
        self._parts = list(parts)
        ends = np.cumsum([_count(r) for r in self._rows])
        self._gathered = [slice(int(e) - _count(r), int(e)) for e, r in zip(ends, self._rows, strict=True)]
        # Whole windows end to end from the first point: a forecast is already gathered.
        self._in_place = all(
            isinstance(r, slice) and (r.start, r.stop) == (g.start, g.stop)
            for r, g in zip(self._rows, self._gathered, strict=True)
        )

    def __call__(self, mean: np.ndarray, q: np.ndarray) -> float:
        return self._score(self._rows, mean, q)

    def restrict(self, forecast: BacktestForecast) -> BacktestForecast:
        """The forecast at the scored points only, window after window."""
        if self._in_place:
            return forecast
        at = np.concatenate(
            [np.arange(r.start, r.stop) if isinstance(r, slice) else r for r in self._rows]
            or [np.zeros(0, int)]
        )
        return BacktestForecast(forecast.mean[at], forecast.quantiles[at])

    def restricted(self, mean: np.ndarray, q: np.ndarray) -> float:
        """The score of forecasts `restrict` gathered."""
        return self._score(self._gathered, mean, q)

    def _score(self, rows: list, mean: np.ndarray, q: np.ndarray) -> float:
        values = [part(mean[at], q[at]) for at, part in zip(rows, self._parts, strict=True)]
        finite = [v for v in values if np.isfinite(v)]
        return float(np.mean(finite)) if finite else float("inf")


def _count(rows: slice | np.ndarray) -> int:
    return int(rows.stop - rows.start) if isinstance(rows, slice) else len(rows)


def greedy_ensemble(
    forecasts: Mapping[str, BacktestForecast], score: Scorer, size: int = 20
) -> dict[str, float]:
    """Weights (summing to 1) for the candidates in `forecasts`; best single model first.

    A `PointScorer`'s points are gathered from each forecast once, before the rounds.

    Running all rounds (not stopping at the first round without gain) lets it reach mixes such
    as 3:1 that pass through a tie; ties go to the candidate listed first (deterministic).
    """
    names = [n for n, f in forecasts.items() if np.isfinite(f.mean).all() and np.isfinite(f.quantiles).all()]
    if not names:
        return {}
    if isinstance(score, PointScorer):
        forecasts = {n: score.restrict(forecasts[n]) for n in names}
        score = score.restricted
    picks: list[str] = []
    trajectory: list[float] = []
    total_mean = np.zeros_like(forecasts[names[0]].mean)
    total_q = np.zeros_like(forecasts[names[0]].quantiles)
    for k in range(1, size + 1):
        scores = np.array(
            [
                score((total_mean + forecasts[n].mean) / k, (total_q + forecasts[n].quantiles) / k)
                for n in names
            ],
            dtype=np.float64,
        )
        scores[~np.isfinite(scores)] = np.inf
        pick = int(np.argmin(scores))
        if not np.isfinite(scores[pick]):
            break
        picks.append(names[pick])
        trajectory.append(float(scores[pick]))
        total_mean = total_mean + forecasts[names[pick]].mean
        total_q = total_q + forecasts[names[pick]].quantiles
    if not picks:
        return {}
    # Keep the shortest prefix that reaches the best score: fewer members, same accuracy.
    path = np.asarray(trajectory)
    best = int(np.flatnonzero(path <= path.min() + 1e-12 * max(1.0, abs(path.min())))[0])
    chosen = picks[: best + 1]
    counts = {n: chosen.count(n) for n in dict.fromkeys(chosen)}
    return {n: c / len(chosen) for n, c in sorted(counts.items(), key=lambda kv: -kv[1])}


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


def combine_members(
    frames: Mapping[str, pd.DataFrame],
    weights: Mapping[str, float],
    fallback: Mapping[str, Sequence[str]],
    columns: Sequence[str],
    keep_fallbacks: bool = False,
) -> pd.DataFrame:
    """The weighted average of the members' forecast frames (same rows in the same order).

    An item that some members forecast by their fallback (too short or too gappy for them)
    and others by their model gets the latter only, their weights rescaled to sum to 1: the
    weights were chosen on backtests of items long enough for every candidate (shorter ones
    are left out, `planning`), so they say nothing of a naive level standing in for a model.
    On the messy demo (ensemble of the dynamic regression and LightGBM), the new items scored
    wQL 0.100 with the regression's naive fallback in the mix and 0.036 without; on its
    wide-scale version (LightGBM falling back, CrostonSBA modelling them) 0.084 with, 0.050
    without. Items that every weighted member forecasts by its fallback keep the plain
    weights (`short_items` gives them their peers' profile).

    `keep_fallbacks` keeps every member at its weight instead, for panels where the backtests
    found the naive forecast close to the best model (`naive_is_competitive`): there the naive
    level is a sound forecast of a short series, and it damps a local model fitted on barely
    more points than it needs. On tourism yearly (Naive 1.3x the best backtest score),
    LightGBM falls back on 15 seven-year series and dropping its naive level there took the
    whole panel's wQL from 0.095 to 0.106.
    """
    names = list(weights)
    first = frames[names[0]]
    items = first[ITEM_ID].astype(str).to_numpy()
    plain = np.array([float(weights[n]) for n in names])
    share = np.repeat(plain[:, None], len(first), axis=1)  # (members, rows)
    for k, name in enumerate(names):
        if fallback.get(name) and not keep_fallbacks:
            share[k, np.isin(items, np.asarray(fallback[name], dtype=str))] = 0.0
    total = share.sum(axis=0)
    share = np.where(total > 0, share / np.where(total > 0, total, 1.0), plain[:, None])
    values = sum(
        share[k][:, None] * frames[n][list(columns)].to_numpy(np.float64) for k, n in enumerate(names)
    )
    combined = first.copy()
    combined[list(columns)] = values
    return combined
