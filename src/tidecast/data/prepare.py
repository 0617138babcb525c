"""Preparation: one frequency, a complete regular grid per series, missing values filled.

`prepare` takes the canonical panel from ingest and returns what the models may assume: every
series on the same frequency, with one row per step from its first observation to its end,
and a report of everything that was changed or tolerated. Aggregation to a coarser frequency,
the grid and the filling all run on whole-panel numpy arrays (no loop over series), so ten
thousand series of a thousand days take seconds.

How columns aggregate, and what happens to a last period the data does not complete, is
`aggregation`'s. Buckets are labelled like pandas: days from midnight, weeks on their anchor
day ("W" = weeks Monday-Sunday labelled Sunday), months at their start (MS) or end (ME).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.aggregation import aggregate, resolve_aggregations
from tidecast.data.arrays import series_indptr
from tidecast.data.fill_cells import column_values, ended_early, fill_gaps
from tidecast.data.filling import (
    ColumnFilling,
    FillingOptions,
    is_flag,
    resolve_filling,
)
from tidecast.data.frequency import asked_frequency, infer_frequency, season_length
from tidecast.data.future import fill_future
from tidecast.data.grid import full_grid, make_grid, nominal_ns
from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.data.zero_runs import ZeroRuns, inner_steps, odd_zero_runs, zero_run_notes
from tidecast.errors import DataError
from tidecast.wording import counted, plural

MAX_GRID_CELLS = 400_000_000
# A series is judged to be on a coarser frequency (daily among hourly) only when it has enough
# steps that all share a factor; sparse series with few observations would be false alarms.
MIN_STEPS_TO_JUDGE = 10

__all__ = ["PreparedData", "fill_future", "prepare"]


@dataclass(frozen=True)
class PreparedData:
    """A prepared panel and what was done to it.

    `filled` counts the filled cells per column and region ("front", "middle", "back");
    `short_items` lists every series shorter than the minimum length (kept, so the AutoML can
    give them a fallback model); `filling` is the resolved plan, which `fill_future` reuses.
    """

    panel: pd.DataFrame
    freq: str
    source_freq: str | None
    problems: tuple[Problem, ...]
    filled: Mapping[str, Mapping[str, int]]
    short_items: tuple[str, ...]
    filling: Mapping[str, ColumnFilling]
    static_columns: tuple[str, ...] = ()


@dataclass
class _Arrays:
    """The panel as arrays during preparation: `series` indexes `names`, rows sorted."""

    names: np.ndarray
    series: np.ndarray
    ordinals: np.ndarray
    columns: dict[str, np.ndarray]


def prepare(
    panel: pd.DataFrame,
    freq: str | None = None,
    *,
    filling: FillingOptions | None = None,
    aggregation: Mapping[str, str] | None = None,
    horizon: int | None = None,
    min_length: int | None = None,
    static_columns: Sequence[str] = (),
) -> PreparedData:
    """Put a canonical panel (from `ingest.to_canonical`) on a complete grid of one frequency.

    `freq=None` infers the frequency and refuses panels that mix frequencies. An explicit `freq`
    coarser than the data aggregates to it with `aggregation` (column -> sum/avg/first/min/max).
    `filling` and `aggregation` are keyed by canonical column names ("target" for the target;
    see `ingest.canonical_keys`). Every column that is not item, timestamp or one of
    `static_columns` is a time-varying covariate. `min_length` defaults to two horizons (one to
    fit, one to validate), or 2 without a horizon.
    """
    if len(panel) == 0:
        raise DataError("the data is empty: it has no rows")
    static = tuple(static_columns)
    varying = [c for c in panel.columns if c not in (ITEM_ID, TIMESTAMP, *static)]
    if TARGET not in varying or ITEM_ID not in panel.columns or TIMESTAMP not in panel.columns:
        raise DataError("prepare needs the canonical panel (item_id, timestamp, target): use to_canonical")
    data = _to_arrays(panel, [*varying, *static])
    numeric = {c: data.columns[c].dtype.kind == "f" for c in varying}
    flags = [c for c in varying if c != TARGET and numeric[c] and is_flag(data.columns[c])]
    plans = resolve_filling(filling, numeric, flags)
    how = resolve_aggregations(aggregation, numeric, static)
    problems: list[Problem] = []

    timestamps = panel[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    starts = _starts(data.series)
    source = _infer(timestamps, np.append(starts, len(timestamps)), required=freq is None)
    target_freq = asked_frequency(freq, source) if freq is not None else str(source)
    if source is not None and nominal_ns(target_freq) < 0.999 * nominal_ns(source):
        raise DataError(
            f"the data is at frequency {source!r} and the finer frequency {target_freq!r} was asked: "
            "tidecast aggregates to coarser frequencies but does not split values"
        )
    grid = make_grid(target_freq, timestamps[starts])
    data.ordinals = grid.ordinals(timestamps)
    off_grid = grid.labels(data.ordinals) != timestamps
    collide = (data.series[1:] == data.series[:-1]) & (data.ordinals[1:] == data.ordinals[:-1])
    if off_grid.any() or collide.any():
        if freq is None:
            raise _mixed_error(data, timestamps, off_grid, collide, target_freq)
        if grid != make_grid(target_freq):  # aggregation buckets start at the epoch / calendar
            grid = make_grid(target_freq)
            data.ordinals = grid.ordinals(timestamps)
        problems.extend(aggregate(data, timestamps, grid, how, static, source, target_freq))
    _check_coarser(data, target_freq)
    if plans[TARGET].zero_runs == "missing":
        padded = plans[TARGET].frontfill.method != "none"
        problems.extend(
            _zero_runs_missing(data, padded, inner_steps(np.timedelta64(int(nominal_ns(target_freq)), "ns")))
        )

    indptr, filled = _regular_grid(data, plans, varying, static, problems, season_length(target_freq))
    problems.extend(_value_notes(data.columns[TARGET], indptr, data.names))
    limit = min_length if min_length is not None else (2 * horizon if horizon else 2)
    short_items = tuple(str(x) for x in data.names[np.diff(indptr) < limit])
    if short_items:
        problems.append(
            Problem(
                "short_series",
                f"{counted(len(short_items), 'series')} {plural(len(short_items), 'is')} shorter than "
                f"{counted(limit, 'step')}",
                count=len(short_items),
                items=sample_items(short_items),
                handled="kept; the AutoML gives them a fallback model",
            )
        )
    frame = pd.DataFrame(
        {
            ITEM_ID: data.names.astype(object)[data.series],
            TIMESTAMP: grid.labels(data.ordinals),
            **{c: data.columns[c] for c in [*varying, *static]},
        },
        copy=False,  # the arrays are fresh; consolidating them would copy the panel again
    )
    return PreparedData(frame, target_freq, source, tuple(problems), filled, short_items, plans, static)


def _to_arrays(panel: pd.DataFrame, columns: Sequence[str]) -> _Arrays:
    items = panel[ITEM_ID].to_numpy()
    indptr = series_indptr(items)
    starts, lengths = indptr[:-1], np.diff(indptr)
    values = {column: column_values(panel[column]) for column in columns}
    series_index = np.repeat(np.arange(len(starts)), lengths)
    return _Arrays(items[starts].astype(str), series_index, np.zeros(0, dtype=np.int64), values)


def _starts(series: np.ndarray) -> np.ndarray:
    return series_indptr(series)[:-1]


def _infer(timestamps: np.ndarray, indptr: np.ndarray, required: bool) -> str | None:
    try:
        return infer_frequency(timestamps, indptr)
    except DataError:
        if required:
            raise
        return None


def _mixed_error(
    data: _Arrays, timestamps: np.ndarray, off_grid: np.ndarray, collide: np.ndarray, freq: str
) -> DataError:
    if off_grid.any():
        rows = np.flatnonzero(off_grid)
        off = counted(len(np.unique(data.series[rows])), "series")
        what = f"timestamps of {off} are not on the {freq!r} grid"
    else:
        rows = np.flatnonzero(collide) + 1
        n = len(rows)
        what = f"{counted(n, 'row')} {plural(n, 'repeats', 'repeat')} a timestamp of "
        what += f"{plural(n, 'its', 'their')} series"
    items = sample_items(data.names[data.series[rows]])
    shown: list[dict[str, object]] = [
        {ITEM_ID: str(data.names[data.series[i]]), TIMESTAMP: pd.Timestamp(timestamps[i]).isoformat()}
        for i in rows[:5]
    ]
    return DataError(
        f"{what} ({list(items)}): the panel mixes frequencies or time offsets; pass a coarser "
        "frequency to aggregate everything to it, or fix those series",
        shown,
    )


def _check_coarser(data: _Arrays, freq: str) -> None:
    """Refuse series whose steps all share a factor (daily series in an hourly panel)."""
    same = data.series[1:] == data.series[:-1]
    steps = np.r_[0, np.where(same, np.diff(data.ordinals), 0)]
    starts = _starts(data.series)
    common = np.gcd.reduceat(steps, starts)
    count = np.diff(np.append(starts, len(steps))) - 1
    coarse = np.flatnonzero((common > 1) & (count >= MIN_STEPS_TO_JUDGE))
    if len(coarse):
        raise DataError(
            f"{counted(len(coarse), 'series')} {plural(len(coarse), 'has')} a timestamp only every "
            f"{counted(int(common[coarse[0]]), 'step')} of {freq!r} "
            f"({list(sample_items(data.names[coarse]))}): the panel mixes frequencies; pass their coarser "
            "frequency to aggregate everything to it, or prepare them separately"
        )


def _zero_runs_missing(data: _Arrays, padded: bool, inner_min: int) -> list[Problem]:
    """Read the target's runs of zeros that cannot be demand (`zero_runs`) as missing, in place:
    rows before a launch left out (kept where a frontfill pads the series back anyway), zeros
    between sales emptied."""
    target = data.columns[TARGET]
    runs = odd_zero_runs(target, series_indptr(data.series), inner_min)
    if padded:
        runs = ZeroRuns(np.zeros_like(runs.leading), runs.inner)
    if not (runs.leading.any() or runs.inner.any()):
        return []
    notes = zero_run_notes(data.names, data.series, runs)
    data.columns[TARGET] = np.where(runs.inner, np.nan, target)
    keep = ~runs.leading
    data.series, data.ordinals = data.series[keep], data.ordinals[keep]
    data.columns = {column: values[keep] for column, values in data.columns.items()}
    return notes


def _regular_grid(
    data: _Arrays,
    plans: Mapping[str, ColumnFilling],
    varying: list[str],
    static: Sequence[str],
    problems: list[Problem],
    season: int,
) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """Reindex every series onto its complete grid and fill the gaps, in place on `data`.

    A series runs from its first to its last observed target value, stretched to the panel's
    common start or end when the target has a front or back fill. Returns the new series
    boundaries and the filled-cell counts.
    """
    starts = _starts(data.series)
    observed = ~np.isnan(data.columns[TARGET])
    big = np.iinfo(np.int64).max
    first = np.minimum.reduceat(np.where(observed, data.ordinals, big), starts)
    last = np.maximum.reduceat(np.where(observed, data.ordinals, -big), starts)
    if np.any(first == big):
        empty = data.names[first == big]
        raise DataError(
            f"{counted(len(empty), 'series')} {plural(len(empty), 'has')} no target values at all: "
            f"{list(sample_items(empty))}"
        )
    if plans[TARGET].frontfill.method != "none":
        first = np.full(len(starts), first.min())
    problems.extend(ended_early(last, data.names, plans[TARGET].backfill.method))
    if plans[TARGET].backfill.method != "none":
        last = np.full(len(starts), last.max())
    cells = int((last - first + 1).sum())
    if cells > MAX_GRID_CELLS:
        widest = np.argsort(first - last)[:5]
        raise DataError(
            f"the regular grid would have {cells} cells: some series span far too many steps "
            f"({list(data.names[widest])}); check their timestamps or choose a coarser frequency"
        )
    inside = (data.ordinals >= first[data.series]) & (data.ordinals <= last[data.series])
    if not inside.all():
        n = int((~inside).sum())
        problems.append(
            Problem(
                "rows_outside_series",
                f"{counted(n, 'row')} {plural(n, 'lies', 'lie')} before the first or after the last target "
                f"value of {plural(n, 'its', 'their')} series (future covariates belong in a separate frame)",
                count=int((~inside).sum()),
                items=sample_items(data.names[data.series[~inside]]),
                handled="dropped",
            )
        )
    full_ordinals, indptr = full_grid(first, last)
    grid_series = np.repeat(np.arange(len(starts)), np.diff(indptr))
    complete = len(full_ordinals) == len(data.series) and bool(inside.all())
    if not complete:  # scatter the rows onto the grid; a complete panel (the usual) skips this
        row_series = data.series[inside]
        position = indptr[row_series] + (data.ordinals[inside] - first[row_series])
    filled: dict[str, dict[str, int]] = {}
    columns: dict[str, np.ndarray] = {}
    for column in varying:
        values = data.columns[column]
        if not complete:
            full = np.full(
                len(full_ordinals), np.nan if values.dtype.kind == "f" else None, dtype=values.dtype
            )
            full[position] = values[inside]
            values = full
        columns[column], filled[column] = fill_gaps(
            column, values, indptr, plans[column], data.names, problems, season
        )
    for column in static:  # one value per series (ingest checks it): the first row's
        columns[column] = data.columns[column][starts][grid_series]
    data.series, data.ordinals, data.columns = grid_series, full_ordinals, columns
    return indptr, filled


def _value_notes(target: np.ndarray, indptr: np.ndarray, names: np.ndarray) -> list[Problem]:
    """Negative values and constant series: worth knowing (metrics, model choice), not errors."""
    starts = indptr[:-1]
    notes = []
    negative = target < 0
    if negative.any():
        series = np.add.reduceat(negative, starts) > 0
        notes.append(
            Problem(
                "negative_values",
                f"{counted(int(negative.sum()), 'negative target value')} in "
                f"{counted(int(series.sum()), 'series')}",
                count=int(negative.sum()),
                items=sample_items(names[series]),
                handled="kept; models that assume non-negative demand may clip their forecasts",
            )
        )
    valid = ~np.isnan(target)
    low = np.minimum.reduceat(np.where(valid, target, np.inf), starts)
    high = np.maximum.reduceat(np.where(valid, target, -np.inf), starts)
    constant = low == high
    if constant.any():
        notes.append(
            Problem(
                "constant_series",
                f"{counted(int(constant.sum()), 'series')} {plural(int(constant.sum()), 'is')} constant",
                count=int(constant.sum()),
                items=sample_items(names[constant]),
                handled="kept; scaled metrics skip them and simple models suit them",
            )
        )
    return notes
