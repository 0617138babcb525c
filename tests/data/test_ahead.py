from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.ahead import rows_ahead, zero_written_tail
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP

NAN = np.nan


def canonical(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    """(item, day, target, promo) rows as ingest leaves them, sorted by item then time."""
    frame = pd.DataFrame(rows, columns=[ITEM_ID, "day", TARGET, "promo"])
    frame[TIMESTAMP] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.pop("day"), unit="D")
    return frame


def test_when_rows_after_a_series_end_hold_a_known_covariate_then_they_are_ahead() -> None:
    frame = canonical(
        [
            ("a", 0, 5, 0), ("a", 1, NAN, 1), ("a", 2, 6, 0),  # a gap inside: not ahead
            ("a", 3, NAN, 1), ("a", 4, NAN, 0),  # the plan after the last sale
            ("b", 0, 7, 0), ("b", 1, NAN, NAN),  # an empty row: no plan
        ]
    )  # fmt: skip
    assert rows_ahead(frame, ["promo"]).tolist() == [False, False, False, True, True, False, False]


def test_when_there_are_no_known_covariates_or_no_target_after_the_end_then_nothing_is_ahead() -> None:
    frame = canonical([("a", 0, 5, 0), ("a", 1, NAN, 1)])
    assert not rows_ahead(frame, []).any()
    assert not rows_ahead(frame.iloc[:1], ["promo"]).any()


def daily(values: dict[str, list[float]]) -> pd.DataFrame:
    """Canonical rows of daily series from 2024-01-01, one list of targets per item."""
    frames = [
        pd.DataFrame(
            {ITEM_ID: item, TIMESTAMP: pd.date_range("2024-01-01", periods=len(v), freq="D"), TARGET: v}
        )
        for item, v in values.items()
    ]
    return pd.concat(frames, ignore_index=True)


def test_when_every_series_sells_nothing_for_the_last_week_then_those_zeros_are_unobserved() -> None:
    sales = [3.0, 4, 0, 5, 6, 4, 3, 5, 4, 6]
    frame = daily({"a": sales + [0.0] * 7, "b": [s + 1 for s in sales] + [0.0] * 7})
    assert zero_written_tail(frame).tolist() == ([False] * 10 + [True] * 7) * 2


def test_when_the_tail_is_short_single_or_like_earlier_pauses_then_it_stays_sales() -> None:
    sales = [3.0, 4, 0, 5, 6, 4, 3, 5, 4, 6]
    closed_weekend = daily({"a": sales + [0.0] * 3, "b": sales + [0.0] * 3})  # under a week
    alone = daily({"a": sales + [0.0] * 7})  # one series: a stop, not a plan
    shut_before = [3.0, 0, 0, 0, 0, 5, 6, 4, 3, 5] + [0.0] * 7  # 7 is not over 2 x 4
    assert not zero_written_tail(closed_weekend).any()
    assert not zero_written_tail(alone).any()
    assert not zero_written_tail(daily({"a": shut_before, "b": shut_before})).any()


def test_when_most_dates_see_no_sale_then_an_idle_tail_says_nothing() -> None:
    slow = [0.0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1] + [0.0] * 8
    assert not zero_written_tail(daily({"a": slow, "b": slow[::-1][8:] + [0.0] * 8})).any()


def test_when_a_series_ends_before_the_others_then_its_empty_rows_are_its_ragged_end_not_a_plan() -> None:
    frame = canonical(
        [
            ("a", 0, 5, 0), ("a", 1, 6, 1), ("a", 2, NAN, 0), ("a", 3, NAN, 1),  # absent weeks
            ("b", 0, 7, 0), ("b", 1, 7, 0), ("b", 2, 8, 1), ("b", 3, 9, 0),
            ("b", 4, NAN, 1),  # after the data's last target date: the plan
        ]
    )  # fmt: skip
    assert rows_ahead(frame, ["promo"]).tolist() == [False] * 8 + [True]
