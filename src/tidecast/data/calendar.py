"""Calendar features, Fourier terms on an absolute time index, and periods found in the data.

Regression and tree models cannot see a weekly or yearly cycle unless it is spelled out as
columns. Everything here is a pure function of the timestamps (plus the frequency), so the
rows of the training history and of the forecast horizon get identical values for identical
timestamps: nothing depends on where a series starts or how long it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from scipy.special import gammainccinv, gammaincinv

from tidecast.errors import ConfigError, DataError

_SECOND_NS = 10**9
_DAY_NS = 86_400 * _SECOND_NS
_DAY_S = 86_400.0
# 1970-01-01 was a Thursday; day numbers count from it, so Monday-based weekdays are (day + 3) % 7.
_EPOCH_WEEKDAY = 3
# Cells of the zero-padded spectrum matrix detect_periods may build (about 130 MB of complex128).
_MAX_CELLS = 8_000_000


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
        raise DataError(f"{int(np.isnat(stamps).sum())} timestamps are missing (NaT); features need a date")
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
            raise ConfigError(f"got {len(order_list)} Fourier orders for {len(periods)} periods {periods}")
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


def detect_periods(
    values: np.ndarray,
    indptr: np.ndarray,
    max_period: int,
    top: int = 3,
    *,
    alpha: float = 1e-3,
    max_series: int = 400,
    snap_to: Sequence[float] = (),
) -> list[int]:
    """The strongest cycles shared by the series, in steps, strongest first; [] when none is clear.

    For up to `max_series` series (spread evenly over the panel): remove a linear trend, taper
    with a Hann window (so a strong yearly cycle does not leak into false neighbours), and take
    the periodogram on a 4x zero-padded grid. Each periodogram is divided by a red-noise
    background (an AR(1) spectrum fitted to its log), which makes it unit-free and ~Exp(1) at
    every frequency when there is no cycle, so random walks and smooth trends do not pass for
    long cycles. The ratios are averaged over series, and a peak must beat the Gamma quantile
    for `alpha` after a Bonferroni correction over the frequencies tested (see `_threshold`
    for how many series count as independent). White noise, random walks and AR noise give [].

    A peak is dropped if it lies in the main lobe of one already picked or is one of its
    harmonics (7/2 and 7/3 for a weekly cycle; up to the 12th, or the 6th for a calendar
    period, so 24 survives beside 168 in hourly data), carries under 1% of the strongest peak's
    power (a leakage side lobe), or needs more than the longest series to repeat twice.
    `snap_to` holds the calendar's periods (`seasonal_periods(freq)`): a peak closer to one
    than the spectrum can resolve is reported as that period. Pass it: three years of
    daily data place a 365-day cycle only within about +-10 days, and with it the harmonics
    that must be recognised as such.
    """
    if max_period < 2 or top < 1:
        return []
    values = np.asarray(values, dtype=np.float64)
    indptr = np.asarray(indptr, dtype=np.int64)
    lengths = np.diff(indptr)
    length = int(min(lengths.max(initial=0), max(10 * max_period, 2_048)))
    eligible = np.flatnonzero(lengths >= 16)
    if len(eligible) == 0 or length < 16:
        return []
    keep = max(8, min(max_series, _MAX_CELLS // (4 * length)))  # bounds memory for long series
    if len(eligible) > keep:
        eligible = eligible[np.unique(np.linspace(0, len(eligible) - 1, keep).round().astype(np.int64))]
    rows = _tail_matrix(values, indptr[eligible + 1], np.minimum(lengths[eligible], length), length)
    rows, used = _detrend_and_taper(rows)
    rows = rows[used]
    if len(rows) == 0:
        return []
    pad = 4 * length
    power = np.abs(np.fft.rfft(rows, n=pad, axis=1)) ** 2
    freqs = np.fft.rfftfreq(pad)
    ratio = power / _red_background(power, freqs)
    share = (power / power[:, 1:].sum(axis=1, keepdims=True)).mean(axis=0)
    mean_ratio = ratio.mean(axis=0)

    # Two cycles must fit in the history, and the taper's main lobe must not overlap its mirror
    # image at the Nyquist frequency, which doubles the power there (so period 2 is not sought).
    usable = (freqs >= 1.0 / max_period) & (freqs >= 2.0 / length) & (freqs <= 0.5 - 2.0 / length)
    threshold = _threshold(mean_ratio[usable][::4], len(rows), alpha)
    peaks = np.flatnonzero(
        usable[1:-1]
        & (mean_ratio[1:-1] >= mean_ratio[:-2])
        & (mean_ratio[1:-1] > mean_ratio[2:])
        & (mean_ratio[1:-1] > threshold)
    )
    peaks += 1
    if len(peaks) == 0:
        return []
    peaks = peaks[np.argsort(-share[peaks], kind="stable")]
    resolution = 1.0 / length  # frequencies closer than this cannot be told apart
    snaps = np.array([1.0 / p for p in snap_to if p > 1], dtype=np.float64)
    picked: list[float] = []
    periods: list[int] = []
    for j in peaks:
        if share[j] < 0.01 * share[peaks[0]]:
            break
        f = _refine(share, int(j)) / pad
        snapped = len(snaps) > 0 and np.min(np.abs(snaps - f)) <= resolution
        if snapped:
            f = float(snaps[np.argmin(np.abs(snaps - f))])
        period = round(1.0 / f)
        if period < 2 or period > max_period or period in periods:
            continue
        # Harmonics up to the 12th are shape (the holiday spikes of a yearly profile put power
        # at 365/8, 365/10...), except that beyond the 6th a calendar period stays: 24 hours
        # is the 7th harmonic of a week, and models want both.
        if any(_near(f, g, resolution, 6 if snapped else 12) for g in picked):
            continue
        # A fractional period picked earlier that is a harmonic of this peak was only the shape
        # of its cycle (a spiky weekly profile can put more power at 7/3 steps than at 7): this
        # fundamental takes its place. Whole periods stay (7 remains beside a 28-step cycle).
        shapes = [
            i for i, g in enumerate(picked) if _near(g, f, resolution, 6) and abs(1 / g - round(1 / g)) > 0.1
        ]
        if shapes:
            picked[shapes[0]], periods[shapes[0]] = f, period
            for i in reversed(shapes[1:]):
                del picked[i], periods[i]
        else:
            picked.append(f)
            periods.append(period)
    return periods[:top]


def _tail_matrix(values: np.ndarray, ends: np.ndarray, counts: np.ndarray, length: int) -> np.ndarray:
    """The last `counts[i]` values before `ends[i]` in row i, left-aligned, NaN-padded."""
    matrix = np.full((len(ends), length), np.nan)
    row = np.repeat(np.arange(len(ends)), counts)
    col = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    matrix[row, col] = values[np.repeat(ends - counts, counts) + col]
    return matrix


def _detrend_and_taper(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of a per-row least-squares line, Hann-tapered over each row's own span.

    Missing values (and the padding) become 0, the residual mean, so they add no power.
    Rows with fewer than 16 observations or no variation are flagged unusable.
    """
    observed = np.isfinite(rows)
    t = np.broadcast_to(np.arange(rows.shape[1], dtype=np.float64), rows.shape)
    y = np.where(observed, rows, 0.0)
    n = observed.sum(axis=1)
    safe = np.maximum(n, 1)
    t_mean = (t * observed).sum(axis=1) / safe
    y_mean = y.sum(axis=1) / safe
    tc = np.where(observed, t - t_mean[:, None], 0.0)
    slope = (tc * y).sum(axis=1) / np.maximum((tc * tc).sum(axis=1), 1e-12)
    residual = np.where(observed, y - y_mean[:, None] - slope[:, None] * tc, 0.0)
    span = observed.shape[1] - np.argmax(observed[:, ::-1], axis=1)  # one past the last observation
    taper = 0.5 - 0.5 * np.cos(2 * np.pi * (t + 0.5) / np.maximum(span, 1)[:, None])
    residual = np.where(t < span[:, None], residual * taper, 0.0)
    scale = np.sqrt((residual**2).sum(axis=1))
    used = (n >= 16) & (scale > 1e-9 * np.maximum(np.abs(y_mean), 1.0))
    return residual, used


