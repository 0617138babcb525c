"""The metric kernels: each metric once, per series over `indptr` segments (see `tidecast.metrics`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tidecast.errors import ConfigError

# --------------------------------------------------------------------------- array helpers


def _single(n: int) -> np.ndarray:
    return np.array([0, n], dtype=np.int64)


def _as_indptr(indptr: np.ndarray | Sequence[int], n: int) -> np.ndarray:
    out = np.asarray(indptr, dtype=np.int64)
    if out.ndim != 1 or len(out) < 1 or out[0] != 0 or out[-1] != n or np.any(np.diff(out) < 0):
        raise ValueError(f"indptr must rise from 0 to {n} (the number of points), got {out!r}")
    return out


def _segment_sum(x: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Sum of each segment along axis 0; an empty segment sums to 0.

    `np.add.reduceat` is exact (no cumulative-sum cancellation) but returns the next element
    for empty segments, so it only gets the starts of non-empty ones.
    """
    out = np.zeros((len(indptr) - 1, *x.shape[1:]), dtype=np.float64)
    starts = indptr[:-1]
    nonempty = indptr[1:] > starts
    if nonempty.any():
        out[nonempty] = np.add.reduceat(x, starts[nonempty], axis=0)
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with nan wherever the denominator is 0 (no warning, no inf)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den != 0)


def as_points(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y, f) as float arrays of one length: what every point kernel checks first."""
    y = np.asarray(y, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    if y.ndim != 1 or f.shape != y.shape:
        raise ValueError(f"y and the forecast must be 1-d arrays of one length, got {y.shape} and {f.shape}")
    return y, f


def _mean_where(values: np.ndarray, mask: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per-segment mean of `values` over the points where `mask` holds; nan if there are none."""
    return _ratio(
        _segment_sum(np.where(mask, values, 0.0), indptr), _segment_sum(mask.astype(np.float64), indptr)
    )


# --------------------------------------------------------------------------- metrics


