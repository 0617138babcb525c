"""A horizon longer than every history runs (the plan's fallback), and the run says so."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tidecast import AutoForecaster


def _panel(days: int) -> pd.DataFrame:
    stamps = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.DataFrame({"item_id": "a", "timestamp": stamps, "target": 10.0 + np.arange(days) % 7})


def test_when_the_horizon_outruns_every_history_then_a_note_says_no_backtest_scored_its_far_steps() -> None:
    auto = AutoForecaster(horizon=60, models=["SeasonalNaive"], backtest_windows=1).fit(_panel(40))
    assert len(auto.predict()) == 60
    assert (
        "the horizon (60 steps) is longer than any series' history (the longest has 40): its far "
        "steps extrapolate what no backtest has scored"
    ) in auto.report_.notes
    short = AutoForecaster(horizon=7, models=["SeasonalNaive"], backtest_windows=1).fit(_panel(40))
    assert not [n for n in short.report_.notes if "longer than any series' history" in n]
