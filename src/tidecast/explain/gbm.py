"""TreeSHAP contributions of the global LightGBM model, from LightGBM itself.

`Booster.predict(x, pred_contrib=True)` gives, per row, one SHAP value per feature and the
trees' expected value, which add up to the raw prediction exactly (TreeSHAP's local
accuracy). The model predicts a scaled target: its forecast is

    forecast = (raw + base) x scale + location

with `scale` and `location` fixed per series at the forecast origin (`origin_norm`: under
"level" scaling the recent mean |y| and 0, under "spread" the spread around the recent trend
line and the recent mean) and `base` the local trend line under `detrend`, else 0. That map
is affine and the same for every feature of a row, so the attribution rule is plain:

- each feature's contribution in units = its SHAP value x scale;
- "level" = expected value x scale + location (what the model forecasts before any feature
  speaks, around the series' recent level); "trend" also takes base x scale;
- no log or ratio link is involved (under "level" scaling the trees predict a ratio to the
  level, but the forecast is that ratio x level, still linear in the SHAP values), so the
  sum is the forecast exactly, with no approximation to document.

Features group by what they read (`feature_group`): a known covariate with its event
distances, phase value, share and lift ("kc_promotion*" -> "promotion"), an item attribute
("st_category" -> "category"), holidays, calendar and Fourier columns and values at the same
phase of a season -> "seasonality", lags and rolling windows -> "level", the trend line ->
"trend". Closed days (the model's closure rules) and the clip at zero are adjustments;
series too short for the model get its naive fallback, a "fallback" term. The recursive
strategy feeds forecasts back as lags, so there per-step SHAP values would not add up to
anything a user asked about: that strategy is explained by ablation instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.explain.terms import (
    ADJUSTMENT,
    ATTRIBUTE,
    CLOSED_DAYS,
    COVARIATE,
    FALLBACK,
    HOLIDAY,
    LEVEL,
    PAST_COVARIATE,
    SEASONALITY,
    TREND,
    Terms,
    add_clip,
    holiday_feature,
)
from tidecast.models.gbm import LightGBM
from tidecast.models.gbm_closed import closed_mask
from tidecast.models.gbm_features import FeatureLayout, calendar_frame, extend, feature_rows
from tidecast.models.intervals import too_short

# Holiday columns of the calendar features (`data.holidays.holiday_features`) shared by
# every holiday; `hol_<key>` columns are one holiday's own.
SHARED_HOLIDAY_COLUMNS = frozenset({"days_to_holiday", "days_since_holiday", "is_holiday", "holiday_window"})
INDICATOR_SUFFIXES = ("", "_to_next", "_since", "_phase", "_share", "_lift")


def feature_groups(features: list[str], layout: FeatureLayout) -> list[tuple[str, str]]:
    """(feature name, kind) of each LightGBM feature column, in order."""
    own: dict[str, tuple[str, str]] = {}
    for column in layout.known:
        for suffix in INDICATOR_SUFFIXES:
            own[f"kc_{column}{suffix}"] = (column, COVARIATE)
    for column in layout.past:
        own[f"pc_{column}_last"] = own[f"pc_{column}_mean"] = (column, PAST_COVARIATE)
    for column in layout.static:
        own[f"st_{column}"] = (column, ATTRIBUTE)
    return [own.get(name) or feature_group(name) for name in features]


def feature_group(name: str) -> tuple[str, str]:
    """(feature, kind) of a model column that is not a covariate or an attribute."""
    if name == "trend":
        return "trend", TREND
    if name.startswith("phase_"):
        return "seasonality", SEASONALITY
    if name == "step" or name.startswith(("lag_", "mean_", "std_")):
        return "level", LEVEL
    if name.startswith("hol_"):
        return holiday_feature(name[4:]), HOLIDAY
    if name in SHARED_HOLIDAY_COLUMNS:
        return "holidays", HOLIDAY
    return "seasonality", SEASONALITY  # calendar and Fourier columns


def gbm_terms(
    model: LightGBM, panel: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> Terms:
    """The contributions behind `model.predict(panel, future)`'s mean (direct strategy)."""
    if model.strategy != "direct":
        raise ValueError("TreeSHAP explains the direct strategy only; use ablation for the recursive one")
    data = model._arrays(panel)
    future = model._future(panel, data, future)
    horizon = model.horizon_
    terms = Terms((data.n_series, horizon))
    short = too_short(data, model.min_history)
    booster = model.booster_
    if booster is None:
        short[:] = True
    fallback_mean, _, _ = model._fallback(data, short, quantiles)
    for i in np.flatnonzero(short):
        terms.add_rows(int(i), FALLBACK, ADJUSTMENT, fallback_mean[i])
    if booster is not None and not short.all():
        layout = model.layout_
        ext = extend(data, layout, horizon, future)
        closed = closed_mask(ext.covariates, model._rules, len(ext.values))
        ext = model._open_only(ext)
        calendar = calendar_frame(ext, model.spec_, layout)
        rows_of = np.flatnonzero(~short)
        origins = ext.ends[rows_of]
        steps = np.tile(np.arange(1, horizon + 1), len(origins))
        x, location, scale = feature_rows(ext, calendar, layout, np.repeat(origins, horizon), steps)
        shap = np.asarray(booster.predict(x.reindex(columns=model.features_), pred_contrib=True))
        shape = (len(origins), horizon)

        def add(feature: str, kind: str, values: np.ndarray) -> None:
            terms.add_rows(rows_of, feature, kind, values.reshape(shape))

        for j, (feature, kind) in enumerate(feature_groups(model.features_, layout)):
            add(feature, kind, shap[:, j] * scale)
        add("level", LEVEL, shap[:, -1] * scale + location)
        add("trend", TREND, model._base(x) * scale)
        shut = closed[origins[:, None] + np.arange(horizon)[None, :]]
        if shut.any():
            adjustment = np.zeros(terms.shape)
            adjustment[rows_of] = np.where(shut, -terms.total()[rows_of], 0.0)
            terms.add(CLOSED_DAYS, ADJUSTMENT, adjustment)
    add_clip(terms, data)
    return terms
