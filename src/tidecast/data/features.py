"""Features every covariate-aware model shares: the calendar, holidays, cycles and event distances.

One place computes them so a global tree model, a neural net and a per-series regression see
the same columns for the same timestamp. Every function here is a pure function of the
timestamps and the dataset's description (`DatasetSpec`): a history row and a horizon row
with the same date get the same values, and the set of columns never depends on which
timestamps were asked for, so a model fitted on the history finds its columns in the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.calendar import as_datetime64, calendar_features, fourier_terms
from tidecast.data.holidays import HolidayCalendar, holiday_features
from tidecast.data.schema import DatasetSpec

# Distances to the nearest event are capped: beyond this many steps an event no longer moves
# demand in any data we know of, and a bounded column keeps trees and nets well behaved.
EVENT_CAP = 30


def spec_calendar(spec: DatasetSpec, start: object, end: object) -> HolidayCalendar | None:
    """The holidays of `spec` (countries and the user's events) for the years around start..end.

    The countries' calendars cover a year either side of the span, so a date's features do not
    depend on the span asked for (December 31 sees the next New Year's Day). None when the
    spec names no holidays at all.
    """
    if not spec.holidays and not spec.events:
        return None
    first, last = (int(pd.Timestamp(as_datetime64([s])[0]).year) for s in (start, end))
    parts = []
    if spec.holidays:
        parts.append(HolidayCalendar.from_countries(list(spec.holidays), range(first - 1, last + 2)))
    if spec.events:
        dates, names = zip(*spec.events, strict=True)
        parts.append(HolidayCalendar.from_events(pd.DataFrame({"date": dates, "name": names})))
    return HolidayCalendar.merge(*parts)


def events_from_calendar(calendar: HolidayCalendar) -> tuple[tuple[str, str], ...]:
    """A user's events calendar as the (ISO date, name) pairs `DatasetSpec.events` stores."""
    return tuple((d.isoformat(), n) for d, n in zip(calendar.dates, calendar.names, strict=True))


def time_features(
    timestamps: object,
    spec: DatasetSpec,
    periods: Sequence[float] = (),
    fourier_order: int = 3,
    calendar: HolidayCalendar | None = None,
) -> pd.DataFrame:
    """Calendar columns, holiday columns (when the spec has holidays) and Fourier terms.

    `periods` are seasonal periods in steps (the frequency's own, or ones `detect_periods`
    found in the data); each gets `fourier_order` sine/cosine pairs on the absolute step clock.
    Pass `calendar` (from `spec_calendar` over the whole span) when calling this repeatedly,
    so the holidays package is asked once.
    """
    stamps = as_datetime64(timestamps)
    parts = [calendar_features(stamps, spec.freq)]
    if calendar is None and len(stamps) and (spec.holidays or spec.events):
        calendar = spec_calendar(spec, stamps.min(), stamps.max())
    if calendar is not None:
        parts.append(holiday_features(stamps, calendar))
    usable = [float(p) for p in periods if p > 1]
    if usable:
        parts.append(fourier_terms(stamps, usable, fourier_order, spec.freq))
    frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    return frame.astype(np.float32)


def event_distances(
    values: np.ndarray, indptr: np.ndarray, cap: int = EVENT_CAP
) -> tuple[np.ndarray, np.ndarray]:
    """Steps to the next and since the previous nonzero value, within each series, capped.

    For an indicator covariate known in advance (a promotion, a store's own holiday flag) the
    distance to the nearest event is what describes the days around it: shoppers wait for a
    sale and stock up before a holiday. `values` runs over history and horizon together, so
    the horizon's rows see the events planned in it. Missing values count as no event; where
    a series has no event on that side the distance is `cap`.
    """
    values = np.asarray(values)
    n = len(values)
    hit = np.zeros(n, dtype=bool)
    if n:
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
        hit = np.nan_to_num(numeric, nan=0.0) != 0
    position = np.arange(n, dtype=np.int64)
    series = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    big = np.int64(1) << 40
    # The last event at or before each row (its position), restarted at each series' start.
    last = np.where(hit, position, -big)
    last = np.maximum.accumulate(last) if n else last
    starts = indptr[:-1][series] if n else position
    since = np.where(last >= starts, position - last, cap)
    # The next event at or after each row, by the same scan on the reversed arrays.
    nxt = np.where(hit, position, big)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1] if n else nxt
    ends = indptr[1:][series] if n else position
    to_next = np.where(nxt < ends, nxt - position, cap)
    return np.minimum(to_next, cap).astype(np.float32), np.minimum(since, cap).astype(np.float32)
