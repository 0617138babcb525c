"""What monitoring needs to know of a model version's training data, per item.

Realised MASE divides by each item's in-sample seasonal naive error, and drift compares
recent actuals with the end of the training history; both come from the history a model
folder keeps. A `TrainingProfile` is computed once per version from that history (the
folder is read once, or the served model's own copy is used) and kept in a small cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.metrics import seasonal_scale_by_item

MIN_REFERENCE_POINTS = 28
REFERENCE_SEASONS = 4
PROFILES_KEPT = 8


@dataclass(frozen=True)
class TrainingProfile:
    """Per item (the index): `scale` (MASE), `last` training timestamp, and the `mean` and
    `std` of the target and of each numeric covariate over the reference window (the last
    `reference_points` of the history; a covariate's on the rows with a target), columns
    ``mean``, ``std``, ``<covariate>.mean``..., and ``zero_run``, the longest run of zero
    targets in the window (how long the item went without a sale before: drift's measure of
    a stop)."""

    items: pd.DataFrame
    covariates: tuple[str, ...]
    season_length: int
    reference_points: int

    def scale_of(self, items: np.ndarray) -> np.ndarray:
        """The MASE scale of each of `items` (nan for an item the version never saw)."""
        return self.items["scale"].reindex(items).to_numpy(dtype=np.float64)


def training_profile(
    history: pd.DataFrame, season_length: int, covariates: tuple[str, ...] = ()
) -> TrainingProfile:
    """The profile of a canonical training history (item_id, timestamp, target, covariates)."""
    reference = max(REFERENCE_SEASONS * season_length, MIN_REFERENCE_POINTS)
    numeric = tuple(c for c in covariates if c in history and pd.api.types.is_numeric_dtype(history[c]))
    ordered = history.sort_values([ITEM_ID, TIMESTAMP], kind="stable")
    tail = ordered.groupby(ITEM_ID, sort=True).tail(reference)
    grouped = tail.groupby(ITEM_ID, sort=True)
    items = pd.DataFrame(
        {
            "scale": seasonal_scale_by_item(ordered, season_length),
            "last": ordered.groupby(ITEM_ID, sort=True)[TIMESTAMP].max(),
            "mean": grouped[TARGET].mean(),
            "std": grouped[TARGET].std(ddof=0),
            "zero_run": _longest_zero_run(tail),
        }
    )
    # A covariate's reference is read where the target was observed: actuals arrive with a
    # value, and on the history's rows without one the covariate was often filled (dominicks_oj's
    # price on weeks without sales holds the fill), which shrank its spread and inflated drift.
    observed = tail[TARGET].notna()
    for column in numeric:
        by_item = tail[column].where(observed).groupby(tail[ITEM_ID], sort=True)
        items[f"{column}.mean"] = by_item.mean()
        items[f"{column}.std"] = by_item.std(ddof=0)
    items.index = items.index.astype(str)
    return TrainingProfile(items, numeric, season_length, reference)


def _longest_zero_run(tail: pd.DataFrame) -> pd.Series:
    """Per item, the most observed targets in a row that were 0 (0 for an item with none);
    rows without a target are skipped, neither breaking nor extending a run."""
    observed = tail[tail[TARGET].notna()]
    zero = observed[TARGET].to_numpy() == 0
    item = observed[ITEM_ID].to_numpy(dtype=object)
    new_item = np.r_[True, item[1:] != item[:-1]]
    run = np.cumsum(~zero | new_item)  # one id per run of zeros (and per row that ends one)
    runs = pd.Series(zero.astype(np.int64)).groupby([item, run]).sum()
    longest = runs.groupby(level=0).max()
    return longest.reindex(tail[ITEM_ID].unique(), fill_value=0).astype(np.int64)


class ProfileCache:
    """Profiles by model version id, computed by `build(version_id)` once and kept (LRU)."""

    def __init__(self, build: Callable[[int], TrainingProfile], size: int = PROFILES_KEPT) -> None:
        self.build = build
        self.size = size
        self._kept: OrderedDict[int, TrainingProfile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_id: int) -> TrainingProfile:
        with self._lock:
            if version_id in self._kept:
                self._kept.move_to_end(version_id)
                return self._kept[version_id]
        profile = self.build(version_id)  # outside the lock: reading a folder takes a while
        with self._lock:
            self._kept[version_id] = profile
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return profile
