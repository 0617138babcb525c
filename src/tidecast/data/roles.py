"""Covariate roles read from the data, for a run that uses every column it is given.

SageMaker's AutoML V2 uses every column of the training data that `TimeSeriesConfig` does not
declare (target, timestamp, item, grouping) as a feature, unless a feature specification
names some. A SageMaker user's file with `promotion`, `price` and `category` beside the sales
therefore trains on them there; tidecast, which asks for each covariate's role, used none of
them and said nothing. `infer_roles` gives each undeclared column the role its values show:

- **static**: one value per item wherever it is given (a category, a region, a store size);
- **known**: it varies over time and the data holds its values ahead, on rows after the item's
  last target with the target empty (the plan beside the history, `data.ahead`), so the
  forecast reads the planned promotion, price or holiday;
- **unused**: it varies over time and the data holds no values ahead. As a past covariate it
  would make every forecast request carry its history (the SageMaker runtime's DeepAR
  requests, target only, would be refused for want of `dynamic_feat`), and as a known one
  its plan, which the data does not have; so it is left out, and the note says how to use it.

Columns with no value at all are left out too; the note says what each column became and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tidecast.data.timestamps import TimestampFormatError, parse_timestamp_text


@dataclass(frozen=True)
class Roles:
    """Undeclared columns by the role their values gave them."""

    known: list[str] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # time-varying, no values ahead
    empty: list[str] = field(default_factory=list)

    def note(self) -> str | None:
        """One line for the run's report; None when there was no undeclared column."""
        parts = [
            f"{label} {names}"
            for label, names in (
                ("known covariates (values ahead in the data)", self.known),
                ("static attributes (one value per item)", self.static),
                (
                    "left out, as they vary over time with no values ahead (add rows after each item's "
                    "last date with the target empty to use them as known covariates)",
                    self.unused,
                ),
                ("left out (no values)", self.empty),
            )
            if names
        ]
        return (
            "the data's other columns, by the role their values show: " + "; ".join(parts) if parts else None
        )


def infer_roles(
    frame: pd.DataFrame,
    item_columns: Sequence[str],
    timestamp_col: str,
    target_col: str,
    declared: Sequence[str] = (),
    date_format: str | None = None,
) -> Roles:
    """The role of each column of `frame` that is not a key, the timestamp, the target or
    `declared` (already given a role by the user), in the frame's column order."""
    skip = {*item_columns, timestamp_col, target_col, *declared}
    candidates = [c for c in frame.columns if c not in skip]
    if not candidates:
        return Roles()
    keys = [frame[c].astype(str) for c in item_columns]
    ahead = _rows_ahead(frame, keys, timestamp_col, target_col, date_format)
    roles: dict[str, list[str]] = {"known": [], "static": [], "unused": [], "empty": []}
    for column in candidates:
        values = frame[column]
        given = values.notna().to_numpy()
        if not given.any():
            roles["empty"].append(column)
        elif int(values.groupby(keys, sort=False).nunique(dropna=True).max()) <= 1:
            roles["static"].append(column)
        elif (given & ahead).any():
            roles["known"].append(column)
        else:
            roles["unused"].append(column)
    return Roles(**roles)


def _rows_ahead(
    frame: pd.DataFrame,
    keys: list[pd.Series],
    timestamp_col: str,
    target_col: str,
    date_format: str | None,
) -> np.ndarray:
    """Rows with the target empty after their item's last target value (False where the
    timestamp does not read: the preparation names those)."""
    target = pd.to_numeric(frame[target_col], errors="coerce")
    stamps = frame[timestamp_col]
    if not pd.api.types.is_datetime64_any_dtype(stamps):
        try:
            stamps = parse_timestamp_text(stamps, date_format)
        except TimestampFormatError:  # the preparation refuses it, with the rows named
            return np.zeros(len(frame), dtype=bool)
    stamps = pd.Series(pd.to_datetime(stamps, errors="coerce", utc=True), index=frame.index)
    last = stamps.where(target.notna()).groupby(keys, sort=False).transform("max")
    return (target.isna() & stamps.notna() & (last.isna() | (stamps > last))).to_numpy()
