"""Monitoring names model versions as the registry does, end to end: a real `tidecast serve`
on 127.0.0.1 and the `tidecast monitor` command.

The README's order (the demo job, then the demo-sql job) gives demo-sql version 1 the
internal id 2, and `tidecast monitor` printed it as version 2: the id of a database row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_service import live_service
from tidecast.registry.registry import open_registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import KeyStore

pytestmark = pytest.mark.timeout(120)
SRC = str(Path(__file__).resolve().parents[2] / "src")
DAYS = ["2024-01-29", "2024-01-30", "2024-01-31"]


@pytest.fixture
def env(tmp_path: Path, model_folder: Path, database_url: str) -> dict[str, str]:
    """A service home where `demo` v1 is id 1, `demo-sql` v1 (approved) id 2 and `demo-sql`
    v2 id 3, an admin key in `key.txt`."""
    home = tmp_path / "home"
    with open_registry(ServiceSettings(home=home, database_url=database_url)) as registry:
        for group in ("demo", "demo-sql", "demo-sql"):
            registry.register(group, model_folder)
        registry.approve("demo-sql", 1)
        assert registry.get("demo-sql", 1).id == 2
        (home / "key.txt").write_text(KeyStore(registry.sessions).create("ops", "admin"))
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {
        **os.environ,
        "TIDECAST_HOME": str(home),
        "TIDECAST_DATABASE_URL": database_url,
        "TIDECAST_FORECAST_LOG_FLUSH_SECONDS": "0.2",
        "PYTHONPATH": path,
        "COLUMNS": "100",
    }


@pytest.fixture
def api(env: dict[str, str]) -> Iterator[httpx.Client]:
    home = Path(env["TIDECAST_HOME"])
    with live_service(env, home / "server.log", start_seconds=40) as url:
        headers = {"X-API-Key": (home / "key.txt").read_text()}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            yield client


def test_when_demo_sql_v1_is_served_then_monitoring_names_it_demo_sql_v1_not_its_row_id(
    api: httpx.Client, env: dict[str, str]
) -> None:
    assert api.post("/v1/endpoints", json={"name": "shop", "group": "demo-sql"}).status_code == 201
    assert api.post("/v1/endpoints/shop/forecast", json={"item_ids": ["item_0"]}).status_code == 200
    rows = [
        {"item_id": "item_0", "timestamp": d, "value": v}
        for d, v in zip(DAYS, [12.0, 15.0, 11.0], strict=True)
    ]
    assert api.post("/v1/actuals", json=rows).json()["inserted"] == 3
    deadline = time.monotonic() + 20
    while (report := api.get("/v1/monitoring/shop").json())["points"] < 3 and time.monotonic() < deadline:
        time.sleep(0.2)

    named = {"model_version_id": 2, "model_group": "demo-sql", "model_version": 1}
    assert {key: report[key] for key in named} == named
    assert {key: report["drift"][key] for key in named} == named
    for key in ("versions", "over_time", "by_step", "worst_items"):
        assert report[key] and all({k: row[k] for k in named} == named for row in report[key]), key

    done = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", "monitor", "shop", "--period", "D"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("drift (demo-sql v1, ") for line in lines), done.stdout
    rows_of = [line.split() for line in lines if "demo-sql" in line and not line.startswith("drift")]
    assert len(rows_of) == 1 + 3 + 3 + 1  # a version, 3 days, 3 steps, an item
    assert all(row[:2] == ["demo-sql", "v1"] for row in rows_of), done.stdout
    assert (
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "tidecast.cli", "monitor", "shop", "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
        )["versions"]
        == report["versions"]
    )


def test_when_the_version_filter_names_a_version_as_the_registry_does_then_it_filters_on_it(
    api: httpx.Client, env: dict[str, str]
) -> None:
    """`--version 1` and `?version=1` took the internal id, so on this home they picked
    `demo` v1 (id 1), which `shop` never served, and demo-sql v1 was `--version 2`."""
    assert api.post("/v1/endpoints", json={"name": "shop", "group": "demo-sql"}).status_code == 201
    assert api.post("/v1/endpoints/shop/forecast", json={"item_ids": ["item_0"]}).status_code == 200
    deadline = time.monotonic() + 20
    while api.get("/v1/monitoring/shop").json()["forecasts"] < 1 and time.monotonic() < deadline:
        time.sleep(0.2)

    def served(report: dict[str, object]) -> int:
        return int(report["forecasts"])  # type: ignore[call-overload]

    logged = served(api.get("/v1/monitoring/shop").json())
    assert logged > 0

    for query in ("version=1", "version=v1", "version=demo-sql:1", "version=demo-sql%20v1", "version_id=2"):
        answer = api.get(f"/v1/monitoring/shop?{query}")
        assert answer.status_code == 200 and served(answer.json()) == logged, (query, answer.text)
    for query in ("version=2", "version=demo:1", "version_id=1"):  # versions shop did not serve
        assert served(api.get(f"/v1/monitoring/shop?{query}").json()) == 0, query
    missing = api.get("/v1/monitoring/shop?version=7")
    assert missing.status_code == 404 and "'demo-sql/7' does not exist" in missing.json()["detail"]
    assert api.get("/v1/monitoring/shop?version=nosuch:1").status_code == 404
    assert api.get("/v1/monitoring/shop?version_id=99").status_code == 404
    bad = api.get("/v1/monitoring/shop?version=1.5")
    assert bad.status_code == 422 and bad.json()["field"] == "version", bad.text
    assert api.get("/v1/monitoring/shop?version=1&version_id=2").status_code == 422

    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tidecast.cli", "monitor", "shop", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    for args in (["--version", "1"], ["--version", "demo-sql:1"], ["--version-id", "2"]):
        done = monitor(*args, "--json")
        assert done.returncode == 0 and served(json.loads(done.stdout)) == logged, (args, done.stderr)
    assert served(json.loads(monitor("--version", "demo:1", "--json").stdout)) == 0
    missing_cli = monitor("--version", "7")
    assert missing_cli.returncode == 2, missing_cli.stderr
    assert missing_cli.stderr == (
        "error: model version 'demo-sql/7' does not exist; `tidecast models show demo-sql` shows its versions\n"
    )
    for args in (["--version", "one"], ["--version", "1", "--version-id", "2"]):
        done = monitor(*args)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, (args, done.stderr)
