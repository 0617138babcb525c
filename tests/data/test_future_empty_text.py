"""A text covariate whose history has empty cells (days without an event) may be empty ahead."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.data.future import fill_future
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import DataError

DAYS = pd.to_datetime(["2021-01-03", "2021-01-04"])


def history(events: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ITEM_ID: ["1", "1"],
            TIMESTAMP: pd.to_datetime(["2021-01-01", "2021-01-02"]),
            TARGET: [1.0, 2.0],
            "event": pd.Series(events, dtype=object),
        }
    )


def test_when_the_history_leaves_a_text_covariate_empty_then_empty_future_cells_mean_the_same() -> None:
    ahead = pd.DataFrame({ITEM_ID: ["1", "1"], TIMESTAMP: DAYS, "event": [None, "SuperBowl"]})
    filled = fill_future(ahead, history(["SuperBowl", None]), "D", 2, ["event"])
    assert filled["event"].tolist() == [None, "SuperBowl"]


def test_when_a_future_row_is_absent_then_it_is_still_an_error_even_for_such_a_column() -> None:
    ahead = pd.DataFrame({ITEM_ID: ["1"], TIMESTAMP: DAYS[:1], "event": [None]})
    with pytest.raises(DataError, match=r"1 future value of the known covariates \['event'\] is missing"):
        fill_future(ahead, history(["SuperBowl", None]), "D", 2, ["event"])


def test_when_the_history_never_leaves_it_empty_then_an_empty_future_cell_is_an_error() -> None:
    ahead = pd.DataFrame({ITEM_ID: ["1", "1"], TIMESTAMP: DAYS, "event": [None, "SuperBowl"]})
    with pytest.raises(DataError, match=r"1 future value of the known covariates \['event'\] is missing"):
        fill_future(ahead, history(["SuperBowl", "Easter"]), "D", 2, ["event"])
