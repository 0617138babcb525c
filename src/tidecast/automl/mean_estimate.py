"""The forecast's mean column: the models' own mean, or the mean its quantiles imply.

wQL reads the quantiles and WAPE, MAPE and MASE the median, so a default run never looks at
the mean column, yet the business report sums it into demand totals and an RMSE user reads it.
Left to the models it was the weakest point forecast tidecast shipped: the global LightGBM's
mean comes from its point model, early-stopped on squared error over the last horizon of
history and then not trained on it (its quantile boosters are), and the horizon-lag model's
mean is its median. On the test of every set in `benchmarks/` (engine fbe41cf, default preset),
the RMSE of the mean column against the median's: M4 hourly 1481 against 1332, the store
panel 113 against 32, tourism monthly 8867 against 7042, Favorita 107 against 102.

The mean a set of quantile forecasts implies is the integral of the quantile function over
(0, 1): with the function linear between the levels and flat beyond the outer ones, weights
0.3 / 0.4 / 0.3 for p10 / p50 / p90 (the "30-40-30 rule" of petroleum reserve estimates,
Hurst et al. 2000). It lifts the median where demand is skewed and needs no model. Which of
the two ships is decided on the backtests by squared error, so a model whose mean is good
(the exponential smoothing of tourism quarterly, say) keeps it; `choose_mean` says which and
by how much, and the report shows it.

Measured (engine fbe41cf with this in the working tree, default preset, one thread, the test of
every set in `benchmarks/`): every quantile, hence every wQL, identical; the RMSE of the mean
column lower in 20 of 29 test cells, the same in 6 (the backtests kept the models' mean:
dominicks_oj 26 and 39 weeks ahead, a Favorita origin, M4 hourly, the visits panel, a short
weekly cut), higher in 3. Store panel 113 -> 31.5, the demo 11.0 -> 10.0 (target only 42.3 ->
31.1), the wide-scale messy demo 1829 -> 1564, dominicks_oj 13 weeks ahead 11,320 / 11,220 ->
10,210 / 9,690 at two origins, tourism monthly 8867 -> 7818, M4 weekly 568 -> 535, Favorita
origins -2.5% to -7.4%; against tourism quarterly 51,870 -> 56,930 (its backtests chose the
quantiles, its test did not), the messy demo 211 -> 213, dominicks_oj's 4-week origin 0 8594 ->
8623. Geometric mean of the ratios 0.913 (0.95 without the store panel). The summed mean
against the summed actuals moved toward 1 where it was off (store 1.032 -> 1.003, dominicks_oj
13 weeks 1.244 -> 1.086). `benchmarks/mean_column.py` reruns it (`results/mean_column.md`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


def implied_weights(quantiles: Sequence[float]) -> np.ndarray:
    """Weights of each level (in the order given) in the integral of the quantile function that
    is linear between the levels and flat below the lowest and above the highest."""
    levels = np.asarray(quantiles, dtype=np.float64)
    order = np.argsort(levels)
    u = levels[order]
    # Each level holds half the interval to each neighbour, and the whole tail beyond it.
    edges = np.concatenate([[0.0], (u[1:] + u[:-1]) / 2.0, [1.0]])
    weights = np.empty(len(u))
    weights[order] = np.diff(edges)
    return weights


def implied_mean(q: np.ndarray, quantiles: Sequence[float]) -> np.ndarray:
    """The mean the quantile forecasts `q` (..., n_levels) imply (`implied_weights`)."""
    return np.asarray(q, dtype=np.float64) @ implied_weights(quantiles)


class MeanChoice(NamedTuple):
    """Whether the mean column comes from the quantiles, and both candidates' backtest RMSE."""

    from_quantiles: bool
    rmse_models: float
    rmse_quantiles: float

    @property
    def reason(self) -> str:
        chosen = "the mean its quantiles imply" if self.from_quantiles else "the models' own mean"
        return (
            f"mean column: {chosen} (backtest RMSE {self.rmse_quantiles:.4g} from the quantiles "
            f"against {self.rmse_models:.4g} from the models)"
        )


def choose_mean(y: np.ndarray, mean: np.ndarray, q: np.ndarray, quantiles: Sequence[float]) -> MeanChoice:
    """The mean column from the quantiles when, on the backtest points `y` (NaN ignored), their
    implied mean has the lower squared error than the models' `mean`; `mean` and `q` are the
    forecast as it ships (level and bands calibrated)."""
    implied = implied_mean(q, quantiles)
    ok = np.isfinite(y) & np.isfinite(mean) & np.isfinite(implied)
    if not ok.any():
        return MeanChoice(False, float("nan"), float("nan"))
    models = float(np.sqrt(np.mean((mean[ok] - y[ok]) ** 2)))
    from_q = float(np.sqrt(np.mean((implied[ok] - y[ok]) ** 2)))
    return MeanChoice(quantiles_better(models, from_q), models, from_q)


def quantiles_better(rmse_models: float, rmse_quantiles: float) -> bool:
    """The implied mean wins: strictly lower, beyond rounding (where the quantiles are
    symmetric both are one forecast)."""
    return bool(rmse_quantiles < rmse_models * (1.0 - 1e-9))
