from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast.data.ahead import rows_ahead
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
