"""Model-agnostic contributions by ablation: set one known covariate to its baseline over the
horizon, forecast again, and call the difference that covariate's contribution.

Baselines, per item: 0 for an event flag (a numeric column of a few integers including 0,
`is_indicator`: no promotion, no holiday), the item's mean over its history for another
numeric column (its usual price), and the item's most frequent value for a text column. What
is left of the forecast after every covariate's contribution is the "model baseline": the
member's forecast from its own structure (level, trend and season as ETS, Theta or a
network forecast them), which ablation does not take apart. So the terms add up to the
forecast by construction; where covariates interact, each contribution is "this covariate
alone moved to its baseline", and the interaction stays in the model baseline.

Holidays of a calendar and static attributes are not ablated: a calendar is part of the
model's configuration, and an attribute has no neutral value; the exact methods (regression
terms, TreeSHAP) attribute both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, MEAN
from tidecast.explain.terms import BASELINE, COVARIATE, MODEL_BASELINE, Terms
from tidecast.models.base import Forecaster
from tidecast.models.covariates.encoding import as_numbers
from tidecast.models.gbm_features import is_indicator


def baseline_values(panel: SeriesArrays, future: pd.DataFrame, column: str) -> np.ndarray:
    """The baseline of `column` for each row of `future` (see the module docstring)."""
    history = panel.covariates.get(column)
    items = future[ITEM_ID].astype(str).to_numpy()
    if history is None or len(history) == 0:
        return np.zeros(len(future))
    numbers = as_numbers(np.asarray(history))
    series = np.repeat(np.asarray(panel.item_ids, dtype=str), panel.lengths)
    if numbers is not None and is_indicator(numbers):
        return np.zeros(len(future))
    frame = pd.DataFrame({ITEM_ID: series, "value": numbers if numbers is not None else np.asarray(history)})
    if numbers is not None:
        means = frame.groupby(ITEM_ID)["value"].mean()
        fallback = float(np.nanmean(numbers)) if np.isfinite(numbers).any() else 0.0
        return means.reindex(items).fillna(fallback).to_numpy(dtype=np.float64)
    modes = frame.dropna().groupby(ITEM_ID)["value"].agg(lambda v: v.value_counts().index[0])
    return modes.reindex(items).to_numpy(dtype=object)


def forecast_mean(
    model: Forecaster, panel: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> np.ndarray:
    """The model's mean forecast as (n_series, horizon)."""
    frame = model.predict(panel, future, quantiles)
    return frame[MEAN].to_numpy(dtype=np.float64).reshape(-1, model.horizon_)


def ablation_terms(
    model: Forecaster, panel: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> Terms:
    """Each known covariate's ablation contribution and the model baseline (module docstring)."""
    mean = forecast_mean(model, panel, future, quantiles)
    terms = Terms(mean.shape)
    known = model.spec_.known_covariates if model.tags.known_covariates and future is not None else ()
    for column in known:
        assert future is not None
        if column not in future.columns:
            continue
        baseline = baseline_values(panel, future, column)
        ablated = future.copy()
        ablated[column] = baseline
        if ablated[column].equals(future[column]):
            continue  # already at its baseline everywhere: nothing to take away
        terms.add(column, COVARIATE, mean - forecast_mean(model, panel, ablated, quantiles))
    terms.add(MODEL_BASELINE, BASELINE, mean - terms.total())
    return terms
