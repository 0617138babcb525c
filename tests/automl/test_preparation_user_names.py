"""Errors found on the canonical panel or future show their rows in the user's column names.

Checks after ingest (the grid in `prepare`, the future's fill) see `item_id` and `timestamp`;
a user whose file says `SKU` and `Date` looked for columns their file does not have.
"""

import pandas as pd
import pytest

from tidecast.automl.preparation import Preparer
from tidecast.errors import DataError


def sales(keys: dict[str, list[object]], days: int = 20) -> pd.DataFrame:
    """`days` daily rows of each key (one column or the parts of a composite one)."""
    n = len(next(iter(keys.values())))
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    frame = pd.DataFrame({k: [v for v in values for _ in range(days)] for k, values in keys.items()})
    return frame.assign(Date=list(dates) * n, Sales=1.0, Promo=0.0)


def test_when_a_series_is_off_the_grid_then_its_rows_show_the_users_columns():
    data = sales({"SKU": ["a", "b"]})
    data.loc[3, "Date"] = data.loc[3, "Date"] + pd.Timedelta(hours=5)
    preparer = Preparer(item_col="SKU", timestamp_col="Date", target_col="Sales")
    with pytest.raises(DataError, match="not on the 'D' grid") as info:
        preparer.canonical(data, None, 7)
    assert info.value.rows == [{"SKU": "a", "Date": "2024-01-04T05:00:00"}]
    assert "'SKU': 'a', 'Date': '2024-01-04T05:00:00'" in str(info.value)


def test_when_the_future_misses_an_item_then_its_rows_show_the_users_key_parts():
    data = sales({"Store": ["1", "2"], "Brand": ["x", "x"]})
    preparer = Preparer(
        item_col="Store,Brand", timestamp_col="Date", target_col="Sales", known_covariates="Promo"
    )
    prepared, spec, _ = preparer.training(data, None, 2)
    future = pd.DataFrame(
        {
            "Store": ["1", "1"],
            "Brand": ["x", "x"],
            "Date": pd.date_range("2024-01-21", periods=2),
            "Promo": 1.0,
        }
    )
    with pytest.raises(DataError, match=r"missing for 1 item \(e.g. \['2\|x'\]\)") as info:
        preparer.future(future, prepared.panel, spec, 2, None)
    row = info.value.rows[0]
    assert {k: v for k, v in row.items() if k != "Promo"} == {
        "Store": "2",
        "Brand": "x",
        "Date": "2024-01-21T00:00:00",
    }
    assert pd.isna(row["Promo"])
    assert list(info.value.rows[0]) == ["Store", "Brand", "Date", "Promo"]


def test_when_a_future_value_is_not_a_number_then_its_row_shows_the_users_columns():
    data = sales({"SKU": ["a"]})
    preparer = Preparer(item_col="SKU", timestamp_col="Date", target_col="Sales", known_covariates="Promo")
    prepared, spec, _ = preparer.training(data, None, 2)
    future = pd.DataFrame({"SKU": ["a", "a"], "Date": ["2024-01-21", "2024-01-22"], "Promo": ["1", "lots"]})
    with pytest.raises(DataError, match="'Promo' is numeric in the history") as info:
        preparer.future(future, prepared.panel, spec, 2, None)
    assert info.value.rows == [{"SKU": "a", "Date": "2024-01-22T00:00:00", "Promo": "lots"}]


@pytest.mark.parametrize(
    ("date", "problem"),
    [
        ("2024-01-32", "column 'Date' has 1 value that is not a timestamp"),
        ("2024-01-21", "1 duplicate (SKU, Date)"),
    ],
)
def test_when_the_future_file_is_malformed_then_the_error_says_it_is_the_future(date, problem):
    data = sales({"SKU": ["a"]})
    preparer = Preparer(item_col="SKU", timestamp_col="Date", target_col="Sales", known_covariates="Promo")
    prepared, spec, _ = preparer.training(data, None, 2)
    future = pd.DataFrame({"SKU": ["a", "a"], "Date": ["2024-01-21", date], "Promo": [1.0, 0.0]})
    with pytest.raises(DataError) as info:
        preparer.future(future, prepared.panel, spec, 2, None)
    assert str(info.value).startswith(f"the future covariates: {problem}")
    assert info.value.positions == (1,) or info.value.positions == (0, 1)
