"""What if on the demo data, with no refit: a promotion switched on for an item that has none
raises its forecast by the generator's promotion lift (within 20%); the ensemble's
explanation combines its members by their weights."""

from __future__ import annotations

import numpy as np
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


def test_when_the_scenario_is_a_replacement_future_then_it_equals_the_same_rule(run) -> None:  # type: ignore[no-untyped-def]
    auto, _, future, _ = run
    item = item_without_promotion(future)
    replaced = future.copy()
    replaced.loc[replaced["item_id"] == item, "promotion"] = 1
    by_rule = whatif(auto, [{"covariate": "promotion", "set": 1, "where": {"item_id": item}}], future=future)
    by_file = whatif(auto, future=future, replacement=replaced)
    assert np.allclose(by_rule.comparison["scenario"], by_file.comparison["scenario"])


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