def pinball_loss(y: np.ndarray, qpred: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """Pinball loss per point and quantile, shape (n, Q): max(q·(y−f), (q−1)·(y−f)).

    Minimised in expectation by the true q-quantile, which is why it scores quantile forecasts.
    Crossing quantiles are scored as given, each level on its own.
    """
    y = np.asarray(y, dtype=np.float64)
    qpred = np.asarray(qpred, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    if qpred.shape != (len(y), len(q)):
        raise ValueError(f"quantile forecasts must have shape (n, Q) = {(len(y), len(q))}, got {qpred.shape}")
    diff = y[:, None] - qpred
    # (q − 1{y<f})·(y−f) is the same max, in half the time: the greedy ensemble calls this a lot
    return np.asarray((q - (diff < 0)) * diff)


def wql_per_series(
    y: np.ndarray, qpred: np.ndarray, quantiles: Sequence[float], indptr: np.ndarray | Sequence[int]
) -> np.ndarray:
    """Weighted quantile loss per series: mean over q of 2·Σ pinball_q / Σ|y|.

    The AutoGluon / SageMaker definition; at q=0.5 alone it equals WAPE. nan where Σ|y| = 0.
    """
    if len(quantiles) == 0:
        raise ValueError("wql needs at least one quantile")
    loss = pinball_loss(y, qpred, quantiles)
    ptr = _as_indptr(indptr, len(loss))
    scale = _segment_sum(np.abs(np.asarray(y, dtype=np.float64)), ptr)
    return np.asarray((2.0 * _ratio(_segment_sum(loss, ptr), scale[:, None])).mean(axis=1))


def wql(y: np.ndarray, qpred: np.ndarray, quantiles: Sequence[float]) -> float:
    """Weighted quantile loss of a panel (sums over every point, so large items weigh more).

    `wql_per_series` with one segment, step for step (the same sums, so the same value to the
    last bit) without its segment bookkeeping: the greedy ensemble and screening's bootstrap
    call this thousands of times a run.
    """
    if len(quantiles) == 0:
        raise ValueError("wql needs at least one quantile")
    loss = pinball_loss(y, qpred, quantiles)
    if len(loss) == 0:
        return float("nan")
    scale = np.add.reduceat(np.abs(np.asarray(y, dtype=np.float64)), [0])[0]
    if scale == 0:
        return float("nan")
    return float((2.0 * (np.add.reduceat(loss, [0], axis=0)[0] / scale)).mean())


def wape_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Weighted absolute percentage error per series: Σ|y−f| / Σ|y|; nan where Σ|y| = 0."""
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    return _ratio(_segment_sum(np.abs(y - f), ptr), _segment_sum(np.abs(y), ptr))


def wape(y: np.ndarray, f: np.ndarray) -> float:
    """Σ|y−f| / Σ|y| over the panel; nan when every actual is 0."""
    return float(wape_per_series(y, f, _single(len(y)))[0])


def mape_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Mean of |y−f|/|y| per series over the points where y ≠ 0 (a fraction, not percent).

    Zero actuals are skipped because the ratio is undefined there; a series with only zeros
    gets nan. Prefer WAPE or MASE for intermittent demand, where this skips most points.
    """
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    nonzero = y != 0
    ape = np.abs(y - f) / np.where(nonzero, np.abs(y), 1.0)
    return _mean_where(ape, nonzero, ptr)


def mape(y: np.ndarray, f: np.ndarray) -> float:
    """MAPE over every point with y ≠ 0, as a fraction; nan when every actual is 0."""
    return float(mape_per_series(y, f, _single(len(y)))[0])


def smape_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Mean of 2|y−f| / (|y|+|f|) per series, a fraction in [0, 2]; a 0/0 point counts as 0.

    A point where both actual and forecast are 0 is a perfect forecast, hence 0 rather than
    undefined. M4 reports 100 times this value (percent, 0–200): see `smape_m4`.
    """
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    den = np.abs(y) + np.abs(f)
    point = np.divide(2.0 * np.abs(y - f), den, out=np.zeros_like(den), where=den != 0)
    return _mean_where(point, np.ones(len(y), dtype=bool), ptr)


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """sMAPE over every point, as a fraction in [0, 2] (multiply by 100 for M4's percent)."""
    return float(smape_per_series(y, f, _single(len(y)))[0])


def smape_m4(y: np.ndarray, f: np.ndarray) -> float:
    """sMAPE as the M4 competition publishes it: 100 · `smape`, in percent (0–200).

    Use this only to compare with published M4/M3 tables; everything else in tidecast
    (ranking, reports' raw values) uses the fraction so that all metrics share one scale.
    """
    return 100.0 * smape(y, f)


def seasonal_scale(values: np.ndarray, indptr: np.ndarray | Sequence[int], season_length: int) -> np.ndarray:
    """Per-series MASE scale: mean |y_t − y_{t−m}| over each series' in-sample history.

    That is the in-sample error of the seasonal naive forecast, so MASE < 1 beats it. A series
    shorter than m+1 points uses m = 1 (the naive forecast) instead of having no scale; a
    series with fewer than 2 points has no scale (nan). Pairs with a missing value are
    skipped. The scale is 0 for a constant series, and MASE is then undefined (see `mase`).
    One vectorised pass over the concatenated values: each point knows its series' lag.
    """
    if season_length < 1:
        raise ConfigError(f"season_length must be at least 1, got {season_length}")
    values = np.asarray(values, dtype=np.float64)
    ptr = _as_indptr(indptr, len(values))
    lengths = np.diff(ptr)
    lag_per_series = np.where(lengths >= season_length + 1, season_length, 1)
    lag = np.repeat(lag_per_series, lengths)
    position = np.arange(len(values)) - np.repeat(ptr[:-1], lengths)
    valid = position >= lag
    previous = values[np.where(valid, np.arange(len(values)) - lag, 0)]
    diff = np.abs(values - previous)
    valid &= ~np.isnan(diff)
    return _mean_where(diff, valid, ptr)


def scaled_errors(y: np.ndarray, f: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """|y−f| / scale per point; nan where the scale is missing or not positive.

    `scale` is per point (np.repeat a per-series scale by the series lengths) or a scalar.
    """
    y, f = as_points(y, f)
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), y.shape)
    return np.divide(np.abs(y - f), s, out=np.full(len(y), np.nan), where=s > 0)


def mase_per_series(
    y: np.ndarray, f: np.ndarray, scale: np.ndarray | float, indptr: np.ndarray | Sequence[int]
) -> np.ndarray:
    """Mean absolute scaled error per series: mean |y−f| / scale of that series.

    nan for a series whose scale is 0 or missing (constant or too-short history): any error
    is infinitely worse than a perfect in-sample naive forecast, which tells a ranking
    nothing, so such series are left out rather than blowing the panel value up to inf.
    """
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    has_scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), y.shape) > 0
    return _mean_where(scaled_errors(y, f, scale), has_scale, ptr)


