"""The dashboard's chart helpers (js/charts.js: timestamps to uPlot's epoch seconds, aligning
series on one time axis, covariate spans) and two page helpers, run in Chromium
(`browser.module_call`)."""

from __future__ import annotations

from typing import Any

from browser import chromium_browser, module_call, needs_chromium

browser = chromium_browser


@needs_chromium
def test_when_series_are_aligned_then_timestamps_of_every_form_meet_on_one_axis(browser: Any) -> None:
    got = module_call(
        browser,
        "js/charts.js",
        """{
          epochs: ["2024-02-05", "2024-02-05T00:00:00", "2024-02-05T01:00:00+01:00", "2024-02-05T00:00:00Z"].map(m.epoch),
          aligned: m.align([{x: ["2024-01-02", "2024-01-01"], y: [2, 1]}, {x: ["2024-01-03T00:00:00"], y: [3]}]),
          spans: m.nonZeroSpans([0, 10, 20, 30, 40], [0, 1, 1, null, 1]),
        }""",
    )["value"]
    assert got["epochs"] == [1707091200] * 4
    day = 86400
    assert got["aligned"] == [
        [1704067200, 1704067200 + day, 1704067200 + 2 * day],
        [1, 2, None],
        [None, None, 3],
    ]
    assert got["spans"] == [{"from": 5, "to": 25}, {"from": 35, "to": 45}]


@needs_chromium
def test_a_jobs_page_refreshes_while_the_job_can_still_change(browser: Any) -> None:
    """It refreshed for "Queued" and "Running", a status the service never gives: a job opened
    while InProgress stayed so on the page after it completed."""
    moving = module_call(
        browser,
        "js/pages/jobs.js",
        '["Queued", "InProgress", "Stopping", "Completed", "Failed", "Stopped"].map(m.moving)',
    )
    assert moving == {"value": [True, True, True, False, False, False]}


@needs_chromium
def test_the_explorer_shades_a_flag_at_first_never_a_level_such_as_a_price(browser: Any) -> None:
    """dominicks_oj: the first covariate, price, is non-zero everywhere and shaded the whole chart."""
    shaded = module_call(
        browser,
        "js/pages/explorer.js",
        """(() => {
          const price = {name: "price", values: [2.1, 2.3, null]}, deal = {name: "deal", values: [0, 1, 0]};
          const always = {name: "open", values: [1, 1, 1]}, share = {name: "promo_share", values: [0, 0.5, 1]};
          return [m.shadeFirst([price, deal]), m.shadeFirst([price, always, share]), m.shadeFirst([])];
        })()""",
    )
    assert shaded == {"value": ["deal", "", ""]}
