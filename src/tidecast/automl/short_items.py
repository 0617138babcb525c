"""Items too short for every selected model: forecast from their peers, scaled by their own sales.

A new item with a day or a few of history is under each member's `min_length` (LightGBM: 8),
so each member gives its fallback, the level of what the item sold (`naive_fallback`). With
one observation, or only a closed day's 0, that is a single day's phase or nothing, and it
misses the weekly cycle, promotions and holidays the horizon brings. The item's peers (the
items sharing its static attributes) have all of those in their forecasts, so the cold-start
profile (`coldstart.ColdStart`) scales theirs to the item by its own sales over the same dates,
trusted as k / (k + s) for k observations, the more the item has sold the more. s is the
normal-normal shrinkage of a log level (`prior_steps`): the noise of one day's log sales about
its item's level over the spread of the peers' log levels. Peers of one scale (a category's
stores) make the prior worth days of sales; peers from 1 to 10^5 units make it worth almost
nothing, and the item's own first sales set its level. Closed days (`automl.closures`) are left out of every observation (the store was shut,
which says nothing of demand); the closed horizon days are zeroed afterwards, as for every item.

Only items that every member forecast by its fallback, only with static attributes, and only
from peers whose forecast covers the same dates; anything else keeps the members' forecast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tidecast.coldstart.lifts import Lifts, binary_lifts
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_columns
from tidecast.errors import ConfigError
from tidecast.models.gbm_closed import open_values

# attrs key of a forecast frame: the items whose forecast is their peers' profile.
PEER_ITEMS = "peer_profile_items"


def short_items(fallback: Mapping[str, Sequence[str]], members: Sequence[str]) -> list[str]:
    """The items every member forecast by its fallback (none when a member had none)."""
    if not members or any(name not in fallback for name in members):
        return []
    common = set.intersection(*(set(map(str, fallback[name])) for name in members))
    return sorted(common)


def peer_profiles(
    forecast: pd.DataFrame,
    panel: SeriesArrays,
    short: Sequence[str],
    quantiles: Sequence[float],
    closures: tuple[tuple[str, float], ...] = (),
    future: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`forecast` (canonical) with the `short` items' rows replaced by their peers' profile.

    With `future` (the known covariates of the horizon), sales and forecasts are compared
    without the lifts of each item's own 0/1 flags (`coldstart.lifts`), and the profile gets
    the short item's own."""
    from tidecast.coldstart.profile import ColdStart

    if not len(short) or panel.static is None or panel.static.empty:
        return forecast
    attrs = list(panel.static.columns)
    items = panel.static.rename_axis(ITEM_ID).reset_index().astype({ITEM_ID: str})
    flags = [c for c in future.columns if c not in (ITEM_ID, TIMESTAMP)] if future is not None else []
    lifts = binary_lifts(panel, flags, skip=[c for c, _ in closures])
    ahead = lifts.on_rows(forecast, future)
    qcols = [MEAN, *quantile_columns(quantiles)]
    base = forecast
    if lifts.factors:  # the peers' forecasts without their own flags' lifts
        base = forecast.copy()
        base[qcols] = forecast[qcols].to_numpy() / ahead[:, None]
    history = _recent(panel, set(short), closures, ColdStart(attrs).level_steps, lifts)
    cold = ColdStart(
        attrs, tuple(quantiles), prior_steps=prior_steps(history[~history[ITEM_ID].isin(set(short))])
    )
    early = history[history[ITEM_ID].isin(set(short))]
    is_short = items[ITEM_ID].isin(set(short))
    ids = forecast[ITEM_ID].astype(str)
    ends = forecast.groupby(ids)[TIMESTAMP].max()
    out = forecast.copy()
    replaced: list[str] = []
    for end, new in items[is_short].groupby(items.loc[is_short, ITEM_ID].map(ends)):
        peers = items[~is_short & items[ITEM_ID].map(ends).eq(end)]
        peer_rows = base[ids.isin(set(peers[ITEM_ID]))]
        try:
            profile = cold.forecast(peers, history, peer_rows, new, early=early)
        except ConfigError:  # no peer covers these dates: the members' forecast stands
            continue
        keys = pd.MultiIndex.from_arrays([ids, forecast[TIMESTAMP]])
        at = keys.get_indexer(pd.MultiIndex.from_arrays([profile[ITEM_ID], profile[TIMESTAMP]]))
        found = at >= 0
        own_lift = ahead[at[found]][:, None]
        out.iloc[at[found], [out.columns.get_loc(c) for c in qcols]] = (
            profile.loc[found, qcols].to_numpy() * own_lift
        )
        replaced += sorted(set(profile[ITEM_ID]))
    out.attrs = {**forecast.attrs, PEER_ITEMS: replaced}
    return out


def _recent(
    panel: SeriesArrays,
    short: set[str],
    closures: tuple[tuple[str, float], ...],
    level_steps: int,
    lifts: Lifts | None = None,
) -> pd.DataFrame:
    """The observations a profile reads, open days only: each item's last `level_steps` (its
    level) and every item's since the short items' first (their early-sales ratios), so a
    panel of any length costs no more than that window; each divided by its own flags' `lifts`."""
    ids = np.repeat(panel.item_ids.astype(str), panel.lengths)
    own = np.isin(ids, list(short))
    first = panel.timestamps[own].min() if own.any() else panel.timestamps.max()
    keep = (panel.steps_from_end() <= level_steps) | (panel.timestamps >= first)
    divisor = (lifts or Lifts()).multiplier(panel.covariates, len(panel.values))
    frame = pd.DataFrame(
        {
            ITEM_ID: ids[keep],
            TIMESTAMP: panel.timestamps[keep],
            TARGET: (open_values(panel.values, panel.covariates, closures) / divisor)[keep],
        }
    )
    return frame.dropna(subset=[TARGET])


def prior_steps(history: pd.DataFrame) -> float:
    """Days of an item's own sales that weigh as much as its peers' level: the mean variance
    of a day's log sales about its item's mean log sales, over the variance of the items'
    mean log sales (positive sales only; 7, the cold start's default, without two items)."""
    positive = history[history[TARGET] > 0]
    logs = np.log(positive[TARGET].to_numpy(dtype=np.float64))
    by_item = pd.Series(logs).groupby(positive[ITEM_ID].to_numpy())
    levels = by_item.mean()
    if len(levels) < 2:
        return 7.0
    noise = float(by_item.var(ddof=1).dropna().mean()) if by_item.size().max() > 1 else 0.0
    steps = noise / max(float(levels.var(ddof=1)), 1e-9)
    return steps if np.isfinite(steps) else 7.0
