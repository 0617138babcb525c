"""Frequencies: inference from timestamps, seasonal periods, and the timestamps after a series.

One place for everything that depends on the pandas offset alias of a panel.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted

# Seasonal periods each frequency implies, most important first. Daily data has a weekly and a
# yearly cycle, hourly a daily and a weekly one; sub-hourly periods are derived from the step.
_PERIODS: dict[str, tuple[int, ...]] = {
    "D": (7, 365),
    "B": (5, 260),
    "h": (24, 168),
    "W": (52,),
    "M": (12,),
    "MS": (12,),
    "ME": (12,),
    "Q": (4,),
    "QS": (4,),
    "QE": (4,),
    "Y": (1,),
    "YS": (1,),
    "YE": (1,),
    "A": (1,),
    "AS": (1,),
}


def base_alias(freq: str) -> tuple[int, str]:
    """Split "15min" into (15, "min") and "W-SUN" into (1, "W"); normalises "H" to "h"."""
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.name.split("-")[0]
    name = {"H": "h", "T": "min", "S": "s", "A": "Y", "AS": "YS"}.get(name, name)
    return int(offset.n), name


def seasonal_periods(freq: str) -> tuple[int, ...]:
    """Every seasonal period the frequency implies (e.g. (7, 365) for daily), or (1,) if none."""
    n, name = base_alias(freq)
    if name in ("min", "s"):
        seconds = n * (60 if name == "min" else 1)
        day = 86_400 // seconds if 86_400 % seconds == 0 else 0
        periods = tuple(p for p in (3_600 // seconds if 3_600 % seconds == 0 else 0, day, 7 * day) if p > 1)
        return periods or (1,)
    if name == "h" and n > 1:
        return tuple(
            p for p in (24 // n if 24 % n == 0 else 0, 168 // n if 168 % n == 0 else 0) if p > 1
        ) or (1,)
    periods = _PERIODS.get(name, (1,))
    if n > 1:
        periods = tuple(p // n for p in periods if p % n == 0 and p // n > 1) or (1,)
    return periods


def season_length(freq: str) -> int:
    """The main seasonal period (MASE's scale, SeasonalNaive's lag): 7 for daily, 24 hourly."""
    return seasonal_periods(freq)[0]


def infer_frequency(timestamps: np.ndarray, indptr: np.ndarray) -> str:
    """Infer one offset alias for a panel of sorted series (`indptr` marks series boundaries).

    Uses pandas' inference on the longest series and falls back to the most common step.
    Raises DataError when no series has two timestamps to learn from.
    """
    lengths = np.diff(indptr)
    order = np.argsort(-lengths, kind="stable")[:25]
    votes: Counter[str] = Counter()
    for i in order:
        if lengths[i] < 3:
            continue
        window = pd.DatetimeIndex(timestamps[indptr[i] : indptr[i + 1]][:400])
        guess = pd.infer_freq(window)
        if guess is not None:
            votes[guess] += 1
    if votes:
        return normalise_alias(votes.most_common(1)[0][0])
    steps = np.diff(timestamps.astype("datetime64[ns]").astype(np.int64))
    starts = indptr[1:-1] - 1
    mask = np.ones(len(steps), dtype=bool)
    mask[starts[(starts >= 0) & (starts < len(steps))]] = False
    steps = steps[mask & (steps > 0)]
    if len(steps) == 0:
        raise DataError("cannot infer the frequency: no series has two distinct timestamps; pass --freq")
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    return _calendar_alias(step, timestamps, steps) or normalise_alias(
        pd.tseries.frequencies.to_offset(pd.Timedelta(step)).freqstr
    )


_DAY_NS = 86_400 * 10**9
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def weeks_ending(dayofweek: int) -> str:
    """The alias of weeks ending on `dayofweek` (0 = Monday): "W-THU" for 3."""
    return f"W-{_WEEKDAYS[dayofweek % 7]}"


def _calendar_alias(step: int, timestamps: np.ndarray, steps: np.ndarray) -> str | None:
    """The calendar frequency a most common step stands for, when every timestamp agrees.

    Series with gaps defeat `pd.infer_freq`, and their most common step alone would call
    monthly data "31D" and business-day data "D" (whose weekends would then be filled as gaps).
    """
    ns = np.asarray(timestamps).astype("datetime64[ns]").view(np.int64)
    if len(ns) > 200_000:  # a sample decides as well and keeps this cheap on large panels
        ns = ns[:: len(ns) // 100_000]
    if np.any(ns % _DAY_NS != 0):
        return None
    stamps = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    days = step / _DAY_NS
    if days == 1 and not np.any(stamps.dayofweek >= 5) and np.any(steps == 3 * _DAY_NS):
        return "B"
    if days == 7 and len(np.unique(stamps.dayofweek)) == 1:
        return weeks_ending(int(stamps.dayofweek[0]))
    kind = _bucket(days)
    if kind is None:
        return None
    prefix, cycle = {28: ("M", 1), 89: ("Q", 3), 365: ("Y", 12)}[kind]
    if len(np.unique(stamps.month.to_numpy() % cycle)) != 1:
        return None
    anchor = "" if prefix == "M" else f"-{_MONTHS[stamps.month[0] - 1]}"
    if np.all(stamps.day == 1):
        return normalise_alias(f"{prefix}S{anchor}")
    if np.all(stamps.is_month_end):
        return normalise_alias(f"{prefix}E{anchor}")
    return None


def _bucket(days: float) -> int | None:
    """28 for month-like steps, 89 for quarter-like ones, 365 for year-like ones."""
    for low, high in ((28, 31), (89, 92), (365, 366)):
        if low <= days <= high:
            return low
    return None


def user_offset(freq: str) -> pd.DateOffset:
    """The pandas offset of an alias as a user writes it, without pandas' FutureWarning for
    the spellings it renames ("H", "M", "Q"): read here once and normalised (`normalise_alias`),
    they are the user's to write, and the warning reached the console with pandas' source path."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return pd.tseries.frequencies.to_offset(freq)


