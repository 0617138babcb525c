"""The messy demo's test scored by cause: exact wQL on a hand-built case, like cells with like."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
messy_causes = pytest.importorskip("messy_causes")

D1, D2 = pd.Timestamp("2024-01-15"), pd.Timestamp("2024-01-16")


def _rows(cells: list[tuple[str, pd.Timestamp, float]]) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=["item_id", "timestamp", "target"])


def _point(cells: list[tuple[str, pd.Timestamp, float]]) -> pd.DataFrame:
    """A forecast whose mean and every quantile are the given value."""
    frame = _rows(cells).rename(columns={"target": "mean"})
    return frame.assign(p10=frame["mean"], p50=frame["mean"], p90=frame["mean"])


def _history(items: list[str]) -> pd.DataFrame:
    days = pd.date_range("2023-12-01", "2024-01-14", freq="D")
    return pd.DataFrame(
        [(i, d, 10.0 + d.dayofweek) for i in items for d in days], columns=["item_id", "timestamp", "target"]
    )


def test_causes_split_the_return_days_and_promotions_and_score_the_clean_demo_on_the_same_cells():
    # A has years of history: a promoted day, then a return; B is new; C ended early, so only
    # the clean test holds it and no cause scores it.
    clean = SimpleNamespace(
        test=_rows([("A", D1, 10.0), ("A", D2, 10.0), ("B", D1, 20.0), ("B", D2, 20.0), ("C", D1, 5.0)]),
        filled=_history(["A", "B", "C"]),
    )
    messy = SimpleNamespace(
        test=_rows([("A", D1, 10.0), ("A", D2, -2.0), ("B", D1, 20.0), ("B", D2, 20.0)]),
        future=pd.DataFrame(
            {"item_id": ["A", "A", "B", "B"], "timestamp": [D1, D2, D1, D2], "promotion": [1, 0, 0, 0]}
        ),
        filled=_history(["A", "B"]),
    )
    clean_fit = _point([("A", D1, 9.0), ("A", D2, 10.0), ("B", D1, 20.0), ("B", D2, 20.0), ("C", D1, 1.0)])
    messy_fit = _point([("A", D1, 8.0), ("A", D2, 10.0), ("B", D1, 20.0), ("B", D2, 20.0)])
    kinds = pd.Series({"A": "full", "B": "new", "C": "early_end"})
    rows = messy_causes.cause_rows(clean, clean_fit, messy, {"tidecast": messy_fit}, kinds, 7)
    by = {r["cause"]: r for r in rows}
    # Pinball over p10/p50/p90: A's promoted day 2 under at every level, 0.2 + 1.0 + 1.8 = 3.0;
    # its return, 12 over, 10.8 + 6.0 + 1.2 = 18.0. wQL = mean over levels of 2 x sum / sum |y|.
    assert by["all cells"]["cells"] == 4
    assert by["all cells"]["wql tidecast"] == pytest.approx(2 * 21.0 / 3 / 52.0)
    # the clean demo on the same four cells (not C's): A's first day 1 under, 1.5 over the levels
    assert by["all cells"]["wql clean tidecast"] == pytest.approx(2 * 1.5 / 3 / 60.0)
    assert by["all cells"]["ratio tidecast"] == pytest.approx((21.0 / 52.0) / (1.5 / 60.0))
    assert by["return days left out"]["cells"] == 3
    assert by["return days left out"]["wql tidecast"] == pytest.approx(2 * 3.0 / 3 / 50.0)
    assert by["return days left out"]["wql clean tidecast"] == pytest.approx(2 * 1.5 / 3 / 50.0)
    assert by["return days left out, promotion days"]["wql tidecast"] == pytest.approx(2 * 3.0 / 3 / 10.0)
    assert by["return days left out, other days"]["wql tidecast"] == 0.0
    assert by["return days left out, new items"]["cells"] == 2
    # no long history is left on a day without a promotion: the cause is listed, not scored
    assert by["return days left out, other days, long histories"] == {
        "cause": "return days left out, other days, long histories",
        "cells": 0,
    }
    # a cause the clean demo forecast exactly has no ratio (not a division by zero)
    assert by["return days left out, other days"]["wql clean tidecast"] == 0.0
    assert pd.isna(by["return days left out, other days"]["ratio tidecast"])
