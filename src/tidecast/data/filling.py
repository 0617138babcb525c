"""Filling missing values, in the vocabulary of SageMaker AutoML's ``Transformations.Filling``.

Each column gets a method for four regions of each series, judged from the column's own
observed values within that series:

* ``frontfill``: cells before the first observed value (the target's series start at their
  first observation unless its frontfill is set, which pads them back to the panel's start);
* ``middlefill``: missing cells between the first and the last observed value, whether the
  timestamp was absent from the data or present with an empty value;
* ``backfill``: cells after the last observed value, up to the panel's common end date;
* ``futurefill``: known covariates over the forecast horizon (see `prepare.fill_future`).

Methods: ``none`` (leave missing), ``zero``, ``value`` (with ``<region>_value``), ``mean``,
``median``, ``min``, ``max``; statistics are per item over its observed values, falling back to
the whole column when an item has none. tidecast adds ``interpolate``, ``seasonal`` and
``auto`` (see `gapfill`: a line between the neighbours, the same phase of the nearest season,
or the line for gaps under a season and the seasonal copy for longer ones; numeric columns
only, not futurefill). SageMaker accepts only ``none`` as frontfill; tidecast also
accepts the other methods there.

Defaults: the target has middlefill ``none``, unlike SageMaker's ``zero``: a missing cell is an
unknown, not a day without sales. Models that read NaN targets as unknown (tagged
`handles_missing_target`) get them so; every other model gets the cells filled inside its
`fit`/`predict` (`models.base`, `gapfill.MODEL_FILL`: a line across short gaps, the same phase
of the previous season across long ones), never with zeros. Blanking 10% of the demo's target
cells took the medium preset's wQL from 0.0017 to 0.0495 under ``zero``, and leaves it at
0.0017 this way (`benchmarks/missing.py` measures each choice). ``{"middlefill": "zero"}``
restores SageMaker's behaviour, for data where an absent row does mean no sales. Backfill is
``none`` too: series that end early (M4, tourism, a catalogue with staggered histories)
forecast from their own last observation, where padding them with zeros to the panel's end
would invent weeks of no sales; ``{"backfill": "zero"}`` restores SageMaker's behaviour.
The target's **runs of zeros that cannot be demand** are missing cells too (`zero_runs`): a
run of no sales longer than twice any other in its series and followed by a sale, such as a
wide export or a catalogue joined to a calendar writes before a launch or across a refit.
One that opens the series is left out (the series starts at its first sale, unless a target
frontfill pads it back to the panel's start as before); one between sales that spans eight
weeks or more is a gap (shorter ones are mostly stock-outs, which sales will repeat). As demand
they took the messy demo's wQL from 0.0135 to 0.125. ``{"target": {"zeroruns": "keep"}}`` keeps
them as sales.
Numeric covariates have front, middle and back ``mean``: a
price or a temperature filled with zero would be a spurious shock, while the item's mean keeps
its level. A 0/1 flag (a promotion, a store's open flag: every present value 0 or 1) has
``median``, the state the item is in most days: its mean, the share of days it was on, is
neither state, and a model that reads any nonzero flag as an event sees a whole gap as one
long promotion. On the messy demo (a tenth of the items with a gap of 2-6 months) that cost
the global LightGBM wQL 0.029 against 0.024 on the items with complete histories, which have
no gap themselves. Text covariates stay missing unless told (only ``none`` or ``value`` make
sense for them). A user's setting overrides the default for its region only; the shorthand
``{"target": "mean"}`` sets middlefill and backfill.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from tidecast.data import gapfill
from tidecast.data.problems import Problem, sample_items
from tidecast.data.schema import TARGET
from tidecast.errors import ConfigError

METHODS = ("none", "zero", "value", "mean", "median", "min", "max", *gapfill.METHODS)
REGIONS = ("frontfill", "middlefill", "backfill", "futurefill")
# The target's one setting that is not a region: what its odd runs of zeros are (see above).
ZERO_RUNS = "zeroruns"
ZERO_RUNS_CHOICES = ("missing", "keep")
# What an unknown key's error says: the regions, and where the `value` method's value goes.
KEYS_HINT = (
    f"use {', '.join(REGIONS)}, and <region>_value beside a 'value' method (e.g. futurefill_value); "
    f"the target also takes {ZERO_RUNS} ({' or '.join(ZERO_RUNS_CHOICES)})"
)
_REGION_NAMES = {"frontfill": "front", "middlefill": "middle", "backfill": "back"}
FillingOptions = Mapping[str, "str | Mapping[str, object] | ColumnFilling"]


@dataclass(frozen=True)
class Fill:
    """One region's method; `value` is the constant for method "value"."""

    method: str = "none"
    value: float | str | None = None

    def describe(self) -> str:
        return f"value {self.value}" if self.method == "value" else self.method


_NONE = Fill()


@dataclass(frozen=True)
class ColumnFilling:
    """How to fill each region of one column."""

    frontfill: Fill = field(default=_NONE)
    middlefill: Fill = field(default=_NONE)
    backfill: Fill = field(default=_NONE)
    futurefill: Fill = field(default=_NONE)
    zero_runs: str = "missing"  # the target's only: "missing" or "keep"


TARGET_DEFAULT = ColumnFilling()
NUMERIC_DEFAULT = ColumnFilling(frontfill=Fill("mean"), middlefill=Fill("mean"), backfill=Fill("mean"))
FLAG_DEFAULT = ColumnFilling(frontfill=Fill("median"), middlefill=Fill("median"), backfill=Fill("median"))
TEXT_DEFAULT = ColumnFilling()


