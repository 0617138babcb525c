"""Drift: how far each item's recent actuals have moved from its training data.

Three signals per item, each against the reference window of the training history (the last
few seasons, `TrainingProfile`), over the item's most recent `recent` actuals after training:

* level: (recent mean - reference mean) / reference std, in standard deviations;
* volatility: recent std / reference std (1 means unchanged), scored as |log2(ratio)| so a
  doubling and a halving count alike;
* covariates: the largest |standardised mean difference| over the numeric covariates the
  actuals carried.

The item's score is the largest of |level|, |log2 volatility| and the covariate shift: 0 is
no change, 1 is a one-standard-deviation move (or a doubled spread), and items are listed
worst first. A constant reference (std 0) is measured against its mean's scale instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.monitor.actuals import COVARIATES, VALUE
from tidecast.monitor.profiles import TrainingProfile

DEFAULT_RECENT = 28


def drift_scores(
    actuals: pd.DataFrame, profile: TrainingProfile, recent: int = DEFAULT_RECENT
) -> pd.DataFrame:
    """One row per item with actuals after its training end: level, volatility, covariate
    shift, score, and how many recent points were compared; sorted by score, worst first."""
    known = profile.items
    rows = actuals[actuals[ITEM_ID].isin(known.index)]
    last = rows[ITEM_ID].map(known["last"])
    rows = rows[rows[TIMESTAMP].to_numpy() > last.to_numpy(dtype="datetime64[ns]")]
    rows = rows.sort_values([ITEM_ID, TIMESTAMP], kind="stable").groupby(ITEM_ID, sort=True).tail(recent)
    if rows.empty:
        return pd.DataFrame(
            columns=[ITEM_ID, "points", "level_shift", "volatility_ratio", "covariate_shift", "score"]
        )
    grouped = rows.groupby(ITEM_ID, sort=True)[VALUE]
    out = pd.DataFrame(
        {"points": grouped.size(), "recent_mean": grouped.mean(), "recent_std": grouped.std(ddof=0)}
    )
    ref = known.reindex(out.index)
    spread = _spread(ref["std"].to_numpy(), ref["mean"].to_numpy())
    out["level_shift"] = (out["recent_mean"].to_numpy() - ref["mean"].to_numpy()) / spread
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = out["recent_std"].to_numpy() / spread
    out["volatility_ratio"] = np.where(out["points"].to_numpy() >= 2, ratio, np.nan)
    out["covariate_shift"] = _covariate_shift(rows, profile, out.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        parts = np.column_stack(
            [np.abs(out["level_shift"]), np.abs(np.log2(out["volatility_ratio"])), out["covariate_shift"]]
        )
    parts[~np.isfinite(parts)] = np.nan
    out["score"] = np.nan_to_num(np.fmax.reduce(parts, axis=1), nan=0.0)  # fmax skips nan
    out = out.drop(columns=["recent_std"]).reset_index(names=ITEM_ID)
    return out.sort_values(["score", ITEM_ID], ascending=[False, True], kind="stable", ignore_index=True)


def _spread(std: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The reference std; where it is 0 (a constant series), |mean|, or 1 for a constant 0."""
    return np.where(std > 0, std, np.where(np.abs(mean) > 0, np.abs(mean), 1.0))


def _covariate_shift(rows: pd.DataFrame, profile: TrainingProfile, items: pd.Index) -> np.ndarray:
    if COVARIATES not in rows or not profile.covariates:
        return np.full(len(items), np.nan)
    values = pd.DataFrame([c or {} for c in rows[COVARIATES]], index=rows.index)
    shifts = []
    for column in profile.covariates:
        if column not in values:
            continue
        recent = pd.to_numeric(values[column], errors="coerce").groupby(rows[ITEM_ID]).mean().reindex(items)
        ref = profile.items.reindex(items)
        spread = _spread(ref[f"{column}.std"].to_numpy(), ref[f"{column}.mean"].to_numpy())
        shifts.append(np.abs(recent.to_numpy() - ref[f"{column}.mean"].to_numpy()) / spread)
    if not shifts:
        return np.full(len(items), np.nan)
    stacked = np.column_stack(shifts)
    return np.where(
        np.isnan(stacked).all(axis=1), np.nan, np.nanmax(np.nan_to_num(stacked, nan=-np.inf), axis=1)
    )
