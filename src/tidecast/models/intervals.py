"""Turning a model's uncertainty into the requested quantiles, one way per kind of output.

statsforecast gives symmetric prediction intervals by level; others give a scale per step or
sample paths. Each helper returns an array (horizon, n_quantiles) in the order requested.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import norm

from tidecast.data.arrays import SeriesArrays


def levels_for(quantiles: Sequence[float]) -> list[float]:
    """The central interval levels (in percent) whose bounds are the requested quantiles."""
    levels = {round(abs(2 * q - 1) * 100, 6) for q in quantiles if abs(q - 0.5) > 1e-12}
    return sorted(levels)


def from_intervals(
    center: np.ndarray, bounds: Mapping[float, tuple[np.ndarray, np.ndarray]], quantiles: Sequence[float]
) -> np.ndarray:
    """Quantiles from central intervals: q < 0.5 is the lower bound of level 100(1 - 2q)."""
    out = np.empty((len(center), len(quantiles)))
    for j, q in enumerate(quantiles):
        if abs(q - 0.5) <= 1e-12:
            out[:, j] = center
            continue
        lo, hi = bounds[round(abs(2 * q - 1) * 100, 6)]
        out[:, j] = lo if q < 0.5 else hi
    return out


def normal_quantiles(center: np.ndarray, sigma: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Gaussian quantiles around `center` with per-step scale `sigma` (both shape (horizon,))."""
    z = _standard_normal_quantiles(tuple(float(q) for q in quantiles))
    return (
        np.asarray(center, dtype=np.float64)[:, None]
        + np.asarray(sigma, dtype=np.float64)[:, None] * z[None, :]
    )


@functools.lru_cache(maxsize=32)
def _standard_normal_quantiles(quantiles: tuple[float, ...]) -> np.ndarray:
    """`norm.ppf` of the levels, once per set of levels: it costs 0.2 ms a call, which a local
    model's forecast paid per series and window (1.7 s of a store panel's cheap candidates)."""
    z = norm.ppf(np.asarray(quantiles, dtype=np.float64))
    z.setflags(write=False)
    return z


def empirical_quantiles(samples: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Quantiles of sample paths (n_samples, horizon) -> (horizon, n_quantiles)."""
    return np.quantile(samples, np.asarray(quantiles), axis=0).T


# The fallback's prior spread, as a share of the series' mean absolute level, and how many
# one-step changes it is worth: a series with one or two observations says nothing about its
# own spread, so its interval comes from the prior (wide: 50% of its level per step); with a
# few dozen changes the observed spread takes over.
PRIOR_RELATIVE_SPREAD = 0.5
PRIOR_WEIGHT = 3.0


def naive_fallback(
    y: np.ndarray, horizon: int, quantiles: Sequence[float], window: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """For series too short (or too gappy) for a model: the mean of the last `window` finite
    values (1: the last value), random-walk spread.

    A `window` of one seasonal cycle (7 days) suits short daily retail series: their last value
    is one day of a weekly cycle, a Sunday trough, a promotion peak or a return, and the whole
    horizon would repeat it; the cycle's mean is the level without the phase (values a caller
    knows to be meaningless, such as closed days, come in as NaN and are skipped).

    The per-step spread pools the observed one-step changes with a prior of
    `PRIOR_RELATIVE_SPREAD` x the mean absolute level (at least 1 unit), weighted as
    `PRIOR_WEIGHT` changes, and grows with the square root of the step. So a one-point series
    gets an honest, wide interval instead of p10 = p50 = p90, while a long series keeps its
    own spread. An empty or all-NaN series forecasts zero with the prior's spread of 1 unit.
    """
    finite = y[np.isfinite(y)]
    level = float(np.mean(finite[-max(window, 1) :])) if len(finite) else 0.0
    changes = np.diff(finite)
    prior = PRIOR_RELATIVE_SPREAD * max(float(np.mean(np.abs(finite))) if len(finite) else 0.0, 1.0)
    variance = (float(np.sum(changes**2)) + PRIOR_WEIGHT * prior**2) / (len(changes) + PRIOR_WEIGHT)
    sigma = float(np.sqrt(variance))
    center = np.full(horizon, level)
    spread = sigma * np.sqrt(np.arange(1, horizon + 1))
    return center, normal_quantiles(center, spread, quantiles)


# Conformal quantiles of a step pool the residuals of neighbouring steps until at least this
# many are in: a quantile of 10% from a dozen residuals is mostly noise.
MIN_RESIDUALS = 200


def residual_quantiles(
    residuals: np.ndarray, steps: np.ndarray, horizon: int, quantiles: Sequence[float]
) -> np.ndarray:
    """Per step 1..horizon, the quantiles of the residuals of that step and its neighbours.

    The pool widens symmetrically (then to whatever steps exist) until it holds
    `MIN_RESIDUALS` residuals or every step; no residuals at all give zero-width bands.
    Returns (horizon, n_quantiles).
    """
    out = np.zeros((horizon, len(quantiles)))
    if len(residuals) == 0:
        return out
    q = np.asarray(quantiles)
    for h in range(1, horizon + 1):
        width = 0
        while True:
            pool = residuals[np.abs(steps - h) <= width]
            if len(pool) >= MIN_RESIDUALS or width >= horizon:
                break
            width += 1
        out[h - 1] = np.quantile(pool, q) if len(pool) else 0.0
    return out


def too_short(data: SeriesArrays, min_length: int) -> np.ndarray:
    """Series with fewer observed values than `min_length` (they get `naive_fallback`)."""
    series = np.repeat(np.arange(data.n_series), data.lengths)
    counts = np.bincount(series[np.isfinite(data.values)], minlength=data.n_series)
    return counts < min_length


def fallback_prediction(
    data: SeriesArrays,
    short: np.ndarray,
    horizon: int,
    quantiles: Sequence[float],
    values: np.ndarray | None = None,
    window: int = 1,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Mean (n_series, horizon) and bands (n_series, horizon, n_q): `naive_fallback` over
    `window` steps on the `short` series, zero elsewhere (for the model to fill), and the short
    series' ids. `values` replaces `data.values` (e.g. with closed days made missing)."""
    values = data.values if values is None else values
    mean = np.zeros((data.n_series, horizon))
    bands = np.zeros((data.n_series, horizon, len(quantiles)))
    for i in np.flatnonzero(short):
        y = values[data.indptr[i] : data.indptr[i + 1]]
        mean[i], bands[i] = naive_fallback(y, horizon, quantiles, window=window)
    return mean, bands, tuple(str(i) for i in data.item_ids[short])
