"""The feature columns of the global LightGBM for a panel: lags by frequency and history,
rolling windows, the scale and trend windows, and the role of every covariate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tidecast.data.arrays import SeriesArrays
from tidecast.data.frequency import seasonal_periods
from tidecast.data.schema import DatasetSpec
from tidecast.models.gbm_features import (
    FeatureLayout,
    column_categories,
    default_lags,
    is_indicator,
    shared_flags,
)

# A seasonal period up to this many main periods (168 = 7 x 24 for hourly data) gets a
# rolling window of its own, which also becomes the scaling window (`cycle_window`).
WEEK_IN_MAINS = 8

# Fourier order of the global models by main season when theirs is None (else 3). Daily data
# gets none: day of week and day of year are calendar columns already, and the sine/cosine
# pairs cost fit time for a worse forecast. `LightGBMHorizonLags` alone, rolling origins, wQL
# with none against order 3: pasta_promo 0.4012 / 0.4039 over 3, Favorita 0.0266 / 0.0269
# over 4. The whole AutoML with `LightGBM`'s pairs dropped too (one thread, same session):
# pasta_promo 0.3883 / 0.3927 over 3 origins, the store panel 0.0102 / 0.0116, the messy demo
# 0.0142 / 0.0145, its wide-scale variant 0.0271 / 0.0278, the clean demo 0.0032 / 0.0034;
# Favorita 0.02551 / 0.02538 over 4 (the one set that lost, by 0.5%). Weekly data keeps them
# (`LightGBMHorizonLags` on dominicks_oj: 0.3349 without against 0.3161 with, over 3).
FOURIER_ORDER = {7: 0}
DEFAULT_FOURIER_ORDER = 3


def fourier_order(periods: tuple[int, ...], order: int | None) -> int:
    """`order` when given, else the default for the main period `periods[0]` (`FOURIER_ORDER`)."""
    return FOURIER_ORDER.get(periods[0], DEFAULT_FOURIER_ORDER) if order is None else order


def model_periods(season_lengths: Sequence[float] | None, freq: str) -> tuple[int, ...]:
    """The seasonal periods a global model uses: the ones given, else the frequency's (main first)."""
    periods = season_lengths or seasonal_periods(freq)
    return tuple(round(p) for p in periods if p >= 1) or (1,)


def feature_layout(
    data: SeriesArrays,
    spec: DatasetSpec,
    horizon: int,
    periods: tuple[int, ...],
    *,
    scale_window: int | None,
    trend_window: int | None,
    scaling: str,
    fourier_order: int,
) -> FeatureLayout:
    """The layout for `data` with seasonal `periods` (main first); None windows get defaults."""
    main = periods[0]
    typical = int(np.median(data.lengths)) if data.n_series else 0
    lags = default_lags(periods, typical, horizon)
    windows: tuple[int, ...] = (main, 4 * main) if main > 1 else (7, 28)
    windows += cycle_window(periods, typical)
    phase = tuple(p for p in periods if p > 1 and p <= typical // 2)
    phase = tuple(sorted({main if p == main else max(lags) if p > main else p for p in phase}))
    categories: dict[str, tuple[str, ...]] = {}
    known = tuple(c for c in spec.known_covariates if c in data.covariates)
    for column in known:
        labels = column_categories(data.covariates[column])
        if labels is not None:
            categories[f"kc_{column}"] = labels
    past = tuple(
        c
        for c in spec.past_covariates
        if c in data.covariates and column_categories(data.covariates[c]) is None
    )
    static = tuple(spec.static_columns) if data.static is not None else ()
    for column in static:
        labels = column_categories(data.static[column].to_numpy()) if data.static is not None else None
        if labels is not None:
            categories[f"st_{column}"] = labels
    indicators = tuple(c for c in known if is_indicator(data.covariates[c]))
    return FeatureLayout(
        horizon=horizon,
        lags=lags,
        windows=windows,
        phase_periods=phase,
        scale_window=scale_window or main * int(np.ceil(28 / main)),
        scaling=scaling,
        trend_window=trend_window or main * int(np.ceil(56 / main)),
        fourier_periods=tuple(float(p) for p in periods if p > 1),
        fourier_order=fourier_order,
        known=known,
        indicators=indicators,
        past=past,
        static=static,
        categories=categories,
        shared=shared_flags(data, indicators),
    )


def cycle_window(periods: tuple[int, ...], typical: int) -> tuple[int, ...]:
    """A window over the whole longer cycle when it is short: the week of hourly data.

    The last window sets the location and spread of "spread" scaling. Over 4 days of an
    hourly series they swing with the weekday / weekend pattern; over the whole week they
    do not (M4 hourly OWA 0.558 -> 0.532 at seed 0, 0.550 -> 0.547 at seed 1). Only a
    period of at most WEEK_IN_MAINS main periods qualifies, so the year of daily data
    (unmeasured as a window) keeps the daily layout.
    """
    main = periods[0]
    longer = [p for p in periods[1:] if 4 * main < p <= WEEK_IN_MAINS * main and 2 * p <= typical]
    return (longer[0],) if main > 1 and longer else ()
