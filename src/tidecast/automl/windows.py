"""Backtest windows at the end of the history, split without look-ahead.

Window k (0-based, oldest first, of n) cuts each series `offset = (n-1-k)·step + horizon`
steps before that series' last observation: the history is every row up to and including the
cutoff, the actual the `horizon` rows right after it. The latest window therefore ends
exactly at the end of the data, and `step` (default `horizon`) spaces the windows.

Cutoffs are per-series offsets counted in steps from each series' own end, not one calendar
date: series that stop at different dates (discontinued items) still get a full window each.
On a panel whose series share an end date, which is the usual case, this is the same as one
common calendar cutoff per window.

The split is index arithmetic on the series boundaries (`indptr`), never a loop over items,
so it costs the same for ten series as for a hundred thousand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, ranges, series_indptr
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError, DataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BacktestWindow:
    """One backtest window: `index` (0 = oldest), the cutoff `offset` and the `horizon`.

    `offset` is how many of each series' last observations lie after the cutoff; the window
    scores the first `horizon` of them (offset == horizon for the latest window).
    """

    index: int
    offset: int
    horizon: int

    def __post_init__(self) -> None:
        # offset < horizon would put actual rows past the end of the data: refuse it early,
        # since an offset counted to the window's end instead of its cutoff is an easy slip.
        if self.horizon < 1 or self.offset < self.horizon or self.index < 0:
            raise ConfigError(
                f"a backtest window needs horizon >= 1 and offset >= horizon (the offset counts the "
                f"steps from the cutoff to the series end), got {self}; build windows with backtest_windows"
            )


class WindowSplit(NamedTuple):
    """One window's frames and who took part: unpacks as `history, actual, excluded, cutoffs`.

    `history` and `actual` keep every column of the panel (covariates included, so the actual
    rows double as the known future covariates), sorted by (item_id, timestamp). `excluded`
    holds the ids of series too short for this window; `cutoffs` the last history timestamp
    of each included series, indexed by item id.
    """

    history: pd.DataFrame
    actual: pd.DataFrame
    excluded: np.ndarray
    cutoffs: pd.Series


def backtest_windows(horizon: int, n_windows: int, step: int | None = None) -> tuple[BacktestWindow, ...]:
    """The `n_windows` windows at the end of the history, oldest first.

    >>> [w.offset for w in backtest_windows(horizon=7, n_windows=3)]
    [21, 14, 7]
    """
    step = horizon if step is None else step
    for name, value in (("horizon", horizon), ("n_windows", n_windows), ("step", step)):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, got {value}")
    return tuple(
        BacktestWindow(index=k, offset=(n_windows - 1 - k) * step + horizon, horizon=horizon)
        for k in range(n_windows)
    )


def backtest_cutoffs(
    timestamps: np.ndarray, indptr: np.ndarray, windows: tuple[BacktestWindow, ...] | list[BacktestWindow]
) -> np.ndarray:
    """The cutoff timestamp of every series in every window, shape (n_series, n_windows).

    The cutoff is the last timestamp the history may hold; NaT where the series has no row
    at that offset (too short). Useful for reports: "window 2 was cut at 2024-03-01".
    """
    timestamps = np.asarray(timestamps, dtype="datetime64[ns]")
    indptr = np.asarray(indptr, dtype=np.int64)
    offsets = np.array([w.offset for w in windows], dtype=np.int64)
    position = indptr[1:, None] - 1 - offsets[None, :]
    has_row = position >= indptr[:-1, None]
    out = np.full(position.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    out[has_row] = timestamps[position[has_row]]
    return out


def window_indices(
    indptr: np.ndarray, window: BacktestWindow, min_history: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of a window's history and actual, plus which series take part.

    Returns `(history_rows, actual_rows, included)`: positions into the concatenated panel
    (in series order) and a boolean mask per series. A series takes part when at least
    `min_history` rows (and always at least one) precede its cutoff; the `horizon` actual
    rows always exist then, because `offset >= horizon`.
    """
    included, history_length = _history_lengths(indptr, window, min_history)
    starts = np.asarray(indptr, dtype=np.int64)[:-1][included]
    history_rows = ranges(starts, history_length[included])
    return history_rows, _actual_rows(starts, history_length[included], window), included


def window_history(
    arrays: SeriesArrays, window: BacktestWindow, series: np.ndarray | None = None, min_history: int = 1
) -> tuple[SeriesArrays, np.ndarray]:
    """A window's history taken from the panel's arrays, and the panel rows of its actual.

    Only the series in the boolean mask `series` (all by default) that take part (see
    `window_indices`); the history holds the same rows, columns and static attributes a
    split of the panel frame would, gathered from the arrays built once for the panel.
    """
    included, history_length = _history_lengths(arrays.indptr, window, min_history)
    if series is not None:
        included &= series
    starts = arrays.indptr[:-1][included]
    history = arrays.take(np.flatnonzero(included), starts, history_length[included])
    return history, _actual_rows(starts, history_length[included], window)


