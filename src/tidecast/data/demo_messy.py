"""The `--messy` demo: the clean demo with the troubles of real retail data cut in.

The clean demo is regular, complete and of one scale, so an engine can look good on it and
still break on a retailer's data. This module takes a chunk of the clean demo (its own items:
same levels, same demand process) and, from its own random stream (the clean data never
changes), gives it what issue 10 lists:

- store closures: the `open` covariate (known in advance) is 0 on Sundays in the regions of
  `SUNDAY_CLOSED_REGIONS` and on `CLOSED_DAYS` everywhere, and sales are exactly 0 then;
- a history shape per item (`KINDS`): complete, a ragged late start, a ragged early end
  (discontinued), a multi-month gap (2-6 months of rows absent), a short history (the last
  60-200 days only), or a new item (the last 14-28 days only);
- promotions that multiply demand: the clean demo's additive promotion units are taken out
  and the day's demand is multiplied by a lift of 1.3-2.5 per item instead;
- returns: on about 0.5% of open days the net sales are negative.

`wide_scales=True` is a harder variant, kept apart because the issue lists mixed scales as a
requirement of the global model rather than of `--messy`: every item is also rescaled to a
log-uniform mean level from about 1 to about 10^5, with the slow movers drawn as Poisson
counts, so they are intermittent like real slow movers.

`history_plan` is the per-item plan (kind, first and last day kept, the gap, level, lift) and
`planned_demand` the expected sales the messy ones are drawn around, so tests and benchmarks
can check the data against them. Same seed, same data; both variants share the plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS: tuple[str, ...] = ("full", "late_start", "early_end", "gap", "short", "new")
KIND_SHARES: tuple[float, ...] = (0.5, 0.15, 0.1, 0.1, 0.1, 0.05)
SUNDAY_CLOSED_REGIONS: tuple[str, ...] = ("North", "East")
CLOSED_DAYS: tuple[str, ...] = ("01-01", "12-25")  # month-day, every store
LEVEL_DECADES = (0.0, 5.0)  # wide scales: log10 range of the per-item mean demand, 1 to 10^5
POISSON_BELOW = 20.0  # wide scales: items whose mean demand is under this are drawn as counts
LIFT_RANGE = (1.3, 2.5)
RETURN_RATE = 0.005
RETURN_SHARE = (0.1, 0.5)  # a return is this share of the item's mean demand, negated


def is_open(regions: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """(items, days) bool: closed on Sundays in some regions and on the closing days everywhere."""
    sunday = np.asarray(dates.dayofweek == 6)
    closing = np.isin(np.asarray(dates.strftime("%m-%d")), CLOSED_DAYS)
    sunday_closed = np.isin(regions, SUNDAY_CLOSED_REGIONS)
    return ~(closing[None, :] | (sunday_closed[:, None] & sunday[None, :]))


def history_plan(n_items: int, n_days: int, rng: np.random.Generator) -> pd.DataFrame:
    """Per item: kind, first and last day kept (inclusive), gap [start, end), the mean level of
    the wide-scale variant (drawn in both, so both share every other draw) and promotion lift."""
    kind = rng.choice(len(KINDS), size=n_items, p=KIND_SHARES)
    first = np.zeros(n_items, dtype=np.int64)
    last = np.full(n_items, n_days - 1, dtype=np.int64)
    late = rng.integers(30, 366, n_items)
    early = rng.integers(30, 201, n_items)
    short = rng.integers(60, 201, n_items)
    new = rng.integers(14, 29, n_items)
    gap_length = rng.integers(60, 181, n_items)
    gap_start = rng.integers(90, max(91, n_days - 90 - 180), n_items)
    first = np.where(kind == KINDS.index("late_start"), late, first)
    last = np.where(kind == KINDS.index("early_end"), n_days - 1 - early, last)
    first = np.where(kind == KINDS.index("short"), n_days - short, first)
    first = np.where(kind == KINDS.index("new"), n_days - new, first)
    has_gap = kind == KINDS.index("gap")
    return pd.DataFrame(
        {
            "kind": np.asarray(KINDS)[kind],
            "first": first,
            "last": last,
            "gap_start": np.where(has_gap, gap_start, -1),
            "gap_end": np.where(has_gap, gap_start + gap_length, -1),
            "level": 10 ** rng.uniform(*LEVEL_DECADES, n_items),
            "lift": rng.uniform(*LIFT_RANGE, n_items),
        }
    )


def planned_demand(
    chunk: pd.DataFrame,
    n_items: int,
    plan: pd.DataFrame,
    promotion_units: np.ndarray,
    wide_scales: bool = False,
) -> np.ndarray:
    """(items, days) expected sales of the clean `chunk` under the plan: on promoted days the
    clean demand less its additive `promotion_units` (items x days), times the item's lift;
    with `wide_scales`, rescaled to the plan's mean level. What the messy sales are drawn
    around (before counts, closures and returns), so a benchmark can tell the data's own
    noise floor from a forecaster's error."""
    demand = chunk["target_value"].to_numpy(np.float64).reshape(n_items, -1)
    promoted = chunk["promotion"].to_numpy().reshape(n_items, -1) == 1
    lift = plan["lift"].to_numpy()[:, None]
    demand = np.where(promoted, np.maximum(demand - promotion_units, 0.0) * lift, demand)
    if wide_scales:
        demand = demand * (plan["level"].to_numpy() / np.maximum(demand.mean(axis=1), 1e-9))[:, None]
    return demand


def make_messy(
    chunk: pd.DataFrame,
    n_items: int,
    dates: pd.DatetimeIndex,
    rng: np.random.Generator,
    promotion_units: np.ndarray,
    wide_scales: bool = False,
) -> pd.DataFrame:
    """The clean `chunk` (item-major, `n_items` x every date) made messy; adds the `open` column.

    `promotion_units` (items x days) is what the clean promotion added to each day's demand.
    The returns are drawn before any Poisson count, so both variants return on the same days.
    """
    n_days = len(dates)
    plan = history_plan(n_items, n_days, rng)
    demand = planned_demand(chunk, n_items, plan, promotion_units, wide_scales)
    regions = np.asarray(chunk["region"].to_numpy()).reshape(n_items, n_days)[:, 0]
    opened = is_open(regions, dates)
    returns = (rng.random((n_items, n_days)) < RETURN_RATE) & opened
    share = rng.uniform(*RETURN_SHARE, (n_items, n_days))
    sales = np.round(demand, 2)
    if wide_scales:
        slow = demand.mean(axis=1) < POISSON_BELOW
        counts = rng.poisson(np.maximum(demand, 0.0)).astype(np.float64)
        sales = np.where(slow[:, None], counts, sales)
    sales = np.where(opened, sales, 0.0)
    level = np.maximum(demand.mean(axis=1), 1.0)[:, None]
    sales = np.where(returns, -np.ceil(share * level), sales)
    day = np.arange(n_days)[None, :]
    keep = (day >= plan["first"].to_numpy()[:, None]) & (day <= plan["last"].to_numpy()[:, None])
    keep &= ~((day >= plan["gap_start"].to_numpy()[:, None]) & (day < plan["gap_end"].to_numpy()[:, None]))
    frame = chunk.assign(target_value=sales.ravel(), open=opened.astype(np.int8).ravel())
    return frame[keep.ravel()].reset_index(drop=True)
