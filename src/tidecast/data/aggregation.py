"""Aggregation to a coarser frequency: how each column combines, and the buckets' edges.

Aggregation uses SageMaker's vocabulary (sum, avg, first, min, max). Defaults: the target is
summed (units sold per week); numeric covariates are averaged (a weekly price or temperature is
the mean of the days, and a 0/1 promotion flag becomes the share of days on promotion, where a
sum would grow with the bucket's length); text covariates and static columns keep the first
value.

A summed bucket is only a period's demand when the data covers the whole period. The data's
last days rarely end one: a daily export run on a Tuesday ends inside its week, a quarter's
data ends with the last month loaded. Summed as it stands, that last bucket reads as a slump
(two days of a week, 30 of a quarter's 92), it is the observation every model leans on most,
and every forecast came out low without a word. So, where the target is summed, the panel's
last bucket is left out when the data's last step does not complete its period (`cut_tail`):
that period becomes the first step forecast, as `tidecast horizons` already did for its
coarser frequencies. The calendar is checked against the rows: the bucket is cut only where
most series hold fewer rows there than in their usual bucket, since a panel without rows on
closed days (visits ending on a Saturday, weeks ending Sunday) ends a whole week early by the
calendar alone. A series with nothing before that bucket keeps it (leaving it out would
leave the series out). Other edge buckets that hold far fewer rows than usual (a series that
starts or ends inside a period) are kept and named (`partial_buckets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.data.arrays import series_indptr
from tidecast.data.grid import TimeGrid, reduce_groups
from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import TARGET
from tidecast.errors import ConfigError
from tidecast.wording import counted, plural

if TYPE_CHECKING:
    from tidecast.data.prepare import _Arrays

AGGREGATIONS = ("sum", "avg", "first", "min", "max")


def resolve_aggregations(
    options: Mapping[str, str] | None, numeric: Mapping[str, bool], static: Sequence[str]
) -> dict[str, str]:
    """Each column's aggregation: the defaults, then `options` (checked)."""
    how = {c: "sum" if c == TARGET else "avg" if is_num else "first" for c, is_num in numeric.items()}
    how.update({c: "first" for c in static})  # one value per series: any row's will do
    for column, method in (options or {}).items():
        if column not in how:
            raise ConfigError(f"aggregation given for unknown column {column!r}; columns: {list(how)}")
        if method not in AGGREGATIONS:
            raise ConfigError(f"unknown aggregation {method!r} for {column!r}: use {', '.join(AGGREGATIONS)}")
        if method != "first" and (column in static or not numeric[column]):
            raise ConfigError(
                f"{column!r} is not a numeric time series: it can only be aggregated by 'first'"
            )
        how[column] = method
    return how


def aggregate(
    data: _Arrays,
    timestamps: np.ndarray,
    grid: TimeGrid,
    how: Mapping[str, str],
    static: Sequence[str],
    source: str | None,
    freq: str,
) -> list[Problem]:
    """Combine the rows that fall into the same (series, bucket) of `grid` (`data.ordinals`);
    the groups are contiguous. `timestamps` are the rows' own, at the `source` frequency."""
    rows = len(data.series)
    notes = []
    if how.get(TARGET) == "sum":
        cut = cut_tail(data, timestamps, grid, source, freq)
        if cut is not None:
            notes.append(cut)
    starts, sizes = _buckets(data)
    data.columns = {
        c: v[starts] if c in static else reduce_groups(v, starts, how[c]) for c, v in data.columns.items()
    }
    data.series, data.ordinals = data.series[starts], data.ordinals[starts]
    notes.insert(
        0,
        Problem(
            "aggregated",
            f"{counted(rows, 'row')} at frequency {source or 'unknown'} became "
            f"{counted(len(starts), 'row')} at {freq}",
            count=rows,
            handled=", ".join(f"{c} by {m}" for c, m in how.items()),
        ),
    )
    # A series that starts or ends inside a bucket gets a partial first or last bucket, whose
    # sum understates the period; flag edge buckets with far fewer rows than a typical bucket.
    edges = series_indptr(data.series)[:-1]
    edges = np.union1d(edges, np.append(edges[1:], len(sizes)) - 1)
    partial = edges[sizes[edges] < 0.75 * np.median(sizes)]
    if len(partial):
        notes.append(
            Problem(
                "partial_buckets",
                f"{len(partial)} first or last buckets of their series hold only part of a {freq} period",
                count=len(partial),
                items=sample_items(data.names[data.series[partial]]),
                handled="kept; trim the data to whole periods if their sums look too low",
            )
        )
    return notes


