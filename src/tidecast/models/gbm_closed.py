"""Closed days: known covariate values under which the history never sold anything.

A store's `open` = 0, a holiday closure flag = 1: when the training data shows a zero target in
every observed row where a known covariate takes such a value, the global model forecasts
exactly 0 there instead of leaving the trees to approximate it, drops those rows from its
labels (the rule answers them) and leaves them out of its level and rolling statistics (a
closed Sunday is not a day of weak demand). The rule is learnt from the data, never from a
column's name: a promotion flag does not qualify because promoted days sell, and a value seen
on fewer than MIN_CLOSED_ROWS rows is not trusted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tidecast.models.gbm_features import Extended

# A value must be seen with a zero target on at least this many rows to become a rule.
MIN_CLOSED_ROWS = 5
# ... and the column's other values must sell on at least this share of their rows, so a
# column that is 0 on every row of a mostly-zero series does not switch the series off.
MIN_OPEN_SELLING = 0.5
# Candidate values of a closure flag: off (open = 0) or on (closed = 1).
FLAG_VALUES = (0.0, 1.0)


def closure_rules(
    target: np.ndarray, covariates: Mapping[str, np.ndarray], columns: Sequence[str]
) -> tuple[tuple[str, float], ...]:
    """(column, value) pairs of `columns` under which every observed `target` is 0.

    `covariates` holds numeric arrays aligned with `target` (NaN where unknown: a mean-filled
    gap holds a fraction and never matches a flag value).
    """
    observed = np.isfinite(target)
    selling = observed & (target != 0)
    rules = []
    for column in columns:
        values = np.asarray(covariates[column], dtype=np.float64)
        for value in FLAG_VALUES:
            hit = observed & (values == value)
            rest = observed & np.isfinite(values) & (values != value)
            if hit.sum() < MIN_CLOSED_ROWS or not rest.any() or selling[hit].any():
                continue
            if selling[rest].mean() >= MIN_OPEN_SELLING:
                rules.append((column, value))
    return tuple(rules)


def numeric_closure_rules(
    target: np.ndarray, covariates: Mapping[str, np.ndarray], known: Sequence[str]
) -> tuple[tuple[str, float], ...]:
    """`closure_rules` over the columns of `known` that `covariates` holds as numbers (a text
    column never equals a flag value, so it is not looked at)."""
    numeric = [c for c in known if c in covariates and np.asarray(covariates[c]).dtype.kind in "biuf"]
    return closure_rules(target, covariates, numeric) if numeric else ()


def closed_mask(
    covariates: Mapping[str, np.ndarray], rules: Sequence[tuple[str, float]], size: int
) -> np.ndarray:
    """True where any rule's covariate takes its closed value."""
    mask = np.zeros(size, dtype=bool)
    for column, value in rules:
        mask |= np.asarray(covariates[column], dtype=np.float64) == value
    return mask


def open_values(
    values: np.ndarray, covariates: Mapping[str, np.ndarray], rules: Sequence[tuple[str, float]]
) -> np.ndarray:
    """`values` with the cells a rule calls closed made missing: a closed day's 0 says the
    store was shut, not what it sells, so levels, lags and fallbacks skip it. Rules whose
    covariate is absent (a history without it) close nothing."""
    usable = tuple(rule for rule in rules if rule[0] in covariates)
    if not usable:
        return values
    return np.where(closed_mask(covariates, usable, len(values)), np.nan, values)


def open_only(ext: Extended, rules: Sequence[tuple[str, float]]) -> Extended:
    """`ext` with the cells the rules call closed made missing: no label, level or window sees them."""
    return replace(ext, values=open_values(ext.values, ext.covariates, rules))
