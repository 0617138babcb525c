"""Ingest errors about a table keyed by several columns show those columns, not their join.

The rows an error shows came from the table with the joined key added (`item_keys.compose`):
they showed `{'Store,Brand': '2|1', ...}`, a column and a value the user's file does not have.
"""

import pandas as pd
import pytest

from tidecast.data.ingest import to_canonical
from tidecast.errors import DataError


def weeks() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Store": ["2", "2", "2", "5"],
            "Brand": ["1", "1", "1", "1"],
            "Week": ["1992-09-10", "1992-09-17", "1992-09-10", "1992-09-10"],
            "Units": [10.0, 12.0, 11.0, 9.0],
        }
    )


def test_when_a_composite_key_repeats_a_timestamp_then_the_rows_show_its_columns():
    with pytest.raises(DataError) as info:
        to_canonical(weeks(), item_col="Store,Brand", timestamp_col="Week", target_col="Units")
    assert str(info.value).startswith("1 duplicate (Store, Brand, Week) pair: ")
    assert info.value.rows == [
        {"Store": "2", "Brand": "1", "Week": "1992-09-10", "Units": 10.0},
        {"Store": "2", "Brand": "1", "Week": "1992-09-10", "Units": 11.0},
    ]


def test_when_a_composite_keys_timestamp_is_bad_then_the_row_shows_its_columns():
    data = weeks().assign(Week=["1992-09-10", "1992-09-17", "1992-09-24", "1992-13-01"])
    with pytest.raises(DataError, match="1 value that is not a timestamp") as info:
        to_canonical(data, item_col="Store,Brand", timestamp_col="Week", target_col="Units")
    assert info.value.rows == [{"Store": "5", "Brand": "1", "Week": "1992-13-01", "Units": 9.0}]