def mase(
    y: np.ndarray,
    f: np.ndarray,
    scale: np.ndarray | float,
    *,
    indptr: np.ndarray | Sequence[int] | None = None,
) -> float:
    """MASE of a panel: the mean of the per-series values, skipping series without a scale.

    Without `indptr` all points form one segment, so the value is the mean scaled error over
    points, which equals the mean over series whenever every series has the same number of
    points (always true inside one backtest window). nan when no series has a scale. A nan
    forecast on a scaled point still yields nan: only scale-less series are skipped.
    """
    ptr = _single(len(y)) if indptr is None else indptr
    per_series = mase_per_series(y, f, scale, ptr)
    s = np.broadcast_to(np.asarray(scale, dtype=np.float64), np.shape(y))
    scored = _segment_sum((s > 0).astype(np.float64), _as_indptr(ptr, len(s))) > 0
    return float(per_series[scored].mean()) if scored.any() else float("nan")


def rmse_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Root mean squared error per series (in the units of y); nan for an empty series."""
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    return np.sqrt(_mean_where((y - f) ** 2, np.ones(len(y), dtype=bool), ptr))


def rmse(y: np.ndarray, f: np.ndarray) -> float:
    """Root mean squared error over every point; scale-dependent, so large items dominate."""
    return float(rmse_per_series(y, f, _single(len(y)))[0])


def bias_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Relative bias per series: Σ(f−y) / Σ|y|; > 0 over-forecasts, nan where Σ|y| = 0."""
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    return _ratio(_segment_sum(f - y, ptr), _segment_sum(np.abs(y), ptr))


def bias(y: np.ndarray, f: np.ndarray) -> float:
    """Σ(f−y) / Σ|y| over the panel: the signed share of volume over- (>0) or under-forecast."""
    return float(bias_per_series(y, f, _single(len(y)))[0])


def mean_error_per_series(y: np.ndarray, f: np.ndarray, indptr: np.ndarray | Sequence[int]) -> np.ndarray:
    """Mean of f−y per series, in the units of y (> 0 over-forecasts); nan for an empty series."""
    y, f = as_points(y, f)
    ptr = _as_indptr(indptr, len(y))
    return _mean_where(f - y, np.ones(len(y), dtype=bool), ptr)


def mean_error(y: np.ndarray, f: np.ndarray) -> float:
    """Mean of f−y over every point, in the units of y."""
    return float(mean_error_per_series(y, f, _single(len(y)))[0])


def coverage_per_series(
    y: np.ndarray, lo: np.ndarray, hi: np.ndarray, indptr: np.ndarray | Sequence[int]
) -> np.ndarray:
    """Share of actuals inside [lo, hi] (bounds included) per series.

    Compare with the nominal level (0.8 for p10–p90). Crossed bounds (lo > hi) cover nothing.
    """
    y, lo = as_points(y, lo)
    _, hi = as_points(y, hi)
    ptr = _as_indptr(indptr, len(y))
    inside = ((lo <= y) & (y <= hi)).astype(np.float64)
    return _mean_where(inside, np.ones(len(y), dtype=bool), ptr)


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of all actuals inside [lo, hi]; nan for no points."""
    return float(coverage_per_series(y, lo, hi, _single(len(y)))[0])
