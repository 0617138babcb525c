"""A second global LightGBM: one row per target date, every value feature at least a horizon old.

`LightGBM` (`gbm`) builds a row per (forecast origin, step), normalises it at its origin and
reads the latest values before the origin; it is strongest over the first steps. This model is
the other classic design of retail contests: each training row is a date `t` of a series, its
value features are lags of `t` of at least the horizon (`y[t - h]`, `y[t - h - 1]`, seasonal
lags, rolling means ending at `t - h`), so the same row layout serves every step of the
forecast without recursion, and one scale per series (its recent mean |y|) makes series of any
size share the model. The trees learn how a date relates to its own season a horizon back and
to its covariates, which a per-origin model sees through a different lens; their errors differ,
and the weighted ensemble gains from both.

Why a candidate of its own: averaging the two halves their independent errors. Measured before
adding it (rolling origins, one thread, same run), the 50/50 average of `LightGBM` and a plain
model of this design against each alone, wQL: dominicks_oj (3 origins) 0.3241 against 0.3434 /
0.3325, pasta_promo (3) 0.3920 against 0.3988 / 0.4034, Favorita (3) 0.0244 against 0.0258 /
0.0257, the average best at 8 of 9 origins. The AutoML's ensemble finds such weights itself.

Quantiles come from one booster per level with the pinball loss (the levels the run asks for,
else p10/p50/p90); levels asked only at predict are interpolated between the trained ones. The
mean is the p50 booster's forecast. Closed days (`gbm_closed`) are forecast as exactly 0, are
no labels and are left out of the scale and the rolling means, as in `LightGBM`; missing
targets are never labels, and lags over them are missing.

Budget: `rounds` at `learning_rate` 0.1 (the plain model's 400 at 0.05 scored no better on
dominicks_oj or pasta_promo: 0.3404 / 0.4038 against 0.3325 / 0.4034 with 100 at 0.1, at
2.5 times the time), rows sampled to `max_rows`.

Measured and not taken (engine 30b7d02): a **seasonal base** for weekly data, the trees
learning the target less the value a year back (or half of it plus half the quarter's mean,
the mean alone where no year-back value exists). Trees cannot forecast a peak above the
range of their training rows, and with under two years of history the rows that hold a
year-back lag are the quiet months: cut at 91 weeks, the panel of `benchmarks/short_weekly.py`
saw this model forecast the coming Thanksgiving-Christmas weeks at 0.6-0.9 of the actual
sales (SeasonalNaive 0.95-1.0). The half base took that cut's wQL (this model alone) from
0.0890 to 0.0829, the full base to 0.0753, and the base alone where a year back exists to
0.0666; but at 84 weeks they gave 0.0688 / 0.0762 / 0.0719 against 0.0687, and the half base
cost the whole AutoML on dominicks_oj (weekly too, promotions a year back are not this year's)
0.3058 / 0.2136 / 0.4298 -> 0.3413 / 0.2545 / 0.4465.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, ranges
from tidecast.data.features import EVENT_CAP, event_distances
from tidecast.models.base import Forecaster, Prediction, Tags
from tidecast.models.gbm_closed import closed_mask, closure_rules, open_only, open_values
from tidecast.models.gbm_features import Extended, FeatureLayout, calendar_frame, extend, flag_lift
from tidecast.models.gbm_layout import feature_layout, fourier_order, model_periods
from tidecast.models.gbm_runtime import run_params
from tidecast.models.gbm_training import binned, booster_predict, train_booster
from tidecast.models.gbm_windows import Windows
from tidecast.models.intervals import fallback_prediction, too_short

if TYPE_CHECKING:  # lightgbm loads scikit-learn and dask (about a second): imported on first fit
    import lightgbm as lgb

DEFAULT_LEVELS = (0.1, 0.5, 0.9)
# The series scale: mean |y| over about two months of days, a quarter of weeks, a week of hours.
SCALE_STEPS = {7: 56, 52: 13, 24: 168}
# Rolling means ending a horizon back: a week, four and thirteen of them for daily data.
ROLLING = {7: (7, 28, 91), 52: (4, 13, 52), 24: (24, 168, 672)}


class HorizonLagLightGBM(Forecaster):
    """Global LightGBM on date rows with lags of at least the horizon (module docstring)."""

    name = "LightGBMHorizonLags"
    tags = Tags(
        scope="global",
        cost=2.0,
        min_length=8,
        known_covariates=True,
        past_covariates=True,
        static_features=True,
        handles_missing_target=True,
    )
    _stateful = True

    layout_: FeatureLayout
    lags_: tuple[int, ...]
    rolling_: tuple[int, ...]
    scale_window_: int
    closed_rules_: tuple[tuple[str, float], ...]
    features_: list[str]
    boosters_: dict[float, lgb.Booster]

    def __init__(
        self,
        season_lengths: Sequence[int] | None = None,
        learning_rate: float = 0.1,
        num_leaves: int = 63,
        min_data_in_leaf: int = 20,
        rounds: int = 100,
        max_rows: int = 150_000,
        max_bin: int = 255,
        feature_fraction: float = 1.0,
        quantile_levels: Sequence[float] | None = None,
        fourier_order: int | None = None,
        n_jobs: int | None = None,
        seed: int = 0,
    ) -> None:
        self.season_lengths = season_lengths
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.rounds = rounds
        self.max_rows = max_rows
        self.max_bin = max_bin
        self.feature_fraction = feature_fraction
        self.quantile_levels = quantile_levels
        self.fourier_order = fourier_order
        self.n_jobs = n_jobs
        self.seed = seed

    # ---- configuration -----------------------------------------------------------------
    def _configure(self, data: SeriesArrays) -> None:
        """Lags, rolling windows and scale window for this panel's frequency and lengths."""
        periods, h = model_periods(self.season_lengths, self.spec_.freq), self.horizon_
        main = periods[0]
        typical = int(np.median(data.lengths))
        lags = {h, h + 1, h + 2}
        k = max(1, -(-h // main))
        while main > 1 and k * main <= max(4 * main, h):
            lags.add(k * main)
            k += 1
        for period in periods[1:]:
            lag = round(period / main) * main if main > 1 else int(period)
            lags.update(m * lag for m in (1, 2) if m * lag >= h and m * lag + h < typical)
        self.lags_ = tuple(sorted(lag for lag in lags if lag < max(typical, h + 3)))
        self.rolling_ = ROLLING.get(main, (max(main, 2), 4 * max(main, 2), 13 * max(main, 2)))
        self.scale_window_ = SCALE_STEPS.get(main, max(main, 8))
        self.layout_ = feature_layout(
            data,
            self.spec_,
            h,
            periods,
            scale_window=self.scale_window_,
            trend_window=None,
            scaling="level",
            fourier_order=fourier_order(periods, self.fourier_order),
        )

    def _params(self, level: float) -> dict[str, Any]:
        return {
            "objective": "quantile",
            "alpha": level,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "max_bin": self.max_bin,
            "feature_fraction": self.feature_fraction,
            **run_params(self.n_jobs, self.seed),
        }

    @property
    def _levels(self) -> tuple[float, ...]:
        return tuple(sorted({float(q) for q in (self.quantile_levels or DEFAULT_LEVELS)}))

    # ---- fit ---------------------------------------------------------------------------
    def _fit(self, data: SeriesArrays, deadline: float | None) -> None:
        self._configure(data)
        ext = extend(data, self.layout_)
        numeric = [c for c in self.layout_.known if f"kc_{c}" not in self.layout_.categories]
        self.closed_rules_ = closure_rules(ext.values, ext.covariates, numeric)
        ext = open_only(ext, self.closed_rules_)
        self.boosters_ = {}
        self.features_ = []
        rows = self._training_rows(ext)
        if len(rows) == 0:
            return
        windows = Windows(ext.values, ext.indptr)
        scale = self._scales(ext, windows)
        x = self._features(ext, windows, rows, scale)
        y = ext.values[rows] / scale[ext.series_of(rows)]
        self.features_ = list(x.columns)
        stop = None if deadline is None else deadline - 0.5
        categorical = [c for c in self.layout_.categories if c in x.columns]
        shared = binned(x, y, categorical)
        for level in self._levels:
            self.boosters_[level] = train_booster(
                x, y, None, stop, self._params(level), categorical, 0, self.rounds, shared
            )

    def _training_rows(self, ext: Extended) -> np.ndarray:
        """Observed, open positions with a horizon of history before them, sampled to `max_rows`."""
        h = self.horizon_
        lengths = ext.ends - ext.starts
        counts = np.maximum(lengths - h, 0)
        rows = ranges(ext.starts + np.minimum(h, lengths), counts)
        rows = rows[np.isfinite(ext.values[rows])]
        if len(rows) > self.max_rows:
            rng = np.random.default_rng(self.seed)
            rows = np.sort(rng.choice(rows, self.max_rows, replace=False))
        return rows

    def _scales(self, ext: Extended, windows: Windows) -> np.ndarray:
        """Each series' mean |y| over its last `scale_window_` observed cells before its end (its origin).

        Whole-history mean |y| where that window saw nothing (a gap, a long closure), else 1.
        """
        ends = ext.ends
        _, _, recent = windows.stats(np.maximum(ext.starts, ends - self.scale_window_), ends)
        _, _, whole = windows.stats(ext.starts, ends)
        scale = np.where(np.isfinite(recent) & (recent > 0), recent, whole)
        return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)

    def _features(
        self, ext: Extended, windows: Windows, target: np.ndarray, scale: np.ndarray
    ) -> pd.DataFrame:
        """The feature table of the target positions `target` (absolute positions in `ext`)."""
        h = self.horizon_
        series = ext.series_of(target)
        start = ext.starts[series]
        own = scale[series]
        columns: dict[str, np.ndarray] = {}
        for lag in self.lags_:
            back = target - lag
            ok = back >= start
            columns[f"lag_{lag}"] = np.where(ok, ext.values[np.where(ok, back, 0)], np.nan) / own
        end = np.maximum(start, target - h + 1)
        for width in self.rolling_:
            mean, _, _ = windows.stats(np.maximum(start, end - width), end)
            columns[f"mean_{width}"] = mean / own
        for column in self.layout_.known:
            values = ext.covariates[column]
            columns[f"kc_{column}"] = values[target]
            if column in self.layout_.indicators:
                to_next, since = event_distances(values, ext.indptr, EVENT_CAP)
                columns[f"kc_{column}_to_next"] = to_next[target]
                columns[f"kc_{column}_since"] = since[target]
                if column in self.layout_.shared:
                    columns[f"kc_{column}_lift"] = flag_lift(ext.values, values, start, end, ext.indptr)
        for column in self.layout_.past:
            back = target - h
            ok = back >= start
            columns[f"pc_{column}"] = np.where(ok, ext.covariates[column][np.where(ok, back, 0)], np.nan)
        for column in self.layout_.static:
            columns[f"st_{column}"] = ext.static[column][series]
        columns["log_scale"] = np.log1p(own)
        frame = pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in columns.items()})
        calendar = calendar_frame(ext, self.spec_, self.layout_)
        if len(calendar.columns):
            frame = pd.concat([frame, calendar.iloc[target].reset_index(drop=True)], axis=1)
        return frame

    # ---- predict -----------------------------------------------------------------------
    def _predict(
        self,
        data: SeriesArrays,
        future: pd.DataFrame | None,
        quantiles: tuple[float, ...],
        deadline: float | None,
    ) -> Prediction:
        h = self.horizon_
        short = too_short(data, self.min_history) | (not self.boosters_)
        # As in `LightGBM`: the last cycle's mean of the open days, closed days left out.
        history = open_values(data.values, data.covariates, self.closed_rules_)
        window = min(model_periods(self.season_lengths, self.spec_.freq))
        mean, bands, fallback = fallback_prediction(data, short, h, quantiles, history, window)
        if short.all():
            return Prediction(mean=mean, quantiles=bands, fallback=fallback)
        ext = extend(data, self.layout_, h, future)
        closed = closed_mask(ext.covariates, self.closed_rules_, len(ext.values))
        ext = open_only(ext, self.closed_rules_)
        model = np.flatnonzero(~short)
        target = (ext.ends[model][:, None] + np.arange(h)[None, :]).ravel()
        windows = Windows(ext.values, ext.indptr)
        scale = self._scales(ext, windows)
        x = self._features(ext, windows, target, scale)
        own = np.repeat(scale[model], h)
        levels = self._levels
        fitted = np.column_stack([booster_predict(self.boosters_[q], x, self.features_) for q in levels])
        fitted = np.sort(fitted, axis=1) * own[:, None]
        center = fitted[:, levels.index(0.5)] if 0.5 in levels else _interpolate(levels, fitted, 0.5)
        mean[model] = center.reshape(len(model), h)
        for j, q in enumerate(quantiles):
            column = fitted[:, levels.index(q)] if q in levels else _interpolate(levels, fitted, q)
            bands[model, :, j] = column.reshape(len(model), h)
        # Closed days (a rule of `gbm_closed`) sell exactly 0, the fallback's series too.
        shut = closed[ext.ends[:, None] + np.arange(h)[None, :]]
        mean, bands = np.where(shut, 0.0, mean), np.where(shut[:, :, None], 0.0, bands)
        return Prediction(mean=mean, quantiles=bands, fallback=fallback)


def _interpolate(levels: tuple[float, ...], fitted: np.ndarray, q: float) -> np.ndarray:
    """Level `q` by linear interpolation between the trained levels (held flat beyond them)."""
    upper = int(np.clip(np.searchsorted(levels, q), 1, len(levels) - 1)) if len(levels) > 1 else 0
    if len(levels) == 1:
        return fitted[:, 0]
    lo, hi = levels[upper - 1], levels[upper]
    weight = float(np.clip((q - lo) / (hi - lo), 0.0, 1.0))
    return fitted[:, upper - 1] * (1 - weight) + fitted[:, upper] * weight
