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
