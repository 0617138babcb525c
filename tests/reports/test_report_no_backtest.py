"""A run trained without backtests: its folder, reports and item series read without a 500."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tidecast import AutoForecaster
from tidecast.reports.build import reports_for_folder
from tidecast.reports.explorer import item_series
from tidecast.reports.inputs import load_inputs
from tidecast.reports.run import LEADERBOARD, write_run


def test_when_no_backtest_ran_then_the_leaderboard_has_its_columns_and_the_reports_build(
    tmp_path: Path,
) -> None:
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    data = pd.DataFrame({"item_id": "a", "timestamp": days, "target": 10.0 + np.arange(60) % 7})
    auto = AutoForecaster(horizon=7, models=["SeasonalNaive"], backtest_windows=0).fit(data)
    write_run(auto, auto.predict(), tmp_path / "run")
    board = pd.read_csv(tmp_path / "run" / LEADERBOARD)  # a header, no rows: the CSV reader takes it
    assert board.empty and {"model", "selected", "score", "weight", "error"} <= set(board.columns)
    (tmp_path / "run" / LEADERBOARD).write_text("\n")  # as such runs were written before
    reports = reports_for_folder(tmp_path / "run", "no-backtest")
    assert {r.kind for r in reports} == {"quality", "business"}
    series = item_series(load_inputs(tmp_path / "run"), "a")
    assert len(series["forecast"]["timestamp"]) == 7 and series["backtests"] == []
