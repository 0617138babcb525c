"""The dashboard's business report page (js/pages/report.js) writes a table's values as the HTML
report does. Its module runs in Chromium, served from the package's assets by the page's own
request routing (no server)."""

from __future__ import annotations

import json
from typing import Any

from browser import chromium_browser, needs_chromium

from tidecast.service.routes.dashboard import ASSETS

browser = chromium_browser
ORIGIN = "http://dashboard.test"


def module_call(browser: Any, module: str, expression: str) -> Any:
    """`expression` (over the module's exports, `m`) evaluated in a page that imports the
    dashboard module at `module` (relative to the assets) and what it imports."""

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN + "/")
        if not path:
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")
        elif (ASSETS / path).is_file():
            route.fulfill(status=200, content_type="text/javascript", body=(ASSETS / path).read_text())
        else:
            route.fulfill(status=404, body="")

    page = browser.new_page()
    try:
        page.route(ORIGIN + "/**", serve)
        page.goto(ORIGIN + "/")
        return page.evaluate(
            f"async () => {{ const m = await import({json.dumps('/' + module)}); return {expression}; }}"
        )
    finally:
        page.close()


@needs_chromium
def test_when_a_report_table_holds_a_forecast_date_then_the_page_shows_the_date_alone(browser: Any) -> None:
    """dominicks_oj's spikes and drops: "peak at" read 1992-09-10T00:00:00 on the page."""
    cells = module_call(
        browser,
        "js/pages/report.js",
        '["1992-09-10T00:00:00", "2024-01-05T13:00:00", "s002|b09", null].map(m.cellText)',
    )
    assert cells == ["1992-09-10", "2024-01-05T13:00:00", "s002|b09", "–"]
