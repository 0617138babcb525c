"""How wide the dynamic regression's intervals are: one factor per fit, read off a backtest.

In-sample residuals understate the error of a forecast (the fit has seen them; the cycles and
covariate effects are extrapolated), so `DynamicRegression` with `calibrate` multiplies its
spread by the factor `interval_scale` finds on a few series refitted without their last
horizon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tidecast.data.arrays import SeriesArrays
from tidecast.models.local import parallel_map
from tidecast.models.regression_design import Context, last_observed
from tidecast.models.robust import Z90

if TYPE_CHECKING:
    from tidecast.models.regression import DynamicRegression

# Series refitted for the calibration backtest: enough held-out values (x horizon) for an 80%
# quantile of the errors, few enough to add a fraction of the fit's time.
CALIBRATION_SERIES = 24
# The calibration factor is kept in this range: a backtest window with an unusual event (or
# a perfectly fitted one) must not make the intervals absurdly wide or collapse them.
CALIBRATION_RANGE = (0.5, 4.0)


def interval_scale(
    model: DynamicRegression, data: SeriesArrays, context: Context, deadline: float | None
) -> float:
    """The factor that makes a backtest's p10-p90 intervals hold 80% of its values.

    Up to `CALIBRATION_SERIES` series, spread evenly over the panel, are refitted without
    their last `horizon` steps and forecast them; the factor is the 80th percentile of
    |error| / spread over all those steps, divided by the normal's 1.2816. 1 when no series
    is long enough.
    """
    horizon = model.horizon_
    lengths = data.lengths
    eligible = np.flatnonzero(lengths >= model.tags.min_length + horizon)
    if len(eligible) == 0:
        return 1.0
    take = np.unique(np.linspace(0, len(eligible) - 1, min(CALIBRATION_SERIES, len(eligible))).round())
    chosen = eligible[take.astype(np.int64)]

    def standardized_errors(k: int) -> np.ndarray:
        i = int(chosen[k])
        y, stamps = model._window(data, i)
        cut = len(y) - horizon
        state = model._fit_window(y[:cut], stamps[:cut], i, context, data_end=horizon)
        y = context.open_values(y, i)  # closed days are neither carried nor scored
        if state is None or not np.isfinite(y[cut:]).any():
            return np.zeros(0)
        exogenous = context.exogenous
        length = int(data.lengths[i])
        first = length - horizon - (cut - last_observed(y[:cut]))
        covariates = exogenous.rows(i, first, length) if exogenous is not None else None
        names = exogenous.names if exogenous is not None else ()
        center, q = model.forecast_series(
            state,
            y[:cut],
            stamps[:cut],
            stamps[cut:],
            data.freq,
            context.table,
            (0.9,),
            covariates,
            names,
        )
        spread = (q[:, 0] - center) / Z90
        ok = (spread > 0) & np.isfinite(y[cut:])
        return np.abs(y[cut:][ok] - center[ok]) / spread[ok]

    parts = parallel_map(standardized_errors, len(chosen), model._jobs(), deadline, model.name)
    errors = np.concatenate(parts) if parts else np.zeros(0)
    if len(errors) == 0:
        return 1.0
    low, high = CALIBRATION_RANGE
    return float(np.clip(np.quantile(errors, 0.8) / Z90, low, high))
