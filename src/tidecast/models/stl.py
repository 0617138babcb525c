"""STL without robustness weights, as linear smoothers on numpy arrays.

MSTL and MSTL-ETS decompose every series in every backtest window with two or three STL fits
per period; statsmodels' STL runs each LOESS point by point in a Cython loop, and its yearly
cycle-subseries pass alone (365 subseries of four or five values, five inner passes) took
about 8 ms a fit whatever the interpolation jumps: a third of the local models' time on
Favorita. Without robustness weights every STL smoother is a fixed linear map that depends only
on the series length and the smoother's settings, not on the values. So each one is built once
(`_smoother`, `_extension_matrix`, cached) and applied to whole arrays: all cycle-subseries of
one length at once, the low-pass and trend smoothers through a sliding window. The
arithmetic is statsmodels' (Cleveland et al. 1990 as in its `_stl.pyx`, including where it
evaluates and interpolates and what it does at the ends); results agree with it to rounding
(`tests/models/test_stl.py` checks 1e-8 across periods, jumps, degrees and short series).

Measured with `benchmarks/local_windows.py` (fit before the oldest of four windows, forecast
each, refit, one process), statsmodels' STL (engine 737ed56) against this, same session, the
same wQL to the digit on every set; total seconds:

| model | demo | Favorita | M4 hourly | pasta_promo |
|---|---|---|---|---|
| MSTL | 15.6 -> 5.9 | 9.4 -> 3.7 | 44.7 -> 20.6 | 20.5 -> 5.6 |
| MSTLETS | 19.1 -> 13.2 | 9.3 -> 6.1 | 62.7 -> 49.5 | 21.7 -> 16.4 |

MSTL-ETS gains less: most of its time is its seasonal AutoETS, not the decomposition.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _weights(
    n: int, width: int, degree: int, xs: np.ndarray, nleft: np.ndarray, nright: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """LOESS weights of each estimate: point `xs` (1-based) from values `nleft..nright` of `n`.

    Returns a (len(xs), nright - nleft + 1) array (every row spans the same number of values)
    and whether each row is defined (False where every weight is 0, statsmodels' NaN).
    """
    span = int(nright[0] - nleft[0] + 1)
    j = nleft[:, None] + np.arange(span)[None, :]  # 1-based positions of the values
    h = np.maximum(xs - nleft, nright - xs).astype(np.float64)
    if width > n:
        h += (width - n) // 2
    r = np.abs(j - xs[:, None]).astype(np.float64)
    hh = h[:, None]
    w = np.where(r <= 0.999 * hh, (1.0 - (r / np.where(hh > 0, hh, 1.0)) ** 3) ** 3, 0.0)
    w = np.where(r <= 0.001 * hh, 1.0, w)
    total = w.sum(axis=1)
    defined = total > 0
    w = w / np.where(defined, total, 1.0)[:, None]
    if degree > 0:
        a = (w * j).sum(axis=1)
        c = (w * (j - a[:, None]) ** 2).sum(axis=1)
        tilt = (h > 0) & (np.sqrt(c) > 0.001 * (n - 1.0))
        b = np.where(tilt, (xs - a) / np.where(tilt, c, 1.0), 0.0)
        w = w * (b[:, None] * (j - a[:, None]) + 1.0)
    return w, defined


class _Smoother(NamedTuple):
    """statsmodels' `_ess` as data: each estimate's first value (0-based) and weights, and for a
    smoother that jumps, each point's evaluated neighbour below and its share of the one above
    (the smooth is linear between evaluated points)."""

    start: np.ndarray
    weights: np.ndarray
    below: np.ndarray | None
    share: np.ndarray | None


# Each kept smoother holds about 10 weights per point of its series (the jumps are a tenth of
# the window): 130 KB for 1,650 days, so 128 of them stay small even for long hourly series.
@lru_cache(maxsize=128)
def _smoother(n: int, width: int, degree: int, jump: int) -> _Smoother:
    jump = min(jump, n - 1)
    if width >= n:
        xs = np.arange(1, n + 1, jump)
        nleft, nright = np.ones_like(xs), np.full_like(xs, n)
    elif jump == 1:
        xs = np.arange(1, n + 1)
        nsh = (width + 2) // 2
        nleft = np.clip(xs - nsh + 1, 1, n - width + 1)
        nright = nleft + width - 1
    else:
        xs = np.arange(1, n + 1, jump)
        nsh = (width + 1) // 2
        nleft = np.where(xs < nsh, 1, np.where(xs >= n - nsh + 1, n - width + 1, xs - nsh + 1))
        nright = nleft + width - 1
    if jump > 1 and xs[-1] != n:  # the last point, from the last evaluated point's window
        xs = np.append(xs, n)
        nleft, nright = np.append(nleft, nleft[-1]), np.append(nright, nright[-1])
    w, defined = _weights(n, width, degree, xs, nleft, nright)
    # A row whose weights are all 0 keeps the value itself (statsmodels' NaN fallback).
    if not defined.all():
        w[~defined] = 0.0
        w[~defined, np.clip(xs[~defined] - nleft[~defined], 0, w.shape[1] - 1)] = 1.0
    if len(xs) == n:
        return _Smoother(_frozen(nleft - 1), _frozen(w), None, None)
    at, points = xs - 1, np.arange(n)
    below = np.clip(np.searchsorted(at, points, side="right") - 1, 0, len(at) - 2)
    share = (points - at[below]) / (at[below + 1] - at[below])
    return _Smoother(_frozen(nleft - 1), _frozen(w), _frozen(below), _frozen(share))


def _frozen(a: np.ndarray) -> np.ndarray:
    """Cached arrays are shared by every caller: read-only, so none can change another's."""
    a.flags.writeable = False
    return a


def loess(y: np.ndarray, width: int, degree: int, jump: int) -> np.ndarray:
    """statsmodels' STL smoother `_ess` (no robustness weights) of `y` along its first axis
    (each column of a 2-D `y` smoothed on its own)."""
    n = len(y)
    if n < 2:
        return y.astype(np.float64)
    smoother = _smoother(n, width, degree, jump)
    w = smoother.weights
    windows = sliding_window_view(y, w.shape[1], axis=0)[smoother.start]
    values = (windows * w.reshape(len(w), *(1,) * (y.ndim - 1), w.shape[1])).sum(axis=-1)
    if smoother.below is None or smoother.share is None:
        return values
    share = smoother.share.reshape(n, *(1,) * (y.ndim - 1))
    return (1.0 - share) * values[smoother.below] + share * values[smoother.below + 1]


@lru_cache(maxsize=256)
def _ends(k: int, width: int, degree: int) -> tuple[tuple[int, np.ndarray | None], ...]:
    """Weights of the values one cycle before and after a cycle-subseries of `k` (statsmodels'
    `_ss`): for each end, its window's first value and weights, or None where every weight is 0
    (statsmodels then repeats the neighbouring smoothed value)."""
    out = []
    for x, left, right in ((0, 1, min(width, k)), (k + 1, max(1, k - width + 1), k)):
        w, defined = _weights(k, width, degree, np.array([x]), np.array([left]), np.array([right]))
        out.append((left - 1, _frozen(w[0]) if defined[0] else None))
    return tuple(out)


# Cycle-subseries up to this many values are smoothed by one cached (k + 2) x k matrix product
# (1 MB at most each; 64 kept), longer ones through the sliding windows of `loess`. The product
# took MSTL(7, 365) on 1,650 days 1.7 ms against 2.8 ms per pass of both periods.
DENSE_MAX = 362


@lru_cache(maxsize=64)
def _extension_matrix(k: int, width: int, degree: int, jump: int) -> np.ndarray:
    """`_extended` as a matrix, built from the identity."""
    return _frozen(_extended(np.eye(k), width, degree, jump, dense=False))


def _extended(y: np.ndarray, width: int, degree: int, jump: int, dense: bool = True) -> np.ndarray:
    """Columns of `y` (k x m, each a cycle-subseries) smoothed and extended by one value at
    each end: (k + 2) x m."""
    if dense and len(y) <= DENSE_MAX:
        return _extension_matrix(len(y), width, degree, jump) @ y
    smooth = loess(y, width, degree, jump)
    rows = []
    for (first, w), neighbour in zip(_ends(len(y), width, degree), (smooth[0], smooth[-1]), strict=True):
        rows.append(neighbour if w is None else w @ y[first : first + len(w)])
    return np.vstack([rows[0], smooth, rows[1]])


def _cycle_subseries(x: np.ndarray, period: int, width: int, degree: int, jump: int) -> np.ndarray:
    """Every cycle-subseries of `x` smoothed and extended by one cycle at each end (n + 2p)."""
    n = len(x)
    q, r = divmod(n, period)
    out = np.zeros((q + 3, period))
    whole = x[: q * period].reshape(q, period)
    if r:
        out[:, :r] = _extended(np.vstack([whole[:, :r], x[q * period :][None, :]]), width, degree, jump)
    if q:
        out[: q + 2, r:] = _extended(whole[:, r:], width, degree, jump)
    return out.ravel()[: n + 2 * period]


def _moving_average(x: np.ndarray, length: int) -> np.ndarray:
    sums = np.cumsum(np.concatenate([[0.0], x]))
    return (sums[length:] - sums[:-length]) / length


def stl(
    y: np.ndarray,
    period: int,
    seasonal: int,
    trend: int,
    low_pass: int,
    seasonal_deg: int = 1,
    trend_deg: int = 1,
    low_pass_deg: int = 1,
    seasonal_jump: int = 1,
    trend_jump: int = 1,
    low_pass_jump: int = 1,
    inner_iter: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal and trend components of `y` (statsmodels' `STL(...).fit()` without `robust`)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    season, level = np.zeros(n), np.zeros(n)
    for _ in range(inner_iter):
        cycles = _cycle_subseries(y - level, period, seasonal, seasonal_deg, seasonal_jump)
        low = _moving_average(_moving_average(_moving_average(cycles, period), period), 3)
        season = cycles[period : period + n] - loess(low, low_pass, low_pass_deg, low_pass_jump)
        level = loess(y - season, trend, trend_deg, trend_jump)
    return season, level
