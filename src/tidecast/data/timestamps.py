"""Timestamps from text: one format for the whole column, or an error that says why not.

Parsing each cell on its own (pandas' ``format="mixed"``) reads ``02/01/2023`` as 1 February
and ``13/01/2023`` as 13 January in the same column: the series is silently scrambled and the
run still "works". So a column is read with a single format:

* the user's ``date_format`` (strftime codes, e.g. ``%d/%m/%Y``) when given;
* else, when the values look like ``dd/mm/yyyy`` or ``mm/dd/yyyy`` (either separator ``/ . -``),
  both readings are tried on every distinct value: exactly one that reads them all wins; if
  both read them all and disagree (no day above 12 anywhere), the column is ambiguous and the
  error names both readings of an example; if neither reads them all, the rows that break the
  reading most rows fit (either of the two, or the format of the first other value, such as
  ISO dates after one export's 14/06/1990) are named;
* else, when every value is an ISO week (``2024-W05``, ``2024W05``, ``2024-W05-3`` with its
  weekday), each is that week's Monday (or the given weekday): weekly planning exports write
  weeks so, and pandas reads none of them without a weekday (``%G-W%V`` needs ``%u``); a week 53
  of a year of 52 weeks is named, not moved into the next year;
* else pandas infers one format from the values (ISO 8601 with or without time, ``20210101``
  ...), then ISO 8601 in its flexible form (dates mixed with date-times, UTC offsets); the
  rows that fit neither are named.

Work is on the distinct values, so a million rows of a thousand days cost a thousand parses.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from tidecast.wording import counted, plural

# Day and month as one or two digits, then a 2- or 4-digit year, optionally a time after it.
_NUMERIC_DATE = re.compile(r"^\s*\d{1,2}([/.\-])\d{1,2}\1\d{2,4}(?:[ T].*)?$")
# An ISO week: year, W, week number, optionally the ISO weekday (1 = Monday).
_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})(?:-?([1-7]))?$", re.IGNORECASE)


class TimestampFormatError(ValueError):
    """The column cannot be read with one format; `positions` are offending rows (may be empty)."""

    def __init__(self, message: str, positions: np.ndarray) -> None:
        super().__init__(message)
        self.positions = positions


@dataclass(frozen=True)
class _Reading:
    fmt: str
    parsed: pd.DatetimeIndex  # one per distinct value, NaT where the format does not fit

    @property
    def fits_all(self) -> bool:
        return not self.parsed.isna().any()


def parse_timestamp_text(text: pd.Series, date_format: str | None = None) -> pd.Series:
    """Parse a column of text timestamps with one format (see the module docstring).

    Returns datetimes (time-zone aware when the text carried UTC offsets). Raises
    TimestampFormatError naming the problem and the rows to look at.
    """
    strings = text.astype("string").str.strip()
    uniques, codes = _distinct(strings)
    if date_format is not None:
        reading = _read(uniques, date_format)
        if not reading.fits_all:
            raise TimestampFormatError(
                f"values that do not match the date format {date_format!r}",
                _rows(codes, reading.parsed.isna()),
            )
        return _expand(reading.parsed, codes, text.index)
    if len(uniques) and all(_NUMERIC_DATE.match(u) for u in uniques[: min(len(uniques), 50)]):
        return _expand(_day_or_month_first(uniques, codes), codes, text.index)
    weeks = [_ISO_WEEK.match(u) for u in uniques] if len(uniques) and _ISO_WEEK.match(uniques[0]) else []
    if weeks and all(weeks):
        return _expand(_iso_weeks([w for w in weeks if w], codes), codes, text.index)
    return _expand(_inferred(uniques, codes), codes, text.index)


def _iso_weeks(weeks: list[re.Match[str]], codes: np.ndarray) -> pd.DatetimeIndex:
    """The dates of ISO weeks (their Mondays, or the weekday given); a week the year does not
    have (53 in a 52-week year, 0) is an error rather than a day of another year."""
    year = np.array([int(w[1]) for w in weeks])
    week = np.array([int(w[2]) for w in weeks])
    text = [f"{y}-W{n:02d}-{w[3] or 1}" for y, n, w in zip(year, week, weeks, strict=True)]
    parsed = pd.DatetimeIndex(pd.to_datetime(text, format="%G-W%V-%u", errors="coerce"))
    calendar = parsed.isocalendar()
    bad = np.flatnonzero(
        parsed.isna() | (calendar["year"].to_numpy() != year) | (calendar["week"].to_numpy() != week)
    )
    if len(bad):
        raise TimestampFormatError(
            f"ISO weeks that their years do not have, such as {weeks[bad[0]][0]!r}",
            _rows(codes, np.isin(np.arange(len(weeks)), bad)),
        )
    return parsed


def _distinct(strings: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(strings, use_na_sentinel=True)
    return np.asarray(uniques, dtype=object).astype(str), codes


def _read(uniques: np.ndarray, fmt: str) -> _Reading:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(pd.Index(uniques), format=fmt, errors="coerce")
    return _Reading(fmt, pd.DatetimeIndex(parsed))


def _day_or_month_first(uniques: np.ndarray, codes: np.ndarray) -> pd.DatetimeIndex:
    example = str(uniques[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        day_first = guess_datetime_format(example, dayfirst=True) or _plain_format(example)
    # The other reading swaps day and month, whatever the example itself allows.
    formats = (
        []
        if day_first is None
        else [day_first, day_first.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")]
    )
    readings = [_read(uniques, f) for f in formats]
    fitting = [r for r in readings if r.fits_all]
    if len(fitting) == 1:
        return fitting[0].parsed
    if len(fitting) == 2:
        a, b = fitting
        differ = np.flatnonzero(a.parsed != b.parsed)
        if len(differ) == 0:
            return a.parsed
        sample = str(uniques[differ[0]])
        raise TimestampFormatError(
            f"ambiguous dates: {sample!r} reads as {a.parsed[differ[0]].date()} with {a.fmt!r} "
            f"and as {b.parsed[differ[0]].date()} with {b.fmt!r}, and every value fits both; "
            "give the date format (date_format / --date-format) to choose",
            np.flatnonzero(codes == differ[0])[:1],
        )
    if not readings:
        raise TimestampFormatError(f"values that are not timestamps, such as {example!r}", np.array([0]))
    # Only the first values were day/month dates: the rest may hold another format (ISO dates
    # after one export's 14/06/1990), which the majority is then read in.
    other = next((str(u) for u in uniques if not _NUMERIC_DATE.match(u)), None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guessed = None if other is None else guess_datetime_format(other)
    if guessed is not None:
        readings.append(_read(uniques, guessed))
    rows = np.bincount(codes[codes >= 0], minlength=len(uniques))
    best = max(readings, key=lambda r: int(rows[np.asarray(r.parsed.notna())].sum()))
    broken = np.asarray(best.parsed.isna())
    raise TimestampFormatError(
        f"mixed date formats: {counted(int(rows[broken].sum()), 'row')} "
        f"({counted(int(broken.sum()), 'distinct value')}) {plural(int(rows[broken].sum()), 'does', 'do')} "
        f"not match {best.fmt!r}, the format most rows have; give the date format (date_format / "
        "--date-format) or fix them",
        _rows(codes, broken),
    )


def _plain_format(example: str) -> str | None:
    """`%d/%m/%y`-style format of a date without time that pandas could not guess (`01.02.23`)."""
    match = re.fullmatch(r"\s*\d{1,2}([/.\-])\d{1,2}\1(\d{2}|\d{4})\s*", example)
    if match is None:
        return None
    sep, year = match.group(1), "%Y" if len(match.group(2)) == 4 else "%y"
    return f"%d{sep}%m{sep}{year}"


def _inferred(uniques: np.ndarray, codes: np.ndarray) -> pd.DatetimeIndex | pd.Series:
    index = pd.Index(uniques)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # one format guessed from the values and applied to all of them
            return pd.DatetimeIndex(pd.to_datetime(index))
        except (ValueError, TypeError, OverflowError):
            pass
        try:  # ISO 8601, with or without a time of day
            return pd.DatetimeIndex(pd.to_datetime(index, format="ISO8601"))
        except (ValueError, TypeError, OverflowError):
            pass
        # Several UTC offsets in one column: ISO 8601 read as UTC.
        parsed = pd.Series(pd.to_datetime(index, format="ISO8601", errors="coerce", utc=True))
    if parsed.isna().any():
        rows = _rows(codes, parsed.isna().to_numpy())
        example = str(uniques[parsed.isna().to_numpy()][0])
        said = plural(len(rows), "is not a timestamp", "are not timestamps")
        raise TimestampFormatError(f"{counted(len(rows), 'value')} that {said}, such as {example!r}", rows)
    return parsed


def _rows(codes: np.ndarray, bad_uniques: np.ndarray | pd.Series) -> np.ndarray:
    bad = np.flatnonzero(np.asarray(bad_uniques, dtype=bool))
    return np.flatnonzero(np.isin(codes, bad))


def _expand(parsed: pd.DatetimeIndex | pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """The distinct values' datetimes back on the column's rows."""
    series = pd.Series(parsed).reset_index(drop=True)
    return series.iloc[np.maximum(codes, 0)].set_axis(index).mask(codes < 0)


def without_time_zone(values: pd.Series) -> tuple[pd.Series, str]:
    """Time-zone-aware timestamps as naive ones, and how: the local dates where every value
    is a local midnight, else UTC.

    A daily file written in local time (a Parquet of Europe/Berlin midnights) holds the day
    each sale happened; in UTC those midnights become 23:00 or 22:00 of the day before as
    daylight saving time starts and ends, and the days fall off the daily grid. Timestamps
    within the day keep their instant in UTC, where no hour is missing or repeated.
    """
    local = values.dt.tz_localize(None)
    present = local.dropna()
    if len(present) and (present == present.dt.normalize()).all():
        return local, "the local dates kept and the time zone dropped (every value a local midnight)"
    return values.dt.tz_convert("UTC").dt.tz_localize(None), "converted to UTC and the time zone dropped"
