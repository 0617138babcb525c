"""The what-if page's helpers (js/scenario.js: a future CSV as rows, the request body, the
chart columns) run under Node.js, where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tidecast.service.routes.dashboard import ASSETS

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def run(expression: str) -> object:
    script = f"""
    const m = await import({json.dumps((ASSETS / "js" / "scenario.js").as_uri())});
    let out;
    try {{ out = {{ value: {expression} }}; }} catch (error) {{ out = {{ error: error.message }}; }}
    console.log(JSON.stringify(out));
    """
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_when_a_future_csv_is_read_then_numbers_are_numbers_and_quoted_commas_stay() -> None:
    text = 'item_id,timestamp,promotion,note\\r\\n"a,1",2024-01-01,1,\\n"b ""x""",2024-01-02,0.5,hi\\n\\n'
    assert run(f"m.parseCsv('{text}')") == {
        "value": [
            {"item_id": "a,1", "timestamp": "2024-01-01", "promotion": 1},
            {"item_id": 'b "x"', "timestamp": "2024-01-02", "promotion": 0.5, "note": "hi"},
        ]
    }
    assert run("m.parseCsv('a,b\\n1')") == {"error": "line 2 of the future file has 1 fields, the header 2"}


def test_when_the_form_is_sent_then_the_body_is_the_apis_and_mistakes_are_named() -> None:
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
    own = run("JSON.parse(m.exampleRules(['deal', 'feat']))")
    assert own == {
        "value": {
            "name": "deal week",
            "rules": [{"covariate": "deal", "set": 1, "where": {"step": {"to": 7}}}],
        }
    }
    example = run("JSON.parse(m.EXAMPLE_RULES)")
    assert example == {
        "value": {
            "name": "promotion week",
            "rules": [{"covariate": "promotion", "set": 1, "where": {"step": {"to": 7}}}],
        }
    }


def test_when_an_answer_is_drawn_then_baseline_and_scenario_share_the_timestamps() -> None:
    item = {"timestamps": ["2024-01-01", "2024-01-02"], "baseline": [1, 2], "scenario": [1, 3]}
    columns = run(f"m.comparisonColumns({json.dumps(item)}).map((c) => [c.key, c.x, c.y])")
    assert columns == {
        "value": [["baseline", item["timestamps"], [1, 2]], ["scenario", item["timestamps"], [1, 3]]]
    }
