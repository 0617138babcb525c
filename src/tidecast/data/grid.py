"""Time grids: timestamps <-> integer step numbers, so gaps, grids and buckets are integer maths.

A `TimeGrid` numbers the steps of one frequency ("ordinals"): step k and k+1 are neighbours.
With ordinals, a regular grid is `np.arange` per series, a bucket for aggregation is a floor,
and "is this timestamp on the grid" is one comparison, all vectorised over the whole panel.
Fixed-width frequencies (D, h, 15min...) are plain division; calendar ones (weeks, months,
quarters, years) go through pandas periods once per panel; business days through numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.errors import DataError

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NS = 86_400 * 10**9
_BUSINESS_REFERENCE = np.datetime64("1970-01-05", "D")  # a Monday: business day number 0


@dataclass(frozen=True)
class TimeGrid:
    """The grid of one frequency; bucket k covers [label(k), label(k + 1)).

    `kind` is "fixed" (`step` nanoseconds from `phase`), "period" (pandas period alias `period`,
    labelled at the period's start or, for ME/QE/YE/W-xxx, its end date, as pandas does) or
    "business" (numpy business days). For multiples such as "2MS" the base ordinals are grouped
    by `n` from `phase`.
    """

    freq: str
    kind: str
    step: int = 0
    phase: int = 0
    n: int = 1
    period: str = ""
    label_end: bool = False

    def ordinals(self, timestamps: np.ndarray) -> np.ndarray:
        """The bucket number of each timestamp (the floor onto this grid)."""
        ns = np.asarray(timestamps).astype("datetime64[ns]").view(np.int64)
        if self.kind == "fixed":
            return (ns - self.phase) // self.step
        if self.kind == "business":
            days = ns.view("datetime64[ns]").astype("datetime64[D]")
            base = np.busday_count(_BUSINESS_REFERENCE, days) - ~np.is_busday(days)
        else:
            base = pd.DatetimeIndex(ns.view("datetime64[ns]")).to_period(self.period).asi8
        return (base - self.phase) // self.n if self.n > 1 else base

    def labels(self, ordinals: np.ndarray) -> np.ndarray:
        """The timestamp (datetime64[ns]) that names each bucket."""
        ordinals = np.asarray(ordinals, dtype=np.int64)
        if self.kind == "fixed":
            return (ordinals * self.step + self.phase).view("datetime64[ns]")
        if len(ordinals) == 0:
            return np.empty(0, dtype="datetime64[ns]")
        base = ordinals * self.n + self.phase
        low, high = int(base.min()), int(base.max())
        span = np.arange(low, high + 1)
        if self.kind == "business":
            table = np.busday_offset(_BUSINESS_REFERENCE, span).astype("datetime64[ns]")
        else:
            stamps = pd.PeriodIndex.from_ordinals(span, freq=self.period).to_timestamp(
                how="end" if self.label_end else "start"
            )
            table = stamps.normalize().to_numpy(dtype="datetime64[ns]")
        return table[base - low]

    def aligned(self, timestamps: np.ndarray) -> np.ndarray:
        """True where a timestamp is exactly the label of its bucket (it lies on the grid)."""
        timestamps = np.asarray(timestamps).astype("datetime64[ns]")
        return self.labels(self.ordinals(timestamps)) == timestamps


def make_grid(freq: str, anchors: np.ndarray | None = None) -> TimeGrid:
    """The grid of `freq`; with `anchors`, fixed grids take the phase most anchors share.

    Data recorded daily at 09:00 keeps its 09:00 timestamps on its own grid (anchors = the first
    timestamp of each series). Without anchors the grid starts at the epoch or the calendar,
    which is what aggregation wants: days from midnight, hours on the hour, calendar weeks.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    name = type(offset).__name__
    grid: TimeGrid
    if isinstance(offset, pd.offsets.Tick):
        grid = TimeGrid(freq, "fixed", step=int(offset.nanos))
    elif name == "Week" and offset.weekday is None:
        grid = TimeGrid(freq, "fixed", step=7 * _DAY_NS * offset.n)
    elif name == "Week":
        grid = TimeGrid(freq, "period", n=offset.n, period=offset.rule_code, label_end=True)
    elif name in ("MonthBegin", "MonthEnd"):
        grid = TimeGrid(freq, "period", n=offset.n, period="M", label_end=name == "MonthEnd")
    elif name in ("QuarterBegin", "YearBegin", "QuarterEnd", "YearEnd"):
        month = offset.startingMonth if name.startswith("Quarter") else offset.month
        end_month = _MONTHS[(month - 2) % 12] if name.endswith("Begin") else _MONTHS[month - 1]
        period = ("Q-" if name.startswith("Quarter") else "Y-") + end_month
        grid = TimeGrid(freq, "period", n=offset.n, period=period, label_end=name.endswith("End"))
    elif name == "BusinessDay":
        grid = TimeGrid(freq, "business", n=offset.n)
    else:
        raise DataError(
            f"frequency {freq!r} is not supported: use minutes, hours, days (D, nD), business days (B), "
            "weeks (W-SUN...), months (MS, ME), quarters (QS, QE) or years (YS, YE)"
        )
    if anchors is None or len(anchors) == 0 or (grid.kind != "fixed" and grid.n == 1):
        return grid
    if grid.kind == "fixed":
        residues = np.asarray(anchors).astype("datetime64[ns]").view(np.int64) % grid.step
        return TimeGrid(freq, "fixed", step=grid.step, phase=_mode(residues))
    base = TimeGrid(freq, grid.kind, period=grid.period, label_end=grid.label_end).ordinals(anchors)
    return TimeGrid(
        freq, grid.kind, n=grid.n, period=grid.period, label_end=grid.label_end, phase=_mode(base % grid.n)
    )


def nominal_ns(freq: str) -> float:
    """The typical length of one step, to tell a coarser frequency from a finer one."""
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return float(offset.nanos)
    days = {
        "Week": 7.0,
        "MonthBegin": 30.44,
        "MonthEnd": 30.44,
        "QuarterBegin": 91.31,
        "QuarterEnd": 91.31,
        "YearBegin": 365.25,
        "YearEnd": 365.25,
        "BusinessDay": 1.4,
    }.get(type(offset).__name__, 1.0)
    return days * _DAY_NS * offset.n


def full_grid(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ordinal from `first[i]` to `last[i]` for each series, and the series boundaries.

    One `np.repeat` and one `np.arange` over the whole panel: no loop over series.
    """
    lengths = np.asarray(last, dtype=np.int64) - np.asarray(first, dtype=np.int64) + 1
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ordinals = np.arange(indptr[-1], dtype=np.int64) - np.repeat(indptr[:-1] - first, lengths)
    return ordinals, indptr


def reduce_groups(values: np.ndarray, starts: np.ndarray, how: str) -> np.ndarray:
    """Aggregate contiguous groups that begin at `starts`, skipping missing values.

    `how` is SageMaker's vocabulary: sum, avg, first, min, max. A group with no observed value
    stays missing (NaN), whatever `how` is: a bucket with no data is not a bucket of zeros.
    """
    if values.dtype.kind != "f":
        if how != "first":
            raise DataError(f"only 'first' can aggregate a non-numeric column, not {how!r}")
        return values[_first_valid(~pd.isna(values), starts)]
    valid = ~np.isnan(values)
    count = np.add.reduceat(valid, starts)
    if how == "first":
        result = values[_first_valid(valid, starts)]
    elif how in ("sum", "avg"):
        result = np.add.reduceat(np.where(valid, values, 0.0), starts)
        if how == "avg":
            result = result / np.maximum(count, 1)
    elif how == "min":
        result = np.minimum.reduceat(np.where(valid, values, np.inf), starts)
    elif how == "max":
        result = np.maximum.reduceat(np.where(valid, values, -np.inf), starts)
    else:
        raise DataError(f"unknown aggregation {how!r}: use sum, avg, first, min or max")
    return np.where(count > 0, result, np.nan)


def _first_valid(valid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of the first valid entry of each group (the group's start if none is valid)."""
    positions = np.where(valid, np.arange(len(valid)), len(valid))
    first = np.minimum.reduceat(positions, starts)
    return np.where(first < len(valid), first, starts)


def _mode(values: np.ndarray) -> int:
    uniques, counts = np.unique(values, return_counts=True)
    return int(uniques[np.argmax(counts)])