def _history_lengths(
    indptr: np.ndarray, window: BacktestWindow, min_history: int
) -> tuple[np.ndarray, np.ndarray]:
    """Which series take part in a window, and each series' number of history rows."""
    if min_history < 1:
        raise ConfigError(f"min_history must be at least 1, got {min_history}")
    history_length = np.diff(np.asarray(indptr, dtype=np.int64)) - window.offset
    return history_length >= min_history, history_length


def _actual_rows(starts: np.ndarray, history_length: np.ndarray, window: BacktestWindow) -> np.ndarray:
    return ranges(starts + history_length, np.full(len(starts), window.horizon, dtype=np.int64))


def panel_indptr(panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Series boundaries and item ids of a panel, checking the sort order splits rely on.

    A split by position is only free of look-ahead when each item's rows are contiguous and
    strictly increasing in time, so an unsorted panel is refused rather than silently leaked.
    """
    missing = [c for c in (ITEM_ID, TIMESTAMP) if c not in panel.columns]
    if missing:
        raise DataError(f"the panel lacks the column(s) {missing}")
    codes, uniques = pd.factorize(panel[ITEM_ID], sort=False)
    indptr = series_indptr(codes)
    times = panel[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    same_item = codes[1:] == codes[:-1]
    if len(indptr) - 1 != len(uniques) or np.any(same_item & ~(times[1:] > times[:-1])):
        raise DataError(
            "the panel must be sorted by (item_id, timestamp) with one row per item and timestamp "
            "before it can be split into backtest windows"
        )
    return indptr, panel[ITEM_ID].to_numpy()[indptr[:-1]]


def _arrays_frame(arrays: SeriesArrays, rows: np.ndarray) -> pd.DataFrame:
    """The rows of the arrays as a panel frame: covariates, then static columns, as prepared."""
    items = np.repeat(arrays.item_ids, arrays.lengths)
    columns: dict[str, np.ndarray] = {
        ITEM_ID: items[rows].astype(str),
        TIMESTAMP: arrays.timestamps[rows],
        TARGET: arrays.values[rows],
    }
    columns.update({name: values[rows] for name, values in arrays.covariates.items()})
    if arrays.static is not None:
        static = arrays.static
        columns.update({name: np.repeat(static[name].to_numpy(), arrays.lengths)[rows] for name in static})
    return pd.DataFrame(columns)


def split_window(
    data: pd.DataFrame | SeriesArrays, window: BacktestWindow, min_history: int = 1
) -> WindowSplit:
    """Split a panel (long frame sorted by item and time) or its arrays for one window.

    The history holds only rows at or before each series' cutoff and the actual exactly the
    `horizon` rows after it; both keep every column. Series with fewer than `min_history`
    history rows are left out of both frames, listed in `excluded` and logged: excluding
    them, rather than giving them a partial window, scores every candidate on the same,
    complete windows. Unpacks as `history, actual, excluded, cutoffs`.
    """
    if isinstance(data, SeriesArrays):
        indptr, item_ids, timestamps = data.indptr, data.item_ids, data.timestamps
    else:
        indptr, item_ids = panel_indptr(data)
        timestamps = data[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    history_rows, actual_rows, included = window_indices(indptr, window, min_history)
    excluded = np.asarray(item_ids)[~included]
    if len(excluded):
        logger.info(
            "backtest window %d: %d series too short (fewer than %d history rows) left out",
            window.index,
            len(excluded),
            min_history,
        )
    last_history = indptr[1:][included] - window.offset - 1
    cutoffs = pd.Series(timestamps[last_history], index=np.asarray(item_ids)[included], name="cutoff")
    if isinstance(data, SeriesArrays):
        history, actual = _arrays_frame(data, history_rows), _arrays_frame(data, actual_rows)
    else:
        history = data.iloc[history_rows].reset_index(drop=True)
        actual = data.iloc[actual_rows].reset_index(drop=True)
    return WindowSplit(history, actual, excluded, cutoffs)


def backtest_splits(
    data: pd.DataFrame | SeriesArrays,
    horizon: int,
    n_windows: int,
    step: int | None = None,
    min_history: int = 1,
) -> list[tuple[BacktestWindow, WindowSplit]]:
    """Every window's split, oldest first: what the AutoML fits and scores each candidate on."""
    return [(w, split_window(data, w, min_history)) for w in backtest_windows(horizon, n_windows, step)]
