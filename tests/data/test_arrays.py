"""SeriesArrays: gathers and column choices share the panel's build and equal a fresh one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.arrays import SeriesArrays
from tidecast.data.future import fill_future
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP, DatasetSpec


def panel() -> pd.DataFrame:
    lengths = {"a": 5, "b": 3, "c": 4}
    return pd.DataFrame(
        {
            ITEM_ID: np.repeat(list(lengths), list(lengths.values())),
            TIMESTAMP: np.concatenate([pd.date_range("2024-01-01", periods=n) for n in lengths.values()]),
            TARGET: np.arange(12, dtype=float),
            "promo": np.arange(12) % 2 * 1.0,
            "price": np.linspace(1.0, 2.0, 12),
            "region": np.repeat(["N", "S", "N"], list(lengths.values())),
        }
    )


def test_when_series_are_taken_then_they_equal_arrays_built_from_those_rows() -> None:
    frame = panel()
    arrays = SeriesArrays.from_panel(frame, "D", ("promo",), ("region",))
    taken = arrays.take(np.array([0, 2]), np.array([1, 8]), np.array([3, 2]))
    rows = [1, 2, 3, 8, 9]
    expected = SeriesArrays.from_panel(frame.iloc[rows], "D", ("promo",), ("region",))
    assert taken.item_ids.tolist() == ["a", "c"]
    np.testing.assert_array_equal(taken.indptr, [0, 3, 5])
    np.testing.assert_array_equal(taken.values, expected.values)
    np.testing.assert_array_equal(taken.timestamps, expected.timestamps)
    np.testing.assert_array_equal(taken.covariates["promo"], expected.covariates["promo"])
    assert taken.static is not None and expected.static is not None
    pd.testing.assert_frame_equal(taken.static, expected.static)


def test_when_a_tail_is_kept_then_short_series_stay_whole() -> None:
    tail = SeriesArrays.from_panel(panel(), "D").tail(4)
    np.testing.assert_array_equal(tail.indptr, [0, 4, 7, 11])
    np.testing.assert_array_equal(tail.values, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])


def test_when_columns_are_chosen_then_the_arrays_are_what_from_spec_builds_and_share_buffers() -> None:
    frame = panel()
    spec = DatasetSpec(freq="D", known_covariates=("promo",), static_columns=("region",))
    everything = SeriesArrays.from_panel(frame, "D", ("price", "promo"), ("region",))
    chosen = everything.with_columns(("promo", "absent"), ("region",))
    expected = SeriesArrays.from_spec(frame, spec)
    assert list(chosen.covariates) == list(expected.covariates) == ["promo"]
    assert chosen.values is everything.values
    assert chosen.static is not None and expected.static is not None
    pd.testing.assert_frame_equal(chosen.static, expected.static)
    assert everything.with_columns((), ()).static is None


def test_when_the_history_is_given_as_arrays_then_the_future_is_filled_as_from_the_frame() -> None:
    frame = panel()
    future = pd.DataFrame(
        {ITEM_ID: ["a", "b"], TIMESTAMP: pd.to_datetime(["2024-01-06", "2024-01-04"]), "promo": 1}
    )
    filling = {"promo": {"futurefill": "mean"}}
    arrays = SeriesArrays.from_panel(frame, "D", ("promo",))
    from_arrays = fill_future(future, arrays, "D", 2, ("promo",), filling)
    from_frame = fill_future(future, frame, "D", 2, ("promo",), filling)
    pd.testing.assert_frame_equal(from_arrays, from_frame, check_exact=True)