def _red_background(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per row, the AR(1) spectrum c / (1 + phi^2 - 2 phi cos 2 pi f) that fits log power best.

    The fit is a least-squares line in log space over a grid of phi, on every 4th frequency
    (the independent ones): the few cycle peaks barely move a mean of logs, and the whole grid
    is one matrix product. Under no cycle, power / background is about Exp(1), whose log has
    mean -0.5772 (Euler's constant), hence the correction of the level.
    """
    phis = np.concatenate([np.linspace(0.0, 0.9, 19), 1 - np.geomspace(0.09, 0.001, 12)])
    sample = slice(4, None, 4)  # skip the zero frequency
    log_shape = -np.log(1 + phis[:, None] ** 2 - 2 * phis[:, None] * np.cos(2 * np.pi * freqs[None, sample]))
    log_power = np.log(np.maximum(power[:, sample], 1e-300))
    # Sum of squared residuals of log_power - log_shape - level, minimised over the level, per phi.
    centred_shape = log_shape - log_shape.mean(axis=1, keepdims=True)
    centred_power = log_power - log_power.mean(axis=1, keepdims=True)
    misfit = (centred_shape**2).sum(axis=1)[None, :] - 2 * centred_power @ centred_shape.T
    best = np.argmin(misfit, axis=1)
    level = (log_power - log_shape[best]).mean(axis=1) + np.euler_gamma
    phi = phis[best][:, None]
    shape = 1 + phi**2 - 2 * phi * np.cos(2 * np.pi * freqs[None, :])
    return np.exp(level)[:, None] / shape


def _threshold(null: np.ndarray, n_rows: int, alpha: float) -> float:
    """The level a mean ratio must pass: the Gamma tail for `alpha` / tests, at the observed scale.

    Averaging n independent Exp(1) ratios gives Gamma(n, 1/n), but series that share noise
    average to something far wider. The effective count is read off the spread of the ratios
    themselves (their 95th percentile over the median, compared with Gamma's: the tail is
    what matters, and shared noise fattens it more than it widens the middle), capped at
    20 so that a slight misfit of the background cannot pass for a cycle in a huge panel, and
    the level is taken from their median, so a background fitted a little low moves it too.
    """
    if len(null) == 0:
        return float("inf")
    median, high = np.quantile(null, [0.5, 0.95])
    counts = np.arange(1, min(n_rows, 20) + 1)
    spreads = gammaincinv(counts, 0.95) / gammaincinv(counts, 0.5)
    wide_enough = counts[spreads >= high / max(median, 1e-300)]
    counted = int(wide_enough.max()) if len(wide_enough) else 1
    # The padded grid finds maxima between the independent frequencies too: count twice as many.
    tail = gammainccinv(counted, alpha / (2 * len(null))) / gammaincinv(counted, 0.5)
    return float(tail * median)


def _refine(curve: np.ndarray, j: int) -> float:
    """The peak position between grid points, from a parabola through log values at j-1, j, j+1."""
    a, b, c = np.log(np.maximum(curve[j - 1 : j + 2], 1e-300))
    denominator = a - 2 * b + c
    if denominator >= 0:
        return float(j)
    return float(j + 0.5 * (a - c) / denominator)


def _near(f: float, g: float, resolution: float, max_harmonic: int) -> bool:
    """Whether f lies in the main lobe of g, or within half a bin of a harmonic k x g.

    Harmonics stop at `max_harmonic`: those of a long period are so dense that every
    frequency would be "near" one of them.
    """
    if abs(f - g) <= 2.5 * resolution:
        return True
    k = round(f / g)
    return 2 <= k <= max_harmonic and abs(f - k * g) <= 0.5 * resolution
