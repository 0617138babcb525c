"""Calendar features and Fourier terms on an absolute time index.

Regression and tree models cannot see a weekly or yearly cycle unless it is spelled out as
columns. Everything here is a pure function of the timestamps (plus the frequency), so the
rows of the training history and of the forecast horizon get identical values for identical
timestamps: nothing depends on where a series starts or how long it is. The periods found in
the values themselves are `tidecast.data.period_detection`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from tidecast.errors import ConfigError, DataError
from tidecast.wording import counted, plural

_SECOND_NS = 10**9
_DAY_NS = 86_400 * _SECOND_NS
_DAY_S = 86_400.0
# 1970-01-01 was a Thursday; day numbers count from it, so Monday-based weekdays are (day + 3) % 7.
_EPOCH_WEEKDAY = 3


def as_datetime64(timestamps: object) -> np.ndarray:
    """Timestamps as a datetime64[ns] array; time zones are dropped keeping the local wall time.

    Local wall time is what calendars and holidays are about: a sale at 23:30 in New York on
    Christmas Eve belongs to Christmas Eve, not to the UTC date. NaT is refused because every
    feature here needs a date.
    """
    if isinstance(timestamps, pd.Series | pd.Index):
        index = pd.DatetimeIndex(timestamps)
        if index.tz is not None:
            index = index.tz_localize(None)
        stamps = index.to_numpy(dtype="datetime64[ns]")
    else:
        stamps = np.asarray(timestamps)
        if stamps.dtype.kind != "M":
            stamps = as_datetime64(pd.DatetimeIndex(stamps.ravel()))
        stamps = stamps.astype("datetime64[ns]", copy=False).ravel()
    if np.isnat(stamps).any():
        missing = int(np.isnat(stamps).sum())
        raise DataError(
            f"{counted(missing, 'timestamp')} {plural(missing, 'is')} missing (NaT); features need a date"
        )
    return stamps


def _unit(freq: str) -> tuple[str, int, pd.DateOffset]:
    """The kind of step a frequency takes ("tick", "week", "bday", "month"...) and its multiple."""
    try:
        offset = to_offset(freq)
    except ValueError as exc:
        raise ConfigError(
            f"unknown frequency {freq!r}: use a pandas offset alias such as D, h, W, MS"
        ) from exc
    name = offset.name.split("-")[0]
    core = name.lstrip("CB") if len(name) > 1 else name
    if isinstance(offset, pd.offsets.Tick):
        unit = "tick"
    elif name == "W":
        unit = "week"
    elif name in ("B", "C"):
        unit = "bday"
    elif name.startswith("SM"):
        unit = "semimonth"
    elif core[:1] in ("M", "Q", "Y", "A") and len(core) <= 2:
        unit = {"M": "month", "Q": "quarter", "Y": "year", "A": "year"}[core[0]]
    else:
        raise ConfigError(f"calendar features do not support the frequency {freq!r}")
    return unit, int(offset.n), offset


def _step_seconds(freq: str) -> float:
    """Nominal length of one step, used only to decide which calendar features make sense."""
    unit, n, offset = _unit(freq)
    if unit == "tick":
        return float(pd.Timedelta(offset).total_seconds())
    days = {"week": 7.0, "bday": 1.0, "semimonth": 15.0, "month": 30.0, "quarter": 91.0, "year": 365.0}
    return n * days[unit] * _DAY_S


def calendar_features(timestamps: object, freq: str) -> pd.DataFrame:
    """Integer calendar columns that vary at this frequency, one row per timestamp.

    A column is included only when it can change from one step to the next (no hour of day for
    daily data, no day of week for weekly data, no weekend flag for business days), so models
    get no constant columns. Day of week counts from Monday = 0, as pandas does; week of year
    is the ISO week. Integer arithmetic on datetime64, done once per calendar day of the span
    when a panel repeats its dates, then gathered.
    """
    stamps = as_datetime64(timestamps)
    step = _step_seconds(freq)
    ns = stamps.view(np.int64)
    day = np.floor_divide(ns, _DAY_NS)
    columns: dict[str, np.ndarray] = {}
    if step < 3_600:
        columns["minute_of_hour"] = ((ns // (60 * _SECOND_NS)) % 60).astype(np.int8)
    if step < _DAY_S:
        columns["hour_of_day"] = ((ns - day * _DAY_NS) // (3_600 * _SECOND_NS)).astype(np.int8)
    grid = _grid(day)
    if grid is None:
        columns.update(_day_columns(day, step, _unit(freq)[0]))
    else:
        days, position = grid
        columns.update((k, v[position]) for k, v in _day_columns(days, step, _unit(freq)[0]).items())
    return pd.DataFrame(columns, index=pd.RangeIndex(len(stamps)))


def _grid(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Every integer from min to max of `keys` and each key's position in it, when that is shorter.

    A panel of many series repeats the same dates, so computing per distinct day and gathering
    is cheaper than computing per row; a single long series spans more days than it has rows.
    """
    if len(keys) == 0:
        return None
    low, high = int(keys.min()), int(keys.max())
    if high - low >= len(keys):
        return None
    return np.arange(low, high + 1, dtype=np.int64), keys - low


