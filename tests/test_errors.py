"""Errors read as a user reads data: no Python reprs in the rows they point at."""

import datetime

import numpy as np
import pandas as pd

from tidecast.errors import DataError


def test_when_offending_rows_hold_dates_then_the_message_shows_iso_dates_not_reprs():
    error = DataError(
        "bad rows",
        [
            {
                "day": datetime.date(2023, 1, 6),
                "at": pd.Timestamp("2023-01-07 10:00"),
                "stamp": np.datetime64("2023-01-08"),
                "value": np.float64(1.5),
                "item": np.str_("a"),
            }
        ],
    )
    message = str(error)
    assert "datetime.date" not in message and "Timestamp(" not in message and "np." not in message
    assert "'2023-01-06'" in message and "'2023-01-07T10:00:00'" in message and "'2023-01-08'" in message
    assert "1.5" in message and "'a'" in message
    assert error.rows[0]["day"] == datetime.date(2023, 1, 6)  # the rows themselves are kept as given


def test_a_data_error_names_the_rows_positions_and_can_leave_them_out():
    one = DataError("a duplicate", [{"item_id": "a"}], [4])
    two = DataError("duplicates", [{"item_id": "a"}, {"item_id": "a"}], [4, 5])
    assert one.problem == "a duplicate (row 4, counting from 0)"
    assert str(two).startswith("duplicates (rows 4, 5, counting from 0); first offending rows: [{'item_id'")
    assert two.unplaced() == "duplicates; first offending rows: [{'item_id': 'a'}, {'item_id': 'a'}]"
    assert DataError("plain").unplaced() == str(DataError("plain")) == "plain"
