"""Dormant items: a series that sold nothing for a whole cycle is forecast 0 by every model.

A discontinued product often keeps its rows: zeros (and the odd return) for a year or more
after it stopped selling. The global LightGBM reads its recent level and forecasts about 0;
a model fitted to the whole history does not. On the messy demo with wide scales, a books
category that sold ~300,000 a day in early 2021 and nothing since mid-2021 got a p50 of
10,000-30,000 a day from the dynamic regression, whose yearly cycle carried the early-2021
decline forward as a "season": 76% of its backtest loss on that panel came from the books
(74% from seven of them), its wQL was 0.0454 against 0.0116 on the same panel at one scale,
and the ensemble dropped the model that carried the demo at one scale (weight 0.82). With
the rule: 0.0113, and the AutoML's wQL on that panel 0.0240 -> 0.0133.

So the AutoML sets such items to 0 itself, in every candidate's backtest forecast (the
selection sees the rule, as with closed days) and in the final forecast: an item is dormant
at a cutoff when its last `dormant_steps` cells (a year of daily to quarterly data, four
weeks of hourly or finer data, at least two horizons) hold no sale above 0 and at least half of them are observed (a gap says
nothing about sales). A seasonal item that sells only at Christmas is not dormant: it sold
within the last year. An item that sells again is no longer dormant at the next forecast;
one the user knows is coming back needs `AutoForecaster(zero_dormant=False)`, which turns the
rule off for the whole run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.automl.closures import named, zeroed
from tidecast.data.arrays import SeriesArrays
from tidecast.data.frequency import base_alias, seasonal_periods
from tidecast.data.schema import ITEM_ID
from tidecast.wording import counted, plural

# Sub-daily data cycles over a week at most; four of them make a store's renovation or a
# sensor's outage (weeks of zeros, then back) no dormancy.
SUB_DAILY_CYCLES = 4


def dormant_steps(freq: str, horizon: int) -> int:
    """How many trailing steps without a sale make an item dormant: the frequency's longest
    seasonal cycle (a year of days, weeks, months or quarters), four weeks of hours or
    minutes (`SUB_DAILY_CYCLES` weekly cycles), and at least two horizons."""
    longest = max(seasonal_periods(freq))
    if base_alias(freq)[1] in ("h", "min", "s"):
        longest *= SUB_DAILY_CYCLES
    return max(longest, 2 * int(horizon))


def dormant_items(history: SeriesArrays, steps: int) -> np.ndarray:
    """Item ids whose last `steps` cells hold no value above 0, at least half of them observed.

    Series shorter than `steps` are never dormant: too young to tell a pause from a stop.
    """
    if history.n_series == 0 or steps < 1:
        return history.item_ids[:0]
    ends = history.indptr[1:]
    starts = ends - steps
    long_enough = history.lengths >= steps
    values = history.values
    sold = np.concatenate([[0], np.cumsum(values > 0)])
    seen = np.concatenate([[0], np.cumsum(np.isfinite(values))])
    starts = np.where(long_enough, starts, ends)
    none_sold = sold[ends] - sold[starts] == 0
    observed = seen[ends] - seen[starts] >= (steps + 1) // 2
    return history.item_ids[long_enough & none_sold & observed]


def dormant_at_end(history: SeriesArrays, horizon: int) -> np.ndarray:
    """Item ids dormant at the end of `history` for a forecast of `horizon` steps."""
    return dormant_items(history, dormant_steps(history.freq, horizon))


def dormant_note(history: SeriesArrays, horizon: int) -> list[str]:
    """The report's line on the items dormant at the end of `history`; none when there are none."""
    steps = dormant_steps(history.freq, horizon)
    items = [str(i) for i in dormant_at_end(history, horizon)]
    if not items:
        return []
    return [
        f"dormant items: {len(items)} sold nothing over {plural(len(items), 'its', 'their')} last "
        f"{counted(steps, 'step')} ({named(items)}); every model forecasts 0 for "
        f"{plural(len(items), 'it', 'them')}"
    ]


def among(ids: np.ndarray, items: np.ndarray) -> np.ndarray:
    """True for each of `ids` that is one of `items` (compared as text)."""
    if len(items) == 0 or len(ids) == 0:
        return np.zeros(len(ids), dtype=bool)
    return np.asarray(pd.Index(ids).astype(str).isin(pd.Index(items).astype(str)))


def zero_rows(items: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    """True for each row of `rows` (with an item_id column) that belongs to a dormant item."""
    return among(rows[ITEM_ID].to_numpy(), items)


def zero_dormant(forecast: pd.DataFrame, history: SeriesArrays, horizon: int) -> pd.DataFrame:
    """`forecast` with mean and quantiles set to 0 on the rows of the items dormant in `history`."""
    return zeroed(forecast, zero_rows(dormant_at_end(history, horizon), forecast))
