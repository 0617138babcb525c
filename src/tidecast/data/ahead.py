"""Rows after the panel's last target value that carry known covariates: the future, in the data.

A retailer's table often holds the plan beside the history: the promotion calendar and the
holidays of the weeks to come on rows whose sales are still empty, as an ERP or a planning sheet
exports them (and as Amazon Forecast's related time series carries its future values). Such
rows used to be dropped ("future covariates belong in a separate frame"), and a `train` with
known covariates and no `--future` then failed after the whole backtest, for want of the very
values it had read and thrown away. They are now kept apart as the future of the known
covariates, which `predict` uses when it is given none (`AutoForecaster.data_future_`); a
future given explicitly wins. Rows whose known covariates are all empty are not a plan and go
as before, with the note `prepare` gives them.

The plan's sales are not always empty: a query that writes `COALESCE(sales, 0)` over a calendar
running past the history, or a BI export to the end of the month, gives its dates 0. Read as
sales, the last weeks of every series say demand stopped, and every model forecasts about
nothing. So when no series sold anything on the panel's last dates (`zero_written_tail`), a
run spanning a week and `zero_runs.MIN_RUN` dates or more, and over `zero_runs.RATIO` times any
earlier run of dates without a sale anywhere, on a panel where most series sell on a usual
date, those zeros are read as not yet observed: the rows are the plan like empty ones (or go,
without known covariates), with a note; the target's `{"zeroruns": "keep"}` keeps them as
sales. None of the benchmark panels trips it, at any of the last 60 cuts of pasta_promo and
dominicks_oj or the last 120 of the store panel (closed Sundays and holidays included).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.data.zero_runs import MIN_RUN, RATIO
from tidecast.wording import counted, plural

# A usual date sees at least this share of its rows sell: an intermittent panel has dates
# without a sale anywhere, so a run of them at its end says nothing.
USUAL_SHARE = 0.5
# The tail spans at least a week: a chain shut everywhere over a long weekend (Easter, Christmas)
# at the data's end is a closure, not a plan; a plan written as 0 runs for the horizon.
TAIL_SPAN = np.timedelta64(7, "D")


def rows_ahead(canonical: pd.DataFrame, known: Sequence[str]) -> np.ndarray:
    """A mask of the canonical panel's rows that lie after the last target value of the whole
    panel, have no target and hold at least one known covariate (none without known
    covariates). A series that ends before the others keeps its empty rows up to the panel's
    end: they are its absent weeks (a ragged end, which a backfill may fill), not a plan."""
    columns = [c for c in known if c in canonical.columns]
    if not columns or len(canonical) == 0:
        return np.zeros(len(canonical), dtype=bool)
    target = canonical[TARGET]
    last = canonical[TIMESTAMP].where(target.notna()).max()
    planned = canonical[columns].notna().any(axis=1)
    return np.asarray(target.isna() & (canonical[TIMESTAMP] > last) & planned)


def ahead_note(rows: pd.DataFrame) -> Problem:
    """What the console and the report say of the rows kept as the future."""
    return Problem(
        "rows_ahead",
        f"{counted(len(rows), 'row')} after the data's last target value "
        f"{plural(len(rows), 'holds', 'hold')} known covariates",
        count=len(rows),
        items=sample_items(rows[ITEM_ID].unique()),
        handled="kept as the future over the horizon, used when no future is given",
    )


def zero_written_tail(canonical: pd.DataFrame) -> np.ndarray:
    """A mask of the rows whose 0 the rule above reads as not yet observed: the zeros on the
    panel's last dates when no series sold anything on them (at least two series)."""
    none = np.zeros(len(canonical), dtype=bool)
    if canonical[ITEM_ID].nunique() < 2:
        return none
    target = canonical[TARGET].to_numpy(dtype=np.float64, na_value=np.nan)
    stamps = canonical[TIMESTAMP].to_numpy()
    observed = ~np.isnan(target)
    dates, date_of = np.unique(stamps[observed], return_inverse=True)
    rows = np.bincount(date_of, minlength=len(dates))
    selling = np.bincount(date_of, weights=target[observed] > 0, minlength=len(dates))
    idle = selling == 0
    tail = len(idle) - (np.flatnonzero(~idle)[-1] + 1) if (~idle).any() else 0
    if tail < MIN_RUN or tail == len(idle) or dates[-1] - dates[-tail - 1] < TAIL_SPAN:
        return none
    before = idle[:-tail]
    breaks = np.flatnonzero(np.diff(np.r_[0, before.astype(np.int8), 0]))
    longest = int(np.max(breaks[1::2] - breaks[::2])) if len(breaks) else 0
    usual = float(np.median(selling[:-tail] / rows[:-tail]))
    if tail <= RATIO * longest or usual < USUAL_SHARE:
        return none
    return observed & (stamps >= dates[-tail]) & (target == 0)


def zero_tail_note(canonical: pd.DataFrame, mask: np.ndarray, hint: str) -> Problem:
    """What the console and the report say of the zeros `zero_written_tail` read as unobserved."""
    dates = canonical.loc[mask, TIMESTAMP]
    first, last = pd.Timestamp(dates.min()), pd.Timestamp(dates.max())
    return Problem(
        "zero_tail",
        f"no series sold anything from {first.date()} to {last.date()} "
        f"({counted(dates.nunique(), 'date')} at the panel's end, {counted(int(mask.sum()), 'zero')}), "
        "unlike any earlier dates",
        count=int(mask.sum()),
        items=sample_items(canonical.loc[mask, ITEM_ID].unique()),
        handled=f"read as not yet observed (future dates written as 0); their known covariates are the "
        f"plan ({hint})",
    )
