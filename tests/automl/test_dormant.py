"""Dormant items: a series with no sale over its last cycle is forecast 0 by every model."""

import numpy as np
import pandas as pd

from tidecast import AutoForecaster
from tidecast.automl.dormant import dormant_items, dormant_note, dormant_steps, zero_dormant
from tidecast.data.arrays import SeriesArrays

HORIZON = 7


def arrays(series: dict[str, list[float]], freq: str = "D") -> SeriesArrays:
    frames = [
        pd.DataFrame(
            {
                "item_id": item,
                "timestamp": pd.date_range("2024-01-01", periods=len(v), freq=freq),
                "target": v,
            }
        )
        for item, v in series.items()
    ]
    return SeriesArrays.from_panel(pd.concat(frames, ignore_index=True), freq, (), ())


def test_the_dormant_window_is_a_year_or_four_weeks_below_a_day_and_at_least_two_horizons():
    assert dormant_steps("D", 14) == 365
    assert dormant_steps("W-SUN", 4) == 52
    assert dormant_steps("h", 48) == 672  # four weeks of hours: a month's renovation is no stop
    assert dormant_steps("h", 400) == 800
    assert dormant_steps("15min", 4) == 4 * 672
    assert dormant_steps("MS", 18) == 36
    assert dormant_steps("YS", 4) == 8


def test_when_nothing_sold_over_the_window_then_the_item_is_dormant_and_not_otherwise():
    steps = 10
    history = arrays(
        {
            "stopped": [50.0] * 20 + [0.0] * 9 + [-3.0],  # a return is no sale
            "sold_once": [50.0] * 20 + [0.0] * 9 + [1.0],
            "young": [0.0] * 9,  # shorter than the window: too young to tell
            "gap": [50.0] * 20 + [0.0] * 4 + [np.nan] * 6,  # 4 of 10 observed: a gap says nothing
            "half_seen": [50.0] * 20 + [0.0] * 5 + [np.nan] * 5,  # 5 of 10 observed, none sold
            "sold_before_window": [0.0] * 5 + [7.0] + [0.0] * 10,  # the sale is 11 steps back
        }
    )
    assert sorted(dormant_items(history, steps)) == ["half_seen", "sold_before_window", "stopped"]
    # One step more and each of the three has a sale in its window (the 11th step back).
    assert dormant_items(history, 11).tolist() == []


def test_a_dormant_items_forecast_rows_are_zero_and_the_others_untouched():
    history = arrays({"dead": [9.0] * 400 + [0.0] * 365, "alive": [9.0] * 765})
    forecast = pd.DataFrame(
        {
            "item_id": ["dead"] * 2 + ["alive"] * 2,
            "timestamp": pd.Timestamp("2026-01-01"),
            "mean": [5.0, 6.0, 9.0, 9.5],
            "p10": [1.0, 2.0, 8.0, 8.5],
            "p90": [9.0, 9.0, 10.0, 10.5],
        }
    )
    out = zero_dormant(forecast, history, HORIZON)
    assert out[["mean", "p10", "p90"]].to_numpy().tolist() == [
        [0, 0, 0],
        [0, 0, 0],
        [9, 8, 10],
        [9.5, 8.5, 10.5],
    ]
    assert forecast["mean"].tolist() == [5.0, 6.0, 9.0, 9.5]  # the input is not changed
    assert dormant_note(history, HORIZON) == [
        "dormant items: 1 sold nothing over its last 365 steps (dead); every model forecasts 0 for it"
    ]


