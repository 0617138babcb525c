"""`/docs` on a real `tidecast serve` (127.0.0.1) renders with the network cut off: the page and
every asset it references (scripts, styles, icons, what the styles and source maps point at)
come from the service itself, and a headless browser that refuses every other host renders
Swagger UI with the API's operations. Swagger UI is served from the `fastapi-offline`
dependency; without it, the service's own reference page, checked the same way."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from test_e2e_http import Service

pytestmark = pytest.mark.timeout(120)

LOCAL_HOSTS = {"127.0.0.1"}
# What a page or a style sheet loads: attributes, CSS url() and @import. (Source maps are
# fetched by developer tools only, never to render the page.)
REFERENCE = re.compile(
    r"""(?:\b(?:src|href)=["']([^"']+)["'])|(?:url\(\s*["']?([^"')]+)["']?\s*\))|(?:@import\s+["']([^"']+)["'])"""
)
ANY_URL = re.compile(r"https?://([A-Za-z0-9.-]+)")
# XML namespace names (inline SVG in styles) are identifiers, never fetched.
NAMESPACES = re.compile(r"http://www\.w3\.org/(?:2000/svg|1999/xlink|1999/xhtml)")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("docs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDECAST_")}
    env.update(TIDECAST_HOME=str(home), TIDECAST_OPEN_MODE="true")
    service = Service(home=home, env=env)
    try:
        service.start()
        yield service
    finally:
        service.stop()


def references(text: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in REFERENCE.finditer(text)]


def test_docs_and_every_asset_it_references_come_from_the_service(service: Service) -> None:
    page_url = service.url + "/docs"
    page = httpx.get(page_url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    try:
        import fastapi_offline  # noqa: F401

        assert "/docs/assets/swagger-ui-bundle.js" in page.text  # the real Swagger UI
        assert '"validatorUrl": null' in page.text  # no badge from validator.swagger.io
    except ImportError:
        assert "Loading the schema" in page.text  # the fallback page
    assert [host for host in ANY_URL.findall(page.text) if host not in LOCAL_HOSTS] == []
    seen: set[str] = set()
    pending = [(page_url, ref) for ref in references(page.text)]
    while pending:
        base, ref = pending.pop()
        if ref.startswith(("data:", "#")):
            continue
        url = urljoin(base, ref)
        assert urlsplit(url).hostname in LOCAL_HOSTS, f"{base} references {url}"
        if url in seen:
            continue
        seen.add(url)
        asset = httpx.get(url, timeout=30)
        assert asset.status_code == 200, url
        if url.endswith(".css"):
            text = NAMESPACES.sub("", asset.text)
            external = [host for host in ANY_URL.findall(text) if host not in LOCAL_HOSTS]
            assert external == [], f"{url} refers to {external}"
            pending.extend((url, r) for r in references(asset.text))
    if "swagger-ui-bundle.js" in page.text:
        assert {url.rsplit("/", 1)[-1] for url in seen} >= {"swagger-ui-bundle.js", "swagger-ui.css"}


def test_docs_render_in_a_browser_that_refuses_every_other_host(service: Service) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium)")
    refused: list[str] = []

    def only_the_service(route, request) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(request.url).hostname in LOCAL_HOSTS or request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(request.url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_the_service)
            page.goto(service.url + "/docs", wait_until="networkidle")
            try:
                import fastapi_offline  # noqa: F401

                page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
                title = page.inner_text(".swagger-ui .info .title")
                operations = page.locator(".swagger-ui .opblock").count()
            except ImportError:
                page.wait_for_selector("#ops details", timeout=20_000)
                title = page.inner_text("h1")
                operations = page.locator("#ops details").count()
        finally:
            browser.close()
    assert "tidecast" in title.lower()
    assert operations > 20
    assert refused == []
