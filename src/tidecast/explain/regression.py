"""Exact contributions of the dynamic regression: its forecast is a sum of terms.

Each series' forecast is (design rows @ beta + carried residual) x scale
(`regression_design.forecast_terms`), so every design column contributes
x_j beta_j scale in the target's units, and the columns group into features:

- the trend line at the last observation -> "level" (where the series stands), its way
  from there over the horizon (slope and changepoint hinges) -> "trend";
- Fourier columns (and their growing copies) -> "seasonality";
- each holiday's window columns -> "holiday: <name>";
- each known covariate's columns (the flag and its "within r steps" windows, a numeric
  column, the one-hot levels of a text column) -> the covariate's name;
- the last residual carried by the AR(1) -> "recent deviation".

The baseline each contribution is measured from is the column at zero: no promotion and no
event nearby for a flag, the training panel's mean for a numeric covariate (it enters
standardised), no holiday. Series the model forecasts with its naive fallback get one
"fallback" term; the clip at zero of `finalize` is the "non-negativity" term. The sum is the
model's forecast to rounding (tests check 1e-6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.calendar import fourier_terms, step_index
from tidecast.explain.terms import (
    ADJUSTMENT,
    COVARIATE,
    FALLBACK,
    HOLIDAY,
    LEVEL,
    RECENT_DEVIATION,
    SEASONALITY,
    TREND,
    Terms,
    add_clip,
    holiday_feature,
)
from tidecast.models.covariates import CovariateEncoder
from tidecast.models.regression import DynamicRegression
from tidecast.models.regression_context import item_inputs
from tidecast.models.regression_design import Layout, forecast_terms
from tidecast.models.robust import trend_columns


def covariate_sources(encoder: CovariateEncoder) -> dict[str, str]:
    """Each design column of the encoder -> the covariate it comes from."""
    out: dict[str, str] = {}
    for name in encoder.indicators:
        out[name] = name
        out.update({f"{name}_within_{r}": name for r in encoder.radii})
    out.update({name: name for name, _, _ in encoder.numeric})
    out.update({f"{name}={level}": name for name, values in encoder.levels for level in values})
    return out


def trend_width(layout: Layout) -> int:
    """Columns of the trend: intercept, slope and one hinge per changepoint."""
    return 2 + len(layout.changepoints)


def trend_at(layout: Layout, stamps: np.ndarray, freq: str) -> np.ndarray:
    """The trend columns at `stamps` (`design`'s first block)."""
    return trend_columns((step_index(stamps, freq) - layout.origin) / layout.span, layout.changepoints)


def column_groups(layout: Layout, width: int, sources: dict[str, str]) -> list[tuple[str, str, np.ndarray]]:
    """(feature, kind, column indices) for the design of `layout`, in `design`'s order."""
    n_trend = trend_width(layout)
    n_cycles = fourier_terms(np.zeros(1), layout.periods, layout.orders).shape[1] if layout.periods else 0
    n_growing = n_cycles if layout.growing else 0
    groups: list[tuple[str, str, np.ndarray]] = [
        ("level", LEVEL, np.array([0])),
        ("trend", TREND, np.arange(1, n_trend)),
        ("seasonality", SEASONALITY, np.arange(n_trend, n_trend + n_cycles + n_growing)),
    ]
    at = n_trend + n_cycles + n_growing
    for name in layout.holidays:  # "hol_<key>_<radius>d"
        groups.append((holiday_feature(name[4:].rsplit("_", 1)[0]), HOLIDAY, np.array([at])))
        at += 1
    for name in (*layout.covariates, *layout.scaled):  # scaled: their columns x the baseline
        groups.append((sources.get(name, name), COVARIATE, np.array([at])))
        at += 1
    if at != width:
        raise AssertionError(f"the regression design has {width} columns, its layout describes {at}")
    return groups


def regression_terms(
    model: DynamicRegression, panel: SeriesArrays, future: pd.DataFrame | None, quantiles: tuple[float, ...]
) -> Terms:
    """The contributions behind `model.predict(panel, future)`'s mean, series by series, on the
    same path: the same states, covariate rows, holiday table and fallbacks."""
    data = model._arrays(panel)
    context = model._context(data, fitting=False, future=model._future(panel, data, future))
    assert context.ahead is not None
    horizon = model.horizon_
    terms = Terms((data.n_series, horizon))
    sources = covariate_sources(model.encoder_)
    for i, item in enumerate(data.item_ids.tolist()):
        y, stamps = model._window(data, i)
        if not model.forecastable(y):
            terms.add_rows(i, FALLBACK, ADJUSTMENT, model._fallback_series(y, horizon, quantiles)[0])
            continue
        try:
            state, y, rows, names = item_inputs(
                model, model.states_.get(item), y, stamps, i, context, horizon
            )
            x, carry = forecast_terms(
                state, y, stamps, context.ahead[i], data.freq, context.table, rows, names
            )
            groups = column_groups(state.layout, x.shape[1], sources)
        except Exception:  # the model forecasts such a series by its fallback too
            terms.add_rows(i, FALLBACK, ADJUSTMENT, model._fallback_series(y, horizon, quantiles)[0])
            continue
        contributions = x * state.beta[None, :] * state.scale
        for feature, kind, columns in groups:
            if len(columns):
                terms.add_rows(i, feature, kind, contributions[:, columns].sum(axis=1))
        # The trend line at the last observation is the level; the trend is the way from it.
        origin = trend_at(state.layout, stamps[-1:], data.freq) @ state.beta[: trend_width(state.layout)]
        terms.add_rows(i, "level", LEVEL, np.full(horizon, origin * state.scale - contributions[0, 0]))
        terms.add_rows(i, "trend", TREND, np.full(horizon, contributions[0, 0] - origin * state.scale))
        terms.add_rows(i, RECENT_DEVIATION, LEVEL, carry * state.scale)
    add_clip(terms, data)
    return terms
