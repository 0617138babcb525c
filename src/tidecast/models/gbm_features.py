"""Feature rows for the global LightGBM forecaster: one row per (series, forecast origin, step).

A row describes what is known at a forecast origin `o` (the first unobserved position) about
the value at the target position `t = o + h - 1`:

- the target's **location and scale** (`origin_norm`): under "level" scaling the mean |y|
  over the `scale_window` steps before the origin (`series_level`), under "spread" the
  recent mean and the spread around the recent trend line. Every value feature and the
  target itself are normalised by them, so a series at 10 and one at 10,000 (or one series
  before and after years of growth) share one model;
- **lags** of the target before the origin, and **phase lags**: the last values at the same
  phase of each seasonal period as the target (y[t - p], y[t - 2p] moved back past the
  origin), which carry the seasonal shape to every step of a direct forecast;
- **rolling** mean and standard deviation over recent windows, and the mean of the window
  before each, so the tree sees the local trend as a ratio;
- the **calendar, holidays and Fourier terms** of the target time (`time_features`);
- every **known covariate** at the target time, for indicator-like ones (a promotion flag)
  also `event_distances` over history and horizon, their value at the first phase lag and
  their share of the scale window (a promotion inside it inflates the scale);
- **past covariates** only before the origin (the last value and a recent mean);
- **static** columns as integer codes (LightGBM categorical features; unseen -> missing);
- the **step** h.

Everything is a gather from concatenated per-series arrays ("extended" with the horizon's
rows at predict time), vectorised over rows with cumulative sums for the windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.features import EVENT_CAP, event_distances, spec_calendar, time_features
from tidecast.data.schema import DatasetSpec
from tidecast.models.covariates import append_horizon
from tidecast.models.covariates.encoding import codes, is_numeric, vocabulary
from tidecast.models.gbm_windows import Windows

# A numeric known covariate with at most this many distinct integer values, zero among them,
# is an indicator of events (a promotion, a store's closure) and gets event distances.
MAX_INDICATOR_VALUES = 5


@dataclass(frozen=True)
class FeatureLayout:
    """What the feature columns are, fixed at fit so predict builds the same ones."""

    horizon: int
    lags: tuple[int, ...]
    windows: tuple[int, ...]
    phase_periods: tuple[int, ...]
    scale_window: int
    trend_window: int
    # "level": values / mean |y| before the origin; "spread": (values - recent mean) / the
    # spread around the recent trend line (see `origin_norm`).
    scaling: str
    fourier_periods: tuple[float, ...]
    fourier_order: int
    known: tuple[str, ...]
    indicators: tuple[str, ...]
    past: tuple[str, ...]
    static: tuple[str, ...]
    # Labels of every text feature ("st_<static>", "kc_<known covariate>"), in code order;
    # LightGBM treats these features as categorical.
    categories: dict[str, tuple[str, ...]]
    # Indicators every series shares on a date (a public holiday): each gets its series' lift
    # (`flag_lift`). Empty for models saved before (their features hold no lift).
    shared: tuple[str, ...] = ()


def default_lags(periods: Sequence[int], length: int, horizon: int) -> tuple[int, ...]:
    """Lags for seasonal periods `periods` (main first) and a typical series `length`.

    1..m (m the main period, at most 24) and a few multiples of m (four for short periods like
    the week, two for longer ones), then each longer period rounded to a multiple of m (365 ->
    364 for daily data, so the lag lands on the same weekday) when two of them plus the
    horizon fit in the history: a yearly lag known for one year only is missing on most rows.
    """
    main = max(1, int(periods[0]))
    lags = set(range(1, min(main, 24) + 1))
    lags.update(main * k for k in (range(1, 5) if main <= 7 else range(1, 3)))
    for period in periods[1:]:
        lag = round(period / main) * main if main > 1 else int(period)
        if 2 * lag + horizon <= length:
            lags.add(lag)
    return tuple(sorted(lags))


def column_categories(values: np.ndarray) -> tuple[str, ...] | None:
    """The sorted labels of a text column; None for a numeric one."""
    if is_numeric(values):
        return None
    return tuple(sorted(vocabulary(values)))


def shared_flags(data: SeriesArrays, columns: Sequence[str]) -> tuple[str, ...]:
    """The `columns` whose value is the same for every series observed on each date."""
    order = np.argsort(data.timestamps, kind="stable")
    stamps = data.timestamps[order]
    if len(stamps) == 0:
        return ()
    first = np.flatnonzero(np.concatenate([[True], stamps[1:] != stamps[:-1]]))
    shared = []
    for column in columns:
        values = np.asarray(data.covariates[column], dtype=np.float64)[order]
        low = np.minimum.reduceat(np.where(np.isfinite(values), values, np.inf), first)
        high = np.maximum.reduceat(np.where(np.isfinite(values), values, -np.inf), first)
        if np.all((low == high) | ~np.isfinite(low)):
            shared.append(column)
    return tuple(shared)


def is_indicator(values: np.ndarray) -> bool:
    """Whether a numeric column looks like an event flag: few distinct integers including 0."""
    if not is_numeric(values):
        return False
    numeric = values.astype(np.float64)
    distinct = np.unique(numeric[np.isfinite(numeric)])
    return (
        0 < len(distinct) <= MAX_INDICATOR_VALUES
        and bool(np.all(distinct == np.round(distinct)))
        and bool(np.any(distinct == 0))
    )


def encode(values: np.ndarray, categories: tuple[str, ...] | None) -> np.ndarray:
    """A column as float64: numbers as they are, text as its code (unseen or missing -> NaN)."""
    if categories is None:
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    found = codes(values, categories)
    return np.where(found > 0, found - 1, np.nan).astype(np.float64)


@dataclass(frozen=True)
class Extended:
    """Concatenated per-series arrays over the history plus `horizon` rows after each series.

    `ends[i]` is the absolute position of series i's first horizon row (its forecast origin);
    horizon rows have NaN values and the known covariates of `future`.
    """

    values: np.ndarray
    indptr: np.ndarray
    ends: np.ndarray
    timestamps: np.ndarray
    covariates: dict[str, np.ndarray]
    static: dict[str, np.ndarray]

    @property
    def starts(self) -> np.ndarray:
        return self.indptr[:-1]

    def series_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.indptr, positions, side="right") - 1


def extend(
    data: SeriesArrays, layout: FeatureLayout, horizon: int = 0, future: pd.DataFrame | None = None
) -> Extended:
    """The history of `data` plus `horizon` rows per series (known covariates from `future`),
    every covariate and static column encoded as numbers."""
    longer = append_horizon(data, horizon, future, layout.known)
    covariates: dict[str, np.ndarray] = {}
    for column in (*layout.known, *layout.past):
        raw = longer.covariates.get(column)
        labels = layout.categories.get(f"kc_{column}")
        covariates[column] = np.full(len(longer.values), np.nan) if raw is None else encode(raw, labels)
    static: dict[str, np.ndarray] = {}
    for column in layout.static:
        if data.static is not None and column in data.static:
            raw = data.static[column].to_numpy()
            static[column] = encode(raw, layout.categories.get(f"st_{column}"))
        else:
            static[column] = np.full(data.n_series, np.nan)
    ends = longer.indptr[:-1] + data.lengths
    return Extended(longer.values, longer.indptr, ends, longer.timestamps, covariates, static)


def calendar_frame(ext: Extended, spec: DatasetSpec, layout: FeatureLayout) -> pd.DataFrame:
    """Calendar, holiday and Fourier columns for every position of `ext` (float32)."""
    if len(ext.timestamps) == 0:
        return pd.DataFrame()
    calendar = spec_calendar(spec, ext.timestamps.min(), ext.timestamps.max())
    return time_features(ext.timestamps, spec, layout.fourier_periods, layout.fourier_order, calendar)


# Under "spread" scaling the spread is at least this share of the level, so a (nearly)
# constant stretch does not blow the scaled values up.
MIN_SPREAD = 0.02
# A level needs this many observed non-zero values in the scale window; with fewer (a store
# closed for weeks, a gap of missing rows) it is taken over the whole past instead.
MIN_LEVEL_VALUES = 3


def series_level(ext: Extended, windows: Windows, origins: np.ndarray, scale_window: int) -> np.ndarray:
    """The level of each series before `origins`: mean |y| over its recent observed cells.

    Missing cells are left out (and so are closed days, which the model masks as missing in
    `windows`); zeros count, since a slow seller's zeros are its demand: a level over the
    non-zero days only measured worse on pasta_promo (wQL 0.488 against 0.444). Where the
    last `scale_window` steps hold fewer than MIN_LEVEL_VALUES non-zero values (just after a
    gap, or a closure the covariates do not explain) the level is the whole past's mean |y|;
    with none at all, 1. |y| keeps returns (negative sales) from cancelling sales out.
    A window only partly inside a zero-filled gap still lowers the level (first sales after
    a 60-day gap scale to ~8 instead of ~1); scaling by the non-zero mean times the past's
    share of non-zero days there measured worse on pasta_promo (0.461 against 0.429), and
    keeping the gap missing (middlefill "none") avoids it.
    """
    start = ext.starts[ext.series_of(origins)]
    lo = np.maximum(start, origins - scale_window)
    _, _, recent = windows.stats(lo, origins)
    _, present = windows.nonzero_level(lo, origins)
    _, _, whole = windows.stats(start, origins)
    level = np.where(present >= MIN_LEVEL_VALUES, recent, whole)
    return np.where(np.isfinite(level) & (level > 0), level, 1.0)


def origin_norm(
    ext: Extended, windows: Windows, origins: np.ndarray, layout: FeatureLayout
) -> tuple[np.ndarray, np.ndarray]:
    """Location and scale of the values before each origin; features are (v - loc) / scale.

    "level": location 0, scale `series_level` (mean |y| of the recent observed cells). The
    tree then predicts a ratio to the level, which suits multiplicative effects (a promotion
    lifting sales by half).

    "spread": location the mean of the last `windows[-1]` values, scale the spread of those
    values around their least-squares line (at least MIN_SPREAD x the level). Additive
    effects (a promotion adding so many units, a holiday bump) keep the same scaled size
    while a trend lifts the level, which a ratio to the level would shrink year by year.
    Where that window holds fewer than MIN_LEVEL_VALUES non-zero observations (just after a
    gap or a long closure) the row falls back to "level": its mean and spread describe the
    closure, and the first sales after it would be scaled to 50-150 (measured on the store
    panel of the tests) and dominate the squared loss.
    """
    level = series_level(ext, windows, origins, layout.scale_window)
    if layout.scaling == "level":
        return np.zeros(len(origins)), level
    start = ext.starts[ext.series_of(origins)]
    lo = np.maximum(start, origins - layout.windows[-1])
    mean, _, _ = windows.stats(lo, origins)
    _, spread = windows.line(lo, origins, origins.astype(np.float64))
    _, present = windows.nonzero_level(lo, origins)
    degenerate = (present < MIN_LEVEL_VALUES) | ~np.isfinite(mean) | ~np.isfinite(spread)
    location = np.where(degenerate, 0.0, mean)
    scale = np.where(degenerate, level, np.maximum(np.nan_to_num(spread), MIN_SPREAD * level))
    return location, scale


def feature_rows(
    ext: Extended,
    calendar: pd.DataFrame,
    layout: FeatureLayout,
    origins: np.ndarray,
    steps: np.ndarray,
    windows: Windows | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features of the rows (origin, step), and each row's location and scale.

    `origins` are absolute positions in `ext` (the first position not used as history), `steps`
    are 1-based; the target sits at `origins + steps - 1`.
    """
    windows = windows or Windows(ext.values, ext.indptr)
    series = ext.series_of(origins)
    start = ext.starts[series]
    target = origins + steps - 1
    location, scale = origin_norm(ext, windows, origins, layout)
    columns: dict[str, np.ndarray] = {"step": steps.astype(np.float32)}

    def before(position: np.ndarray) -> np.ndarray:
        """Values at `position` (scaled), NaN where it lies before the series' start."""
        valid = position >= start
        return (np.where(valid, ext.values[np.where(valid, position, 0)], np.nan) - location) / scale

    for lag in layout.lags:
        columns[f"lag_{lag}"] = before(origins - lag)
    for period in layout.phase_periods:
        back = period * np.ceil(steps / period).astype(np.int64)
        for k in range(2):
            columns[f"phase_{period}_{k}"] = before(target - back - k * period)
    for width in layout.windows:
        mean, spread, _ = windows.stats(np.maximum(start, origins - width), origins)
        previous, _, _ = windows.stats(
            np.maximum(start, origins - 2 * width), np.maximum(start, origins - width)
        )
        columns[f"mean_{width}"] = (mean - location) / scale
        columns[f"std_{width}"] = spread / scale
        columns[f"mean_prev_{width}"] = (previous - location) / scale
    columns["trend"] = (trend_line(ext, windows, layout, origins, target) - location) / scale
    for column in layout.known:
        values = ext.covariates[column]
        columns[f"kc_{column}"] = values[target]
        if column in layout.indicators:
            columns.update(_indicator_columns(ext, column, layout, origins, target, steps, start))
    for column in layout.past:
        values = ext.covariates[column]
        last = origins - 1
        columns[f"pc_{column}_last"] = np.where(last >= start, values[np.maximum(last, 0)], np.nan)
        mean, _, _ = Windows(values, ext.indptr).stats(
            np.maximum(start, origins - layout.windows[0]), origins
        )
        columns[f"pc_{column}_mean"] = mean
    for column in layout.static:
        columns[f"st_{column}"] = ext.static[column][series]
    frame = pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in columns.items()})
    if len(calendar.columns):
        frame = pd.concat([frame, calendar.iloc[target].reset_index(drop=True)], axis=1)
    return frame, location, scale


