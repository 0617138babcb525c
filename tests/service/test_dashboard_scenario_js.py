"""The what-if page's helpers (js/scenario.js: a future CSV as rows, the request body, the
chart columns), run in Chromium (`browser.module_call`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser import chromium_browser, module_call, needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> Any:
    """`expression` over js/scenario.js's exports `m`: {"value": ...} or {"error": message}."""
    browser = request.getfixturevalue("browser")
    return lambda expression: module_call(browser, "js/scenario.js", expression)


browser = chromium_browser


def test_when_a_future_csv_is_read_then_numbers_are_numbers_and_quoted_commas_stay(run: Any) -> None:
    text = 'item_id,timestamp,promotion,note\\r\\n"a,1",2024-01-01,1,\\n"b ""x""",2024-01-02,0.5,hi\\n\\n'
    assert run(f"m.parseCsv('{text}')") == {
        "value": [
            {"item_id": "a,1", "timestamp": "2024-01-01", "promotion": 1},
            {"item_id": 'b "x"', "timestamp": "2024-01-02", "promotion": 0.5, "note": "hi"},
        ]
    }
    assert run("m.parseCsv('a,b\\n1')") == {"error": "line 2 of the future file has 1 fields, the header 2"}


def test_when_the_form_is_sent_then_the_body_is_the_apis_and_mistakes_are_named(run: Any) -> None:
    body = run("m.requestBody(' a, b ,', [{item_id: 'a'}], '[{\"covariate\": \"promotion\", \"set\": 1}]')")
    assert body == {
        "value": {
            "item_ids": ["a", "b"],
            "rules": [{"covariate": "promotion", "set": 1}],
            "future": [{"item_id": "a"}],
        }
    }
    assert run("m.requestBody('', [], '[]')") == {"error": "name at least one item"}
    assert run("m.requestBody('a', [], '{nope')")["error"].startswith("the rules are not JSON")  # type: ignore[index]
    own = run("JSON.parse(m.exampleRules(['deal', 'feat'], 4))")  # a 4-week model has no step 7
    assert own == {
        "value": {
            "name": "deal, steps 1-4",
            "rules": [{"covariate": "deal", "set": 1, "where": {"step": {"to": 4}}}],
        }
    }
    daily = run("JSON.parse(m.exampleRules(['promo'], 14))")
    assert daily["value"]["rules"][0]["where"] == {"step": {"to": 7}}
    example = run("JSON.parse(m.EXAMPLE_RULES)")
    assert example == {
        "value": {
            "name": "promotion, steps 1-7",
            "rules": [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 7}}}],
        }
    }


def test_when_an_answer_is_drawn_then_baseline_and_scenario_share_the_timestamps(run: Any) -> None:
    item = {"timestamps": ["2024-01-01", "2024-01-02"], "baseline": [1, 2], "scenario": [1, 3]}
    columns = run(f"m.comparisonColumns({json.dumps(item)}).map((c) => [c.key, c.x, c.y])")
    assert columns == {
        "value": [["baseline", item["timestamps"], [1, 2]], ["scenario", item["timestamps"], [1, 3]]]
    }
