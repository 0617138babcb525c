"""Items too short for every selected model: forecast from their peers, scaled by their own sales.

A new item with a day or a few of history is under each member's `min_length` (LightGBM: 8),
so each member gives its fallback, the level of what the item sold (`naive_fallback`). With
one observation, or only a closed day's 0, that is a single day's phase or nothing, and it
misses the weekly cycle, promotions and holidays the horizon brings. The item's peers (the
training panel's items sharing its static attributes, kept with the model so that the item's
forecast does not depend on what else the call holds: `automl.peer_reference`) have all of
those in their forecasts, so the cold-start
profile (`coldstart.ColdStart`) scales theirs to the item by its own sales over the same dates,
trusted as k / (k + s) for k observations, the more the item has sold the more. s is the
normal-normal shrinkage of a log level (`peer_reference.prior_steps`): the noise of one day's log sales about
its item's level over the spread of the peers' log levels. Peers of one scale (a category's
stores) make the prior worth days of sales; peers from 1 to 10^5 units make it worth almost
nothing, and the item's own first sales set its level. Closed days (`automl.closures`) are left out of every observation (the store was shut,
which says nothing of demand); the closed horizon days are zeroed afterwards, as for every item.

Only items that every member forecast by its fallback, only with static attributes, and only
from peers whose forecast covers the same dates; anything else keeps the members' forecast.

Where the training peers cannot serve, the call's other items are the peers, as they were for
every item before the reference was kept: a fit that could not forecast its own panel (known
covariates and no plan for them: `fit(data)` then `predict(future=...)`), and a short item whose
dates lie past the training panel's (newer data sent to an endpoint). Its forecast can move with
the call there, but the members' flat fallback, which would otherwise stand, misses the weekly
cycle and the promotions its peers' forecasts hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.automl.peer_reference import (
    LEVEL_STEPS,
    PeerReference,
    observations,
    plan_lifts,
    reference_from,
)
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP, quantile_columns
from tidecast.errors import ConfigError

if TYPE_CHECKING:
    from tidecast.coldstart.profile import ColdStart

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
    peers: PeerReference | None = None,
) -> pd.DataFrame:
    """`forecast` (canonical) with the `short` items' rows replaced by the profile of `peers`
    (`automl.peer_reference`: the training panel's items). The items no training peer covers,
    and every item where `peers` is None (models saved before they were kept) or empty (a fit
    that could not forecast its panel), take their peers from this call's `forecast` and
    `panel` (`call_peers`).

    Sales and forecasts are compared without the lifts of each item's own 0/1 flags
    (`coldstart.lifts`), and the profile gets the short item's own from `future`."""
    if not len(short) or panel.static is None or panel.static.empty:
        return forecast
    out = forecast.copy()
    out.attrs = {**forecast.attrs, PEER_ITEMS: []}
    new = panel.static.rename_axis(ITEM_ID).reset_index().astype({ITEM_ID: str})
    new = new[new[ITEM_ID].isin(set(map(str, short)))]
    ids = forecast[ITEM_ID].astype(str)
    at_new = ids.isin(set(new[ITEM_ID])).to_numpy()
    ends = new[ITEM_ID].map(forecast[at_new].groupby(ids[at_new])[TIMESTAMP].max())
    covered = (
        ends.isin(set(peers.ends)).to_numpy()
        if peers is not None and not peers.items.empty
        else np.zeros(len(new), dtype=bool)
    )
    replaced = _replace(out, forecast, panel, new[covered], ends[covered], quantiles, closures, future, peers)
    if not covered.all():  # no training peer covers them: the call's other items, as before
        own = call_peers(forecast, panel, short, quantiles, closures, future)
        replaced += _replace(
            out, forecast, panel, new[~covered], ends[~covered], quantiles, closures, future, own
        )
    out.attrs[PEER_ITEMS] = sorted(replaced)
    return out


def _replace(
    out: pd.DataFrame,
    forecast: pd.DataFrame,
    panel: SeriesArrays,
    new: pd.DataFrame,
    ends: pd.Series,
    quantiles: Sequence[float],
    closures: tuple[tuple[str, float], ...],
    future: pd.DataFrame | None,
    peers: PeerReference | None,
) -> list[str]:
    """The rows of `out` (a copy of `forecast`) of the short items `new` (item + attributes,
    `ends` their last forecast dates) replaced by their profile from `peers`; the items replaced."""
    from tidecast.coldstart.profile import ColdStart

    if peers is None or peers.items.empty or new.empty:
        return []
    attrs = list(panel.static.columns) if panel.static is not None else []
    ids = forecast[ITEM_ID].astype(str)
    rows = np.isin(np.repeat(panel.item_ids.astype(str), panel.lengths), new[ITEM_ID].to_numpy())
    early = observations(panel, rows, closures, peers.lifts)  # the short items' own sales
    cold = ColdStart(
        attrs,
        tuple(quantiles),
        prior_steps=peers.prior_steps,
        level_steps=LEVEL_STEPS,
        max_peers=peers.max_peers,
    )
    peer_ends = peers.ends
    qcols = [MEAN, *quantile_columns(quantiles)]
    keys = pd.MultiIndex.from_arrays([ids, forecast[TIMESTAMP]])
    ahead = peers.lifts.on_rows(forecast, future)
    replaced: list[str] = []
    for end, group in new.groupby(ends.to_numpy()):
        known = peers.items[peers.items[ITEM_ID].map(peer_ends).eq(end)]
        for batch in _batches(group, set(known[ITEM_ID])):
            mates = known[~known[ITEM_ID].isin(set(batch[ITEM_ID]))]  # an item is not its own peer
            try:
                profile = _profile(cold, peers, mates, batch, early)
            except ConfigError:  # no peer covers these dates: the members' forecast stands
                continue
            at = keys.get_indexer(pd.MultiIndex.from_arrays([profile[ITEM_ID], profile[TIMESTAMP]]))
            found = at >= 0
            out.iloc[at[found], [out.columns.get_loc(c) for c in qcols]] = (
                profile.loc[found, qcols].to_numpy() * ahead[at[found]][:, None]
            )
            replaced += sorted(set(profile[ITEM_ID]))
    return replaced


def _batches(new: pd.DataFrame, peer_ids: set[str]) -> list[pd.DataFrame]:
    """The short items profiled together: all but those that are peers themselves (a long item
    of the training panel that the call gives only its last few days), each of which is
    profiled alone, without itself among its peers."""
    is_peer = new[ITEM_ID].isin(peer_ids).to_numpy()
    alone = [new.iloc[[k]] for k in np.flatnonzero(is_peer)]
    return ([new[~is_peer]] if (~is_peer).any() else []) + alone


def _profile(
    cold: ColdStart, peers: PeerReference, mates: pd.DataFrame, new: pd.DataFrame, early: pd.DataFrame
) -> pd.DataFrame:
    """`ColdStart.forecast` of the `new` items from the peers `mates`: their forecasts, and
    their observations beside the new items' own from the first date the peers' reach."""
    ids = set(mates[ITEM_ID])
    history = peers.history[peers.history[ITEM_ID].isin(ids)].astype({ITEM_ID: str})
    rows = peers.forecasts[peers.forecasts[ITEM_ID].isin(ids)].astype({ITEM_ID: str})
    start = history[TIMESTAMP].min() if len(history) else pd.Timestamp.max
    early = early[early[ITEM_ID].isin(set(new[ITEM_ID])) & (early[TIMESTAMP] >= start)]
    return cold.forecast(mates, history, rows, new, early=early)


def call_peers(
    forecast: pd.DataFrame,
    panel: SeriesArrays,
    short: Sequence[str],
    quantiles: Sequence[float],
    closures: tuple[tuple[str, float], ...] = (),
    future: pd.DataFrame | None = None,
) -> PeerReference:
    """The peers of a model saved before they were kept: the call's other items, their last
    `LEVEL_STEPS` observations and every one since the first of the `short` items', the lifts
    of the 0/1 flags `future` gives."""
    lifts = plan_lifts(panel, future, closures)
    ids = np.repeat(panel.item_ids.astype(str), panel.lengths)
    own = np.isin(ids, list(map(str, short)))
    first = panel.timestamps[own].min() if own.any() else panel.timestamps.max()
    keep = (panel.steps_from_end() <= LEVEL_STEPS) | (panel.timestamps >= first)
    return reference_from(forecast, panel, short, quantiles, keep, lifts, closures, future)
