"""How the neural forecasters see a panel: features per step and padded, right-aligned panels.

Torch-free on purpose: the forecasters build these in fit and keep them for predict, and
importing this module (hence the model catalog) must not pay the seconds torch takes to load.

- **Features per step** (`FeatureLayout`): the calendar, holiday and Fourier columns of
  `tidecast.data.features.time_features`, the known covariates (numbers standardised,
  text one-hot over the categories seen in fit) and, for indicator covariates such as a
  promotion flag, the steps to the next and since the previous event (`event_distances`,
  over history and horizon together, so a day before a planned promotion knows it). Past
  covariates are a separate block the models use only where they are observed (the context).
  Static columns become category codes for embeddings (code 0 is "not seen in fit", so an
  unseen category never crashes) or standardised numbers.
- **Panels** (`Panel`): the recent history of every series right-aligned in one padded
  array, so a training window is one fancy-indexing gather (`windows.make_batch`), and
  windows reaching before a series' start are padding (short series need no fallback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, ranges
from tidecast.data.features import EVENT_CAP, event_distances, spec_calendar, time_features
from tidecast.data.frequency import seasonal_periods
from tidecast.data.schema import DatasetSpec
from tidecast.models.covariates.encoding import as_flags, is_binary, is_numeric, one_hot, vocabulary
from tidecast.models.covariates.encoding import codes as label_codes

# At most this many categories of a text covariate or static column get their own column or
# embedding row; rarer ones share the "unseen" code.
MAX_CATEGORIES = 50
# Seasonal periods longer than this enter only through Fourier terms, never as lags or as
# context length: a yearly lag of daily data would need two years of history per window.
MAX_LAG_PERIOD = 200
# A window's scale is at least this, so an all-zero context divides by one, not by zero.
MIN_SCALE = 1e-8


def short_periods(freq: str) -> tuple[int, ...]:
    """The frequency's seasonal periods short enough to serve as lags and set context length."""
    return tuple(int(p) for p in seasonal_periods(freq) if 1 < p <= MAX_LAG_PERIOD)


def default_context(freq: str, horizon: int) -> int:
    """Four horizons, or two of the longest short season, between 16 and MAX_LAG_PERIOD steps."""
    periods = short_periods(freq)
    return int(np.clip(max(4 * horizon, 2 * max(periods, default=1)), 16, MAX_LAG_PERIOD))


# ---- features -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnCoder:
    """How one time-varying covariate becomes columns: a number, or one-hot categories."""

    name: str
    vocabulary: tuple[str, ...] | None  # None: numeric
    indicator: bool  # numeric 0/1 column: add distances to the next / previous event

    @classmethod
    def fit(cls, name: str, values: np.ndarray, known: bool) -> ColumnCoder:
        values = np.asarray(values)
        if is_numeric(values):
            return cls(name, None, known and is_binary(values))
        return cls(name, vocabulary(values, MAX_CATEGORIES), False)

    @property
    def width(self) -> int:
        if self.vocabulary is not None:
            return len(self.vocabulary)
        return 3 if self.indicator else 1

    def encode(self, values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        """Columns (rows, width), float32; NaN where a number is missing."""
        if self.vocabulary is not None:
            return one_hot(values, self.vocabulary)
        number = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float32)
        if not self.indicator:
            return number[:, None]
        number = np.where(np.isfinite(number), as_flags(number), number)
        to_next, since = event_distances(number, indptr)
        return np.column_stack([number, to_next / EVENT_CAP, since / EVENT_CAP]).astype(np.float32)