def cut_tail(
    data: _Arrays, timestamps: np.ndarray, grid: TimeGrid, source: str | None, freq: str
) -> Problem | None:
    """Leave out the rows of the panel's last bucket when the data's last step does not
    complete its period (the module docstring); the note saying so, or None."""
    if source is None or len(timestamps) == 0:
        return None
    last = pd.Timestamp(timestamps.max())
    try:
        following = last + pd.tseries.frequencies.to_offset(source)
    except (ValueError, TypeError):
        return None
    bucket = int(grid.ordinals(np.array([last.to_datetime64()], dtype="datetime64[ns]"))[0])
    following_bucket = int(grid.ordinals(np.array([following.to_datetime64()], dtype="datetime64[ns]"))[0])
    if following_bucket != bucket:
        return None  # the data ends with its period
    if not _short_by_count(data, bucket):
        return None  # the calendar's missing days are ones the series never have (closed Sundays)
    starts = series_indptr(data.series)[:-1]
    earlier = np.zeros(len(data.names), dtype=bool)  # by series: it has a bucket before the last
    earlier[data.series[starts]] = data.ordinals[starts] < bucket
    drop = (data.ordinals == bucket) & earlier[data.series]
    if not drop.any():
        return None
    series = np.unique(data.series[drop])
    period = grid.labels(np.array([bucket]))[0]
    steps = len(np.unique(timestamps[data.ordinals == bucket]))
    keep = ~drop
    data.series, data.ordinals = data.series[keep], data.ordinals[keep]
    data.columns = {c: v[keep] for c, v in data.columns.items()}
    return Problem(
        "partial_period",
        f"the data ends on {last:%Y-%m-%d}, {steps} {source} {plural(steps, 'step')} into the {freq} "
        f"period of {pd.Timestamp(period):%Y-%m-%d}: its {counted(int(drop.sum()), 'row')} of "
        f"{counted(len(series), 'series')} {plural(int(drop.sum()), 'is')} left out rather than summed "
        "as a whole period, and that period is the first one forecast",
        count=int(drop.sum()),
        items=sample_items(data.names[series]),
        handled="left out; the forecast starts with that period (a future must cover it)",
    )


def _short_by_count(data: _Arrays, bucket: int) -> bool:
    """Whether most series in the last `bucket` hold fewer rows there than in their usual one.

    The calendar alone misreads a panel without rows on closed days: daily visits ending on a
    Saturday, summed to weeks ending Sunday, end inside their week by the calendar, yet the
    week holds its usual six days. A series' usual bucket is the median row count of its
    earlier buckets; a last bucket is short below it.
    """
    starts, sizes = _buckets(data)
    series, ordinals = data.series[starts], data.ordinals[starts]
    before = ordinals < bucket
    usual = pd.Series(sizes[before]).groupby(series[before]).median()
    last = ordinals == bucket
    typical = usual.reindex(series[last]).to_numpy()
    known = ~np.isnan(typical)
    if not known.any():
        return True  # nothing earlier to compare with: the calendar decides
    return bool(np.mean(sizes[last][known] < typical[known]) >= 0.5)


def _buckets(data: _Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Where each (series, bucket) group of rows starts, and its row count (rows are sorted)."""
    new = np.r_[True, (data.series[1:] != data.series[:-1]) | (data.ordinals[1:] != data.ordinals[:-1])]
    starts = np.flatnonzero(new)
    return starts, np.diff(np.append(starts, len(new)))
