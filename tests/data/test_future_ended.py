"""Future covariates of series that ended before the others: their own mean, not a failed fit."""

from __future__ import annotations

import pandas as pd
import pytest

from tidecast.data.future import fill_future
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import DataError

# "a" runs to the panel's end (Jan 3); "b" was discontinued after Jan 2.
HISTORY = pd.DataFrame(
    {
        ITEM_ID: ["a", "a", "a", "b", "b"],
        TIMESTAMP: pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-01", "2021-01-02"]),
        TARGET: [1.0, 2.0, 3.0, 5.0, 6.0],
        "promo": [2.0, 4.0, 9.0, 1.0, 0.0],
    }
)


def _future(values: list[float]) -> pd.DataFrame:
    """What a user's future file holds: the days after the panel's end, for every item."""
    days = pd.to_datetime(["2021-01-04", "2021-01-05"])
    return pd.DataFrame({ITEM_ID: ["a", "a", "b", "b"], TIMESTAMP: [*days, *days], "promo": values})


def test_when_a_series_ended_early_then_its_own_horizon_gets_its_mean_and_a_note() -> None:
    result = fill_future(_future([1.0, 0.0, 1.0, 1.0]), HISTORY, "D", 2, ["promo"])
    b = result[result[ITEM_ID] == "b"]
    assert b[TIMESTAMP].tolist() == list(pd.to_datetime(["2021-01-03", "2021-01-04"]))
    assert b["promo"].tolist() == [0.5, 1.0]  # Jan 3: b's mean; Jan 4: given
    assert result[result[ITEM_ID] == "a"]["promo"].tolist() == [1.0, 0.0]
    assert result.attrs["notes"] == [
        "1 series ended before the panel's last timestamp: its known covariates over its own "
        "horizon, absent from the future, are each series' historical mean"
    ]


def test_when_a_series_reaching_the_end_lacks_future_values_then_it_is_still_an_error() -> None:
    future = _future([1.0, 0.0, 1.0, 1.0]).iloc[1:]
    with pytest.raises(
        DataError, match=r"1 future value of the known covariates \['promo'\] is missing for 1 item "
    ):
        fill_future(future, HISTORY, "D", 2, ["promo"])