def is_flag(values: np.ndarray) -> bool:
    """Whether a numeric column is a 0/1 flag: it has present values, every one 0 or 1."""
    present = values[~np.isnan(values)] if values.dtype.kind == "f" else np.zeros(0)
    return len(present) > 0 and bool(np.isin(present, (0.0, 1.0)).all())


def resolve_filling(
    options: FillingOptions | None, numeric: Mapping[str, bool], flags: Iterable[str] = ()
) -> dict[str, ColumnFilling]:
    """The filling of every column in `numeric` (name -> is numeric): defaults, then `options`.

    `flags` are the numeric columns that are 0/1 flags (`is_flag`), filled by their median.

    `options` is keyed by canonical column names (map the user's target name with
    `ingest.canonical_keys`); values are either a method, shorthand for middle and back fill, or
    a dict such as ``{"middlefill": "value", "middlefill_value": 3, "backfill": "zero"}``, or an
    already resolved `ColumnFilling` (as `PreparedData.filling` holds).
    """
    flagged = set(flags)
    plans = {
        column: TARGET_DEFAULT
        if column == TARGET
        else (FLAG_DEFAULT if column in flagged else NUMERIC_DEFAULT)
        if is_numeric
        else TEXT_DEFAULT
        for column, is_numeric in numeric.items()
    }
    for column, spec in (options or {}).items():
        if column not in numeric:
            raise ConfigError(f"filling given for unknown column {column!r}; columns: {list(numeric)}")
        if isinstance(spec, ColumnFilling):
            plans[column] = spec
            continue
        if not isinstance(spec, str | Mapping):
            raise ConfigError(f"filling for {column!r} must be a method name or a dict, got {spec!r}")
        settings: Mapping[str, object] = (
            {"middlefill": spec, "backfill": spec} if isinstance(spec, str) else spec
        )
        plans[column] = _apply(plans[column], column, settings, numeric[column])
    return plans


def _apply(
    plan: ColumnFilling, column: str, settings: Mapping[str, object], is_numeric: bool
) -> ColumnFilling:
    for key, method in settings.items():
        check_setting(column, key, method)
    for key in settings:
        if key.endswith("_value") and str(settings.get(key.removesuffix("_value"))).lower() != "value":
            raise ConfigError(f"{key!r} for {column!r} needs {key.removesuffix('_value')!r}: 'value'")
    changes: dict[str, Any] = {}
    for region in REGIONS:
        if region not in settings:
            continue
        method = str(settings[region]).lower()
        if method not in METHODS:
            raise ConfigError(f"unknown {region} method {method!r} for {column!r}: use {', '.join(METHODS)}")
        if region == "futurefill" and column == TARGET:
            raise ConfigError("futurefill applies to known covariates, not to the target")
        if not is_numeric and method not in ("none", "value"):
            raise ConfigError(f"{column!r} is not numeric: its {region} can only be 'none' or 'value'")
        if region == "futurefill" and method in gapfill.METHODS:
            raise ConfigError(f"futurefill {method!r} for {column!r}: the horizon has no later values")
        value: float | str | None = None
        if method == "value":
            if f"{region}_value" not in settings:
                raise ConfigError(f"{region} 'value' for {column!r} needs {region + '_value'!r}")
            raw = settings[f"{region}_value"]
            value = _number(raw, column, region) if is_numeric else str(raw)
        changes[region] = Fill(method, value)
    plan = replace(plan, **changes)
    if ZERO_RUNS in settings:
        if column != TARGET:
            raise ConfigError(f"{ZERO_RUNS} applies to the target, not to {column!r}")
        plan = replace(plan, zero_runs=str(settings[ZERO_RUNS]).lower())
    return plan


def keeps_zero_runs(target_spec: object) -> bool:
    """Whether the target's filling option (a method name, a dict or a `ColumnFilling`) keeps
    its odd runs of zeros as sales (`zeroruns`: "keep")."""
    if isinstance(target_spec, ColumnFilling):
        return target_spec.zero_runs == "keep"
    return isinstance(target_spec, Mapping) and str(target_spec.get(ZERO_RUNS, "")).lower() == "keep"


def check_setting(column: str, key: str, method: object) -> None:
    """Refuse a filling key that is no region, `<region>_value` or `zeroruns`, and a
    method none of them knows; the values of `_value` keys are checked against the column."""
    region = key.removesuffix("_value")
    if key == ZERO_RUNS:
        if str(method).lower() not in ZERO_RUNS_CHOICES:
            raise ConfigError(
                f"unknown {ZERO_RUNS} {method!r} for {column!r}: use {' or '.join(ZERO_RUNS_CHOICES)}"
            )
    elif region not in REGIONS:
        raise ConfigError(f"unknown filling key {key!r} for {column!r}: {KEYS_HINT}")
    elif key == region and str(method).lower() not in METHODS:
        raise ConfigError(f"unknown {region} method {method!r} for {column!r}: use {', '.join(METHODS)}")


def _number(raw: object, column: str, region: str) -> float:
    try:
        return float(str(raw))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{region}_value for {column!r} must be a number, got {raw!r}") from exc


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
        if fill.method == "none":
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
                f"{column}: {sum(counts.values()):,} missing cells filled ({parts})",
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
                f"{column}: {total:,} missing cells ({parts}) {handled}",
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
