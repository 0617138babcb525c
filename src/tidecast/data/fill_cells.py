"""Filling the missing cells of a column, as its `filling.ColumnFilling` says: which cells are in
front of, between and after a series' observed values (`gap_regions`), what goes into them
(`fill_value`: a constant, a per-series statistic or a `gapfill` method), and the notes that
say how many were filled and how (`fill_gaps`). What to fill with is decided in `filling`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from tidecast.data import gapfill
from tidecast.data.filling import TAIL_MISSING, ColumnFilling, Fill
from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import TARGET
from tidecast.errors import ConfigError
from tidecast.wording import counted, plural

_REGION_NAMES = {"frontfill": "front", "middlefill": "middle", "backfill": "back"}


def gap_regions(missing: np.ndarray, indptr: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For "frontfill", "middlefill" and "backfill": the positions of those missing cells and
    the series each belongs to.

    Works on the positions of missing cells only (binary searches against the observed ones),
    so a column with few gaps costs little however long the panel is.
    """
    observed = np.flatnonzero(~missing)
    gaps = np.flatnonzero(missing)
    series = np.searchsorted(indptr, gaps, side="right") - 1
    n_series = len(indptr) - 1
    if len(observed):
        low = np.searchsorted(observed, indptr[:-1])
        high = np.searchsorted(observed, indptr[1:]) - 1
        has = low <= high
        first = np.where(has, observed[np.minimum(low, len(observed) - 1)], len(missing))
        last = np.where(has, observed[np.maximum(high, 0)], -1)
    else:  # nothing observed anywhere: every gap is in front of its series' (absent) values
        first, last = np.full(n_series, len(missing)), np.full(n_series, -1)
    front = gaps < first[series]
    back = (gaps > last[series]) & ~front
    middle = ~front & ~back
    return {
        "frontfill": (gaps[front], series[front]),
        "middlefill": (gaps[middle], series[middle]),
        "backfill": (gaps[back], series[back]),
    }


