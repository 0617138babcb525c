from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tidecast.data.prepare import prepare
from tidecast.data.problems import Problem
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.data.summary import summarize

PANEL = pd.DataFrame(
    {
        ITEM_ID: ["a", "a", "a", "b", "b", "c"],
        TIMESTAMP: pd.to_datetime(
            ["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-02", "2021-01-03", "2021-01-03"]
        ),
        TARGET: [0.0, 2.0, np.nan, -1.0, 0.0, 5.0],
        "promo": [0, 1, 0, 0, 1, 0],
    }
)


def test_when_summarizing_then_every_figure_is_exact_and_plain_json() -> None:
    problem = Problem("negative_values", "1 negative value", count=1, items=("b",), handled="kept")
    summary = summarize(PANEL, "D", [problem])
    assert summary == {
        "items": 3,
        "rows": 6,
        "frequency": "D",
        "date_range": {"start": "2021-01-01T00:00:00", "end": "2021-01-03T00:00:00"},
        "series_length": {"min": 1, "median": 2.0, "max": 3},
        "zero_share": 0.4,
        "negative_values": 1,
        "missing_values": 1,
        "covariates": ["promo"],
        "problems": [
            {
                "kind": "negative_values",
                "message": "1 negative value",
                "count": 1,
                "sample_items": ["b"],
                "handled": "kept",
            }
        ],
    }
    assert json.loads(json.dumps(summary)) == summary


def test_when_the_panel_is_empty_then_the_summary_still_serialises() -> None:
    summary = summarize(PANEL.iloc[:0], None)
    assert summary["items"] == 0 and summary["date_range"] == {"start": None, "end": None}
    json.dumps(summary)


def test_when_summarizing_a_prepared_panel_then_its_problems_are_listed() -> None:
    prepared = prepare(
        PANEL.drop(columns="promo"), filling={TARGET: {"middlefill": "zero", "backfill": "zero"}}
    )
    summary = summarize(prepared.panel, prepared.freq, prepared.problems)
    kinds = [p["kind"] for p in summary["problems"]]  # type: ignore[union-attr, index]
    assert "negative_values" in kinds and "missing_values" in kinds
    json.dumps(summary)
