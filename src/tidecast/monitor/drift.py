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

An item that stopped selling (a delisted product) is a change of its own: its recent spread
collapses to 0, a ratio with no logarithm, and an intermittent item's level shift is under 1
since its mean is below its std. An item whose latest actuals are 0 for more than twice the
longest run of zeros in its reference window (where it did sell), and for 2 or more, is scored
at least `STOPPED_SCORE`, and its `reason` says so; otherwise `reason` names the largest of the
three signals. Twice: a gap a little longer than the usual ones is no stop, and a single day
without sales (a stock-out) of an item that sold every day is none either.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TIMESTAMP
from tidecast.monitor.actuals import COVARIATES, VALUE
from tidecast.monitor.profiles import TrainingProfile

DEFAULT_RECENT = 28
# A stop scores as a three-standard-deviation level shift does (the dashboard's red line),
# however spread out the item's sales were: a stop is as notable a change as any.
STOPPED_SCORE = 3.0
COLUMNS = [ITEM_ID, "points", "level_shift", "volatility_ratio", "covariate_shift", "score", "reason"]
SIGNALS = ("level", "volatility", "covariate")


def drift_scores(
    actuals: pd.DataFrame, profile: TrainingProfile, recent: int = DEFAULT_RECENT
) -> pd.DataFrame:
    """One row per item with actuals after its training end: level, volatility, covariate
    shift, score, its reason, and how many recent points were compared; sorted by score,
    worst first."""
    known = profile.items
    rows = _recent_rows(actuals, known["last"], recent)
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    codes, items = pd.factorize(rows[ITEM_ID].to_numpy(dtype=object))  # runs: rows are by item
    counts = np.bincount(codes)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    values = rows[VALUE].to_numpy(dtype=np.float64)
    mean = np.add.reduceat(values, starts) / counts
    std = np.sqrt(np.add.reduceat((values - mean[codes]) ** 2, starts) / counts)
    out = pd.DataFrame(
        {"points": counts, "recent_mean": mean, "recent_std": std}, index=pd.Index(items, name=ITEM_ID)
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
    score = np.nan_to_num(np.fmax.reduce(parts, axis=1), nan=0.0)  # fmax skips nan
    largest = np.argmax(np.nan_to_num(parts, nan=-1.0), axis=1)
    reason: list[str | None] = [SIGNALS[j] if s > 0 else None for j, s in zip(largest, score, strict=True)]
    zeros = _trailing_zeros(values, starts, counts)
    longest = ref["zero_run"].to_numpy()
    stopped = (zeros > np.maximum(2 * longest, 1)) & (ref["mean"].to_numpy() != 0)
    for k in np.flatnonzero(stopped):
        reason[k] = (
            f"stopped: 0 for its last {zeros[k]} actuals, over twice its longest run of zeros in "
            f"training ({int(longest[k])}), where it averaged {ref['mean'].iloc[k]:.4g}"
        )
    out["score"] = np.where(stopped, np.maximum(score, STOPPED_SCORE), score)
    out["reason"] = reason
    out = out.drop(columns=["recent_std"]).reset_index(names=ITEM_ID)
    return out.sort_values(["score", ITEM_ID], ascending=[False, True], kind="stable", ignore_index=True)


def _recent_rows(actuals: pd.DataFrame, last: pd.Series, recent: int) -> pd.DataFrame:
    """The last `recent` actuals of each item after its training end (`last`, by item; items
    without one are left out), ordered by item and time. Integer codes and one lexsort
    instead of string lookups per row, and a tail counted back from each item's last row."""
    codes, items = pd.factorize(actuals[ITEM_ID], sort=True)  # a categorical's codes, or hashed
    ends = last.reindex(pd.Index(np.asarray(items, dtype=object))).to_numpy(dtype="datetime64[ns]")
    stamps = actuals[TIMESTAMP].to_numpy(dtype="datetime64[ns]")
    after = np.flatnonzero(stamps > ends[codes])  # NaT (an unknown item) compares False
    after = after[np.lexsort((stamps[after], codes[after]))]
    run = codes[after]
    run_ends = np.r_[np.flatnonzero(run[1:] != run[:-1]) + 1, len(run)]
    left = np.repeat(run_ends, np.diff(np.r_[0, run_ends])) - np.arange(len(run))  # rows to its run's end
    rows = actuals.take(after[left <= recent])
    return rows.assign(**{ITEM_ID: rows[ITEM_ID].to_numpy(dtype=object)})  # names, not categories


def _trailing_zeros(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per item (a run of `counts` rows from `starts`, in time order), how many of its last
    values are 0 in a row."""
    position = np.arange(len(values))
    item_of = np.repeat(np.arange(len(starts)), counts)
    last_sale = np.where(values != 0, position, starts[item_of] - 1)  # before its first row: none
    return starts + counts - 1 - np.maximum.reduceat(last_sale, starts)


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
