"""The peers a short item's profile is made of (`automl.short_items`), fixed when the model is fit.

A short item's forecast is its peers' profile (`coldstart.ColdStart`): their forecasts, scaled
to the item by their levels and by its sales against theirs on its dates. When the peers were
the other items of the same predict call, the forecast of one item moved with the make-up of
the call: a batch chunk of other stores, an API request for the item alone (no peers at all:
the models' fallback), the whole catalogue. So the peers are now the model's own training
panel, taken once at the end of `fit` (`training_peers`) and kept with the fitted state:

* `items`: each peer's static attributes (the training items no member forecast by its
  fallback, as before);
* `forecasts`: the ensemble's forecast of each, after calibration and before closures
  (as the call's forecast was), divided by the lifts of its own 0/1 flags (`coldstart.lifts`);
* `history`: each peer's last `LEVEL_STEPS` open-day observations, divided by the same lifts
  (its level, and its sales on a short item's dates);
* `lifts` and `prior_steps`, estimated on the training panel.

Why this and not the alternatives: the profile needs, per peer, a forecast over the short
item's dates and its sales on the item's first dates, so a summary per peer group cannot give
the same profile (each peer is scaled by its own ratio before they are mixed); and forecasting
the peers again at predict time needs the stored history (which a batch worker does not load)
and the peers' known covariates over the horizon (which a request for one item does not
carry). The fit has both once, and one forecast of the training panel costs about what a
predict of it does. What it keeps is a few values per item and step, for at most
`MAX_PEERS` + 1 items of each peer group (`capped`, `coldstart.peer_sample` says why the profile
of that sample stands for the group's), as float32 with the ids as categories.

What follows from it: a short item's forecast is the same whatever else is in the call. The
profile covers the dates the training peers were forecast for, so a short item in newer data
(a later end than the training panel's) keeps the members' forecast: refit to profile it. Its
early sales count from the reference's window on (the last `LEVEL_STEPS` steps). With known
covariates the peers' forecasts use the plan the fit had (`fit(future=...)`, or the data's rows
after its last date); their own flags' lifts are taken out, and the short item's own flags
from the call's future are put in. A fit with known covariates and neither keeps no peers
(`note` says why), and its short items keep the members' forecast. Models saved before have no
reference, and take the peers from the call as they did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tidecast.coldstart.lifts import Lifts, binary_lifts
from tidecast.coldstart.peer_sample import attribute_texts, kept_peers
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, TARGET, TIMESTAMP, quantile_columns
from tidecast.models.gbm_closed import open_values

# Recent steps behind a peer's level (`ColdStart.level_steps`) and its sales on a short item's dates.
LEVEL_STEPS = 28
COLUMNS = [ITEM_ID, TIMESTAMP, TARGET]


@dataclass(frozen=True)
class PeerReference:
    """The peers of every short item a model forecasts (see the module docstring)."""

    items: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[ITEM_ID]))
    forecasts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=[ITEM_ID, TIMESTAMP]))
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    lifts: Lifts = field(default_factory=Lifts)
    prior_steps: float = 7.0
    note: str = ""  # why there are none, where there are none
    max_peers: int | None = None  # peers profiled per group (`coldstart.peer_sample`); None: all

    @property
    def ends(self) -> pd.Series:
        """Each peer's last forecast date (a short item's peers end their forecast with it)."""
        ends = self.forecasts.groupby(ITEM_ID, observed=True)[TIMESTAMP].max()
        return ends.set_axis(ends.index.astype(str))


def reference_from(
    forecast: pd.DataFrame,
    panel: SeriesArrays,
    exclude: Sequence[str],
    quantiles: Sequence[float],
    keep: np.ndarray,
    lifts: Lifts,
    closures: tuple[tuple[str, float], ...] = (),
    future: pd.DataFrame | None = None,
    max_peers: int | None = None,
) -> PeerReference:
    """The items of `panel` with static attributes, less `exclude`, as peers: their rows of
    `forecast` and their observations on the rows `keep` (open days), both without their own
    flags' `lifts` (the flags of the horizon from `future`); with `max_peers`, only the items
    a profile of at most that many peers per group can take (`capped`)."""
    if panel.static is None or panel.static.empty:
        return PeerReference(note="the data has no static attributes")
    items = panel.static.rename_axis(ITEM_ID).reset_index().astype({ITEM_ID: str})
    items = items[~items[ITEM_ID].isin(set(map(str, exclude)))].reset_index(drop=True)
    ids = forecast[ITEM_ID].astype(str)
    rows = ids.isin(set(items[ITEM_ID])).to_numpy()
    qcols = [MEAN, *quantile_columns(quantiles)]
    base = forecast.loc[rows, [ITEM_ID, TIMESTAMP, *qcols]].reset_index(drop=True)
    base[ITEM_ID] = base[ITEM_ID].astype(str)
    if lifts.factors:
        base[qcols] = base[qcols].to_numpy() / lifts.on_rows(base, future)[:, None]
    history = observations(panel, keep, closures, lifts)
    history = history[history[ITEM_ID].isin(set(items[ITEM_ID]))].reset_index(drop=True)
    reference = PeerReference(items, base, history, lifts, prior_steps(history))
    return capped(reference, max_peers) if max_peers is not None else reference


def capped(reference: PeerReference, max_peers: int, min_peers: int = 3) -> PeerReference:
    """`reference` less the items no group of `max_peers` peers takes (`coldstart.peer_sample`:
    grouped by last forecast date, then by each prefix of the attributes), its values as
    float32 and its ids as categories in the per-step frames. `prior_steps` stays the one of
    every item."""
    items = reference.items
    keys = attribute_texts(items.drop(columns=ITEM_ID)).assign(
        **{TIMESTAMP: items[ITEM_ID].map(reference.ends)}
    )
    keys = keys[[TIMESTAMP, *items.columns.drop(ITEM_ID)]]
    keep = kept_peers(keys, items[ITEM_ID], max_peers + 1, min_peers)  # + 1: not its own peer
    items = items[keep].reset_index(drop=True)
    kept = set(items[ITEM_ID])

    def compact(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame[ITEM_ID].isin(kept)].reset_index(drop=True)
        values = frame.columns.drop([ITEM_ID, TIMESTAMP])
        return frame.astype({ITEM_ID: "category", **dict.fromkeys(values, np.float32)})

    return replace(
        reference,
        items=items,
        forecasts=compact(reference.forecasts),
        history=compact(reference.history),
        max_peers=max_peers,
    )


def plan_lifts(
    panel: SeriesArrays, future: pd.DataFrame | None, closures: tuple[tuple[str, float], ...]
) -> Lifts:
    """The lifts of the 0/1 columns of `future` (none without it), closing columns left out."""
    flags = [c for c in future.columns if c not in (ITEM_ID, TIMESTAMP)] if future is not None else []
    return binary_lifts(panel, flags, skip=[column for column, _ in closures])


def observations(
    panel: SeriesArrays, keep: np.ndarray, closures: tuple[tuple[str, float], ...], lifts: Lifts
) -> pd.DataFrame:
    """The rows `keep` of `panel` as (item, timestamp, target), open days only (`closures`),
    each divided by its own flags' `lifts`."""
    ids = np.repeat(panel.item_ids.astype(str), panel.lengths)
    divisor = lifts.multiplier(panel.covariates, len(panel.values))
    values = open_values(panel.values, panel.covariates, closures) / divisor
    frame = pd.DataFrame({ITEM_ID: ids[keep], TIMESTAMP: panel.timestamps[keep], TARGET: values[keep]})
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
