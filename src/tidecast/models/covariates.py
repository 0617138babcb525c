"""Known covariates and holidays as design columns, shared by the regression family.

Both the dynamic regression and Prophet turn a panel's known covariates and holiday calendar
into numeric columns the same way: a holiday table gathered by date, an encoder learnt at fit
(numeric columns as they are, text ones one-hot on their frequent levels, event distances),
and the rows of the horizon appended after each series. Keeping that here, apart from either
model, means one encoder and one holiday table, and a model module that is only its model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, ranges
from tidecast.data.calendar import as_datetime64
from tidecast.data.features import event_distances
from tidecast.data.holidays import HolidayCalendar, holiday_features

# A text covariate gets one-hot columns for at most this many levels, each on at least
# MIN_LEVEL_SHARE of the rows: rare levels would be columns a series barely sees.
MAX_LEVELS = 10
MIN_LEVEL_SHARE = 0.01


@dataclass(frozen=True)
class HolidayTable:
    """Holiday indicator columns for every calendar day from `first_day`, gathered by date.

    Built once per fit or predict over the panel's span (plus the horizon), so each series
    only indexes rows. Pass a calendar that covers a year either side of the span
    (`spec_calendar` does), which makes a date's values independent of the span asked for
    (Dec 31 sees next New Year's Day).
    """

    first_day: int
    names: tuple[str, ...]
    values: np.ndarray

    @classmethod
    def build(
        cls, calendar: HolidayCalendar, radii: Sequence[int], start: object, end: object
    ) -> HolidayTable:
        first, last = (
            int(as_datetime64([s]).astype("datetime64[D]").view(np.int64)[0]) for s in (start, end)
        )
        days = np.arange(first, last + 1).astype("datetime64[D]")
        names: list[str] = []
        columns: list[np.ndarray] = []
        for radius in radii:
            frame = holiday_features(days, calendar, per_holiday=True, radius=int(radius))
            for column in sorted(c for c in frame.columns if c.startswith("hol_")):
                names.append(f"{column}_{int(radius)}d")
                columns.append(frame[column].to_numpy(dtype=np.float64))
        values = np.column_stack(columns) if columns else np.zeros((len(days), 0))
        return cls(first, tuple(names), values)

    def gather(self, stamps: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Rows for `stamps`, columns `names` (zeros for a name this table lacks)."""
        rows = as_datetime64(stamps).astype("datetime64[D]").view(np.int64) - self.first_day
        index = {name: j for j, name in enumerate(self.names)}
        out = np.zeros((len(rows), len(names)))
        for k, name in enumerate(names):
            if name in index:
                out[:, k] = self.values[rows, index[name]]
        return out


def _numeric(values: np.ndarray) -> np.ndarray | None:
    """`values` as float64 (missing as NaN), or None for a text or categorical column."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    if values.dtype.kind == "O":
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(numeric).sum() == pd.isna(values).sum():  # every present value is a number
            return numeric
    return None


@dataclass(frozen=True)
class CovariateEncoder:
    """How known covariates become regression columns; learnt on the training panel.

    - `indicators`: 0/1 columns; each enters as is, plus "within r steps of an event" for
      every r in `radii` (steps to the nearest nonzero value, either side, from
      `event_distances`), because demand moves around a promotion or a holiday, not only on it;
    - `numeric`: (name, mean, sd) of the other numeric columns, which enter standardised
      with the training panel's mean and sd, so one ridge penalty suits them all;
    - `levels`: (name, levels) of text columns, one-hot over their frequent levels.
    """

    indicators: tuple[str, ...] = ()
    numeric: tuple[tuple[str, float, float], ...] = ()
    levels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    radii: tuple[int, ...] = ()

    @classmethod
    def learn(
        cls, columns: Mapping[str, np.ndarray], radii: Sequence[int], max_levels: int = MAX_LEVELS
    ) -> CovariateEncoder:
        indicators: list[str] = []
        numeric: list[tuple[str, float, float]] = []
        levels: list[tuple[str, tuple[str, ...]]] = []
        for name, raw in columns.items():
            values = _numeric(np.asarray(raw))
            if values is None:
                text = pd.Series(np.asarray(raw)).dropna().astype(str)
                counts = text.value_counts()
                frequent = counts[counts >= MIN_LEVEL_SHARE * max(len(text), 1)].index[:max_levels]
                if len(frequent) > 1 or (len(frequent) == 1 and len(counts) > 1):
                    levels.append((name, tuple(sorted(str(v) for v in frequent))))
                continue
            present = values[np.isfinite(values)]
            if len(present) == 0 or np.ptp(present) == 0:
                continue  # constant: nothing a regression can learn from it
            if np.isin(present, (0.0, 1.0)).all():
                indicators.append(name)
            else:
                numeric.append((name, float(np.mean(present)), float(np.std(present))))
        return cls(tuple(indicators), tuple(numeric), tuple(levels), tuple(int(r) for r in radii))

    @property
    def names(self) -> tuple[str, ...]:
        """The column names `encode` returns, in order."""
        out: list[str] = []
        for name in self.indicators:
            out.append(name)
            out.extend(f"{name}_within_{r}" for r in self.radii)
        out.extend(name for name, _, _ in self.numeric)
        out.extend(f"{name}={level}" for name, values in self.levels for level in values)
        return tuple(out)

    def encode(self, columns: Mapping[str, np.ndarray], indptr: np.ndarray) -> np.ndarray:
        """The regression columns (rows, len(names)) of series laid out by `indptr`.

        Missing values count as no event / the mean / no level. Event windows stay within a
        series; pass the history and the horizon together so the horizon sees planned events.
        """
        rows = int(indptr[-1]) if len(indptr) else 0
        parts: list[np.ndarray] = []
        for name in self.indicators:
            raw = _numeric(np.asarray(columns[name])) if name in columns else None
            flag = (
                (np.nan_to_num(raw) != 0).astype(np.float32)
                if raw is not None
                else np.zeros(rows, np.float32)
            )
            parts.append(flag)
            if self.radii:
                to_next, since = event_distances(flag, indptr, cap=max(self.radii) + 1)
                nearest = np.minimum(to_next, since)
                parts.extend((nearest <= r).astype(np.float32) for r in self.radii)
        for name, mean, sd in self.numeric:
            raw = _numeric(np.asarray(columns[name])) if name in columns else None
            values = np.full(rows, mean) if raw is None else np.where(np.isfinite(raw), raw, mean)
            parts.append(((values - mean) / (sd or 1.0)).astype(np.float32))
        for name, kept in self.levels:
            text = pd.Series(np.asarray(columns[name])).astype(str).to_numpy() if name in columns else None
            for level in kept:
                hit = np.zeros(rows, dtype=np.float32) if text is None else (text == level).astype(np.float32)
                parts.append(hit)
        return np.column_stack(parts) if parts else np.zeros((rows, 0), dtype=np.float32)


def with_horizon(history: np.ndarray, indptr: np.ndarray, ahead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each series' history rows followed by its row of `ahead` (n_series, horizon), and the indptr."""
    n, horizon = ahead.shape
    lengths = np.diff(indptr)
    joined_indptr = indptr + np.arange(n + 1) * horizon
    dtype = (
        np.result_type(history.dtype, ahead.dtype)
        if "O" not in (history.dtype.kind, ahead.dtype.kind)
        else object
    )
    joined = np.empty(len(history) + ahead.size, dtype=dtype)
    joined[ranges(joined_indptr[:-1], lengths)] = history
    joined[ranges(joined_indptr[:-1] + lengths, np.full(n, horizon))] = ahead.ravel()
    return joined, joined_indptr


@dataclass(frozen=True)
class Exogenous:
    """Covariate columns for a whole panel, and where each series' rows start in them.

    Series i's history rows are `values[starts[i] : starts[i] + lengths[i]]`; at predict its
    `horizon` rows follow them.
    """

    names: tuple[str, ...]
    values: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    def rows(self, i: int, start: int, stop: int) -> np.ndarray:
        """Rows `start:stop` of series i, counted from its first history row (the horizon's
        rows follow its last)."""
        first = int(self.starts[i])
        return self.values[first + start : first + stop].astype(np.float64)


def panel_exogenous(
    encoder: CovariateEncoder, data: SeriesArrays, future: pd.DataFrame | None = None, horizon: int = 0
) -> Exogenous | None:
    """The encoded known covariates of the panel, and of the horizon when `future` is given.

    `future` is the frame `Forecaster.predict` hands a model: `horizon` rows per series, in
    `data`'s order. Event windows are computed over each series' history and horizon together.
    """
    if not encoder.names:
        return None
    used = (*encoder.indicators, *(n for n, _, _ in encoder.numeric), *(n for n, _ in encoder.levels))
    if future is None:
        columns = {c: data.covariates[c] for c in used if c in data.covariates}
        return Exogenous(encoder.names, encoder.encode(columns, data.indptr), data.indptr[:-1], data.lengths)
    indptr = data.indptr + np.arange(data.n_series + 1) * horizon
    joined: dict[str, np.ndarray] = {}
    for c in used:
        history = np.asarray(data.covariates.get(c, np.full(len(data.values), np.nan)))
        joined[c], indptr = with_horizon(
            history, data.indptr, future[c].to_numpy().reshape(data.n_series, horizon)
        )
    return Exogenous(encoder.names, encoder.encode(joined, indptr), indptr[:-1], data.lengths)
