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
``{"target": {"backfill": "missing"}}`` runs every series on to the panel's end with those
steps unknown (missing cells, as above): a store whose last weeks were not recorded is then
forecast for the same dates as the others, from what it sold before, where a backfill by a
value or a statistic invents those weeks' sales (`prepare` notes the series that end early,
and how many steps before the end). Measured on dominicks_oj (`benchmarks/retail.py`, 66 of
913 series end 1-7 weeks early at origin 0, seeds 0-2, whole AutoML): "missing" 0.348 / 0.340
/ 0.336 against "median" 0.306 / 0.305 / 0.308, so the benchmark keeps "median"; but setting
200 random target cells of 100,000 missing under "median" gave 0.334-0.343 too (the second
LightGBM alone, four draws): that origin's fit is that sensitive to its data, and the gap
between the two is within it.
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

from tidecast.data import gapfill
from tidecast.data.schema import TARGET
from tidecast.errors import ConfigError

METHODS = ("none", "zero", "value", "mean", "median", "min", "max", *gapfill.METHODS)
REGIONS = ("frontfill", "middlefill", "backfill", "futurefill")
# The target's one setting that is not a region: what its odd runs of zeros are (see above).
ZERO_RUNS = "zeroruns"
ZERO_RUNS_CHOICES = ("missing", "keep")
# The key whose settings apply to every covariate (not the target) before each column's own.
EVERY = "*"
# The target's backfill that runs a series on to the panel's end with those steps unknown.
TAIL_MISSING = "missing"
# What an unknown key's error says: the regions, and where the `value` method's value goes.
KEYS_HINT = (
    f"use {', '.join(REGIONS)}, and <region>_value beside a 'value' method (e.g. futurefill_value); "
    f"the target also takes {ZERO_RUNS} ({' or '.join(ZERO_RUNS_CHOICES)})"
)
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
    given = dict(options or {})
    if EVERY in given:
        every = _settings(EVERY, given.pop(EVERY))
        for column, is_numeric in numeric.items():
            if column != TARGET:
                plans[column] = _apply(plans[column], column, _fits(every, is_numeric), is_numeric)
    for column, spec in given.items():
        if column not in numeric:
            raise ConfigError(f"filling given for unknown column {column!r}; columns: {list(numeric)}")
        if isinstance(spec, ColumnFilling):
            plans[column] = spec
            continue
        plans[column] = _apply(plans[column], column, _settings(column, spec), numeric[column])
    return plans


def _settings(column: str, spec: object) -> Mapping[str, object]:
    """A column's filling option as region -> method: a method name is middle and back fill."""
    if not isinstance(spec, str | Mapping):
        raise ConfigError(f"filling for {column!r} must be a method name or a dict, got {spec!r}")
    return {"middlefill": spec, "backfill": spec} if isinstance(spec, str) else spec


def _fits(every: Mapping[str, object], is_numeric: bool) -> Mapping[str, object]:
    """The `EVERY` settings that apply to a column: all of them to a number; to a text column
    only the regions whose method text takes ('none', 'value'), the others keep its default."""
    if ZERO_RUNS in every:
        raise ConfigError(f"{ZERO_RUNS} applies to the target, not to every covariate ({EVERY!r})")
    if is_numeric:
        return every
    kept = {r for r in REGIONS if r in every and str(every[r]).lower() in ("none", "value")}
    return {k: v for k, v in every.items() if k.removesuffix("_value") in kept}


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
        if method == TAIL_MISSING:
            if (column, region) != (TARGET, "backfill"):
                raise ConfigError(
                    f"{TAIL_MISSING!r} is the target's backfill only, not {column!r}'s {region}"
                )
            changes[region] = Fill(method)
            continue
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
    elif key == region and str(method).lower() not in (*METHODS, TAIL_MISSING):
        raise ConfigError(f"unknown {region} method {method!r} for {column!r}: use {', '.join(METHODS)}")


def _number(raw: object, column: str, region: str) -> float:
    try:
        return float(str(raw))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{region}_value for {column!r} must be a number, got {raw!r}") from exc
