"""What if: the forecast again with changed known covariates, beside the baseline, no refit.

`whatif(auto, rules, future=...)` forecasts the chosen items twice from the same history and
the same fitted models: with the baseline future covariates, and with the scenario's (the
rules applied to the baseline, or a replacement future file). The answer holds both side by
side with the difference in units and percent, per item and step, per item over the horizon,
and in total. Only models that read known covariates respond to a scenario; in an ensemble
the others forecast the same both times, which dilutes the change by their weight. An item the
scenario changes that the dormant rule holds at 0 (`automl.dormant`) does not respond at all;
the answer's notes name those items, so a relaunch planned with a promotion does not read as
"the promotion does nothing". Its tables are in the user's item and timestamp columns, as
`predict` gives the forecast (`data.ingest.from_canonical`), unless asked for the canonical ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tidecast.automl.closures import named
from tidecast.automl.dormant import dormant_at_end, dormant_steps
from tidecast.coldstart.lifts import Lifts, binary_lifts
from tidecast.data.arrays import SeriesArrays
from tidecast.data.ingest import from_canonical
from tidecast.data.schema import ITEM_ID, MEAN, TIMESTAMP
from tidecast.errors import ConfigError, DataError
from tidecast.explain.core import forecast_inputs, select_future
from tidecast.scenarios.apply import apply_scenario
from tidecast.scenarios.rules import Scenario, check_scenario, parse_scenario

if TYPE_CHECKING:
    from tidecast.automl.forecaster import AutoForecaster

BASELINE, SCENARIO, DIFFERENCE, PERCENT = "baseline", "scenario", "difference", "percent"


@dataclass
class WhatIf:
    """Baseline and scenario side by side, in the user's item and timestamp columns (the
    canonical ones where `whatif` was asked for them)."""

    comparison: pd.DataFrame  # item, timestamp, step, baseline, scenario, difference, percent
    items: pd.DataFrame  # per item over the horizon: the same totals
    total: dict[str, float]
    rules: list[dict[str, Any]] = field(default_factory=list)  # per rule: rows matched, changed
    name: str = "scenario"
    notes: list[str] = field(default_factory=list)  # why some changed items cannot respond


def percent(difference: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """100 x difference / baseline; NaN where the baseline is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(baseline != 0, 100.0 * difference / np.where(baseline != 0, baseline, 1.0), np.nan)


