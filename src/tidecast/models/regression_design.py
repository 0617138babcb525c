"""The dynamic regression's design: what its columns mean and the rows of a forecast. Apart from the model class (`regression.py`) so the model file stays readable and
the explanations (`tidecast.explain.regression`) read the same rows the forecast is made of.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tidecast.data.calendar import fourier_terms, step_index
from tidecast.models.covariates import Exogenous, HolidayTable
from tidecast.models.robust import HUBER_C, trend_columns


@dataclass(frozen=True)
class Layout:
    """What the columns of one series' design mean; fixed at fit so the horizon's rows match."""

    origin: float
    span: float
    changepoints: np.ndarray
    periods: tuple[float, ...]
    orders: tuple[int, ...]
    growing: bool
    holidays: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    # Covariate columns that enter a second time, multiplied by the series' baseline (a first
    # fit without them, `RegressionState.baseline`): effects that scale with the level, as a
    # promotion's lift does.
    scaled: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegressionState:
    """One series' fit: coefficients on y / scale, residual AR(1) and innovation spread."""

    layout: Layout
    beta: np.ndarray
    scale: float
    phi: float
    sigma: float
    # What the scaled covariate columns are multiplied by; None without scaled columns. One row
    # per scaled column over every unscaled column of `design` (`own_baselines`); a vector over
    # the trend and cycles alone in models saved before.
    baseline: np.ndarray | None = None


def design(
    layout: Layout, t: np.ndarray, exogenous: np.ndarray, baseline: np.ndarray | None = None
) -> np.ndarray:
    """The regression matrix for absolute step index `t` and its holiday and covariate columns
    (and, with `layout.scaled` and the `baseline` coefficients, the covariate columns times the
    baseline)."""
    tau = (t - layout.origin) / layout.span
    parts = [trend_columns(tau, layout.changepoints)]
    if layout.periods:
        cycles = _cycles(t, layout.periods, layout.orders)
        parts.append(cycles)
        if layout.growing:
            parts.append(cycles * (tau - 1.0)[:, None])
    unscaled = np.column_stack([*parts, exogenous])
    if not (layout.scaled and baseline is not None):
        return unscaled
    # One level per scaled column (`own_baselines`); models saved before: trend and cycles alone.
    levels = unscaled @ baseline.T if baseline.ndim == 2 else (np.column_stack(parts) @ baseline)[:, None]
    first = exogenous.shape[1] - len(layout.covariates)
    at = [first + layout.covariates.index(name) for name in layout.scaled]
    return np.column_stack([unscaled, exogenous[:, at] * levels])


def own_baselines(
    beta: np.ndarray, layout: Layout, scaled: Sequence[str], windows: Mapping[str, str]
) -> np.ndarray:
    """The level each scaled covariate multiplies: the first fit's whole line (`beta` over
    `design`'s unscaled columns) less that covariate's own column and its event `windows`
    (window column -> its flag).

    A promotion lifts the whole of the demand it falls on, a holiday week's bump included;
    on trend and cycles alone its lift missed the holiday part (the messy demo's test, all
    within a week of Christmas: DynamicRegression's implied lift had slope 0.956 against the
    generator's). Its own columns are left out, or it would multiply itself."""
    first = len(beta) - len(layout.covariates)
    rows = np.tile(np.asarray(beta, dtype=np.float64), (len(scaled), 1))
    for k, name in enumerate(scaled):
        own = [
            first + j for j, column in enumerate(layout.covariates) if name in (column, windows.get(column))
        ]
        rows[k, own] = 0.0
    return rows


def _cycles(t: np.ndarray, periods: tuple[float, ...], orders: tuple[int, ...]) -> np.ndarray:
    """`fourier_terms` of step index `t` as an array, gathered from the terms of every whole
    step from `t[0]` to `t[-1]` (`_cycles_of_run`), which the panel's series share.

    On a 1,100-store panel each window's fits asked for the same few spans a thousand times,
    at 0.4 ms each; a series' fit reads only its observed days (closed Sundays and gaps left
    out), so its steps are a span with holes, and the terms are per step, so gathering them
    gives the same values. Steps that are not whole, not increasing, spread over more than
    twice their number, or longer than `MAX_SHARED_STEPS` are computed as they are.
    """
    n = len(t)
    if n and t[0] == np.floor(t[0]) and n <= t[-1] - t[0] + 1 <= min(2 * n, MAX_SHARED_STEPS):
        offsets = t - t[0]
        whole = np.array_equal(offsets, np.floor(offsets)) and bool(np.all(np.diff(offsets) > 0))
        if whole:
            run = _cycles_of_run(float(t[0]), int(t[-1] - t[0]) + 1, periods, orders)
            return run if len(run) == n else run[offsets.astype(np.int64)]
    return fourier_terms(t, periods, orders).to_numpy()


