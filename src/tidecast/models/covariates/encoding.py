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


def is_binary(values: np.ndarray) -> bool:
    """Whether the present values of a numeric column are all 0 or 1 (and there are some)."""
    numbers = np.asarray(values, dtype=np.float64)
    present = numbers[np.isfinite(numbers)]
    return len(present) > 0 and bool(np.isin(present, (0.0, 1.0)).all())


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
