"""Apply a scenario's rules to the future covariates: which rows each rule matches, and the
covariate values after it (`rules` says what a rule may say)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tidecast.data.item_keys import item_parts, split
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.errors import ConfigError
from tidecast.models.covariates.encoding import as_numbers
from tidecast.scenarios.rules import DATE, STEP, Rule, Scenario


def _date_mask(stamps: pd.Series, condition: Any) -> np.ndarray:
    bounds = condition if isinstance(condition, dict) else {"from": condition, "to": condition}
    mask = np.ones(len(stamps), dtype=bool)
    if bounds.get("from") is not None:
        mask &= (stamps >= pd.Timestamp(bounds["from"])).to_numpy()
    if bounds.get("to") is not None:
        text = str(bounds["to"])
        end = pd.Timestamp(text)
        # a date alone ("2024-01-07") takes in that whole day, whatever the frequency
        whole_day = len(text) <= 10
        mask &= (stamps < end + pd.Timedelta(days=1) if whole_day else stamps <= end).to_numpy()
    return mask


def _step_mask(steps: np.ndarray, condition: Any) -> np.ndarray:
    if isinstance(condition, dict):
        low, high = condition.get("from", 1), condition.get("to", int(steps.max(initial=1)))
        return (steps >= low) & (steps <= high)
    return np.isin(steps, condition if isinstance(condition, list) else [condition])


def _compare(values: np.ndarray, op: str, target: Any) -> np.ndarray:
    """`values op target`: numbers compared as numbers, anything else as text."""
    numbers = as_numbers(values)
    if op in ("in", "not_in"):
        wanted = list(target)
        if numbers is not None and all(isinstance(v, int | float) for v in wanted):
            found = np.isin(numbers, np.asarray(wanted, dtype=np.float64))
        else:
            found = np.isin(values.astype(str), [str(v) for v in wanted])
        return found if op == "in" else ~found
    left: np.ndarray
    right: float | str
    if numbers is not None and isinstance(target, int | float) and not isinstance(target, bool):
        left, right = numbers, float(target)
    elif op in ("eq", "ne"):
        left, right = values.astype(str), str(target)
    else:
        raise ConfigError(f"{op} compares numbers; {target!r} or the values it meets are not numbers")
    return {
        "eq": left == right,
        "ne": left != right,
        "lt": left < right,
        "le": left <= right,
        "gt": left > right,
        "ge": left >= right,
    }[op]


def _value_mask(values: np.ndarray, condition: Any) -> np.ndarray:
    if isinstance(condition, dict):
        mask = np.ones(len(values), dtype=bool)
        for op, target in condition.items():
            mask &= _compare(values, op, target)
        return mask
    if isinstance(condition, list):
        return _compare(values, "in", condition)
    return _compare(values, "eq", condition)


def rule_mask(
    rule: Rule, future: pd.DataFrame, steps: np.ndarray, attributes: pd.DataFrame, item_col: str
) -> np.ndarray:
    """The rows of `future` (canonical, one per item and step) where every condition holds;
    a part of a composite item key ("Store" of "Store,Dept") is read from each item's id."""
    mask = np.ones(len(future), dtype=bool)
    items = future[ITEM_ID].astype(str).to_numpy()
    for key, condition in rule.where.items():
        if key == DATE:
            mask &= _date_mask(future[TIMESTAMP], condition)
        elif key == STEP:
            mask &= _step_mask(steps, condition)
        elif key in (item_col, ITEM_ID):
            mask &= _value_mask(items.astype(object), condition)
        elif key in item_parts(item_col):  # a part of a key of several columns
            parts = split(pd.DataFrame({item_col: items}), item_col)
            mask &= _value_mask(parts[key].to_numpy(dtype=object), condition)
        elif key in future.columns:
            mask &= _value_mask(future[key].to_numpy(), condition)
        else:
            mask &= _value_mask(attributes[key].reindex(items).to_numpy(), condition)
    return mask


def apply_scenario(
    scenario: Scenario, future: pd.DataFrame, attributes: pd.DataFrame, item_col: str
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The future after every rule, in order, and per rule the rows it matched and changed."""
    out = future.copy()
    steps = out.groupby(ITEM_ID, sort=False).cumcount().to_numpy() + 1
    counts = []
    for k, rule in enumerate(scenario.rules):
        mask = rule_mask(rule, out, steps, attributes, item_col)
        column = rule.covariate
        before = out[column].to_numpy()
        numbers = as_numbers(before)
        value = rule.value
        if rule.action != "set" and numbers is None:
            raise ConfigError(f"rules[{k}]: {rule.action} needs a numeric covariate; {column!r} holds text")
        if numbers is None:
            after = np.where(mask, str(value), before.astype(object))
        else:
            if isinstance(value, str):
                raise ConfigError(f"rules[{k}].set: {column!r} is numeric, got the text {value!r}")
            if rule.action == "set":
                after = np.where(mask, float(value), numbers)
            elif rule.action == "add":
                after = np.where(mask, numbers + float(value), numbers)
            else:
                after = np.where(mask, numbers * float(value), numbers)
        base = before.astype(object) if numbers is None else numbers
        same = (after == base) | (pd.isna(after) & pd.isna(base))
        changed = mask & ~np.asarray(same, dtype=bool)
        out[column] = after
        counts.append(
            {"rule": k, "covariate": column, "matched": int(mask.sum()), "changed": int(changed.sum())}
        )
    return out, counts
