"""The dashboard's business report page (js/pages/report.js) writes a table's values as the HTML
report does; run under Node.js, where it is installed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tidecast.service.routes.dashboard import ASSETS

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_when_a_report_table_holds_a_forecast_date_then_the_page_shows_the_date_alone() -> None:
    """dominicks_oj's spikes and drops: "peak at" read 1992-09-10T00:00:00 on the page."""
    script = f"""
    const m = await import({json.dumps((ASSETS / "js" / "pages" / "report.js").as_uri())});
    console.log(JSON.stringify(["1992-09-10T00:00:00", "2024-01-05T13:00:00", "s002|b09", null].map(m.cellText)));
    """
    assert NODE is not None
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == ["1992-09-10", "2024-01-05T13:00:00", "s002|b09", "–"]
