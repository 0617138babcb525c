"""The inputs of the dynamic regression's per-series fits and forecasts, built from the panel.

A `Context` is built once per fit or forecast (the holiday table, every series' covariate
rows, the days the closure rules call closed) and read by each series' fit in the workers;
`item_inputs` cuts one series' share out of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.features import spec_calendar
from tidecast.data.frequency import future_timestamps
from tidecast.models.covariates import HolidayTable, panel_exogenous
from tidecast.models.gbm_closed import closed_mask
from tidecast.models.regression_design import Context, RegressionState, last_observed

if TYPE_CHECKING:
    from tidecast.models.regression import DynamicRegression


def holiday_table(model: DynamicRegression, data: SeriesArrays, end: Any) -> HolidayTable | None:
    """The holidays' window indicators from the panel's first day to `end`; None without holidays."""
    if len(data.timestamps) == 0:
        return None
    start = data.timestamps.min()
    calendar = spec_calendar(model._calendar_spec(), start, end)
    if calendar is None or len(calendar) == 0:
        return None
    return HolidayTable.build(calendar, model.holiday_radii, start, end)


def panel_context(
    model: DynamicRegression, data: SeriesArrays, fitting: bool, future: pd.DataFrame | None = None
) -> Context:
    """What every series' fit (or, with `future`, forecast) reads, built once per panel."""
    closed = closed_rows(model, data)
    indptr = data.indptr if closed is not None else None
    if fitting:
        model._cycles()  # a bad configuration fails here, not inside a worker
        return Context(
            holiday_table(model, data, data.timestamps.max()),
            panel_exogenous(model.encoder_, data),
            closed=closed,
            indptr=indptr,
        )
    ahead = future_timestamps(data.last_timestamps(), data.freq, model.horizon_)
    return Context(
        holiday_table(model, data, ahead.max()),
        panel_exogenous(model.encoder_, data, future, model.horizon_),
        ahead,
        closed,
        indptr,
    )


def closed_rows(model: DynamicRegression, data: SeriesArrays) -> np.ndarray | None:
    """The history rows the closure rules call closed; None when none is."""
    rules = tuple(r for r in model.closed_rules_ if r[0] in data.covariates)
    if not rules:
        return None
    covariates = {c: np.asarray(data.covariates[c], dtype=np.float64) for c, _ in rules}
    shut = closed_mask(covariates, rules, len(data.values))
    return shut if shut.any() else None


def item_inputs(
    model: DynamicRegression,
    state: RegressionState | None,
    y: np.ndarray,
    stamps: np.ndarray,
    i: int,
    context: Context,
    horizon: int,
) -> tuple[RegressionState, np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Series i's state (fitted now for an item not seen in fit), its history with the
    closed days missing, its covariate rows from the last observed step through the
    horizon, and their names: what `forecast_series` takes."""
    y = context.open_values(y, i)
    exogenous = context.exogenous
    names = exogenous.names if exogenous is not None else ()
    if state is None:  # an item not seen in fit
        length = int(exogenous.lengths[i]) if exogenous is not None else 0
        covariates = exogenous.rows(i, length - len(y), length) if exogenous is not None else None
        state = model.fit_series(y, stamps, model.spec_.freq, context.table, covariates, names)
    ahead_rows = None
    if exogenous is not None:
        length = int(exogenous.lengths[i])
        ahead_rows = exogenous.rows(i, length - (len(y) - last_observed(y)), length + horizon)
    return state, y, ahead_rows, names
