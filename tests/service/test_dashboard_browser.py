"""The dashboard in headless Chromium (Debian's package, driven by Playwright) against the real
service: ``python -m tidecast.service.server`` on 127.0.0.1 with one job worker, after a small
training job with covariates was submitted over HTTP, completed, approved and deployed.

The browser asks for the admin key, then visits every page on a laptop-sized and a phone-sized
screen without a console error; searching an item renders its chart (a canvas of non-zero
size). Each page's screenshot is saved in the test's tmp folder. Monitoring and alerts are not
part of this service yet, so their pages must say so instead of failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Console, chromium_browser, needs_chromium, search_item, signed_in, visit
from test_e2e_http import Service, completed_job, create_key

from tidecast.data.demo import future_covariates, generate

HORIZON = 7
PAGES = ["jobs", "models", "explorer", "accuracy", "drift", "alerts", "report", "whatif"]
SCREENS = {"laptop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 760}}

__all__ = ["chromium_browser"]  # the `browser` fixture
pytestmark = [
    pytest.mark.timeout(300),
    needs_chromium,
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A running service whose job trained `demo` on three items with promotions, deployed as `shop`."""
    home = tmp_path_factory.mktemp("dashboard")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_DATA_ROOT=str(home))  # the jobs read sales.csv from here
    service = Service(home=home, env=env)
    try:
        service.admin = create_key(env, "ops", "admin")
        service.start()
        data = generate(n_items=3)
        data.to_csv(home / "sales.csv", index=False)
        future_covariates(n_items=3, horizon=HORIZON).to_csv(home / "future.csv", index=False)
        body = {
            "name": "dashboard-demo",
            "data": str(home / "sales.csv"),
            "future": str(home / "future.csv"),
            "horizon": HORIZON,
            "frequency": "D",
            "models": ["Naive", "SeasonalNaive"],
            "backtest_windows": 2,
            "columns": {"target": "target_value"},
            "covariates": {"known": ["promotion", "is_holiday"], "static": ["category", "region"]},
            "model_group": "demo",
        }
        completed_job(service, body, timeout=120)
        assert service.call("POST", "/v1/models/demo/versions/1/approve").status_code == 200
        deployed = service.call("POST", "/v1/endpoints", json={"name": "shop", "group": "demo"})
        assert deployed.status_code == 201, deployed.text
        service.facts["items"] = sorted(data["item_id"].unique())
        yield service
    finally:
        service.stop()


def open_dashboard(browser: Any, service: Service, screen: str) -> tuple[Any, Any, Console]:
    """A fresh tab on /dashboard, past the key form."""
    return signed_in(browser, service.url, service.admin, SCREENS[screen])


