"""Static item attributes as their users wrote them.

An attribute of whole numbers (a store number, a cluster) comes back as floats when its
column was read from a CSV with a missing cell, or went through a merge that left some rows
without it: store 12 becomes 12.0, and every name built from it reads "store=12.0". Item ids
have their own rule (`item_keys.id_strings`); attributes are kept as values, not text.
"""

from __future__ import annotations

import pandas as pd


def whole_numbers(values: pd.Series) -> pd.Series:
    """A float column whose values are all whole numbers, as Python ints (object dtype, missing
    values as None); any other column unchanged.

    >>> whole_numbers(pd.Series([12.0, None, 5.0])).tolist()
    [12, None, 5]
    >>> whole_numbers(pd.Series([2.5, 3.0])).tolist()
    [2.5, 3.0]
    """
    present = values.dropna()
    if values.dtype.kind != "f" or present.empty or not (present % 1 == 0).all():
        return values
    whole = [None if pd.isna(v) else int(v) for v in values]
    return pd.Series(whole, index=values.index, name=values.name, dtype=object)
