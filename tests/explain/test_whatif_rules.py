"""Scenario rules: their shape, their names against a model, and the rows they change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tidecast.errors import ConfigError
from tidecast.scenarios import parse_scenario
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
