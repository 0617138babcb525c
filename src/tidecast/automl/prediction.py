"""The fitted ensemble's forecast: members' forecasts weighted, calibrated, then the panel's rules.

One function, so `AutoForecaster.predict_canonical` (and through it the service and batch)
applies the post-processing in one fixed order: weighted sum of the members, quantile
calibration of the sum (and the members' sign rule again, `models.base.sign_rule`), the training
peers' profiles for items every member forecast by its fallback (`automl.peer_reference`),
then closed days and dormant items set to 0 (last, so nothing after it can reopen them).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tidecast.automl.calibration import QuantileCalibration
from tidecast.automl.closures import Rules, close_forecast, require_plan
from tidecast.automl.dormant import zero_dormant
from tidecast.automl.ensemble import combine_members
from tidecast.automl.peer_reference import PeerReference
from tidecast.automl.short_items import peer_profiles, short_items
from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN, quantile_columns
from tidecast.models.base import FALLBACK_ITEMS, Forecaster, negative_share, sign_rule


def ensemble_forecast(
    members: Mapping[str, Forecaster],
    weights: Mapping[str, float],
    panel: SeriesArrays,
    future: pd.DataFrame | None,
    quantiles: tuple[float, ...],
    calibration: QuantileCalibration | None,
    closures: Rules,
    keep_fallbacks: bool = False,
    horizon: int | None = None,
    peers: PeerReference | None = None,
    made: tuple[pd.DataFrame, dict[str, list[str]]] | None = None,
) -> pd.DataFrame:
    """Canonical forecast of `panel` by the weighted `members` (an item some members could only
    give their fallback gets the others', unless `keep_fallbacks`: `ensemble.combine_members`);
    which items each member forecast by its fallback goes to `attrs[FALLBACK_ITEMS]`. With
    `horizon`, the items dormant in `panel` (`automl.dormant`) are forecast 0. A model with
    closure rules needs their columns in `future` (`closures.require_plan`). Items every member
    forecast by its fallback get the profile of `peers`, the training panel's items
    (`automl.peer_reference`); None, for models saved before it, takes the peers from `panel`.
    `made`: `members_forecast` of this panel and future, already made (by the fit)."""
    require_plan(future, closures, panel)
    combined, fallback = made or members_forecast(
        members, weights, panel, future, quantiles, calibration, keep_fallbacks
    )
    short = short_items(fallback, [n for n, w in weights.items() if w > 0])
    combined = peer_profiles(combined, panel, short, quantiles, closures, future, peers)
    combined = close_forecast(combined, future, closures)
    if horizon is not None:
        combined = zero_dormant(combined, panel, horizon)
    combined.attrs[FALLBACK_ITEMS] = fallback
    return combined


def members_forecast(
    members: Mapping[str, Forecaster],
    weights: Mapping[str, float],
    panel: SeriesArrays,
    future: pd.DataFrame | None,
    quantiles: tuple[float, ...],
    calibration: QuantileCalibration | None,
    keep_fallbacks: bool = False,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The weighted, calibrated forecast of the members before any of the panel's rules, and
    the items each member forecast by its fallback (by member name)."""
    fallback: dict[str, list[str]] = {}
    frames = {}
    for name in weights:
        frames[name] = members[name].predict(panel, future, quantiles)
        if frames[name].attrs.get(FALLBACK_ITEMS):
            fallback[name] = list(frames[name].attrs[FALLBACK_ITEMS])
    combined = combine_members(
        frames, weights, fallback, [MEAN, *quantile_columns(quantiles)], keep_fallbacks
    )
    if calibration is not None:
        qcols = quantile_columns(quantiles)
        mean, q = calibration.calibrated(combined[MEAN].to_numpy(), combined[qcols].to_numpy())
        if panel is not None:  # widened, a band can reach below zero or cross: the sign rule again
            order = np.argsort(np.asarray(quantiles, dtype=float), kind="stable")
            where = pd.Index(panel.item_ids).get_indexer(combined[ITEM_ID])  # every row's series
            share = np.where(where >= 0, negative_share(panel)[where], 1.0)  # 1.0: nothing known, no clip
            mean, ordered = sign_rule(mean, q[:, order], share, [quantiles[j] for j in order])
            q[:, order] = ordered
        combined[MEAN], combined[qcols] = mean, q
    return combined, fallback
