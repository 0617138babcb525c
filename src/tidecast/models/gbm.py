"""One LightGBM model over every series: the global tree model of retail forecasting contests.

Features (`gbm_features`): lags, phase lags, rolling windows, calendar/holiday/Fourier terms of
the target time, known covariates at the target time (with event distances for flags, and
each series' lift on a flag that every series shares on a date: `flag_lift`), past
covariates before the origin only, static columns as categorical features, and the step.
Every value-like feature and the target are normalised at the forecast origin: a tree
cannot extrapolate a level it never saw, but a deviation from the recent level (or a ratio
to it) it can, so series of any size, and a trend that carries a series past its history's
range, share one model.

Strategies:

- **direct** (default): one model over all horizon steps with the step as a feature; each row
  is built at a forecast origin with the known covariates of its target time.
- **recursive**: a one-step model rolled forward, each forecast becoming the next step's lag.

Scaling (`scaling`): "spread" takes features and target as (y - recent mean) / spread around
the recent trend line, so additive effects (a promotion adding so many units, a holiday bump)
keep their scaled size while a trend lifts the level; "level" divides by the recent mean |y|
(`series_level`), a ratio to the level, so multiplicative effects (a promotion lifting sales
by half) keep theirs. `detrend` makes the target relative to the local least-squares line
(`trend_line`) so the trees only add to a continued trend; "auto" detrend keeps the choice
with the lower validation error (in units of each series' level). "auto" scaling (default)
is "level" on panels with closed days and "spread" elsewhere (`gbm_scaling` says why).

Closed days (`gbm_closed`): a numeric known covariate value under which every observed target
is 0 (`open` = 0) becomes a rule: those cells are forecast as exactly 0, are no labels, and are
missing for the level, windows and lags. Missing target cells (middlefill "none") are never
labels either, and lags over them are NaN, which LightGBM routes like any missing value.

The closure rule and "auto" scaling took pasta_promo's hold-out wQL from 0.497 to 0.429 and the
tests' store panel's from 0.060 to 0.054, the demo's unchanged (`benchmarks/lightgbm_history.md`).

Training rows are every (origin, step) among the last `n_origins` origins of each series,
sampled down to `max_rows`: the whole history by default, because yearly events (Christmas)
are only learnt from rows that contain them. Rows whose target lies in the last
`validation_horizons` horizons of each series form the validation set: boosting stops early
on it, the model is refitted on all rows with the number of rounds found, and its validation
residuals (scaled target, per step, pooled with neighbouring steps until there are
`intervals.MIN_RESIDUALS`) give **conformal** quantiles: point forecast + residual quantile x scale.
The levels the run asks for at fit get boosters of their own with the quantile loss
(`gbm_training.quantile_boosters`, `quantile_rounds`); any other level gets the conformal band.

Older measurements (direct against recursive, detrend, row budgets, M4 hourly variants) are
kept in `benchmarks/lightgbm_history.md`: direct beat recursive on every set and is the default.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.errors import ConfigError
from tidecast.models.base import Forecaster, Prediction, Tags
from tidecast.models.gbm_closed import closure_rules, open_only, open_values
from tidecast.models.gbm_features import (
    Extended,
    FeatureLayout,
    calendar_frame,
    extend,
    feature_rows,
    series_level,
)
from tidecast.models.gbm_layout import feature_layout, fourier_order, model_periods
from tidecast.models.gbm_monotone import check_covariates, check_directions, monotone_params
from tidecast.models.gbm_predict import global_forecast
from tidecast.models.gbm_quantiles import QuantileStage
from tidecast.models.gbm_runtime import run_params
from tidecast.models.gbm_scaling import scaling_candidates, select_scaling
from tidecast.models.gbm_training import (
    QUANTILE_RATE_CAP,
    calibrate,
    quantile_rounds,
    sample_rows,
    train_booster,
    trend_base,
)
from tidecast.models.gbm_windows import Windows
from tidecast.models.intervals import fallback_prediction

if TYPE_CHECKING:  # lightgbm loads scikit-learn and dask (about a second): imported on first fit
    import lightgbm as lgb

STRATEGIES = ("direct", "recursive")
# Seconds kept in hand before the deadline: boosting stops this long before it.
DEADLINE_MARGIN = 0.5
SCALINGS = ("auto", "spread", "level")


class LightGBM(QuantileStage, Forecaster):
    """Global LightGBM forecaster (module docstring); `strategy` "direct" or "recursive"."""

    name = "LightGBM"
    tags = Tags(
        scope="global",
        cost=3.0,
        min_length=8,
        known_covariates=True,
        past_covariates=True,
        static_features=True,
        handles_missing_target=True,
    )
    # What fit learns (the booster) is kept: predict on newer or other history uses it.
    _stateful = True

    layout_: FeatureLayout
    booster_: lgb.Booster | None
    features_: list[str]
    residual_steps_: np.ndarray
    residuals_: np.ndarray
    best_rounds_: int
    detrend_: bool
    closed_rules_: tuple[tuple[str, float], ...]
    # Validation error (in units of each series' level) of every candidate fitted.
    validation_errors_: dict[str, float]
    # Covariates held to one direction (`gbm_monotone`); models saved before have none.
    monotone_covariates: Mapping[str, int] | None = None

    def __init__(
        self,
        strategy: str = "direct",
        season_lengths: Sequence[int] | None = None,
        scale_window: int | None = None,
        trend_window: int | None = None,
        n_origins: int = 1000,
        max_rows: int = 60_000,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_data_in_leaf: int = 50,
        feature_fraction: float = 0.8,
        max_rounds: int = 1000,
        early_stopping_rounds: int = 50,
        refit: bool = True,
        validation_horizons: float = 1.0,
        detrend: bool | str = "auto",
        scaling: str = "auto",
        fourier_order: int | None = None,
        quantile_levels: Sequence[float] | None = None,
        quantile_rounds: int | None = None,
        n_jobs: int | None = None,
        seed: int = 0,
        monotone_covariates: Mapping[str, int] | None = None,
    ) -> None:
        check_directions(monotone_covariates)
        if detrend not in (True, False, "auto"):
            raise ConfigError(f"LightGBM detrend must be True, False or 'auto', got {detrend!r}")
        if strategy not in STRATEGIES:
            raise ConfigError(f"LightGBM strategy must be one of {STRATEGIES}, got {strategy!r}")
        if scaling not in SCALINGS:
            raise ConfigError(f"LightGBM scaling must be one of {SCALINGS}, got {scaling!r}")
        self.strategy = strategy
        self.season_lengths = season_lengths
        self.scale_window = scale_window
        self.trend_window = trend_window
        self.n_origins = n_origins
        self.max_rows = max_rows
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.feature_fraction = feature_fraction
        self.max_rounds = max_rounds
        self.early_stopping_rounds = early_stopping_rounds
        self.refit = refit
        self.validation_horizons = validation_horizons
        self.detrend = detrend
        self.scaling = scaling
        self.fourier_order = fourier_order
        self.quantile_levels = quantile_levels
        self.quantile_rounds = quantile_rounds
        self.n_jobs = n_jobs
        self.seed = seed
        self.monotone_covariates = monotone_covariates

    # ---- configuration -----------------------------------------------------------------
    def _periods(self) -> tuple[int, ...]:
        return model_periods(self.season_lengths, self.spec_.freq)

    def _layout(self, data: SeriesArrays) -> FeatureLayout:
        return feature_layout(
            data,
            self.spec_,
            self.horizon_,
            self._periods(),
            scale_window=self.scale_window,
            trend_window=self.trend_window,
            scaling="spread" if self.scaling == "auto" else self.scaling,
            fourier_order=fourier_order(self._periods(), self.fourier_order),
        )

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "regression",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "lambda_l2": 1.0,
            "max_bin": 63,
            "bin_construct_sample_cnt": 50_000,
            **run_params(self.n_jobs, self.seed),
        }

    @property
    def _steps(self) -> int:
        return self.horizon_ if self.strategy == "direct" else 1

    # ---- fit ---------------------------------------------------------------------------
    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        self.layout_ = self._layout(data)
        check_covariates(self.monotone_covariates, self.layout_)
        self.booster_ = None
        self.residual_steps_ = np.zeros(0, dtype=np.int64)
        self.residuals_ = np.zeros(0)
        self.best_rounds_ = 0
        self.detrend_ = self.detrend is True
        self.validation_errors_ = {}
        self.quantile_boosters_, self.quantile_rounds_ = {}, 0
        ext = extend(data, self.layout_)
        numeric = [c for c in self.layout_.known if f"kc_{c}" not in self.layout_.categories]
        self.closed_rules_ = closure_rules(ext.values, ext.covariates, numeric)
        ext = self._open_only(ext)
        calendar = calendar_frame(ext, self.spec_, self.layout_)
        windows = Windows(ext.values, ext.indptr)
        origins, steps, validation = self._sample(ext)
        if len(origins) == 0:
            return
        target = ext.values[origins + steps - 1]
        level = series_level(ext, windows, origins, self.layout_.scale_window)
        stop = None if deadline is None else deadline - DEADLINE_MARGIN
        rows: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]] = {}

        def scaled_rows(scaling: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
            """Features, scaled target and scale of the rows under `scaling` (the last one kept)."""
            if scaling not in rows:
                rows.clear()
                layout = replace(self.layout_, scaling=scaling)
                x, location, scale = feature_rows(ext, calendar, layout, origins, steps, windows)
                rows[scaling] = (x, (target - location) / scale, scale)
            return rows[scaling]

        candidates = self._candidates()
        if not (validation.any() and (~validation).any()):
            scaling, self.detrend_ = candidates[0]
            x, scaled, _ = scaled_rows(scaling)
            self._use(scaling, x)
            y = scaled - self._base(x)
            # Its refit will have boosters: so does this fit (`expect`), and then the point
            # model gives only the mean column, as in a validated fit (RMSE alone reads it), and
            # runs their rounds rather than a quarter of `max_rounds`; where the run's metric
            # does not read the mean, the 0.5 booster is the point model (`_point_unread`).
            banded = self._refit_validates()
            band_rounds = self.quantile_rounds or quantile_rounds(0, self.learning_rate)
            if banded:
                self._fit_quantiles(x, y, band_rounds, stop)
                if self._point_unread():
                    self.booster_ = self.quantile_boosters_.get(0.5)
            if self.booster_ is None:
                point_rounds = min(self.max_rounds, band_rounds) if banded else self.max_rounds // 4
                self.booster_ = self._train(x, y, None, stop, rounds=point_rounds)
            self.best_rounds_ = self.booster_.current_iteration()
            return
        # With quantile boosters the point model's early stopping only sets their rounds,
        # which `quantile_rounds` caps: boosting past that cap bought nothing (Favorita,
        # three origins: identical wQL; its point model ran 1,000 rounds in one fit).
        cap = QUANTILE_RATE_CAP / self.learning_rate if self._quantile_objective else self.max_rounds
        rounds = min(self.max_rounds, max(1, round(cap)))
        scaling, self.detrend_, booster, self.validation_errors_ = select_scaling(
            candidates, scaled_rows, validation, level, lambda x, y, v: self._train(x, y, v, stop, rounds)
        )
        x, scaled, _ = scaled_rows(scaling)
        self._use(scaling, x)
        self.best_rounds_ = max(1, booster.best_iteration or booster.current_iteration())
        y = scaled - self._base(x)
        # Residuals on the scaled target over the validation window, by step (`gbm_training`).
        calibrated = calibrate(
            booster,
            ext,
            calendar,
            windows,
            x[validation],
            y[validation],
            steps[validation],
            direct=self.strategy == "direct",
            layout=self.layout_,
            horizon=self.horizon_,
            holdout=self._holdout,
            rounds=self.best_rounds_,
            rules=self._rules,
            features=self.features_,
            detrend=self.detrend_,
        )
        if calibrated is not None:
            self.residual_steps_, self.residuals_ = calibrated
        levels = self._levels
        # With quantile boosters (trained on every row) the point model only gives the mean
        # column and the band of levels not asked at fit: the early-stopped booster serves,
        # and refitting it on all rows bought nothing measured (LightGBM alone, same wQL and
        # WAPE on dominicks_oj origins 0-1, pasta_promo and Favorita) for 30-40% of the time.
        if self.refit and not levels and not (stop is not None and time.monotonic() > stop):
            booster = self._train(x, y, None, stop, rounds=self.best_rounds_)
        self.booster_ = booster
        self._fit_quantiles(
            x, y, self.quantile_rounds or quantile_rounds(self.best_rounds_, self.learning_rate), stop
        )

    def _candidates(self) -> list[tuple[str, bool]]:
        """(scaling, detrend) pairs that validation chooses from (`gbm_scaling`)."""
        closed = bool(self.closed_rules_)
        return scaling_candidates(self.scaling, self.detrend, closed, self._quantile_objective)

    def _use(self, scaling: str, x: pd.DataFrame) -> None:
        self.layout_ = replace(self.layout_, scaling=scaling)
        self.features_ = list(x.columns)

    @property
    def _rules(self) -> tuple[tuple[str, float], ...]:
        """The closure rules; none for a model saved before they existed."""
        return getattr(self, "closed_rules_", ())

    def _open_only(self, ext: Extended) -> Extended:
        """`ext` with the cells the closure rules call closed made missing (`gbm_closed`)."""
        return open_only(ext, self._rules)

    def _sample(self, ext: Extended) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training and validation rows, each sampled down to its share of `max_rows`."""
        n_origins = self.n_origins if self.strategy == "direct" else self.n_origins * self.horizon_
        return sample_rows(
            ext, self.layout_, self.horizon_, n_origins, self._steps, self._holdout, self.max_rows, self.seed
        )

    def _train(
        self,
        x: pd.DataFrame,
        y: np.ndarray,
        valid: tuple[pd.DataFrame, np.ndarray] | None,
        stop: float | None,
        rounds: int | None = None,
        objective: dict[str, Any] | None = None,
        dataset: lgb.Dataset | None = None,
    ) -> lgb.Booster:
        monotone = monotone_params(self.monotone_covariates, x.columns)
        params = {**self._params(), **monotone, **(objective or {})}
        categories = self.layout_.categories
        return train_booster(
            x,
            y,
            valid,
            stop,
            params,
            categories,
            self.early_stopping_rounds,
            rounds or self.max_rounds,
            dataset,
        )

    # ---- predict (`gbm_predict`) -----------------------------------------------------------------------
    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        return global_forecast(self, data, future, quantiles)

    def _fallback(
        self, data: SeriesArrays, short: np.ndarray, quantiles: Sequence[float]
    ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """The `short` series' forecasts: the last cycle's mean of their open days (closed days
        left out), `naive_fallback`'s spread; zeros for the others (`fallback_prediction`)."""
        history = open_values(data.values, data.covariates, self._rules)
        return fallback_prediction(data, short, self.horizon_, quantiles, history, min(self._periods()))

    def _base(self, x: pd.DataFrame) -> np.ndarray:
        """What the trees add to: the local trend line with `detrend`, else nothing (0)."""
        return trend_base(x, self.detrend_)
