"""Known covariates as design columns of the regression family (dynamic regression, Prophet).

Both models turn a panel's known covariates into numeric columns the same way: an encoder
learnt at fit (indicators with their event windows, other numbers standardised, text one-hot
on its frequent levels), applied to each series' history and horizon together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.features import event_distances
from tidecast.models.covariates.encoding import as_flags, as_numbers, is_binary, one_hot, vocabulary
from tidecast.models.covariates.horizon import append_horizon

# A text covariate gets one-hot columns for at most this many levels, each on at least
# MIN_LEVEL_SHARE of the rows: rare levels would be columns a series barely sees.
MAX_LEVELS = 10
MIN_LEVEL_SHARE = 0.01


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
            values = as_numbers(np.asarray(raw))
            if values is None:
                frequent = vocabulary(raw, max_levels, MIN_LEVEL_SHARE)
                if len(frequent) > 1 or (len(frequent) == 1 and len(vocabulary(raw)) > 1):
                    levels.append((name, tuple(sorted(frequent))))
                continue
            present = values[np.isfinite(values)]
            if len(present) == 0 or np.ptp(present) == 0:
                continue  # constant: nothing a regression can learn from it
            if is_binary(present):
                indicators.append(name)
            else:
                numeric.append((name, float(np.mean(present)), float(np.std(present))))
        return cls(tuple(indicators), tuple(numeric), tuple(levels), tuple(int(r) for r in radii))

    @property
    def effects(self) -> tuple[str, ...]:
        """The columns of `names` that are the covariates' own values (every column but the
        event windows): those whose effect may scale with a series' level."""
        out = [*self.indicators, *(name for name, _, _ in self.numeric)]
        out.extend(f"{name}={level}" for name, values in self.levels for level in values)
        return tuple(out)

    @property
    def windows(self) -> dict[str, str]:
        """Each event-window column of `names` -> the flag it counts steps to."""
        return {f"{name}_within_{r}": name for name in self.indicators for r in self.radii}

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
            raw = as_numbers(np.asarray(columns[name])) if name in columns else None
            flag = as_flags(raw) if raw is not None else np.zeros(rows, np.float32)
            parts.append(flag)
            if self.radii:
                to_next, since = event_distances(flag, indptr, cap=max(self.radii) + 1)
                nearest = np.minimum(to_next, since)
                parts.extend((nearest <= r).astype(np.float32) for r in self.radii)
        for name, mean, sd in self.numeric:
            raw = as_numbers(np.asarray(columns[name])) if name in columns else None
            values = np.full(rows, mean) if raw is None else np.where(np.isfinite(raw), raw, mean)
            parts.append(((values - mean) / (sd or 1.0)).astype(np.float32))
        for name, kept in self.levels:
            found = name in columns
            parts.append(one_hot(columns[name], kept) if found else np.zeros((rows, len(kept)), np.float32))
        return np.column_stack(parts) if parts else np.zeros((rows, 0), dtype=np.float32)


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
    extended = data if future is None else append_horizon(data, horizon, future, used)
    columns = {c: extended.covariates[c] for c in used if c in extended.covariates}
    encoded = encoder.encode(columns, extended.indptr)
    return Exogenous(encoder.names, encoded, extended.indptr[:-1], data.lengths)
