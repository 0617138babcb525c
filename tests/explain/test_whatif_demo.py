"""What if on the demo data, with no refit: a promotion switched on for an item that has none
raises its forecast by the generator's promotion lift (within 20%); the ensemble's
explanation combines its members by their weights."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from explain_data import HORIZON, demo, demo_forecaster

from tidecast.errors import ConfigError, DataError
from tidecast.explain import explain
from tidecast.models.catalog import make_model
from tidecast.scenarios import whatif


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    data, future, lift = demo()
    return demo_forecaster(["DynamicRegression"]).fit(data), data, future, lift


def item_without_promotion(future) -> str:  # type: ignore[no-untyped-def]
    totals = future.groupby("item_id")["promotion"].sum()
    return str(totals[totals == 0].index[0])


def test_when_a_promotion_is_switched_on_for_an_item_that_has_none_then_it_adds_the_lift(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, lift = run
    item = item_without_promotion(future)
    answer = whatif(auto, [{"covariate": "promotion", "set": 1, "where": {"item_id": item}}], future=future)
    assert answer.rules == [{"rule": 0, "covariate": "promotion", "matched": HORIZON, "changed": HORIZON}]
    rows = answer.comparison.merge(lift, on=["item_id", "timestamp"])
    mine = rows[rows["item_id"] == item]
    ratio = mine["difference"] / mine["lift"]
    assert ratio.between(0.8, 1.2).all(), mine[["timestamp", "difference", "lift"]]
    others = rows[rows["item_id"] != item]
    assert np.all(others["difference"] == 0)
    assert np.allclose(mine["percent"], 100 * mine["difference"] / mine["baseline"])
    assert abs(answer.total["difference"] - mine["difference"].sum()) < 1e-6


def test_when_one_day_is_promoted_then_that_day_takes_the_lift(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, lift = run
    item = item_without_promotion(future)
    answer = whatif(
        auto,
        {"rules": [{"covariate": "promotion", "set": 1, "where": {"item_id": item, "step": 5}}]},
        future=future,
        items=[item],
    )
    rows = answer.comparison.merge(lift, on=["item_id", "timestamp"])
    assert len(rows) == HORIZON
    day = rows[rows["step"] == 5].iloc[0]
    assert 0.8 < day["difference"] / day["lift"] < 1.2
    assert rows.loc[rows["step"] != 5, "difference"].abs().max() < 0.1 * day["lift"]  # the windows around it


def test_when_a_promoted_item_is_dormant_then_it_stays_zero_and_the_notes_say_why(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The demo has no dormant item: one is declared at forecast time (the rule's one lookup),
    # as if it had sold nothing for a year; a promotion cannot lift its 0.
    import tidecast.automl.dormant as dormant

    auto, _, future, _ = run
    item = item_without_promotion(future)
    days = future.groupby("item_id")["promotion"].sum()
    other = str(days[(days < HORIZON) & (days.index != item)].index[0])  # a live item the rule changes
    monkeypatch.setattr(dormant, "dormant_items", lambda history, steps: np.array([item], dtype=object))
    rules = [{"covariate": "promotion", "set": 1, "where": {"item_id": [item, other]}}]
    answer = whatif(auto, rules, future=future)
    rows = answer.comparison
    assert (rows.loc[rows["item_id"] == item, ["baseline", "scenario"]].to_numpy() == 0).all()
    assert rows.loc[rows["item_id"] == other, "difference"].sum() > 0  # the live item responds
    assert len(answer.notes) == 1 and answer.notes[0].startswith(
        f"dormant, so 0 whatever the scenario: {item} (1 of the items"
    )
    assert "their last 365 steps" in answer.notes[0] and "zero_dormant=False" in answer.notes[0]
    # An item the scenario leaves alone is not named, dormant or not.
    untouched = whatif(
        auto, [{"covariate": "promotion", "set": 1, "where": {"item_id": other}}], future=future
    )
    assert untouched.notes == []


def test_when_the_scenario_is_a_replacement_future_then_it_equals_the_same_rule(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    item = item_without_promotion(future)
    replaced = future.copy()
    replaced.loc[replaced["item_id"] == item, "promotion"] = 1
    by_rule = whatif(auto, [{"covariate": "promotion", "set": 1, "where": {"item_id": item}}], future=future)
    by_file = whatif(auto, future=future, replacement=replaced)
    assert np.allclose(by_rule.comparison["scenario"], by_file.comparison["scenario"])


def test_when_a_rule_matches_nothing_then_a_note_says_so_and_nothing_moves(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    rules = [
        {"covariate": "promotion", "set": 1, "where": {"item_id": "no_such_item"}},
        {"covariate": "promotion", "set": 1, "where": {"date": {"from": "2030-01-01", "to": "2030-01-31"}}},
    ]
    answer = whatif(auto, rules, future=future)
    assert [r["matched"] for r in answer.rules] == [0, 0]
    assert np.all(answer.comparison["difference"] == 0)
    first, last = future["timestamp"].min().isoformat(), future["timestamp"].max().isoformat()
    items = future["item_id"].nunique()
    assert answer.notes == [
        f"rules[{k}] (promotion) matched nothing: none of the forecast's {items} items and steps "
        f"from {first} to {last} meets its conditions"
        for k in (0, 1)
    ]


def test_when_the_inputs_are_wrong_then_the_errors_name_them(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    with pytest.raises(DataError, match="unknown items"):
        whatif(auto, [{"covariate": "promotion", "set": 1}], future=future, items=["nope"])
    with pytest.raises(ConfigError, match="'price' is not a known covariate"):
        whatif(auto, [{"covariate": "price", "multiply": 0.9}], future=future)
    with pytest.raises(DataError, match="baseline future covariates are needed"):
        whatif(auto, [{"covariate": "promotion", "set": 1}])
    with pytest.raises(ConfigError, match="not both or neither"):
        whatif(auto, future=future)


def test_when_chosen_items_have_a_short_future_then_the_error_names_their_missing_steps(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    item = item_without_promotion(future)
    short = future[future["timestamp"] < future["timestamp"].min() + pd.Timedelta(days=7)]
    missing = f"missing for 1 item .*the future's rows of {re.escape(repr(item))} run"
    with pytest.raises(DataError, match=missing) as raised:
        explain(auto, future=short, items=[item])
    assert "the data does not have" not in str(raised.value)  # the other items' rows: not chosen
    with pytest.raises(DataError, match=missing):
        whatif(auto, future=future, replacement=short, items=[item])


def test_when_an_ensemble_is_explained_then_members_combine_by_their_weights(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    naive = make_model("SeasonalNaive", "D")
    naive.fit(auto.history_, auto.spec_, HORIZON)
    auto.members_ = {**auto.members_, "SeasonalNaive": naive}
    auto.weights_ = {"DynamicRegression": 0.75, "SeasonalNaive": 0.25}
    try:
        explanation = explain(auto, future=future, items=[item_without_promotion(future)])
    finally:
        auto.weights_ = {"DynamicRegression": 1.0}
    assert explanation.methods == {"DynamicRegression": "exact", "SeasonalNaive": "ablation"}
    assert explanation.additivity_error() < 1e-6
    table = explanation.contributions.groupby("feature")["contribution"].sum()
    naive_mean = naive.predict(auto.history_[auto.history_["item_id"] == explanation.forecast["item_id"][0]])
    assert np.isclose(table["model baseline"], 0.25 * naive_mean["mean"].sum())


def test_when_the_run_has_a_holiday_calendar_then_each_holiday_is_a_feature() -> None:
    data, future, _ = demo(3)
    auto = demo_forecaster(["DynamicRegression"])
    auto.holidays = "US"
    auto.fit(data)
    explanation = explain(auto, future=future)
    assert explanation.additivity_error() < 1e-6
    holidays = explanation.contributions.query("kind == 'holiday'")
    assert holidays["feature"].str.startswith("holiday: ").all() and len(holidays)
    new_year = holidays[holidays["timestamp"] == "2024-01-01"]
    assert new_year["contribution"].abs().sum() > 0


def test_when_newer_history_is_given_then_the_explanation_starts_from_it(run) -> None:  # type: ignore[no-untyped-def]
    auto, data, future, _ = run
    cut = data["timestamp"].max() - np.timedelta64(7, "D")
    newer = data[data["timestamp"] <= cut]
    later = data[data["timestamp"] > cut][["item_id", "timestamp", "promotion", "is_holiday"]]
    ahead = pd.concat([later, future], ignore_index=True)  # the 14 days after the newer history
    explanation = explain(auto, data=newer, future=ahead, items=["electronics_laptop_East"])
    assert explanation.forecast["timestamp"].min() == cut + np.timedelta64(1, "D")
    assert explanation.additivity_error() < 1e-6


def test_when_the_model_reads_no_covariates_then_all_is_its_baseline_and_no_scenario_runs() -> None:
    from tidecast import AutoForecaster

    data, _, _ = demo(2)
    auto = AutoForecaster(
        horizon=HORIZON,
        frequency="D",
        models=["SeasonalNaive"],
        backtest_windows=1,
        target_col="target_value",
        n_jobs=1,
    ).fit(data[["item_id", "timestamp", "target_value"]])
    explanation = explain(auto)
    assert explanation.methods == {"SeasonalNaive": "ablation"}
    assert set(explanation.contributions["feature"]) == {"model baseline"}
    assert explanation.additivity_error() < 1e-9
    with pytest.raises(ConfigError, match="uses no known covariates"):
        whatif(auto, [{"covariate": "promotion", "set": 1}], future=pd.DataFrame())
