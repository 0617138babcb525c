"""Rollbacks through the API that name the version they mean: a second click changes nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import serve_in_thread
from tidecast.registry.db import Database
from tidecast.registry.registry import Registry
from tidecast.registry.settings import ServiceSettings
from tidecast.service.app import create_app


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> ServiceSettings:
    """home=tmp_path puts artifacts in tmp_path/artifacts: the conftest registry's store."""
    return ServiceSettings(home=tmp_path, database_url=database_url, data_root=tmp_path)


def test_when_four_rollbacks_name_one_version_then_one_rejects_it_and_three_are_409(
    client: TestClient, keys: dict[str, str], registry: Registry, model_folder: Path
) -> None:
    """Four rollbacks of a group with three approved versions rejected 3 and then 2 (the
    service serialises them, each on the newest approved); naming version 3, only one acts."""
    for version in range(1, 4):
        registry.register("sales", model_folder)
        registry.approve("sales", version)
    headers = {"X-API-Key": keys["admin"]}
    assert client.post("/v1/endpoints", json={"name": "rb", "group": "sales"}, headers=headers).is_success

    def click(_: int) -> int:
        return client.post("/v1/models/sales/rollback?from_version=3", headers=headers).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(click, range(4)))
    assert statuses == [200, 409, 409, 409]
    versions = client.get("/v1/models/sales/versions", headers=headers).json()["versions"]
    assert [v["status"] for v in versions] == ["Approved", "Approved", "Rejected"]
    assert client.get("/v1/endpoints/rb", headers=headers).json()["version"] == 2
    refused = client.post("/v1/models/sales/rollback?from_version=3", headers=headers).json()
    assert "sales version 3 is not the latest approved version (version 2 is)" in refused["detail"]
    assert client.post("/v1/models/sales/rollback?from_version=0", headers=headers).status_code == 422


def test_when_a_running_service_gets_a_rollback_twice_then_the_second_says_the_first_did_it(
    tmp_path: Path, database_url: str, database: Database, registry: Registry, model_folder: Path
) -> None:
    """A real server on 127.0.0.1, two approved versions: the second click was a 409 saying
    "version 1 is the only approved version", not that version 2 was rolled back already."""
    for version in (1, 2):
        registry.register("sales", model_folder)
        registry.approve("sales", version)
    settings = ServiceSettings(home=tmp_path, open_mode=True, database_url=database_url, data_root=tmp_path)
    with serve_in_thread(create_app(settings, database=database)) as url, httpx.Client(base_url=url) as http:
        assert http.post("/v1/endpoints", json={"name": "rb", "group": "sales"}, timeout=60).is_success
        first = http.post("/v1/models/sales/rollback?from_version=2", timeout=60)
        assert first.status_code == 200 and first.json()["redeployed_endpoints"] == ["rb"]
        second = http.post("/v1/models/sales/rollback?from_version=2", timeout=60)
        assert second.status_code == 409
        assert second.json()["detail"].startswith(
            "sales version 2 is not the latest approved version (version 1 is): it was rolled back already"
        )
        assert http.get("/v1/endpoints/rb", timeout=10).json()["version"] == 1
