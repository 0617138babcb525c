"""Monitoring end to end: a real `tidecast serve` on 127.0.0.1 and the `tidecast` command.

An approved model is deployed and forecast through HTTP; the forecast log (written by the
server's background thread) and actuals loaded both through ``POST /v1/actuals`` and
`tidecast actuals ingest` meet in ``GET /v1/monitoring/{endpoint}``, and `tidecast monitor
--json` reports the same numbers from the store directly.
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
import pandas as pd
import pytest

from live_service import live_service
from tidecast.registry.registry import open_registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import KeyStore

pytestmark = pytest.mark.timeout(120)
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture
def home(tmp_path: Path, model_folder: Path) -> Path:
    """A service home holding version 1 of `sales`, approved, and an admin key in `key.txt`."""
    home = tmp_path / "home"
    with open_registry(ServiceSettings(home=home)) as registry:
        registry.register("sales", model_folder)
        registry.approve("sales", 1)
        (home / "key.txt").write_text(KeyStore(registry.sessions).create("ops", "admin"))
    return home


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    path = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {
        **os.environ,
        "TIDECAST_HOME": str(home),
        "TIDECAST_FORECAST_LOG_FLUSH_SECONDS": "0.2",
        "PYTHONPATH": path,
        "COLUMNS": "160",
    }


@pytest.fixture
def server(home: Path, env: dict[str, str]) -> Iterator[str]:
    with live_service(env, home / "server.log", start_seconds=40) as url:
        yield url


def tidecast(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done


def test_when_actuals_follow_served_forecasts_then_http_and_cli_report_the_same_accuracy(
    server: str, home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    headers = {"X-API-Key": (home / "key.txt").read_text()}
    api = httpx.Client(base_url=server, headers=headers, timeout=30)
    assert api.post("/v1/endpoints", json={"name": "sales", "group": "sales"}).status_code == 201
    forecast = api.post("/v1/endpoints/sales/forecast", json={"item_ids": ["item_0"]})
    assert forecast.status_code == 200, forecast.text

    days = ["2024-01-29", "2024-01-30", "2024-01-31"]
    rows = [
        {"item_id": "item_0", "timestamp": d, "value": v}
        for d, v in zip(days, [12.0, 15.0, 11.0], strict=True)
    ]
    assert api.post("/v1/actuals", json=rows).json()["inserted"] == 3
    file = tmp_path / "actuals.csv"
    pd.DataFrame({"item_id": "item_1", "timestamp": days, "value": [14.0, 18.0, 19.0]}).to_csv(
        file, index=False
    )
    first = json.loads(tidecast(env, "actuals", "ingest", str(file), "--json").stdout)
    again = json.loads(tidecast(env, "actuals", "ingest", str(file), "--json").stdout)
    assert (first["inserted"], again["inserted"], again["unchanged"]) == (3, 0, 3)

    deadline = time.monotonic() + 20
    while True:  # the warmed forecasts of both items reach the log within a flush or two
        report = api.get("/v1/monitoring/sales", params={"period": "D"}).json()
        if report["points"] == 6 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (report["forecasts"], report["points"]) == (2, 6), report
    assert 0 < report["overall"]["wape"] < 1

    cli = json.loads(tidecast(env, "monitor", "sales", "--period", "D", "--json").stdout)
    assert cli["overall"] == report["overall"]
    assert cli["by_step"] == report["by_step"]
    table = tidecast(env, "monitor", "sales").stdout
    assert "accuracy by version" in table and "drift" in table and "wql" in table
    stray = tmp_path / "stray.csv"
    pd.DataFrame({"item_id": "item_O", "timestamp": days, "value": [1.0, 2.0, 3.0]}).to_csv(
        stray, index=False
    )
    said = tidecast(env, "actuals", "ingest", str(stray)).stdout
    assert said.splitlines()[1].startswith(
        "Note: 1 item has no forecast logged (e.g. 'item_O'): monitoring"
    ), said
