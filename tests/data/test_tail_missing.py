"""Series that end before the panel's last step: the note, and the target backfill "missing"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tidecast import AutoForecaster
from tidecast.data.prepare import prepare
from tidecast.data.schema import ITEM_ID, TARGET, TIMESTAMP
from tidecast.errors import ConfigError
from tidecast.reports.missing import missing_lines


def _panel(days: int = 60, short_by: int = 3) -> pd.DataFrame:
    """Items a and b over `days` days; b's last `short_by` days absent (not recorded)."""
    stamps = pd.date_range("2024-01-01", periods=days, freq="D")
    rng = np.random.default_rng(0)
    frames = []
    for item, level, end in (("a", 10.0, days), ("b", 20.0, days - short_by)):
        frames.append(
            pd.DataFrame(
                {ITEM_ID: item, TIMESTAMP: stamps[:end], TARGET: level + rng.normal(0, 1, end).round(2)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _notes(prepared: object, kind: str) -> list[object]:
    return [p for p in prepared.problems if p.kind == kind]  # type: ignore[attr-defined]


def test_when_a_series_ends_early_by_default_then_a_note_says_where_it_is_forecast_from() -> None:
    prepared = prepare(_panel(), freq="D")
    (note,) = _notes(prepared, "series_end_early")
    assert note.count == 1 and note.items == ("b",)
    assert note.message.startswith("1 series ends 3 steps before the panel's last step: each is forecast")
    assert '{"target": {"backfill": "missing"}}' in note.message
    b = prepared.panel[prepared.panel[ITEM_ID] == "b"]
    assert b[TIMESTAMP].max() == pd.Timestamp("2024-02-26")  # its own end, nothing padded


def test_when_the_target_backfill_is_missing_then_the_series_runs_to_the_end_with_unknown_steps() -> None:
    prepared = prepare(_panel(), freq="D", filling={TARGET: {"backfill": "missing"}})
    b = prepared.panel[prepared.panel[ITEM_ID] == "b"].reset_index(drop=True)
    assert b[TIMESTAMP].max() == pd.Timestamp("2024-02-29")
    assert b[TARGET].tail(3).isna().all() and b[TARGET].head(57).notna().all()
    (note,) = _notes(prepared, "series_end_early")
    assert note.handled == "forecast from the panel's end"
    (left,) = _notes(prepared, "missing_values_left")
    assert left.message.startswith("target: 3 missing cells (3 back) left missing")
    assert prepared.filled[TARGET]["back"] == 0


def test_when_missing_is_asked_elsewhere_than_the_targets_backfill_then_it_is_refused() -> None:
    data = _panel().assign(price=1.0)
    with pytest.raises(
        ConfigError, match=r"'missing' is the target's backfill only, not 'target''s middlefill"
    ):
        prepare(data, freq="D", filling={TARGET: {"middlefill": "missing"}})
    with pytest.raises(ConfigError, match=r"not 'price''s backfill"):
        prepare(data, freq="D", filling={"price": {"backfill": "missing"}})


def test_when_a_series_ends_early_then_backfill_missing_forecasts_it_on_the_others_dates() -> None:
    data = _panel()
    own = AutoForecaster(horizon=5, models=["SeasonalNaive"], backtest_windows=1).fit(data).predict()
    padded = (
        AutoForecaster(
            horizon=5,
            models=["SeasonalNaive"],
            backtest_windows=1,
            filling={"target": {"backfill": "missing"}},
        )
        .fit(data)
        .predict()
    )
    first = {i: g[TIMESTAMP].min() for i, g in own.groupby(ITEM_ID)}
    assert first == {"a": pd.Timestamp("2024-03-01"), "b": pd.Timestamp("2024-02-27")}
    assert set(padded.groupby(ITEM_ID)[TIMESTAMP].min()) == {pd.Timestamp("2024-03-01")}
    b = padded[padded[ITEM_ID] == "b"]
    assert b["mean"].between(15, 25).all()  # from what it sold before, not from unknown steps


def test_when_a_series_ends_early_then_the_console_and_report_lines_say_so() -> None:
    auto = AutoForecaster(horizon=5, models=["SeasonalNaive"], backtest_windows=1).fit(_panel())
    lines = missing_lines(auto.report_.data_summary, ["SeasonalNaive"])
    assert [line for line in lines if "ends 3 steps before" in line] == [
        "1 series ends 3 steps before the panel's last step: each is forecast from its own last "
        'observation; a target backfill forecasts them from the panel\'s end, {"target": {"backfill": '
        '"missing"}} with those steps unknown, {"target": {"backfill": "median"}} with them filled'
    ]


def test_when_a_model_fitted_with_missing_is_loaded_then_newer_history_is_padded_the_same_way(
    tmp_path: Path,
) -> None:
    filling = {"target": {"backfill": "missing"}}
    auto = AutoForecaster(horizon=5, models=["SeasonalNaive"], backtest_windows=1, filling=filling)
    auto.fit(_panel(60, 3)).save(tmp_path / "model")
    newer = _panel(70, 4)  # ten days later, b's last four not recorded
    forecast = AutoForecaster.load(tmp_path / "model").predict(data=newer)
    starts = forecast.groupby(ITEM_ID)[TIMESTAMP].min()
    assert starts.to_dict() == {"a": pd.Timestamp("2024-03-11"), "b": pd.Timestamp("2024-03-11")}
