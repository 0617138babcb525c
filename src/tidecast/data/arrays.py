"""The panel as contiguous arrays: values plus an index of series boundaries, built once.

Models and metrics work on these, never on per-group pandas loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP


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

    def tail(self, n: int) -> SeriesArrays:
        """Keep only the last `n` observations of each series (context length for local models)."""
        lengths = self.lengths
        keep = np.minimum(lengths, n)
        start = self.indptr[1:] - keep
        index = (
            np.concatenate([np.arange(s, e) for s, e in zip(start, self.indptr[1:], strict=True)])
            if len(keep)
            else np.zeros(0, dtype=np.int64)
        )
        return SeriesArrays(
            item_ids=self.item_ids,
            values=self.values[index],
            indptr=np.concatenate([[0], np.cumsum(keep)]).astype(np.int64),
            timestamps=self.timestamps[index],
            freq=self.freq,
            covariates={k: v[index] for k, v in self.covariates.items()},
            static=self.static,
        )