def _day_columns(day: np.ndarray, step: float, unit: str) -> dict[str, np.ndarray]:
    """The date-level columns for day numbers (days since 1970-01-01) at a step of `step` seconds."""
    dates = day.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    month_start = months.astype("datetime64[D]").view(np.int64)
    month = months.view(np.int64) % 12 + 1
    weekday = (day + _EPOCH_WEEKDAY) % 7
    columns: dict[str, np.ndarray] = {}
    if step < 7 * _DAY_S:
        columns["day_of_week"] = weekday.astype(np.int8)
        if unit != "bday":
            columns["is_weekend"] = (weekday >= 5).astype(np.int8)
        columns["day_of_month"] = (day - month_start + 1).astype(np.int8)
        year_start = dates.astype("datetime64[Y]").astype("datetime64[D]").view(np.int64)
        columns["day_of_year"] = (day - year_start + 1).astype(np.int16)
        next_month = (months + 1).astype("datetime64[D]").view(np.int64)
        columns["is_month_start"] = (day == month_start).astype(np.int8)
        columns["is_month_end"] = (day == next_month - 1).astype(np.int8)
    if step < 28 * _DAY_S:
        # ISO week: the week (Monday to Sunday) belongs to the year holding its Thursday.
        thursday = day - weekday + 3
        iso_year_start = (
            thursday.astype("datetime64[D]").astype("datetime64[Y]").astype("datetime64[D]").view(np.int64)
        )
        columns["week_of_year"] = ((thursday - iso_year_start) // 7 + 1).astype(np.int8)
    if step < 89 * _DAY_S:
        columns["month"] = month.astype(np.int8)
    if step < 365 * _DAY_S:
        columns["quarter"] = ((month - 1) // 3 + 1).astype(np.int8)
    return columns


def step_index(timestamps: object, freq: str) -> np.ndarray:
    """Steps of `freq` since 1970-01-01, as float64: the absolute clock Fourier terms run on.

    Consecutive timestamps of a regular series differ by exactly 1, and the same timestamp
    gets the same index whatever series it sits in. Calendar steps count calendar units
    (months since January 1970, quarters, years, business days), so months of unequal length
    still advance by 1; anchored weeks count from the first anchor day after the epoch.
    """
    stamps = as_datetime64(timestamps)
    unit, n, offset = _unit(freq)
    if unit == "tick":
        step = int(pd.Timedelta(offset).value)
        ns = stamps.view(np.int64)
        whole, rest = np.divmod(ns, step)
        return whole.astype(np.float64) + rest / step
    day = stamps.astype("datetime64[D]").view(np.int64)
    if unit == "week":
        weekday = offset.weekday if offset.weekday is not None else 6
        anchor = (weekday - _EPOCH_WEEKDAY) % 7
        return (day - anchor) / (7.0 * n)
    if unit == "bday":
        return np.busday_count(np.datetime64("1970-01-01", "D"), stamps.astype("datetime64[D]")) / float(n)
    months = stamps.astype("datetime64[M]").view(np.int64)
    if unit == "semimonth":
        day_of_month = day - stamps.astype("datetime64[M]").astype("datetime64[D]").view(np.int64) + 1
        # SMS-15 steps on the 1st and the 15th, SME-15 on the 15th and the month's end.
        split = offset.day_of_month + (0 if offset.name.startswith("SMS") else 1)
        return (2 * months + (day_of_month >= split)) / float(n)
    if unit == "month":
        return months / float(n)
    if unit == "quarter":
        return (months // 3) / float(n)
    return stamps.astype("datetime64[Y]").view(np.int64) / float(n)


def _label(period: float) -> str:
    return f"{period:.12g}"


def fourier_terms(
    time: object,
    periods: Sequence[float],
    orders: Sequence[int] | int,
    freq: str | None = None,
) -> pd.DataFrame:
    """Columns `sin_{period}_{k}` and `cos_{period}_{k}` for k = 1..order of each period.

    `time` is either timestamps (then `freq` is required and the clock is `step_index`, so the
    history and the horizon line up) or a step index already. Periods are in steps of the
    frequency (7 and 365.25 for daily data). On integer steps the k-th and (period - k)-th
    terms coincide, so orders above period / 2 are dropped, and at exactly period / 2 only the
    cosine is kept (its sine is zero). The phase is reduced modulo the period before scaling,
    which keeps values exact far from the epoch, and higher orders come from the angle-addition
    recurrence (exact to about 1e-15 per order) rather than one sin and cos each.
    """
    if isinstance(time, pd.Series | pd.Index) and pd.api.types.is_datetime64_any_dtype(time.dtype):
        is_datetime = True
    else:
        array = np.asarray(time)
        is_datetime = array.dtype.kind == "M"
    if is_datetime:
        if freq is None:
            raise ConfigError("fourier_terms needs `freq` to turn timestamps into a step index")
        t = step_index(time, freq)
    else:
        t = np.asarray(time, dtype=np.float64).ravel()
    if isinstance(orders, int | np.integer):
        order_list = [int(orders)] * len(periods)
    else:
        order_list = [int(k) for k in orders]
        if len(order_list) != len(periods):
            raise ConfigError(
                f"got {counted(len(order_list), 'Fourier order')} for "
                f"{counted(len(periods), 'period')} {periods}"
            )
    terms = [(float(p), k) for p, k in zip(periods, order_list, strict=True)]
    for period, order in terms:
        if not np.isfinite(period) or period <= 1:
            raise ConfigError(f"a Fourier period must be a number of steps above 1, got {period}")
        if order < 0:
            raise ConfigError(f"a Fourier order must be 0 or more, got {order} for period {period}")
    whole = np.floor(t)
    grid = _grid(whole.astype(np.int64)) if len(t) and np.array_equal(whole, t) else None
    names, block = _fourier_block(t if grid is None else grid[0].astype(np.float64), terms)
    if grid is not None:
        block = np.take(block, grid[1], axis=1)
    # The (terms x rows) block goes to pandas as its transpose: one allocation, no column copies.
    return pd.DataFrame(block.T, columns=names, index=pd.RangeIndex(len(t)), copy=False)


def _fourier_block(t: np.ndarray, terms: list[tuple[float, int]]) -> tuple[list[str], np.ndarray]:
    """The column names and a (columns x len(t)) array of sin/cos of k x the phase of t.

    Order k > 1 comes from the angle-addition recurrence, written in place into the block, so
    each period costs one sin and one cos and no temporaries the size of the output.
    """
    names: list[str] = []
    for period, order in terms:
        for k in range(1, min(order, int(period // 2)) + 1):
            names.extend([f"sin_{_label(period)}_{k}"] if 2 * k < period else [])
            names.append(f"cos_{_label(period)}_{k}")
    block = np.empty((len(names), len(t)))
    scratch = np.empty(len(t))
    row = 0
    for period, order in terms:
        top = min(order, int(period // 2))
        if top == 0:
            continue
        angle = np.mod(t, period)
        angle *= 2 * np.pi / period
        sin_1 = block[row] if period > 2 else scratch
        np.sin(angle, out=sin_1)
        cos_1 = block[row + 1] if period > 2 else block[row]
        np.cos(angle, out=cos_1)
        row += 2 if period > 2 else 1
        sin_k, cos_k = sin_1, cos_1
        for k in range(2, top + 1):
            has_sin = 2 * k < period
            new_sin, new_cos = (block[row], block[row + 1]) if has_sin else (None, block[row])
            np.multiply(cos_k, cos_1, out=new_cos)
            np.multiply(sin_k, sin_1, out=scratch)
            new_cos -= scratch
            if new_sin is not None:
                np.multiply(sin_k, cos_1, out=new_sin)
                np.multiply(cos_k, sin_1, out=scratch)
                new_sin += scratch
                sin_k = new_sin
            cos_k = new_cos
            row += 2 if has_sin else 1
    return names, block
