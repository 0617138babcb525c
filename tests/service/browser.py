"""Headless Chromium for the dashboard tests: Debian's package (never a downloaded browser),
driven by Playwright; skipped with the reason when either is missing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"
)


@pytest.fixture(scope="module", name="browser")
def chromium_browser() -> Iterator[Any]:
    """The browser, once per module (import `chromium_browser` to use it as `browser`)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def visit(page: Any, url: str) -> None:
    """Go to a dashboard page and wait until it has drawn (the body's data-state is "ready")."""
    page.evaluate("document.body.dataset.state = ''")
    page.goto(url)
    page.wait_for_selector("body[data-state=ready]")


def signed_in(browser: Any, url: str, key: str, viewport: dict[str, int]) -> tuple[Any, Any, Console]:
    """A fresh tab on the service at `url`'s /dashboard, past the key form: (context, page,
    console)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    console = Console(page)
    page.goto(url + "/dashboard")
    page.wait_for_selector("#api-key")
    page.fill("#api-key", key)
    page.click("form button[type=submit]")
    page.wait_for_selector("#jobs-list table")
    return context, page, console


def search_item(page: Any, url: str, source: str, typed: str, item: str) -> None:
    """Open the forecast explorer on `source`, type `typed` in its search, pick `item` among
    the suggestions and wait until its chart is drawn."""
    visit(page, f"{url}/dashboard/#/explorer?source={source}")
    page.fill("#item-search", typed)
    page.wait_for_selector(f"#item-suggestions li:text-is('{item}')")
    page.evaluate("document.body.dataset.state = ''")
    page.click(f"#item-suggestions li:text-is('{item}')")
    page.wait_for_selector("body[data-state=ready]")
    page.wait_for_selector("#item-chart canvas")


MODULE_ORIGIN = "http://dashboard.test"


def module_call(browser: Any, module: str, expression: str) -> Any:
    """`expression` (over the exports `m` of the dashboard module at `module`, a path under
    the package's assets) evaluated in a fresh page; the page's requests are answered from the
    assets on disk (no server). A thrown error comes back as {"error": its message}."""
    from tidecast.service.routes.dashboard import ASSETS

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(MODULE_ORIGIN + "/")
        if not path:
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>module</title>")
        elif (ASSETS / path).is_file():
            route.fulfill(status=200, content_type="text/javascript", body=(ASSETS / path).read_text())
        else:
            route.fulfill(status=404, body="")

    page = browser.new_page()
    try:
        page.route(MODULE_ORIGIN + "/**", serve)
        page.goto(MODULE_ORIGIN + "/")
        return page.evaluate(
            f"""async () => {{
                const m = await import({json.dumps("/" + module)});
                try {{ return {{ value: {expression} }}; }} catch (error) {{ return {{ error: error.message }}; }}
            }}"""
        )
    finally:
        page.close()