def item_statistic(values: np.ndarray, indptr: np.ndarray, method: str) -> np.ndarray:
    """Per-series mean/median/min/max of observed values; the column's own where a series has none."""
    valid = ~np.isnan(values)
    starts = indptr[:-1]
    count = np.add.reduceat(valid, starts)
    if method == "mean":
        stat = np.add.reduceat(np.where(valid, values, 0.0), starts) / np.maximum(count, 1)
    elif method == "min":
        stat = np.minimum.reduceat(np.where(valid, values, np.inf), starts)
    elif method == "max":
        stat = np.maximum.reduceat(np.where(valid, values, -np.inf), starts)
    elif method == "median":
        row_series = np.repeat(np.arange(len(starts)), np.diff(indptr))
        ordered = values[np.lexsort((values, row_series))]  # NaN sort last within each series
        # The middle one or two observed values; the same index twice when the count is odd.
        low = ordered[starts + np.maximum(count - 1, 0) // 2]
        high = ordered[starts + count // 2]
        stat = (low + high) / 2
    else:
        raise ConfigError(f"unknown statistic {method!r}")
    if np.all(count > 0):
        return stat
    overall = (
        item_statistic(values, np.array([0, len(values)]), method) if valid.any() else np.array([np.nan])
    )
    return np.where(count > 0, stat, overall[0])


def fill_value(
    fill: Fill, values: np.ndarray, indptr: np.ndarray, season: int = 1
) -> np.ndarray | float | str | None:
    """What to write into the cells of `fill`: a scalar, one value per series, or, for the
    `gapfill` methods, the whole column filled (index it by cell, not by series)."""
    if fill.method in gapfill.METHODS:
        return gapfill.fill_missing(values, indptr, fill.method, season)
    if fill.method == "zero":
        return 0.0
    if fill.method == "value":
        return fill.value
    return item_statistic(values, indptr, fill.method)


def column_values(series: pd.Series) -> np.ndarray:
    """A column as float64 with NaN for gaps when numeric (flags and counts too), else objects."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=object)


def array_values(values: np.ndarray) -> np.ndarray:
    """`column_values` of a column already taken out of its frame (`SeriesArrays.covariates`)."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    return values.astype(object)


def fill_gaps(
    column: str,
    values: np.ndarray,
    indptr: np.ndarray,
    plan: ColumnFilling,
    names: np.ndarray,
    problems: list[Problem],
    season: int = 1,
) -> tuple[np.ndarray, dict[str, int]]:
    """Fill one column's front, middle and back gaps, count them, and note them in `problems`.

    Statistics and the `gapfill` methods (with `season`, the panel's main period) read the
    observed cells only, before any gap is filled. The notes say, per region, how many cells
    were filled and how, and how many stay missing (for the target: what the models do then).
    """
    counts = {name: 0 for name in _REGION_NAMES.values()}
    missing = np.isnan(values) if values.dtype.kind == "f" else pd.isna(values)
    if not missing.any():
        return values, counts
    gaps = gap_regions(missing, indptr)
    result = values.copy()
    filled: dict[str, str] = {}
    left: dict[str, int] = {}
    for region, (positions, series) in gaps.items():
        fill = getattr(plan, region)
        if len(positions) == 0:
            continue
        if fill.method in ("none", TAIL_MISSING):
            left[_REGION_NAMES[region]] = len(positions)
            continue
        value = fill_value(fill, values, indptr, season)
        if fill.method in gapfill.METHODS:
            assert isinstance(value, np.ndarray)
            result[positions] = value[positions]
        else:
            result[positions] = value[series] if isinstance(value, np.ndarray) else value
        counts[_REGION_NAMES[region]] = len(positions)
        filled[region] = fill.describe()
    if filled:
        parts = ", ".join(
            f"{counts[_REGION_NAMES[r]]:,} {_REGION_NAMES[r]} by {how}" for r, how in filled.items()
        )
        problems.append(
            Problem(
                "missing_values",
                f"{column}: {counted(sum(counts.values()), 'missing cell', grouped=True)} filled ({parts})",
                count=sum(counts.values()),
                items=_items(names, gaps, filled),
                handled="filled (" + ", ".join(f"{region} {how}" for region, how in filled.items()) + ")",
            )
        )
    if left:
        total = sum(left.values())
        parts = ", ".join(f"{n:,} {region}" for region, n in left.items())
        handled = TARGET_LEFT if column == TARGET else "left missing (fill method none)"
        problems.append(
            Problem(
                "missing_values_left",
                f"{column}: {counted(total, 'missing cell', grouped=True)} ({parts}) {handled}",
                count=total,
                items=_items(names, gaps, [r for r in gaps if _REGION_NAMES[r] in left]),
                handled=handled,
            )
        )
    return result, counts


# What happens to target cells left missing (models.base): said once, where the notes are made.
TARGET_LEFT = (
    "left missing for the models that take them, filled for the others "
    + {
        "seasonal": "seasonally",
        "interpolate": "by linear interpolation",
        "auto": "by interpolation (gaps under a season) or seasonally (longer gaps)",
    }[gapfill.MODEL_FILL]
)


def _items(
    names: np.ndarray, gaps: Mapping[str, tuple[np.ndarray, np.ndarray]], regions: Iterable[str]
) -> tuple[str, ...]:
    return sample_items(names[np.sort(np.concatenate([gaps[r][1] for r in regions]))])


def ended_early(last: np.ndarray, names: np.ndarray, backfill: str) -> list[Problem]:
    """A note on the series whose last observed target is before the panel's last step (`last`:
    each series' last observed ordinal), and where they are forecast from: their own end under
    the target's default backfill ("none"), the panel's end under "missing". Other backfills
    fill those cells and their note says so."""
    behind = last.max(initial=0) - last
    early = behind > 0
    if not early.any() or backfill not in ("none", TAIL_MISSING):
        return []
    low, high = behind[early].min(), behind[early].max()
    span = f"{low}" if low == high else f"{low}-{high}"
    n = int(early.sum())
    said = f"{counted(n, 'series')} {plural(n, 'ends', 'end')} {span} {plural(high, 'step')} before "
    said += "the panel's last step"
    if backfill == TAIL_MISSING:
        message, handled = f"{said}: run on to it, those steps missing", "forecast from the panel's end"
    else:
        message = (
            f"{said}: each is forecast from its own last observation; a target backfill forecasts "
            f'them from the panel\'s end, {{"target": {{"backfill": "{TAIL_MISSING}"}}}} with those '
            'steps unknown, {"target": {"backfill": "median"}} with them filled'
        )
        handled = "forecast from their own last observation"
    return [Problem("series_end_early", message, int(early.sum()), sample_items(names[early]), handled)]
