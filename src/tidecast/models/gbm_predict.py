"""The global LightGBM's forecast from fitted state (`gbm.LightGBM.predict`).

Series too short for the model get its fallback; the others are extended by the horizon with
the future's known covariates, normalised at their last observation, forecast by the direct
model (or rolled by the recursive one), given conformal bands around the point (or the quantile
boosters' own forecasts for the levels fit trained), and set to exactly 0 on closed days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.models.base import Prediction
from tidecast.models.gbm_closed import closed_mask
from tidecast.models.gbm_features import calendar_frame, extend, origin_norm
from tidecast.models.gbm_training import direct_forecast, roll
from tidecast.models.gbm_windows import Windows
from tidecast.models.intervals import residual_quantiles, too_short

if TYPE_CHECKING:
    from tidecast.models.gbm import LightGBM


def global_forecast(
    model: LightGBM, data: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> Prediction:
    """Mean and quantile forecasts of every series of `data` by the fitted `model`."""
    horizon = model.horizon_
    booster = model.booster_
    short = too_short(data, model.min_history) | (booster is None)
    mean, bands, fallback = model._fallback(data, short, quantiles)
    if booster is None or short.all():
        return Prediction(mean=mean, quantiles=bands, fallback=fallback)
    ext = extend(data, model.layout_, horizon, future)
    closed = closed_mask(ext.covariates, model._rules, len(ext.values))
    ext = model._open_only(ext)
    calendar = calendar_frame(ext, model.spec_, model.layout_)
    modelled = np.flatnonzero(~short)
    origins = ext.ends[modelled]
    _, scale = origin_norm(ext, Windows(ext.values, ext.indptr), origins, model.layout_)
    if model.strategy == "direct":
        boosters = getattr(model, "quantile_boosters_", {})
        forecast, own = direct_forecast(
            booster,
            boosters,
            ext,
            calendar,
            model.layout_,
            origins,
            scale,
            model.features_,
            model.detrend_,
            quantiles,
            getattr(model, "quantile_features_", None),  # None: saved before, every feature
        )
    else:
        own = {}
        forecast = roll(
            booster,
            ext,
            calendar,
            origins,
            model.layout_,
            horizon,
            model._rules,
            model.features_,
            model.detrend_,
        )
    offsets = residual_quantiles(
        model.residuals_, model.residual_steps_, model.horizon_, quantiles
    )  # (horizon, n_quantiles)
    mean[modelled] = forecast
    bands[modelled] = forecast[:, :, None] + offsets[None, :, :] * scale[:, None, None]
    for j, values in own.items():  # the levels with boosters of their own
        bands[modelled, :, j] = values
    # Closed days (a rule of `gbm_closed`) sell exactly 0, whatever the bands (or fallback) say.
    shut = closed[ext.ends[:, None] + np.arange(horizon)[None, :]]
    mean, bands = np.where(shut, 0.0, mean), np.where(shut[:, :, None], 0.0, bands)
    return Prediction(mean=mean, quantiles=bands, fallback=fallback)
