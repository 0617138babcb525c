"""The shared covariate machinery: the horizon extender and the column encoding rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays, series_indptr
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.models.covariates import append_horizon
from tidecast.models.covariates.encoding import as_numbers, codes, is_binary, one_hot, vocabulary


def two_series() -> SeriesArrays:
    panel = pd.DataFrame(
        {
            ITEM_ID: ["a", "a", "a", "b", "b"],
            TIMESTAMP: pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05", "2024-01-06"]),
            TARGET: [1.0, 2.0, 3.0, 10.0, 20.0],
            "promo": [0, 1, 0, 1, 1],
            "price": [5.0, 5.0, 4.0, 9.0, 9.0],
        }
    )
    return SeriesArrays.from_panel(panel, "D", ("promo", "price"))


def test_when_appending_a_horizon_then_each_series_gets_its_rows_after_its_own_end() -> None:
    future = pd.DataFrame(
        {
            ITEM_ID: ["a", "a", "b", "b"],
            TIMESTAMP: pd.to_datetime(["2024-01-04", "2024-01-05", "2024-01-07", "2024-01-08"]),
            "promo": [1, 0, 0, 1],
        }
    )
    out = append_horizon(two_series(), 2, future, known=("promo",))
    assert out.indptr.tolist() == [0, 5, 9]
    np.testing.assert_array_equal(out.values, [1, 2, 3, np.nan, np.nan, 10, 20, np.nan, np.nan])
    assert out.timestamps[[3, 4, 7, 8]].astype("datetime64[D]").astype(str).tolist() == [
        "2024-01-04",
        "2024-01-05",
        "2024-01-07",
        "2024-01-08",
    ]
    assert out.covariates["promo"].dtype == np.float64
    np.testing.assert_array_equal(out.covariates["promo"], [0, 1, 0, 1, 0, 1, 1, 0, 1])
    # not a known column: missing over the horizon even though the history has it
    np.testing.assert_array_equal(out.covariates["price"], [5, 5, 4, np.nan, np.nan, 9, 9, np.nan, np.nan])


def test_when_a_known_column_is_text_or_absent_from_the_history_then_it_is_kept_as_given() -> None:
    future = pd.DataFrame({"promo": [0, 0, 1, 1], "event": np.array(["x", None, "y", "x"], dtype=object)})
    out = append_horizon(two_series(), 2, future, known=("promo", "event"))
    event = out.covariates["event"]
    assert event.dtype == object
    assert [None if pd.isna(v) else v for v in event.tolist()] == [None] * 3 + ["x", None] + [None] * 2 + [
        "y",
        "x",
    ]


def test_when_the_horizon_is_zero_then_the_history_is_unchanged() -> None:
    data = two_series()
    out = append_horizon(data, 0)
    assert out.indptr.tolist() == data.indptr.tolist()
    np.testing.assert_array_equal(out.values, data.values)
    np.testing.assert_array_equal(out.covariates["promo"], [0.0, 1.0, 0.0, 1.0, 1.0])


def test_vocabulary_keeps_the_most_frequent_labels_ties_by_label_above_a_share() -> None:
    values = np.array(["b", "c", "d", "b", "c", "a", None, "b"], dtype=object)
    assert vocabulary(values) == ("b", "c", "a", "d")
    assert vocabulary(values, limit=2) == ("b", "c")
    assert vocabulary(values, min_share=2 / 7) == ("b", "c")
    assert vocabulary(np.array([1.5, 2, 1.5])) == ("1.5", "2.0")


def test_codes_and_one_hot_match_labels_as_text_with_zero_for_missing_or_unseen() -> None:
    values = np.array(["b", None, "z", "a", 1], dtype=object)
    assert codes(values, ("a", "b", "1")).tolist() == [2, 0, 0, 1, 3]
    np.testing.assert_array_equal(one_hot(values, ("a", "b")), [[0, 1], [0, 0], [0, 0], [1, 0], [0, 0]])
    assert one_hot(values, ()).shape == (5, 0)


def test_numbers_and_flags() -> None:
    np.testing.assert_array_equal(as_numbers(np.array(["1", None, 2.5], dtype=object)), [1.0, np.nan, 2.5])
    assert as_numbers(np.array(["1", "x"], dtype=object)) is None
    assert is_binary(np.array([0.0, 1.0, np.nan])) and not is_binary(np.array([0.0, 2.0]))
    assert not is_binary(np.array([np.nan]))


def test_series_boundaries_of_runs_of_equal_ids() -> None:
    assert series_indptr(np.array(["a", "a", "b", "a"])).tolist() == [0, 2, 3, 4]
    assert series_indptr(np.array([], dtype=object)).tolist() == [0]
