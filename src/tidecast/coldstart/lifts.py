"""Multiplicative lifts of 0/1 known covariates (a promotion), so that a profile compares like
with like.

A short item's level comes from its first days against its peers' sales on the same dates
(`ColdStart`). When the item was on promotion on one of those days and its peers were not,
the ratio takes the promotion's lift for the item's level; and the profile, made of the peers'
forecasts, carries the peers' future promotions rather than the item's own. On the messy
demo at seed 0 an item with two days of history, one of them on promotion (2.2x), was
forecast 46% high on its ordinary days and 27% low on its own promotion day.

A lift is the median over items of each item's mean log sales on the covariate's 1-days
minus on its 0-days, over its last `HISTORY` steps (positive sales only: a closed day's 0 is
the closure rule's business). Sales, observed and forecast, are divided by the lifts of the
item's own flags to compare and combine, and the short item's profile is multiplied by the
lifts of its own future flags. A flag that every item shares on a date (a public holiday)
divides the item and its peers alike, so it changes nothing there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tidecast.automl.closures import future_rows
from tidecast.data.arrays import SeriesArrays

# Each item's last this many steps estimate its lift (a year of daily data).
HISTORY = 365
# An item counts towards a lift with at least this many positive days in each state...
MIN_DAYS = 3
# ...and a lift needs this many such items; fewer leave the covariate alone.
MIN_ITEMS = 3


@dataclass(frozen=True)
class Lifts:
    """The multiplicative lift of each 0/1 covariate on its 1-days, by column."""

    factors: dict[str, float] = field(default_factory=dict)

    def multiplier(self, covariates: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The product of the lifts of the flags set in each of `n` rows (1 where none is, or
        where a column is absent or unknown)."""
        out = np.ones(n)
        for column, factor in self.factors.items():
            if column in covariates:
                flags = np.asarray(covariates[column], dtype=np.float64)
                out *= np.where(flags == 1.0, factor, 1.0)
        return out

    def on_rows(self, rows: pd.DataFrame, future: pd.DataFrame | None) -> np.ndarray:
        """Per row of `rows` (item, timestamp), the lift of the flags `future` gives its item on
        that step (1 without `future`, or where it has no row)."""
        if not self.factors or future is None:
            return np.ones(len(rows))
        columns = [c for c in self.factors if c in future.columns]
        keyed = future_rows(rows, future, columns)
        return self.multiplier({c: keyed[c].to_numpy(dtype=np.float64) for c in columns}, len(keyed))


def binary_lifts(panel: SeriesArrays, columns: Sequence[str], skip: Sequence[str] = ()) -> Lifts:
    """The lifts of the 0/1 covariates among `columns` that the panel holds (`skip`: columns
    of closure rules, whose 0 is a shut store, not a lift)."""
    factors: dict[str, float] = {}
    columns = [c for c in columns if c not in skip and c in panel.covariates]
    if not columns:
        return Lifts()
    recent = panel.steps_from_end() <= HISTORY
    series = np.repeat(np.arange(panel.n_series), panel.lengths)
    y = panel.values
    positive = recent & np.isfinite(y) & (y > 0)
    logs = np.log(np.where(positive, y, 1.0))
    for column in columns:
        try:
            flags = np.asarray(panel.covariates[column], dtype=np.float64)
        except (TypeError, ValueError):  # a text covariate is no flag
            continue
        known = np.isfinite(flags)
        if not np.isin(flags[known], (0.0, 1.0)).all():
            continue
        differences = _by_item(series, logs, positive & (flags == 1.0), positive & (flags == 0.0))
        if len(differences) >= MIN_ITEMS:
            factors[column] = float(np.exp(np.median(differences)))
    return Lifts(factors)


def _by_item(series: np.ndarray, logs: np.ndarray, on: np.ndarray, off: np.ndarray) -> list[float]:
    """Per item with `MIN_DAYS` in both states, its mean log on minus off."""
    n = int(series.max()) + 1 if len(series) else 0
    count_on = np.bincount(series[on], minlength=n)
    count_off = np.bincount(series[off], minlength=n)
    sum_on = np.bincount(series[on], weights=logs[on], minlength=n)
    sum_off = np.bincount(series[off], weights=logs[off], minlength=n)
    both = (count_on >= MIN_DAYS) & (count_off >= MIN_DAYS)
    return (sum_on[both] / count_on[both] - sum_off[both] / count_off[both]).tolist()
