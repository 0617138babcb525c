"""The vocabulary of an explanation: what a contribution is called, and of what kind.

Every method (the regression's exact terms, LightGBM's TreeSHAP, ablation) reports its
contributions as `Terms`: a feature name -> (kind, an (items x horizon) array in the target's
units). Features are named so members of an ensemble add up under one name: a covariate by
its own name ("promotion"), an item attribute by its column ("category"), a holiday of a
calendar as "holiday: <name>", and the model's own structure as "level", "trend" and
"seasonality". The kinds group them for a reader:

| kind | features |
|---|---|
| level | "level" (intercept, recent values, the tree's expected value), "recent deviation" |
| trend | "trend" (slope and changepoints, the local trend line) |
| seasonality | "seasonality" (cycles, calendar columns, values at the same phase of a season) |
| holiday | "holiday: <name>" per holiday of the run's calendars, "holidays" for shared columns |
| covariate | each known covariate, its event windows included |
| past covariate | each past-only covariate |
| attribute | each static item attribute |
| baseline | "model baseline": what a member without a decomposition forecasts with every covariate at its baseline |
| adjustment | "non-negativity", "closed days", "dormant item", "fallback": rules applied after the model |
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.models.base import Prediction, finalize

STEP = "step"
FEATURE = "feature"
KIND = "kind"
CONTRIBUTION = "contribution"
COLUMNS = (ITEM_ID, TIMESTAMP, STEP, FEATURE, KIND, CONTRIBUTION)

LEVEL, TREND, SEASONALITY = "level", "trend", "seasonality"
HOLIDAY, COVARIATE, PAST_COVARIATE, ATTRIBUTE = "holiday", "covariate", "past covariate", "attribute"
BASELINE, ADJUSTMENT = "baseline", "adjustment"
KINDS = (LEVEL, TREND, SEASONALITY, HOLIDAY, COVARIATE, PAST_COVARIATE, ATTRIBUTE, BASELINE, ADJUSTMENT)

RECENT_DEVIATION = "recent deviation"
MODEL_BASELINE = "model baseline"
NON_NEGATIVITY = "non-negativity"
CLOSED_DAYS = "closed days"
DORMANT_ITEM = "dormant item"
BACKTEST_LEVEL = "backtest level"
QUANTILE_MEAN = "mean from quantiles"
FALLBACK = "fallback"
UNEXPLAINED = "unexplained"


def holiday_feature(key: str) -> str:
    """The feature name of one holiday of a calendar (`hol_<key>` columns)."""
    return f"holiday: {key}"


@dataclass
class Terms:
    """Contributions by feature, each (n_series, horizon) in the target's units, and the
    forecast they add up to (the member's mean as its `predict` gives it)."""

    shape: tuple[int, int]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def add(self, feature: str, kind: str, values: np.ndarray) -> None:
        """Add `values` to `feature` (created with `kind` on first use)."""
        if feature not in self.values:
            self.values[feature] = np.zeros(self.shape)
            self.kinds[feature] = kind
        self.values[feature] = self.values[feature] + np.broadcast_to(values, self.shape)

    def add_rows(self, rows: np.ndarray | int, feature: str, kind: str, values: np.ndarray) -> None:
        """Add `values` to the rows `rows` (series indices) of `feature`."""
        if feature not in self.values:
            self.values[feature] = np.zeros(self.shape)
            self.kinds[feature] = kind
        self.values[feature][rows] += values

    def add_scaled(self, other: Terms, weight: float) -> None:
        for feature, values in other.values.items():
            self.add(feature, other.kinds[feature], values * weight)

    def total(self) -> np.ndarray:
        out = np.zeros(self.shape)
        for values in self.values.values():
            out = out + values
        return out


def add_clip(terms: Terms, data: SeriesArrays) -> None:
    """The "non-negativity" term: what `finalize`'s clip at zero took off the sum (series
    that never went negative are forecast at or above zero)."""
    center = terms.total()
    clipped = finalize(Prediction(mean=center, quantiles=np.zeros((*terms.shape, 0))), data).mean
    if np.any(clipped != center):
        terms.add(NON_NEGATIVITY, ADJUSTMENT, clipped - center)


def tidy(terms: Terms, item_ids: np.ndarray, timestamps: np.ndarray) -> pd.DataFrame:
    """The long table: item_id, timestamp, step (1-based), feature, kind, contribution.

    `timestamps` is (n_series, horizon). Features whose contributions are all zero are left
    out (a clip that never bit, a covariate no member uses).
    """
    n, horizon = terms.shape
    kept = [f for f, v in terms.values.items() if np.any(v != 0)]
    k = len(kept)
    stacked = np.stack([terms.values[f] for f in kept], axis=2) if k else np.zeros((n, horizon, 0))
    frame = pd.DataFrame(
        {
            ITEM_ID: np.repeat(np.asarray(item_ids, dtype=str), horizon * k),
            TIMESTAMP: np.repeat(np.asarray(timestamps).reshape(-1), k),
            STEP: np.tile(np.repeat(np.arange(1, horizon + 1), k), n),
            FEATURE: np.tile(np.asarray(kept, dtype=object), n * horizon),
            KIND: np.tile(np.asarray([terms.kinds[f] for f in kept], dtype=object), n * horizon),
            CONTRIBUTION: stacked.reshape(-1),
        },
        columns=list(COLUMNS),
    )
    return frame


def importance(table: pd.DataFrame) -> pd.DataFrame:
    """Global importance: per feature, the mean |contribution| over every item and step, its
    share of the sum of those means, and the mean signed contribution; largest first."""
    if table.empty:
        return pd.DataFrame(columns=[FEATURE, KIND, "mean_abs", "share", "mean"])
    grouped = table.groupby([FEATURE, KIND], sort=False)[CONTRIBUTION]
    cells = table.groupby([ITEM_ID, STEP]).ngroups
    # Means over every cell, a feature missing from a cell counting as 0 there.
    out = pd.DataFrame(
        {
            "mean_abs": grouped.apply(lambda v: float(np.abs(v).sum()) / cells),
            "mean": grouped.sum() / cells,
        }
    ).reset_index()
    total = float(out["mean_abs"].sum())
    out.insert(3, "share", out["mean_abs"] / total if total > 0 else 0.0)
    return out.sort_values("mean_abs", ascending=False, kind="stable", ignore_index=True)


def per_item(table: pd.DataFrame) -> pd.DataFrame:
    """Per item and feature: the contribution summed over the horizon, and its mean |value|."""
    grouped = table.groupby([ITEM_ID, FEATURE, KIND], sort=False)[CONTRIBUTION]
    out = pd.DataFrame({"total": grouped.sum(), "mean_abs": grouped.apply(lambda v: float(np.abs(v).mean()))})
    return out.reset_index()