@dataclass(frozen=True)
class Standardizer:
    """Column centres and spreads learnt in fit; NaN becomes 0 (the centre) after scaling."""

    center: np.ndarray
    spread: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, min_spread: float = 1e-6) -> Standardizer:
        """Column means and standard deviations; a spread below `min_spread` becomes 1."""
        if x.shape[0] == 0:
            return cls(np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32))
        with np.errstate(all="ignore"):
            center = np.nan_to_num(np.nanmean(x, axis=0), nan=0.0)
            spread = np.nan_to_num(np.nanstd(x, axis=0), nan=1.0)
        return cls(center.astype(np.float32), np.where(spread > min_spread, spread, 1.0).astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.nan_to_num((x - self.center) / self.spread, nan=0.0).astype(np.float32)


@dataclass(frozen=True)
class StaticCoder:
    """Static columns: text as 1-based codes for embeddings, numbers standardised."""

    categorical: tuple[tuple[str, tuple[str, ...]], ...]
    numeric: tuple[str, ...]
    standardizer: Standardizer

    @classmethod
    def fit(cls, static: pd.DataFrame | None, columns: Sequence[str]) -> StaticCoder:
        categorical: list[tuple[str, tuple[str, ...]]] = []
        numeric: list[str] = []
        for name in columns:
            if static is None or name not in static:
                continue
            values = static[name].to_numpy()
            if is_numeric(values) and values.dtype.kind != "b":
                numeric.append(name)
            else:
                categorical.append((name, vocabulary(values, MAX_CATEGORIES)))
        raw = cls._numbers(static, numeric)
        return cls(tuple(categorical), tuple(numeric), Standardizer.fit(raw))

    @staticmethod
    def _numbers(static: pd.DataFrame | None, numeric: Sequence[str]) -> np.ndarray:
        if static is None or not numeric:
            return np.zeros((0 if static is None else len(static), len(numeric)), np.float32)
        return np.column_stack(
            [pd.to_numeric(static[c], errors="coerce").to_numpy(np.float32) for c in numeric]
        )

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """Embedding table sizes, counting the "unseen" code 0."""
        return tuple(len(v) + 1 for _, v in self.categorical)

    def encode(self, static: pd.DataFrame | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(codes (n, n_categorical) int64, numbers (n, n_numeric) float32)."""
        codes = np.zeros((n, len(self.categorical)), dtype=np.int64)
        numbers = np.full((n, len(self.numeric)), np.nan, dtype=np.float32)
        if static is not None:
            for j, (name, labels) in enumerate(self.categorical):
                if name in static:
                    codes[:, j] = label_codes(static[name].to_numpy(), labels)
            present = [c for c in self.numeric if c in static]
            if present:
                raw = self._numbers(static, present)
                for k, name in enumerate(present):
                    numbers[:, self.numeric.index(name)] = raw[:, k]
        return codes, self.standardizer(numbers)


@dataclass(frozen=True)
class FeatureLayout:
    """Every decision about inputs made in fit, so predict builds the very same columns."""

    spec: DatasetSpec
    periods: tuple[float, ...]
    fourier_order: int
    time_columns: tuple[str, ...]
    known: tuple[ColumnCoder, ...]
    past: tuple[ColumnCoder, ...]
    known_scaler: Standardizer
    past_scaler: Standardizer
    static: StaticCoder
    log_scale: Standardizer

    @property
    def n_known(self) -> int:
        return len(self.time_columns) + sum(c.width for c in self.known)

    @property
    def n_past(self) -> int:
        return sum(c.width for c in self.past)

    @property
    def n_static_real(self) -> int:
        """Standardised numeric static columns, plus the window's log scale."""
        return len(self.static.numeric) + 1

    @classmethod
    def fit(cls, data: SeriesArrays, spec: DatasetSpec, fourier_order: int = 3) -> FeatureLayout:
        periods = tuple(float(p) for p in seasonal_periods(spec.freq) if p > 1)
        frame = _time_frame(data.timestamps, spec, periods, fourier_order)
        known = tuple(
            ColumnCoder.fit(c, data.covariates[c], True)
            for c in spec.known_covariates
            if c in data.covariates
        )
        past = tuple(
            ColumnCoder.fit(c, data.covariates[c], False)
            for c in spec.past_covariates
            if c in data.covariates
        )
        draft = cls(
            spec,
            periods,
            fourier_order,
            tuple(frame.columns),
            known,
            past,
            Standardizer(np.zeros(0), np.ones(0)),
            Standardizer(np.zeros(0), np.ones(0)),
            StaticCoder.fit(data.static, spec.static_columns),
            Standardizer(np.zeros(1), np.ones(1)),
        )
        known_raw, past_raw = draft.raw_features(data, frame)
        with np.errstate(all="ignore"):
            level = np.array(
                [np.nanmean(np.abs(data.series(i))) for i in range(data.n_series)], dtype=np.float32
            )
        log_level = np.log(np.maximum(np.nan_to_num(level, nan=1.0), MIN_SCALE))[:, None]
        return cls(
            spec,
            periods,
            fourier_order,
            draft.time_columns,
            known,
            past,
            Standardizer.fit(known_raw),
            Standardizer.fit(past_raw),
            draft.static,
            # Levels of a few similar series differ little; dividing by their tiny spread made a
            # trending series' later windows extreme inputs (forecasts twice the level).
            Standardizer.fit(log_level, min_spread=1.0),
        )

    def raw_features(
        self, data: SeriesArrays, frame: pd.DataFrame | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unscaled (known, past) columns for every row of `data`."""
        if frame is None:
            frame = _time_frame(data.timestamps, self.spec, self.periods, self.fourier_order)
        known = [frame.reindex(columns=list(self.time_columns), fill_value=0.0).to_numpy(np.float32)]
        known += [c.encode(data.covariates[c.name], data.indptr) for c in self.known]
        past = [c.encode(data.covariates[c.name], data.indptr) for c in self.past]
        rows = len(data.values)
        return (
            np.concatenate(known, axis=1) if known else np.zeros((rows, 0), np.float32),
            np.concatenate(past, axis=1) if past else np.zeros((rows, 0), np.float32),
        )

    def panel(self, data: SeriesArrays, length: int) -> Panel:
        """The last `length` rows of every series, right-aligned and padded, with features."""
        data = data.tail(length)
        known_raw, past_raw = self.raw_features(data)
        n = data.n_series
        lengths = data.lengths
        rows = np.repeat(np.arange(n), lengths)
        cols = ranges(length - lengths, lengths)
        target = np.full((n, length), np.nan, dtype=np.float32)
        target[rows, cols] = data.values
        known = np.zeros((n, length, self.n_known), dtype=np.float32)
        known[rows, cols] = self.known_scaler(known_raw)
        past = np.zeros((n, length, self.n_past), dtype=np.float32)
        past[rows, cols] = self.past_scaler(past_raw)
        static = data.static.reindex(data.item_ids) if data.static is not None else None
        codes, numbers = self.static.encode(static, n)
        return Panel(target, known, past, codes, numbers, lengths.astype(np.int64))


def _time_frame(
    timestamps: np.ndarray, spec: DatasetSpec, periods: tuple[float, ...], order: int
) -> pd.DataFrame:
    calendar = spec_calendar(spec, timestamps.min(), timestamps.max()) if len(timestamps) else None
    return time_features(timestamps, spec, periods, order, calendar)


# ---- panels -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    """Right-aligned padded arrays: series i's last observation sits at column length - 1."""

    target: np.ndarray  # (n, T) float32, NaN where missing or padding
    known: np.ndarray  # (n, T, n_known) scaled, 0 on padding
    past: np.ndarray  # (n, T, n_past)
    static_codes: np.ndarray  # (n, n_categorical) int64
    static_real: np.ndarray  # (n, n_numeric) float32
    lengths: np.ndarray  # (n,) real rows, at most T

    @property
    def n_series(self) -> int:
        return self.target.shape[0]

    @property
    def length(self) -> int:
        return self.target.shape[1]
