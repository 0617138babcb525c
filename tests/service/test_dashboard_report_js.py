"""The dashboard's business report page (js/pages/report.js) writes a table's values as the HTML
report does; its module runs in Chromium (`browser.module_call`)."""

from __future__ import annotations

from typing import Any

from browser import chromium_browser, module_call, needs_chromium

browser = chromium_browser


@needs_chromium
def test_when_a_report_table_holds_a_forecast_date_then_the_page_shows_the_date_alone(browser: Any) -> None:
    """dominicks_oj's spikes and drops: "peak at" read 1992-09-10T00:00:00 on the page."""
    cells = module_call(
        browser,
        "js/pages/report.js",
        '["1992-09-10T00:00:00", "2024-01-05T13:00:00", "s002|b09", null].map(m.cellText)',
    )
    assert cells == {"value": ["1992-09-10", "2024-01-05T13:00:00", "s002|b09", "–"]}
