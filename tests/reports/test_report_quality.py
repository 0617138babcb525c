"""Errors per item and window from the backtest table, and calibration on the quantile grid,
on hand-built backtests with values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.reports import quality

Q = (0.1, 0.5, 0.9)


def backtests() -> pd.DataFrame:
    """Window 1 (cutoff 2 January) for items a and b, two steps each."""
    return pd.DataFrame(
        {
            "model": "Naive",
            "window": 1,
            "cutoff": "2024-01-02",
            "item_id": ["a", "a", "b", "b"],
            "timestamp": pd.to_datetime(["2024-01-03", "2024-01-04"] * 2),
            "actual": [10.0, 20.0, 5.0, 5.0],
            "mean": [12.0, 18.0, 5.0, 5.0],
            "p10": [8.0, 16.0, 6.0, 6.0],
            "p50": [12.0, 18.0, 5.0, 5.0],
            "p90": [14.0, 22.0, 7.0, 7.0],
        }
    )


HISTORY = pd.DataFrame(
    {
        "item_id": ["a", "a", "b", "b"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2),
        "target": [10.0, 14.0, 5.0, 5.0],  # naive scale: a |14 − 10| = 4; b 0 (no MASE)
    }
)


def test_when_items_are_scored_then_each_metric_is_the_kernels_on_its_rows() -> None:
    table = quality.item_errors(backtests(), HISTORY, Q, season_length=1)
    assert table["item_id"].tolist() == ["a", "b"]
    assert table["points"].tolist() == [2, 2]
    assert table["actual_total"].tolist() == [30.0, 10.0]
    # a: pinball sums 0.6 (p10), 2.0 (p50), 0.6 (p90); wQL = mean(2·sum / 30) = 6.4 / 90
    assert table["wql"].iloc[0] == pytest.approx(6.4 / 90)
    assert table["wape"].tolist() == pytest.approx([4 / 30, 0.0])
    assert table["bias"].tolist() == pytest.approx([0.0, 0.0])
    assert table["coverage"].tolist() == [1.0, 0.0]  # b's actuals sit below its p10
    assert table["mase"].iloc[0] == pytest.approx(0.5) and np.isnan(table["mase"].iloc[1])


def test_when_windows_are_scored_then_each_window_pools_its_items() -> None:
    table = quality.window_errors(backtests(), HISTORY, Q, season_length=1)
    row = table.iloc[0]
    assert (row["window"], row["cutoff"], row["points"]) == (1, "2024-01-02", 4)
    assert row["wape"] == pytest.approx(4 / 40)
    assert row["coverage"] == pytest.approx(0.5)


def test_when_the_worst_items_are_asked_then_the_highest_error_comes_first() -> None:
    table = quality.item_errors(backtests(), HISTORY, Q, season_length=1)
    assert quality.worst_items(table, n=1)["item_id"].tolist() == ["a"]


def test_when_actuals_fall_between_quantiles_then_the_pit_bins_count_them() -> None:
    y = np.array([0.0, 5, 10, 15, 20])
    qpred = np.tile([4.0, 10, 16], (5, 1))  # an actual equal to a quantile counts above it
    table = quality.pit_histogram(y, qpred, Q)
    assert table["bin"].tolist() == ["0%–10%", "10%–50%", "50%–90%", "90%–100%"]
    assert table["count"].tolist() == [1, 1, 2, 1]
    assert table["observed"].tolist() == pytest.approx([0.2, 0.2, 0.4, 0.2])
    assert table["expected"].tolist() == pytest.approx([0.1, 0.4, 0.4, 0.1])


def test_when_coverage_is_asked_per_level_then_each_level_and_the_central_interval_report() -> None:
    y = np.array([0.0, 5, 10, 15, 20])
    qpred = np.tile([4.0, 10, 16], (5, 1))
    table = quality.coverage_by_level(y, qpred, Q)
    assert table["level"].tolist() == ["p10", "p50", "p90", "p10–p90"]
    assert table["nominal"].tolist() == pytest.approx([0.1, 0.5, 0.9, 0.8])
    assert table["observed"].tolist() == pytest.approx([0.2, 0.6, 0.8, 0.6])
