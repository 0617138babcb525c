"""A future file whose rows miss the horizon says why: other item ids, or other dates."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.data.future import fill_future
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import DataError

HISTORY = pd.DataFrame(
    {
        ITEM_ID: ["1", "1", "2", "2"],
        TIMESTAMP: pd.to_datetime(["2021-01-01", "2021-01-02"] * 2),
        TARGET: [1.0, 2.0, 5.0, 6.0],
        "promo": [0.0, 1.0, 1.0, 0.0],
    }
)
DAYS = pd.to_datetime(["2021-01-03", "2021-01-04"])


def future(items: list, days: pd.DatetimeIndex = DAYS) -> pd.DataFrame:
    return pd.DataFrame({ITEM_ID: items, TIMESTAMP: [*days, *days], "promo": [1.0, 0.0, 0.0, 1.0]})


def test_float_item_ids_of_a_future_frame_match_the_whole_numbers_of_the_history() -> None:
    filled = fill_future(future([1.0, 1.0, 2.0, 2.0]), HISTORY, "D", 2, ["promo"])
    assert filled["promo"].tolist() == [1.0, 0.0, 0.0, 1.0]


def test_rows_naming_other_items_are_named() -> None:
    with pytest.raises(
        DataError, match=r"the future's rows name 2 items the data does not have \(e\.g\. \['A1', 'A2'\]\)"
    ):
        fill_future(future(["A1", "A1", "A2", "A2"]), HISTORY, "D", 2, ["promo"])


def test_rows_on_other_dates_are_named_with_the_missing_steps() -> None:
    late = DAYS + pd.Timedelta(days=1)
    with pytest.raises(
        DataError,
        match=r"rows of '1' run 2021-01-04 to 2021-01-05, its missing steps 2021-01-03 to 2021-01-03",
    ):
        fill_future(future(["1", "1", "2", "2"], late), HISTORY, "D", 2, ["promo"])


def test_rows_of_an_item_beside_the_known_ones_are_ignored_and_named_in_a_note() -> None:
    given = pd.concat([future(["1", "1", "2", "2"]), future(["NEW_SKU", "NEW_SKU", "NEW_SKU", "NEW_SKU"])])
    given = given.drop_duplicates([ITEM_ID, TIMESTAMP])
    filled = fill_future(given, HISTORY, "D", 2, ["promo"])
    assert filled[ITEM_ID].tolist() == ["1", "1", "2", "2"]
    assert filled.attrs["notes"] == [
        "the future's rows name 1 item the data does not have, and are ignored (e.g. ['NEW_SKU']): "
        "an item needs history to be forecast; a new one is forecast from similar items by "
        "`tidecast cold-start`"
    ]
    assert "notes" not in fill_future(future(["1", "1", "2", "2"]), HISTORY, "D", 2, ["promo"]).attrs


def test_text_in_a_numeric_covariates_future_is_an_error_naming_the_values() -> None:
    """Passed on as text, "x" forecast as no promotion and "0,0411" as a price of 411."""
    given = future(["1", "1", "2", "2"]).astype({"promo": object})
    given.loc[1, "promo"], given.loc[3, "promo"] = "x", "0,5"
    with pytest.raises(DataError) as info:
        fill_future(given, HISTORY, "D", 2, ["promo"])
    assert info.value.problem == (
        "the known covariate 'promo' is numeric in the history, but 2 of its future values are not "
        "numbers (e.g. ['x', '0,5']); write them as numbers with a decimal point"
    )
    assert info.value.rows[0] == {ITEM_ID: "1", TIMESTAMP: "2021-01-04T00:00:00", "promo": "x"}
    written = future(["1", "1", "2", "2"]).astype({"promo": str})  # "1.0", "0.0": numbers as text
    assert fill_future(written, HISTORY, "D", 2, ["promo"])["promo"].tolist() == [1.0, 0.0, 0.0, 1.0]
