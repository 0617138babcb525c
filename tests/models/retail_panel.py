"""A small synthetic store panel with the traits that broke the global model on real retail data.

Issue 10 reports a held-out panel (~1,100 stores, daily, 2.5 years, horizon 48) on which the
LightGBM scored wQL 0.81 against SeasonalNaive's 0.23. This builds its failure modes at test
size: a weekly pattern, stores closed on Sundays and some holidays (`open` = 0 and sales 0),
promotions multiplying sales by 1.3-2x, school holidays lifting them a little, store scales
from 10 to 10^4, a fifth of the stores missing six months of rows in the middle, and a few
negative values (returns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec

HORIZON = 48
KNOWN = ("open", "promo", "state_holiday", "school_holiday")
SPEC = DatasetSpec(freq="D", known_covariates=KNOWN)
# Weekday multipliers, Monday first: Sunday's value only matters for stores open on Sundays.
WEEKDAY = np.array([1.25, 1.0, 0.95, 0.95, 1.05, 1.15, 0.6])


def store_panel(
    n_stores: int = 30, n_days: int = 913, seed: int = 0, gap_start: int | None = None, decades: float = 3.0
) -> pd.DataFrame:
    """The long panel, rows of the gap stores' missing months absent (not NaN)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2013-01-01", periods=n_days, freq="D")
    t = np.arange(n_days)
    weekday = days.weekday.to_numpy()
    yearly = 1 + 0.1 * np.sin(2 * np.pi * t / 365.25)
    holiday = np.zeros(n_days, dtype=bool)
    for month, day in ((1, 1), (1, 6), (5, 1), (8, 15), (10, 3), (12, 25), (12, 26)):
        holiday |= (days.month == month) & (days.day == day)
    school = (days.month == 7) | (days.month == 8) | ((days.month == 12) & (days.day > 22))
    parts = []
    for i in range(n_stores):
        scale = 10 ** rng.uniform(1, 1 + decades)
        sunday_open = i % 10 == 9  # a few stores sell on Sundays
        open_ = ~holiday & (sunday_open | (weekday != 6))
        if i % 7 == 3:  # closed a few weeks for refurbishment, reopening before the cutoff
            shut = n_days - HORIZON - rng.integers(10, 120)
            open_[shut - rng.integers(14, 60) : shut] = False
        # Promotions run Monday to Friday in alternate weeks, the parity by store.
        promo = open_ & (weekday < 5) & ((t // 7 + i) % 2 == 0)
        lift = rng.uniform(1.3, 2.0)
        growth = 1 + rng.uniform(-0.15, 0.25) * t / n_days
        mean = scale * WEEKDAY[weekday] * yearly * growth * np.where(promo, lift, 1.0)
        mean *= np.where(school, 1.1, 1.0)
        sales = np.round(mean * rng.lognormal(0, 0.1, n_days))
        sales = np.where(open_, sales, 0.0)
        returns = rng.random(n_days) < 0.002
        sales[returns & open_] = -np.round(rng.uniform(0.01, 0.1) * scale)
        frame = pd.DataFrame(
            {
                ITEM_ID: f"store_{i:02d}",
                TIMESTAMP: days,
                TARGET: sales,
                "open": open_.astype(np.int8),
                "promo": promo.astype(np.int8),
                "state_holiday": holiday.astype(np.int8),
                "school_holiday": school.astype(np.int8),
            }
        )
        if i % 5 == 0:  # a fifth of the stores miss six months of rows in the middle
            gap = gap_start if gap_start is not None else rng.integers(n_days // 4, n_days // 2)
            frame = frame.drop(frame.index[gap : gap + 182])
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def split(panel: pd.DataFrame, horizon: int = HORIZON) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History and the held-out last `horizon` days (the test days carry the truth)."""
    cutoff = panel[TIMESTAMP].max() - pd.Timedelta(days=horizon)
    history = panel[panel[TIMESTAMP] <= cutoff].reset_index(drop=True)
    test = panel[panel[TIMESTAMP] > cutoff].reset_index(drop=True)
    return history, test