def normalise_alias(freq: str) -> str:
    """Canonical spelling of an alias ("H" -> "h", "T" -> "min", "M" -> "ME"), validated by pandas."""
    try:
        offset = user_offset(freq)
    except ValueError as exc:
        raise DataError(f"unknown frequency {freq!r}: use a pandas offset alias such as D, h, W, MS") from exc
    return str(offset.freqstr)


def asked_frequency(freq: str, source: str | None) -> str:
    """The frequency `freq` the user asked for, on data found to be at `source`.

    Weeks as a user writes them ("W", "1W", SageMaker's ForecastFrequency "1W") name no
    weekday, while pandas reads "W" as weeks ending on Sunday: a retailer's weekly file dated
    on Fridays, trained with `--freq W`, had every week moved to the Sunday after (its
    forecasts dated Sundays, its future file of Fridays matching no step). Weekly data keeps
    its own weekday; a weekday the user names ("W-SUN") is kept as asked, and daily data asked
    for weeks is bucketed as pandas does.
    """
    if source is not None and re.fullmatch(r"\s*(\d*)\s*[wW]\s*", freq):
        n, unit = base_alias(source)
        if unit == "W" and n == base_alias(freq.strip().upper())[0]:
            return source
    return normalise_alias(freq)


# A forecast longer than this is not a forecast but a mistake (a typo, or seconds given as
# steps); it would also cost items x horizon rows of memory before any model runs.
MAX_HORIZON = 50_000


def check_horizon(
    horizon: int, last: pd.Timestamp | np.datetime64 | None = None, freq: str | None = None
) -> None:
    """Refuse a horizon that is not a positive integer, longer than MAX_HORIZON steps, or that
    runs past the last date a timestamp can hold (2262-04-11) from `last` at `freq`."""
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon must be a positive integer, got {horizon!r}")
    if horizon > MAX_HORIZON:
        raise ConfigError(f"horizon {horizon} is longer than the {MAX_HORIZON:,} steps tidecast forecasts")
    if last is None or freq is None:
        return
    offset = pd.tseries.frequencies.to_offset(freq)
    start = pd.Timestamp(last)
    try:
        end = start + offset * int(horizon)
        overflow = end < start or end > pd.Timestamp.max
    except (OverflowError, pd.errors.OutOfBoundsDatetime, ValueError):
        overflow = True
    if overflow:
        raise ConfigError(
            f"a horizon of {counted(horizon, 'step')} of {freq!r} after {start.date().isoformat()} runs past "
            f"{pd.Timestamp.max.date().isoformat()}, the last date a timestamp can hold; use a shorter horizon"
        )


def future_timestamps(last: np.ndarray, freq: str, horizon: int) -> np.ndarray:
    """The `horizon` timestamps after each entry of `last`, shape (len(last), horizon).

    Fixed-width frequencies are plain arithmetic; calendar ones (months, quarters, years,
    business days) go through pandas once per distinct end date.
    """
    last = np.asarray(last, dtype="datetime64[ns]")
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        step = pd.Timedelta(offset).to_timedelta64()
        fixed = offset.name not in ("B", "C") and not offset.name.startswith("W")
    except ValueError:
        fixed = False
    if fixed:
        return last[:, None] + step * np.arange(1, horizon + 1)[None, :]
    unique, inverse = np.unique(last, return_inverse=True)
    table = (
        np.stack(
            [pd.date_range(pd.Timestamp(u), periods=horizon + 1, freq=offset)[1:].values for u in unique]
        )
        if len(unique)
        else np.empty((0, horizon), dtype="datetime64[ns]")
    )
    return table[inverse]
