"""Scenario rules: their shape, their names against a model, and the rows they change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from explain_data import by_store_and_dept, hand_panel

from tidecast.automl.forecaster import AutoForecaster
from tidecast.errors import ConfigError
from tidecast.scenarios import parse_scenario, whatif
from tidecast.scenarios.apply import apply_scenario
from tidecast.scenarios.rules import check_scenario

DAYS = pd.date_range("2024-01-01", periods=10, freq="D")


def future() -> pd.DataFrame:
    """Three items x 10 days: a promotion flag, a price, a text display."""
    items = ["a", "b", "c"]
    return pd.DataFrame(
        {
            "item_id": np.repeat(items, len(DAYS)),
            "timestamp": np.tile(DAYS, len(items)),
            "promotion": np.zeros(3 * len(DAYS), dtype=np.int8),
            "price": np.tile(np.arange(10.0, 20.0), 3),
            "display": "none",
        }
    )


ATTRIBUTES = pd.DataFrame(
    {"category": ["electronics", "books", "electronics"], "size": [1, 5, 9]}, index=["a", "b", "c"]
)


def apply(rules: list[dict]) -> tuple[pd.DataFrame, list[dict]]:
    scenario = parse_scenario(rules)
    check_scenario(scenario, ("promotion", "price", "display"), ATTRIBUTES.columns, "item_id", 10)
    return apply_scenario(scenario, future(), ATTRIBUTES, "item_id")


def test_when_a_promotion_is_set_for_a_category_in_the_first_week_then_only_those_rows_change() -> None:
    out, counts = apply(
        [
            {
                "covariate": "promotion",
                "set": 1,
                "where": {"category": "electronics", "date": {"to": "2024-01-07"}},
            }
        ]
    )
    changed = out[out["promotion"] == 1]
    assert sorted(changed["item_id"].unique()) == ["a", "c"]
    assert changed["timestamp"].max() == pd.Timestamp("2024-01-07") and len(changed) == 14
    assert counts == [{"rule": 0, "covariate": "promotion", "matched": 14, "changed": 14}]


def test_when_rules_follow_each_other_then_each_sees_the_last_ones_result() -> None:
    out, counts = apply(
        [
            {"covariate": "price", "multiply": 0.9, "where": {"size": {"ge": 5}}},
            {"covariate": "price", "add": -1, "where": {"step": {"from": 9}, "price": {"lt": 17}}},
            {"covariate": "display", "set": "end cap", "where": {"item_id": ["b"], "step": [1, 2]}},
        ]
    )
    price = out["price"].to_numpy().reshape(3, 10)
    base = np.arange(10.0, 20.0)
    assert np.allclose(price[0], base)  # size 1
    expected = base * 0.9
    expected[8:] = np.where(expected[8:] < 17, expected[8:] - 1, expected[8:])  # 16.2 -> 15.2, 17.1 stays
    assert np.allclose(price[1], expected) and np.allclose(price[2], expected)
    assert out.loc[out["display"] == "end cap", "timestamp"].tolist() == list(DAYS[:2])
    assert [c["changed"] for c in counts] == [20, 2, 2]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"covariate": "stock", "set": 1}], "'stock' is not a known covariate of the model; it knows"),
        (
            [{"covariate": "promotion", "set": 1, "where": {"colour": "red"}}],
            "rules[0].where.colour: not an item attribute",
        ),
        (
            [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 11}}}],
            "the horizon has 10 steps, got [11]",
        ),
        (
            [{"covariate": "display", "multiply": 2}],
            "multiply needs a numeric covariate; 'display' holds text",
        ),
        ([{"covariate": "price", "set": "cheap"}], "'price' is numeric, got the text 'cheap'"),
        ([{"covariate": "price", "set": 1, "where": {"category": {"gt": "b"}}}], "gt compares numbers"),
    ],
)
def test_when_a_rule_names_what_the_model_lacks_then_the_error_says_so(
    rules: list[dict], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        apply(rules)
    assert message in str(info.value)


def test_when_rules_are_read_from_toml_or_json_then_they_are_the_same(tmp_path) -> None:
    (tmp_path / "r.toml").write_text(
        'name = "promo"\n[[rules]]\ncovariate = "promotion"\nset = 1\nwhere = {category = "books", step = {to = 3}}\n'
    )
    (tmp_path / "r.json").write_text(
        '{"name": "promo", "rules": [{"covariate": "promotion", "set": 1, "where": {"category": "books", "step": {"to": 3}}}]}'
    )
    assert parse_scenario(tmp_path / "r.toml") == parse_scenario(str(tmp_path / "r.json"))
    (tmp_path / "bad.json").write_text("{rules: ")
    with pytest.raises(ConfigError, match=r"bad\.json is not valid JSON"):
        parse_scenario(tmp_path / "bad.json")


def test_when_a_rule_has_no_action_or_two_then_parsing_says_which() -> None:
    with pytest.raises(
        ConfigError, match=r"rules\[0\]: give exactly one of set, add, multiply \(got set, add\)"
    ):
        parse_scenario([{"covariate": "price", "set": 1, "add": 2}])
    with pytest.raises(ConfigError, match=r"where.step: steps are whole numbers from 1"):
        parse_scenario([{"covariate": "price", "add": 2, "where": {"step": 0}}])


STORE_DEPT = "Store,Dept"


def store_future() -> pd.DataFrame:
    """Departments 1 and 2 of store 1 and department 1 of store 2 (ids "store|dept"), 3 days."""
    items = ["1|1", "1|2", "2|1"]
    return pd.DataFrame(
        {
            "item_id": np.repeat(items, 3),
            "timestamp": np.tile(DAYS[:3], len(items)),
            "promotion": np.zeros(3 * len(items), dtype=np.int8),
        }
    )


@pytest.mark.parametrize(
    "where",
    [{"Store": 1}, {"Store": "1"}, {"Store": [1]}, {"Store": {"lt": 2}}, {STORE_DEPT: ["1|1", "1|2"]}],
)
def test_when_a_rule_names_a_part_of_a_composite_item_key_then_it_reads_each_items_part(
    where: dict,
) -> None:
    scenario = parse_scenario([{"covariate": "promotion", "set": 1, "where": where}])
    attributes = pd.DataFrame(index=["1|1", "1|2", "2|1"])
    check_scenario(scenario, ("promotion",), attributes.columns, STORE_DEPT, 3)
    out, counts = apply_scenario(scenario, store_future(), attributes, STORE_DEPT)
    promoted = out.groupby("item_id")["promotion"].sum().to_dict()
    assert promoted == {"1|1": 3, "1|2": 3, "2|1": 0}
    assert counts == [{"rule": 0, "covariate": "promotion", "matched": 6, "changed": 6}]


def test_when_a_rule_names_a_column_outside_a_composite_key_then_the_error_lists_its_parts() -> None:
    scenario = parse_scenario([{"covariate": "promotion", "set": 1, "where": {"Shelf": 1}}])
    with pytest.raises(ConfigError, match=r"rules\[0\]\.where\.Shelf: not an item attribute") as info:
        check_scenario(scenario, ("promotion",), (), STORE_DEPT, 3)
    assert "['Dept', 'Store', 'Store,Dept', 'date', 'promotion', 'step']" in str(info.value)


def test_when_a_model_keyed_by_store_and_dept_is_asked_about_one_store_then_only_its_items_move() -> None:
    history, future = (by_store_and_dept(f) for f in hand_panel(items=4, days=120, horizon=7))
    auto = AutoForecaster(
        horizon=7,
        frequency="D",
        preset="fast",
        models=["DynamicRegression"],
        backtest_windows=1,
        target_col="target",
        item_col=STORE_DEPT,
        known_covariates=["promotion", "price"],
        n_jobs=1,
    ).fit(history)
    answer = whatif(auto, [{"covariate": "price", "add": 5, "where": {"Store": 1}}], future=future)
    moved = answer.items.set_index(["Store", "Dept"])["difference"]  # the user's key columns
    assert (moved.loc[1] < 0).all() and (moved.loc[2] == 0).all()
    assert answer.rules == [{"rule": 0, "covariate": "price", "matched": 14, "changed": 14}]


def _switched() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Item a over three days: promo switched on for the first two, the forecast +2 then -1."""
    from tidecast.scenarios.whatif import BASELINE, DIFFERENCE, PERCENT

    days = pd.date_range("2024-01-01", periods=3, freq="D")
    rows = pd.DataFrame(
        {
            "item_id": "a",
            "timestamp": days,
            BASELINE: 10.0,
            DIFFERENCE: [2.0, -1.0, 0.0],
            PERCENT: [20.0, -10.0, 0.0],
        }
    )
    baseline = pd.DataFrame({"item_id": "a", "timestamp": days, "promo": [0, 0, 1]})
    return rows, baseline, baseline.assign(promo=1)


def test_a_flag_switched_on_whose_forecast_falls_against_its_lift_is_noted() -> None:
    from tidecast.coldstart.lifts import Lifts
    from tidecast.scenarios.whatif import against_lifts

    rows, baseline, changed = _switched()
    (note,) = against_lifts(rows, baseline, changed, Lifts({"promo": 2.0}))
    assert note.startswith("promo: switched on 2 and off 0 (item, step) rows")
    assert "multiplying sales by 2.00, but the forecast moved the other way on 1 of them" in note
    assert "(e.g. a on 2024-01-02, -10.0%)" in note
    # a flag that lowers sales (0.5) is against where the forecast rose
    (lowering,) = against_lifts(rows, baseline, changed, Lifts({"promo": 0.5}))
    assert "(e.g. a on 2024-01-01, +20.0%)" in lowering
    # no lift known, or every row moving its way: nothing to say
    assert against_lifts(rows, baseline, changed, Lifts()) == []
    assert (
        against_lifts(rows.assign(difference=[2.0, 1.0, 0.0]), baseline, changed, Lifts({"promo": 2.0})) == []
    )
