"""Which normalisation the global LightGBM trains on: the (scaling, detrend) candidates and
the validation that picks one.

"spread" scaling keeps additive effects (a promotion adding so many units) at their scaled
size, "level" keeps multiplicative ones (a promotion lifting sales by half); `detrend` makes
the target relative to the local trend line. Each candidate is early-stopped on the last
horizon(s) of every series, and the lowest error in units of each series' level wins, so that
errors compare across scalings. Why "auto" is what it is: `scaling_candidates`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tidecast.models.gbm_training import trend_base

if TYPE_CHECKING:
    import lightgbm as lgb

# Features, scaled target and scale of the training rows under a scaling.
ScaledRows = Callable[[str], tuple[pd.DataFrame, np.ndarray, np.ndarray]]
# Trains one booster on (x, y), early-stopped on `valid`.
Train = Callable[[pd.DataFrame, np.ndarray, tuple[pd.DataFrame, np.ndarray]], "lgb.Booster"]


def scaling_candidates(
    scaling: str, detrend: bool | str, closed: bool, quantile_objective: bool
) -> list[tuple[str, bool]]:
    """(scaling, detrend) pairs that validation chooses from.

    "auto" scaling is "level" without detrend where the data has closed days (a closure rule)
    or quantile boosters are trained (they learn the skewed, level-relative spread the
    conformal band cannot), else "spread" with every detrend choice: letting validation pick
    between the two everywhere chose "level" on every panel, which was wrong on the demo (its
    last horizon spans Christmas). The measurements are in `benchmarks/lightgbm_history.md`.
    """
    detrends = [True, False] if detrend == "auto" else [bool(detrend)]
    if scaling == "auto" and (closed or quantile_objective):
        return [("level", detrend is True)]
    if scaling == "auto":
        return [("spread", d) for d in detrends]
    return [(scaling, d) for d in detrends]


def select_scaling(
    candidates: list[tuple[str, bool]],
    scaled_rows: ScaledRows,
    validation: np.ndarray,
    level: np.ndarray,
    train: Train,
) -> tuple[str, bool, lgb.Booster, dict[str, float]]:
    """The candidate with the lowest validation error, its early-stopped booster, and every
    candidate's error (mean |miss| x scale / level over the `validation` rows)."""
    best: tuple[float, str, bool, lgb.Booster] | None = None
    errors: dict[str, float] = {}
    for scaling, detrend in candidates:
        x, scaled, scale = scaled_rows(scaling)
        y = scaled - trend_base(x, detrend)
        booster = train(x[~validation], y[~validation], (x[validation], y[validation]))
        rounds = max(1, booster.best_iteration or booster.current_iteration())
        miss = y[validation] - booster.predict(x[validation], num_iteration=rounds)
        error = float(np.mean(np.abs(miss) * scale[validation] / level[validation]))
        errors[f"{scaling}{', detrend' if detrend else ''}"] = error
        if best is None or error < best[0]:
            best = (error, scaling, detrend, booster)
    assert best is not None
    return best[1], best[2], best[3], errors
