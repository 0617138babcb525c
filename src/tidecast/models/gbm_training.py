"""The training steps of the global LightGBM model (`gbm`): row sampling, boosting with early
stopping, quantile boosters, conformal residual calibration, and the recursive roll.

Functions of what they need rather than of the model, so that `gbm.LightGBM` keeps only its
configuration and the order of the steps; the model's attributes (and so models pickled
before) are unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.models.gbm_closed import closed_mask
from tidecast.models.gbm_features import Extended, FeatureLayout, feature_rows, origin_norm
from tidecast.models.gbm_rows import sample_training_rows
from tidecast.models.gbm_runtime import Deadline
from tidecast.models.gbm_windows import Windows

if TYPE_CHECKING:  # lightgbm loads scikit-learn and dask (about a second): imported on first fit
    import lightgbm as lgb


def min_context(layout: FeatureLayout) -> int:
    """The steps of history before a training row's origin."""
    return min(layout.scale_window, 7)


def sample_rows(
    ext: Extended,
    layout: FeatureLayout,
    horizon: int,
    n_origins: int,
    steps: int,
    holdout: int,
    max_rows: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training and validation rows, each sampled down to its share of `max_rows` (`gbm_rows`)."""
    context = min_context(layout)
    budgets = (max_rows, max(1000, max_rows // 4))
    return sample_training_rows(ext, horizon, n_origins, context, steps, holdout, budgets, seed)


def train_booster(
    x: pd.DataFrame,
    y: np.ndarray,
    valid: tuple[pd.DataFrame, np.ndarray] | None,
    stop: float | None,
    params: dict[str, Any],
    categories: Iterable[str],
    early_stopping_rounds: int,
    rounds: int,
    dataset: lgb.Dataset | None = None,
) -> lgb.Booster:
    """`rounds` of boosting on (x, y), stopping early on `valid` when given, and at `stop`.

    `dataset`, when given, is (x, y) already binned (`binned`): boosters trained on the
    same rows share it instead of binning the features again (about a second per booster
    on 60,000 rows of 80 features).
    """
    import lightgbm as lgb

    categorical = [c for c in categories if c in x.columns]
    train_set = dataset if dataset is not None else binned(x, y, categorical, keep=False)
    callbacks: list[Any] = [Deadline(stop)]
    valid_sets = []
    if valid is not None:
        valid_sets = [lgb.Dataset(valid[0], valid[1], reference=train_set, categorical_feature=categorical)]
        callbacks.append(lgb.early_stopping(early_stopping_rounds, verbose=False))
    return lgb.train(params, train_set, num_boost_round=rounds, valid_sets=valid_sets, callbacks=callbacks)


# Quantile boosters run between these many rounds divided by the learning rate (`quantile_rounds`).
QUANTILE_RATE_FLOOR = 10.0
QUANTILE_RATE_CAP = 20.0


def quantile_rounds(point_rounds: int, learning_rate: float) -> int:
    """Boosting rounds of the quantile boosters: the point model's, within 10 / rate and 20 / rate.

    The point model's early stopping is a poor guide for them: on a spiky panel its squared
    error over one validation horizon turns up after 1-30 rounds (dominicks_oj: 9, 5, 22
    and 14 rounds at four origins), leaving the pinball-loss boosters, which move more
    slowly, badly underfitted; early-stopping each booster on its own pinball loss was as
    erratic (8 to 504 rounds). Hence a floor. On Favorita the point model ran to 1,000
    rounds in one fit and stopped at 30 in the next (one validation horizon is a noisy
    judge): hence a cap. The range was 20-40 / rate until the second global model
    (`gbm_lagged`) joined the ensemble; LightGBM alone, three origins each, mean wQL with
    10-20 / rate against 20-40 / rate: dominicks_oj 0.3385 / 0.3434, pasta_promo 0.3974 /
    0.3988, Favorita 0.0260 / 0.0258, in 35-50% less time (before, rounds of 1,000 against
    400 had scored alike on Favorita, 0.0278 both, and 200 floor against the point model's
    own rounds dominicks_oj 0.342 against 0.381).
    """
    floor, cap = round(QUANTILE_RATE_FLOOR / learning_rate), round(QUANTILE_RATE_CAP / learning_rate)
    return min(max(int(point_rounds), floor), cap)


def binned(x: pd.DataFrame, y: np.ndarray, categorical: list[str], keep: bool = True) -> lgb.Dataset:
    """(x, y) as a LightGBM Dataset; `keep` holds the raw rows so several boosters can share it."""
    import lightgbm as lgb

    return lgb.Dataset(x, y, categorical_feature=categorical, free_raw_data=not keep)


def quantile_boosters(
    train: Callable[..., lgb.Booster],
    x: pd.DataFrame,
    y: np.ndarray,
    levels: Sequence[float],
    rounds: int,
    stop: float | None,
    categorical: list[str],
) -> dict[float, lgb.Booster]:
    """One booster per asked level with LightGBM's quantile (pinball) loss (direct strategy only).

    The conformal band (point forecast + pooled residual quantile x scale) has one shape
    for every series and every context; retail demand is skewed and its spread depends on
    the day (a promotion, a slow mover's zeros), which a quantile objective learns from
    the same features. Trained for `rounds` on the same rows as the point model, sharing one
    binned Dataset; levels not fitted here still get the conformal band at predict time.
    `train` is the model's booster training (`train_booster` with its parameters).
    """
    boosters: dict[float, lgb.Booster] = {}
    shared = binned(x, y, [c for c in categorical if c in x.columns])
    for level in sorted({float(q) for q in levels}):
        if stop is not None and time.monotonic() > stop:
            break
        boosters[level] = train(
            x,
            y,
            None,
            stop,
            rounds=rounds,
            objective={"objective": "quantile", "alpha": level},
            dataset=shared,
        )
    return boosters


def trend_base(x: pd.DataFrame, detrend: bool) -> np.ndarray:
    """What the trees add to: the local trend line with `detrend`, else nothing (0)."""
    if not detrend:
        return np.zeros(len(x))
    # No trend line (nothing observed in its window, right after a gap of missing rows):
    # the location, or NaN labels would reach LightGBM.
    return np.nan_to_num(x["trend"].to_numpy(np.float64))


def booster_predict(
    booster: lgb.Booster, x: pd.DataFrame, features: list[str], rounds: int | None = None
) -> np.ndarray:
    """The booster's predictions on `x`, its columns aligned to the training `features`."""
    aligned = x.reindex(columns=features)
    return np.asarray(booster.predict(aligned, num_iteration=rounds), dtype=np.float64)


def direct_forecast(
    point: lgb.Booster,
    by_level: dict[float, lgb.Booster],
    ext: Extended,
    calendar: pd.DataFrame,
    layout: FeatureLayout,
    origins: np.ndarray,
    scale: np.ndarray,
    features: list[str],
    detrend: bool,
    quantiles: Sequence[float],
    level_features: list[str] | None = None,
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The direct model's point forecast (origins x horizon) from each origin, and the forecast
    of each level in `quantiles` that has a booster of its own, by its column in `quantiles`
    (those boosters read `level_features`, by default the point model's `features`)."""
    horizon = layout.horizon
    rows = np.repeat(origins, horizon)
    steps = np.tile(np.arange(1, horizon + 1), len(origins))
    x, location, _ = feature_rows(ext, calendar, layout, rows, steps)
    base, spread = trend_base(x, detrend), np.repeat(scale, horizon)

    def unscaled(booster: lgb.Booster, columns: list[str]) -> np.ndarray:
        return ((booster_predict(booster, x, columns) + base) * spread + location).reshape(-1, horizon)

    columns = features if level_features is None else level_features
    own = {j: unscaled(by_level[float(q)], columns) for j, q in enumerate(quantiles) if float(q) in by_level}
    return unscaled(point, features), own


def roll(
    booster: lgb.Booster,
    ext: Extended,
    calendar: pd.DataFrame,
    origins: np.ndarray,
    layout: FeatureLayout,
    horizon: int,
    rules: tuple[tuple[str, float], ...],
    features: list[str],
    detrend: bool,
    rounds: int | None = None,
) -> np.ndarray:
    """Recursive forecast of `horizon` steps from each origin, feeding forecasts back."""
    values = ext.values.copy()
    rolled = replace(ext, values=values)
    closed = closed_mask(ext.covariates, rules, len(values))
    ones = np.ones(len(origins), dtype=np.int64)
    out = np.empty((len(origins), horizon))
    for s in range(horizon):
        x, location, scale = feature_rows(rolled, calendar, layout, origins + s, ones)
        step = (booster_predict(booster, x, features, rounds) + trend_base(x, detrend)) * scale + location
        shut = closed[origins + s]
        out[:, s] = np.where(shut, 0.0, step)
        values[origins + s] = np.where(shut, np.nan, step)  # closed days stay missing
    return out


def calibrate(
    booster: lgb.Booster,
    ext: Extended,
    calendar: pd.DataFrame,
    windows: Windows,
    x: pd.DataFrame,
    y: np.ndarray,
    steps: np.ndarray,
    *,
    direct: bool,
    layout: FeatureLayout,
    horizon: int,
    holdout: int,
    rounds: int,
    rules: tuple[tuple[str, float], ...],
    features: list[str],
    detrend: bool,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Residuals on the scaled target over the validation window, and their steps.

    Direct: every validation row. Recursive: the model rolled forward from each whole
    horizon inside each series' validation window, as it will be at predict time; None
    when no series is long enough for that.
    """
    if direct:
        return steps.astype(np.int64), y - booster.predict(x, num_iteration=rounds)
    lengths = ext.ends - ext.starts
    eligible = lengths >= holdout + horizon + 8
    windows_back = range(1, max(1, holdout // horizon) + 1)
    origins = np.concatenate([(ext.ends - k * horizon)[eligible] for k in windows_back])
    if len(origins) == 0:
        return None
    actual = np.stack([ext.values[origins + s] for s in range(horizon)], axis=1)
    _, scale = origin_norm(ext, windows, origins, layout)
    forecast = roll(booster, ext, calendar, origins, layout, horizon, rules, features, detrend, rounds)
    residuals = (actual - forecast) / scale[:, None]
    step_grid = np.broadcast_to(np.arange(1, horizon + 1), residuals.shape)
    finite = np.isfinite(residuals)
    return step_grid[finite].astype(np.int64), residuals[finite]