# Spans of at most this many steps are shared (`_cycles`), and at most `SHARED_SPANS` of them
# are kept: at most about 16 x 8,192 steps x 46 columns x 8 bytes = 48 MB held per process.
MAX_SHARED_STEPS = 8192
SHARED_SPANS = 16


@functools.lru_cache(maxsize=SHARED_SPANS)
def _cycles_of_run(start: float, n: int, periods: tuple[float, ...], orders: tuple[int, ...]) -> np.ndarray:
    cycles = fourier_terms(start + np.arange(n, dtype=np.float64), periods, orders).to_numpy()
    cycles.setflags(write=False)  # shared between calls: never written in place
    return cycles


def _varying(values: np.ndarray, names: Sequence[str]) -> tuple[str, ...]:
    """The `names` of the columns of `values` that take more than one value (a column that is
    1 on every row, a store open every day of a series, would only copy the intercept)."""
    varies = values.max(axis=0, initial=-np.inf) > values.min(axis=0, initial=np.inf)
    return tuple(name for name, v in zip(names, varies, strict=True) if v)


def _columns(values: np.ndarray, names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    index = {name: j for j, name in enumerate(names)}
    return values[:, [index[name] for name in wanted]] if wanted else np.zeros((len(values), 0))


@dataclass(frozen=True)
class Context:
    """What every series' fit or forecast shares: holidays, covariates, the horizon's stamps,
    and which history rows the closure rules call closed (`closed[indptr[i]:indptr[i+1]]`
    for series i; None when no rule closes anything)."""

    table: HolidayTable | None
    exogenous: Exogenous | None
    ahead: np.ndarray | None = None
    closed: np.ndarray | None = None
    indptr: np.ndarray | None = None

    def open_values(self, y: np.ndarray, i: int, data_end: int = 0) -> np.ndarray:
        """`y`, the window of series i that ends `data_end` steps before its last history
        row, with its closed days made missing: a closed day's 0 is no demand observation."""
        if self.closed is None or self.indptr is None:
            return y
        stop = int(self.indptr[i + 1]) - int(data_end)
        shut = self.closed[stop - len(y) : stop]
        return np.where(shut, np.nan, y) if shut.any() else y


def forecast_terms(
    state: RegressionState,
    y: np.ndarray,
    stamps: np.ndarray,
    future: np.ndarray,
    freq: str,
    table: HolidayTable | None,
    covariates: np.ndarray | None = None,
    covariate_names: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """The design rows of `future` and the carried residual per step, both on y / scale:
    the forecast is (rows @ beta + carry) x scale, which is what makes it decomposable
    term by term (`tidecast.explain.regression`).

    The residual carried is the last observed one's: `y` may end in missing values (closed
    days, `Context.open_values`), and the residual then decays over the steps since. The
    `covariates` rows start at that observation (`last_observed`) and end with the horizon's.
    """
    layout = state.layout
    last_seen = last_observed(y)
    rows = np.concatenate([stamps[last_seen : last_seen + 1], future])
    holidays = table.gather(rows, layout.holidays) if table is not None else np.zeros((len(rows), 0))
    if covariates is not None:  # the last observation's row, then the horizon's
        known = covariates[[0, *range(len(covariates) - len(future), len(covariates))]]
    else:
        known = np.zeros((len(rows), 0))
    exogenous = np.column_stack([holidays, _columns(known, covariate_names, layout.covariates)])
    x = design(layout, step_index(rows, freq), exogenous, state.baseline)
    # The last residual, clipped like an outlier would be, moves the first steps.
    bound = HUBER_C * state.sigma
    observed = float(y[last_seen]) if np.isfinite(y[last_seen]) else float(x[0] @ state.beta) * state.scale
    last = float(np.clip(observed / state.scale - x[0] @ state.beta, -bound, bound))
    decay = state.phi ** (len(y) - 1 - last_seen + np.arange(1, len(future) + 1))
    return x[1:], last * decay


def last_observed(y: np.ndarray) -> int:
    """The position of the last finite value of `y` (its last position when none is)."""
    finite = np.flatnonzero(np.isfinite(y))
    return int(finite[-1]) if len(finite) else len(y) - 1


# A flag's event windows ("within r steps of a promotion") enter a series' fit only when it
# has at least this many observations per column of the design.
MIN_POINTS_PER_COLUMN = 3


def estimable(
    n: int, base: int, covariates: np.ndarray, names: Sequence[str], windows: Collection[str]
) -> tuple[str, ...]:
    """The covariate columns that vary in a fit's `n` rows, less the flags' event `windows`
    when the design would have fewer than MIN_POINTS_PER_COLUMN rows a column with them
    (`base` columns besides the covariates). In a short history two promotions make
    "within 7 steps of one" cover most of its last weeks: a step in the level, which the
    horizon (no promotion near) then drops."""
    varying = _varying(covariates, names)
    if n >= MIN_POINTS_PER_COLUMN * (base + len(varying)):
        return varying
    return tuple(name for name in varying if name not in windows)
