"""The long-horizon bars: tidecast's wQL over the plain LightGBM's at each horizon."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
long_horizon = pytest.importorskip("long_horizon")
retail = pytest.importorskip("retail")


def test_each_horizon_gets_one_bar_of_tidecast_over_the_plain_lightgbm_of_the_same_horizon():
    rows = []
    for (horizon, _), (mine, plain) in zip(
        long_horizon.HORIZONS, [(0.35, 0.34), (0.30, 0.32), (0.36, 0.36)], strict=True
    ):
        rows += [
            {"dataset": long_horizon.dataset_name(horizon), "system": retail.LABELS["tidecast"], "wql": mine},
            {"dataset": long_horizon.dataset_name(horizon), "system": retail.PLAIN, "wql": plain},
        ]
    found = long_horizon.bars(rows)
    assert [b["value"] for b in found] == pytest.approx([0.35 / 0.34, 0.30 / 0.32, 1.0])
    assert [b["passed"] for b in found] == [False, True, True]
    assert "mean of 3 origins" in found[0]["bar"] and "origins" not in found[1]["bar"]


def test_autogluon_gets_its_own_bar_where_it_ran_and_none_where_it_failed():
    rows = []
    for horizon, _ in long_horizon.HORIZONS:
        name = long_horizon.dataset_name(horizon)
        rows += [
            {"dataset": name, "system": retail.LABELS["tidecast"], "wql": 0.30},
            {"dataset": name, "system": retail.PLAIN, "wql": 0.30},
        ]
    rows.append({"dataset": long_horizon.dataset_name(13), "system": retail.LABELS["autogluon"], "wql": 0.40})
    rows.append({"dataset": long_horizon.dataset_name(26), "system": retail.LABELS["autogluon"]})  # failed
    found = long_horizon.bars(rows)
    assert [b["bar"].split(": ")[1].split(" (")[0] for b in found] == [
        "tidecast wQL ÷ plain LightGBM wQL",
        "tidecast wQL ÷ AutoGluon wQL",
        "tidecast wQL ÷ plain LightGBM wQL",
        "tidecast wQL ÷ plain LightGBM wQL",
    ]
    assert found[1]["value"] == pytest.approx(0.75) and found[1]["passed"]
