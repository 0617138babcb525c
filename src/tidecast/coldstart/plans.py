"""A new item's own plan: its rows of the future table (a launch promotion, its closed days).

The profile is made of the peers' forecasts, so it carries the peers' known covariates: a new
pasta SKU was forecast 136.9 units over 14 days whether its own future rows said promo = 1 on
every day, 0 on every day, or nothing. Given rows of its own, a new item is forecast to them
as `automl.short_items` forecasts an item too short for the models: the peers' forecasts and
sales are divided by the lifts of their own 0/1 flags (`coldstart.lifts`, promo 2.8x on
pasta), the profile is multiplied by the lifts of the new item's flags, and it is zeroed on
the steps its plan closes (`automl.closures`). An early-sales row may carry the item's flags
too; without them its sales count as unflagged. The other known covariates (a price, a text
event) are not read, and a note says which; a new item without rows carries its peers'.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tidecast.automl.closures import Rules, close_forecast, future_rows, named
from tidecast.coldstart.lifts import Lifts, binary_lifts
from tidecast.coldstart.profile import ColdStart
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_columns
from tidecast.wording import counted, plural


def forecast_new_items(
    auto: Any,
    cold: ColdStart,
    items: pd.DataFrame,
    peers: pd.DataFrame,
    new: pd.DataFrame,
    early: pd.DataFrame | None,
    table: pd.DataFrame | None,
    future: pd.DataFrame | str | Path | None,
) -> pd.DataFrame:
    """`cold`'s forecast of the `new` items (canonical), each to its own rows of the future
    `table` (`future` in canonical names) where it has some, from the fitted `auto`'s history
    and its forecast of the `peers`; the profile's notes and the plan's in `attrs["notes"]`."""
    table = pd.DataFrame(columns=[ITEM_ID, TIMESTAMP]) if table is None else table
    rows = table[table[ITEM_ID].isin(set(new[ITEM_ID]))]
    planned = new[ITEM_ID].isin(set(rows[ITEM_ID]))
    ids = set(new.loc[planned, ITEM_ID])
    mine = early[ITEM_ID].isin(ids) if early is not None else pd.Series(dtype=bool)
    sales = auto.history_[[ITEM_ID, TIMESTAMP, TARGET]]
    parts = [cold.forecast(items, sales, peers, new[~planned], early[~mine] if early is not None else None)]
    lifts = Lifts()
    if planned.any():
        arrays = SeriesArrays.from_spec(auto.history_, auto.spec_)
        lifts = binary_lifts(arrays, auto.spec_.known_covariates, skip=[c for c, _ in auto.closures_])
        ahead = auto.future_for(future, arrays, getattr(auto, "data_future_", None))
        own = early[mine] if early is not None else None
        parts.append(_to_plan(auto, cold, lifts, items, peers, new[planned], own, rows, ahead))
    filled = [part for part in parts if len(part)] or parts[:1]
    out = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    order = out[ITEM_ID].map({item: i for i, item in enumerate(new[ITEM_ID])})
    out = out.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    planned_rows = out[out[ITEM_ID].isin(ids)]
    notes = [note for part in parts for note in part.attrs.get("notes", [])]
    out.attrs["notes"] = notes + plan_notes(
        auto.spec_.known_covariates, lifts, auto.closures_, rows, new[ITEM_ID], planned_rows
    )
    strangers = pd.unique(table.loc[~table[ITEM_ID].isin(set(new[ITEM_ID]) | set(peers[ITEM_ID])), ITEM_ID])
    if len(strangers):
        out.attrs["notes"].append(
            f"the future's rows of {counted(len(strangers), 'item')} that "
            f"{plural(len(strangers), 'is', 'are')} neither the model's nor new are "
            f"ignored ({named(list(strangers), 5)})"
        )
    return out


def _to_plan(
    auto: Any,
    cold: ColdStart,
    lifts: Lifts,
    items: pd.DataFrame,
    peers: pd.DataFrame,
    new: pd.DataFrame,
    early: pd.DataFrame | None,
    rows: pd.DataFrame,
    ahead: pd.DataFrame | None,
) -> pd.DataFrame:
    """The profile of `new` items with their own plan: the peers' forecasts (their future
    `ahead`) and sales without their flags' lifts, then the items' own lifts and closures."""
    history = auto.history_
    qcols = [MEAN, *quantile_columns(cold.quantiles)]
    base = peers.copy()
    base[qcols] = peers[qcols].to_numpy() / lifts.on_rows(peers, ahead)[:, None]
    sales = history[[ITEM_ID, TIMESTAMP, TARGET]].copy()
    sales[TARGET] = history[TARGET].to_numpy() / _flag_lifts(history, lifts)
    if early is not None:
        early = early.assign(**{TARGET: early[TARGET].to_numpy() / _flag_lifts(early, lifts)})
    profile = cold.forecast(items, sales, base, new, early)
    profile[qcols] = profile[qcols].to_numpy() * lifts.on_rows(profile, rows)[:, None]
    # only the forecast's columns go in: `close_forecast` zeroes every column named p..., and
    # peer_group and peers read "0" on the closed days
    closed = close_forecast(profile[[ITEM_ID, TIMESTAMP, *qcols]], rows, auto.closures_)
    profile[qcols] = closed[qcols].to_numpy()
    return profile


def plan_notes(
    known: Sequence[str],
    lifts: Lifts,
    closures: Rules,
    rows: pd.DataFrame,
    new: pd.Series,
    profile: pd.DataFrame,
) -> list[str]:
    """What the new items' future rows did (`rows`, canonical, of the new items in `new` that
    have some; `profile`: their forecast rows), and what they could not."""
    closing = list(dict.fromkeys(c for c, _ in closures))
    read = [c for c in lifts.factors if c in rows.columns] + [c for c in closing if c in rows.columns]
    planned = list(pd.unique(rows[ITEM_ID]))
    notes = []
    if planned and read:
        done = [f"{c} (x{lifts.factors[c]:.2f} on its 1-days)" for c in lifts.factors if c in read]
        done += [f"closed where {c} = {v:g}" for c, v in closures if c in read]
        notes.append(
            f"{counted(len(planned), 'new item')} ({named(planned, 5)}) "
            f"{plural(len(planned), 'is')} forecast to {plural(len(planned), 'its', 'their')} own future "
            f"rows: {', '.join(done)}"
        )
        keyed = future_rows(profile, rows, read)
        gaps = keyed[read].isna().any(axis=1).to_numpy()
        if gaps.any():
            first = keyed.loc[gaps].iloc[0]
            notes.append(
                f"the future table leaves {counted(int(gaps.sum()), 'forecast step')} of the new items "
                f"without {read} (e.g. {first[ITEM_ID]} on {first[TIMESTAMP]:%Y-%m-%d}): those get no lift "
                "and are not closed"
            )
    unread = [c for c in known if c not in read and c in rows.columns and rows[c].notna().any()]
    if unread:
        notes.append(
            f"the new items' future column(s) {unread} are not read (only 0/1 flags whose lift the "
            "history shows, and closing columns, are): their forecast follows their peers' values"
        )
    without = [i for i in new.astype(str) if i not in set(planned)]
    if known and without:
        their = plural(len(without), "its", "their")
        notes.append(
            f"{counted(len(without), 'new item')} ({named(without, 5)}) "
            f"{plural(len(without), 'has')} no rows in the future table: {their} forecast carries "
            f"{their} peers' {list(known)}"
        )
    return notes


def _flag_lifts(frame: pd.DataFrame, lifts: Lifts) -> np.ndarray:
    """Per row of `frame`, the lift of the flags it carries (1 where it carries none)."""
    columns = [c for c in lifts.factors if c in frame.columns]
    flags = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=np.float64) for c in columns}
    return lifts.multiplier(flags, len(frame))
