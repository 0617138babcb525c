"""The one set of rules by which a covariate or static column becomes numbers.

Every covariate-aware model decides the same questions about a column: is it numbers or
text, which labels of a text column does it keep, what is each row's label code, is a numeric
column an event flag. The answers live here, so a text column means the same thing to the
dynamic regression, Prophet, LightGBM and the neural models. What each model then builds from
them (one-hot columns, category codes, embeddings, event windows) stays with the model.

A label is a value's text (`"North"`, `"1.5"`); missing values have none, and a label not
kept (rare, or unseen at fit) has code 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_numeric(values: np.ndarray) -> bool:
    """Whether a column's type is a number type (booleans included)."""
    return values.dtype.kind in "biuf"


def as_numbers(values: np.ndarray) -> np.ndarray | None:
    """`values` as float64 (missing as NaN), or None for text.

    An object column whose every present value reads as a number counts as numbers, so a
    column of prices that arrived as text is still a price.
    """
    if is_numeric(values):
        return values.astype(np.float64)
    if values.dtype.kind == "O":
        numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(numeric).sum() == pd.isna(values).sum():  # every present value is a number
            return numeric
    return None


# A numeric column is an event flag when its present values lie in [0, 1] and at least this
# share of them are exactly 0 or 1: the rest are a flag's gaps filled with its share of days
# on (a `mean` filling; flags default to their median, `data.filling`), not a measurement.
# Filled that way on the messy demo, 1.6% of the rows (the gaps of a tenth of the items) held
# such shares, and the promotion flag entered every series' regression as a standardised
# number, without its event windows.
FLAG_SHARE = 0.95


def is_binary(values: np.ndarray) -> bool:
    """Whether a numeric column is a 0/1 flag: its present values (there are some) lie in
    [0, 1], nearly all of them (`FLAG_SHARE`) exactly 0 or 1."""
    numbers = np.asarray(values, dtype=np.float64)
    present = numbers[np.isfinite(numbers)]
    if len(present) == 0 or present.min() < 0.0 or present.max() > 1.0:
        return False
    return bool(np.isin(present, (0.0, 1.0)).mean() >= FLAG_SHARE)


def as_flags(values: np.ndarray) -> np.ndarray:
    """A flag column as 0/1 float32: on from 0.5 (a filled share counts as the state it is
    nearer), missing as off."""
    return (np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0) >= 0.5).astype(np.float32)


def _labels(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values)).astype(str)


def vocabulary(values: np.ndarray, limit: int | None = None, min_share: float = 0.0) -> tuple[str, ...]:
    """The labels of a column, most frequent first (ties by label).

    At most `limit` of them, each on at least `min_share` of the present values.

    >>> vocabulary(np.array(["b", "a", None, "b", "c"], dtype=object), limit=2)
    ('b', 'a')
    """
    present = np.asarray(values)[~pd.isna(np.asarray(values))]
    counts = _labels(present).value_counts()
    floor = min_share * max(len(present), 1)
    order = sorted(
        ((str(k), int(v)) for k, v in counts.items() if v >= floor), key=lambda kv: (-kv[1], kv[0])
    )
    return tuple(label for label, _ in order[:limit])


def codes(values: np.ndarray, vocabulary: tuple[str, ...] | list[str]) -> np.ndarray:
    """1-based codes into `vocabulary` (int64); 0 for a missing value or a label not in it.

    >>> codes(np.array(["b", None, "z", "a"], dtype=object), ("a", "b")).tolist()
    [2, 0, 0, 1]
    """
    values = np.asarray(values)
    found = pd.Index(list(vocabulary), dtype=object).get_indexer(_labels(values).to_numpy(dtype=object)) + 1
    found[pd.isna(values)] = 0
    return found.astype(np.int64)


def one_hot(values: np.ndarray, vocabulary: tuple[str, ...] | list[str]) -> np.ndarray:
    """One float32 column per label of `vocabulary`: 1 where the row has that label."""
    found = codes(values, vocabulary)
    out = np.zeros((len(found), len(vocabulary) + 1), dtype=np.float32)
    out[np.arange(len(found)), found] = 1.0
    return out[:, 1:]