@pytest.mark.parametrize("screen", list(SCREENS))
def test_when_each_page_is_visited_then_it_renders_without_console_errors(
    service: Service, browser: Any, screen: str, tmp_path: Path
) -> None:
    context, page, console = open_dashboard(browser, service, screen)
    try:
        headings, texts = {}, {}
        for name in PAGES:
            visit(page, f"{service.url}/dashboard/#/{name}")
            headings[name] = page.locator("h1").first.inner_text()
            texts[name] = page.locator("#main").inner_text()
            page.screenshot(path=str(tmp_path / f"{screen}-{name}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= SCREENS[screen]["width"], f"{name} is {width}px wide on a {screen}"
    finally:
        context.close()
    assert console.errors == []
    assert headings["jobs"] == "Jobs" and headings["report"] == "Business report"
    # The service offers monitoring, and no actuals have arrived: each page says so.
    empty = ("No monitoring data yet", "No actuals after the training data yet", "have actuals yet")
    pages = {n: texts[n] for n in ("accuracy", "drift")}
    assert all(any(e in text for e in empty) for text in pages.values()), pages
    assert "No alerts have fired" in texts["alerts"]
    assert "Inventory guidance" in texts["report"] and "Forecast total by region" in texts["report"]
    assert "Leaderboard of demo:1" in texts["models"] and "SeasonalNaive" in texts["models"]
    assert headings["whatif"] == "What if" and "Rules (JSON)" in texts["whatif"]
    assert all((tmp_path / f"{screen}-{n}.png").stat().st_size > 5_000 for n in PAGES)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_when_an_item_is_searched_then_its_chart_renders(
    service: Service, browser: Any, screen: str, tmp_path: Path
) -> None:
    item = service.facts["items"][1]
    context, page, console = open_dashboard(browser, service, screen)
    try:
        search_item(page, service.url, "shop", item[:8], item)
        box = page.locator("#item-chart canvas").first.bounding_box()
        title = page.locator("#item-title").inner_text()
        legend = page.locator("#item-chart .u-legend .u-label").all_inner_texts()
        marked = page.locator("#covariate").input_value()
        page.screenshot(path=str(tmp_path / f"{screen}-explorer-item.png"), full_page=True)
    finally:
        context.close()
    assert console.errors == []
    assert title == item
    assert box is not None and box["width"] > 250 and box["height"] > 200
    assert box["width"] <= SCREENS[screen]["width"]
    assert {"history", "forecast", "p10", "p90", "backtest"} <= set(legend)
    assert marked == "promotion"  # the first 0/1 flag (on some steps, off others) is shaded


def test_when_the_item_in_the_address_is_unknown_then_the_search_stays_to_find_another(
    service: Service, browser: Any
) -> None:
    """A stale link replaced the whole page with the error, search box and all."""
    context, page, _ = open_dashboard(browser, service, "laptop")
    try:
        visit(page, f"{service.url}/dashboard/#/explorer?source=shop&item=nosuch")
        searchable = page.locator("#item-search").is_visible()
        said = page.locator("#item-view .error").inner_text()
        page.fill("#item-search", "zzz-no-such")
        page.press("#item-search", "Enter")
        page.wait_for_selector("#item-view .error:has-text('zzz-no-such')")
        nothing = page.locator("#item-view .error").inner_text()
    finally:
        context.close()
    assert searchable and "nosuch" in said
    assert nothing == 'No item of shop matches "zzz-no-such".'


def test_when_the_key_is_wrong_then_the_form_says_so_and_no_data_shows(
    service: Service, browser: Any
) -> None:
    page = browser.new_page()
    try:
        page.goto(service.url + "/dashboard/#/jobs")
        page.fill("#api-key", "tc_not-a-key")
        page.click("form button[type=submit]")
        page.wait_for_selector(".keyform .error")
        message = page.locator(".keyform .error").inner_text()
        tables = page.locator("table").count()
    finally:
        page.close()
    assert message == "The key was not accepted." and tables == 0


def test_when_a_job_is_submitted_then_the_open_jobs_page_shows_it_and_its_end(
    service: Service, browser: Any, tmp_path: Path
) -> None:
    """No reload: the list refreshes itself while the job is queued, runs and fails (its target
    holds a word: the columns pass the check at submission, the values fail in the worker)."""
    bad = service.home / "bad-values.csv"
    bad.write_text("item_id,timestamp,target\na,2024-01-01,lots\na,2024-01-02,3\n")
    context, page, console = open_dashboard(browser, service, "laptop")
    try:
        before = page.locator("#jobs-list tbody tr").count()
        body = {"name": "bad-values", "data": str(bad), "horizon": HORIZON}
        assert service.call("POST", "/v1/jobs", json=body).status_code == 201
        page.wait_for_selector(f"#jobs-list tbody tr:nth-child({before + 1})")
        page.wait_for_selector("#jobs-list tbody tr:first-child .badge.Failed", timeout=60_000)
        first = page.locator("#jobs-list tbody tr").first.inner_text()
        page.click("#jobs-list tbody tr:first-child")
        page.wait_for_selector("#job-detail .error")
        reason = page.locator("#job-detail .error").inner_text()
        page.screenshot(path=str(tmp_path / "laptop-jobs-failed.png"), full_page=True)
    finally:
        context.close()
    assert console.errors == []
    assert first.startswith("bad-values") and "'lots'" in reason
