"""``/dashboard``: the page and every file it loads are served from the package (nothing from
another host), the config says whether a key is needed and which optional routes exist, the
vendored chart library is byte for byte the npm release its README names, and the packaging
ships every file of the dashboard."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from tidecast.registry.db import Database
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app
from tidecast.service.routes.dashboard import ASSETS, FEATURES

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ASSETS / "vendor" / "uplot"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    return ServiceSettings(home=tmp_path, database_url=database_url)


def assets() -> list[Path]:
    return sorted(p for p in ASSETS.rglob("*") if p.is_file())


def referenced(client: TestClient) -> set[str]:
    """Every URL the page loads, following the ES modules' imports from app.js."""
    page = client.get("/dashboard/").text
    found = {f"/dashboard/{u}" for u in re.findall(r'(?:src|href)="(assets/[^"]+)"', page)}
    queue = [u for u in found if u.endswith(".js") and "/js/" in u]
    while queue:
        url = queue.pop()
        base = url.rsplit("/", 1)[0]
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', client.get(url).text):
            parts = (base + "/" + target).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            full = "/".join(resolved)
            if full not in found:
                found.add(full)
                queue.append(full)
    return found


def test_when_the_dashboard_is_opened_then_the_page_and_all_it_loads_come_from_the_service(
    client: TestClient,
) -> None:
    bare = client.get("/dashboard", follow_redirects=False)
    assert bare.status_code == 308 and bare.headers["location"] == "/dashboard/"
    page = client.get("/dashboard/")  # no key: the page holds no data
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    urls = referenced(client)
    assert {"/dashboard/assets/js/app.js", "/dashboard/assets/js/pages/explorer.js"} <= urls
    assert "/dashboard/assets/vendor/uplot/uPlot.iife.min.js" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        kind = "javascript" if url.endswith(".js") else "css" if url.endswith(".css") else ""
        assert kind in response.headers["content-type"], (url, response.headers["content-type"])
    served = {f"/dashboard/assets/{p.relative_to(ASSETS)}" for p in assets() if p.suffix in (".js", ".css")}
    assert served <= urls, f"files no page loads: {served - urls}"
    for path in assets():
        if path.suffix in (".js", ".css", ".html"):
            assert not re.search(r"https?://(?!www\.w3\.org)", path.read_text().split("\n", 1)[-1]), path


def test_when_keys_are_set_or_open_mode_then_the_config_says_whether_one_is_needed(
    client: TestClient, tmp_path: Path, database: Database
) -> None:
    config = client.get("/dashboard/config.json").json()
    assert config["key_needed"] is True
    # Every optional route the pages read is served.
    assert config["features"] == {"monitoring": True, "alerts": True, "actuals": True, "reports": True}
    open_settings = ServiceSettings(
        home=tmp_path / "open", database_url=str(database.engine.url), open_mode=True
    )
    with TestClient(create_app(open_settings, database=database)) as open_client:
        assert open_client.get("/dashboard/config.json").json()["key_needed"] is False


def test_when_a_monitoring_route_is_added_then_the_config_offers_it(
    settings: ServiceSettings, database: Database
) -> None:
    app = create_app(settings, database=database)
    extra = APIRouter()

    @extra.get("/v1/monitoring/{endpoint}")
    def monitoring(endpoint: str) -> dict[str, str]:
        return {"endpoint": endpoint}

    app.include_router(extra)
    with TestClient(app) as client:
        assert client.get("/dashboard/config.json").json()["features"]["monitoring"] is True
    assert set(FEATURES) == {"monitoring", "alerts", "actuals", "reports"}


def test_when_the_vendored_chart_library_is_read_then_it_matches_its_readme() -> None:
    readme = (VENDOR / "README.md").read_text()
    hashes = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, flags=re.MULTILINE)
    )
    assert set(hashes) == {"uPlot.iife.min.js", "uPlot.min.css", "LICENSE"}
    for name, digest in hashes.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert "uplot-1.6.32.tgz" in readme and "(v1.6.32)" in (VENDOR / "uPlot.iife.min.js").read_text()[:80]
    assert "MIT License" in (VENDOR / "LICENSE").read_text()


def glob_match(path: str, pattern: str) -> bool:
    """setuptools' package-data glob: `*` stays within one folder."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", "[^/]*"), path) is not None


def test_when_the_package_is_built_then_every_dashboard_file_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = globs["tidecast.service"]
    package = ASSETS.parent
    missing = [
        str(p.relative_to(package))
        for p in assets()
        if not any(glob_match(str(p.relative_to(package)), pattern) for pattern in patterns)
    ]
    assert missing == []
