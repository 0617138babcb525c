"""Streaming updates: new observations appended to an endpoint's stored history, no refit.

`extend` builds the next `LoadedModel` of an endpoint: the stored history of the items the
observations name, plus the new rows, prepared exactly as the training data was
(`AutoForecaster.prepare_history`: the same grid, filling and roles), replaces those items'
rows; items the model never saw join the history. Forecasts of the other items stay cached;
the touched items are forecast afresh from their new end on the next request (and logged
with their new origin). The caller swaps the new model in atomically, so a request in flight
finishes on the model it started with.

The extended history lives in the serving process: a redeploy or a restart serves the
version's own history again. The observations are also loaded as actuals, which persist.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError
from tidecast.service.predictor import LoadedModel
from tidecast.service.problems import from_tidecast_error, invalid


def extend(model: LoadedModel, rows: pd.DataFrame) -> LoadedModel:
    """`model` with `rows` (canonical item_id, timestamp, target, covariates; checked by
    `requests.check_order`) appended to its stored history."""
    forecaster = model.forecaster
    history = forecaster.history_
    items = list(dict.fromkeys(rows[ITEM_ID].tolist()))
    stored = [i for i in items if i in model.item_ids]
    old = history[history[ITEM_ID].isin(stored)] if stored else history.iloc[:0]
    last = old.groupby(ITEM_ID)[TIMESTAMP].max()
    late = rows[TIMESTAMP].to_numpy() <= rows[ITEM_ID].map(last).to_numpy(dtype="datetime64[ns]")
    if late.any():
        k = int(np.flatnonzero(late)[0])
        raise invalid(
            f"rows[{k}].timestamp",
            f"item {rows[ITEM_ID].iloc[k]!r} already has history up to {last[rows[ITEM_ID].iloc[k]]}: "
            "observations extend the history, they do not rewrite it (POST /v1/actuals corrects values)",
        )
    columns = [c for c in history.columns if c in rows.columns or c in (ITEM_ID, TIMESTAMP, TARGET)]
    combined = pd.concat([old[columns], rows.reindex(columns=columns)], ignore_index=True)
    aliases = {
        ITEM_ID: forecaster.spec_.item_col,
        TIMESTAMP: forecaster.spec_.timestamp_col,
        TARGET: forecaster.spec_.target_col,
    }
    try:
        prepared = forecaster.prepare_history(combined.rename(columns=aliases))
    except (DataError, ConfigError) as exc:
        raise from_tidecast_error(exc, "rows") from None
    kept = history[~history[ITEM_ID].isin(items)]
    panel = pd.concat([kept, prepared.reindex(columns=history.columns)], ignore_index=True)
    panel = panel.sort_values([ITEM_ID, TIMESTAMP], kind="stable", ignore_index=True)
    extended = copy.copy(forecaster)  # shares the fitted members; only the history differs
    extended.history_ = panel
    loaded = LoadedModel(extended, model.path, model.name)
    loaded.load_seconds = model.load_seconds
    loaded.observer = model.observer
    loaded.keep_cached(model, exclude=set(items))
    return loaded
