"""Champion and challenger end to end: a real `tidecast serve` on 127.0.0.1 and the
`tidecast endpoints` commands. The challenger is attached with the CLI in approval mode, the
stream's forecasts and observations go over HTTP, the evaluation runs on its own after each
ingest (nothing asks for it), and the promotion waits for `tidecast endpoints promote`."""

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

from champion_stream import HORIZON, ITEMS, run_stream, train
from live_service import live_service
from tidecast.registry.registry import open_registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.auth import KeyStore

pytestmark = pytest.mark.timeout(180)
SRC = str(Path(__file__).resolve().parents[2] / "src")
ROUNDS = 3


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The service on a free port over a home holding `stream` v1 (Average, approved) and v2
    (SeasonalNaive, pending); yields its URL and the environment the CLI runs with."""
    home = tmp_path / "home"
    with open_registry(ServiceSettings(home=home)) as registry:
        registry.register("stream", train(tmp_path / "average", "Average"))
        registry.approve("stream", 1)
        registry.register("stream", train(tmp_path / "seasonal", "SeasonalNaive"))
        key = KeyStore(registry.sessions).create("ops", "admin")
    env = {
        **os.environ,
        "TIDECAST_HOME": str(home),
        "TIDECAST_FORECAST_LOG_FLUSH_SECONDS": "0.2",
        "TIDECAST_API_KEY": key,
        "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "COLUMNS": "160",
    }
    with live_service(env, tmp_path / "server.log") as url:
        yield url, {**env, "TIDECAST_URL": url}


def tidecast(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tidecast.cli", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_when_the_challenger_proves_better_then_the_cli_shows_it_awaiting_and_promotes_it(
    service: tuple[str, dict[str, str]],
) -> None:
    url, env = service
    api = httpx.Client(base_url=url, headers={"X-API-Key": env["TIDECAST_API_KEY"]}, timeout=30)
    tidecast(env, "endpoints", "create", "stream", "--group", "stream")
    attached = json.loads(
        tidecast(env, "endpoints", "challenge", "stream", "--version", "2", "--min-forecasts", "9", "--json")
    )
    assert (attached["state"], attached["policy"]["mode"]) == ("shadowing", "approval")

    run_stream(lambda path, body=None: api.post(path, json=body), "stream", ROUNDS)
    deadline = time.monotonic() + 60
    while True:  # the evaluation after the last ingest runs on the service's worker thread
        record = json.loads(tidecast(env, "endpoints", "challenger", "stream", "--json"))
        if record["state"] == "awaiting_approval" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert record["state"] == "awaiting_approval", record
    assert record["evidence"]["paired_forecasts"] == ITEMS * ROUNDS
    assert record["evidence"]["paired_points"] == ITEMS * ROUNDS * HORIZON
    assert record["shadow"]["forecasts"] >= ROUNDS and record["shadow"]["failures"] == 0
    shown = tidecast(env, "endpoints", "challenger", "stream")
    assert "awaiting_approval" in shown and "champion" in shown and "9 paired forecasts" in shown
    assert api.get("/v1/endpoints/stream").json()["version"] == 1

    promoted = tidecast(env, "endpoints", "promote", "stream")
    assert "promoted" in promoted
    assert api.get("/v1/endpoints/stream").json()["version"] == 2
    assert api.post("/v1/endpoints/stream/forecast", json={"item_ids": ["item_0"]}).status_code == 200