def test_when_an_item_stopped_selling_long_ago_then_the_automl_forecasts_it_zero_and_scores_so():
    # A product launched at 300,000 a day that faded out within months and has sold nothing
    # for over two years, beside two that still sell a yearly cycle. Without the rule the
    # dynamic regression took the launch for a season (backtest wQL 3.2 on the last window,
    # p90 8,533 for the dead item) and lost to SeasonalNaive, which is far worse on the others.
    n = 1080
    days = pd.date_range("2021-01-01", periods=n, freq="D")
    t = np.arange(n)
    dead = np.where(t < 250, 300_000 * np.exp(-t / 40.0), 0.0).round(0)
    cycle = 1000 + 300 * np.sin(2 * np.pi * t / 365.25) + 100 * (t % 7 == 5)
    frames = [pd.DataFrame({"item_id": "dead", "timestamp": days, "target": dead})]
    frames += [
        pd.DataFrame({"item_id": f"live{i}", "timestamp": days, "target": cycle * (1 + i)}) for i in range(2)
    ]
    auto = AutoForecaster(horizon=14, models=["SeasonalNaive", "DynamicRegression"], n_jobs=1)
    forecast = auto.fit(pd.concat(frames, ignore_index=True)).predict()
    gone = forecast[forecast["item_id"] == "dead"]
    assert len(gone) == 14 and (gone[["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()
    assert auto.report_.best == "DynamicRegression"  # scored with the rule, it wins
    assert (forecast.loc[forecast["item_id"] == "live0", "p50"] > 500).all()
    assert any(
        note.startswith("dormant items: 1 sold nothing over its last 365") for note in auto.report_.notes
    )
    board = auto.backtest_forecasts()
    assert (board.loc[board["item_id"] == "dead", ["mean", "p10", "p50", "p90"]].to_numpy() == 0).all()


def test_when_the_rule_is_switched_off_then_the_models_forecast_stands_and_no_note_is_made():
    n = 1080
    days = pd.date_range("2021-01-01", periods=n, freq="D")
    t = np.arange(n)
    dead = np.where(t < 250, 300_000 * np.exp(-t / 40.0), 0.0).round(0)
    panel = pd.DataFrame({"item_id": "dead", "timestamp": days, "target": dead})
    on = AutoForecaster(horizon=14, models=["DynamicRegression"], n_jobs=1).fit(panel)
    off = AutoForecaster(horizon=14, models=["DynamicRegression"], n_jobs=1, zero_dormant=False).fit(panel)
    assert (on.predict()[["p50", "p90"]].to_numpy() == 0).all()
    assert off.predict()["p90"].max() > 1000  # the launch read as a yearly season
    assert not any(note.startswith("dormant items") for note in off.report_.notes)


def test_a_dormant_items_explanation_adds_up_to_its_zero_forecast_through_a_dormant_adjustment(monkeypatch):
    # The members' mean is often 0 already for a long-dead item; to see the accounting, a
    # selling item is declared dormant at forecast time and its explanation must still add
    # up to the forecast (0), the members' part taken away by a "dormant item" adjustment.
    import tidecast.automl.dormant as dormant
    from tidecast.explain import explain

    days = pd.date_range("2023-01-01", periods=400, freq="D")
    t = np.arange(400)
    panel = pd.concat(
        [
            pd.DataFrame({"item_id": item, "timestamp": days, "target": level + 10.0 * (t % 7)})
            for item, level in (("a", 100.0), ("b", 500.0))
        ],
        ignore_index=True,
    )
    auto = AutoForecaster(horizon=7, models=["DynamicRegression"], n_jobs=1).fit(panel)
    declared = lambda history, steps: np.array(["b"], dtype=object)  # noqa: E731
    monkeypatch.setattr(dormant, "dormant_items", declared)  # the forecast's and explain's
    explanation = explain(auto)
    parts = explanation.contributions
    sums = parts.groupby(["item_id", "timestamp"])["contribution"].sum()
    forecast = explanation.forecast.set_index(["item_id", "timestamp"])["mean"]
    np.testing.assert_allclose(sums.loc[forecast.index].to_numpy(), forecast.to_numpy(), atol=1e-6)
    assert (forecast.loc["b"] == 0).all() and (forecast.loc["a"] > 50).all()
    rule = parts[parts["feature"] == "dormant item"]
    by_item = rule.groupby("item_id")["contribution"]
    assert (by_item.max().loc["a"] == 0) and (rule.loc[rule["item_id"] == "b", "contribution"] < -400).all()
