"""Actuals in the training file's own column names: new sales load without a rewrite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast.errors import DataError
from tidecast.monitor.actuals import actuals_frame, named_actuals, parse_upload, read_actuals


def sales() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Store": ["01", "01", "1"],
            "Dept": ["7", "7", "30"],
            "Date": ["2024-05-03", "2024-05-10", "2024-05-03"],
            "Sales": [12.5, 14.0, 9.0],
            "price": [1.5, 1.5, 2.0],
        }
    )


def test_a_file_named_as_the_training_data_is_read_as_canonical_actuals(tmp_path: Path) -> None:
    sales().to_csv(tmp_path / "new.csv", index=False)
    frame, duplicates = read_actuals(tmp_path / "new.csv", None, "Store,Dept", "Date", "Sales")
    assert duplicates == 0
    assert frame["item_id"].tolist() == ["01|7", "01|7", "1|30"]  # store 01 stays apart from 1
    assert frame["timestamp"].tolist() == list(pd.to_datetime(["2024-05-03", "2024-05-10", "2024-05-03"]))
    assert frame["value"].tolist() == [12.5, 14.0, 9.0]
    assert list(frame.columns) == [
        "item_id",
        "timestamp",
        "value",
        "price",
    ]  # the key's parts are no covariates


def test_an_upload_in_the_training_names_reads_as_the_file_does(tmp_path: Path) -> None:
    body = sales().to_csv(index=False).encode()
    uploaded = named_actuals(parse_upload(body, "text/csv", "Store,Dept"), "Store,Dept", "Date", "Sales")
    assert uploaded["item_id"].tolist() == ["01|7", "01|7", "1|30"]


def test_a_missing_column_is_named_with_the_ones_the_file_has() -> None:
    with pytest.raises(DataError, match=r"lack column\(s\) \['Store,Aisle \(lacking Aisle\)'\]"):
        named_actuals(sales(), "Store,Aisle", "Date", "Sales")
    with pytest.raises(DataError, match=r"lack column\(s\) \['Units'\]; they have \['Store', 'Dept'"):
        named_actuals(sales(), "Store", "Date", "Units")


def test_when_a_value_is_missing_or_infinite_then_the_error_names_the_row_in_plain_words() -> None:
    """No numpy reprs ("np.float64(nan)") in what the user reads."""
    frame = pd.DataFrame(
        {"item_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-02"], "value": [1.0, np.nan]}
    )
    with pytest.raises(DataError, match=r"^row 1: value is missing \(empty or NaN\)$"):
        actuals_frame(frame)
    with pytest.raises(DataError, match=r"^row 0: value inf is not a finite number$"):
        actuals_frame(frame.assign(value=[np.inf, 1.0]))
    with pytest.raises(DataError, match=r"^row 1: value 'many' is not a finite number$"):
        actuals_frame(frame.assign(value=["1", "many"]))
