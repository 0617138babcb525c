"""Forecast accuracy metrics: one definition each, as plain functions on numpy arrays.

Every metric is written once, per series, over a concatenation of series marked by `indptr`
(series i is `y[indptr[i]:indptr[i+1]]`, the layout of `SeriesArrays`). The panel-level value
is the same definition over one segment holding every point, so the two cannot drift apart:

- volume-weighted metrics (wQL, WAPE, bias) divide panel sums, so big items weigh more;
- point-averaged metrics (MAPE, sMAPE, RMSE, coverage) average over every point;
- MASE averages the per-series values (the M4 convention), because its scale is per series.

Degenerate denominators never raise: AutoML ranks candidates on windows that may be all
zeros, so a metric without a meaningful value returns `nan` and callers skip it. The kernels
do not mask missing values: a `nan` in `y` or a forecast makes the result `nan`, so a broken
forecast cannot score well by accident (`evaluate` drops missing actuals before scoring).

Lower is better for every metric in `METRICS`.
"""

from tidecast.metrics.kernels import (
    bias,
    bias_per_series,
    coverage,
    coverage_per_series,
    mape,
    mape_per_series,
    mase,
    mase_per_series,
    mean_error,
    mean_error_per_series,
    pinball_loss,
    rmse,
    rmse_per_series,
    scaled_errors,
    seasonal_scale,
    smape,
    smape_m4,
    smape_per_series,
    wape,
    wape_per_series,
    wql,
    wql_per_series,
)
from tidecast.metrics.scoring import (
    METRICS,
    Metric,
    PointKind,
    Scorer,
    all_metrics,
    evaluate,
    get_metric,
    score_arrays,
    seasonal_scale_by_item,
)

__all__ = [
    "METRICS",
    "Metric",
    "PointKind",
    "Scorer",
    "all_metrics",
    "bias",
    "bias_per_series",
    "coverage",
    "coverage_per_series",
    "evaluate",
    "get_metric",
    "mape",
    "mape_per_series",
    "mase",
    "mase_per_series",
    "mean_error",
    "mean_error_per_series",
    "pinball_loss",
    "rmse",
    "rmse_per_series",
    "scaled_errors",
    "score_arrays",
    "seasonal_scale",
    "seasonal_scale_by_item",
    "smape",
    "smape_m4",
    "smape_per_series",
    "wape",
    "wape_per_series",
    "wql",
    "wql_per_series",
]
