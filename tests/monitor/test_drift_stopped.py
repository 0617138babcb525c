"""Drift on an item that stops selling (a delisted product): every recent actual is 0.

Before, the collapse of its spread to 0 was dropped as an undefined log and only the level
shift counted: an intermittent item (its mean below its std) scored about 0.6 and a constant
seller of 5 a day scored 1, both far under any alarm, with nothing saying why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.monitor.drift import STOPPED_SCORE, drift_scores
from tidecast.monitor.profiles import training_profile

DAYS = pd.date_range("2024-01-01", periods=60, freq="D")
SPIKY = np.where(np.arange(60) % 5 == 0, 10.0, 0.0)  # sells every fifth day: runs of 4 zeros


def profile():
    series = {
        "spiky": SPIKY,
        "constant": np.full(60, 5.0),
        "never": np.zeros(60),
        "steady": 10 + np.arange(60) % 3,
    }
    history = pd.concat(
        [pd.DataFrame({"item_id": k, "timestamp": DAYS, "target": v}) for k, v in series.items()],
        ignore_index=True,
    )
    return training_profile(history, season_length=7)


def zeros(items: list[str], days: int, start: int = 0) -> pd.DataFrame:
    stamps = pd.date_range(DAYS[-1] + pd.Timedelta(days=1 + start), periods=days, freq="D")
    return pd.concat(
        [pd.DataFrame({"item_id": i, "timestamp": stamps, "value": 0.0}) for i in items], ignore_index=True
    )


def test_when_every_recent_actual_is_zero_then_drift_flags_a_stop_with_its_reason() -> None:
    scores = drift_scores(zeros(["spiky", "constant", "never", "steady"], 28), profile()).set_index("item_id")
    for item in ("spiky", "constant", "steady"):
        row = scores.loc[item]
        assert row["score"] >= STOPPED_SCORE
        assert row["reason"].startswith("stopped: 0 for its last 28 actuals")
        assert np.isfinite(row["level_shift"]) and row["level_shift"] < 0
    assert "run of zeros in training (4)" in scores.loc["spiky", "reason"]
    never = scores.loc["never"]  # it sold nothing in training either: no change
    assert never["score"] == 0.0 and never["reason"] is None
    assert np.isfinite(scores[["level_shift", "score"]].to_numpy(dtype=float)).all()


def test_when_the_zeros_are_no_more_than_twice_the_usual_gap_then_it_is_no_stop() -> None:
    """Eight zeros in a row are twice the spiky item's usual gap of four, and one day without
    a sale (a stock-out) of an item that sold every day is no stop either."""
    scores = drift_scores(zeros(["spiky", "constant"], 8), profile()).set_index("item_id")
    assert scores.loc["spiky", "score"] < STOPPED_SCORE
    assert scores.loc["spiky", "reason"] == "level"
    one = drift_scores(zeros(["constant"], 1), profile()).set_index("item_id")
    assert one.loc["constant", "score"] == pytest.approx(1.0)  # |0 - 5| / |5|: a constant's scale
    assert one.loc["constant", "reason"] == "level"


def test_a_stop_after_recent_sales_counts_the_trailing_zeros() -> None:
    stamps = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=3, freq="D")
    sold = pd.DataFrame({"item_id": "constant", "timestamp": stamps, "value": 5.0})
    scores = drift_scores(pd.concat([sold, zeros(["constant"], 10, start=3)], ignore_index=True), profile())
    row = scores.set_index("item_id").loc["constant"]
    assert row["score"] == pytest.approx(STOPPED_SCORE)
    assert row["reason"].startswith("stopped: 0 for its last 10 actuals")