def compare(
    baseline: pd.DataFrame, scenario: pd.DataFrame, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """The three tables of a `WhatIf` from two forecast frames of the same items and steps."""
    base = baseline[MEAN].to_numpy(dtype=np.float64)
    other = scenario[MEAN].to_numpy(dtype=np.float64)
    rows = pd.DataFrame(
        {
            ITEM_ID: baseline[ITEM_ID].to_numpy(),
            TIMESTAMP: baseline[TIMESTAMP].to_numpy(),
            "step": np.tile(np.arange(1, horizon + 1), len(baseline) // max(horizon, 1)),
            BASELINE: base,
            SCENARIO: other,
            DIFFERENCE: other - base,
        }
    )
    rows[PERCENT] = percent(rows[DIFFERENCE].to_numpy(), base)
    items = rows.groupby(ITEM_ID, sort=False)[[BASELINE, SCENARIO, DIFFERENCE]].sum().reset_index()
    items[PERCENT] = percent(items[DIFFERENCE].to_numpy(), items[BASELINE].to_numpy())
    totals = {k: float(rows[k].sum()) for k in (BASELINE, SCENARIO, DIFFERENCE)}
    totals[PERCENT] = float(percent(np.array([totals[DIFFERENCE]]), np.array([totals[BASELINE]]))[0])
    return rows, items, totals


def scenario_future(
    auto: AutoForecaster,
    arrays: SeriesArrays,
    baseline: pd.DataFrame,
    rules: Scenario | dict[str, Any] | list[Any] | str | Path | None,
    replacement: pd.DataFrame | str | Path | None,
) -> tuple[pd.DataFrame, list[dict[str, Any]], str]:
    """The scenario's canonical future: the rules applied to `baseline`, or `replacement`."""
    if (rules is None) == (replacement is None):
        raise ConfigError("give either rules or a replacement future file, not both or neither")
    if replacement is not None:
        return auto.prepare_future(replacement, arrays), [], "replacement future"
    assert rules is not None
    scenario = rules if isinstance(rules, Scenario) else parse_scenario(rules)
    spec = auto.spec_
    attributes = (
        arrays.static if arrays.static is not None else pd.DataFrame(index=arrays.item_ids.astype(str))
    )
    check_scenario(scenario, spec.known_covariates, attributes.columns, spec.item_col, int(auto.horizon))
    future, counts = apply_scenario(scenario, baseline, attributes, spec.item_col)
    return future, counts, scenario.name


def changed_items(baseline: pd.DataFrame, scenario: pd.DataFrame, covariates: Sequence[str]) -> set[str]:
    """Items with at least one known covariate value that differs between the two futures."""
    keys = [ITEM_ID, TIMESTAMP]
    columns = [c for c in covariates if c in baseline.columns and c in scenario.columns]
    both = baseline[[*keys, *columns]].merge(scenario[[*keys, *columns]], on=keys, suffixes=("", "~"))
    moved = np.zeros(len(both), dtype=bool)
    for c in columns:
        a, b = both[c], both[f"{c}~"]
        moved |= ~((a == b) | (a.isna() & b.isna())).to_numpy()
    return set(both.loc[moved, ITEM_ID].astype(str))


def dormant_held(auto: AutoForecaster, arrays: SeriesArrays, touched: set[str]) -> list[str]:
    """The note on the `touched` items that the dormant rule holds at 0 in both forecasts."""
    if not touched or not auto._dormant:
        return []
    horizon = int(auto.horizon)
    held = sorted(touched & {str(i) for i in dormant_at_end(arrays, horizon)})
    if not held:
        return []
    return [
        f"dormant, so 0 whatever the scenario: {named(held)} ({len(held)} of the items it changes sold nothing "
        f"over their last {dormant_steps(arrays.freq, horizon)} steps); a model fitted with "
        "zero_dormant=False forecasts them from its members"
    ]


def whatif(
    auto: AutoForecaster,
    rules: Scenario | dict[str, Any] | list[Any] | str | Path | None = None,
    *,
    future: pd.DataFrame | str | Path | None = None,
    replacement: pd.DataFrame | str | Path | None = None,
    data: pd.DataFrame | str | Path | None = None,
    items: Sequence[str] | None = None,
    canonical: bool = False,
) -> WhatIf:
    """Forecast `items` (default all) with the baseline `future` and with the scenario; the
    user's column names in and out, as for `predict` (`canonical`: item_id and timestamp out,
    which the service's answer reads)."""
    if not auto.spec_.known_covariates:
        raise ConfigError("the model uses no known covariates: a scenario cannot change its forecast")
    if future is None:
        raise DataError("the baseline future covariates are needed (the future file the forecast uses)")
    arrays, baseline = forecast_inputs(auto, data, future, items)
    assert baseline is not None
    replacement = select_future(auto, replacement, items)
    changed, counts, name = scenario_future(auto, arrays, baseline, rules, replacement)
    horizon = int(auto.horizon)
    rows, per_item, totals = compare(
        auto.predict_canonical(arrays, baseline), auto.predict_canonical(arrays, changed), horizon
    )
    notes = unmatched(counts, baseline)
    notes += dormant_held(auto, arrays, changed_items(baseline, changed, auto.spec_.known_covariates))
    # Lifts only of the columns the scenario changed: a request's history is read once per flag.
    switched = [
        c for c in auto.spec_.known_covariates if c in changed and not changed[c].equals(baseline.get(c))
    ]
    notes += against_lifts(
        rows, baseline, changed, binary_lifts(arrays, switched, skip=[c for c, _ in auto.closures_])
    )
    if not canonical:
        rows, per_item = from_canonical(rows, auto.spec_), from_canonical(per_item, auto.spec_)
    return WhatIf(rows, per_item, totals, counts, name, notes)


# A row "moves against" a flag's lift when its forecast changes the other way by more than this share.
AGAINST_TOLERANCE = 1e-6


def against_lifts(
    rows: pd.DataFrame, baseline: pd.DataFrame, changed: pd.DataFrame, lifts: Lifts
) -> list[str]:
    """A note per 0/1 covariate the scenario switched where the forecast moved against the
    lift the history shows (`coldstart.lifts`): a promotion switched on that lowers it.

    Every model here extrapolates a fitted effect: a promotion on every day of a slow mover's
    fortnight switched on the dynamic regression's "within 2 / 7 days of a promotion" windows
    on every day too, and its additive and level-scaled terms together went below 0 on the
    weekdays of lowest baseline: the forecast fell by 11-26% on 3 of 14 days (pasta_promo).
    The forecast is what the models say; the note says where it contradicts the history, so a
    planner reads those rows with care instead of taking them as the promotion's effect.
    """
    notes = []
    keys = [ITEM_ID, TIMESTAMP]
    for column, factor in lifts.factors.items():
        if factor == 1.0 or column not in baseline.columns or column not in changed.columns:
            continue
        both = rows.merge(baseline[[*keys, column]], on=keys).merge(
            changed[[*keys, column]], on=keys, suffixes=("", "~")
        )
        before, after = both[column].to_numpy(np.float64), both[f"{column}~"].to_numpy(np.float64)
        up = (before == 0) & (after == 1)  # switched on: the forecast should follow the lift
        down = (before == 1) & (after == 0)
        sign = np.where(up, 1.0, np.where(down, -1.0, 0.0)) * np.sign(np.log(factor))
        moved = both[DIFFERENCE].to_numpy(np.float64)
        tolerance = AGAINST_TOLERANCE * np.abs(both[BASELINE].to_numpy(np.float64))
        against = (sign != 0) & (sign * moved < -tolerance)
        if not against.any():
            continue
        first = both[against].iloc[0]
        notes.append(
            f"{column}: switched on {int(up.sum())} and off {int(down.sum())} (item, step) rows, and the "
            f"history shows it multiplying sales by {factor:.2f}, but the forecast moved the other way on "
            f"{int(against.sum())} of them (e.g. {first[ITEM_ID]} on {pd.Timestamp(first[TIMESTAMP]).date()}, "
            f"{first[PERCENT]:+.1f}%): there a model extrapolates its fitted effect beyond what the history "
            "shows; read those rows with care"
        )
    return notes


def unmatched(counts: Sequence[dict[str, Any]], baseline: pd.DataFrame) -> list[str]:
    """A note per rule that matched no (item, step) of the forecast: an item it does not
    forecast, dates outside its horizon, a range written backwards. Not an error: a rule
    written for the whole catalogue rightly matches nothing in a forecast of a few items."""
    if not any(c["matched"] == 0 for c in counts):
        return []
    first, last = (
        pd.Timestamp(t).isoformat() for t in (baseline[TIMESTAMP].min(), baseline[TIMESTAMP].max())
    )
    return [
        f"rules[{c['rule']}] ({c['covariate']}) matched nothing: none of the forecast's "
        f"{baseline[ITEM_ID].nunique()} items and steps from {first} to {last} meets its conditions"
        for c in counts
        if c["matched"] == 0
    ]