def trend_line(
    ext: Extended, windows: Windows, layout: FeatureLayout, origins: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """The least-squares line through the last `layout.trend_window` values, at the target.

    A tree predicts piecewise constants and cannot continue a trend on its own; this column
    (and, with `detrend`, the target taken relative to it) hands it the continuation. The
    window is a whole number of seasons, so the cycle does not tilt the line. Where the line
    is undefined (too little history) it is the window's mean.
    """
    start = ext.starts[ext.series_of(origins)]
    lo = np.maximum(start, origins - layout.trend_window)
    line, _ = windows.line(lo, origins, target.astype(np.float64))
    mean, _, _ = windows.stats(lo, origins)
    return np.where(np.isfinite(line), line, mean)


def _indicator_columns(
    ext: Extended,
    column: str,
    layout: FeatureLayout,
    origins: np.ndarray,
    target: np.ndarray,
    steps: np.ndarray,
    start: np.ndarray,
) -> dict[str, np.ndarray]:
    """Event distances at the target, the flag at the first phase lag, its share before the origin."""
    values = ext.covariates[column]
    # Training rows see events past their own horizon (the forecast cannot), on purpose:
    # capping those at EVENT_CAP, to mimic the forecast, measured worse on the demo hold-out
    # (wQL 0.0077 / 0.0072 against 0.0054 / 0.0041 for seeds 0 / 1).
    to_next, since = event_distances(values, ext.indptr, EVENT_CAP)
    out = {f"kc_{column}_to_next": to_next[target], f"kc_{column}_since": since[target]}
    if layout.phase_periods:
        period = layout.phase_periods[0]
        back = target - period * np.ceil(steps / period).astype(np.int64)
        out[f"kc_{column}_phase"] = np.where(back >= start, values[np.maximum(back, 0)], np.nan)
    share, _, _ = Windows(values, ext.indptr).stats(np.maximum(start, origins - layout.scale_window), origins)
    out[f"kc_{column}_share"] = share
    if column in layout.shared:
        out[f"kc_{column}_lift"] = flag_lift(ext.values, values, start, origins, ext.indptr)
    return out


# A flag's lift needs this many observed days with it set, and as many without.
MIN_LIFT_DAYS = 3


def flag_lift(
    values: np.ndarray,
    flags: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    indptr: np.ndarray | None = None,
) -> np.ndarray:
    """Per row, its series' mean value on the days `flags` is set over its mean on the other
    days, over positions [start, end) (NaN with fewer than `MIN_LIFT_DAYS` of either).

    A public holiday empties one store and fills another; the trees see the flag at the
    target and the level before the origin, and this ratio tells them how this series has
    answered to it so far. Only history before the origin is read, as the forecast will.
    Only flags that every series shares on a date get it (`shared_flags`): there each
    series' ratio is taken over the same days. An item's own flags (promotions) mix the flag
    with what comes with it (a price cut, a season) and measured worse: whole AutoML,
    dominicks_oj origins 0 / 1 0.3058 / 0.2136 -> 0.3372 / 0.2299, pasta_promo's three
    0.3743 / 0.3674 / 0.4221 -> 0.3750 / 0.3739 / 0.4241. Shared flags only: Favorita's four
    origins 0.0263 / 0.0239 / 0.0217 / 0.0265 -> 0.0257 / 0.0239 / 0.0219 / 0.0256, pasta_promo
    0.3755 / 0.3657 / 0.4238, dominicks_oj unchanged (`benchmarks/lightgbm_history.md`).
    """
    known = np.isfinite(flags)  # an unknown flag's day falls in neither
    on = Windows(np.where(known & (flags != 0), values, np.nan), indptr)
    off = Windows(np.where(flags == 0, values, np.nan), indptr)
    mean_on, _, _ = on.stats(start, end)
    mean_off, _, _ = off.stats(start, end)
    enough = (on.count[end] - on.count[start] >= MIN_LIFT_DAYS) & (
        off.count[end] - off.count[start] >= MIN_LIFT_DAYS
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = mean_on / mean_off
    return np.where(enough & np.isfinite(ratio), ratio, np.nan)
