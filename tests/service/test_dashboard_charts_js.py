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


@needs_chromium
def test_the_explorer_shades_a_flag_over_the_forecasts_plan_as_one_run_with_the_history(browser: Any) -> None:
    """pasta_promo B1_12: on promotion on 10 of its 14 forecast days, shaded over its history only."""
    got = module_call(
        browser,
        "js/pages/explorer.js",
        """await (async () => {
          const charts = await import("/js/charts.js");
          const days = (first, n) => [...Array(n).keys()].map((i) => `2018-12-${10 + first + i}T00:00:00`);
          const item = {
            history: {timestamp: days(4, 4)},
            covariates: [{name: "promo", role: "known", values: [0, 0, 1, 1]}, {name: "open", role: "known", values: [1, 1, 1, 1]}],
            forecast: {timestamp: days(8, 3)},
            future_covariates: [{name: "promo", role: "known", values: [1, 0, 1]}],
          };
          const old = {...item, future_covariates: undefined};
          const spans = (it, name) => {
            const steps = m.flagSteps(it, name);
            return charts.nonZeroSpans(steps.x.map(charts.epoch), steps.values)
              .map((s) => [s.from, s.to].map((t) => (t - charts.epoch("2018-12-14")) / 86400));
          };
          return {
            promo: m.flagSteps(item, "promo"),
            spans: spans(item, "promo"),
            open: spans(item, "open"),
            old: spans(old, "promo"),
          };
        })()""",
    )["value"]
    assert got["promo"]["values"] == [0, 0, 1, 1, 1, 0, 1]  # the history's, then the plan's
    assert got["promo"]["x"] == [f"2018-12-{d}T00:00:00" for d in range(14, 21)]
    assert got["spans"] == [[1.5, 4.5], [5.5, 6.5]]  # on across the origin (day 3 to 4): one span
    assert got["open"] == [[-0.5, 3.5]]  # no plan for it: over the history only
    assert got["old"] == [[1.5, 3.5]]  # a source without plans: as before
