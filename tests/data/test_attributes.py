"""Whole-numbered attributes read as floats (a CSV column with a missing cell) are integers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.attributes import whole_numbers


def test_when_a_float_column_holds_whole_numbers_then_they_are_ints_and_missing_is_none():
    out = whole_numbers(pd.Series([12.0, np.nan, 5.0], name="store", index=[3, 4, 5]))
    assert out.tolist() == [12, None, 5] and out.dtype == object
    assert out.name == "store" and list(out.index) == [3, 4, 5]
    assert out.astype(str).tolist() == ["12", "None", "5"]


def test_when_a_column_is_not_whole_floats_then_it_is_unchanged():
    for values in ([2.5, 3.0], [np.nan, np.nan], [1.0, np.inf], [12, 5], ["12.0", "a"]):
        series = pd.Series(values)
        assert whole_numbers(series) is series
