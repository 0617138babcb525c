"""The panel as contiguous arrays: values plus an index of series boundaries, built once.

Models and metrics work on these, never on per-group pandas loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + c) for every (s, c) pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return (shift + np.arange(total)).astype(np.int64)


def series_indptr(items: np.ndarray) -> np.ndarray:
    """Where each series starts in a column of item ids grouped by item, and the end.

    Run i of equal ids is `items[indptr[i]:indptr[i + 1]]`. The one place a panel's series
    boundaries are found, whoever holds the panel (arrays, windows, metrics, service, batch).

    >>> series_indptr(np.array(["a", "a", "b", "c", "c"])).tolist()
    [0, 2, 3, 5]
    """
    items = np.asarray(items)
    if len(items) == 0:
        return np.zeros(1, dtype=np.int64)
    change = np.flatnonzero(items[1:] != items[:-1]) + 1
    return np.concatenate([[0], change, [len(items)]]).astype(np.int64)


@dataclass(frozen=True)
class SeriesArrays:
    """A sorted panel: series i is `values[indptr[i]:indptr[i+1]]`.

    `covariates` holds other time-varying columns aligned with `values`; `static` is one row
    per item (indexed by item id) when the panel carries static attributes.
    """

    item_ids: np.ndarray
    values: np.ndarray
    indptr: np.ndarray
    timestamps: np.ndarray
    freq: str
    covariates: dict[str, np.ndarray] = field(default_factory=dict)
    static: pd.DataFrame | None = None

    @classmethod
    def from_panel(
        cls,
        panel: pd.DataFrame,
        freq: str,
        covariates: tuple[str, ...] = (),
        static_columns: tuple[str, ...] = (),
    ) -> SeriesArrays:
        """Build from a long frame sorted by (item_id, timestamp); static columns from each
        series' first row (ingest checked they are constant within a series)."""
        items = panel[ITEM_ID].to_numpy()
        indptr = series_indptr(items)
        starts = indptr[:-1]
        return cls(
            item_ids=items[starts].astype(str) if len(items) else np.array([], dtype=str),
            values=panel[TARGET].to_numpy(dtype=np.float64, na_value=np.nan),
            indptr=indptr,
            timestamps=panel[TIMESTAMP].to_numpy(dtype="datetime64[ns]"),
            freq=freq,
            covariates={c: panel[c].to_numpy() for c in covariates},
            static=(
                panel[list(static_columns)].iloc[starts].set_index(items[starts].astype(str))
                if static_columns and len(items)
                else None
            ),
        )

    @classmethod
    def from_spec(cls, panel: pd.DataFrame, spec: DatasetSpec) -> SeriesArrays:
        """Build with the covariates and static columns `spec` gives roles to (those the panel
        has): what every model reads, so the AutoML builds it once per panel and shares it."""
        columns = tuple(c for c in (*spec.known_covariates, *spec.past_covariates) if c in panel)
        static = tuple(c for c in spec.static_columns if c in panel)
        return cls.from_panel(panel, spec.freq, columns, static)

    @property
    def n_series(self) -> int:
        return len(self.indptr) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.indptr[i] : self.indptr[i + 1]]

    def last_timestamps(self) -> np.ndarray:
        return self.timestamps[self.indptr[1:] - 1]

    def steps_from_end(self) -> np.ndarray:
        """Per cell, its place counted back from its series' last cell (which is 1)."""
        return np.repeat(self.indptr[1:], self.lengths) - np.arange(len(self.values))

    def tail(self, n: int) -> SeriesArrays:
        """Keep only the last `n` observations of each series (context length for local models)."""
        keep = np.minimum(self.lengths, n)
        return self.take(np.arange(self.n_series), self.indptr[1:] - keep, keep)

    def take(self, series: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> SeriesArrays:
        """The series at positions `series`, each cut to `counts` rows from row `starts`.

        How a backtest window's history (or a context) is made from the panel's arrays without
        going back to a frame: index arithmetic on `indptr`, one gather per column.
        """
        rows = ranges(starts, counts)
        return SeriesArrays(
            item_ids=self.item_ids[series],
            values=self.values[rows],
            indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            timestamps=self.timestamps[rows],
            freq=self.freq,
            covariates={k: v[rows] for k, v in self.covariates.items()},
            static=None if self.static is None else self.static.iloc[series],
        )

    def with_columns(self, covariates: tuple[str, ...], static_columns: tuple[str, ...]) -> SeriesArrays:
        """The same series with only these covariates and static columns (those it has), in
        this order: what `from_panel` with them would have built, sharing the buffers."""
        static = self.static
        if static is not None:
            chosen = [c for c in static_columns if c in static.columns]
            static = static if chosen == list(static.columns) else static[chosen] if chosen else None
        kept = {c: self.covariates[c] for c in covariates if c in self.covariates}
        return replace(self, covariates=kept, static=static)
