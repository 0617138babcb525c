"""Closed days for the whole AutoML: where the history never sold, every model forecasts 0.

A store's `open` = 0 (or a closure-holiday flag = 1) switches demand off. The global LightGBM
learns such rules for itself (`models.gbm_closed`), but the local models cannot read known
covariates, and the dynamic regression only approximates a switch with a coefficient: on the
messy demo (closed Sundays and holidays in two regions) the selected ensemble forecast a mean
of 5,172 units on closed days that sold 0, a large share of its wQL. So the AutoML learns the
same data-driven rules once from the training panel and applies them to every candidate's
backtest forecast (the selection then sees the rule's effect) and to the final forecast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.future import FUTURE_WAYS
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, is_quantile_column
from tidecast.errors import DataError
from tidecast.models.gbm_closed import closed_mask, closure_rules
from tidecast.wording import counted, plural

Rules = tuple[tuple[str, float], ...]


def learn_closures(panel: pd.DataFrame, known: Sequence[str]) -> Rules:
    """The (column, value) pairs of the numeric known covariates under which nothing sold."""
    numeric = [c for c in known if c in panel.columns and pd.api.types.is_numeric_dtype(panel[c])]
    if not numeric or len(panel) == 0:
        return ()
    covariates = {c: panel[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in numeric}
    return closure_rules(panel[TARGET].to_numpy(dtype=np.float64), covariates, numeric)


def closures_note(rules: Rules) -> list[str]:
    """The report's line on the learnt rules; none when there are none."""
    if not rules:
        return []
    said = ", ".join(f"{column} = {value:g}" for column, value in rules)
    return [f"closed days: every observed row with {said} sold 0, so every model forecasts 0 there"]


def require_plan(future: pd.DataFrame | None, rules: Rules, panel: SeriesArrays) -> None:
    """A DataError unless `future` holds every column the closure `rules` read.

    Without the plan of open and closed days the rules cannot close any: a model of local
    members (which read no covariate themselves) forecast every closed Sunday of a store panel
    as a normal day (store 1: 7,910 where the job's own forecast, given the plan, said 0), and
    its endpoint's accuracy looked 2.5x worse than its backtest once actuals came in. Models
    whose members read the covariates already refuse (`Forecaster._future`); this refuses
    for the rest, naming what to give.
    """
    if not rules:
        return
    columns = list(dict.fromkeys(column for column, _ in rules))
    lacking = columns if future is None else [c for c in columns if c not in future.columns]
    if not lacking:
        return
    said = ", ".join(f"{column} = {value:g}" for column, value in rules if column in lacking)
    raise DataError(
        f"this model forecasts 0 on closed days (every observed row with {said} sold 0), so it needs "
        f"the known covariates {lacking} over the forecast steps ({FUTURE_WAYS}) "
        f"for {counted(panel.n_series, 'item')}, e.g. {panel.item_ids[:5].tolist()}; without them "
        "every closed day would be forecast as an open one"
    )


def closed_rows(rows: pd.DataFrame, rules: Rules) -> np.ndarray:
    """True for each row of `rows` (which carry the rules' covariates) that a rule closes."""
    if not rules:
        return np.zeros(len(rows), dtype=bool)
    covariates = {c: rows[c].to_numpy(dtype=np.float64, na_value=np.nan) for c, _ in rules if c in rows}
    usable = tuple(rule for rule in rules if rule[0] in covariates)
    return closed_mask(covariates, usable, len(rows))


def future_rows(forecast: pd.DataFrame, future: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """`future`'s `columns` on the forecast's rows, in its order (NaN where `future` has none)."""
    return forecast[[ITEM_ID, TIMESTAMP]].merge(
        future[[ITEM_ID, TIMESTAMP, *columns]].drop_duplicates([ITEM_ID, TIMESTAMP]),
        on=[ITEM_ID, TIMESTAMP],
        how="left",
    )


def close_forecast(forecast: pd.DataFrame, future: pd.DataFrame | None, rules: Rules) -> pd.DataFrame:
    """`forecast` with mean and quantiles set to 0 on the steps `future` says are closed."""
    if not rules or future is None or len(forecast) == 0:
        return forecast
    columns = [c for c, _ in rules if c in future.columns]
    if not columns:
        return forecast
    return zeroed(forecast, closed_rows(future_rows(forecast, future, columns), rules))


def zeroed(forecast: pd.DataFrame, shut: np.ndarray) -> pd.DataFrame:
    """`forecast` with its mean and quantile columns set to 0 on the rows `shut` marks."""
    if not shut.any():
        return forecast
    values = [c for c in forecast.columns if c == MEAN or is_quantile_column(str(c))]
    out = forecast.copy()
    out.loc[shut, values] = 0.0
    return out


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# How far back a daily series is read for a weekday it never opens on, and how many of those
# weeks its other weekdays must have rows in (so a gap or a new store is not read as a closure).
QUIET_WEEKS = 8
OPEN_WEEKS = 6


def closed_weekdays(history: SeriesArrays, weeks: int = QUIET_WEEKS) -> dict[str, tuple[int, ...]]:
    """Daily items that had no observed value on some weekday over their last `weeks` weeks,
    while another weekday was observed in at least `OPEN_WEEKS` of them: item -> weekdays
    (Monday 0).

    A visits or sales file often has no row for a day the store did not open, and the default
    filling keeps such a day missing (`data.filling`): no model is told it was a zero, and every
    model forecasts those weekdays as if the store opened. The report says so, since a user
    planning staff or stock for a store closed on Tuesdays wants to know; where closed days are
    rows with a 0 and a known open/closed flag, `learn_closures` forecasts them 0.
    """
    if history.freq.upper() not in ("D", "1D") or len(history.values) == 0:
        return {}
    lengths = np.diff(history.indptr)
    series = np.repeat(np.arange(len(lengths)), lengths)
    day = history.timestamps.astype("datetime64[D]").astype(np.int64)
    last = day[history.indptr[1:] - 1][series]
    first = day[history.indptr[:-1]][series]
    recent = (day > last - 7 * weeks) & (last - first >= 7 * weeks) & ~np.isnan(history.values)
    counts = np.zeros((len(lengths), 7), dtype=np.int64)
    np.add.at(counts, (series[recent], (day[recent] + 3) % 7), 1)  # 1970-01-01 was a Thursday
    open_ = counts.max(axis=1) >= OPEN_WEEKS
    return {
        str(history.item_ids[i]): tuple(int(d) for d in np.flatnonzero(counts[i] == 0))
        for i in np.flatnonzero(open_ & (counts == 0).any(axis=1))
    }


def named(items: Sequence[str], shown: int = 3) -> str:
    """The first `shown` of `items`, comma-separated, with ", ..." when there are more."""
    return ", ".join(items[:shown]) + (", ..." if len(items) > shown else "")


def closed_weekdays_note(history: SeriesArrays) -> list[str]:
    """The report's line on `closed_weekdays`; none when no item has one."""
    closed = closed_weekdays(history)
    if not closed:
        return []
    labels = [f"{item} ({', '.join(WEEKDAYS[d] for d in days)})" for item, days in closed.items()]
    n, their = len(closed), plural(len(closed), "its", "their")
    return [
        f"closed weekdays: {counted(n, 'item')} had no value on the same weekday over {their} last "
        f"{QUIET_WEEKS} weeks ({named(labels)}); {their} forecasts for those days assume "
        f"{plural(n, 'it opens', 'they open')}. "
        "Rows with a target of 0 and a known open/closed covariate at 0 on closed days let every model "
        "forecast 0 there"
    ]
